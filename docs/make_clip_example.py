"""Make ``examples/clip/``: 40 consecutive frames of a real video, cut below the knees, as OpenPose JSON.

    .venv/bin/python docs/make_clip_example.py [--video ../shared/videos/sports2d_demo.mp4]

Source: sports2d_demo.mp4 (BSD-3-Clause, (c) 2022 perfanalytics / David Pagnon; see
examples/ATTRIBUTION.md): frames 60-99, the man on the box (jumping), cropped so the frame's bottom edge
runs below his knees; BlazePose (mediapipe, offline) on each crop, no completion.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from lib_skelext.core import process_image  # noqa: E402
from lib_skelext.detectors import get_detector  # noqa: E402
from lib_skelext.sequence.video_io import read_video  # noqa: E402
from lib_skelext.settings import PipelineSettings  # noqa: E402

#: (x0, y0, x1, y1) of the crop in the 1768x994 frames: the man on the box, bottom edge below his knees
CROP = (420, 40, 860, 390)
FIRST, COUNT = 60, 40


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", default=os.path.join(ROOT, "..", "shared", "videos", "sports2d_demo.mp4"))
    parser.add_argument("--out", default=os.path.join(ROOT, "examples", "clip"))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    x0, y0, x1, y1 = CROP
    settings = PipelineSettings(detector="blazepose", complete=False, resolution=y1 - y0)
    detector = get_detector("blazepose")
    for index, image in enumerate(read_video(args.video)):
        if index < FIRST:
            continue
        if index >= FIRST + COUNT:
            break
        result = process_image(image[y0:y1, x0:x1], settings, detector=detector, draw=False)
        with open(os.path.join(args.out, f"frame_{index:03d}.json"), "w", encoding="utf-8") as f:
            json.dump(result.to_dict(), f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
