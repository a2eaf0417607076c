"""A procedural generator of stylized faces with exact 68 iBUG landmarks (training data).

Independent of the Rust generator (`faceshot cartoons`, an evaluation set): its own head model,
part shapes and renderer. Every landmark lies on a drawn part or, where the style draws none
(no brows under a fringe, no nose), where the part would be.

Head model: a face in a canonical frame (half-width 1 at the jaw's start, y down), each point
given a depth on an ellipsoid-like surface so that a yaw turns the head in 3-D (features move
toward the turn, the far side compresses), then roll, scale and placement.

Domain randomisation (see `sample_spec`): outline / no outline, flat / gradient / cel /
painterly shading, paper and noise textures, fur strokes; hair caps, fringes over the brows, long
hair, hats, glasses; human, animal and elf ears; eyes almond / round / anime / dot / closed /
laughing; noses line / triangle / ball / dot / none / snout / beak; mouths line / smile / open
with teeth and tongue / lips / wide / beak; moustaches and beards; exaggerated proportions
(huge jaws, tiny chins, wide mouths, far-apart eyes); yaw to ±45°, roll, scale; flat,
gradient, cluttered and striped backgrounds; blur, JPEG, low resolution.

One style, `sketch` (ink lines on paper with hatching, no colour fills), is the hold-out style:
`sample_spec(..., holdout=False)` never draws it; `make_holdout_set` draws only it.

Point order (iBUG 68): 0–16 jaw from the picture's left, 17–21 / 22–26 brows (left to right
in the picture), 27–30 nose bridge to tip, 31–35 nostrils left to right, 36–41 left eye (outer
corner, upper lid ×2, inner corner, lower lid ×2), 42–47 right eye (inner corner first), 48–59
outer lips from the left corner clockwise, 60–67 inner lips.
"""
import io
import math

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

SS = 2  # supersampling factor of the drawing canvas


# ----------------------------------------------------------------------------- geometry helpers

def catmull_rom(points, n=200):
    """A smooth curve through `points` (open, end points repeated), `n` samples."""
    p = np.asarray(points, np.float64)
    p = np.vstack([p[0], p, p[-1]])
    out = []
    segs = len(p) - 3
    for i in range(segs):
        p0, p1, p2, p3 = p[i], p[i + 1], p[i + 2], p[i + 3]
        for t in np.linspace(0, 1, max(2, n // segs), endpoint=(i == segs - 1)):
            t2, t3 = t * t, t * t * t
            out.append(0.5 * ((2 * p1) + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t2
                              + (-p0 + 3 * p1 - 3 * p2 + p3) * t3))
    return np.array(out)


def resample(curve, k):
    """`k` points equally spaced by arc length along a polyline (ends included)."""
    d = np.r_[0, np.cumsum(np.linalg.norm(np.diff(curve, axis=0), axis=1))]
    s = np.linspace(0, d[-1], k)
    return np.stack([np.interp(s, d, curve[:, 0]), np.interp(s, d, curve[:, 1])], 1)


def ellipse(cx, cy, rx, ry, a0=0.0, a1=2 * math.pi, n=48):
    t = np.linspace(a0, a1, n)
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], 1)


def bezier(p0, p1, p2, n=24):
    t = np.linspace(0, 1, n)[:, None]
    return (1 - t) ** 2 * np.asarray(p0) + 2 * (1 - t) * t * np.asarray(p1) + t ** 2 * np.asarray(p2)


# ----------------------------------------------------------------------------- the random spec

STYLES_TRAIN = ["flat", "flat", "gradient", "cel", "painterly"]
EYES = ["almond", "round", "anime", "dot", "closed", "laugh"]
NOSES = ["line", "triangle", "ball", "dot", "none", "snout", "beak", "hook"]
MOUTHS = ["line", "smile", "open", "lips", "wide", "frown"]


def rand_colour(r, lo=0, hi=255):
    return tuple(int(v) for v in r.integers(lo, hi + 1, 3))


def skin_colour(r):
    if r.random() < 0.55:  # human-like skins
        base = np.array([[255, 224, 196], [241, 194, 160], [198, 134, 96], [141, 85, 60],
                         [255, 236, 220], [230, 180, 140]])[r.integers(0, 6)]
        return tuple(int(v) for v in np.clip(base + r.normal(0, 12, 3), 0, 255))
    return rand_colour(r, 40, 255)  # anything: green orcs, blue aliens, grey robots, fur


