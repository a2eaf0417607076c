#!/usr/bin/env bash
# One command for the whole training of models/landmark68_stylized.safetensors and of the
# refined pass's landmark68_stylized_refined.safetensors (issue #25):
# a venv with the pinned CPU packages, the parity check of the training graph against
# TensorFlow.js, the generated data, the real-face data (LivePortrait's MIT driving clips
# labelled by `faceshot detect`, exaggerated and stylised), the fine-tuning (resumable), the
# export.
#
#   tools/train/run.sh                 # everything, ~1.8 h on the 2-core development machine
#   STEPS=2000 REFINED_STEPS=500 tools/train/run.sh   # a shorter schedule
#
# Everything large lives outside git: VENV (default ~/.cache/faceshot/train-venv), DATA
# (default target/train-data, ~1 GB) and CKPT (default target/train-ckpt, the refined pass's
# network's CKPT-refined; rerun to resume), both under the repository's git-ignored target/.
# Runs under `nice -n 19`. LIVEPORTRAIT: a checkout of github.com/KwaiVGI/LivePortrait
# (default: cloned into DATA; the clips used are checked against teacher_clips.sha256, from
# commit 1986663be3b6).
set -euo pipefail
cd "$(dirname "$0")"
VENV=${VENV:-$HOME/.cache/faceshot/train-venv}
DATA=${DATA:-../../target/train-data}
CKPT=${CKPT:-../../target/train-ckpt}
SHARDS=${SHARDS:-25}   # of 40 shards of 500 pictures each (seeds 1 000 000 + k, k mod 40 < SHARDS)
STEPS=${STEPS:-30000}
REAL_SHARE=${REAL_SHARE:-0.4}  # share of each batch from the real-face crops
REAL_VARIANTS=${REAL_VARIANTS:-8}  # exaggerated, stylised variants of each real frame
REAL_STRENGTH=${REAL_STRENGTH:-"1 2"}  # their exaggeration strength, uniform in [LO, HI]
CARTOON_SHARE=${CARTOON_SHARE:-0.2}  # share of each batch from the Rust generator's cartoons
CARTOONS=${CARTOONS:-4000}  # Rust generator pictures, frontal and turned each
OUT=${OUT:-../../models/landmark68_stylized.safetensors}
# The refined pass's network: OUT trained further on refined-pass crops only.
REFINED_STEPS=${REFINED_STEPS:-8000}
REFINED_OUT=${REFINED_OUT:-../../models/landmark68_stylized_refined.safetensors}
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q -r requirements.txt
fi
PY="nice -n 19 $VENV/bin/python"
export TF_CPP_MIN_LOG_LEVEL=2
$PY parity.py
# Training pictures: seeds 1 000 000+; validation: 2 000 000+ (the hold-out sketch style and
# the evaluation sets of docs/evaluation.md are never drawn here).
# Two workers; a shard already made is skipped, so an interrupted run resumes here too.
worker() { # FIRST_SHARD
    for k in $(seq "$1" 2 $((SHARDS - 1))); do
        $PY make_data.py "$DATA/train" --start 1000000 --count 20000 --shard "$k" --shards 40
    done
}
worker 0 & first=$!; worker 1; wait "$first"  # a failed worker fails the run
if [ ! -f "$DATA/val/y.npy" ]; then
    $PY make_data.py "$DATA/val" --start 2000000 --count 600
    $PY make_data.py "$DATA/val" --merge
fi
# Real faces: d9–d14 for training, d20 for validation only. Each clip's frames (PNG) and the
# project's own tracker's 68 points a frame (no smoothing) are the teacher data.
LIVEPORTRAIT=${LIVEPORTRAIT:-$DATA/LivePortrait}
[ -d "$LIVEPORTRAIT" ] || git clone --depth 1 https://github.com/KwaiVGI/LivePortrait "$LIVEPORTRAIT"
FACESHOT=${FACESHOT:-../../target/release/faceshot}
[ -x "$FACESHOT" ] || (cd ../.. && cargo build --release -p faceshot)
T="$DATA/teacher"
mkdir -p "$T"
for c in d9 d10 d11 d12 d13 d14 d20; do
    cp -n "$LIVEPORTRAIT/assets/examples/driving/$c.mp4" "$T/"
