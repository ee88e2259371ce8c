"""skelext's WebUI settings (section "skelext") and the host paths DWPose is looked for in.

Every host module is imported inside the functions; outside a WebUI the
readers return the defaults.
"""
from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any, List, Optional

from ..settings import CANVAS_MODES, OPTIONS
from .preprocess import HostOptions

logger = logging.getLogger(__name__)

SECTION = ("skelext", "skelext")
OPT_CANVAS = "skelext_canvas_mode"
OPT_DEVICE = "skelext_device"
OPT_DWPOSE_DIR = "skelext_dwpose_dir"
OPT_DRAW_HANDS = "skelext_draw_hands"
OPT_DRAW_FACE = "skelext_draw_face"
DEVICES = ("auto", "cpu", "cuda")
DEFAULTS = HostOptions()


def _opts_data() -> dict:
    try:
        from modules import shared

        data = getattr(getattr(shared, "opts", None), "data", None)
        return data if isinstance(data, dict) else {}
    except Exception:
        return {}


def _cmd_opt(name: str) -> Any:
    try:
        from modules import shared

        return getattr(getattr(shared, "cmd_opts", None), name, None)
    except Exception:
        return None


def controlnet_dir() -> Optional[Path]:
    """sd-webui-controlnet's folder, whatever its name, from its loaded modules."""
    for name in ("scripts.supported_preprocessor", "scripts.global_state", "scripts.processor"):
        module = sys.modules.get(name)
        path = getattr(module, "__file__", None)
        if path:
            return Path(path).resolve().parent.parent
    return None


def forge_preprocessor_dir() -> Optional[Path]:
    module = sys.modules.get("modules_forge.shared")
    value = getattr(module, "preprocessor_dir", None)
    return Path(value) if value else None


def search_dirs(dwpose_dir: str = "") -> List[Path]:
    """Folders that may hold DWPose's files, from the WebUI's options, flags and paths."""
    from ..weights import dwpose_search_dirs

    kw = {}
    try:
        from modules import paths

        kw = dict(webui_root=getattr(paths, "script_path", None), models_path=getattr(paths, "models_path", None),
                  data_path=getattr(paths, "data_path", None))
    except Exception:
        pass
    dirs = dwpose_search_dirs(
        explicit_dir=dwpose_dir or None,
        control_net_modules_path=_opts_data().get("control_net_modules_path") or None,
        controlnet_annotator_models_path=_cmd_opt("controlnet_annotator_models_path") or None,
        controlnet_dir=controlnet_dir(),
        **kw,
    )
    forge = forge_preprocessor_dir()
    if forge is not None and forge / "openpose" not in dirs:
        dirs.insert(1 if dwpose_dir else 0, forge / "openpose")
    return dirs


def read_options() -> HostOptions:
    """The current settings (defaults outside a WebUI or for unset/invalid values)."""
    data = _opts_data()
    canvas = data.get(OPT_CANVAS, DEFAULTS.canvas)
    device = data.get(OPT_DEVICE, DEFAULTS.device)
    dwpose_dir = str(data.get(OPT_DWPOSE_DIR) or "").strip()
    return HostOptions(
        canvas=canvas if canvas in CANVAS_MODES else DEFAULTS.canvas,
        device=device if device in DEVICES else DEFAULTS.device,
        dwpose_dir=dwpose_dir,
        draw_hands=bool(data.get(OPT_DRAW_HANDS, DEFAULTS.draw_hands)),
        draw_face=bool(data.get(OPT_DRAW_FACE, DEFAULTS.draw_face)),
        search_dirs=tuple(search_dirs(dwpose_dir)),
    )


def add_settings(on_canvas_change=None) -> None:
    """``on_ui_settings``: add skelext's options to the WebUI's Settings page."""
    import gradio as gr
    from modules import shared

    def option(default, label, component=None, component_args=None, onchange=None, info=None):
        opt = shared.OptionInfo(default, label, component, component_args, onchange=onchange, section=SECTION)
        if info and hasattr(opt, "info"):
            opt = opt.info(info)
        return opt

    shared.opts.add_option(OPT_CANVAS, option(
        DEFAULTS.canvas, "dwpose_full: default canvas mode (the preprocessor's first slider starts here)",
        gr.Radio, {"choices": list(CANVAS_MODES)}, onchange=on_canvas_change,
        info=OPTIONS["canvas"].help))
    shared.opts.add_option(OPT_DEVICE, option(
        DEFAULTS.device, "Device for DWPose (onnxruntime)", gr.Radio, {"choices": list(DEVICES)},
        info="auto uses CUDA when onnxruntime-gpu is installed; the completion network is a small "
             "numpy model and always runs on the CPU"))
    shared.opts.add_option(OPT_DWPOSE_DIR, option(
        DEFAULTS.dwpose_dir, "Folder with DWPose weights (yolox_l.onnx, dw-ll_ucoco_384.onnx)",
        info="empty: reuse ControlNet's annotator folder (…/openpose), Forge's "
             "models/ControlNetPreprocessor/openpose, else download to models/skelext/dwpose"))
    shared.opts.add_option(OPT_DRAW_HANDS, option(DEFAULTS.draw_hands, "dwpose_full: draw hands"))
    shared.opts.add_option(OPT_DRAW_FACE, option(DEFAULTS.draw_face, "dwpose_full: draw the face"))


def api_auth() -> Optional[str]:
    """The WebUI's ``--api-auth`` value ("user:pass,user2:pass2"), if any."""
    value = _cmd_opt("api_auth")
    return value if isinstance(value, str) and value.strip() else None
