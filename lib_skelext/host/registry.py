"""Registration of ``dwpose_full`` with the three preprocessor registries.

* sd-webui-controlnet >= 1.1.444: ``scripts.supported_preprocessor.Preprocessor``
  (a dataclass; ``add_supported_preprocessor`` asserts the name and label are
  new, so we look first with ``get_preprocessor``). Name ``dwpose_full``, label
  ``LABEL``. The UI and ``/controlnet/detect`` test the label the user picked
  (or the string the client sent) for "openpose".
* sd-webui-controlnet <= 1.1.443: the dicts of ``scripts.global_state``. The UI
  and the API reduce the choice to its dict key before testing for "openpose",
  so the key is ``LABEL``; ``dwpose_full`` is added as an alias of it.
* Forge: ``modules_forge.shared.add_supported_preprocessor`` with a
  ``modules_forge.supported_preprocessor.Preprocessor`` subclass. Forge has no
  labels and tests the name for "openpose", so the name is ``LABEL``.

Each function only reads ``sys.modules`` for ControlNet (importing its modules
ourselves could load a second copy) and returns False when its host is absent.
All are idempotent: calling them again (UI reload, late ControlNet) adds nothing.
"""
from __future__ import annotations

import bisect
import importlib
import inspect
import logging
import sys
from typing import Any, Callable, Dict, Optional

from ..settings import OPTIONS
from .preprocess import (
    CANVAS_LABEL, DEFAULT_THRESHOLD, LABEL, MODEL_FILTERS, NAME, PAYLOAD_DICT, PAYLOAD_STR, RESOLUTION_LABEL,
    TAGS, THRESHOLD_LABEL, DWPoseFullRunner, canvas_index,
)

logger = logging.getLogger(__name__)

_RES = OPTIONS["resolution"]
FORGE_NAME = LABEL
LEGACY_KEY = LABEL
#: The threshold slider's range: the option's (``settings.OPTIONS``), as on every other surface.
THRESHOLD_RANGE = (OPTIONS["detection_threshold"].minimum, OPTIONS["detection_threshold"].maximum)
#: The registered objects, by registry, for settings updates and tests.
registered: Dict[str, Any] = {}


def unload_detectors() -> None:
    """Free DWPose's ONNX sessions (rebuilt on the next call)."""
    from ..detectors import unload_all

    unload_all("dwpose")


def _slider_values(default_canvas: str) -> Dict[str, dict]:
    """The three sliders, from ``OPTIONS``; the resolution slider stops at 2048 as ControlNet's own
    resolution slider does (``resolution_from_slider`` takes API values up to the option's 4096)."""
    return {
        "resolution": dict(label=RESOLUTION_LABEL, minimum=_RES.minimum, maximum=2048, value=_RES.default,
                           step=_RES.step),
        "canvas": dict(label=CANVAS_LABEL, minimum=0, maximum=2, value=canvas_index(default_canvas), step=1),
        "threshold": dict(label=THRESHOLD_LABEL, minimum=THRESHOLD_RANGE[0], maximum=THRESHOLD_RANGE[1],
                          value=DEFAULT_THRESHOLD, step=OPTIONS["detection_threshold"].step),
    }


