"""ComfyUI nodes for skelext (``category: skelext``).

* ``nodes``: the node classes and ``NODE_CLASS_MAPPINGS`` / ``NODE_DISPLAY_NAME_MAPPINGS``;
* ``retarget_node``: *Retarget Pose* (published by ``nodes``' mappings);
* ``pose_keypoint``: ComfyUI's ``POSE_KEYPOINT`` lists <-> frames (the unit rule: pixels out);
* ``tensors``: ``IMAGE`` tensors <-> numpy images;
* ``host``: ComfyUI's folders and progress bar, imported lazily.

The repository root's ``__init__.py`` re-exports the mappings when the repository is cloned
into ``ComfyUI/custom_nodes/``. Nothing here imports torch at import time.
"""
from __future__ import annotations

from .nodes import NODE_CLASS_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS

__all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS"]
