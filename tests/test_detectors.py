"""The one detector registry: keyed by (name, weights folder, search folders, device), built and
loaded once, freed by ``unload_all`` and by ControlNet's unload hooks (new and legacy registries,
Forge)."""
from __future__ import annotations

import numpy as np
import pytest

from hosts import FakeDetector, Hosts
from lib_skelext import detectors, host
from lib_skelext.detectors import DetectorLocation, get_detector, unload_all
from lib_skelext.errors import SkelextError
from lib_skelext.host import options as host_options
from lib_skelext.host import registry
from lib_skelext.host.preprocess import LABEL, DWPoseFullRunner


class Counting(FakeDetector):
    def __init__(self, *args) -> None:
        super().__init__()
        self.args, self.loads, self.unloads = args, 0, 0

    def load(self):
        self.loads += 1
        return self

    def unload(self) -> None:
        self.unloads += 1


@pytest.fixture
def counting(monkeypatch):
    built = []
    monkeypatch.setattr(detectors, "_INSTANCES", {})
    monkeypatch.setattr(detectors, "_LOADED", {})
    monkeypatch.setitem(detectors._FACTORIES, "dwpose", lambda *args: built.append(Counting(*args)) or built[-1])
    return built


def test_one_instance_per_key_loaded_once(counting):
    a = get_detector("dwpose")
    assert get_detector("dwpose") is a and a.loads == 1
    here = DetectorLocation(weights_dir="/w", search_dirs=("/cn/openpose",), device="cpu")
    b = get_detector("dwpose", here)
    assert b is not a and b.args == ("/w", [__import__("pathlib").Path("/cn/openpose")], "cpu")
    assert get_detector("dwpose", weights_dir="/w", search_dirs=["/cn/openpose"], device="cpu") is b
    assert len(counting) == 2


def test_unload_all_frees_and_forgets(counting):
    a = get_detector("dwpose")
    assert unload_all("blazepose") == 0 and a.unloads == 0
    assert unload_all() == 1 and a.unloads == 1
    again = get_detector("dwpose")
    assert again is not a and again.loads == 1  # rebuilt on the next use


def test_unknown_name_and_failed_load_are_clear(monkeypatch, counting):
    with pytest.raises(SkelextError, match="unknown detector 'openpose'; choose one of blazepose, dwpose"):
        get_detector("openpose")

    class Broken(Counting):
        def load(self):
            raise SkelextError("weights missing")

    monkeypatch.setitem(detectors._FACTORIES, "dwpose", lambda *a: Broken())
    with pytest.raises(SkelextError, match="weights missing"):
        get_detector("dwpose")
    assert detectors.loaded_keys() == ()  # a failed load is tried again next time


@pytest.mark.parametrize("registry_kind", ["controlnet", "legacy", "forge"])
def test_controlnet_unload_hook_frees_the_onnx_sessions(monkeypatch, tmp_path, counting, registry_kind):
    """ControlNet calls the preprocessor's unload (new registry: ``Preprocessor.unload`` after
    /controlnet/detect; legacy: ``cn_preprocessor_unloadable[module]()``; Forge: ``unload``)."""
    h = Hosts(monkeypatch)
    h.webui(models_path=tmp_path / "models")
    monkeypatch.setattr(host, "_runner", DWPoseFullRunner(host_options.read_options))
    monkeypatch.setattr(registry, "registered", {})
    monkeypatch.setattr(registry, "_payload_kind", {})
    image = np.zeros((200, 300, 3), np.uint8)
    if registry_kind == "controlnet":
        api = h.controlnet()
        host.register_preprocessors()
        api.detect(LABEL, [image])  # the fake, as the real route, calls preprocessor.unload() at the end
    elif registry_kind == "legacy":
        h.controlnet_legacy()
        host.register_preprocessors()
        state = __import__("sys").modules["scripts.global_state"]
        state.cn_preprocessor_modules[registry.LEGACY_KEY](image, 256)
        state.cn_preprocessor_unloadable[registry.LEGACY_KEY]()
    else:
        h.forge()
        h.remove("scripts.supported_preprocessor", "scripts.global_state")
        host.register_preprocessors()
        registry.registered["forge"](image, resolution=256)
        registry.registered["forge"].unload()
    assert len(counting) == 1 and counting[0].loads == 1 and counting[0].unloads == 1
    assert detectors.loaded_keys() == ()
