"""Install the fake hosts of ``tests/fake_hosts`` into ``sys.modules`` for one test.

Every module is loaded fresh (new registries each test) with ``monkeypatch``,
so everything is removed again when the test ends.
"""
from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path
from contextlib import contextmanager
from typing import Any, Iterator, List, Optional

import numpy as np

from lib_skelext.pose import N_BODY, Person, PoseFrame

FAKES = Path(__file__).resolve().parent / "fake_hosts"

#: A waist-up person (legs missing) in 0..1 image coordinates; OpenPose body order.
WAIST_UP_NORM = {
    0: (0.43, 0.30), 1: (0.47, 0.48), 2: (0.40, 0.53), 3: (0.34, 0.68), 4: (0.22, 0.77),
    5: (0.55, 0.43), 6: (0.68, 0.60), 7: (0.74, 0.71), 8: (0.53, 0.85), 11: (0.64, 0.82),
    14: (0.41, 0.27), 15: (0.46, 0.26), 16: (0.39, 0.30), 17: (0.50, 0.28),
}


class FakeDetector:
    """Stands in for DWPose: ``detect_people(image, threshold) -> PoseFrame``.

    people: how many waist-up people to report (0 = nobody); calls records
    every (shape, threshold) it was asked about.
    """

    def __init__(self, people: int = 1) -> None:
        self.people = people
        self.calls: List[tuple] = []

    def detect_people(self, image: np.ndarray, threshold: float = 0.3) -> PoseFrame:
        h, w = image.shape[:2]
        self.calls.append((image.shape, threshold))
        people = []
        for i in range(self.people):
            body = np.zeros((N_BODY, 3))
            for index, (x, y) in WAIST_UP_NORM.items():
                body[index] = (x * w * 0.5 + i * w * 0.5, y * h, 1.0)
            people.append(Person(body=body))
        return PoseFrame(people=people, canvas_width=w, canvas_height=h)


class Hosts:
    def __init__(self, monkeypatch) -> None:
        self.mp = monkeypatch
        self.mp.setattr(sys, "path", list(sys.path))

    def use_detector(self, detector: Any, name: str = "dwpose") -> List[tuple]:
        """The registry hands out ``detector`` for ``name`` (fresh registry state for this test);
        -> the list of (weights_dir, search_dirs, device) it was asked for, one per instance built."""
        from lib_skelext import detectors

        asked: List[tuple] = []
        self.mp.setattr(detectors, "_INSTANCES", {})
        self.mp.setattr(detectors, "_LOADED", {})
        self.mp.setitem(detectors._FACTORIES, name, lambda *args: asked.append(args) or detector)
        return asked

    def _load(self, name: str, path: Path, package: bool = False) -> types.ModuleType:
        spec = importlib.util.spec_from_file_location(
            name, path, submodule_search_locations=[str(path.parent)] if package else None)
        module = importlib.util.module_from_spec(spec)
        self.mp.setitem(sys.modules, name, module)
        parent, _, child = name.rpartition(".")
        if parent and parent in sys.modules:
            self.mp.setattr(sys.modules[parent], child, module, raising=False)
        spec.loader.exec_module(module)
        return module

    def _package(self, name: str, folder: Path) -> types.ModuleType:
        module = types.ModuleType(name)
        module.__path__ = [str(folder)]  # type: ignore[attr-defined]
        self.mp.setitem(sys.modules, name, module)
        return module

    def remove(self, *names: str) -> None:
        for name in names:
            if name in sys.modules:
                self.mp.delitem(sys.modules, name)

    def webui(self, models_path: Optional[Path] = None, api_auth: Optional[str] = None) -> types.ModuleType:
        root = FAKES / "webui" / "modules"
        self._load("modules", root / "__init__.py", package=True)
        callbacks = self._load("modules.script_callbacks", root / "script_callbacks.py")
        shared = self._load("modules.shared", root / "shared.py")
        paths = self._load("modules.paths", root / "paths.py")
        if models_path is not None:
            paths.script_path = paths.data_path = str(models_path.parent)
            paths.models_path = str(models_path)
        shared.cmd_opts.api_auth = api_auth
        return callbacks

    def controlnet(self) -> types.ModuleType:
        """sd-webui-controlnet >= 1.1.444 (new registry); returns its api_detect."""
        root = FAKES / "controlnet" / "scripts"
        self._package("scripts", root)
        self._load("scripts.supported_preprocessor", root / "supported_preprocessor.py")
        return self._load("scripts.api_detect", root / "api_detect.py")

    def controlnet_legacy(self, annotator: Optional[str] = "dict") -> types.ModuleType:
        """sd-webui-controlnet <= 1.1.443; annotator: "dict", "str" or None (not loaded)."""
        root = FAKES / "controlnet_legacy"
        self._package("scripts", root / "scripts")
        self._load("scripts.processor", root / "scripts" / "processor.py")
        self._load("scripts.global_state", root / "scripts" / "global_state.py")
        if annotator is not None:
            base = root / f"annotator_{annotator}" / "annotator"
            self._load("annotator", base / "__init__.py", package=True)
            self._load("annotator.openpose", base / "openpose" / "__init__.py", package=True)
        else:
            self.remove("annotator", "annotator.openpose")
        return self._load("scripts.api_detect", root / "scripts" / "api_detect.py")

    def forge(self) -> types.ModuleType:
        root = FAKES / "forge"
        self._load("modules_forge", root / "modules_forge" / "__init__.py", package=True)
        self._load("modules_forge.shared", root / "modules_forge" / "shared.py")
        self._load("modules_forge.supported_preprocessor", root / "modules_forge" / "supported_preprocessor.py")
        return self._load("forge_api_detect", root / "api_detect.py")

    def no_forge(self) -> None:
        """Make ``import modules_forge`` fail, as on AUTOMATIC1111."""
        self.mp.setitem(sys.modules, "modules_forge", None)
        self.mp.setitem(sys.modules, "modules_forge.shared", None)


@contextmanager
def detector_registered(name: str, detector: Any) -> Iterator[Any]:
    """Make the process-wide registry hand out ``detector`` for ``name`` (whatever the location)."""
    from lib_skelext import detectors

    previous = detectors.register_factory(name, lambda *args: detector)
    try:
        yield detector
    finally:
        detectors.register_factory(name, previous)
