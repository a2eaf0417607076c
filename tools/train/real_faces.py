"""Training crops from real faces with teacher labels, exaggerated and made to look drawn.

Frames of permissively licensed talking-head clips (the MIT LivePortrait driving clips named in
`run.sh`), labelled by FaceShot's own tracker (`faceshot detect --no-smoothing`, 68 iBUG points a
frame). Each frame is used several times, each time:
1. an *exaggeration warp*: the points are moved part by part (eyes larger or smaller and further
   apart, mouth wider or taller, nose longer or shorter, jaw wider or narrower, chin longer), and
   the picture follows them through a smooth backward map (Gaussian radial basis functions
   interpolating the points' displacements, zero on a ring around the face and on the picture's
   border), so the points stay exact on the warped picture;
2. often a *stylisation*: posterised or quantised colours, edge-preserving smoothing, watercolour,
   cartoon (flat colours + dark edges), pencil sketch, ink lines, painterly mode filter, recoloured
   skin;
3. resolution, blur, noise and JPEG like the generator's pictures;
4. the same crops as `make_data.py`: a jittered refined-pass crop and, with probability
   `--coarse`, a whole-picture crop of a random window around the face (faces small to large).

    python real_faces.py OUT --clip DIR/frames_d9 DIR/d9.json [...] --variants 8 \
        --strength 1 1.6 --shard K --shards N      # then: python make_data.py OUT --merge

Writes the same `shardK_{x,y,kind}.npy` files as `make_data.py`.
"""
import argparse
import io
import json
import math
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageFilter

from make_data import crop_rect, sample, save_shard, to_crop

EYE_L, EYE_R = list(range(36, 42)), list(range(42, 48))
BROW_L, BROW_R = list(range(17, 22)), list(range(22, 27))
NOSE = list(range(27, 36))
MOUTH = list(range(48, 68))
JAW = list(range(0, 17))


def load_clip(frames_dir, track_path, every=1):
    """(frame path, 68×2 points) for every `every`-th frame where the tracker found the face."""
    track = json.loads(Path(track_path).read_text())
    frames = sorted(Path(frames_dir).glob("*.png"))
    out = []
    for i, (f, t) in enumerate(zip(frames, track["frames"])):
        if i % every == 0 and t.get("found") and t.get("landmarks"):
            out.append((f, np.asarray(t["landmarks"], np.float32)))
    return out


def face_frame(pts):
    """Centre (between the eyes), unit x along the eye line, unit y down, eye distance."""
    a, b = pts[36:42].mean(0), pts[42:48].mean(0)
    ex = (b - a) / max(np.linalg.norm(b - a), 1e-3)
    ey = np.array([-ex[1], ex[0]])
    return (a + b) / 2, ex, ey, float(np.linalg.norm(pts[45] - pts[36]))


def exaggerate(pts, r, strength=1.0):
    """The points moved part by part in the face's own frame (a caricaturist's changes)."""
    c, ex, ey, d = face_frame(pts)
    loc = np.stack([(pts - c) @ ex, (pts - c) @ ey], 1) / d
    q = loc.copy()

    def u(lo, hi):
        return r.uniform(lo, hi) * strength

    # Eyes: scale about each eye's centre; spacing along the eye line; brows ride with them.
    eye_scale = math.exp(u(-0.25, 0.55))
    eye_h = math.exp(u(-0.2, 0.3))
    spread = u(-0.08, 0.18)
    for eye, brow, side in ((EYE_L, BROW_L, -1), (EYE_R, BROW_R, 1)):
        ec = loc[eye].mean(0)
        q[eye] = ec + (loc[eye] - ec) * [eye_scale, eye_scale * eye_h]
        q[eye, 0] += side * spread
        grow = (eye_scale * eye_h - 1) * (loc[eye, 1].max() - loc[eye, 1].min()) * 0.5
        q[brow, 0] = ec[0] + (loc[brow, 0] - ec[0]) * (1 + 0.6 * (eye_scale - 1)) + side * spread
        q[brow, 1] = loc[brow, 1] - max(grow, 0) + u(-0.08, 0.1) * -1
    # Nose: length from the bridge's top, width of the base.
    top = loc[27]
    q[NOSE, 1] = top[1] + (loc[NOSE, 1] - top[1]) * math.exp(u(-0.35, 0.3))
    base = loc[31:36, 0].mean()
    q[31:36, 0] = base + (loc[31:36, 0] - base) * math.exp(u(-0.3, 0.45))
    # Mouth: width and height about its centre, then up or down.
    mc = loc[MOUTH].mean(0)
    q[MOUTH] = mc + (loc[MOUTH] - mc) * [math.exp(u(-0.3, 0.45)), math.exp(u(-0.25, 0.5))]
    q[MOUTH, 1] += u(-0.1, 0.15)
    # Jaw: width about the midline (more at the cheeks), chin length (more at the chin).
    jw = math.exp(u(-0.2, 0.3))
    chin = u(-0.15, 0.35)
    for i in JAW:
        w = 1 - abs(i - 8) / 8  # 1 at the chin, 0 at the ears
        q[i, 0] = loc[i, 0] * (jw + (1 - jw) * w * 0.5)
        q[i, 1] = loc[i, 1] + chin * w * w
    # The mouth and nose must stay above the chin.
    floor = q[8, 1] - 0.15
    if q[MOUTH, 1].max() > floor:
        q[MOUTH, 1] -= q[MOUTH, 1].max() - floor
    return (c + (q[:, :1] * ex + q[:, 1:] * ey) * d).astype(np.float32)