def sample_spec(r, holdout=False, style=None):
    """A random character. `holdout` draws only the hold-out style (`sketch`)."""
    s = {}
    s["style"] = style or ("sketch" if holdout else STYLES_TRAIN[r.integers(0, len(STYLES_TRAIN))])
    animal = r.random() < 0.25
    s["animal"] = animal
    # Proportions, exaggerated at times.
    ex = r.random() < 0.35
    s["forehead"] = r.uniform(0.7, 1.6)
    s["eye_y"] = r.uniform(-0.2, 0.25) if not ex else r.uniform(-0.4, 0.45)
    s["jaw_start"] = s["eye_y"] + r.uniform(-0.05, 0.3)
    s["chin_y"] = r.uniform(1.0, 1.6) if not ex else r.uniform(0.75, 2.3)
    s["jaw_w"] = r.uniform(0.55, 1.0) if not ex else r.uniform(0.25, 1.15)
    s["cheek_w"] = r.uniform(0.9, 1.08)
    s["chin_w"] = r.uniform(0.0, 0.4) * s["jaw_w"]
    s["eye_dx"] = r.uniform(0.3, 0.52) if not ex else r.uniform(0.22, 0.66)
    s["eye_style"] = EYES[r.integers(0, len(EYES))]
    ew_max = min(s["eye_dx"] - 0.04, 0.97 - s["eye_dx"]) * 2
    base_w = {"anime": (0.34, 0.6), "dot": (0.07, 0.18)}.get(s["eye_style"], (0.24, 0.46))
    s["eye_w"] = min(r.uniform(*base_w), ew_max)
    s["eye_h"] = s["eye_w"] * {"anime": r.uniform(0.8, 1.3), "round": r.uniform(0.75, 1.0),
                               "dot": 1.0}.get(s["eye_style"], r.uniform(0.35, 0.6))
    s["eye_tilt"] = r.uniform(-0.25, 0.25)
    s["brow"] = r.choice(["line", "thick", "arch", "none", "bushy"], p=[0.3, 0.25, 0.2, 0.1, 0.15])
    s["brow_gap"] = r.uniform(0.06, 0.3)
    s["brow_tilt"] = r.uniform(-0.3, 0.3)
    s["brow_w"] = s["eye_w"] * r.uniform(1.0, 1.6)
    lower = s["chin_y"] - s["eye_y"]
    s["nose_y"] = s["eye_y"] + lower * r.uniform(0.3, 0.55)
    s["mouth_y"] = s["nose_y"] + (s["chin_y"] - s["nose_y"]) * r.uniform(0.3, 0.6)
    s["nose"] = NOSES[r.integers(0, len(NOSES))] if animal or r.random() < 0.4 else \
        r.choice(["line", "triangle", "ball", "dot", "none", "hook"])
    if not animal and s["nose"] in ("snout", "beak"):
        s["nose"] = "line"
    s["nose_w"] = r.uniform(0.08, 0.28)
    s["mouth"] = MOUTHS[r.integers(0, len(MOUTHS))]
    s["mouth_w"] = r.uniform(0.2, 0.45) if s["mouth"] != "wide" else r.uniform(0.45, 0.75)
    s["mouth_w"] = min(s["mouth_w"], 0.95 * s["jaw_w"] + 0.2)
    s["mouth_open"] = r.uniform(0.05, 0.35) if s["mouth"] == "open" else 0.0
    if s["nose"] == "beak":
        s["mouth"] = "beak"
    s["ears"] = r.choice(["none", "human", "animal", "round", "elf"],
                         p=[0.3, 0.3, 0.15, 0.15, 0.1] if not animal else [0.1, 0.05, 0.5, 0.35, 0.0])
    s["hair"] = r.choice(["none", "cap", "fringe", "long", "spiky"], p=[0.25, 0.25, 0.2, 0.2, 0.1])
    if animal and r.random() < 0.6:
        s["hair"] = "none"
    s["hat"] = r.random() < 0.12
    s["glasses"] = r.random() < 0.15 and s["eye_style"] not in ("anime",)
    s["moustache"] = (not animal) and r.random() < 0.12
    s["beard"] = (not animal) and r.random() < 0.08
    s["blush"] = r.random() < 0.25
    s["freckles"] = r.random() < 0.08
    s["skin"] = skin_colour(r)
    s["hair_col"] = rand_colour(r, 0, 230)
    s["line_col"] = rand_colour(r, 0, 70) if r.random() < 0.8 else rand_colour(r, 0, 160)
    s["outline"] = r.random() < 0.7 or s["style"] == "sketch"
    s["line_w"] = r.uniform(0.012, 0.05)
    s["iris_col"] = rand_colour(r, 0, 255)
    s["lip_col"] = rand_colour(r, 80, 255)
    s["fur"] = animal and r.random() < 0.5
    # Pose and placement.
    s["yaw"] = math.radians(r.uniform(-45, 45)) if r.random() < 0.7 else math.radians(r.uniform(-10, 10))
    s["pitch"] = math.radians(r.uniform(-12, 12))
    s["roll"] = math.radians(r.normal(0, 10)) if r.random() < 0.8 else math.radians(r.uniform(-35, 35))
    s["depth"] = r.uniform(0.6, 1.0)
    s["size"] = int(r.choice([64, 96, 128, 160, 192, 256]))
    s["face_frac"] = r.uniform(0.22, 0.5)  # face half-width over the picture side
    s["bg"] = r.choice(["flat", "gradient", "clutter", "stripes", "noise"], p=[0.25, 0.2, 0.3, 0.1, 0.15])
    s["blur"] = r.uniform(0, 1.2) if r.random() < 0.3 else 0.0
    s["jpeg"] = int(r.integers(20, 90)) if r.random() < 0.35 else 0
    s["noise"] = r.uniform(0, 12) if r.random() < 0.3 else 0.0
    s["texture"] = r.random() < 0.2
    return s


# ----------------------------------------------------------------------------- the face's points

