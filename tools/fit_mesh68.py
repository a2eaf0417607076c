#!/usr/bin/env python3
"""Fit the 468 → 68 landmark map (models/mesh68.json) on annotated faces.

Each of the 68 points becomes an affine combination (weights sum to 1) of the K mesh vertices
nearest to it, fitted by ridge-regularised least squares (residuals in units of the face's
inter-ocular distance; the ridge pulls towards the single-vertex table). Only the fitted weights
are written; the images and annotations are read from a local folder and never committed.

    cargo run --release --example dump_mesh -- DATA/human_ibug68/*.jpg DATA/human_ibug68/*.png \
        DATA/caricature_ibug68/*.jpg > meshes.jsonl
    python3 tools/fit_mesh68.py meshes.jsonl models/mesh68.json

Annotations sit next to each image (`.pts`, 1-based 300-W convention, or `.txt`, 68 lines
`x y`). The script prints the normalised mean error (NME, inter-ocular) of the single-vertex
table and of the fitted map, the latter by leave-one-out over the human faces (each human
face is scored with weights fitted without it). The shipped map is fitted on the human faces
only: adding the caricatures (exaggerated shapes) made the human-face error worse.
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
    print(f"{name}: NME {errs.mean():.4f} (per face {', '.join(f'{e:.4f}' for e in errs.mean(1))}; {parts})")


def main():
    meshes, out = sys.argv[1], sys.argv[2]
    table = single_vertex_table()
    human, other = [], []
    for line in open(meshes):
        d = json.loads(line)
        if d["mesh"] is None:
            print(f"skipped (no face): {d['image']}")
            continue
        face = (np.array(d["mesh"], float), load_gt(d["image"]))
        (human if "human" in d["image"] else other).append(face)
    print(f"{len(human)} human faces, {len(other)} other annotated faces")
    single = [nme(np.array([m[v] for v in table]), g) for m, g in human]
    report("single-vertex table, human faces", single)
    for label, extra in (("humans only", []), ("humans + caricatures", other)):
        loo = []
        for i, (m, g) in enumerate(human):
            terms = fit([f for k, f in enumerate(human) if k != i] + extra, table)
            loo.append(nme(apply(terms, m), g))
        report(f"fitted ({label}), leave-one-out on human faces", loo)
    if other:
        single_o = [nme(np.array([m[v] for v in table]), g) for m, g in other]
        report("single-vertex table, caricatures", single_o)
        loo_o = []
        for i, (m, g) in enumerate(other):
            terms = fit(human + [f for k, f in enumerate(other) if k != i], table)
            loo_o.append(nme(apply(terms, m), g))
        report("fitted (all), leave-one-out on caricatures", loo_o)
    # Adding the caricatures makes the human-face error worse (see the report), so the shipped
    # map is fitted on the human faces only.
    terms = fit(human, table)
    Path(out).write_text(json.dumps({
        "about": "468->68 map fitted by tools/fit_mesh68.py: each point = sum(weight * mesh vertex)",
        "k": K, "lambda": LAMBDA, "faces": len(human),
        "landmarks": [[[v, round(w, 5)] for v, w in t] for t in terms]}) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