# ------------------------------------------------------ sd-webui-controlnet, new
def register_controlnet(runner: DWPoseFullRunner, default_canvas: str = "keep") -> bool:
    module = sys.modules.get("scripts.supported_preprocessor")
    base = getattr(module, "Preprocessor", None)
    param = getattr(module, "PreprocessorParameter", None)
    if base is None or param is None or not hasattr(base, "add_supported_preprocessor"):
        return False
    existing = base.get_preprocessor(NAME) or base.get_preprocessor(LABEL)
    if existing is not None:
        registered["controlnet"] = existing
        return True
    sliders = _slider_values(default_canvas)
    resolution_min = getattr(getattr(base, "slider_resolution", None), "minimum", 64)

    class SkelextDWPoseFull(base):  # type: ignore[misc, valid-type]
        """dwpose_full for sd-webui-controlnet's preprocessor registry."""

        def __init__(self) -> None:
            super().__init__(name=NAME)
            self._label = LABEL
            self.tags = list(TAGS)
            self.slider_resolution = param(**dict(sliders["resolution"], minimum=resolution_min), visible=True)
            self.slider_1 = param(**sliders["canvas"], visible=True)
            self.slider_2 = param(**sliders["threshold"], visible=True)
            self.slider_3 = param(visible=False)
            # Set whether or not this ControlNet release declares them.
            for attr, value in (("model_filename_filters", list(MODEL_FILTERS)), ("returns_image", True),
                                ("accepts_mask", False), ("requires_mask", False), ("show_control_mode", True),
                                ("do_not_need_model", False), ("sorting_priority", 0), ("model", None),
                                ("use_soft_projection_in_hr_fix", False)):
                setattr(self, attr, value)

        def __call__(self, input_image, resolution=512, slider_1=None, slider_2=None, slider_3=None,
                     input_mask=None, json_pose_callback=None, **kwargs):
            return runner(input_image, resolution, slider_1, slider_2, json_pose_callback, payload=PAYLOAD_DICT)

        def unload(self):
            """ControlNet's unload hook (after each generation with low VRAM, and on its unload button)."""
            unload_detectors()
            return True

    instance = SkelextDWPoseFull()
    base.add_supported_preprocessor(instance)
    registered["controlnet"] = instance
    logger.info("skelext: registered %r with sd-webui-controlnet", LABEL)
    return True


# --------------------------------------------------- sd-webui-controlnet, legacy
_payload_kind: Dict[str, str] = {}


def legacy_payload_kind() -> str:
    """What this legacy ControlNet's ``json_pose_callback`` expects.

    ControlNet's own encoder gained an ``animals`` argument in the release that
    switched the callback from a JSON string to a dict; older ones take a string.
    """
    if "kind" not in _payload_kind:
        kind = PAYLOAD_DICT
        module = sys.modules.get("annotator.openpose")
        if module is None and "annotator" in sys.modules:
            try:
                module = importlib.import_module("annotator.openpose")
            except Exception:
                module = None
        encoder = getattr(module, "encode_poses_as_json", None)
        if encoder is not None:
            try:
                kind = PAYLOAD_DICT if "animals" in inspect.signature(encoder).parameters else PAYLOAD_STR
            except (TypeError, ValueError):
                pass
        _payload_kind["kind"] = kind
    return _payload_kind["kind"]


def make_legacy_function(runner: DWPoseFullRunner,
                         payload_kind: Callable[[], str] = legacy_payload_kind) -> Callable[..., Any]:
    def dwpose_full(img, res=512, thr_a=None, thr_b=None, json_pose_callback=None, low_vram=False, **kwargs):
        """skelext dwpose_full: DWPose, then missing body points completed."""
        return runner(img, res, thr_a, thr_b, json_pose_callback, payload=payload_kind()), True

    return dwpose_full


def register_controlnet_legacy(runner: DWPoseFullRunner, default_canvas: str = "keep") -> bool:
    state = sys.modules.get("scripts.global_state")
    modules = getattr(state, "cn_preprocessor_modules", None)
    if not isinstance(modules, dict):
        return False
    if LEGACY_KEY not in modules:
        modules[LEGACY_KEY] = make_legacy_function(runner)
    unloadable = getattr(state, "cn_preprocessor_unloadable", None)
    if isinstance(unloadable, dict):  # legacy ControlNet calls these to free a module's models
        unloadable.setdefault(LEGACY_KEY, unload_detectors)
    registered["controlnet_legacy"] = modules[LEGACY_KEY]
    processor = sys.modules.get("scripts.processor")
    sliders_config = getattr(state, "preprocessor_sliders_config", None)
    if not isinstance(sliders_config, dict):
        sliders_config = getattr(processor, "preprocessor_sliders_config", None)
    if isinstance(sliders_config, dict) and LEGACY_KEY not in sliders_config:
        flag = getattr(state, "flag_preprocessor_resolution", None) or getattr(
            processor, "flag_preprocessor_resolution", "Preprocessor Resolution")
        sliders_config[LEGACY_KEY] = [
            {"name": flag if key == "resolution" else s["label"], "value": s["value"], "min": s["minimum"],
             "max": s["maximum"], "step": s["step"]}
            for key, s in _slider_values(default_canvas).items()
        ]
    keys = getattr(state, "ui_preprocessor_keys", None)
    if isinstance(keys, list) and LEGACY_KEY not in keys:
        head = min(2, len(keys))  # "none" and the inverted-lineart alias stay first
        keys.insert(head + bisect.bisect(sorted(keys[head:]), LEGACY_KEY), LEGACY_KEY)
    reverse = getattr(state, "reverse_preprocessor_aliases", None)
    if isinstance(reverse, dict):
        reverse.setdefault(NAME, LEGACY_KEY)
    logger.info("skelext: registered %r with sd-webui-controlnet (legacy registry)", LEGACY_KEY)
    return True


