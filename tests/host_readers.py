"""How the hosts read pose JSON, re-implemented from their sources (not from skelext's reader).

Tests read skelext's output through these, so a pose counts as right only when the programs that
consume it read it as meant. Each reader names the file and version it was written from:

* ``controlnet_decode`` / ``controlnet_draw``: sd-webui-controlnet v1.1.455 (56cec5b2),
  ``annotator/openpose/__init__.py`` ``decode_json_as_poses`` (a point with ``c < 1.0`` is None)
  and ``draw_poses`` with ``annotator/openpose/util.py`` ``draw_bodypose`` / ``draw_handpose`` /
  ``draw_facepose`` (each part is read as 0..1 when ``is_normalized``: every present point has
  ``|x| <= 1`` and ``|y| <= 1``; otherwise pixels). This is what the JSON upload, *Preview as
  Input* and ``POST /controlnet/render_openpose_json`` do. Forge dfdcbab6 carries the same files.
* ``aux_render``: comfyui_controlnet_aux v1.1.5 (e8b689a), ``node_wrappers/pose_keypoint_postprocess.py``
  ``RenderPeopleKps.render`` (a list: only its first frame), ``src/custom_controlnet_aux/dwpose/__init__.py``
  ``decode_json_as_poses`` (the same c < 1.0 rule) and ``dwpose/util.py`` (the same drawing as
  ControlNet's at these versions; ``xinsr_stick_scaling`` off, as the node calls it).
* ``editor_visible``: huchenlei/sd-webui-openpose-editor (0026f45), ``src/App.vue``
  ``parseOpenposeJson`` (a part's flat list is 0..1 when every number in it, confidences
  included, has ``|n| <= 1``) and ``src/Openpose.ts`` (a keypoint is visible when ``x > 0``,
  ``y > 0`` and ``confidence === 1.0``).
"""
from __future__ import annotations

import colorsys
import math
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

Keypoint = Tuple[float, float]
PART_KEYS = ("pose_keypoints_2d", "hand_left_keypoints_2d", "hand_right_keypoints_2d", "face_keypoints_2d")

# annotator/openpose/util.py (v1.1.455): limbSeq (1-based) and colors
_LIMB_SEQ_1BASED = ((2, 3), (2, 6), (3, 4), (4, 5), (6, 7), (7, 8), (2, 9), (9, 10), (10, 11), (2, 12),
                    (12, 13), (13, 14), (2, 1), (1, 15), (15, 17), (1, 16), (16, 18))
_COLORS = ((255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0), (85, 255, 0), (0, 255, 0),
           (0, 255, 85), (0, 255, 170), (0, 255, 255), (0, 170, 255), (0, 85, 255), (0, 0, 255), (85, 0, 255),
           (170, 0, 255), (255, 0, 255), (255, 0, 170), (255, 0, 85))
_EPS = 0.01  # util.py: eps = 0.01


def _chunks(numbers: List[float]) -> List[Tuple[float, float, float]]:
    return [tuple(numbers[i:i + 3]) for i in range(0, len(numbers), 3)]  # type: ignore[misc]


def _decompress(numbers: Optional[List[float]]) -> Optional[List[Optional[Keypoint]]]:
    """decode_json_as_poses.decompress_keypoints: falsy -> None; c < 1.0 -> None."""
    if not numbers:
        return None
    assert len(numbers) % 3 == 0
    return [None if c < 1.0 else (x, y) for x, y, c in _chunks(numbers)]


def controlnet_decode(pose_json: Dict[str, Any]) -> List[Dict[str, Optional[List[Optional[Keypoint]]]]]:
    """decode_json_as_poses: one dict per person, part key -> keypoints (None = dropped)."""
    return [{key: _decompress(person.get(key)) for key in PART_KEYS} for person in pose_json.get("people", [])]


def _is_normalized(keypoints: List[Optional[Keypoint]]) -> bool:
    flags = [0 <= abs(k[0]) <= 1 and 0 <= abs(k[1]) <= 1 for k in keypoints if k is not None]
    return bool(flags) and all(flags)


def _draw_body(canvas: np.ndarray, keypoints: List[Optional[Keypoint]]) -> np.ndarray:
    import cv2

    if not _is_normalized(keypoints):
        H, W = 1.0, 1.0
    else:
        H, W = canvas.shape[:2]
    for (k1, k2), color in zip(_LIMB_SEQ_1BASED, _COLORS):
        p1, p2 = keypoints[k1 - 1], keypoints[k2 - 1]
        if p1 is None or p2 is None:
            continue
        Y = np.array([p1[0], p2[0]]) * float(W)
        X = np.array([p1[1], p2[1]]) * float(H)
        mX, mY = np.mean(X), np.mean(Y)
        length = ((X[0] - X[1]) ** 2 + (Y[0] - Y[1]) ** 2) ** 0.5
        angle = math.degrees(math.atan2(X[0] - X[1], Y[0] - Y[1]))
        polygon = cv2.ellipse2Poly((int(mY), int(mX)), (int(length / 2), 4), int(angle), 0, 360, 1)
        cv2.fillConvexPoly(canvas, polygon, [int(float(c) * 0.6) for c in color])
    for point, color in zip(keypoints, _COLORS):
        if point is None:
            continue
        cv2.circle(canvas, (int(point[0] * W), int(point[1] * H)), 4, color, thickness=-1)
    return canvas


