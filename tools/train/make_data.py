"""Training crops from the generator: 112×112 network inputs and their 68 points.

For each seed one picture is rendered (`gen_faces.make`) and sampled into crops exactly as the
Rust matcher samples the network's input (`core/src/nn/crop.rs`: a rotated square, crop pixel
u at fraction u/112 of its side, bilinear, rounded to 8 bits, zero outside the picture):
- a *refined-pass* crop: the square `core/src/matching/landmark_net.rs::crop_rect` places on the
  points (aligned with the eye line, 1.4 × the points' box, shifted down by 0.1 of its height),
  jittered in centre, side and angle as a coarse pass's points would misplace it;
- with probability `--coarse`, a *coarse-pass* crop: the whole picture (the face anywhere in it,
  small or large), as the learned backend's first pass sees it.

`--pictures DIR...` crops labelled pictures instead (`faceshot cartoons`' PNG + face JSON), the
same two ways.

Writes `DIR/x.npy` (N×112×112×3 uint8), `DIR/y.npy` (N×68×2 float32 fractions of the crop) and
`DIR/kind.npy` (0 refined, 1 coarse). Run in shards (`--shard K --shards N`), then `--merge`.
"""
import argparse
import json
import math
from pathlib import Path

import numpy as np
from PIL import Image

import gen_faces

N = 112
CROP_SCALE, CROP_SHIFT = 1.4, 0.1


