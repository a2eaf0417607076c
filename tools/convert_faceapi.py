#!/usr/bin/env python3
"""Convert face-api.js's 68-point face landmark net to safetensors for faceshot-core.

Usage (from the repository root, in a venv with `numpy safetensors`):

    npm pack @vladmandic/face-api@1.7.15 && mkdir -p faceapi && tar xzf vladmandic-face-api-1.7.15.tgz -C faceapi
    python3 tools/convert_faceapi.py faceapi/package/model models/landmark68.safetensors

The npm package holds the TensorFlow.js weights `model/face_landmark_68_model.bin` and their
manifest; each tensor is stored as uint8 with a per-tensor `scale` and `min`. The weights are
dequantised exactly as TensorFlow.js does (`q * scale + min` in double precision, rounded once
to f32) and renamed into the layouts faceshot-core's layers load:

    denseK/conv0/filters [3,3,I,O]            -> denseK/conv0/Kernel [O,3,3,I] (+ /Bias)
    denseK/convJ/depthwise_filter [3,3,C,1]   -> denseK/convJ/depthwise/Kernel [1,3,3,C] (+ zero /Bias)
    denseK/convJ/pointwise_filter [1,1,I,O]   -> denseK/convJ/pointwise/Kernel [O,1,1,I]
    denseK/convJ/bias [O]                     -> denseK/convJ/pointwise/Bias
    fc/weights [256,136], fc/bias [136]       -> fc/Kernel [136,1,1,256], fc/Bias

The graph itself is written out in `core/src/nn/landmark68.rs`.
"""
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file

STEM = "face_landmark_68_model"


def read_tfjs(folder: Path):
    manifest = json.loads((folder / f"{STEM}-weights_manifest.json").read_text())
    raw = (folder / f"{STEM}.bin").read_bytes()
    data = np.frombuffer(raw, dtype=np.uint8)
    out, offset = {}, 0
    for group in manifest:
        for w in group["weights"]:
            q = w["quantization"]
            if q["dtype"] != "uint8" or w["dtype"] != "float32":
                raise SystemExit(f"{w['name']}: unexpected dtype {w['dtype']}/{q['dtype']}")
            n = int(np.prod(w["shape"]))
            values = data[offset:offset + n].astype(np.float64) * q["scale"] + q["min"]
            out[w["name"]] = values.astype(np.float32).reshape(w["shape"])
            offset += n
    if offset != len(data):
        raise SystemExit(f"manifest covers {offset} of {len(data)} bytes")
    return out, raw


def convert(w):
    t = {}
    for k in range(4):
        p = f"dense{k}"
        if k == 0:
            t[f"{p}/conv0/Kernel"] = w[f"{p}/conv0/filters"].transpose(3, 0, 1, 2)
            t[f"{p}/conv0/Bias"] = w[f"{p}/conv0/bias"]
        for j in range(1 if k == 0 else 0, 4):
            c = f"{p}/conv{j}"
            dw = w[f"{c}/depthwise_filter"]
            t[f"{c}/depthwise/Kernel"] = dw.transpose(3, 0, 1, 2)
            t[f"{c}/depthwise/Bias"] = np.zeros(dw.shape[2], np.float32)
            t[f"{c}/pointwise/Kernel"] = w[f"{c}/pointwise_filter"].transpose(3, 0, 1, 2)
            t[f"{c}/pointwise/Bias"] = w[f"{c}/bias"]
    t["fc/Kernel"] = w["fc/weights"].T.reshape(136, 1, 1, 256)
    t["fc/Bias"] = w["fc/bias"]
    return {k: np.ascontiguousarray(v) for k, v in t.items()}


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    folder, dest = Path(sys.argv[1]), Path(sys.argv[2])
    weights, raw = read_tfjs(folder)
    save_file(convert(weights), str(dest), metadata={
        "source": f"@vladmandic/face-api 1.7.15 model/{STEM}.bin (face-api.js, MIT)",
        "source_sha256": hashlib.sha256(raw).hexdigest(),
    })
    print(dest, hashlib.sha256(dest.read_bytes()).hexdigest())


if __name__ == "__main__":
    main()