def warp_to(img, src, dst, r):
    """The picture warped so that `src` points land on `dst` (backward map by Gaussian RBFs,
    zero displacement on a ring around the face and on the border). Returns the warped
    picture and where the points actually land (the map's exact image of `src` is `dst` up to
    the fit's residual, which is measured and kept as the label's offset)."""
    h, w = img.shape[:2]
    c, _, _, d = face_frame(dst)
    radius = max(np.linalg.norm(dst - c, axis=1).max(), np.linalg.norm(src - c, axis=1).max())
    ring = c + 1.35 * radius * np.stack([np.cos(t := np.linspace(0, 2 * math.pi, 24, endpoint=False)), np.sin(t)], 1)
    border = np.array([[x, y] for x in np.linspace(0, w - 1, 5) for y in np.linspace(0, h - 1, 5)
                       if x in (0, w - 1) or y in (0, h - 1)])
    ctrl = np.vstack([dst, ring, border]).astype(np.float64)
    disp = np.vstack([src - dst, np.zeros((len(ring) + len(border), 2))])
    sigma = 0.55 * d

    def kernel(a, b):
        dd = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
        return np.exp(-dd / (2 * sigma * sigma))

    k = kernel(ctrl, ctrl) + 1e-4 * np.eye(len(ctrl))
    wts = np.linalg.solve(k, disp)
    step = 4
    gx, gy = np.meshgrid(np.arange(0, w + step, step, dtype=np.float64), np.arange(0, h + step, step, dtype=np.float64))
    grid = np.stack([gx.ravel(), gy.ravel()], 1)
    off = kernel(grid, ctrl) @ wts
    mx = cv2.resize((gx.ravel() + off[:, 0]).reshape(gx.shape).astype(np.float32), (gx.shape[1] * step, gx.shape[0] * step),
                    interpolation=cv2.INTER_LINEAR)[:h, :w]
    my = cv2.resize((gy.ravel() + off[:, 1]).reshape(gy.shape).astype(np.float32), (gx.shape[1] * step, gx.shape[0] * step),
                    interpolation=cv2.INTER_LINEAR)[:h, :w]
    out = cv2.remap(img, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    # Where the map sends each target point: its residual from `src` moves the label.
    at = kernel(dst.astype(np.float64), ctrl) @ wts + dst
    residual = at - src
    return out, (dst - residual).astype(np.float32)


def stylise(img, r):
    """One random look (or none) for an RGB uint8 picture."""
    kind = r.choice(["none", "posterise", "quantise", "smooth", "watercolour", "cartoon", "pencil",
                     "ink", "painterly", "recolour"],
                    p=[0.2, 0.08, 0.12, 0.1, 0.1, 0.14, 0.07, 0.06, 0.08, 0.05])
    if kind == "posterise":
        bits = int(r.integers(2, 4))
        img = cv2.GaussianBlur(img, (0, 0), r.uniform(0.5, 2))
        return (img >> (8 - bits) << (8 - bits)) + (1 << (7 - bits))
    if kind == "quantise":
        img = cv2.bilateralFilter(img, 9, r.uniform(40, 120), r.uniform(5, 15))
        q = Image.fromarray(img).quantize(colors=int(r.integers(4, 14)), method=Image.Quantize.MEDIANCUT)
        return np.asarray(q.convert("RGB"))
    if kind == "smooth":
        return cv2.edgePreservingFilter(img, flags=int(r.integers(1, 3)), sigma_s=r.uniform(20, 80), sigma_r=r.uniform(0.2, 0.6))
    if kind == "watercolour":
        return cv2.stylization(img, sigma_s=r.uniform(20, 80), sigma_r=r.uniform(0.2, 0.6))
    if kind == "cartoon":
        flat = img
        for _ in range(int(r.integers(2, 6))):
            flat = cv2.bilateralFilter(flat, 7, r.uniform(30, 90), 7)
        q = Image.fromarray(flat).quantize(colors=int(r.integers(6, 20)), method=Image.Quantize.MEDIANCUT)
        flat = np.asarray(q.convert("RGB"))
        grey = cv2.medianBlur(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), 5)
        edges = cv2.adaptiveThreshold(grey, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY,
                                      int(r.choice([7, 9, 11])), r.uniform(3, 9))
        return (flat * (edges[..., None] / 255.0)).astype(np.uint8)
    if kind == "pencil":
        grey, colour = cv2.pencilSketch(img, sigma_s=r.uniform(20, 80), sigma_r=r.uniform(0.05, 0.12),
                                        shade_factor=r.uniform(0.02, 0.08))
        return colour if r.random() < 0.5 else cv2.cvtColor(grey, cv2.COLOR_GRAY2RGB)
    if kind == "ink":
        grey = cv2.GaussianBlur(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), (0, 0), r.uniform(1, 2.5))
        dog = cv2.GaussianBlur(grey, (0, 0), 1.0).astype(np.float32) - cv2.GaussianBlur(grey, (0, 0), 2.2).astype(np.float32)
        ink = np.where(dog < -r.uniform(0.5, 2.5), 0, 255).astype(np.uint8)
        paper = np.array([r.uniform(225, 255), r.uniform(220, 250), r.uniform(200, 240)])
        return (paper[None, None] * (ink[..., None] / 255.0)).astype(np.uint8)
    if kind == "painterly":
        h, w = img.shape[:2]
        f = r.uniform(0.3, 0.6)
        small = Image.fromarray(img).resize((max(8, int(w * f)), max(8, int(h * f))), Image.BILINEAR)
        small = small.filter(ImageFilter.ModeFilter(size=int(r.integers(3, 8))))
        return np.asarray(small.resize((w, h), Image.BICUBIC))
    if kind == "recolour":
        hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV)
        hsv[..., 0] = (hsv[..., 0].astype(np.int32) + int(r.integers(20, 160))) % 180
        hsv[..., 1] = np.clip(hsv[..., 1] * r.uniform(1.0, 2.0), 0, 255).astype(np.uint8)
        return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
    return img