def _draw_hand(canvas: np.ndarray, keypoints: Optional[List[Optional[Keypoint]]]) -> np.ndarray:
    import cv2

    if not keypoints:
        return canvas
    H, W = (canvas.shape[:2]) if _is_normalized(keypoints) else (1.0, 1.0)
    edges = [[0, 1], [1, 2], [2, 3], [3, 4], [0, 5], [5, 6], [6, 7], [7, 8], [0, 9], [9, 10],
             [10, 11], [11, 12], [0, 13], [13, 14], [14, 15], [15, 16], [0, 17], [17, 18], [18, 19], [19, 20]]
    for ie, (e1, e2) in enumerate(edges):
        k1, k2 = keypoints[e1], keypoints[e2]
        if k1 is None or k2 is None:
            continue
        x1, y1, x2, y2 = int(k1[0] * W), int(k1[1] * H), int(k2[0] * W), int(k2[1] * H)
        if x1 > _EPS and y1 > _EPS and x2 > _EPS and y2 > _EPS:
            color = np.array(colorsys.hsv_to_rgb(ie / float(len(edges)), 1.0, 1.0)) * 255  # matplotlib hsv_to_rgb
            cv2.line(canvas, (x1, y1), (x2, y2), color.tolist(), thickness=2)
    for point in keypoints:
        if point is None:
            continue
        x, y = int(point[0] * W), int(point[1] * H)
        if x > _EPS and y > _EPS:
            cv2.circle(canvas, (x, y), 4, (0, 0, 255), thickness=-1)
    return canvas


def _draw_face(canvas: np.ndarray, keypoints: Optional[List[Optional[Keypoint]]]) -> np.ndarray:
    import cv2

    if not keypoints:
        return canvas
    H, W = (canvas.shape[:2]) if _is_normalized(keypoints) else (1.0, 1.0)
    for point in keypoints:
        if point is None:
            continue
        x, y = int(point[0] * W), int(point[1] * H)
        if x > _EPS and y > _EPS:
            cv2.circle(canvas, (x, y), 3, (255, 255, 255), thickness=-1)
    return canvas


def controlnet_draw(pose_json: Dict[str, Any], *, draw_body: bool = True, draw_hand: bool = True,
                    draw_face: bool = True) -> np.ndarray:
    """draw_poses(*decode_json_as_poses(pose_json)): (H, W, 3) uint8 RGB, black canvas of the JSON's size."""
    H, W = int(pose_json["canvas_height"]), int(pose_json["canvas_width"])
    canvas = np.zeros((H, W, 3), dtype=np.uint8)
    for person in controlnet_decode(pose_json):
        if draw_body:
            # BodyResult(keypoints=None) for a null body would raise in ControlNet; skelext writes bodies
            canvas = _draw_body(canvas, person["pose_keypoints_2d"] or [None] * 18)
        if draw_hand:
            canvas = _draw_hand(canvas, person["hand_left_keypoints_2d"])
            canvas = _draw_hand(canvas, person["hand_right_keypoints_2d"])
        if draw_face:
            canvas = _draw_face(canvas, person["face_keypoints_2d"])
    return canvas


def aux_render(kps: Any, *, render_body: bool = True, render_hand: bool = True,
               render_face: bool = True) -> np.ndarray:
    """comfyui_controlnet_aux's *Render Pose JSON (Human)* on a ``POSE_KEYPOINT``: a list is read as
    its first frame only; then the same decode and drawing as ControlNet's."""
    if isinstance(kps, list):
        kps = kps[0]
    return controlnet_draw(kps, draw_body=render_body, draw_hand=render_hand, draw_face=render_face)


def editor_visible(pose_json: Dict[str, Any]) -> List[Dict[str, List[Optional[Keypoint]]]]:
    """The openpose editor's reading: per person and part, each point in pixels, or None when the
    editor hides it (and so drops it when it sends the pose back)."""
    W, H = pose_json["canvas_width"], pose_json["canvas_height"]
    people = []
    for person in pose_json.get("people", []):
        parts: Dict[str, List[Optional[Keypoint]]] = {}
        for key in PART_KEYS:
            nums = person.get(key)
            if not nums:
                continue
            normalized = all(abs(n) <= 1.0 for n in nums)
            fx, fy = (W, H) if normalized else (1.0, 1.0)
            parts[key] = [(x * fx, y * fy) if (x * fx > 0 and y * fy > 0 and c == 1.0) else None
                          for x, y, c in _chunks(nums)]
        people.append(parts)
    return people


def lit_pixels(image: np.ndarray) -> int:
    """Pixels that are not black (what a control image draws)."""
    return int((np.asarray(image).reshape(-1, 3).max(axis=1) > 0).sum())


def write_scores_as_c(monkeypatch) -> None:
    """Make skelext write as it did before the hosts' rule (each detected point's score as its c), to
    show that the checks catch it."""
    from lib_skelext import openpose_json

    real = openpose_json.person_to_dict

    def scores_as_c(person, scale):
        doc = real(person, scale)
        for i, score in enumerate((doc.get("skelext") or {}).get("scores", {}).get("body", [])):
            if score > 0:
                doc["pose_keypoints_2d"][3 * i + 2] = score
        return doc

    monkeypatch.setattr(openpose_json, "person_to_dict", scores_as_c)
