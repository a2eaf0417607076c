"""Parity of the TensorFlow net (`faceapi_net.py`) with TensorFlow.js and the Rust net.

`assets/parity/landmark68_reference.json` holds face-api.js's outputs on
`assets/parity/landmark68_input.png` and its mirror image (TensorFlow.js 4.22.0); the Rust net
agrees with them within 0.01 px (`core/tests/nn_parity.rs`). This checks our training graph the
same way on the shipped weights, and that a save → load round trip is exact.

    python tools/train/parity.py
"""
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image
from safetensors.numpy import load_file

import faceapi_net as net

ROOT = Path(__file__).resolve().parents[2]


def max_error_px(model, ref, img):
    out = model(np.stack([img, img[:, ::-1]])).numpy().reshape(2, -1)
    return max(
        float(np.max(np.abs(row - np.array(ref[key], np.float32)))) * net.SIZE
        for row, key in zip(out, ["output", "output_mirrored_input"])
    )


def main():
    weights = ROOT / "models/landmark68.safetensors"
    ref = json.loads((ROOT / "assets/parity/landmark68_reference.json").read_text())
    img = np.asarray(Image.open(ROOT / "assets/parity" / ref["input"]).convert("RGB"), np.float32) / 255.0
    model = net.Landmark68(str(weights))
    err = max_error_px(model, ref, img)
    print(f"TensorFlow graph vs TensorFlow.js: max error {err:.5f} px (112² crop)")
    if err > 0.01:
        sys.exit(f"parity FAILED: {err} px")
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "x.safetensors"
        model.save(str(out))
        a, b = load_file(str(weights)), load_file(str(out))
        if sorted(a) != sorted(b) or any(a[k].shape != b[k].shape or not np.array_equal(a[k], b[k]) for k in a):
            sys.exit("round trip FAILED: names, shapes or values differ")
    print("parity ok; save → load round trip exact")


if __name__ == "__main__":
    main()
