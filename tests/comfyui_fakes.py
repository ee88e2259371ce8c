"""Put the fake ComfyUI modules (``tests/fake_hosts/comfyui``: ``comfy.utils``, ``folder_paths``)
on ``sys.path`` for one test, every folder under ``tmp_path`` as ``--base-directory`` does, and
remove them again afterwards (other tests must see no ComfyUI)."""
from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType
from typing import Iterator

import pytest

FAKE_COMFY = Path(__file__).resolve().parent / "fake_hosts" / "comfyui"
_MODULES = ("comfy", "comfy.utils", "folder_paths")


@pytest.fixture
def comfy_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """The fake ``folder_paths`` module (based at tmp_path); ``comfy.utils.BARS`` lists progress bars."""
    for name in _MODULES:
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.syspath_prepend(str(FAKE_COMFY))
    import folder_paths

    folder_paths.set_base(str(tmp_path / "comfy"))
    try:
        yield folder_paths
    finally:
        for name in _MODULES:
            sys.modules.pop(name, None)
