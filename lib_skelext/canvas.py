"""Canvas modes: what to do with completed points that lie outside the image.

* ``keep``: same canvas; off-frame points stay in the JSON (and are clipped
  when drawn).
* ``fit``: same canvas size; if any point lies outside, every person is
  scaled down and centred so all points are inside with a margin.
* ``expand``: the canvas grows to hold every point plus a margin; the image
  and the JSON are shifted by the same offset (new pixels are black).

Every mode is one similarity ``p' = p * scale + offset``, so the photo and
the poses always stay aligned.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import numpy as np

from .pose import PoseFrame
from .settings import validate_canvas_mode

#: Expand never grows a side beyond this factor of the original (wild points).
MAX_EXPAND_FACTOR = 4.0


@dataclass(frozen=True)
class CanvasTransform:
    """p_new = p_old * scale + (offset_x, offset_y) on a width x height canvas."""

    scale: float
    offset_x: float
    offset_y: float
    width: int
    height: int

    @property
    def is_identity(self) -> bool:
        return self.scale == 1.0 and self.offset_x == 0.0 and self.offset_y == 0.0

    def inverse(self, width: int, height: int) -> "CanvasTransform":
        """The transform back onto the width x height canvas this one was made on."""
        return CanvasTransform(1.0 / self.scale, -self.offset_x / self.scale, -self.offset_y / self.scale,
                               int(width), int(height))

    def apply_to_points(self, points: np.ndarray) -> np.ndarray:
        """(n, 3) x, y, conf -> transformed copy; missing points stay [0, 0, 0]."""
        out = np.array(points, dtype=np.float64)
        present = out[:, 2] > 0
        out[present, 0] = out[present, 0] * self.scale + self.offset_x
        out[present, 1] = out[present, 1] * self.scale + self.offset_y
        return out

    def apply_to_image(self, image: np.ndarray, fill: int = 0) -> np.ndarray:
        """Warp an (H, W, C) image the same way; new area filled with ``fill``."""
        import cv2

        if self.is_identity and image.shape[:2] == (self.height, self.width):
            return image.copy()
        matrix = np.array([[self.scale, 0.0, self.offset_x], [0.0, self.scale, self.offset_y]])
        interpolation = cv2.INTER_AREA if self.scale < 1 else cv2.INTER_LINEAR
        channels = image.shape[2] if image.ndim == 3 else 1
        return cv2.warpAffine(image, matrix, (self.width, self.height), flags=interpolation,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=(fill,) * max(channels, 1))


def _all_points(frame: PoseFrame) -> np.ndarray:
    chunks = []
    for person in frame.people:
        for part in (person.body, person.face, person.hand_left, person.hand_right):
            if part is not None:
                chunks.append(part[part[:, 2] > 0, :2])
    return np.concatenate(chunks) if chunks else np.zeros((0, 2))


def _bounds(frame: PoseFrame) -> Optional[Tuple[float, float, float, float]]:
    points = _all_points(frame)
    if len(points) == 0:
        return None
    return float(points[:, 0].min()), float(points[:, 1].min()), float(points[:, 0].max()), float(points[:, 1].max())


def canvas_transform(frame: PoseFrame, mode: str, margin: float = 0.05) -> CanvasTransform:
    """The transform a canvas mode applies to this frame. margin: fraction of the canvas side."""
    validate_canvas_mode(mode)
    width, height = int(frame.canvas_width), int(frame.canvas_height)
    identity = CanvasTransform(1.0, 0.0, 0.0, width, height)
    bounds = _bounds(frame)
    if mode == "keep" or bounds is None:
        return identity
    x0, y0, x1, y1 = bounds
    if mode == "fit":
        mx, my = margin * width, margin * height
        inside = x0 >= 0 and y0 >= 0 and x1 <= width - 1 and y1 <= height - 1
        if inside:
            return identity
        avail_w, avail_h = max(0.0, width - 1 - 2 * mx), max(0.0, height - 1 - 2 * my)  # 1-pixel canvases
        scale = min(1.0, avail_w / max(x1 - x0, 1e-6), avail_h / max(y1 - y0, 1e-6))  # x1 - x0 may be inf: 0
        offset_x = (width - 1) / 2 - (x0 / 2 + x1 / 2) * scale  # halves: no overflow near 1e308
        offset_y = (height - 1) / 2 - (y0 / 2 + y1 / 2) * scale
        return CanvasTransform(scale, offset_x, offset_y, width, height)
    # expand
    pad = margin * max(width, height)
    left = max(0.0, -x0 + pad) if x0 < 0 else 0.0
    top = max(0.0, -y0 + pad) if y0 < 0 else 0.0
    right = max(0.0, x1 - (width - 1) + pad) if x1 > width - 1 else 0.0
    bottom = max(0.0, y1 - (height - 1) + pad) if y1 > height - 1 else 0.0
    max_extra_w, max_extra_h = (MAX_EXPAND_FACTOR - 1) * width, (MAX_EXPAND_FACTOR - 1) * height
    left, right = _cap(left, right, max_extra_w)
    top, bottom = _cap(top, bottom, max_extra_h)
    left, top = math.ceil(left), math.ceil(top)
    new_w = width + left + math.ceil(right)
    new_h = height + top + math.ceil(bottom)
    return CanvasTransform(1.0, float(left), float(top), int(new_w), int(new_h))


def _cap(a: float, b: float, limit: float) -> Tuple[float, float]:
    total = a + b
    if total <= limit or total == 0:
        return a, b
    if math.isfinite(total) and math.isfinite(max(a, b) * limit):
        return a * limit / total, b * limit / total
    half = a / 2 + b / 2  # points near 1e308: a + b or a * limit overflowed
    return a / 2 / half * limit, b / 2 / half * limit


def apply_transform(frame: PoseFrame, transform: CanvasTransform, *, in_place: bool = False) -> PoseFrame:
    """A copy of frame with every point (body, face, hands, alternatives) moved
    (``in_place``: frame itself, for callers that own it; the identity then costs nothing)."""
    out = frame if in_place else frame.copy()
    if transform.is_identity and (transform.width, transform.height) == (frame.canvas_width, frame.canvas_height):
        return out
    for person in out.people:
        person.body = transform.apply_to_points(person.body)
        for name in ("face", "hand_left", "hand_right"):
            part = getattr(person, name)
            if part is not None:
                setattr(person, name, transform.apply_to_points(part))
        person.alternatives = [transform.apply_to_points(alt) for alt in person.alternatives]
        person.origin = None  # coordinates changed: write every point from its value
    out.canvas_width, out.canvas_height = transform.width, transform.height
    return out


def apply_canvas_mode(frame: PoseFrame, mode: str, margin: float = 0.05, *,
                      in_place: bool = False) -> Tuple[PoseFrame, CanvasTransform]:
    """(moved copy of frame, or frame itself with ``in_place``; the transform used) for canvas
    mode keep / fit / expand."""
    transform = canvas_transform(frame, mode, margin)
    return apply_transform(frame, transform, in_place=in_place), transform


def apply_shared_canvas_mode(frames: Sequence[PoseFrame], mode: str, margin: float = 0.05, *,
                             in_place: bool = False) -> Tuple[List[PoseFrame], CanvasTransform]:
    """One transform for a batch or clip (every frame's points together: a video keeps one size and
    does not zoom from frame to frame) -> (moved frames, the transform). Frames share one canvas size."""
    merged = PoseFrame(people=[p for f in frames for p in f.people], canvas_width=frames[0].canvas_width,
                       canvas_height=frames[0].canvas_height)
    transform = canvas_transform(merged, mode, margin)
    return [apply_transform(f, transform, in_place=in_place) for f in frames], transform
