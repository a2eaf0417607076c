"""A tuning set of pictures with small faces, cut to non-square windows (training styles; seeds
2 200 000+, never an evaluation set): what the coarse pass meets in photographs and full-figure
drawings. Writes gen_*.png + .pts like gen_faces.py.

    python tools/train/make_tune_small.py DIR [--count 60]
"""
import argparse
import math
from pathlib import Path

import numpy as np

import gen_faces


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=2200000)
    ap.add_argument("--count", type=int, default=60)
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    for k in range(a.seed, a.seed + a.count):
        img, pts, _ = gen_faces.make(k, small_face=True)
        r = np.random.default_rng([k, 3])
        n = img.size[0]
        aspect = math.exp(r.uniform(math.log(0.6), math.log(1.7)))
        ww, wh = (n, int(n / aspect)) if aspect > 1 else (int(n * aspect), n)
        lo, hi = pts.min(0), pts.max(0)
        x0 = int(np.clip(r.uniform(hi[0] + 1 - ww, lo[0] - 1), 0, n - ww)) if ww < n else 0
        y0 = int(np.clip(r.uniform(hi[1] + 1 - wh, lo[1] - 1), 0, n - wh)) if wh < n else 0
        img.crop((x0, y0, x0 + ww, y0 + wh)).save(out / f"gen_{k:06d}.png")
        gen_faces.write_pts(out / f"gen_{k:06d}.pts", pts - [x0, y0])


if __name__ == "__main__":
    main()
