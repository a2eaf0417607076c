"""Calibration of the learned backend's per-point confidence on a folder with ground truth:
the mean error (over the outer-eye-corner distance) of points under and over 0.5.

    python3 tools/train/calibration.py target/release/faceshot DIR [DIR ...]

Pure standard library (runs `faceshot match --backend learned` on every picture).
"""
import json
import subprocess
import sys
import tempfile
from pathlib import Path


def truth(p):
    for ext in (".pts", ".txt"):
        t = p.with_suffix(ext)
        if t.exists():
            body = t.read_text()
            body = body.split("{")[1].split("}")[0] if "{" in body else body
            return [[float(v) for v in l.split()[:2]] for l in body.strip().splitlines()]
    j = p.with_suffix(".json")
    return json.loads(j.read_text())["landmarks"]


def main():
    binary, dirs = sys.argv[1], sys.argv[2:]
    for d in dirs:
        lo, hi = [], []
        for p in sorted(Path(d).iterdir()):
            if p.suffix.lower() not in (".png", ".jpg", ".jpeg"):
                continue
            with tempfile.TemporaryDirectory() as t:
                out = Path(t) / "m.json"
                subprocess.run([binary, "--quiet", "match", str(p), "-o", str(out), "--backend", "learned"],
                               check=True, capture_output=True)
                m = json.loads(out.read_text())
            gt = truth(p)
            eyes = ((gt[36][0] - gt[45][0]) ** 2 + (gt[36][1] - gt[45][1]) ** 2) ** 0.5
            for (x, y), (u, v), c in zip(m["landmarks"], gt, m["confidence"]):
                e = ((x - u) ** 2 + (y - v) ** 2) ** 0.5 / eyes
                (lo if c < 0.5 else hi).append(e)
        mean = lambda v: sum(v) / len(v) if v else float("nan")
        n = len(lo) + len(hi)
        print(f"{d}: {len(lo) / n:.2f} of points under 0.5, mean error {mean(lo):.4f} under vs {mean(hi):.4f} over")


if __name__ == "__main__":
    main()
