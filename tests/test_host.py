"""dwpose_full in the hosts: sd-webui-controlnet (new and legacy registries) and Forge.

The hosts are the fakes of ``tests/fake_hosts`` (written from host-notes), the
detector a ``FakeDetector`` handed out by the detector registry (``Hosts.use_detector``);
everything else (pipeline, rendering, JSON) is skelext's real code.
Runs in both test environments (.venv and .venv-forge).
"""
from __future__ import annotations

import importlib.util
import json
import logging
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from hosts import FakeDetector, Hosts
from lib_skelext import host
from lib_skelext.errors import SkelextError
from lib_skelext.host import options as host_options
from lib_skelext.host import registry
from lib_skelext.host.preprocess import (
    LABEL, NAME, PAYLOAD_STR, DWPoseFullRunner, HostOptions, canvas_from_slider, resolution_from_slider,
    threshold_from_slider,
)

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def hosts(monkeypatch, tmp_path):
    """Fake hosts + a fresh skelext host state whose runner uses a FakeDetector."""
    h = Hosts(monkeypatch)
    h.detector = FakeDetector()
    h.webui(models_path=tmp_path / "models")
    h.locations = h.use_detector(h.detector)
    monkeypatch.setattr(host, "_runner", DWPoseFullRunner(host_options.read_options))
    from lib_skelext.ui import handlers

    monkeypatch.setattr(handlers, "detector_location", lambda: None)  # on_ui_tabs sets it: undone after each test
    monkeypatch.setattr(registry, "registered", {})
    monkeypatch.setattr(registry, "_payload_kind", {})
    return h


def photo(h: int = 200, w: int = 300, channels: int = 3) -> np.ndarray:
    rng = np.random.default_rng(0)
    shape = (h, w) if channels == 1 else (h, w, channels)
    return rng.integers(0, 255, size=shape, dtype=np.uint8)


def expected_size(h: int, w: int, resolution: int):
    k = resolution / min(h, w)
    return int(np.round(h * k)), int(np.round(w * k))


def check_pose(pose, image: np.ndarray, people: int) -> None:
    assert isinstance(pose, dict)
    json.dumps(pose, allow_nan=False)  # plain JSON types only
    assert (pose["canvas_height"], pose["canvas_width"]) == image.shape[:2]
    assert len(pose["people"]) == people
    for person in pose["people"]:
        assert len(person["pose_keypoints_2d"]) == 54


# ------------------------------------------------------------------ new registry
def test_new_registry_registration(hosts):
    hosts.controlnet()
    assert host.register_preprocessors()["controlnet"] is True
    P = sys.modules["scripts.supported_preprocessor"].Preprocessor
    p = P.get_preprocessor(NAME)
    assert p is not None and P.get_preprocessor(LABEL) is p
    assert "dwpose_full" in p.label and "openpose" in p.label
    assert p.name == "dwpose_full" and p.tags == ["OpenPose"]
    assert p.returns_image is True
    assert (p.slider_1.minimum, p.slider_1.maximum, p.slider_1.step, p.slider_1.value) == (0, 2, 1, 0)
    assert "keep" in p.slider_1.label and "fit" in p.slider_1.label and "expand" in p.slider_1.label
    assert "threshold" in p.slider_2.label.lower() and p.slider_2.value == pytest.approx(0.3)
    assert p.slider_3.visible is False
    assert p.slider_resolution.minimum == 64 and p.slider_resolution.value == 512


def test_new_registry_detect_by_label_returns_completed_poses(hosts):
    api = hosts.controlnet()
    host.register_preprocessors()
    img = photo(200, 300)
    res = api.detect(LABEL, [img], processor_res=512)
    out = res["images"][0]
    assert out.dtype == np.uint8 and out.shape == expected_size(200, 300, 512) + (3,)
    check_pose(res["poses"][0], out, people=1)
    assert out.any()  # the skeleton was drawn
    person = res["poses"][0]["people"][0]
    assert {9, 10, 12, 13} <= set(person["skelext"]["completed"])  # the shipped model added the legs
    body = np.array(person["pose_keypoints_2d"]).reshape(18, 3)
    assert (body[[10, 13], 2] == 1.0).all() and (body[[10, 13], 1] > body[[8, 11], 1]).all()


