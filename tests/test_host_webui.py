"""What the real WebUI showed the fakes hid (issue #17), checked with the fake WebUI:

* the skelext tab's Run finds DWPose's files where the preprocessor finds them
  (ControlNet's annotator folder), through the same detector registry entry;
* one start-up line names the registered module and the REST prefix (or says
  sd-webui-controlnet is absent), visible at the WebUI's default log level.

The tab test uses the stand-in ONNX files of ``_onnx_fakes`` in the folder the WebUI
option ``control_net_modules_path`` names, offline, with an empty skelext cache.
"""
from __future__ import annotations

import importlib.util
import logging
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from hosts import Hosts  # noqa: E402
from lib_skelext import detectors, host  # noqa: E402
from lib_skelext.ui import handlers  # noqa: E402
from lib_skelext.errors import SkelextError  # noqa: E402
from lib_skelext.host import registry  # noqa: E402
from lib_skelext.host.preprocess import LABEL  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def stand_in_dwpose(folder: Path) -> None:
    """yolox_l.onnx finding one person box; dw-ll_ucoco_384.onnx putting shoulders, nose and hips
    inside the crop (scores 0.9)."""
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    from _onnx_fakes import empty_raw, encode_box, make_constant_pose_model, make_detector_model

    folder.mkdir(parents=True, exist_ok=True)
    raw = empty_raw()
    encode_box(raw, (220, 60, 420, 460), 1.0, objectness=0.95, class_scores={0: 0.9})
    make_detector_model(folder / "yolox_l.onnx", raw)
    sx, sy = np.zeros((133, 576), np.float32), np.zeros((133, 768), np.float32)
    for index, (x_bin, y_bin) in {0: (288, 150), 5: (360, 260), 6: (216, 260), 11: (330, 520),
                                  12: (246, 520)}.items():
        sx[index, x_bin] = sy[index, y_bin] = 0.9
    make_constant_pose_model(folder / "dw-ll_ucoco_384.onnx", sx, sy)


