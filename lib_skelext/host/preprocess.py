"""The ``dwpose_full`` preprocessor's work, shared by every host; imports no host module.

``DWPoseFullRunner(options)(image, resolution, slider_1, slider_2, json_pose_callback)``
turns ControlNet's arguments into ``PipelineSettings``, runs
``pipeline.run_dwpose_full`` and returns the control image, sized as
ControlNet's own preprocessors size theirs (the short side scaled to the
resolution; larger with canvas ``expand``). It always calls ``json_pose_callback`` when one is given, also
when nobody was found.
"""
from __future__ import annotations

import dataclasses
import logging
import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Tuple

import numpy as np

from ..errors import SkelextError
from ..settings import CANVAS_MODES, DEFAULT_RESOLUTION, PipelineSettings

logger = logging.getLogger(__name__)

NAME = "dwpose_full"
#: What the UI shows and what API clients send. ControlNet (A1111 and Forge)
#: offers pose JSON, the Edit button and ``poses`` in ``/controlnet/detect``
#: only when the module string contains "openpose".
LABEL = "dwpose_full (openpose completed)"
TAGS = ("OpenPose",)
MODEL_FILTERS = ("openpose", "densepose")

RESOLUTION_LABEL = "Resolution (short side, px)"
CANVAS_LABEL = "Canvas: 0 keep frame, 1 fit people in frame, 2 expand to hold them"
THRESHOLD_LABEL = "Detection threshold (keypoints scoring less count as missing)"
DEFAULT_THRESHOLD = 0.3
MIN_RESOLUTION, MAX_RESOLUTION = 64, 4096

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
    """Slider 2 in [0, 1]; anything else (None, -1, 64) -> ``default``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    return number if math.isfinite(number) and 0.0 <= number <= 1.0 else default


def resolution_from_slider(value: Any, default: int = DEFAULT_RESOLUTION) -> int:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    if not math.isfinite(number) or number < MIN_RESOLUTION:
        return default
    return int(min(round(number), MAX_RESOLUTION))


def to_rgb_uint8(image: Any) -> np.ndarray:
    """Any image ControlNet hands over -> (H, W, 3) uint8 RGB.

    Gray gains three channels; RGBA is composed over white as ControlNet's HWC3
    does; more than four channels (image + mask) keep the first three.
    """
    arr = np.asarray(image)
    if arr.ndim not in (2, 3) or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise SkelextError(f"expected an image array (H, W[, C]), got shape {arr.shape}")
    if arr.dtype != np.uint8:
        if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
            raise SkelextError(f"expected a uint8 image, got dtype {arr.dtype}")
        arr = np.clip(np.nan_to_num(arr.astype(np.float64)), 0, 255).astype(np.uint8)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    channels = arr.shape[2]
    if channels == 1:
        arr = np.repeat(arr, 3, axis=2)
    elif channels == 4:
        color = arr[:, :, :3].astype(np.float32)
        alpha = arr[:, :, 3:4].astype(np.float32) / 255.0
        arr = np.clip(color * alpha + 255.0 * (1.0 - alpha), 0, 255).round().astype(np.uint8)
    elif channels >= 3:
        arr = arr[:, :, :3]
    else:
        raise SkelextError(f"expected 1, 3 or 4 channels, got {channels}")
    return np.ascontiguousarray(arr)


class DWPoseFullRunner:
    """Callable doing one ``dwpose_full`` run for a host.

    options: returns the current ``HostOptions`` (read on every call, so
        settings changes apply at once).
    detector_factory: ``(options) -> detector`` passed to ``run_dwpose_full``;
        default: a ``DWPoseDetector`` on ``options.search_dirs``, cached per
        (folders, device) and created under a lock.
    """

    def __init__(self, options: Callable[[], HostOptions],
                 detector_factory: Optional[Callable[[HostOptions], Any]] = None) -> None:
        self.options = options
        self.detector_factory = detector_factory or self._dwpose_detector
        self._lock = threading.Lock()
        self._detectors: Dict[Tuple, Any] = {}
        self._reported: set = set()

    # ------------------------------------------------------------ detectors
    def _dwpose_detector(self, options: HostOptions) -> Any:
        key = (options.dwpose_dir, tuple(options.search_dirs), options.device)
        with self._lock:
            detector = self._detectors.get(key)
            if detector is None:
                from ..dwpose import DWPoseDetector

                detector = DWPoseDetector(weights_dir=options.dwpose_dir or None,
                                          search_dirs=list(options.search_dirs) or None,
                                          device=options.device)
                self._detectors = {key: detector}  # settings changed: drop the old one
            return detector

    def detector(self, options: Optional[HostOptions] = None) -> Any:
        return self.detector_factory(options or self.options())

    def _load(self, detector: Any) -> None:
        """Load the detector's model files once, under the lock (UI, API and
        generation may ask at the same time)."""
        if getattr(detector, "_skelext_loaded", False) or not hasattr(detector, "load"):
            return
        with self._lock:
            if not getattr(detector, "_skelext_loaded", False):
                detector.load()
                try:
                    detector._skelext_loaded = True
                except AttributeError:  # objects with __slots__: load() must be idempotent then
                    pass

    # ----------------------------------------------------------------- runs
    def settings(self, options: HostOptions, resolution: int, slider_1: Any, slider_2: Any) -> PipelineSettings:
        return PipelineSettings(
            resolution=resolution,
            canvas=canvas_from_slider(slider_1, options.canvas if options.canvas in CANVAS_MODES else "keep"),
            detector="dwpose",
            detection_threshold=threshold_from_slider(slider_2),
            draw_hands=bool(options.draw_hands),
            draw_face=bool(options.draw_face),
        )

    def _report_once(self, message: str) -> None:
        if message not in self._reported:
            self._reported.add(message)
            logger.error("skelext dwpose_full: %s", message)

    def run(self, image: Any, resolution: Any = None, slider_1: Any = None, slider_2: Any = None):
        """-> ``PipelineResult``; the pipeline resizes the image as ControlNet does
        (short side -> resolution), so the control image has the size of
        ControlNet's own ``dw_openpose_full`` output."""
        from ..pipeline import run_dwpose_full

        options = self.options()
        rgb = to_rgb_uint8(image)
        settings = self.settings(options, resolution_from_slider(resolution), slider_1, slider_2)
        detector = self.detector(options)
        try:
            self._load(detector)
            return run_dwpose_full(rgb, settings, detector=detector)
        except SkelextError as exc:  # missing weights, bad image: one clear line, then fail
            self._report_once(str(exc))
            raise
        except Exception as exc:  # never lose the pose to a completion bug: plain DWPose
            if hasattr(detector, "load") and not getattr(detector, "_skelext_loaded", False):
                raise  # the detector itself failed to load: nothing to fall back to
            self._report_once(f"completion failed ({type(exc).__name__}: {exc}); using plain DWPose")
            return run_dwpose_full(rgb, dataclasses.replace(settings, complete=False), detector=detector)

    def __call__(self, image: Any, resolution: Any = None, slider_1: Any = None, slider_2: Any = None,
                 json_pose_callback: Optional[Callable[[Any], None]] = None,
                 payload: str = PAYLOAD_DICT) -> np.ndarray:
        result = self.run(image, resolution, slider_1, slider_2)
        control = np.ascontiguousarray(to_rgb_uint8(result.control_image))
        if json_pose_callback is not None:
            json_pose_callback(pose_payload(result, payload))
        return control


def pose_payload(result: Any, kind: str = PAYLOAD_DICT) -> Any:
    """The completed poses for ``json_pose_callback``: dict, or JSON text for old ControlNet."""
    if kind == PAYLOAD_STR:
        return result.json_text
    import json

    return json.loads(result.json_text)
