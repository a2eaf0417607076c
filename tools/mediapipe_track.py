#!/usr/bin/env python3
"""MediaPipe's face mesh (the reference runtime) on a video, for faceshot-core's track bench.

    python3 tools/mediapipe_track.py VIDEO OUT.json [--refine]

Decodes every frame first (OpenCV), then times MediaPipe FaceMesh in tracking mode
(static_image_mode=False, one face, default confidences) over the decoded frames, and writes
`{"fps_tracking": …, "seconds": …, "frames": [[[x, y], … 468] or null, …]}` in pixels.
Needs `mediapipe==0.10.14 opencv-python`.
"""
import json
import sys
import time

import cv2
import mediapipe as mp


def main():
    video, out = sys.argv[1], sys.argv[2]
    refine = "--refine" in sys.argv
    cap = cv2.VideoCapture(video)
    frames = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    mesh = mp.solutions.face_mesh.FaceMesh(static_image_mode=False, max_num_faces=1,
                                           refine_landmarks=refine)
    results = []
    t0 = time.perf_counter()
    for f in frames:
        results.append(mesh.process(f))
    secs = time.perf_counter() - t0
    pts = []
    for f, r in zip(frames, results):
        h, w = f.shape[:2]
        if r.multi_face_landmarks:
            pts.append([[p.x * w, p.y * h] for p in r.multi_face_landmarks[0].landmark[:468]])
        else:
            pts.append(None)
    json.dump({"fps_tracking": len(frames) / secs, "seconds": secs, "frames": pts}, open(out, "w"))


if __name__ == "__main__":
    main()
