"""Input specs the ComfyUI nodes share (types, ranges, defaults and tooltips from ``settings.OPTIONS``)."""
from __future__ import annotations

from typing import Any, Dict, Tuple

from ..settings import OPTIONS

CATEGORY = "skelext"
POSE = "POSE_KEYPOINT"
POSE_TOOLTIP = ("OpenPose keypoints, one dict per frame (comfyui_controlnet_aux's POSE_KEYPOINT; "
                "pixels or 0..1)")
POSE_OUT_TOOLTIP = "the poses, one OpenPose dict per frame, in pixels (skelext always writes pixels)"


def option_input(name: str, **override: Any) -> Tuple[Any, Dict[str, Any]]:
    """A ComfyUI input spec built from ``settings.OPTIONS[name]`` (type, range, default, tooltip)."""
    spec = OPTIONS[name]
    extra: Dict[str, Any] = {"default": spec.default, "tooltip": spec.help}
    if spec.kind == "choice":
        kind: Any = list(spec.choices)
    elif spec.kind == "bool":
        kind = "BOOLEAN"
    else:
        kind = "INT" if spec.kind == "int" else "FLOAT"
        step = spec.step if spec.step is not None else (1 if spec.kind == "int" else 0.01)
        extra.update(min=spec.minimum, max=spec.maximum, step=step)
        if spec.kind == "int":
            extra.update(min=int(spec.minimum), max=int(spec.maximum), step=int(step))
    extra.update(override)
    return (kind, extra)


#: A batch that is one video: its frame rate (for bridge_gap in seconds).
FPS_INPUT = ("FLOAT", {"default": 30.0, "min": 1.0, "max": 1000.0, "step": 0.01,
                       "tooltip": "sequence on: the video's frame rate (e.g. from Get Video Components), "
                                  "which turns bridge_gap seconds into frames"})
