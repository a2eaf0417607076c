#!/usr/bin/env python3
"""Convert MediaPipe's face .tflite models to safetensors for faceshot-core's candle networks.

Usage (from the repository root, in a venv with `tflite numpy safetensors`):

    pip download --no-deps mediapipe==0.10.14 --platform manylinux_2_17_x86_64 --python-version 3.11 -d wheels
    python3 tools/convert_mediapipe.py wheels/mediapipe-0.10.14-*.whl models/

The wheel is a zip; the three models are read straight out of it:

    mediapipe/modules/face_detection/face_detection_short_range.tflite -> models/face_detector.safetensors
    mediapipe/modules/face_landmark/face_landmark.tflite               -> models/face_mesh.safetensors
    mediapipe/modules/iris_landmark/iris_landmark.tflite               -> models/iris.safetensors

Every constant tensor feeding a CONV_2D, DEPTHWISE_CONV_2D or PRELU op is written under its TFLite
tensor name (the `_dequantize` suffix dropped), in the layout TFLite stores it (conv kernels
O x kh x kw x I, depthwise kernels 1 x kh x kw x C, PReLU alphas 1 x 1 x C) and in the dtype the
file stores it (fp16 weights stay fp16: the runtime dequantises them to fp32 exactly). The Rust
model structs name these tensors explicitly; the graph topology lives there, not here. The script
also checks that the graph uses no op outside the small set the Rust side implements.
"""
import hashlib
import json
import sys
import zipfile
from pathlib import Path

import numpy as np
import tflite
from safetensors.numpy import save_file

MODELS = {
    "mediapipe/modules/face_detection/face_detection_short_range.tflite": "face_detector.safetensors",
    "mediapipe/modules/face_landmark/face_landmark.tflite": "face_mesh.safetensors",
    "mediapipe/modules/iris_landmark/iris_landmark.tflite": "iris.safetensors",
}
SUPPORTED = {"CONV_2D", "DEPTHWISE_CONV_2D", "PRELU", "RELU", "ADD", "MAX_POOL_2D", "PAD",
             "RESHAPE", "CONCATENATION", "DEQUANTIZE"}
OP_NAMES = {v: k for k, v in tflite.BuiltinOperator.__dict__.items() if not k.startswith("_")}
DTYPES = {tflite.TensorType.FLOAT32: np.float32, tflite.TensorType.FLOAT16: np.float16}


def tensor_array(model, graph, index):
    t = graph.Tensors(index)
    buf = model.Buffers(t.Buffer()).DataAsNumpy()
    if isinstance(buf, int) or buf.size == 0:
        return None
    return np.frombuffer(buf.tobytes(), dtype=DTYPES[t.Type()]).reshape(t.ShapeAsNumpy())


def convert(data: bytes):
    model = tflite.Model.GetRootAsModel(data, 0)
    graph = model.Subgraphs(0)
    producers = {}
    ops = []
    for i in range(graph.OperatorsLength()):
        op = graph.Operators(i)
        code = model.OperatorCodes(op.OpcodeIndex())
        name = OP_NAMES[max(code.BuiltinCode(), code.DeprecatedBuiltinCode())]
        if name not in SUPPORTED:
            raise SystemExit(f"unsupported op {name}")
        ops.append((name, op))
        for o in op.OutputsAsNumpy():
            producers[int(o)] = (name, op)
    weights = {}
    for name, op in ops:
        if name not in ("CONV_2D", "DEPTHWISE_CONV_2D", "PRELU"):
            continue
        for idx in op.InputsAsNumpy()[1:]:
            idx = int(idx)
            src = idx
            if idx in producers and producers[idx][0] == "DEQUANTIZE":
                src = int(producers[idx][1].InputsAsNumpy()[0])
            arr = tensor_array(model, graph, src)
            if arr is None:
                raise SystemExit(f"weight tensor {idx} has no constant buffer")
            tname = graph.Tensors(idx).Name().decode().removesuffix("_dequantize")
            weights[tname] = np.ascontiguousarray(arr)
    return weights


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    wheel, out_dir = Path(sys.argv[1]), Path(sys.argv[2])
    out_dir.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as z:
        for member, out_name in MODELS.items():
            data = z.read(member)
            weights = convert(data)
            meta = {
                "source": f"{wheel.name}:{member}",
                "source_sha256": hashlib.sha256(data).hexdigest(),
                "licence": "Apache-2.0",
            }
            out = out_dir / out_name
            save_file(weights, str(out), metadata=meta)
            digest = hashlib.sha256(out.read_bytes()).hexdigest()
            n = sum(w.size for w in weights.values())
            print(json.dumps({"file": out_name, "tensors": len(weights), "params": int(n),
                              "sha256": digest, **meta}))


if __name__ == "__main__":
    main()