def crop_rect(pts):
    """landmark_net.rs::crop_rect: (cx, cy, side, angle)."""
    a, b = pts[36], pts[45]
    angle = math.atan2(b[1] - a[1], b[0] - a[0])
    s, c = math.sin(angle), math.cos(angle)
    centre = pts.mean(0)
    d = pts - centre
    local = np.stack([c * d[:, 0] + s * d[:, 1], -s * d[:, 0] + c * d[:, 1]], 1)
    lo, hi = local.min(0), local.max(0)
    w, h = hi - lo
    side = max(w, h) * CROP_SCALE
    u, v = (lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2 + CROP_SHIFT * h
    return centre[0] + c * u - s * v, centre[1] + s * u + c * v, side, angle


def sample(img, rect):
    """crop.rs::crop_to_tensor (Border::Zero) as uint8: N×N×3."""
    cx, cy, side, angle = rect
    arr = np.asarray(img, np.float32)
    h, w = arr.shape[:2]
    s, c = math.sin(angle), math.cos(angle)
    g = (np.arange(N, dtype=np.float32) / N - 0.5) * side
    dx, dy = np.meshgrid(g, g)
    x = cx + c * dx - s * dy
    y = cy + s * dx + c * dy
    x0, y0 = np.floor(x).astype(np.int64), np.floor(y).astype(np.int64)
    fx, fy = (x - x0)[..., None], (y - y0)[..., None]

    def px(xi, yi):
        inside = (xi >= 0) & (yi >= 0) & (xi < w) & (yi < h)
        v = arr[np.clip(yi, 0, h - 1), np.clip(xi, 0, w - 1)]
        return v * inside[..., None]

    top = px(x0, y0) + (px(x0 + 1, y0) - px(x0, y0)) * fx
    bottom = px(x0, y0 + 1) + (px(x0 + 1, y0 + 1) - px(x0, y0 + 1)) * fx
    v = top + (bottom - top) * fy
    return np.floor(v + 0.5).clip(0, 255).astype(np.uint8)


def to_crop(pts, rect):
    """Image points → fractions of the crop (the inverse of RotatedRect::to_image)."""
    cx, cy, side, angle = rect
    s, c = math.sin(angle), math.cos(angle)
    d = pts - [cx, cy]
    u = (c * d[:, 0] + s * d[:, 1]) / side + 0.5
    v = (-s * d[:, 0] + c * d[:, 1]) / side + 0.5
    return np.stack([u, v], 1).astype(np.float32)


def letterboxed(img, pts, r):
    """A random non-square window of the picture around the face (aspect 0.6–1.7), black
    outside, and the square whole-picture crop of that window: what the coarse pass sees of a
    portrait or landscape picture (`learned::whole_picture`)."""
    n = img.size[0]
    lo, hi = pts.min(0), pts.max(0)
    aspect = math.exp(r.uniform(math.log(0.6), math.log(1.7)))
    ww, wh = (n, n / aspect) if aspect > 1 else (n * aspect, n)
    ww, wh = min(n, max(ww, hi[0] - lo[0] + 2)), min(n, max(wh, hi[1] - lo[1] + 2))

    def start(lo_p, hi_p, size):
        # The window [start, start + size) inside the picture and around the points when it
        # can be (a face cut by the picture's edge keeps the window at that edge).
        a, b = max(0.0, hi_p + 1 - size), min(lo_p - 1, n - size)
        return r.uniform(a, b) if b > a else min(max(0.0, a), n - size)

    x0, y0 = start(lo[0], hi[0], ww), start(lo[1], hi[1], wh)
    arr = np.asarray(img).copy()
    mask = np.zeros(arr.shape[:2], bool)
    mask[int(y0):int(math.ceil(y0 + wh)), int(x0):int(math.ceil(x0 + ww))] = True
    arr[~mask] = 0
    cx, cy = x0 + ww / 2 - 0.5, y0 + wh / 2 - 0.5
    return arr, (cx, cy, max(ww, wh), 0.0)


def crops_for(seed, coarse_p, holdout=False, small_p=0.0, letterbox_p=0.0):
    """The crops of one picture. `small_p`: probability the picture draws a small face (then
    only the coarse crop is kept: the refined crop of a small face is one of a large face, made
    blurrier); `letterbox_p`: probability a coarse crop sees a non-square window."""
    q = np.random.default_rng([seed, 2])
    small = q.random() < small_p
    img, pts, spec = gen_faces.make(seed, holdout=holdout, small_face=small)
    r = np.random.default_rng(seed + 7_000_000)
    if small:
        n = spec["size"]
        rect = (n / 2 - 0.5, n / 2 - 0.5, n, 0.0)
        arr = img
        if q.random() < letterbox_p:
            arr, rect = letterboxed(img, pts, q)
        return [(sample(arr, rect), to_crop(pts, rect), 1)]
    return crops_of(img, pts, spec["size"], r, q, coarse_p, letterbox_p)


def crops_of(img, pts, n, r, q, coarse_p, letterbox_p):
    """The refined-pass crop of a face (jittered) and, with probability `coarse_p`, the
    whole-picture crop of its `n`×`n` picture."""
    out = []
    cx, cy, side, angle = crop_rect(pts)
    # A coarse pass's points misplace the refined crop by a few percent.
    jit = (cx + r.normal(0, 0.05) * side, cy + r.normal(0, 0.05) * side,
           side * math.exp(r.normal(0, 0.1)), angle + r.normal(0, math.radians(5)))
    out.append((sample(img, jit), to_crop(pts, jit), 0))
    if r.random() < coarse_p:
        zoom = r.uniform(0.8, 1.2)
        rect = (n / 2 - 0.5 + r.normal(0, 0.04) * n, n / 2 - 0.5 + r.normal(0, 0.04) * n, n * zoom, 0.0)
        arr = img
        if q.random() < letterbox_p:
            arr, rect = letterboxed(img, pts, q)
        out.append((sample(arr, rect), to_crop(pts, rect), 1))
    return out


def picture_crops(label, seed, coarse_p):
    """The crops of a square picture `label.png` whose 68 points `label` (a `faceshot-face`
    JSON) holds: the crops `crops_of` makes of a generated one."""
    pts = np.array(json.loads(label.read_text())["landmarks"], np.float64)
    img = Image.open(label.with_suffix(".png")).convert("RGB")
    if img.size[0] != img.size[1] or pts.shape != (68, 2):
        raise SystemExit(f"{label}: not a square picture with 68 points")
    r, q = np.random.default_rng(seed + 7_000_000), np.random.default_rng([seed, 2])
    return crops_of(img, pts, img.size[0], r, q, coarse_p, 0.0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--start", type=int, default=0)
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--coarse", type=float, default=0.35)
    ap.add_argument("--small", type=float, default=0.0, help="share of pictures with a small face")
    ap.add_argument("--letterbox", type=float, default=0.0, help="share of coarse crops letterboxed")
    ap.add_argument("--shard", type=int, default=0)
    ap.add_argument("--shards", type=int, default=1)
    ap.add_argument("--merge", action="store_true")
    ap.add_argument("--pictures", nargs="+", default=None,
                    help="crop the labelled square pictures of these folders (`faceshot cartoons`: "
                         "NAME.png + NAME.json) instead of generating")
    a = ap.parse_args()
    d = Path(a.dir)
    d.mkdir(parents=True, exist_ok=True)
    if a.merge:
        parts = sorted(d.glob("shard*_x.npy"))
        for key in ("x", "y", "kind"):
            arrs = [np.load(str(p).replace("_x.npy", f"_{key}.npy")) for p in parts]
            np.save(d / f"{key}.npy", np.concatenate(arrs))
        for p in d.glob("shard*"):
            p.unlink()
        print("merged", len(parts), "shards:", np.load(d / "y.npy", mmap_mode="r").shape)
        return
    if (d / f"shard{a.shard:03d}_y.npy").exists():
        return  # made by an earlier run
    if a.pictures:
        labelled = sorted(j for p in a.pictures for j in Path(p).glob("*.json"))
        if a.shard >= len(labelled):
            raise SystemExit(f"{' '.join(a.pictures)}: {len(labelled)} labelled pictures, none for shard {a.shard}")
        crops = [c for i in range(a.shard, len(labelled), a.shards)
                 for c in picture_crops(labelled[i], a.start + i, a.coarse)]
    else:
        crops = [c for seed in range(a.start + a.shard, a.start + a.count, a.shards)
                 for c in crops_for(seed, a.coarse, small_p=a.small, letterbox_p=a.letterbox)]
    save_shard(d, a.shard, crops)


def save_shard(d, shard, crops):
    """Writes `(x, y, kind)` crops as shard `shard` of folder `d` (`--merge` joins them)."""
    xs, ys, ks = zip(*crops)
    np.save(d / f"shard{shard:03d}_x.npy", np.stack(xs))
    np.save(d / f"shard{shard:03d}_kind.npy", np.array(ks, np.uint8))
    np.save(d / f"shard{shard:03d}_y.npy", np.stack(ys))  # last: its presence marks a whole shard


if __name__ == "__main__":
    main()
