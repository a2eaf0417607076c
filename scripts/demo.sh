#!/usr/bin/env bash
# Install what is missing, build FaceShot (release) and run it on the sample the project ships.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
# shellcheck disable=SC1091
[[ -f "$HOME/.cargo/env" ]] && source "$HOME/.cargo/env"
cargo build --release --locked -p faceshot
bin=target/release/faceshot
mkdir -p out
clip=assets/driving/sample_talk.mp4
"$bin" probe "$clip"
"$bin" transcode "$clip" out/sample_talk.gif --max-size 256 --gif-fps 15
echo "demo output: out/sample_talk.gif"
