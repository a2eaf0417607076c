#!/usr/bin/env bash
# The tuning sets (never an evaluation set of docs/evaluation.md): every choice of how `auto`
# uses the learned network is made on these, with `core/examples/tune_matcher.rs`.
#
#   tools/train/tune_sets.sh [NET.safetensors[+REFINED.safetensors]]   # makes the sets once,
#                                                   # then compares strategies
#
# NET defaults to the shipped pair (the coarse pass's network + the refined pass's).
# TUNE_DIR (default target/tune), DATA (the training data folder, for the d20 frames that
# run.sh extracts), FACESHOT, VENV as in run.sh.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT/tools/train"
BIN=${FACESHOT:-$ROOT/target/release/faceshot}
TUNE=${TUNE_DIR:-$ROOT/target/tune}
DATA=${DATA:-$ROOT/target/train-data}
VENV=${VENV:-$HOME/.cache/faceshot/train-venv}
NET=${1:-$ROOT/models/landmark68_stylized.safetensors+$ROOT/models/landmark68_stylized_refined.safetensors}
mkdir -p "$TUNE"
# The training generator's styles, whole pictures (seeds apart from training and validation).
[ -d "$TUNE/gen" ] || "$VENV/bin/python" gen_faces.py "$TUNE/gen" --seed 2100000 --count 100
# Small faces in non-square pictures.
[ -d "$TUNE/small" ] || "$VENV/bin/python" make_tune_small.py "$TUNE/small"
# Real faces of the validation clip d20 (never trained on), exaggerated and stylised, labelled
# with the current 468 -> 68 map (sets made with another map are refused).
MAP=$(sha256sum "$ROOT/models/mesh68.json" | cut -d' ' -f1)
for s in real real-strong; do
    if [ -d "$TUNE/$s" ] && [ "$(cat "$TUNE/$s.map.sha256" 2>/dev/null)" != "$MAP" ]; then
        echo "tune_sets.sh: $TUNE/$s has labels of another 468->68 map; remove it" >&2
        exit 1
    fi
done
[ -d "$TUNE/real" ] || "$VENV/bin/python" real_faces.py "$TUNE/real" \
    --clip "$DATA/teacher/frames_d20" "$DATA/teacher/d20.json" --every 6 --variants 2 --seed 7000000 --pictures
# The same clip exaggerated harder (the training range of `run.sh`'s REAL_STRENGTH): caricatures.
[ -d "$TUNE/real-strong" ] || "$VENV/bin/python" real_faces.py "$TUNE/real-strong" \
    --clip "$DATA/teacher/frames_d20" "$DATA/teacher/d20.json" --every 6 --variants 2 --seed 7100000 \
    --strength 1 1.6 --pictures
for s in real real-strong; do echo "$MAP" > "$TUNE/$s.map.sha256"; done
# The Rust generator at seeds apart from its evaluation sets (300000+, 310000+).
[ -d "$TUNE/rust-frontal" ] || "$BIN" cartoons "$TUNE/rust-frontal" --seed 600000 --count 60 --size 256 >/dev/null
[ -d "$TUNE/rust-yaw40" ] || "$BIN" cartoons "$TUNE/rust-yaw40" --seed 610000 --count 60 --size 256 --yaw 40 >/dev/null
cd "$ROOT"
cargo run -q --release -p faceshot-core --example tune_matcher -- "$NET" \
    "$TUNE/gen" "$TUNE/small" "$TUNE/real" "$TUNE/real-strong" "$TUNE/rust-frontal" "$TUNE/rust-yaw40"
