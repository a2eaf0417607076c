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
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
