"""Draw poses exactly as ControlNet's OpenPose preprocessors do, plus a preview overlay.

ControlNet's drawing (sd-webui-controlnet v1.1.455 annotator/openpose/util.py,
comfyui_controlnet_aux v1.1.5 dwpose/util.py: the same code), reimplemented from its
behaviour: per person, limbs as filled ellipses of half-width 4 in 18 fixed colours
scaled by 0.6 (``int(c * 0.6)``), then joints as radius-4 circles in full colour; hands as 2 px lines coloured by HSV hue with joints as
(0, 0, 255) dots of radius 4; face as white dots of radius 3; black canvas.
Points at x or y < 1 px are not drawn for hands and face, as in ControlNet.
"""
from __future__ import annotations

import colorsys
import math
from typing import Optional, Sequence, Tuple

import numpy as np

from .errors import SkelextError
from .pose import LIMBS, N_BODY, Person, PoseFrame, Source

#: ControlNet's 18 colours (RGB): limb i and joint i use colour i.
BODY_COLORS: Tuple[Tuple[int, int, int], ...] = (
    (255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0), (85, 255, 0),
    (0, 255, 0), (0, 255, 85), (0, 255, 170), (0, 255, 255), (0, 170, 255), (0, 85, 255),
    (0, 0, 255), (85, 0, 255), (170, 0, 255), (255, 0, 255), (255, 0, 170), (255, 0, 85),
)
LIMB_DIM = 0.6
STICK_HALF_WIDTH = 4
JOINT_RADIUS = 4
HAND_EDGES = (
    (0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8), (0, 9), (9, 10),
    (10, 11), (11, 12), (0, 13), (13, 14), (14, 15), (15, 16), (0, 17), (17, 18), (18, 19), (19, 20),
)
HAND_JOINT_COLOR = (0, 0, 255)
HAND_LINE_WIDTH = 2
FACE_COLOR = (255, 255, 255)
FACE_RADIUS = 3
_EPS = 0.01
#: Larger canvases are refused (3 bytes per pixel, briefly ~30 while dimming by 0.6).
MAX_RENDER_PIXELS = 100_000_000


def hand_edge_color(edge_index: int) -> Tuple[float, float, float]:
    """RGB colour of hand edge i: HSV hue i/20, full saturation and value, x 255."""
    r, g, b = colorsys.hsv_to_rgb(edge_index / float(len(HAND_EDGES)), 1.0, 1.0)
    return (r * 255.0, g * 255.0, b * 255.0)


def _draw_body(canvas: np.ndarray, body: np.ndarray) -> np.ndarray:
    import cv2

    present = body[:, 2] > 0
    for (a, b), color in zip(LIMBS, BODY_COLORS):
        if not (present[a] and present[b]):
            continue
        xs = np.array([body[a, 0], body[b, 0]])
        ys = np.array([body[a, 1], body[b, 1]])
        with np.errstate(over="ignore", invalid="ignore"):
            length = float(np.hypot(xs[0] - xs[1], ys[0] - ys[1]))
            angle = math.degrees(math.atan2(ys[0] - ys[1], xs[0] - xs[1]))
            center = (_coord(xs.mean()), _coord(ys.mean()))
        if not (math.isfinite(length) and math.isfinite(angle)):  # ends ~1e308 apart: nothing to see
            continue
        polygon = cv2.ellipse2Poly(center, (_coord(length / 2), STICK_HALF_WIDTH), int(angle), 0, 360, 1)
        # the limb's colour dimmed, not the canvas (an earlier version's whole-canvas dimming also
        # dimmed the joints, hands and faces of the people drawn before)
        cv2.fillConvexPoly(canvas, polygon, [int(float(c) * LIMB_DIM) for c in color])
    for i in range(N_BODY):
        if present[i]:
            cv2.circle(canvas, (_coord(body[i, 0]), _coord(body[i, 1])), JOINT_RADIUS, BODY_COLORS[i], thickness=-1)
    return canvas


def _coord(value: float) -> int:
    """int() like ControlNet, clamped so far off-canvas points cannot overflow OpenCV."""
    return int(max(-1e6, min(1e6, value)))


def _draw_hand(canvas: np.ndarray, hand: Optional[np.ndarray]) -> None:
    import cv2

    if hand is None:
        return
    present = hand[:, 2] > 0
    for i, (a, b) in enumerate(HAND_EDGES):
        if not (present[a] and present[b]):
            continue
        x1, y1, x2, y2 = (_coord(hand[a, 0]), _coord(hand[a, 1]), _coord(hand[b, 0]), _coord(hand[b, 1]))
        if x1 > _EPS and y1 > _EPS and x2 > _EPS and y2 > _EPS:
            cv2.line(canvas, (x1, y1), (x2, y2), hand_edge_color(i), thickness=HAND_LINE_WIDTH)
    for point, ok in zip(hand, present):
        x, y = _coord(point[0]), _coord(point[1])
        if ok and x > _EPS and y > _EPS:
            cv2.circle(canvas, (x, y), JOINT_RADIUS, HAND_JOINT_COLOR, thickness=-1)


