#!/usr/bin/env python3
"""Targets for fitting the 468 → 68 map (`tools/fit_mesh68.py`) without annotated pictures.

face-api.js's 68-point network (`models/landmark68.safetensors`, MIT) was trained on human
iBUG 68-point annotations, so its reading of a real face carries that convention. For every
N-th frame of the permissively licensed clips given (LivePortrait's MIT driving clips, as
`tools/train/run.sh` extracts them), the network reads a crop placed by the tracker's points
(`faceshot detect --no-smoothing`), the crop and its mirror image averaged, and the frame is
written beside its target (`.txt`, 68 lines `x y`) for `dump_mesh` and `fit_mesh68.py`.

    VENV=~/.cache/faceshot/train-venv
    $VENV/bin/python tools/mesh68_targets.py OUT --every 4 \
        --clip target/teacher/frames_d9 target/teacher/d9.json [...]

Run with the training venv (TensorFlow, `tools/train/`).
"""
import argparse
import shutil
import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent / "train"))
import faceapi_net  # noqa: E402
from make_data import crop_rect  # noqa: E402
from real_faces import load_clip  # noqa: E402
from tune_infer import run_pass  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir", help="output folder: frames (PNG) and their targets (.txt)")
    ap.add_argument("--clip", nargs=2, action="append", metavar=("FRAMES", "TRACK"), required=True,
                    help="a folder of PNG frames and its `faceshot detect` track")
    ap.add_argument("--every", type=int, default=10, help="use every N-th frame")
    a = ap.parse_args()
    out = Path(a.dir)
    out.mkdir(parents=True, exist_ok=True)
    model = faceapi_net.Landmark68(str(ROOT / "models/landmark68.safetensors"))
    n = 0
    for frames, track in a.clip:
        name = Path(frames).name.removeprefix("frames_")
        for frame, pts in load_clip(frames, track, a.every):
            img = Image.open(frame).convert("RGB")
            direct, mirrored = run_pass(model, img, crop_rect(pts))
            target = out / f"{name}_{frame.stem}.png"
            shutil.copyfile(frame, target)
            np.savetxt(target.with_suffix(".txt"), (direct + mirrored) / 2, fmt="%.3f")
            n += 1
    print(f"{n} frames with targets in {out}")


if __name__ == "__main__":
    main()