def load_script() -> types.ModuleType:
    sys.path.insert(0, str(REPO))
    spec = importlib.util.spec_from_file_location("skelext.py", REPO / "scripts" / "skelext.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def webui(monkeypatch, tmp_path):
    h = Hosts(monkeypatch)
    h.webui(models_path=tmp_path / "webui" / "models")
    monkeypatch.setattr(host, "_runner", None)
    monkeypatch.setattr(host, "_announced", {})
    monkeypatch.setattr(registry, "registered", {})
    monkeypatch.setattr(detectors, "_INSTANCES", {})
    monkeypatch.setattr(detectors, "_LOADED", {})
    monkeypatch.setattr(handlers, "detector_location", lambda: None)  # as before the WebUI built the tab
    for name in ("SKELEXT_DWPOSE_DIR", "SKELEXT_COMPLETION_MODEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("SKELEXT_OFFLINE", "1")
    return h


def test_tab_run_uses_the_preprocessors_weights_and_detector(webui, tmp_path, monkeypatch):
    """Regression (issue #17): the tab's Run failed with "put the file in ~/.cache/skelext/dwpose"
    while the preprocessor found the files in ControlNet's folder."""
    pytest.importorskip("gradio")
    monkeypatch.setenv("SKELEXT_SKIP_SHA256", "1")  # stand-ins, not the published files
    cn_models = tmp_path / "cn_models"
    stand_in_dwpose(cn_models / "openpose")
    sys.modules["modules.shared"].opts.data["control_net_modules_path"] = str(cn_models)
    webui.controlnet()
    load_script()
    photo = np.full((480, 640, 3), 90, np.uint8)

    # Without the WebUI's location the tab would look only in skelext's own cache: the old bug.
    with pytest.raises(SkelextError, match="empty-cache"):
        handlers.start_session(photo, None, detector="dwpose")

    callbacks = sys.modules["modules.script_callbacks"]
    tabs = [tab for c in callbacks.callback_map["callbacks_ui_tabs"] for tab in c.callback()]
    assert [t[1:] for t in tabs] == [("skelext", "skelext")]
    session, message = handlers.start_session(photo, None, detector="dwpose")
    assert message == "1 people detected", message

    dwpose = [(key, detectors._INSTANCES[key]) for key in detectors.loaded_keys() if key[0] == "dwpose"]
    assert len(dwpose) == 1  # one loaded detector (one set of sessions) for the tab and the preprocessor
    key, detector = dwpose[0]
    assert Path(detector.det_model) == cn_models / "openpose" / "yolox_l.onnx"
    assert host.runner().detector() is detector
    assert not (tmp_path / "empty-cache" / "skelext" / "dwpose").exists()  # nothing downloaded or copied
    # and the preprocessor, through ControlNet's detect, gets the same person
    api = sys.modules["scripts.api_detect"]
    assert len(api.detect(LABEL, [photo])["poses"][0]["people"]) == 1


# ------------------------------------------------------------------ start-up line
def test_startup_line_names_module_and_prefix(webui, capsys):
    from fastapi import FastAPI

    webui.controlnet()
    webui.no_forge()
    load_script()
    callbacks = sys.modules["modules.script_callbacks"]
    app = FastAPI()
    callbacks.app_started_callback(None, app)
    callbacks.app_started_callback(None, app)  # a second start (UI reload): no second line
    assert not callbacks.errors
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("skelext")]
    assert len(lines) == 1, lines
    assert f"'{LABEL}' registered with sd-webui-controlnet" in lines[0]
    assert "REST API at /skelext/v1/ (api-auth off)" in lines[0]


def test_startup_line_without_controlnet(webui, capsys):
    from fastapi import FastAPI

    webui.no_forge()
    load_script()
    sys.modules["modules.shared"].cmd_opts.api_auth = "alice:s3cret"
    sys.modules["modules.script_callbacks"].app_started_callback(None, FastAPI())
    out = capsys.readouterr().out
    assert "sd-webui-controlnet not found" in out and "not registered" in out
    assert "/skelext/v1/ (api-auth on)" in out and out.count("\n") == 1


def test_startup_line_forge_and_logging_configured(webui, capsys, caplog):
    from fastapi import FastAPI

    webui.forge()
    with caplog.at_level(logging.INFO, logger="lib_skelext"):
        host.on_app_started(None, FastAPI())
    assert "skelext" not in capsys.readouterr().out  # --loglevel INFO: through the logger, once
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("skelext 0")
             or "registered with Forge's ControlNet;" in r.getMessage()]
    assert len(lines) == 1 and "Forge's ControlNet" in lines[0] and "/skelext/v1/" in lines[0]


def test_foreign_weights_in_controlnet_folder_give_the_clear_line(webui, tmp_path, monkeypatch, caplog):
    """Regression (issue #17): a truncated or foreign file found on disk gave an onnxruntime error;
    now the preprocessor stops with one line naming the file and the expected sha256."""
    from lib_skelext import weights

    monkeypatch.delenv("SKELEXT_SKIP_SHA256", raising=False)
    monkeypatch.setattr(weights, "_VERIFIED", {})
    folder = tmp_path / "cn_models" / "openpose"
    folder.mkdir(parents=True)
    (folder / "yolox_l.onnx").write_bytes(b"<html>rate limited</html>")  # what a failed download leaves
    (folder / "dw-ll_ucoco_384.onnx").write_bytes(b"\0" * 1000)
    sys.modules["modules.shared"].opts.data["control_net_modules_path"] = str(tmp_path / "cn_models")
    api = webui.controlnet()
    host.register_preprocessors()
    with caplog.at_level(logging.ERROR):
        for _ in range(2):
            with pytest.raises(SkelextError) as err:
                api.detect(LABEL, [np.zeros((64, 64, 3), np.uint8)])
    message = str(err.value)
    assert "\n" not in message and str(folder / "yolox_l.onnx") in message
    assert "not the official yolox_l.onnx" in message and weights.DWPOSE_DETECTOR.sha256 in message
    assert sum("not the official" in r.getMessage() for r in caplog.records) == 1  # logged once