# ------------------------------------------------------------------------ Forge
def _forge_modules() -> Optional[tuple]:
    try:
        shared = importlib.import_module("modules_forge.shared")
    except Exception:
        return None
    if not hasattr(shared, "add_supported_preprocessor"):
        return None
    try:
        supported = importlib.import_module("modules_forge.supported_preprocessor")
    except Exception as exc:
        logger.warning("skelext: Forge found but its Preprocessor class did not import (%s)", exc)
        return None
    return shared, supported


def register_forge(runner: DWPoseFullRunner, default_canvas: str = "keep") -> bool:
    found = _forge_modules()
    if found is None:
        return False
    shared, supported = found
    table = getattr(shared, "supported_preprocessors", None)
    if isinstance(table, dict) and FORGE_NAME in table:
        registered["forge"] = table[FORGE_NAME]
        return True
    base, param = supported.Preprocessor, supported.PreprocessorParameter
    sliders = _slider_values(default_canvas)

    class SkelextDWPoseFullForge(base):  # type: ignore[misc, valid-type]
        """dwpose_full for Forge's built-in ControlNet."""

        def __init__(self) -> None:
            super().__init__()
            self.name = FORGE_NAME
            self.tags = list(TAGS)
            self.model_filename_filters = list(MODEL_FILTERS)
            self.slider_resolution = param(**dict(sliders["resolution"], minimum=128), visible=True)
            self.slider_1 = param(**sliders["canvas"], visible=True)
            self.slider_2 = param(**sliders["threshold"], visible=True)
            self.slider_3 = param(visible=False)
            self.sorting_priority = 0

        def __call__(self, input_image, resolution=512, slider_1=None, slider_2=None, slider_3=None, **kwargs):
            return runner(input_image, resolution, slider_1, slider_2, kwargs.get("json_pose_callback"),
                          payload=PAYLOAD_DICT)

        def unload(self):
            unload_detectors()
            return True

    instance = SkelextDWPoseFullForge()
    shared.add_supported_preprocessor(instance)
    registered["forge"] = instance
    logger.info("skelext: registered %r with Forge", FORGE_NAME)
    return True


def set_canvas_default(default_canvas: str) -> None:
    """Move the canvas slider's starting value of every registered preprocessor."""
    value = canvas_index(default_canvas)
    for key in ("controlnet", "forge"):
        p = registered.get(key)
        slider = getattr(p, "slider_1", None)
        if slider is None:
            continue
        if isinstance(getattr(slider, "gradio_update_kwargs", None), dict) and not hasattr(slider, "value"):
            slider.gradio_update_kwargs["value"] = value  # Forge keeps only the kwargs
        else:
            try:
                slider.value = value
            except AttributeError:
                pass
    legacy = sys.modules.get("scripts.global_state")
    config = getattr(legacy, "preprocessor_sliders_config", None)
    if isinstance(config, dict) and isinstance(config.get(LEGACY_KEY), list) and len(config[LEGACY_KEY]) > 1:
        config[LEGACY_KEY][1]["value"] = value