def test_new_registry_detect_by_name_gives_image(hosts):
    api = hosts.controlnet()
    host.register_preprocessors()
    res = api.detect(NAME, [photo()], processor_res=256)
    assert res["images"][0].shape == expected_size(200, 300, 256) + (3,)
    assert "poses" not in res  # the host's "openpose" gate: the name alone gets no JSON


def test_callback_called_with_zero_people(hosts):
    api = hosts.controlnet()
    host.register_preprocessors()
    hosts.detector.people = 0
    res = api.detect(LABEL, [photo()])
    check_pose(res["poses"][0], res["images"][0], people=0)
    assert not res["images"][0].any()


def test_callback_none_and_odd_images(hosts):
    hosts.controlnet()
    host.register_preprocessors()
    p = sys.modules["scripts.supported_preprocessor"].Preprocessor.get_preprocessor(LABEL)
    for img in (photo(), photo(channels=1), photo(channels=4), photo(64, 64)):
        out = p(img, 128, json_pose_callback=None)
        assert out.ndim == 3 and out.shape[2] == 3 and min(out.shape[:2]) == 128
    # generation path: cached_call with model= and low_vram=, no callback
    out = p.cached_call(photo(), resolution=512, slider_1=2, slider_2=0.5, low_vram=False, model="x").value
    assert out.shape[2] == 3


def test_slider_values_reach_the_pipeline(hosts):
    hosts.controlnet()
    host.register_preprocessors()
    p = sys.modules["scripts.supported_preprocessor"].Preprocessor.get_preprocessor(NAME)
    p(photo(), 256, slider_1=0, slider_2=0.45)
    assert hosts.detector.calls[-1][1] == pytest.approx(0.45)
    p(photo(), 256, slider_1=-1, slider_2=64)  # a client that left the sliders out
    assert hosts.detector.calls[-1][1] == pytest.approx(0.3)
    keep = p(photo(), 256, slider_1=0, slider_2=0.3)
    expand = p(photo(), 256, slider_1=2, slider_2=0.3)
    assert keep.shape == expected_size(200, 300, 256) + (3,)
    assert expand.shape[0] >= keep.shape[0] and expand.shape[1] >= keep.shape[1]


def test_register_twice_and_ui_reload(hosts):
    hosts.controlnet()
    first = host.register_preprocessors()
    second = host.register_preprocessors()  # same registry: guarded, no AssertionError
    assert first["controlnet"] and second["controlnet"]
    P = sys.modules["scripts.supported_preprocessor"].Preprocessor
    assert sum(1 for p in P.all_processors.values() if p.name == NAME) == 1
    hosts.controlnet()  # a reload that re-imported ControlNet: a fresh registry
    assert host.register_preprocessors()["controlnet"]
    assert sys.modules["scripts.supported_preprocessor"].Preprocessor.get_preprocessor(NAME) is not None


