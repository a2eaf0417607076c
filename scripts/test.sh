#!/usr/bin/env bash
# Install what is missing, then check formatting and lints and run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
# shellcheck disable=SC1091
[[ -f "$HOME/.cargo/env" ]] && source "$HOME/.cargo/env"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
