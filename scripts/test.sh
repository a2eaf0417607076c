#!/usr/bin/env bash
# Install what is missing, then check formatting and lints and run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
# shellcheck disable=SC1091
[[ -f "$HOME/.cargo/env" ]] && source "$HOME/.cargo/env"
# The UI tests render screenshots on the CPU; pin Mesa's Vulkan driver (lavapipe) so the
# images match the committed ones.
export WGPU_BACKEND="${WGPU_BACKEND:-vulkan}"
# Some container images ship /dev/null as a plain file: what build scripts "discard" there
# piles up and is read back by the next program given /dev/null as input (cargo's rustc
# probe then fails on another crate's compiler errors). Empty it before each cargo run.
empty_dev_null() {
  if [[ -f /dev/null ]]; then
    echo "warning: /dev/null is a regular file on this machine; emptying it" >&2
    : >/dev/null
  fi
}
empty_dev_null
cargo fmt --all -- --check
empty_dev_null
cargo clippy --workspace --all-targets --locked -- -D warnings
empty_dev_null
cargo test --workspace --locked