def face_geometry(s):
    """Canonical 2-D parts and the 68 landmarks (frontal, before yaw), plus per-point depth."""
    y0, cy, jw, cw, chw = s["jaw_start"], s["chin_y"], s["jaw_w"], s["cheek_w"], s["chin_w"]
    h = cy - y0
    left = [(-1.0, y0), (-cw, y0 + 0.35 * h), (-jw, y0 + 0.78 * h), (-chw - 0.05, cy - 0.03 * h), (0.0, cy)]
    jaw_half = catmull_rom(left, 120)
    jaw_curve = np.vstack([jaw_half, jaw_half[::-1][1:] * [-1, 1]])
    jaw = resample(jaw_curve, 17)
    top = ellipse(0, y0, 1.0, y0 + s["forehead"], 0, -math.pi, 60)  # right → over the top → left
    outline = np.vstack([jaw_curve, top[1:-1]])

    def half_width(y):
        # The outline's half-width at row y (the jaw curve below y0, 1 above).
        if y <= y0:
            return 1.0
        ys = jaw_half[:, 1]
        return float(np.interp(y, ys, -jaw_half[:, 0])) if ys[-1] > ys[0] else 1.0

    pts = np.zeros((68, 2))
    pts[0:17] = jaw
    parts = {"outline": outline, "jaw": jaw_curve}
    # Eyes: almond / round etc. as upper and lower lid curves between the corners.
    ey, ew, eh, tilt = s["eye_y"], s["eye_w"], s["eye_h"], s["eye_tilt"]
    eyes = []
    for side in (-1, 1):
        cx = side * s["eye_dx"]
        outer = np.array([cx + side * ew / 2, ey - tilt * ew / 2 * 1.0])
        inner = np.array([cx - side * ew / 2, ey + tilt * ew / 2 * 0.3])
        st = s["eye_style"]
        up_h, lo_h = eh * 0.5, eh * 0.5
        if st == "almond":
            up_h, lo_h = eh * 0.62, eh * 0.38
        if st in ("closed", "laugh"):
            up_h, lo_h = eh * 0.5, -eh * 0.35 if st == "closed" else eh * 0.05
        k = 0.5
        ctrl_up = (outer + inner) / 2 + [0, -2 * up_h * k * 2]
        ctrl_lo = (outer + inner) / 2 + [0, 2 * lo_h * k * 2]
        if st == "laugh":  # ^ shaped: both lids bent upward
            ctrl_up = (outer + inner) / 2 + [0, -eh * 1.2]
            ctrl_lo = (outer + inner) / 2 + [0, -eh * 0.9]
        upper = bezier(outer, ctrl_up, inner, 40)
        lower = bezier(outer, ctrl_lo, inner, 40)
        if st in ("round", "dot", "anime"):
            # Round outlines, corners level with the centre (no tilt).
            c = (outer + inner) / 2
            a = np.linspace(0, math.pi, 40)
            upper = np.stack([c[0] + side * np.cos(a) * ew / 2, c[1] - eh / 2 * np.sin(a)], 1)
            lower = np.stack([upper[:, 0], c[1] + eh / 2 * np.sin(a)], 1)
        up3 = resample(upper, 4)
        lo3 = resample(lower, 4)
        if side < 0:  # picture-left eye: 36 outer, 37 38 upper, 39 inner, 40 41 lower (inner → outer)
            pts[36], pts[37], pts[38], pts[39] = up3[0], up3[1], up3[2], up3[3]
            pts[40], pts[41] = lo3[2], lo3[1]
        else:  # picture-right eye: 42 inner, 43 44 upper, 45 outer, 46 47 lower (outer → inner)
            pts[42], pts[43], pts[44], pts[45] = up3[3], up3[2], up3[1], up3[0]
            pts[46], pts[47] = lo3[1], lo3[2]
        eyes.append({"upper": upper, "lower": lower, "c": (outer + inner) / 2, "side": side})
    parts["eyes"] = eyes
    # Brows: a curve above each eye, 5 points from the picture's left.
    brows = []
    for side in (-1, 1):
        c = np.array([side * s["eye_dx"], ey - eh / 2 - s["brow_gap"]])
        bw = s["brow_w"]
        arch = {"arch": 0.12, "line": 0.03}.get(s["brow"], 0.06) * bw * 3
        a = c + [-bw / 2, side * s["brow_tilt"] * bw * 0.3]
        b = c + [bw / 2, -side * s["brow_tilt"] * bw * 0.3]
        curve = bezier(a, (a + b) / 2 + [0, -arch], b, 30)
        brows.append(curve)
        p5 = resample(curve, 5)
        if side < 0:
            pts[17:22] = p5
        else:
            pts[22:27] = p5
    parts["brows"] = brows
    # Nose: bridge 27–30 from between the eyes to the tip, nostrils 31–35 under the tip.
    ny, nw = s["nose_y"], s["nose_w"]
    bridge_top = ey - eh * 0.1
    tip = np.array([0.0, ny - nw * 0.35])
    if s["nose"] == "hook":
        tip = tip + [nw * 0.4 * np.sign(s["yaw"] or 1), 0]
    pts[27:31] = resample(np.array([[0.0, bridge_top], tip]), 4)
    base = bezier([-nw, ny - nw * 0.1], [0, ny + nw * 0.25], [nw, ny - nw * 0.1], 30)
    pts[31:36] = resample(base, 5)
    parts["nose_base"] = base
    # Mouth: outer 48–59, inner 60–67.
    my, mw, op = s["mouth_y"], s["mouth_w"], s["mouth_open"]
    curve = {"smile": 0.18, "frown": -0.15, "wide": 0.1, "beak": 0.0}.get(s["mouth"], 0.04) * mw
    lc, rc = np.array([-mw, my - curve]), np.array([mw, my - curve])
    lip_up = {"lips": 0.12, "open": 0.08}.get(s["mouth"], 0.02) * max(mw, 0.25)
    lip_lo = {"lips": 0.15, "open": 0.08}.get(s["mouth"], 0.02) * max(mw, 0.25)
    inner_up = bezier(lc, [0, my + curve - op * 0.6], rc, 40)
    inner_lo = bezier(lc, [0, my + curve + op * 1.4], rc, 40)
    outer_up = bezier(lc, [0, my + curve - op * 0.6 - 2 * lip_up], rc, 40)
    outer_lo = bezier(lc, [0, my + curve + op * 1.4 + 2 * lip_lo], rc, 40)
    ou = resample(outer_up, 7)  # 48 .. 54
    ol = resample(outer_lo, 7)  # 48 .. 54 along the lower lip
    pts[48:55] = ou
    pts[55:60] = ol[5:0:-1]
    iu = resample(inner_up, 5)  # 60 .. 64
    il = resample(inner_lo, 5)
    pts[60:65] = iu
    pts[65:68] = il[3:0:-1]
    parts["mouth"] = {"outer_up": outer_up, "outer_lo": outer_lo, "inner_up": inner_up, "inner_lo": inner_lo}
    return pts, parts, half_width


