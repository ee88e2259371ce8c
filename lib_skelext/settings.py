"""Typed settings: the one source of defaults for the UI, the REST API, the CLI and the hosts."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Tuple

from .errors import SkelextError

CANVAS_MODES: Tuple[str, ...] = ("keep", "fit", "expand")
DETECTORS: Tuple[str, ...] = ("dwpose", "blazepose")
DEFAULT_RESOLUTION = 512
MAX_ALTERNATIVES = 8


@dataclass(frozen=True)
class PipelineSettings:
    """Options of one `dwpose_full` run.

    resolution: the short side, in pixels, the image is resized to before
        detection (as ControlNet's preprocessor resolution slider).
    canvas: ``keep`` (same canvas, off-frame points stay in the JSON), ``fit``
        (same size, people scaled to fit with a margin) or ``expand`` (canvas
        grown to hold every point).
    detector: ``dwpose`` (ONNX weights) or ``blazepose`` (mediapipe, offline).
    detection_threshold: keypoints scoring below it count as missing.
    alternatives: ranked completions to return per person (1 = best only).
    complete: run the completion model at all (False = plain DWPose).
    draw_hands, draw_face: include them in the conditioning image.
    """

    resolution: int = DEFAULT_RESOLUTION
    canvas: str = "keep"
    detector: str = "dwpose"
    detection_threshold: float = 0.3
    alternatives: int = 1
    complete: bool = True
    draw_body: bool = True
    draw_hands: bool = True
    draw_face: bool = True
    fit_margin: float = 0.05

    def __post_init__(self) -> None:
        validate_canvas_mode(self.canvas)
        if self.detector not in DETECTORS:
            raise SkelextError(f"unknown detector {self.detector!r}; choose one of {', '.join(DETECTORS)}")
        if not 64 <= int(self.resolution) <= 4096:
            raise SkelextError(f"resolution must be between 64 and 4096, got {self.resolution}")
        if not 0.0 <= float(self.detection_threshold) <= 1.0:
            raise SkelextError(f"detection threshold must be in 0..1, got {self.detection_threshold}")
        validate_alternatives(self.alternatives)
        if not 0.0 <= float(self.fit_margin) < 0.5:
            raise SkelextError(f"fit margin must be in [0, 0.5), got {self.fit_margin}")


def validate_canvas_mode(mode: str) -> str:
    if mode not in CANVAS_MODES:
        raise SkelextError(f"unknown canvas mode {mode!r}; choose one of {', '.join(CANVAS_MODES)}")
    return mode


def validate_alternatives(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_ALTERNATIVES:
        raise SkelextError(f"alternatives must be an integer from 1 to {MAX_ALTERNATIVES}, got {k!r}")
    return k
