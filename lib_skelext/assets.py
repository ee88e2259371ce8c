"""Files that ship with skelext: the models (completion, leg lengths), the tab's script and stylesheet.

In a source tree (a WebUI/ComfyUI extension folder, a git clone, ``pip install -e .``) they sit
at the repository root, where the hosts expect them; a built wheel carries copies inside the
package (``lib_skelext/_assets/``, see ``setup.py``), found through ``importlib.resources``.
"""
from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Any, Dict, Tuple

from .errors import ModelError

#: The repository root when running from a source tree.
SOURCE_ROOT = Path(__file__).resolve().parents[1]


def asset_path(relative: str) -> Path:
    """Path of a shipped file, e.g. ``asset_path("models/skelext_completion_v2.safetensors")``.

    The packaged copy wins when present (an installed wheel); else the source tree's file. The
    returned path may not exist (the caller reports that with its own message)."""
    packaged = resources.files("lib_skelext").joinpath("_assets", *relative.split("/"))
    if packaged.is_file():
        return Path(str(packaged))
    return SOURCE_ROOT / relative


def read_model_file(path: str, what: str, rebuild: str) -> Tuple[Dict[str, Any], Dict[str, str]]:
    """(arrays, metadata) of a safetensors model file (numpy; safetensors imported here, lazily).
    ``ModelError`` with one line saying what to do when it is missing or unreadable: what = "completion
    model", rebuild = the command that builds it."""
    if not os.path.isfile(path):
        raise ModelError(f"{what} not found at {path}; reinstall skelext or run `{rebuild}` to build it")
    try:
        from safetensors import safe_open
        from safetensors.numpy import load_file

        weights = load_file(path)
        with safe_open(path, framework="numpy") as f:
            meta = dict(f.metadata() or {})
    except Exception as exc:  # unreadable or foreign file (safetensors raises its own types)
        raise ModelError(f"cannot read {what} {path}: {exc}; re-download or rebuild it") from exc
    return weights, meta