def degrade(img, pts, r):
    """Picture size (the face 40–220 px across), blur, noise, JPEG; points scaled along."""
    _, _, _, d = face_frame(pts)
    face = 2.2 * d
    target = r.uniform(40, 220)
    f = min(1.0, target / face)
    h, w = img.shape[:2]
    if f < 0.95:
        nw, nh = max(16, round(w * f)), max(16, round(h * f))
        img = np.asarray(Image.fromarray(img).resize((nw, nh), Image.LANCZOS))
        pts = (pts + 0.5) * [nw / w, nh / h] - 0.5
    if r.random() < 0.3:
        img = cv2.GaussianBlur(img, (0, 0), r.uniform(0.3, 1.2))
    if r.random() < 0.3:
        img = np.clip(img + r.normal(0, r.uniform(2, 12), img.shape), 0, 255).astype(np.uint8)
    if r.random() < 0.35:
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, "JPEG", quality=int(r.integers(20, 90)))
        img = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
    return img, pts.astype(np.float32)


def window(img, pts, r):
    """A random window of the picture around the face (1.3× its extent up to the whole
    picture, aspect 0.6–1.7) and the points in it: the framing the coarse pass sees."""
    h, w = img.shape[:2]
    lo, hi = pts.min(0), pts.max(0)
    ext = max(hi - lo)
    side = math.exp(r.uniform(math.log(1.3 * ext), math.log(max(1.3 * ext + 1, max(w, h)))))
    aspect = math.exp(r.uniform(math.log(0.6), math.log(1.7)))
    ww, wh = side * min(1, aspect), side * min(1, 1 / aspect)
    ww, wh = max(ww, hi[0] - lo[0] + 4), max(wh, hi[1] - lo[1] + 4)
    ww, wh = min(ww, w), min(wh, h)

    def start(lo_p, hi_p, size, full):
        # A window [start, start + size) inside the picture holding the points where it can
        # (points past the picture's edge keep the window centred on them, inside the picture).
        a, b = max(0.0, hi_p + 2 - size), min(lo_p - 2, full - size)
        if b > a:
            return int(r.uniform(a, b))
        return int(min(max(0.0, (lo_p + hi_p) / 2 - size / 2), full - size))

    x0, y0 = start(lo[0], hi[0], ww, w), start(lo[1], hi[1], wh, h)
    sub = img[y0:y0 + int(wh), x0:x0 + int(ww)]
    pts = pts - [x0, y0]
    if r.random() < 0.3:
        # A face small in a larger picture (a portrait photo, a full figure): the window on a
        # plain or gradient canvas up to 3× its size.
        sh, sw = sub.shape[:2]
        f = r.uniform(1.3, 3.0)
        cw, ch = int(sw * f), int(sh * f * math.exp(r.uniform(-0.3, 0.3)))
        ch = max(ch, sh)
        a, b = r.uniform(0, 255, 3), r.uniform(0, 255, 3)
        t = np.linspace(0, 1, ch)[:, None, None]
        canvas = (a * (1 - t) + b * t).repeat(cw, 1).astype(np.uint8)
        ox, oy = int(r.uniform(0, cw - sw + 1)), int(r.uniform(0, ch - sh + 1))
        canvas[oy:oy + sh, ox:ox + sw] = sub
        sub, pts = canvas, pts + [ox, oy]
    return sub, pts


