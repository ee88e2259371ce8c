"""The ``dwpose_full`` preprocessor's work, shared by every host; imports no host module.

``DWPoseFullRunner(options)(image, resolution, slider_1, slider_2, json_pose_callback)``
turns ControlNet's arguments into ``PipelineSettings``, runs
``core.process_image`` and returns the control image, sized as
ControlNet's own preprocessors size theirs (the short side scaled to the
resolution; larger with canvas ``expand``). It always calls ``json_pose_callback`` when one is given, also
when nobody was found.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Tuple

import numpy as np

from ..errors import SkelextError
from ..settings import (
    CANVAS_MODES, DEFAULT_RESOLUTION, DEFAULT_THRESHOLD, MAX_RESOLUTION, MIN_RESOLUTION, OPTIONS, PipelineSettings,
)

logger = logging.getLogger(__name__)

NAME = "dwpose_full"
#: What the UI shows and what API clients send. ControlNet (A1111 and Forge)
#: offers pose JSON, the Edit button and ``poses`` in ``/controlnet/detect``
#: only when the module string contains "openpose".
LABEL = "dwpose_full (openpose completed)"
TAGS = ("OpenPose",)
MODEL_FILTERS = ("openpose", "densepose")

RESOLUTION_LABEL = OPTIONS["resolution"].label
CANVAS_LABEL = "Canvas: 0 keep frame, 1 fit people in frame, 2 expand to hold them"
THRESHOLD_LABEL = OPTIONS["detection_threshold"].label + " (keypoints scoring less count as missing)"

#: How the pose goes to ``json_pose_callback``: a JSON-compatible dict (ControlNet
#: since its animal-pose release, all new-registry versions, Forge) or a JSON
#: string (older legacy ControlNet).
PAYLOAD_DICT, PAYLOAD_STR = "dict", "str"


@dataclass(frozen=True)
class HostOptions:
    """The WebUI settings that shape a run (section "skelext")."""

    canvas: str = "keep"
    device: str = "auto"
    dwpose_dir: str = ""
    draw_hands: bool = True
    draw_face: bool = True
    #: Folders that may hold DWPose's ONNX files, best first (host paths).
    search_dirs: Tuple[Path, ...] = ()

    @property
    def draw_options(self) -> Dict[str, bool]:
        """The drawing options these settings set (the preprocessor and the tab draw alike)."""
        return {"draw_hands": bool(self.draw_hands), "draw_face": bool(self.draw_face)}

    @property
    def location(self) -> Any:
        """The ``detectors.DetectorLocation`` these settings name (the registry key)."""
        from ..detectors import DetectorLocation

        return DetectorLocation(weights_dir=self.dwpose_dir, search_dirs=tuple(str(d) for d in self.search_dirs),
                                device=self.device)


def canvas_index(mode: str) -> int:
    return CANVAS_MODES.index(mode) if mode in CANVAS_MODES else 0


def canvas_from_slider(value: Any, default: str = "keep") -> str:
    """Slider 1 (0 keep, 1 fit, 2 expand) -> mode; anything else -> ``default``.

    Hosts send odd values when a client leaves the slider out (-1, or Forge's 64).
    """
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    if not math.isfinite(number) or not -0.5 < number < len(CANVAS_MODES) - 0.5:
        return default
    return CANVAS_MODES[int(round(number))]


def threshold_from_slider(value: Any, default: float = DEFAULT_THRESHOLD) -> float:
    """Slider 2 -> ``detection_threshold`` when ``OPTIONS`` accepts it (its range is the slider's);
    anything else (None, -1, Forge's 64) -> ``default``."""
    try:
        return OPTIONS["detection_threshold"].validate(float(value))
    except (TypeError, ValueError):  # SkelextError is a ValueError
        return default


def resolution_from_slider(value: Any, default: int = DEFAULT_RESOLUTION) -> int:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    if not math.isfinite(number) or number < MIN_RESOLUTION:
        return default
    return int(min(round(number), MAX_RESOLUTION))


class DWPoseFullRunner:
    """Callable doing one ``dwpose_full`` run for a host: ControlNet's arguments ->
    ``PipelineSettings`` -> ``core.process_image`` with the registry's detector at the
    settings' ``DetectorLocation``.

    options: returns the current ``HostOptions`` (read on every call, so settings
    changes apply at once).
    """

    def __init__(self, options: Callable[[], HostOptions]) -> None:
        self.options = options
        self._reported: set = set()

    def detector(self, options: Optional[HostOptions] = None) -> Any:
        """The registry's DWPose detector for the current settings, loaded."""
        from ..detectors import get_detector

        return get_detector("dwpose", (options or self.options()).location)

    def settings(self, options: HostOptions, resolution: int, slider_1: Any, slider_2: Any) -> PipelineSettings:
        return PipelineSettings(
            resolution=resolution,
            canvas=canvas_from_slider(slider_1, options.canvas if options.canvas in CANVAS_MODES else "keep"),
            detector="dwpose",
            detection_threshold=threshold_from_slider(slider_2),
            **options.draw_options,
        )

    def _report_once(self, message: str) -> None:
        if message not in self._reported:
            self._reported.add(message)
            logger.error("skelext dwpose_full: %s", message)

    def run(self, image: Any, resolution: Any = None, slider_1: Any = None, slider_2: Any = None):
        """-> ``core.PoseResult``. The core resizes the image as ControlNet does (short side ->
        resolution), so the control image has the size of ControlNet's own ``dw_openpose_full``
        output; completion failures are caught there (the plain detection comes back)."""
        from ..core import process_image
        from ..resize import to_rgb_uint8

        options = self.options()
        rgb = to_rgb_uint8(image, coerce_dtype=True)
        settings = self.settings(options, resolution_from_slider(resolution), slider_1, slider_2)
        try:
            return process_image(rgb, settings, detector=self.detector(options))
        except SkelextError as exc:  # missing weights, bad image: one clear line, then fail
            self._report_once(str(exc))
            raise

    def __call__(self, image: Any, resolution: Any = None, slider_1: Any = None, slider_2: Any = None,
                 json_pose_callback: Optional[Callable[[Any], None]] = None,
                 payload: str = PAYLOAD_DICT) -> np.ndarray:
        result = self.run(image, resolution, slider_1, slider_2)
        control = np.ascontiguousarray(result.control_image)
        if json_pose_callback is not None:
            json_pose_callback(pose_payload(result, payload))
        return control


def pose_payload(result: Any, kind: str = PAYLOAD_DICT) -> Any:
    """The completed poses for ``json_pose_callback``: dict, or JSON text for old ControlNet."""
    if kind == PAYLOAD_STR:
        return result.json_text
    return result.to_dict()
