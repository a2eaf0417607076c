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
# The whole method, headless: track the driving clip, retarget onto the character, render, export.
"$bin" animate assets/characters/astronaut.png "$clip" \
  --landmarks assets/characters/astronaut.json -o out/astronaut_animated.mp4 --save-track out/astronaut_track.json
"$bin" transcode out/astronaut_animated.mp4 out/astronaut_animated.gif --max-size 256 --gif-fps 15
echo "demo output: out/astronaut_animated.mp4, out/astronaut_animated.gif, out/astronaut_track.json"
echo "desktop app: $bin   (opens on the same sample)"