def _draw_face(canvas: np.ndarray, face: Optional[np.ndarray]) -> None:
    import cv2

    if face is None:
        return
    for point in face:
        x, y = _coord(point[0]), _coord(point[1])
        if point[2] > 0 and x > _EPS and y > _EPS:
            cv2.circle(canvas, (x, y), FACE_RADIUS, FACE_COLOR, thickness=-1)


def render_frame(frame: PoseFrame, *, draw_body: bool = True, draw_hands: bool = True,
                 draw_face: bool = True) -> np.ndarray:
    """PoseFrame -> (H, W, 3) uint8 RGB conditioning image, as ControlNet draws it."""
    if int(frame.canvas_width) * int(frame.canvas_height) > MAX_RENDER_PIXELS:
        raise SkelextError(f"canvas {frame.canvas_width}x{frame.canvas_height} is too large to draw "
                           f"(at most {MAX_RENDER_PIXELS // 1_000_000} megapixels)")
    canvas = np.zeros((int(frame.canvas_height), int(frame.canvas_width), 3), dtype=np.uint8)
    return render_people(canvas, frame.people, draw_body=draw_body, draw_hands=draw_hands, draw_face=draw_face)


def render_people(canvas: np.ndarray, people: Sequence[Person], *, draw_body: bool = True,
                  draw_hands: bool = True, draw_face: bool = True) -> np.ndarray:
    """Draw people onto a copy of canvas (H, W, 3) uint8, ControlNet style."""
    canvas = np.ascontiguousarray(canvas, dtype=np.uint8).copy()
    for person in people:
        if draw_body:
            canvas = _draw_body(canvas, person.body)
        if draw_hands:
            _draw_hand(canvas, person.hand_left)
            _draw_hand(canvas, person.hand_right)
        if draw_face:
            _draw_face(canvas, person.face)
    return canvas


#: Overlay marks: detected points solid, completed points hollow rings, low confidence dashed grey.
OVERLAY_COMPLETED_RING = (255, 255, 255)
LOW_CONFIDENCE = 0.5


def render_overlay(image: np.ndarray, frame: PoseFrame, *, alpha: float = 0.65) -> np.ndarray:
    """Preview: the photo dimmed, the skeleton on top; detected joints are solid
    dots, completed joints are white rings (grey when the model's confidence is
    below 0.5), completed limbs are drawn thin. Image and frame must share size."""
    import cv2

    base = np.ascontiguousarray(image[..., :3], dtype=np.uint8)
    if base.shape[:2] != (frame.canvas_height, frame.canvas_width):
        base = cv2.resize(base, (int(frame.canvas_width), int(frame.canvas_height)), interpolation=cv2.INTER_AREA)
    out = (base.astype(np.float32) * alpha).astype(np.uint8)
    scale = max(1, round(max(out.shape[:2]) / 512))
    for person in frame.people:
        body, present = person.body, person.present
        completed = person.completed & present
        for (a, b), color in zip(LIMBS, BODY_COLORS):
            if present[a] and present[b]:
                thin = completed[a] or completed[b]
                cv2.line(out, (_coord(body[a, 0]), _coord(body[a, 1])), (_coord(body[b, 0]), _coord(body[b, 1])),
                         color, thickness=(1 if thin else 3) * scale, lineType=cv2.LINE_AA)
        for i in range(N_BODY):
            if not present[i]:
                continue
            center = (_coord(body[i, 0]), _coord(body[i, 1]))
            if completed[i]:
                conf = 1.0 if person.completion_confidence is None else float(person.completion_confidence[i])
                ring = OVERLAY_COMPLETED_RING if conf >= LOW_CONFIDENCE else (128, 128, 128)
                cv2.circle(out, center, 5 * scale, ring, thickness=2 * scale, lineType=cv2.LINE_AA)
            elif person.source[i] == Source.EDITED:
                cv2.drawMarker(out, center, BODY_COLORS[i], cv2.MARKER_SQUARE, 10 * scale, 2 * scale)
            else:
                cv2.circle(out, center, 4 * scale, BODY_COLORS[i], thickness=-1, lineType=cv2.LINE_AA)
        _draw_hand(out, person.hand_left)
        _draw_hand(out, person.hand_right)
        _draw_face(out, person.face)
    return out
