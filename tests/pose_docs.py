"""Pose documents for tests: the same pose in other units."""
from __future__ import annotations

import copy
from typing import Any, Dict


def normalized(doc: Dict[str, Any]) -> Dict[str, Any]:
    """The same pose in 0..1 units of its canvas (as comfyui_controlnet_aux's OpenPose node writes)."""
    out = copy.deepcopy(doc)
    w, h = doc["canvas_width"], doc["canvas_height"]
    for person in out["people"]:
        for key, value in person.items():
            if isinstance(value, list) and key.endswith("_2d"):
                person[key] = [v / (w if i % 3 == 0 else h) if i % 3 < 2 else v for i, v in enumerate(value)]
    return out
