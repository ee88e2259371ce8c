"""ComfyUI entry point: this repository cloned into ``ComfyUI/custom_nodes/`` is a node pack.

ComfyUI imports this file as a package and reads ``NODE_CLASS_MAPPINGS`` /
``NODE_DISPLAY_NAME_MAPPINGS`` (nodes in ``lib_skelext/comfyui/``). The AUTOMATIC1111 and
Forge WebUIs never import it (they run ``install.py`` and ``scripts/*.py``), and pytest does
not collect it (``testpaths = tests``), so the same tree stays a WebUI extension.

Importing is cheap: stdlib and numpy only; torch, OpenCV and the models load when a node
first runs. The library is loaded from this folder by path, so nothing is added to
``sys.path`` (this folder's ``scripts``, ``tests`` or ``install`` never shadow another's).
"""
from __future__ import annotations

import importlib.util
import os
import sys


def _load_library() -> None:
    """Import this folder's ``lib_skelext`` (unless one was imported already)."""
    name = "lib_skelext"
    if name in sys.modules:
        return
    folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), name)
    spec = importlib.util.spec_from_file_location(name, os.path.join(folder, "__init__.py"),
                                                  submodule_search_locations=[folder])
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise


_load_library()

from lib_skelext.comfyui.nodes import NODE_CLASS_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS  # noqa: E402

__all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS"]
