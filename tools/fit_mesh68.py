#!/usr/bin/env python3
"""Fit the 468 → 68 landmark map (models/mesh68.json) on faces with 68-point targets.

Each of the 68 points becomes an affine combination (weights sum to 1) of the K mesh vertices
nearest to it, fitted by ridge-regularised least squares (residuals in units of the face's
inter-ocular distance; the ridge pulls towards the single-vertex table). Only the fitted weights
are written. The targets are face-api.js's readings of frames of LivePortrait's MIT driving
clips (`tools/mesh68_targets.py`: the iBUG convention that network was trained on), never the
team's evaluation data:

    T=target/train-data/teacher; VENV=~/.cache/faceshot/train-venv
    $VENV/bin/python tools/mesh68_targets.py target/mesh68/fit --every 4 \
        --clip $T/frames_d9 $T/d9.json ... --clip $T/frames_d14 $T/d14.json
    $VENV/bin/python tools/mesh68_targets.py target/mesh68/holdout --every 5 --clip $T/frames_d20 $T/d20.json
    cargo run --release -p faceshot-core --example dump_mesh -- target/mesh68/*/*.png > target/mesh68/meshes.jsonl
    python3 tools/fit_mesh68.py target/mesh68/meshes.jsonl models/mesh68.json

Targets sit next to each image (`.pts`, 1-based 300-W convention, or `.txt`, 68 lines `x y`).
Faces under a folder named `holdout` are only scored: the script prints the normalised mean
error (NME, inter-ocular) of the single-vertex table and of the fitted map on the faces fitted
on and on the held-out ones.
"""
import json
import re
import sys
from pathlib import Path

import numpy as np

SRC = Path(__file__).resolve().parent.parent / "core/src/track/mapping.rs"
K = 5
LAMBDA = 0.05
PARTS = {"jaw": range(0, 17), "brows": range(17, 27), "nose": range(27, 36), "eyes": range(36, 48),
         "mouth": range(48, 68)}


def single_vertex_table():
    src = SRC.read_text()
    body = src[src.index("pub const SINGLE_VERTEX"):]
    body = body[body.index("= [") + 3:body.index("];")]
    nums = [int(x) for x in re.findall(r"\b\d+\b", re.sub(r"//[^\n]*", "", body))]
    assert len(nums) == 68
    return nums


def load_gt(image):
    p = Path(image)
    if p.with_suffix(".pts").exists():
        lines = p.with_suffix(".pts").read_text().split("{")[1].split("}")[0].split()
        return np.array(lines, float).reshape(68, 2) - 1.0
    return np.loadtxt(p.with_suffix(".txt")).reshape(68, 2)


def nme(pred, gt):
    io = np.linalg.norm(gt[36] - gt[45])
    return np.linalg.norm(pred - gt, axis=1) / io


def fit(faces, table):
    """faces: list of (mesh 468x2, gt 68x2). Returns per-landmark [(vertex, weight)]."""
    # Candidates: nearest vertices to the annotated point, in inter-ocular units averaged over faces.
    terms = []
    for j in range(68):
        d = np.zeros(468)
        for mesh, gt in faces:
            io = np.linalg.norm(gt[36] - gt[45])
            d += np.linalg.norm(mesh - gt[j], axis=1) / io
        cand = list(np.argsort(d)[:K])
        if table[j] not in cand:
            cand[-1] = table[j]
        w0 = np.array([1.0 if c == table[j] else 0.0 for c in cand])
        # Stack x and y residuals of every face: A w ~ b, scaled by 1/io.
        rows, rhs = [], []
        for mesh, gt in faces:
            io = np.linalg.norm(gt[36] - gt[45])
            for c in range(2):
                rows.append(mesh[cand, c] / io)
                rhs.append(gt[j, c] / io)
        a, b = np.array(rows), np.array(rhs)
        # min |A w - b|^2 + LAMBDA |w - w0|^2  s.t. 1'w = 1  (KKT system)
        n = len(cand)
        kkt = np.zeros((n + 1, n + 1))
        kkt[:n, :n] = a.T @ a + LAMBDA * np.eye(n)
        kkt[:n, n] = 1
        kkt[n, :n] = 1
        sol = np.linalg.solve(kkt, np.concatenate([a.T @ b + LAMBDA * w0, [1.0]]))
        w = sol[:n]
        terms.append([(int(c), float(x)) for c, x in zip(cand, w) if abs(x) > 1e-4])
        s = sum(x for _, x in terms[-1])
        terms[-1] = [(c, x / s) for c, x in terms[-1]]
    return terms


def apply(terms, mesh):
    return np.array([sum(w * mesh[v] for v, w in t) for t in terms])


def report(name, errs):
    errs = np.array(errs)
    parts = ", ".join(f"{p} {errs[:, list(r)].mean():.4f}" for p, r in PARTS.items())
    print(f"{name}: NME {errs.mean():.4f} over {len(errs)} faces ({parts})")


def main():
    meshes, out = sys.argv[1], sys.argv[2]
    table = single_vertex_table()
    fitted_on, held_out = [], []
    for line in open(meshes):
        d = json.loads(line)
        if d["mesh"] is None:
            print(f"skipped (no face): {d['image']}")
            continue
        face = (np.array(d["mesh"], float), load_gt(d["image"]))
        (held_out if "holdout" in Path(d["image"]).parts else fitted_on).append(face)
    print(f"{len(fitted_on)} faces to fit on, {len(held_out)} held out")
    terms = fit(fitted_on, table)
    for name, faces in (("fitted on", fitted_on), ("held out", held_out)):
        if faces:
            report(f"single-vertex table, {name}", [nme(np.array([m[v] for v in table]), g) for m, g in faces])
            report(f"fitted map, {name}", [nme(apply(terms, m), g) for m, g in faces])
    Path(out).write_text(json.dumps({
        "about": "468->68 map fitted by tools/fit_mesh68.py: each point = sum(weight * mesh vertex)",
        "k": K, "lambda": LAMBDA, "faces": len(fitted_on),
        "landmarks": [[[v, round(w, 5)] for v, w in t] for t in terms]}) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
