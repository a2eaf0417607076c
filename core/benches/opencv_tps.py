"""OpenCV's thin-plate-spline warp on the frames the `animate` bench renders (for the speed ratio).

Usage: python3 opencv_tps.py CHARACTER.png FRAMES.json
FRAMES.json holds {"rest": [[x, y] * 68], "frames": [[[x, y] * 68], ...]}. For every frame the
spline is estimated from the rest landmarks plus 8 fixed border points (76 control points) and
the image is warped with warpImage; prints "ms_per_frame <value>".
"""

import json
import sys
import time

import cv2
import numpy as np


def main() -> None:
    image = cv2.imread(sys.argv[1], cv2.IMREAD_UNCHANGED)
    with open(sys.argv[2], encoding="utf-8") as f:
        doc = json.load(f)
    h, w = image.shape[:2]
    border = [[0, 0], [w / 2, 0], [w - 1, 0], [0, h / 2], [w - 1, h / 2], [0, h - 1], [w / 2, h - 1], [w - 1, h - 1]]
    rest = np.array(doc["rest"] + border, np.float32).reshape(1, -1, 2)
    matches = [cv2.DMatch(i, i, 0) for i in range(rest.shape[1])]
    frames = [np.array(fr + border, np.float32).reshape(1, -1, 2) for fr in doc["frames"]]
    tps = cv2.createThinPlateSplineShapeTransformer()
    start = time.perf_counter()
    for target in frames:
        # warpImage maps with the inverse of the estimated transform: estimate target -> rest.
        tps.estimateTransformation(target, rest, matches)
        tps.warpImage(image)
    elapsed = time.perf_counter() - start
    print(f"ms_per_frame {elapsed * 1e3 / len(frames):.2f}")


if __name__ == "__main__":
    main()
