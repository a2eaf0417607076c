#!/usr/bin/env bash
# Measure the README's speed figures on this machine and print them as the rows of its
# "Figures" table (the quick benches only; DIFT end to end and matching accuracy have their own
# commands, named in the table). Takes a few minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck disable=SC1091
[[ -f "$HOME/.cargo/env" ]] && source "$HOME/.cargo/env"

log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
run() {
  local name=$1
  shift
  echo "running $name…" >&2
  "$@" >"$log/$name.txt" 2>&1 || { echo "$name failed; its output:" >&2; cat "$log/$name.txt" >&2; exit 1; }
}
run track cargo bench -q -p faceshot-core --bench track -- --speed-only
run retarget cargo bench -q -p faceshot-core --bench retarget
FACESHOT_BENCH_SKIP_SD=1 run matching cargo bench -q -p faceshot-core --bench matching
run media cargo bench -q -p faceshot-core --bench media

# The first number after a pattern in a bench's output ("n/a" when the line is missing).
pick() {
  local file=$1 pattern=$2
  grep -oP "$pattern\K[0-9.]+" "$log/$file.txt" | head -n1 || echo "n/a"
}

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//' || echo "unknown CPU")
echo "Measured on $(nproc) cores of $cpu, $(date -u +%Y-%m-%d):"
echo
echo "| what | figure | measured by |"
echo "|---|---|---|"
echo "| tracking a 640×480 clip | $(pick track 'frames, moving face, detector on loss only\): ') frames/s with the eye model and pupils, $(pick track 'without the iris head \(.*?\), ') mesh only | \`cargo bench -p faceshot-core --bench track\` |"
echo "| offline \`match\` (\`auto\`), 512² cartoon; learned network alone | $(pick matching 'cartoons: median ') ms; $(pick matching 'alone on 512x512 cartoons: median ') ms (median) | \`cargo bench -p faceshot-core --bench matching\` |"
echo "| retargeting 1,000 frames | $(pick retarget 'reference first\): median ') ms (reference first), $(pick retarget 'reference auto\): median ') ms (auto) | \`cargo bench -p faceshot-core --bench retarget\` |"
echo "| decode 640×480 H.264 / encode 512² MP4 | $(pick media 'decode 640x480 h264 -> RGB: ') / $(pick media 'encode 512x512 MP4 \(libx264 veryfast crf 18\): ') frames/s | \`cargo bench -p faceshot-core --bench media\` |"
