"""Files that ship with skelext: the completion model, the tab's script and stylesheet.

In a source tree (a WebUI/ComfyUI extension folder, a git clone, ``pip install -e .``) they sit
at the repository root, where the hosts expect them; a built wheel carries copies inside the
package (``lib_skelext/_assets/``, see ``setup.py``), found through ``importlib.resources``.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

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