def load_script(hosts) -> types.ModuleType:
    """Load scripts/skelext.py the way the WebUI does (by file, extension root on sys.path)."""
    sys.path.insert(0, str(REPO))
    spec = importlib.util.spec_from_file_location("skelext.py", REPO / "scripts" / "skelext.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_script_load_order_controlnet_first(hosts):
    hosts.controlnet()
    load_script(hosts)
    assert sys.modules["scripts.supported_preprocessor"].Preprocessor.get_preprocessor(LABEL) is not None
    cb = sys.modules["modules.script_callbacks"]
    cb.before_ui_callback()  # the retry finds it registered
    assert not cb.errors


def test_script_load_order_controlnet_later(hosts):
    load_script(hosts)  # ControlNet not loaded yet: nothing to register with
    assert registry.registered == {}
    api = hosts.controlnet()  # ControlNet's folder sorts after ours
    cb = sys.modules["modules.script_callbacks"]
    cb.before_ui_callback()
    assert api.detect(LABEL, [photo()])["poses"][0]["people"]
    from fastapi import FastAPI

    app = FastAPI()
    cb.app_started_callback(None, app)
    cb.app_started_callback(None, app)  # mounted once
    assert not cb.errors
    from api_client import api_routes

    paths = [r.path for r in api_routes(app) if str(r.path).startswith("/skelext/v1/")]
    assert sorted(paths) == sorted(set(paths)) and "/skelext/v1/info" in paths


def test_app_started_api_honours_api_auth(hosts):
    from api_client import Client
    from fastapi import FastAPI

    sys.modules["modules.shared"].cmd_opts.api_auth = "alice:s3cret"
    app = FastAPI()
    host.on_app_started(None, app)
    client = Client(app)
    assert client.get("/skelext/v1/info").status_code == 401
    assert client.get("/skelext/v1/info", auth=("alice", "s3cret")).status_code == 200


# ---------------------------------------------------------------- legacy registry
@pytest.mark.parametrize("annotator, kind", [("dict", dict), ("str", str), (None, dict)])
def test_legacy_registry(hosts, annotator, kind):
    api = hosts.controlnet_legacy(annotator)
    done = host.register_preprocessors()
    assert done["controlnet"] is False and done["controlnet_legacy"] is True
    gs = sys.modules["scripts.global_state"]
    assert LABEL in gs.cn_preprocessor_modules
    keys = gs.ui_preprocessor_keys
    assert keys[:2] == ["none", "invert (from white bg & black line)"] and keys[2:] == sorted(keys[2:])
    assert LABEL in keys
    sliders = gs.preprocessor_sliders_config[LABEL]
    assert sliders[0]["name"] == "Preprocessor Resolution" and len(sliders) == 3
    assert (sliders[1]["min"], sliders[1]["max"], sliders[1]["step"]) == (0, 2, 1)
    for module in (LABEL, NAME):  # the alias maps "dwpose_full" onto the label key
        res = api.detect(module, [photo()], processor_res=384)
        pose = res["poses"][0]
        assert isinstance(pose, kind)
        if kind is str:
            pose = json.loads(pose)
        check_pose(pose, res["images"][0], people=1)
    # the UI's preview gets JSON for the Edit button
    assert api.preview_json(LABEL, photo())
    # legacy signature
    fn = gs.cn_preprocessor_modules[LABEL]
    image, is_image = fn(photo(), 256, 0, 0.3)
    assert is_image is True and image.shape == expected_size(200, 300, 256) + (3,)


def test_new_registry_wins_over_legacy_dicts(hosts):
    hosts.controlnet_legacy()
    hosts._load("scripts.supported_preprocessor",
                Path(__file__).parent / "fake_hosts" / "controlnet" / "scripts" / "supported_preprocessor.py")
    done = host.register_preprocessors()
    assert done["controlnet"] is True and "controlnet_legacy" not in done
    assert LABEL not in sys.modules["scripts.global_state"].cn_preprocessor_modules


def test_legacy_canvas_setting(hosts):
    hosts.controlnet_legacy()
    sys.modules["modules.shared"].opts.data["skelext_canvas_mode"] = "fit"
    host.register_preprocessors()
    config = sys.modules["scripts.global_state"].preprocessor_sliders_config[LABEL]
    assert config[1]["value"] == 1
    registry.set_canvas_default("expand")
    assert config[1]["value"] == 2


def test_legacy_payload_kind_default_string(hosts):
    hosts.controlnet_legacy("str")
    assert registry.legacy_payload_kind() == PAYLOAD_STR


# -------------------------------------------------------------------------- Forge
def test_forge_registration_and_detect(hosts):
    api = hosts.forge()
    done = host.register_preprocessors()
    assert done["forge"] is True
    table = sys.modules["modules_forge.shared"].supported_preprocessors
    p = table[LABEL]
    assert "dwpose_full" in p.name and "openpose" in p.name and p.tags == ["OpenPose"]
    assert p.slider_1.gradio_update_kwargs["maximum"] == 2 and p.slider_1.gradio_update_kwargs["visible"]
    assert p.slider_resolution.gradio_update_kwargs["minimum"] == 128
    res = api.detect(LABEL, [photo()])  # Forge defaults: thresholds 64/64
    check_pose(res["poses"][0], res["images"][0], people=1)
    assert hosts.detector.calls[-1][1] == pytest.approx(0.3)
    # generation: no callback
    assert p(photo(), resolution=512, slider_1=1, slider_2=0.3).shape == expected_size(200, 300, 512) + (3,)
    host.register_preprocessors()
    assert table[LABEL] is p and list(table).count(LABEL) == 1


# ------------------------------------------------------------ failures and limits
def test_completion_failure_falls_back_to_plain_dwpose(hosts, monkeypatch, caplog):
    """A completion bug: the plain detection comes back, detection runs once per call (no re-run of
    the whole pipeline), and every failure reaches the WebUI console at WARNING."""
    api = hosts.controlnet()
    host.register_preprocessors()
    import lib_skelext.complete as complete

    def broken(*args, **kwargs):
        raise RuntimeError("model exploded")

    import lib_skelext.guard as guard_mod

    monkeypatch.setattr(complete, "complete_frames", broken)
    monkeypatch.setattr(guard_mod, "_FAILURES", {})
    calls_before = len(hosts.detector.calls)
    with caplog.at_level(logging.WARNING):
        res = api.detect(LABEL, [photo()])
        again = api.detect(LABEL, [photo()])
    assert len(hosts.detector.calls) - calls_before == 2  # one detection per request
    for r in (res, again):
        pose = r["poses"][0]
        check_pose(pose, r["images"][0], people=1)
        body = np.array(pose["people"][0]["pose_keypoints_2d"]).reshape(18, 3)
        assert (body[[9, 10, 12, 13], 2] == 0).all()  # legs stay missing: plain DWPose
    failures = [r for r in caplog.records if "completion failed" in r.getMessage()]
    assert len(failures) == 2 and all(r.levelno == logging.WARNING for r in failures)
    assert "model exploded" in failures[0].getMessage() and "[2 times]" in failures[1].getMessage()


def test_missing_weights_one_clear_message(monkeypatch, tmp_path, caplog):
    monkeypatch.setenv("SKELEXT_OFFLINE", "1")
    monkeypatch.delenv("SKELEXT_DWPOSE_DIR", raising=False)
    options = HostOptions(dwpose_dir=str(tmp_path / "weights"), search_dirs=(tmp_path / "weights",))
    runner = DWPoseFullRunner(lambda: options)
    with caplog.at_level(logging.ERROR):
        for _ in range(2):
            with pytest.raises(SkelextError) as err:
                runner(photo(), 256, 0, 0.3, lambda pose: None)
    message = str(err.value)
    assert "yolox_l.onnx" in message and str(tmp_path / "weights") in message and "\n" not in message
    assert sum("yolox_l.onnx" in r.getMessage() for r in caplog.records) == 1


def test_slider_parsing():
    assert canvas_from_slider(0) == "keep" and canvas_from_slider(1.0) == "fit" and canvas_from_slider(2) == "expand"
    for odd in (None, -1, 64, float("nan"), "x", 2.7):
        assert canvas_from_slider(odd, "fit") == "fit"
    assert threshold_from_slider(0.5) == 0.5
    for odd in (None, -1, 64, float("inf"), "x"):
        assert threshold_from_slider(odd) == 0.3
    assert resolution_from_slider(None) == 512 and resolution_from_slider(-1) == 512
    assert resolution_from_slider(768.0) == 768 and resolution_from_slider(10 ** 6) == 4096


# ------------------------------------------------------------------------ settings
def test_settings_section_and_effects(hosts):
    hosts.controlnet()
    hosts.forge()
    host.register_preprocessors()
    shared = sys.modules["modules.shared"]
    host.on_ui_settings()
    keys = {k for k, v in shared.opts.data_labels.items() if v.section == ("skelext", "skelext")}
    assert keys == {"skelext_canvas_mode", "skelext_device", "skelext_dwpose_dir", "skelext_draw_hands",
                    "skelext_draw_face"}
    shared.opts.set("skelext_canvas_mode", "expand")
    p = sys.modules["scripts.supported_preprocessor"].Preprocessor.get_preprocessor(NAME)
    assert p.slider_1.value == 2
    forge = sys.modules["modules_forge.shared"].supported_preprocessors[LABEL]
    assert forge.slider_1.gradio_update_kwargs["value"] == 2
    shared.opts.set("skelext_draw_hands", False)
    shared.opts.data["skelext_device"] = "tpu"  # invalid: default
    opts = host_options.read_options()
    assert opts.canvas == "expand" and opts.draw_hands is False and opts.device == "auto"
    assert any(str(d).endswith(str(Path("ControlNetPreprocessor") / "openpose")) or "openpose" in str(d)
               for d in opts.search_dirs)


def test_search_dirs_use_controlnet_option_and_forge(hosts, tmp_path):
    hosts.forge()
    shared = sys.modules["modules.shared"]
    shared.opts.data["control_net_modules_path"] = str(tmp_path / "annotators")
    dirs = host_options.search_dirs()
    assert tmp_path / "annotators" / "openpose" in dirs
    forge_dir = Path(sys.modules["modules_forge.shared"].preprocessor_dir) / "openpose"
    assert dirs[0] == forge_dir
    mine = tmp_path / "mine"
    assert host_options.search_dirs(str(mine))[0] == mine


def test_importing_host_and_api_loads_no_heavy_module():
    code = ("import sys, lib_skelext, lib_skelext.host, lib_skelext.host.registry, lib_skelext.host.options, "
            "lib_skelext.api; bad = [m for m in ('torch', 'gradio', 'fastapi', 'pydantic', 'onnxruntime', 'cv2', "
            "'modules', 'scripts.supported_preprocessor', 'modules_forge') if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ------------------------------------------------------------------------ install.py
def load_install(monkeypatch, skip: bool, installed=()):
    pips = []
    launch = types.SimpleNamespace(args=types.SimpleNamespace(skip_install=skip),
                                   is_installed=lambda name: name in installed,
                                   run_pip=lambda command, desc=None: pips.append(command))
    monkeypatch.setitem(sys.modules, "launch", launch)
    spec = importlib.util.spec_from_file_location("skelext_install", REPO / "install.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, pips


def test_install_py(monkeypatch):
    module, pips = load_install(monkeypatch, skip=True)
    assert pips == []  # --skip-install: nothing at import
    monkeypatch.setattr(module, "_has_module", lambda name: False)
    module.install()  # nothing present at all
    joined = " ".join(pips)
    assert "onnxruntime" in joined and "opencv-python-headless" in joined
    assert all(word not in joined for word in ("torch", "gradio", "fastapi"))
    assert all("numpy==" in p for p in pips)  # numpy pinned to what the WebUI has
    pips.clear()
    module2, pips2 = load_install(monkeypatch, skip=True, installed=("onnxruntime-gpu",))
    monkeypatch.setattr(module2, "_has_module", lambda name: name != "onnxruntime")
    module2.install()
    assert pips2 == []  # the GPU build is kept


def test_metadata_ini_orders_after_controlnet():
    import configparser

    config = configparser.ConfigParser()
    assert config.read(REPO / "metadata.ini", encoding="utf-8")
    assert config.get("Extension", "Name") == "skelext"
    assert "sd-webui-controlnet" in config.get("scripts", "After").lower().replace(",", " ").split()


def test_script_registers_the_skelext_tab(hosts):
    """on_ui_tabs gets a callback returning [(gr.Blocks, title, elem_id)], as the WebUI expects."""
    import gradio as gr

    load_script(hosts)
    cb = sys.modules["modules.script_callbacks"]
    tabs = [entry for c in cb.callback_map["callbacks_ui_tabs"] for entry in c.callback()]
    assert len(tabs) == 1
    blocks, title, elem_id = tabs[0]
    assert isinstance(blocks, gr.Blocks) and title == "skelext" and elem_id == "skelext"


def test_new_registry_ui_preview_and_repeat_detect(hosts):
    """As sd-webui-controlnet v1.1.455's preview calls it (``model=``, callback only for "openpose"
    labels, JSON string stored) and its cached ``/controlnet/detect`` (same image twice)."""
    api = hosts.controlnet()
    host.register_preprocessors()
    image = photo()
    shown, text = api.preview_json(LABEL, image, resolution=256, slider_1=0, slider_2=0.3)
    pose = json.loads(text)
    assert len(pose["people"]) == 1 and pose["people"][0]["skelext"]["completed"]
    assert shown.shape[:2] == expected_size(200, 300, 256)
    assert api.preview_json(NAME, image)[1] == ""  # no "openpose" in the name: no JSON, no Edit button
    first = api.detect(LABEL, [image])  # -1 defaults become the sliders' defaults
    again = api.detect(LABEL, [image])  # a new callback: ControlNet's cache misses, the callback is called
    assert first["poses"] == again["poses"] and hosts.detector.calls[-1][1] == pytest.approx(0.3)


def test_forge_ui_preview_passes_keywords_and_the_callback(hosts):
    """Forge dfdcbab6's preview: ``preprocessor(input_image=..., input_mask=None, json_pose_callback=...)``;
    the Edit/JSON buttons need the JSON string it stores."""
    api = hosts.forge()
    host.register_preprocessors()
    image, text = api.preview_json(LABEL, photo(), resolution=256, slider_1=2, slider_2=0.3)
    pose = json.loads(text)
    assert len(pose["people"]) == 1 and pose["people"][0]["skelext"]["completed"]
    assert image.shape[0] >= 256 and (pose["canvas_height"], pose["canvas_width"]) == image.shape[:2]
