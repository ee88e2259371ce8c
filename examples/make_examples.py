"""Regenerate the bundled example pose JSON files from real ground truth.

``waist_up.json``: the skier of COCO val2017 image 785 (Flickr 6795644157,
CC BY 2.0, via mmpose's test data), cut to the photo crop
``coco_000000000785_crop_hipsup.jpg`` (rows 20:225, columns 250:520): the
COCO-WholeBody ground truth, shifted into the crop, with every point outside
the crop removed, written as DWPose's OpenPose JSON (present points [x, y, 1],
missing [0, 0, 0]). ``full_body.json`` is the same person uncropped, the
ground truth to compare a completion with.

Run from the repository root: ``python examples/make_examples.py``.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lib_skelext.openpose_json import dumps_frame  # noqa: E402
from lib_skelext.pose import PoseFrame, person_from_wholebody133  # noqa: E402

SHARED = Path(os.environ.get("SKELEXT_SHARED", ROOT.parent / "shared"))
CROP_Y0, CROP_Y1, CROP_X0, CROP_X1 = 20, 225, 250, 520


def wholebody_133(annotation: dict) -> np.ndarray:
    parts = [annotation["keypoints"], annotation["foot_kpts"], annotation["face_kpts"],
             annotation["lefthand_kpts"], annotation["righthand_kpts"]]
    points = np.concatenate([np.asarray(p, dtype=np.float64).reshape(-1, 3) for p in parts])
    points[:, 2] = (points[:, 2] > 0).astype(np.float64)  # labelled -> score 1, as DWPose writes
    return points


def main() -> None:
    doc = json.loads((SHARED / "photos" / "coco_test_coco_wholebody.json").read_text())
    annotation = next(a for a in doc["annotations"] if a["image_id"] == 785)
    points = wholebody_133(annotation)
    full = PoseFrame([person_from_wholebody133(points, threshold=0.5)], 640, 425, animals=[])
    cropped = points.copy()
    cropped[:, 0] -= CROP_X0
    cropped[:, 1] -= CROP_Y0
    width, height = CROP_X1 - CROP_X0, CROP_Y1 - CROP_Y0
    outside = (cropped[:, 0] < 0) | (cropped[:, 1] < 0) | (cropped[:, 0] >= width) | (cropped[:, 1] >= height)
    cropped[outside] = 0.0
    crop = PoseFrame([person_from_wholebody133(cropped, threshold=0.5)], width, height, animals=[])
    out = ROOT / "examples"
    (out / "waist_up.json").write_text(dumps_frame(crop) + "\n")
    (out / "full_body.json").write_text(dumps_frame(full) + "\n")
    print(f"wrote {out / 'waist_up.json'} ({int(crop.people[0].present.sum())} of 18 body points present)")


if __name__ == "__main__":
    main()
