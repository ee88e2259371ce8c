"""ComfyUI's ``POSE_KEYPOINT`` <-> skelext frames.

``POSE_KEYPOINT`` is comfyui_controlnet_aux's contract: a Python list with one OpenPose
dict per image (``people[].pose_keypoints_2d`` flat ``[x, y, c]``, missing points
``[0, 0, 0]``, face/hands may be ``None``, ``canvas_width``/``canvas_height``). Its
DWPose node writes pixels, its OpenPose node 0..1, and its drawing (``is_normalized``)
reads a pose as 0..1 only when every point with c >= 1 lies within 0..1.

Unit rule: **skelext's nodes read either and always write pixels.** Input units are
guessed per frame by ``openpose_json`` (0..1 when every present coordinate lies in
[-1, 2]). Completed points of a 0..1 pose often fall outside the canvas (legs below a
waist-up frame); written as 0..1 they would make ``is_normalized`` read the whole pose
as pixels, so everything is written in pixels, where no reader's guess can flip.
"""
from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ..errors import SkelextError
from ..openpose_json import frame_to_dict, frames_from_json, parse_json
from ..pose import PoseFrame


def frames_from_pose_keypoint(value: Any, what: str = "pose_keypoint") -> List[PoseFrame]:
    """POSE_KEYPOINT (a list of OpenPose dicts; one dict or JSON text accepted too) -> frames (pixels).

    Raises one SkelextError naming the bad frame (``pose_keypoint: frame 3: ...``).
    """
    if value is None:
        raise SkelextError(f"{what}: nothing connected")
    if isinstance(value, tuple):
        value = list(value)
    try:
        if isinstance(value, (str, bytes)):
            value = parse_json(value)
        frames, _ = frames_from_json(value)
    except SkelextError as exc:
        raise SkelextError(f"{what}: {exc}") from None
    return frames


def pose_keypoint_from_frames(frames: Sequence[PoseFrame],
                              canvas_size: Optional[Tuple[int, int]] = None) -> List[Dict[str, Any]]:
    """Frames -> POSE_KEYPOINT, in pixels (the unit rule above). canvas_size (width, height)
    overrides every frame's canvas (a batch padded to one image size)."""
    out = []
    for frame in frames:
        doc = frame_to_dict(frame, normalized=False)
        if canvas_size is not None:
            doc["canvas_width"], doc["canvas_height"] = int(canvas_size[0]), int(canvas_size[1])
        out.append(doc)
    return out


def ui_json(poses: List[Dict[str, Any]]) -> Dict[str, List[str]]:
    """The node's ``ui`` entry, as comfyui_controlnet_aux's pose nodes show it."""
    return {"openpose_json": [json.dumps(poses, indent=4, allow_nan=False)]}
