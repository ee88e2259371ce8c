"""What the nodes take from ComfyUI itself: folders (``folder_paths``) and the progress bar
(``comfy.utils.ProgressBar``). Imported inside functions, so this package imports without
ComfyUI (unit tests, the WebUI extension); outside ComfyUI the folders fall back to the current
directory and the progress bar does nothing.

Interfaces as in ComfyUI v0.3.64 (``folder_paths.py``, ``comfy/utils.py``).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, List, Optional, Tuple

from ..errors import SkelextError


class _NoProgress:
    def __init__(self, total: int) -> None:
        self.total, self.current = total, 0

    def update(self, value: int) -> None:
        self.current += value


def progress_bar(total: int) -> Any:
    """``comfy.utils.ProgressBar(total)`` inside ComfyUI (the node's bar in the page), else a no-op."""
    try:
        from comfy.utils import ProgressBar
    except ImportError:
        return _NoProgress(total)
    return ProgressBar(total)


def _folder_paths() -> Optional[Any]:
    try:
        import folder_paths
    except ImportError:
        return None
    return folder_paths


def input_directory() -> str:
    fp = _folder_paths()
    return fp.get_input_directory() if fp is not None else os.getcwd()


def output_directory() -> str:
    fp = _folder_paths()
    return fp.get_output_directory() if fp is not None else os.getcwd()


def dwpose_location() -> Any:
    """Where DWPose's two ONNX files are looked for: comfyui_controlnet_aux's checkpoint folder
    (``custom_nodes/comfyui_controlnet_aux/ckpts/yzd-v/DWPose``), then ``models/skelext/dwpose``,
    where they are downloaded when missing."""
    from ..detectors import DetectorLocation

    fp = _folder_paths()
    if fp is None:
        return DetectorLocation()
    search: List[str] = []
    try:
        node_dirs = fp.get_folder_paths("custom_nodes")
    except Exception:  # an older ComfyUI without the custom_nodes folder key
        node_dirs = []
    for node_dir in node_dirs:
        for pack in ("comfyui_controlnet_aux", "comfyui-controlnet-aux"):
            search.append(os.path.join(node_dir, pack, "ckpts", "yzd-v", "DWPose"))
    weights_dir = os.path.join(fp.models_dir, "skelext", "dwpose")
    return DetectorLocation(weights_dir=weights_dir, search_dirs=tuple(search))


def resolve_input_file(path: str) -> Path:
    """A pose file named by the user: absolute, or relative to ComfyUI's input folder."""
    text = path.strip().strip('"').strip("'")
    candidate = Path(text).expanduser()
    if not candidate.is_absolute():
        candidate = Path(input_directory()) / candidate
    if not candidate.is_file():
        raise SkelextError(f"{text}: no such file (relative paths are read from ComfyUI's input folder "
                           f"{input_directory()})")
    return candidate


def output_file_base(filename_prefix: str) -> Tuple[Path, str, int, str]:
    """(folder, file name stem, counter, subfolder) for new files under ComfyUI's output folder,
    numbered like ComfyUI's SaveImage (``prefix_00001_``). Refuses prefixes that leave the folder."""
    prefix = (filename_prefix or "").strip()
    if not prefix:
        raise SkelextError("filename_prefix is empty; e.g. skelext/pose")
    if os.path.isabs(prefix) or ".." in Path(prefix).parts:
        raise SkelextError(f"filename_prefix {prefix!r} must stay inside ComfyUI's output folder "
                           "(no absolute path, no '..')")
    out_dir = output_directory()
    fp = _folder_paths()
    if fp is not None:
        folder, stem, counter, subfolder, _ = fp.get_save_image_path(prefix, out_dir)
    else:  # outside ComfyUI: the same numbering, without its module
        subfolder, stem = os.path.split(os.path.normpath(prefix))
        folder = os.path.join(out_dir, subfolder)
        taken = [name[len(stem) + 1:].split("_")[0] for name in (os.listdir(folder) if os.path.isdir(folder) else [])
                 if name.startswith(stem + "_")]
        counter = max([int(t) for t in taken if t.isdigit()] + [0]) + 1
    os.makedirs(folder, exist_ok=True)
    return Path(folder), stem, int(counter), subfolder
