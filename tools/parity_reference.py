#!/usr/bin/env python3
"""Reference outputs of MediaPipe / TFLite for faceshot-core's parity tests.

Run from the repository root in a venv with
`mediapipe==0.10.14 ai-edge-litert numpy opencv-python scikit-image`:

    python3 tools/parity_reference.py /path/to/mediapipe-0.10.14-*.whl

It writes, under assets/parity/:

* `astronaut.png`: a 256×256 crop of scikit-image's `astronaut` (NASA photo of Eileen
  Collins, public domain), and `astronaut_rot.png`: the same crop rotated by 25°.
* network inputs as 8-bit PNGs (the Rust tests load them, so both sides feed the networks the
  same numbers): `det_input.png` (128²), `mesh_input*.png` (192²), `eye_input*.png` (64²).
* `reference.json`: for every network input the TFLite interpreter's outputs (the reference
  runtime, XNNPACK on CPU) on the same tensors, and for both photos the detections of MediaPipe's
  face detection solution (short range) and the 468 landmarks of its face mesh solution
  (static images, no refinement), in image pixels.
"""
import json
import sys
import zipfile
from pathlib import Path

import cv2
import mediapipe as mp
import numpy as np
import skimage.data
from ai_edge_litert.interpreter import Interpreter

OUT = Path("assets/parity")
MODULES = "mediapipe/modules/"


def interpreter(wheel, member):
    with zipfile.ZipFile(wheel) as z:
        it = Interpreter(model_content=z.read(MODULES + member))
    it.allocate_tensors()
    return it


def run(it, x):
    it.set_tensor(it.get_input_details()[0]["index"], x[None].astype(np.float32))
    it.invoke()
    return [it.get_tensor(d["index"]) for d in it.get_output_details()]


def anchors():
    out = []
    for stride, per in ((8, 2), (16, 6)):
        fm = 128 // stride
        for y in range(fm):
            for x in range(fm):
                out += [((x + 0.5) / fm, (y + 0.5) / fm)] * per
    return np.array(out, np.float32)


def decode(reg, cls):
    """Box decoding + weighted NMS, as MediaPipe's face_detection_short_range graph."""
    a = anchors()
    reg = reg.reshape(896, 16) / 128.0
    scores = 1 / (1 + np.exp(-np.clip(cls.reshape(896).astype(np.float64), -100, 100)))
    dets = []
    for i in np.argsort(-scores):
        if scores[i] < 0.5:
            break
        cx, cy = reg[i, 0] + a[i, 0], reg[i, 1] + a[i, 1]
        w, h = reg[i, 2], reg[i, 3]
        kps = (reg[i, 4:].reshape(6, 2) + a[i]).tolist()
        dets.append(dict(box=[cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], score=float(scores[i]), kps=kps))

    def iou(p, q):
        ix = max(0, min(p[2], q[2]) - max(p[0], q[0]))
        iy = max(0, min(p[3], q[3]) - max(p[1], q[1]))
        inter = ix * iy
        union = (p[2] - p[0]) * (p[3] - p[1]) + (q[2] - q[0]) * (q[3] - q[1]) - inter
        return inter / union if union > 0 else 0

    out = []
    while dets:
        best = dets[0]
        group = [d for d in dets if iou(best["box"], d["box"]) > 0.3]
        dets = [d for d in dets if iou(best["box"], d["box"]) <= 0.3]
        wsum = sum(d["score"] for d in group)
        box = [sum(d["box"][k] * d["score"] for d in group) / wsum for k in range(4)]
        kps = [[sum(d["kps"][j][c] * d["score"] for d in group) / wsum for c in range(2)] for j in range(6)]
        out.append(dict(xmin=box[0], ymin=box[1], width=box[2] - box[0], height=box[3] - box[1],
                        score=best["score"], keypoints=kps))
    return out


def rotated_crop(img, cx, cy, size, angle, out, flip=False):
    """Crop a square of side `size` centred at (cx, cy), rotated by `angle` (radians)."""
    c, s = np.cos(angle), np.sin(angle)
    # output pixel (u, v) <- centre + R(angle) ((u/out - 1/2) size, (v/out - 1/2) size)
    k = size / out
    m = np.array([[c * k, -s * k, cx - (c - s) * size / 2], [s * k, c * k, cy - (s + c) * size / 2]])
    if flip:
        m = m @ np.array([[-1, 0, out - 1], [0, 1, 0], [0, 0, 1]])
    return cv2.warpAffine(img, m, (out, out), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)