done
(cd "$T" && sha256sum -c --quiet "$OLDPWD/teacher_clips.sha256")
# The labels follow the tracker's 468 -> 68 map: labels made with another map are refused.
MAP=$(sha256sum ../../models/mesh68.json | cut -d' ' -f1)
if ls "$T"/*.json >/dev/null 2>&1 && [ "$(cat "$T/map.sha256" 2>/dev/null)" != "$MAP" ]; then
    echo "run.sh: $T holds labels of another 468->68 map; remove $T/*.json, $DATA/real and $DATA/real-val" >&2
    exit 1
fi
for c in d9 d10 d11 d12 d13 d14 d20; do
    [ -f "$T/$c.json" ] || nice -n 19 "$FACESHOT" -q detect "$T/$c.mp4" --no-smoothing -o "$T/$c.json"
    [ -d "$T/frames_$c" ] || nice -n 19 "$FACESHOT" -q transcode "$T/$c.mp4" "$T/frames_$c"
done
echo "$MAP" > "$T/map.sha256"
CLIPS=()
for c in d9 d10 d11 d12 d13 d14; do CLIPS+=(--clip "$T/frames_$c" "$T/$c.json"); done
real_worker() { # FIRST_SHARD
    for k in $(seq "$1" 2 7); do
        $PY real_faces.py "$DATA/real" "${CLIPS[@]}" --every 2 --variants "$REAL_VARIANTS" \
            --strength $REAL_STRENGTH --shard "$k" --shards 8
    done
}
real_worker 0 & first=$!; real_worker 1; wait "$first"
if [ ! -f "$DATA/real-val/y.npy" ]; then
    $PY real_faces.py "$DATA/real-val" --clip "$T/frames_d20" "$T/d20.json" --variants 2 --seed 6000000
    $PY make_data.py "$DATA/real-val" --merge
fi
# The Rust generator (`faceshot cartoons`, the app's own): training seeds 1 000 000+ frontal and
# 1 100 000+ turned up to 45°, validation 1 200 000+ (its evaluation sets are 300 000+ and
# 310 000+, its tuning sets 600 000+ and 610 000+).
C="$DATA/cartoon-pictures"
cartoons() { # NAME ARGS...: made into NAME.part and renamed when whole (a rerun redoes a part)
    local name=$1
    shift
    [ -d "$C/$name" ] && return
    rm -rf "$C/$name.part"
    nice -n 19 "$FACESHOT" -q cartoons "$C/$name.part" "$@" >/dev/null
    mv "$C/$name.part" "$C/$name"
}
cartoons frontal --seed 1000000 --count "$CARTOONS" --size 256
cartoons yaw45 --seed 1100000 --count "$CARTOONS" --size 256 --yaw 45
cartoons val --seed 1200000 --count 300 --size 256 --yaw 45
if [ ! -f "$DATA/cartoons/y.npy" ]; then
    for k in 0 2 4 6; do
        $PY make_data.py "$DATA/cartoons" --pictures "$C/frontal" "$C/yaw45" --start 4000000 --shard "$k" --shards 8 &
        first=$!
        $PY make_data.py "$DATA/cartoons" --pictures "$C/frontal" "$C/yaw45" --start 4000000 --shard $((k + 1)) --shards 8
        wait "$first"
    done
    $PY make_data.py "$DATA/cartoons" --merge
fi
if [ ! -f "$DATA/cartoons-val/y.npy" ]; then
    $PY make_data.py "$DATA/cartoons-val" --pictures "$C/val" --start 4200000
    $PY make_data.py "$DATA/cartoons-val" --merge
fi
$PY train.py --data "$DATA" --ckpt "$CKPT" --steps "$STEPS" --real-share "$REAL_SHARE" \
    --cartoon-share "$CARTOON_SHARE" --out "$OUT"
# The refined pass's network starts from OUT: checkpoints grown from another OUT are refused.
INIT=$(sha256sum "$OUT" | cut -d' ' -f1)
mkdir -p "$CKPT-refined"
if [ -f "$CKPT-refined/checkpoint" ] && [ "$(cat "$CKPT-refined/init.sha256" 2>/dev/null)" != "$INIT" ]; then
    echo "run.sh: $CKPT-refined was trained from another $OUT; remove it to train anew" >&2
    exit 1
fi
echo "$INIT" > "$CKPT-refined/init.sha256"
$PY train.py --data "$DATA" --ckpt "$CKPT-refined" --init "$OUT" --crops refined \
    --steps "$REFINED_STEPS" --lr 3e-4 --real-share "$REAL_SHARE" \
    --cartoon-share "$CARTOON_SHARE" --out "$REFINED_OUT"
$PY parity.py  # the graph still matches after training (on the shipped weights)
sha256sum "$OUT" "$REFINED_OUT"
