#!/usr/bin/env bash
# The frozen evaluation sets of docs/evaluation.md: makes the generated ones (once) and runs
# `faceshot eval-match` with each backend given on every set, printing one line per set:
#   set backend n mean_nme failure_rate
#
#   tools/train/eval_sets.sh auto learned
#
# FACESHOT: the binary (default target/release/faceshot); EVAL_DIR: where the generated sets
# and the JSON results go (default target/faceshot-eval in the repository); SHARED_DATA: the team's shared data
# (default ../shared/data beside the repository); VENV: the training venv (for the sketch set).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${FACESHOT:-$ROOT/target/release/faceshot}
EVAL=${EVAL_DIR:-$ROOT/target/faceshot-eval}
SHARED=${SHARED_DATA:-$ROOT/../shared/data}
VENV=${VENV:-$HOME/.cache/faceshot/train-venv}
backends=("${@:-auto}")
mkdir -p "$EVAL/results"
[ -d "$EVAL/cartoons-frontal" ] || "$BIN" cartoons "$EVAL/cartoons-frontal" --seed 300000 --count 100 --size 256 >/dev/null
[ -d "$EVAL/cartoons-yaw40" ] || "$BIN" cartoons "$EVAL/cartoons-yaw40" --seed 310000 --count 100 --size 256 --yaw 40 >/dev/null
[ -d "$EVAL/sketch" ] || (cd "$ROOT/tools/train" && "$VENV/bin/python" gen_faces.py "$EVAL/sketch" --holdout --seed 3000000 --count 200)
declare -A dirs=(
    [caricatures]="$SHARED/landmarks/caricature_ibug68"
    [photos]="$SHARED/landmarks/human_ibug68"
    [cartoons-frontal]="$EVAL/cartoons-frontal"
    [cartoons-yaw40]="$EVAL/cartoons-yaw40"
    [sketch]="$EVAL/sketch"
)
for b in "${backends[@]}"; do
    for set in caricatures photos cartoons-frontal cartoons-yaw40 sketch; do
        out="$EVAL/results/$set.$b.json"
        "$BIN" --quiet eval-match "${dirs[$set]}" --backend "$b" --json > "$out"
        python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(f\"{sys.argv[2]:<18} {sys.argv[3]:<10} {d['images']:>4} {d['mean_nme']:.4f} {d['failure_rate']:.3f}\")" "$out" "$set" "$b"
    done
done
