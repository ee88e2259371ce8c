"""``dwpose_full``: photo -> detected people -> completed skeletons -> control image + JSON.

The image is handled as ControlNet's preprocessors handle it
(``scripts/processor.py`` ``resize_image_with_pad`` / ``remove_pad``): the
short side is resized to ``resolution`` (cubic when enlarging, area when
shrinking), the bottom and right edges are padded (edge pixels repeated) up
to multiples of 64, detection runs on the padded image, and the result is
cropped back to the resized size. So the control image has exactly the size
ControlNet's own ``dw_openpose_full`` returns, and the JSON canvas is that
size too (``canvas=keep``; ``fit`` keeps it, ``expand`` grows it).

Before completion, body points the detector placed outside that canvas (in
the padding strip, or beyond the edge) are treated as missing, so the model,
which takes the canvas as the visible frame, predicts them. With
``complete=False`` the detection is returned exactly as found.

Completion never breaks generation: if it raises, one warning is logged and
the plain detection is returned.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Optional, Tuple

import numpy as np

from .errors import SkelextError
from .pose import L_WRIST, NOSE, R_WRIST, PoseFrame, Source
from .settings import PipelineSettings

logger = logging.getLogger(__name__)


# ------------------------------------------------------------------ image prep
def to_rgb_uint8(image: Any) -> np.ndarray:
    """(H, W), (H, W, 1), (H, W, 3) or (H, W, 4) uint8 -> (H, W, 3) uint8 RGB.

    RGBA is composited over white, as ControlNet's ``HWC3`` does.
    """
    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        raise SkelextError(f"expected a uint8 image, got dtype {arr.dtype}")
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[2] not in (1, 3, 4) or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise SkelextError(f"expected an (H, W, 3) RGB image, got shape {arr.shape}")
    if arr.shape[2] == 1:
        return np.ascontiguousarray(np.repeat(arr, 3, axis=2))
    if arr.shape[2] == 4:
        color = arr[:, :, :3].astype(np.float32)
        alpha = arr[:, :, 3:4].astype(np.float32) / 255.0
        return (color * alpha + 255.0 * (1.0 - alpha)).clip(0, 255).astype(np.uint8)
    return np.ascontiguousarray(arr)


def pad64(x: int) -> int:
    """Pixels to add so that x becomes a multiple of 64."""
    return int(np.ceil(float(x) / 64.0) * 64 - x)


#: Longest side, in pixels, an image is resized to before detection. ControlNet
#: has no cap, so a 1x40000 strip at resolution 512 would become 512x20480000;
#: here its long side stops at this (the short side then shrinks, to 1 pixel at least).
MAX_RESIZED_SIDE = 16384


def resized_size(height: int, width: int, resolution: int) -> Tuple[int, int]:
    """(height, width) in pixels of an image after ControlNet's resize (short side ->
    resolution), with the long side capped at ``MAX_RESIZED_SIDE``."""
    k = float(resolution) / float(min(height, width))
    k = min(k, MAX_RESIZED_SIDE / float(max(height, width)))
    return max(1, int(np.round(float(height) * k))), max(1, int(np.round(float(width) * k)))


def resize_image_with_pad(image: np.ndarray, resolution: int) -> Tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]:
    """ControlNet's preprocessor resize: short side -> resolution, pad to 64
    (long side at most ``MAX_RESIZED_SIDE``).

    Returns (padded image, remove_pad) where remove_pad(x) crops an array of
    the padded size back to the resized (unpadded) size.
    """
    import cv2

    img = to_rgb_uint8(image)
    h_raw, w_raw = img.shape[:2]
    h_target, w_target = resized_size(h_raw, w_raw, resolution)
    k = min(h_target / float(h_raw), w_target / float(w_raw))
    interpolation = cv2.INTER_CUBIC if k > 1 else cv2.INTER_AREA
    img = cv2.resize(img, (w_target, h_target), interpolation=interpolation)
    padded = np.pad(img, [[0, pad64(h_target)], [0, pad64(w_target)], [0, 0]], mode="edge")

    def remove_pad(x: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(x[:h_target, :w_target])

    return np.ascontiguousarray(padded), remove_pad


# -------------------------------------------------------------------- detectors
_DETECTORS: Dict[str, Any] = {}
_DETECTORS_LOCK = threading.Lock()


def default_detector(name: str) -> Any:
    """The process-wide detector for ``name`` ("dwpose" or "blazepose"); one, even when
    several threads ask first at once."""
    with _DETECTORS_LOCK:
        if name not in _DETECTORS:
            if name == "dwpose":
                from .dwpose.detector import default_detector as dw

                _DETECTORS[name] = dw()
            elif name == "blazepose":
                from .blazepose import BlazePoseDetector

                _DETECTORS[name] = BlazePoseDetector()
            else:
                raise SkelextError(f"unknown detector {name!r}; choose dwpose or blazepose")
        return _DETECTORS[name]


# --------------------------------------------------------------------- pipeline
@dataclass
class PipelineResult:
    """frame: people after completion and the canvas mode (canvas = control image size).
    detected: people as detected, before completion, on the unpadded resized canvas.
    control_image: (H, W, 3) uint8 RGB, ControlNet-style drawing of ``frame``.
    json_text: OpenPose JSON of ``frame`` (pixels).
    image: the resized photo (unpadded, before the canvas transform), for overlays.
    transform: the canvas mode's ``CanvasTransform``.
    completion_failed: True when completion raised and ``frame`` is the detection.
    timings_s: seconds per stage (detect, complete, canvas, render, json, total).
    """

    frame: PoseFrame
    detected: PoseFrame
    control_image: np.ndarray
    json_text: str
    image: Optional[np.ndarray] = None
    transform: Any = None
    completion_failed: bool = False
    timings_s: Dict[str, float] = field(default_factory=dict)

    def overlay(self) -> np.ndarray:
        """The photo under the skeleton (detected vs completed told apart), control-image size."""
        from .render import render_overlay

        base = self.image if self.transform is None else self.transform.apply_to_image(self.image)
        return render_overlay(base, self.frame)


def drop_parts_of_completed(frame: PoseFrame) -> PoseFrame:
    """Hands whose wrist was completed and faces whose nose was completed are dropped
    (in place; returns frame): a detected hand cannot hang on an invented wrist."""
    for person in frame.people:
        src = person.source
        if src[R_WRIST] == Source.COMPLETED:
            person.hand_right = None
        if src[L_WRIST] == Source.COMPLETED:
            person.hand_left = None
        if src[NOSE] == Source.COMPLETED:
            person.face = None
    return frame


def drop_body_points_outside(frame: PoseFrame) -> PoseFrame:
    """Body points outside the canvas become missing (in place; returns frame).

    Detection runs on the padded image, so a detector can place a point in
    the padding strip (repeated edge pixels) or, for DWPose, beyond the image
    edge. Completion treats the canvas as the visible frame: such points are
    handed to it as missing, so it predicts them instead.
    """
    w, h = frame.canvas_width, frame.canvas_height
    for person in frame.people:
        b = person.body
        outside = (b[:, 2] > 0) & ((b[:, 0] < 0) | (b[:, 1] < 0) | (b[:, 0] >= w) | (b[:, 1] >= h))
        if outside.any():
            b[outside] = 0.0
            person.source[outside] = Source.MISSING
    return frame


def complete_safely(frame: PoseFrame, alternatives: int = 1) -> Tuple[PoseFrame, bool]:
    """(completed frame, failed). On any exception: one warning, the input unchanged."""
    try:
        from .complete import complete_frame

        return complete_frame(frame, alternatives=alternatives), False
    except Exception as exc:  # never break generation because of completion
        message = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        # the same failure again (e.g. a missing model file, every call) is logged at DEBUG
        level = logging.DEBUG if message in _WARNED else logging.WARNING
        _WARNED.add(message)
        logger.log(level, "completion failed (%s); using the plain detection", message,
                   exc_info=logger.isEnabledFor(logging.DEBUG))
        return frame, True


_WARNED: set = set()


def run_dwpose_full(image: np.ndarray, settings: Optional[PipelineSettings] = None, *,
                    detector: Any = None) -> PipelineResult:
    """Detect people in ``image`` ((H, W, 3) uint8 RGB; gray/RGBA accepted),
    complete their missing body points and draw the control image.

    detector: any object with ``detect_people(image, threshold) -> PoseFrame``;
    default: the process-wide one named by ``settings.detector``.
    """
    from .canvas import apply_canvas_mode
    from .openpose_json import dumps_frame
    from .render import render_frame

    settings = settings or PipelineSettings()
    t0 = time.perf_counter()
    timings: Dict[str, float] = {}
    padded, remove_pad = resize_image_with_pad(image, settings.resolution)
    resized = remove_pad(padded)
    height, width = resized.shape[:2]
    det = detector if detector is not None else default_detector(settings.detector)

    t = time.perf_counter()
    detected = det.detect_people(padded, threshold=settings.detection_threshold)
    timings["detect"] = time.perf_counter() - t
    detected.canvas_width, detected.canvas_height = width, height

    t = time.perf_counter()
    failed = False
    frame = detected
    if settings.complete and detected.people:
        frame, failed = complete_safely(drop_body_points_outside(detected.copy()), settings.alternatives)
        if failed:
            frame = detected.copy()
        else:
            drop_parts_of_completed(frame)
    else:
        frame = detected.copy()
    timings["complete"] = time.perf_counter() - t

    t = time.perf_counter()
    frame, transform = apply_canvas_mode(frame, settings.canvas, settings.fit_margin)
    timings["canvas"] = time.perf_counter() - t

    t = time.perf_counter()
    control = render_frame(frame, draw_body=settings.draw_body, draw_hands=settings.draw_hands,
                           draw_face=settings.draw_face)
    timings["render"] = time.perf_counter() - t

    t = time.perf_counter()
    json_text = dumps_frame(frame)
    timings["json"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - t0
    return PipelineResult(frame=frame, detected=detected, control_image=control, json_text=json_text,
                          image=resized, transform=transform, completion_failed=failed, timings_s=timings)