def main():
    wheel = sys.argv[1]
    OUT.mkdir(parents=True, exist_ok=True)
    full = skimage.data.astronaut()
    photo = np.ascontiguousarray(full[0:256, 96:352])
    centre = (225.0 - 96, 130.0)
    rot = cv2.getRotationMatrix2D(centre, 25.0, 1.0)
    photo_rot = cv2.warpAffine(photo, rot, (256, 256), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    photos = {"astronaut": photo, "astronaut_rot": photo_rot}
    for name, im in photos.items():
        cv2.imwrite(str(OUT / f"{name}.png"), cv2.cvtColor(im, cv2.COLOR_RGB2BGR))

    det = interpreter(wheel, "face_detection/face_detection_short_range.tflite")
    mesh = interpreter(wheel, "face_landmark/face_landmark.tflite")
    eye = interpreter(wheel, "iris_landmark/iris_landmark.tflite")
    ref = {"networks": {}, "photos": {}}

    def save_input(name, arr):
        cv2.imwrite(str(OUT / f"{name}.png"), cv2.cvtColor(arr, cv2.COLOR_RGB2BGR))
        return arr.astype(np.float32)

    # Detector: the plain photo resized to 128².
    x = save_input("det_input", cv2.resize(photo, (128, 128), interpolation=cv2.INTER_AREA))
    reg, cls = run(det, x / 127.5 - 1.0)
    ref["networks"]["det_input"] = {"detections": decode(reg, cls),
                                    "max_logit": float(cls.max())}

    # Face mesh: rotated square crops around each face (side 1.5 × the detector box).
    for name, im, ang in (("mesh_input", photo, 0.0), ("mesh_input_rot", photo_rot, -np.deg2rad(25.0))):
        x = save_input(name, rotated_crop(im, 128.0 + 1.0, 132.0, 150.0, ang, 192))
        pts, flag = run(mesh, x / 255.0)
        ref["networks"][name] = {"points": pts.reshape(468, 3).tolist(), "presence_logit": float(flag.reshape(-1)[0])}

    # Eye model: the image-right eye as is, the image-left eye mirrored.
    for name, cx, cy, flip in (("eye_input", 150.0, 105.0, False), ("eye_input_flipped", 107.0, 102.0, True)):
        x = save_input(name, rotated_crop(photo, cx, cy, 60.0, 0.0, 64, flip))
        contour, iris = run(eye, x / 255.0)
        ref["networks"][name] = {"contour": contour.reshape(71, 3).tolist(), "iris": iris.reshape(5, 3).tolist()}

    # The MediaPipe solutions on the whole photos.
    fd = mp.solutions.face_detection.FaceDetection(model_selection=0, min_detection_confidence=0.5)
    fm = mp.solutions.face_mesh.FaceMesh(static_image_mode=True, max_num_faces=1, refine_landmarks=False,
                                          min_detection_confidence=0.5)
    for name, im in photos.items():
        h, w = im.shape[:2]
        r = fd.process(im)
        dets = []
        for d in r.detections or []:
            b = d.location_data.relative_bounding_box
            dets.append(dict(xmin=b.xmin * w, ymin=b.ymin * h, width=b.width * w, height=b.height * h,
                             score=d.score[0],
                             keypoints=[[k.x * w, k.y * h] for k in d.location_data.relative_keypoints]))
        m = fm.process(im)
        lms = [[p.x * w, p.y * h] for p in m.multi_face_landmarks[0].landmark] if m.multi_face_landmarks else []
        ref["photos"][name] = {"width": w, "height": h, "detections": dets, "mesh": lms}

    def rounded(v):
        if isinstance(v, (float, np.floating)):
            v = float(v)
            return round(v, 4)
        if isinstance(v, list):
            return [rounded(x) for x in v]
        if isinstance(v, dict):
            return {k: rounded(x) for k, x in v.items()}
        return v

    ref["source"] = {"mediapipe": "0.10.14", "runtime": "ai-edge-litert (TFLite, XNNPACK)",
                     "script": "tools/parity_reference.py"}
    (OUT / "reference.json").write_text(json.dumps(rounded(ref), separators=(",", ":")) + "\n")
    print({k: len(v) for k, v in ref["photos"].items()})


if __name__ == "__main__":
    main()
