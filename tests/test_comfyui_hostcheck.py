"""``check-host --comfyui`` against a fake ComfyUI HTTP server (tests/fake_hosts/comfyui/server.py,
built from ComfyUI v0.3.64's server.py/execution.py interfaces) that runs skelext's real nodes:
every check passes on a working host, and each kind of breakage makes its check fail."""
from __future__ import annotations

import importlib.util
import socket
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")

from comfyui_fakes import FAKE_COMFY, comfy_host  # noqa: E402,F401  (fixture)
from lib_skelext.comfyui.nodes import NODE_CLASS_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS  # noqa: E402
from lib_skelext.hostcheck.comfyui import run_checks  # noqa: E402

HAS_MEDIAPIPE = importlib.util.find_spec("mediapipe") is not None


@pytest.fixture
def fake_server(comfy_host, monkeypatch):
    monkeypatch.syspath_prepend(str(FAKE_COMFY))
    sys.modules.pop("server", None)
    import server

    def start(nodes=None, **kw):
        return server.FakeComfyUI(comfy_host, dict(NODE_CLASS_MAPPINGS) if nodes is None else nodes,
                                  NODE_DISPLAY_NAME_MAPPINGS, **kw)

    yield start
    sys.modules.pop("server", None)


def by_name(checks):
    return {c.name: c for c in checks}


@pytest.mark.skipif(not HAS_MEDIAPIPE, reason="mediapipe (BlazePose) is not installed")
def test_every_check_passes_on_a_working_host_and_the_cli_says_so(fake_server, capsys):
    from lib_skelext.cli import main

    with fake_server() as host:
        assert main(["check-host", "--comfyui", host.url, "--timeout", "60"]) == 0
        out = capsys.readouterr().out
        # the outputs really went through the host: saved files and previews exist
        output_dir = Path(host.folder_paths.get_output_directory()) / "skelext_check"
        assert len(list(output_dir.glob("*.json"))) == 3
        # load/complete, detect, the 12-frame batch, and the aux check's three previews
        assert len(list(Path(host.folder_paths.get_temp_directory()).glob("*.png"))) == 1 + 1 + 12 + 3
    lines = out.strip().splitlines()
    assert lines[-1] == "12 passed, 0 failed"
    assert any("0..1 output with points outside" in line and "SkelextSavePose" in line for line in lines)
    assert any("comfyui_controlnet_aux draws skelext's pose" in line and " 0 pixels differ" in line
               for line in lines)
    assert all(line.startswith("PASS  comfyui: ") for line in lines[:-1])
    assert any("malformed JSON" in line and "json_text: invalid JSON" in line for line in lines)


@pytest.mark.skipif(not HAS_MEDIAPIPE, reason="mediapipe (BlazePose) is not installed")
def test_without_aux_its_check_is_skipped(fake_server):
    with fake_server(aux=False) as host:
        checks = by_name(run_checks(host.url, timeout=60))
    aux = checks["comfyui: comfyui_controlnet_aux draws skelext's pose"]
    assert aux.skipped and "not installed" in aux.detail


@pytest.mark.skipif(not HAS_MEDIAPIPE, reason="mediapipe (BlazePose) is not installed")
def test_aux_check_fails_when_the_pose_breaks_the_hosts_rule(fake_server, monkeypatch):
    """What skelext used to write (the detector's scores as c): aux's reader drops those points and
    draws less than skelext's control image, and the check says so."""
    from host_readers import write_scores_as_c

    write_scores_as_c(monkeypatch)
    with fake_server() as host:
        checks = by_name(run_checks(host.url, timeout=60))
    aux = checks["comfyui: comfyui_controlnet_aux draws skelext's pose"]
    assert not aux.passed and not aux.skipped and "differs from skelext's" in aux.detail


def test_a_missing_node_fails_the_registration_check(fake_server):
    nodes = {k: v for k, v in NODE_CLASS_MAPPINGS.items() if k != "SkelextDetectPose"}
    with fake_server(nodes) as host:
        checks = run_checks(host.url, timeout=30)
    assert len(checks) == 1 and not checks[0].passed
    assert "not registered: SkelextDetectPose" in checks[0].detail


def test_a_host_that_hides_errors_fails_the_error_checks(fake_server):
    with fake_server(swallow_errors=True) as host:
        checks = by_name(run_checks(host.url, timeout=30))
    for name in ("comfyui: malformed JSON -> our error in /history", "comfyui: NaN -> our error in /history",
                 "comfyui: empty batch -> our error in /history",
                 "comfyui: image/pose size mismatch -> our error in /history",
                 "comfyui: 0..1 output with points outside -> our error in /history"):
        assert not checks[name].passed and "expected 'error'" in checks[name].detail
    assert checks["comfyui: load -> complete -> save"].passed
    assert checks["comfyui: invalid option refused by /prompt"].passed


def test_a_node_that_misbehaves_fails_its_check(fake_server, monkeypatch):
    """A complete node that forgets the completion (returns the poses as given) is caught."""
    from lib_skelext.comfyui import nodes

    class Lazy(nodes.SkelextCompletePose):
        def complete(self, pose_keypoint, **kw):
            out = super().complete(pose_keypoint, **kw)
            return {"ui": out["ui"], "result": (pose_keypoint, out["result"][1])}

    with fake_server({**NODE_CLASS_MAPPINGS, "SkelextCompletePose": Lazy}) as host:
        checks = by_name(run_checks(host.url, timeout=30))
    assert not checks["comfyui: load -> complete -> save"].passed
    assert not checks["comfyui: batch of frames"].passed


def test_an_unreachable_host_is_one_failed_check():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    checks = run_checks(f"http://127.0.0.1:{port}", timeout=5)
    assert len(checks) == 1 and not checks[0].passed and checks[0].name == "comfyui: reachable"


def test_without_the_bundled_examples_the_workflow_checks_are_skipped(fake_server, monkeypatch, tmp_path):
    from lib_skelext.hostcheck import comfyui

    monkeypatch.setattr(comfyui, "PHOTO", tmp_path / "none.png")
    with fake_server() as host:
        checks = by_name(run_checks(host.url, timeout=30))
    for name in ("comfyui: load -> complete -> save", "comfyui: image -> detect (blazepose) -> save",
                 "comfyui: batch of frames", "comfyui: image/pose size mismatch -> our error in /history",
                 "comfyui: 0..1 output with points outside -> our error in /history"):
        assert checks[name].skipped and "none.png not found" in checks[name].detail
    assert checks["comfyui: malformed JSON -> our error in /history"].passed
