"""``POST /skelext/v1/detect`` with a real detector: BlazePose (mediapipe, offline) on the
bundled hips-up photo, completed by the real ``complete.py``.

Runs in .venv only: mediapipe is not part of the Forge-like environment.
"""
from __future__ import annotations

import base64
from pathlib import Path

import numpy as np

from api_client import Client
from lib_skelext.api import create_app
from test_api import decode_png, tiny_model  # noqa: F401  (autouse fixture: a tiny completion model)

PHOTO = Path(__file__).resolve().parents[1] / "examples" / "coco_000000000785_crop_hipsup.jpg"


def test_detect_with_blazepose_completes_the_legs():
    c = Client(create_app(auth="u:p"))
    image = base64.b64encode(PHOTO.read_bytes()).decode()
    r = c.post("/skelext/v1/detect", json={"image": image, "detector": "blazepose", "resolution": 384},
               auth=("u", "p"))
    assert r.status_code == 200, r.text[:300]
    out = r.json()
    assert out["completion_failed"] is False and len(out["pose"]["people"]) == 1
    detected = np.array(out["detected"]["people"][0]["pose_keypoints_2d"]).reshape(18, 3)
    completed = np.array(out["pose"]["people"][0]["pose_keypoints_2d"]).reshape(18, 3)
    assert detected[1, 2] > 0 and (detected[[10, 13], 2] == 0).all()  # neck seen, ankles cut off
    assert (completed[[10, 13], 2] > 0).all() and out["completed_points"] >= 2
    assert (completed[[10, 13], 1] > detected[1, 1]).all()  # ankles below the neck
    control = decode_png(out["image"])
    assert min(control.shape[:2]) == 384 and control.any()