def strength_of(seed, strength):
    """The exaggeration strength of one variant, uniform in `strength` (lo, hi), drawn from its
    own stream so the variant's other draws do not depend on the range."""
    lo, hi = strength
    return lo if hi <= lo else float(np.random.default_rng([*seed, 1]).uniform(lo, hi))


def variant(frame, pts, seed, coarse_p, exaggeration=1.0):
    """The crops of one variant of one frame."""
    r = np.random.default_rng(seed)
    img = np.asarray(Image.open(frame).convert("RGB"))
    if r.random() < 0.85:
        target = exaggerate(pts, r, exaggeration)
        img, pts = warp_to(img, pts, target, r)
    img = np.ascontiguousarray(stylise(img, r))
    img, pts = degrade(img, pts, r)
    out = []
    cx, cy, side, angle = crop_rect(pts)
    jit = (cx + r.normal(0, 0.05) * side, cy + r.normal(0, 0.05) * side,
           side * math.exp(r.normal(0, 0.1)), angle + r.normal(0, math.radians(5)))
    pil = Image.fromarray(img)
    out.append((sample(pil, jit), to_crop(pts, jit), 0))
    if r.random() < coarse_p:
        sub, spts = window(img, pts, r)
        sh, sw = sub.shape[:2]
        rect = (sw / 2 - 0.5, sh / 2 - 0.5, max(sw, sh), 0.0)
        out.append((sample(Image.fromarray(sub), rect), to_crop(spts, rect), 1))
    return out


def picture(frame, pts, seed, exaggeration=1.0):
    """One whole warped and stylised picture and its points (a tuning set for the matcher)."""
    r = np.random.default_rng(seed)
    img = np.asarray(Image.open(frame).convert("RGB"))
    if r.random() < 0.85:
        img, pts = warp_to(img, pts, exaggerate(pts, r, exaggeration), r)
    img = np.ascontiguousarray(stylise(img, r))
    return degrade(img, pts, r)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--clip", nargs=2, action="append", metavar=("FRAMES", "TRACK"), required=True,
                    help="a folder of PNG frames and its `faceshot detect` track")
    ap.add_argument("--every", type=int, default=1, help="use every N-th frame")
    ap.add_argument("--variants", type=int, default=4, help="variants of each frame")
    ap.add_argument("--coarse", type=float, default=0.5)
    ap.add_argument("--seed", type=int, default=5_000_000)
    ap.add_argument("--strength", type=float, nargs=2, default=(1.0, 1.0), metavar=("LO", "HI"),
                    help="exaggeration strength of each variant, uniform in [LO, HI] (1: the ranges of `exaggerate`)")
    ap.add_argument("--shard", type=int, default=0)
    ap.add_argument("--shards", type=int, default=1)
    ap.add_argument("--pictures", action="store_true",
                    help="write whole pictures with .pts files (for `faceshot eval-match`) instead of crops")
    a = ap.parse_args()
    d = Path(a.dir)
    d.mkdir(parents=True, exist_ok=True)
    if (d / f"shard{a.shard:03d}_y.npy").exists():
        return  # made by an earlier run
    frames = [f for frames, track in a.clip for f in load_clip(frames, track, a.every)]
    if a.pictures:
        from gen_faces import write_pts
        for i, (frame, pts) in enumerate(frames):
            for v in range(a.variants):
                seed = [a.seed, i, v]
                img, p = picture(frame, pts, seed, strength_of(seed, a.strength))
                Image.fromarray(img).save(d / f"real_{i:04d}_{v}.png")
                write_pts(d / f"real_{i:04d}_{v}.pts", p)
        return
    jobs = [(i, v) for i in range(len(frames)) for v in range(a.variants)]
    crops = [c for i, v in jobs[a.shard::a.shards]
             for c in variant(frames[i][0], frames[i][1], [a.seed, i, v], a.coarse,
                              strength_of([a.seed, i, v], a.strength))]
    save_shard(d, a.shard, crops)
    print(f"shard {a.shard}: {len(crops)} crops from {len(frames)} frames", flush=True)


if __name__ == "__main__":
    main()
