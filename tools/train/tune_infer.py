"""The learned backend's inference (core/src/matching/learned.rs) replayed in Python, to choose
its knobs on the *tuning* set (training styles, seeds 2 100 000+; never an evaluation set):
the number of refined passes and the flip-spread scale of the confidence.

    python tools/train/tune_infer.py WEIGHTS DIR [COARSE_WEIGHTS]
    # DIR: gen_faces.py output (.png + .pts); COARSE_WEIGHTS: another net for the coarse pass
"""
import sys
from pathlib import Path

import numpy as np
from PIL import Image

import faceapi_net as net
from make_data import crop_rect, sample, N
from train import MIRROR


def read_pts(p):
    body = p.read_text().split("{")[1].split("}")[0]
    return np.array([[float(v) for v in l.split()] for l in body.strip().splitlines()])


def run_pass(model, img, rect):
    x = sample(img, rect).astype(np.float32) / 255.0
    out = model(np.stack([x, x[:, ::-1]])).numpy()
    cx, cy, side, angle = rect
    s, c = np.sin(angle), np.cos(angle)

    def to_image(f):
        d = (f - 0.5) * side
        return np.stack([cx + c * d[:, 0] - s * d[:, 1], cy + s * d[:, 0] + c * d[:, 1]], 1)

    direct = to_image(out[0])
    m = out[1][MIRROR].copy()
    m[:, 0] = (N - 1) / N - m[:, 0]
    return direct, to_image(m)


def nme(p, t):
    return np.linalg.norm(p - t, axis=1).mean() / np.linalg.norm(t[36] - t[45])


def main():
    model = net.Landmark68(sys.argv[1])
    coarse = net.Landmark68(sys.argv[3]) if len(sys.argv) > 3 else model
    items = sorted(Path(sys.argv[2]).glob("*.png"))
    errs = {k: [] for k in range(5)}
    spreads, point_errs = [], []
    for p in items:
        img = Image.open(p).convert("RGB")
        truth = read_pts(p.with_suffix(".pts"))
        w, h = img.size
        rect = (w / 2 - 0.5, h / 2 - 0.5, max(w, h), 0.0)
        d, m = run_pass(coarse, img, rect)
        errs[0].append(nme((d + m) / 2, truth))
        for k in range(1, 5):
            d, m = run_pass(model, img, crop_rect((d + m) / 2))
            errs[k].append(nme((d + m) / 2, truth))
            if k == 2:
                mean = (d + m) / 2
                eyes = np.linalg.norm(mean[45] - mean[36])
                spreads.append(np.linalg.norm(d - m, axis=1) / eyes)
                point_errs.append(np.linalg.norm(mean - truth, axis=1) / np.linalg.norm(truth[36] - truth[45]))
    for k, e in errs.items():
        print(f"refined passes {k}: NME {np.mean(e):.4f}, over 0.1 {np.mean(np.array(e) > 0.1):.2f}")
    sp, pe = np.concatenate(spreads), np.concatenate(point_errs)
    for s in (0.02, 0.03, 0.05, 0.08):
        conf = 1 / (1 + (sp / s) ** 2)
        lo, hi = pe[conf < 0.5], pe[conf >= 0.5]
        print(f"spread scale {s}: {np.mean(conf < 0.5):.2f} of points under 0.5, their error "
              f"{lo.mean() if len(lo) else float('nan'):.4f} vs {hi.mean():.4f} over 0.5")


if __name__ == "__main__":
    main()