def project(s, p, half_width, on_outline=False):
    """Yaw and pitch in 3-D: each point gets a depth on an ellipsoid-like head surface."""
    p = np.asarray(p, np.float64)
    d = s["depth"]
    x, y = p[..., 0], p[..., 1]
    w = np.array([max(half_width(v), 0.55) for v in y.ravel()]).reshape(y.shape)
    if on_outline:
        # Outline points: the head's silhouette, a little behind the face's front.
        z = 0.15 * d * np.ones_like(x)
    else:
        z = d * w * np.sqrt(np.clip(1 - (x / (w * 1.02)) ** 2, 0.0, 1.0))
    yaw, pitch = s["yaw"], s["pitch"]
    x2 = x * math.cos(yaw) + z * math.sin(yaw)
    z2 = -x * math.sin(yaw) + z * math.cos(yaw)
    y2 = y * math.cos(pitch) - z2 * math.sin(pitch) * 0.5
    return np.stack([x2, y2], -1)


# ----------------------------------------------------------------------------- rendering

class Canvas:
    def __init__(self, s, r):
        self.s, self.r = s, r
        n = s["size"] * SS
        self.n = n
        self.img = Image.new("RGB", (n, n), (255, 255, 255))
        self.draw = ImageDraw.Draw(self.img)
        scale = s["face_frac"] * n
        vertical = s["chin_y"] + s["forehead"] + 0.5 * s["forehead"]
        centre = np.array([n / 2 + r.uniform(-0.2, 0.2) * n, n / 2 + r.uniform(-0.15, 0.15) * n])
        if vertical * scale > n * 0.95:
            scale = n * 0.95 / vertical
        self.scale = scale
        self.centre = centre - np.array([0, (s["chin_y"] - s["forehead"]) / 2 * scale])
        c, si = math.cos(s["roll"]), math.sin(s["roll"])
        self.rot = np.array([[c, -si], [si, c]])

    def px(self, p):
        """Canonical (projected) coordinates → canvas pixels."""
        return (np.asarray(p) @ self.rot.T) * self.scale + self.centre

    def poly(self, p, fill=None, outline=None, width=0):
        q = [tuple(v) for v in self.px(p)]
        if len(q) >= 3 and fill is not None:
            self.draw.polygon(q, fill=fill)
        if outline is not None and width > 0:
            self.draw.line(q + [q[0]], fill=outline, width=max(1, int(width)), joint="curve")

    def line(self, p, col, width):
        q = [tuple(v) for v in self.px(p)]
        self.draw.line(q, fill=col, width=max(1, int(round(width))), joint="curve")

    def lw(self, k=1.0):
        return self.s["line_w"] * self.scale * k


