"""Training and evaluation pipeline of the skelext completion model (torch lives only here).

Run everything with ``.venv/bin/python -m train.reproduce``.
"""
from __future__ import annotations

import os

#: Repository root (the folder holding ``lib_skelext``).
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: Default data folder (../shared/data from the repository root).
DEFAULT_DATA_DIR = os.path.normpath(os.path.join(REPO_ROOT, "..", "shared", "data"))
#: Default seed-model folder, used for comparisons only.
DEFAULT_ANCHORS_DIR = os.path.normpath(os.path.join(REPO_ROOT, "..", "shared", "anchors"))
#: Git-ignored working folder for converted data and checkpoints.
CACHE_DIR = os.path.join(REPO_ROOT, "train", "cache")