def background(c, r):
    s, n = c.s, c.n
    kind = s["bg"]
    if kind == "flat":
        c.draw.rectangle([0, 0, n, n], fill=rand_colour(r))
    elif kind == "gradient":
        a, b = np.array(rand_colour(r)), np.array(rand_colour(r))
        t = np.linspace(0, 1, n)[:, None, None]
        arr = (a * (1 - t) + b * t).repeat(n, 1).astype(np.uint8)
        if r.random() < 0.5:
            arr = arr.transpose(1, 0, 2)
        c.img.paste(Image.fromarray(np.ascontiguousarray(arr)))
    elif kind == "stripes":
        c.draw.rectangle([0, 0, n, n], fill=rand_colour(r))
        col, w = rand_colour(r), int(r.integers(4, 30)) * SS
        for x in range(-n, 2 * n, 2 * w):
            c.draw.polygon([(x, 0), (x + w, 0), (x + w + n // 2, n), (x + n // 2, n)], fill=col)
    elif kind == "noise":
        small = r.integers(0, 256, (int(r.integers(4, 24)),) * 2 + (3,)).astype(np.uint8)
        c.img.paste(Image.fromarray(small).resize((n, n), Image.BICUBIC))
    else:  # clutter: random shapes, some face-like blobs at the edges
        c.draw.rectangle([0, 0, n, n], fill=rand_colour(r))
        for _ in range(int(r.integers(5, 30))):
            x, y, w, h = r.uniform(0, n), r.uniform(0, n), r.uniform(5, n / 3), r.uniform(5, n / 3)
            k = r.integers(0, 3)
            col = rand_colour(r)
            if k == 0:
                c.draw.rectangle([x, y, x + w, y + h], fill=col)
            elif k == 1:
                c.draw.ellipse([x, y, x + w, y + h], fill=col)
            else:
                c.draw.line([(x, y), (x + w, y + h)], fill=col, width=int(r.integers(1, 8)) * SS)


def shade_colour(col, k):
    return tuple(int(np.clip(v * k, 0, 255)) for v in col)


def render(s, r):
    """The picture (RGB, `s['size']` square) and its 68 points in its pixels."""
    pts, parts, hw = face_geometry(s)
    c = Canvas(s, r)
    sketch = s["style"] == "sketch"
    if sketch:
        paper = np.array([r.integers(225, 256), r.integers(220, 250), r.integers(200, 240)])
        c.draw.rectangle([0, 0, c.n, c.n], fill=tuple(int(v) for v in paper))
        ink = s["line_col"] if r.random() < 0.5 else (20, 20, 30)
    else:
        background(c, r)
    P = lambda q, o=False: project(s, q, hw, on_outline=o)
    outline = P(parts["outline"], True)
    skin = s["skin"] if not sketch else None
    lw = c.lw()
    line_col = ink if sketch else s["line_col"]
    drawn_outline = s["outline"]
    hair_col = s["hair_col"]
    # Behind the head: long hair, ears.
    top_y = s["jaw_start"] - s["forehead"]
    if s["hair"] == "long" and not sketch:
        back = np.array([[-1.25, top_y + 0.2], [1.25, top_y + 0.2],
                         [1.3, s["chin_y"] + r.uniform(-0.3, 0.8)], [-1.3, s["chin_y"] + r.uniform(-0.3, 0.8)]])
        c.poly(P(np.vstack([ellipse(0, top_y + 0.6, 1.25, 0.8, math.pi, 2 * math.pi, 30), back[2:]]), True), fill=hair_col)
    ear_col = shade_colour(s["skin"], 0.92) if not sketch else None
    for side in (-1, 1):
        ey = s["eye_y"]
        if s["ears"] == "human":
            e = ellipse(side * 1.0, ey + 0.25, 0.22, 0.38, n=30)
        elif s["ears"] == "elf":
            e = np.array([[side * 0.95, ey + 0.05], [side * 1.6, ey - 0.6], [side * 0.95, ey + 0.55]])
        elif s["ears"] == "animal":
            bx = side * r.uniform(0.35, 0.75)
            e = np.array([[bx - 0.35, top_y + 0.45], [bx + side * 0.25, top_y - r.uniform(0.3, 0.9)], [bx + 0.35, top_y + 0.35]])
        elif s["ears"] == "round":
            e = ellipse(side * 0.75, top_y + 0.35, 0.35, 0.35, n=30)
        else:
            continue
        c.poly(P(e, True), fill=ear_col, outline=line_col if drawn_outline else None, width=lw)
    # The face.
    if sketch:
        c.poly(outline, fill=None, outline=line_col, width=lw)
    else:
        face_layer(c, s, r, outline, skin, line_col, lw)
    # Hair on top (cap / fringe / spiky), drawn before the features when it does not cover them.
    fringe = None
    if s["hair"] in ("cap", "fringe", "spiky", "long"):
        hl = s["eye_y"] - s["eye_h"] / 2 - s["brow_gap"] - r.uniform(-0.05, 0.35)
        if s["hair"] == "fringe":
            hl = s["eye_y"] - s["eye_h"] / 2 - r.uniform(0.0, 0.15)  # over the brows
        cap = np.vstack([ellipse(0, s["jaw_start"], 1.06, s["forehead"] + 0.12, math.pi, 2 * math.pi, 40),
                         np.array([[1.06, hl], [-1.06, hl]])])
        if s["hair"] == "spiky":
            sp = ellipse(0, s["jaw_start"], 1.1, s["forehead"] + 0.1, math.pi, 2 * math.pi, 15)
            spikes = []
            for i, q in enumerate(sp):
                spikes.append(q if i % 2 else q + (q - [0, s["jaw_start"]]) * 0.25)
            cap = np.vstack([spikes, [[1.06, hl], [-1.06, hl]]])
        # A jagged lower edge for fringes.
        xs = np.linspace(1.06, -1.06, int(r.integers(4, 10)))
        edge = np.stack([xs, hl + r.uniform(-0.08, 0.12, len(xs))], 1)
        cap = np.vstack([cap[:-2], edge])
        fringe = (cap, hl)
    cover = fringe is not None and fringe[1] > s["eye_y"] - s["eye_h"] / 2 - s["brow_gap"] - 0.05
    if fringe is not None and not cover:
        draw_hair(c, s, P(fringe[0], True), hair_col, line_col, lw, sketch)
    draw_features(c, s, r, pts, parts, P, line_col, lw, sketch)
    if fringe is not None and cover:
        draw_hair(c, s, P(fringe[0], True), hair_col, line_col, lw, sketch)
    if s["hat"]:
        hy = s["jaw_start"] - s["forehead"] * r.uniform(0.3, 0.7)
        brim = np.array([[-1.4, hy], [1.4, hy], [1.4, hy - 0.15], [-1.4, hy - 0.15]])
        crown = np.array([[-0.9, hy - 0.1], [0.9, hy - 0.1], [0.8, hy - r.uniform(0.6, 1.3)], [-0.8, hy - r.uniform(0.6, 1.3)]])
        col = rand_colour(r)
        for part in (crown, brim):
            c.poly(P(part, True), fill=None if sketch else col, outline=line_col, width=lw)
    if s["glasses"]:
        for e in parts["eyes"]:
            g = ellipse(e["c"][0], e["c"][1], s["eye_w"] * 0.75 + 0.04, s["eye_h"] * 0.75 + 0.06, n=30)
            c.poly(P(g), outline=rand_colour(r, 0, 120) if not sketch else line_col, width=lw * 1.2)
        l, rr = parts["eyes"][0]["c"], parts["eyes"][1]["c"]
        c.line(P(np.array([[l[0] + s["eye_w"] * 0.75 + 0.04, l[1]], [rr[0] - s["eye_w"] * 0.75 - 0.04, rr[1]]])), line_col, lw)
    if sketch:
        hatching(c, s, r, outline, ink)
    img = c.img
    # Texture, noise, blur, resolution, JPEG.
    if s["texture"] or sketch:
        arr = np.asarray(img).astype(np.float32)
        grain = r.normal(0, r.uniform(3, 12), arr.shape[:2])[..., None]
        arr = np.clip(arr + grain, 0, 255)
        img = Image.fromarray(arr.astype(np.uint8))
    if s["style"] == "painterly":
        img = img.filter(ImageFilter.ModeFilter(size=int(r.integers(3, 8))))
    img = img.resize((s["size"], s["size"]), Image.LANCZOS)
    if s["blur"] > 0:
        img = img.filter(ImageFilter.GaussianBlur(s["blur"]))
    if s["noise"] > 0:
        arr = np.asarray(img).astype(np.float32) + r.normal(0, s["noise"], (s["size"], s["size"], 3))
        img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    if s["jpeg"]:
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=s["jpeg"])
        img = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    # The points: projected, on the canvas, then in output pixels (pixel centres at +0.5).
    P68 = P(pts)
    P68[0:17] = P(pts[0:17], True)
    # Canvas pixel X (centre at X + ½ in continuous coordinates) → output pixel index.
    out = (c.px(P68) + 0.5) / SS - 0.5
    return img, out.astype(np.float32)


def face_layer(c, s, r, outline, skin, line_col, lw):
    style = s["style"]
    n = c.n
    mask = Image.new("L", (n, n), 0)
    ImageDraw.Draw(mask).polygon([tuple(v) for v in c.px(outline)], fill=255)
    if style == "flat" or style == "painterly":
        layer = Image.new("RGB", (n, n), skin)
    elif style == "gradient":
        a, b = np.array(skin), np.array(shade_colour(skin, r.uniform(0.55, 0.85)))
        ang = r.uniform(0, 2 * math.pi)
        yy, xx = np.mgrid[0:n, 0:n] / n
        t = np.clip((xx - 0.5) * math.cos(ang) + (yy - 0.5) * math.sin(ang) + 0.5, 0, 1)[..., None]
        layer = Image.fromarray((a * (1 - t) + b * t).astype(np.uint8))
    else:  # cel: a hard shadow on one side
        layer = Image.new("RGB", (n, n), skin)
        d = ImageDraw.Draw(layer)
        off = r.uniform(0.15, 0.45) * (1 if r.random() < 0.5 else -1)
        shadow = outline + [off, r.uniform(-0.1, 0.2)]
        d.polygon([tuple(v) for v in c.px(shadow)], fill=shade_colour(skin, r.uniform(0.6, 0.85)))
    if s["fur"]:
        d = ImageDraw.Draw(layer)
        fc = shade_colour(skin, r.uniform(0.6, 0.9))
        for _ in range(int(r.integers(100, 400))):
            x, y = r.uniform(0, n), r.uniform(0, n)
            a = r.uniform(0, math.pi)
            L = r.uniform(3, 12) * SS
            d.line([(x, y), (x + L * math.cos(a), y + L * math.sin(a))], fill=fc, width=SS)
    c.img.paste(layer, (0, 0), mask)
    if s["outline"]:
        c.poly(outline, outline=line_col, width=lw)


def draw_hair(c, s, cap, col, line_col, lw, sketch):
    c.poly(cap, fill=None if sketch else col, outline=line_col if (s["outline"] or sketch) else None, width=lw)


def hatching(c, s, r, outline, ink):
    """Pencil hatching on one side of the face (the hold-out sketch style's shading)."""
    n = c.n
    mask = Image.new("L", (n, n), 0)
    q = c.px(outline)
    ImageDraw.Draw(mask).polygon([tuple(v) for v in q], fill=255)
    layer = Image.new("L", (n, n), 0)
    d = ImageDraw.Draw(layer)
    x0 = q[:, 0].min() if r.random() < 0.5 else q[:, 0].max() - (q[:, 0].max() - q[:, 0].min()) * 0.3
    w = (q[:, 0].max() - q[:, 0].min()) * 0.3
    step = int(r.integers(4, 9)) * SS
    for x in range(int(x0), int(x0 + w), step):
        d.line([(x, q[:, 1].min()), (x + w * 0.5, q[:, 1].max())], fill=255, width=SS)
    layer = Image.composite(layer, Image.new("L", (n, n), 0), mask)
    c.img.paste(Image.new("RGB", (n, n), ink), (0, 0), layer.point(lambda v: v * 0.5))


def draw_features(c, s, r, pts, parts, P, line_col, lw, sketch):
    skin = s["skin"]
    # Blush and freckles.
    if s["blush"] and not sketch:
        for side in (-1, 1):
            c.poly(P(ellipse(side * (s["eye_dx"] + 0.1), s["nose_y"], 0.16, 0.09, n=24)),
                   fill=shade_colour((255, 140, 150), r.uniform(0.8, 1.0)))
    if s["freckles"]:
        for _ in range(12):
            q = P(np.array([[r.uniform(-0.6, 0.6), s["nose_y"] + r.uniform(-0.2, 0.05)]]))
            x, y = c.px(q)[0]
            d = c.lw(0.4)
            c.draw.ellipse([x - d, y - d, x + d, y + d], fill=shade_colour(skin, 0.7) if not sketch else line_col)
    # Snout (behind nose and mouth).
    if s["nose"] == "snout":
        sn = ellipse(0, (s["nose_y"] + s["mouth_y"]) / 2, max(s["mouth_w"], s["nose_w"]) + 0.15,
                     (s["mouth_y"] - s["nose_y"]) / 2 + 0.22, n=40)
        c.poly(P(sn), fill=None if sketch else shade_colour(skin, r.uniform(1.1, 1.4)),
               outline=line_col if s["outline"] else None, width=lw * 0.8)
    # Eyes.
    for e in parts["eyes"]:
        up, lo = P(e["upper"]), P(e["lower"])
        st = s["eye_style"]
        if st in ("closed", "laugh"):
            c.line(up, line_col, lw * 1.2)
            if st == "closed":
                lashes = P(e["lower"])
                c.line(lashes, line_col, lw * 0.5) if r.random() < 0.3 else None
            continue
        shape = np.vstack([up, lo[::-1]])
        if st == "dot":
            c.poly(shape, fill=(10, 10, 10) if not sketch else line_col)
            continue
        c.poly(shape, fill=(250, 250, 250) if not sketch else None)
        cen = P(np.array([e["c"] + [r.uniform(-0.3, 0.3) * s["eye_w"] / 2, 0]]))[0]
        ir = s["eye_w"] * (0.42 if st == "anime" else 0.28)
        ih = s["eye_h"] * (0.45 if st == "anime" else 0.4)
        iris = ellipse(cen[0], cen[1], ir * math.cos(s["yaw"]) ** 0.5, ih, n=30)
        # Clip the iris to the eye by drawing it on a masked layer.
        n = c.n
        m = Image.new("L", (n, n), 0)
        ImageDraw.Draw(m).polygon([tuple(v) for v in c.px(shape)], fill=255)
        layer = Image.new("RGB", (n, n), (0, 0, 0))
        ld = ImageDraw.Draw(layer)
        ld.polygon([tuple(v) for v in c.px(iris)], fill=s["iris_col"] if not sketch else (255, 255, 255))
        pup = ellipse(cen[0], cen[1], ir * 0.45, ih * 0.45, n=20)
        ld.polygon([tuple(v) for v in c.px(pup)], fill=(5, 5, 5) if not sketch else line_col)
        if st == "anime":
            hl = ellipse(cen[0] - ir * 0.3, cen[1] - ih * 0.35, ir * 0.25, ih * 0.22, n=16)
            ld.polygon([tuple(v) for v in c.px(hl)], fill=(255, 255, 255))
        im = Image.new("L", (n, n), 0)
        ImageDraw.Draw(im).polygon([tuple(v) for v in c.px(iris)], fill=255)
        m2 = Image.fromarray(np.minimum(np.asarray(m), np.asarray(im)))
        c.img.paste(layer, (0, 0), m2)
        c.line(up, line_col, lw * (2.2 if st == "anime" else 1.0))
        if st != "anime" or r.random() < 0.5:
            c.line(lo, line_col, lw * 0.6)
    # Brows.
    if s["brow"] != "none":
        k = {"thick": 2.2, "bushy": 3.0, "line": 0.9, "arch": 1.2}[s["brow"]]
        col = s["hair_col"] if (r.random() < 0.5 and not sketch) else line_col
        for b in parts["brows"]:
            c.line(P(b), col, lw * k)
    # Nose.
    nose, tip, base = s["nose"], pts[30], parts["nose_base"]
    nc = line_col
    if nose == "line":
        c.line(P(np.array([pts[28], tip, pts[33] + [s["nose_w"] * 0.5, 0]])), nc, lw * 0.8)
    elif nose == "hook":
        c.line(P(np.vstack([pts[27:31], pts[31:36][::-1]])), nc, lw * 0.8)
    elif nose == "triangle":
        c.poly(P(np.array([pts[28], pts[31], pts[35]])), fill=None if sketch else shade_colour(skin, 0.85),
               outline=nc if s["outline"] else None, width=lw * 0.7)
    elif nose == "ball":
        rr = s["nose_w"] * 0.7
        c.poly(P(ellipse(0, (tip[1] + pts[33][1]) / 2, rr, rr * 0.8, n=24)),
               fill=None if sketch else shade_colour(skin, r.uniform(0.75, 1.2)), outline=nc, width=lw * 0.7)
    elif nose == "dot":
        c.poly(P(ellipse(0, pts[33][1] - s["nose_w"] * 0.2, s["nose_w"] * 0.35, s["nose_w"] * 0.25, n=16)), fill=nc)
    elif nose == "snout":
        for i in (31, 35):
            c.poly(P(ellipse(pts[i][0] * 0.7, pts[i][1] - 0.02, s["nose_w"] * 0.2, s["nose_w"] * 0.14, n=16)), fill=nc)
        c.line(P(np.array([tip, pts[33]])), nc, lw * 0.5)
    elif nose == "beak":
        m = parts["mouth"]
        beak = np.vstack([[pts[28]], [[-s["mouth_w"] * 1.1, s["mouth_y"]]],
                          [[0, s["mouth_y"] + s["mouth_w"] * 0.9]], [[s["mouth_w"] * 1.1, s["mouth_y"]]]])
        c.poly(P(beak), fill=None if sketch else rand_colour(r, 150, 255), outline=nc, width=lw)
        c.line(P(np.vstack([m["inner_up"]])), nc, lw * 0.8)
    # Mouth.
    m = parts["mouth"]
    mo = s["mouth"]
    if mo == "beak":
        pass
    elif mo in ("line", "smile", "frown", "wide") and s["mouth_open"] == 0:
        c.line(P(m["inner_up"]), line_col, lw * 1.1)
    else:
        outer = np.vstack([P(m["outer_up"]), P(m["outer_lo"])[::-1]])
        inner = np.vstack([P(m["inner_up"]), P(m["inner_lo"])[::-1]])
        c.poly(outer, fill=None if sketch else s["lip_col"], outline=line_col, width=lw * 0.7)
        if s["mouth_open"] > 0:
            c.poly(inner, fill=(60, 10, 20) if not sketch else line_col)
            if not sketch and r.random() < 0.6:  # teeth
                iu = P(m["inner_up"])
                teeth = np.vstack([iu, iu[::-1] + [0, (P(m["inner_lo"])[20, 1] - iu[20, 1]) * 0.3]])
                c.poly(teeth, fill=(245, 245, 240))
            if not sketch and r.random() < 0.5:  # tongue
                il = P(m["inner_lo"])
                cx, cy = il[20]
                w = (il[-1, 0] - il[0, 0]) * 0.25
                c.poly(ellipse(cx, cy - w * 0.3, w, w * 0.5, n=20), fill=(220, 90, 100))
        else:
            c.line(P(m["inner_up"]), line_col, lw * 0.6)
    if s["moustache"]:
        mu = P(m["outer_up"])
        top = mu + [0, -0.09]
        c.poly(np.vstack([top, (mu + [0, -0.01])[::-1]]), fill=s["hair_col"] if not sketch else line_col)
    if s["beard"]:
        jaw = P(parts["jaw"], True)
        low = jaw[jaw[:, 1] > P(m["outer_lo"])[:, 1].max() - 0.05]
        if len(low) > 3:
            c.poly(np.vstack([low, P(m["outer_lo"])[::-1]]), fill=s["hair_col"] if not sketch else None,
                   outline=line_col, width=lw * 0.5)


def make(seed, holdout=False, small_face=False):
    """One picture and its points, from a seed (reproducible). `small_face`: the face drawn
    2–5× smaller in a larger picture (the same character otherwise: the override draws from its
    own stream), as a face in a photograph or a full-figure drawing is."""
    r = np.random.default_rng(seed)
    s = sample_spec(r, holdout=holdout)
    if small_face:
        o = np.random.default_rng([seed, 1])
        s["face_frac"] = s["face_frac"] / o.uniform(2.0, 5.0)
        s["size"] = int(o.choice([192, 256, 320]))
    img, pts = render(s, r)
    return img, pts, s


def write_pts(path, pts):
    lines = ["version: 1", "n_points: 68", "{"] + [f"{x:.3f} {y:.3f}" for x, y in pts] + ["}"]
    path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    import argparse
    from pathlib import Path

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--count", type=int, default=20)
    ap.add_argument("--holdout", action="store_true", help="only the hold-out style (sketch)")
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    for k in range(a.seed, a.seed + a.count):
        img, pts, _ = make(k, holdout=a.holdout)
        img.save(out / f"gen_{k:06d}.png")
        write_pts(out / f"gen_{k:06d}.pts", pts)
