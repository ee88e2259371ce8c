"""``check-host --webui`` against fake WebUIs served over HTTP (uvicorn on 127.0.0.1 in a thread).

The fake WebUI (``tests/fake_hosts/webui_app.py``) has ControlNet's routes as sd-webui-controlnet
v1.1.455 or Forge dfdcbab6 answer them, over the fake registries, plus skelext's routes mounted by
``host.on_app_started``; people come from a ``FakeDetector`` (waist-up: legs missing).
"""
from __future__ import annotations

import importlib.util
import io
import socket
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
uvicorn = pytest.importorskip("uvicorn")

from hosts import FAKES, FakeDetector, Hosts  # noqa: E402
from lib_skelext import host  # noqa: E402
from lib_skelext.cli import main  # noqa: E402
from lib_skelext.host import registry  # noqa: E402
from lib_skelext.hostcheck import print_report  # noqa: E402
from lib_skelext.hostcheck.webui import run_checks  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
AUTH = "alice:s3cret"


def _load_webui_app():
    spec = importlib.util.spec_from_file_location("fake_webui_app", FAKES / "webui_app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    def __init__(self, app) -> None:
        self.port = _free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the fake WebUI did not start")
            time.sleep(0.05)
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def fake_webui(monkeypatch, tmp_path):
    """fake_webui(kind="a1111"|"forge", api_auth=None) -> (url, module, detector)."""
    served = []
    monkeypatch.setattr(host, "_runner", None)
    monkeypatch.setattr(host, "_announced", {"done": True})
    monkeypatch.setattr(registry, "registered", {})

    def start(kind: str = "a1111", api_auth=None, people: int = 1):
        h = Hosts(monkeypatch)
        h.webui(models_path=tmp_path / "models")
        if kind == "a1111":
            h.controlnet()
            h.no_forge()
        elif kind == "forge":
            h.forge()
        else:
            h.no_forge()
        detector = FakeDetector(people=people)
        h.use_detector(detector)
        module = _load_webui_app()
        s = Served(module.build_app(kind, api_auth=api_auth))
        served.append(s)
        return s.url, module, detector

    yield start
    for s in served:
        s.stop()


def by_name(checks):
    return {c.name: c for c in checks}


def test_a1111_with_api_auth_every_check_passes(fake_webui):
    url, _, _ = fake_webui("a1111", api_auth=AUTH)
    checks = run_checks(url, auth=AUTH, timeout=60)
    got = by_name(checks)
    assert list(got) == [
        "controlnet/version", "controlnet/module_list", "skelext/v1/info", "controlnet/detect dwpose_full",
        "controlnet/detect matches dw_openpose_full", "controlnet/render_openpose_json of our pose",
        "controlnet/detect without credentials",
        "skelext/v1/complete", "skelext/v1/detect", "skelext/v1/render", "skelext/v1/* without credentials"]
    failed = [c.line() for c in checks if not c.passed or c.skipped]
    assert " 0 pixels differ" in got["controlnet/render_openpose_json of our pose"].detail
    assert not failed, failed
    assert "sliders: Resolution (short side, px), Canvas: 0 keep" in got["controlnet/module_list"].detail
    assert "legs on 1" in got["controlnet/detect dwpose_full"].detail
    assert "agree (max difference 0.00 px)" in got["controlnet/detect matches dw_openpose_full"].detail
    assert "ignore --api-auth" in got["controlnet/detect without credentials"].detail
    assert "api-auth on" in got["skelext/v1/info"].detail
    out = io.StringIO()
    assert print_report(checks, out) == 0
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("PASS  controlnet/version: ControlNet API version")
    assert lines[-1] == "11 passed, 0 failed"


def test_a1111_without_api_auth_skips_the_credentials_check(fake_webui):
    url, _, _ = fake_webui("a1111")
    got = by_name(run_checks(url, timeout=60))
    assert got["skelext/v1/* without credentials"].skipped
    assert "without credentials" not in " ".join(n for n in got if n.startswith("controlnet"))
    assert all(c.passed for c in got.values() if not c.skipped)


def test_missing_credentials_are_reported(fake_webui):
    url, _, _ = fake_webui("a1111", api_auth=AUTH)
    got = by_name(run_checks(url, timeout=60))
    assert not got["skelext/v1/info"].passed and "pass --auth USER:PASS" in got["skelext/v1/info"].detail
    assert not got["skelext/v1/complete"].passed and got["skelext/v1/complete"].detail.startswith("HTTP 401")
    got = by_name(run_checks(url, auth="alice:wrong", timeout=60))
    assert "refused these credentials" in got["skelext/v1/info"].detail


def test_forge_has_no_version_route_and_lists_names_only(fake_webui):
    url, _, _ = fake_webui("forge", api_auth=AUTH)
    checks = run_checks(url, auth=AUTH, timeout=60)
    got = by_name(checks)
    assert got["controlnet/version"].skipped and "404" in got["controlnet/version"].detail
    assert got["controlnet/module_list"].passed and "Forge lists names only" in got["controlnet/module_list"].detail
    assert got["controlnet/detect dwpose_full"].passed
    assert got["controlnet/detect matches dw_openpose_full"].passed
    assert [c.name for c in checks if not c.passed and not c.skipped] == []


def test_side_by_side_catches_moved_points(fake_webui, monkeypatch):
    url, module, _ = fake_webui("a1111")
    real = module.dw_openpose_full

    def shifted(image, resolution, json_pose_callback=None):
        def moved(pose):
            for person in pose["people"]:
                person["pose_keypoints_2d"][0] += 0.05  # the nose, 5% of the width to the right
            json_pose_callback(pose)
        return real(image, resolution, moved)

    monkeypatch.setattr(module, "dw_openpose_full", shifted)
    check = by_name(run_checks(url, timeout=60))["controlnet/detect matches dw_openpose_full"]
    assert not check.passed and "max difference" in check.detail


def test_nobody_found_fails_with_the_reason(fake_webui):
    url, _, _ = fake_webui("a1111", people=0)
    got = by_name(run_checks(url, timeout=60))
    assert not got["controlnet/detect dwpose_full"].passed
    assert "nobody found in skimage_astronaut.png" in got["controlnet/detect dwpose_full"].detail
    assert not got["skelext/v1/detect"].passed
    assert got["controlnet/detect matches dw_openpose_full"].skipped
    assert got["skelext/v1/complete"].passed  # pose completion needs no detector


def test_cli_prints_one_line_per_check_and_a_summary(fake_webui, capsys):
    url, _, _ = fake_webui("a1111", api_auth=AUTH)
    assert main(["check-host", "--webui", url, "--auth", AUTH, "--timeout", "60"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 12 and all(line.startswith(("PASS  ", "SKIP  ")) for line in out[:-1])
    assert out[-1] == "11 passed, 0 failed"
    assert main(["check-host", "--webui", url, "--timeout", "60"]) == 1  # no --auth: failures, exit 1
    assert "FAIL  skelext/v1/info: 401" in capsys.readouterr().out


def test_cli_bad_input_is_one_line(tmp_path, capsys):
    assert main(["check-host", "--webui", "http://127.0.0.1:9", "--auth", "nocolon"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--auth must be USER:PASS" in err
    assert main(["check-host", "--webui", "127.0.0.1:7860"]) == 2
    assert "must start with http://" in capsys.readouterr().err
    assert main(["check-host", "--webui", "http://127.0.0.1:9", "--photo", str(tmp_path / "none.png")]) == 2
    assert "cannot read the photo" in capsys.readouterr().err
    (tmp_path / "bad.png").write_bytes(b"not an image")
    assert main(["check-host", "--webui", "http://127.0.0.1:9", "--photo", str(tmp_path / "bad.png")]) == 2
    assert "not an image" in capsys.readouterr().err


def test_cli_host_not_running(capsys):
    port = _free_port()  # nothing listens there
    assert main(["check-host", "--webui", f"http://127.0.0.1:{port}", "--timeout", "5"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("FAIL  host reachable: no answer from") and out[-1] == "0 passed, 1 failed"


def test_bare_server_error_points_at_the_console():
    from lib_skelext.hostcheck.http import Reply

    assert Reply(500, body=b"").why() == "HTTP 500: no detail in the reply; the host's console has the error"
    assert Reply(422, body=b'{"detail": "Module not available"}').why() == "HTTP 422: Module not available"
    assert Reply(0, error="no answer from http://x (refused)").why() == "no answer from http://x (refused)"


def test_webui_without_controlnet_says_so_once(fake_webui):
    """As the real A1111 v1.10.1 without sd-webui-controlnet: /controlnet/* are 404."""
    url, _, _ = fake_webui("no-controlnet")
    checks = run_checks(url, timeout=60)
    assert [c.name for c in checks] == ["controlnet", "skelext/v1/info", "skelext/v1/complete", "skelext/v1/detect",
                                        "skelext/v1/render", "skelext/v1/* without credentials"]
    assert not checks[0].passed and "sd-webui-controlnet is not installed" in checks[0].detail
    assert all(c.passed for c in checks[1:5])


def test_cli_browser_without_node_skips_with_the_reason(fake_webui, capsys, monkeypatch):
    from lib_skelext.hostcheck import browser

    url, _, _ = fake_webui("a1111")
    monkeypatch.setattr(browser.shutil, "which", lambda name: None)
    assert main(["check-host", "--webui", url, "--browser", "--timeout", "60"]) == 0
    out = capsys.readouterr().out.splitlines()
    skipped = [line for line in out if line.startswith("SKIP  browser: ")]
    assert len(skipped) == len(browser.PAGE_CHECKS) and all("node is not installed" in s for s in skipped)
    assert out[-1] == "9 passed, 0 failed, 6 skipped"


def test_render_check_fails_when_our_pose_breaks_the_hosts_rule(fake_webui, monkeypatch):
    """What skelext used to write (the detector's scores as c): ControlNet's reader drops those points,
    its drawing of our JSON is not our control image, and the check says so with the pixel counts."""
    from host_readers import write_scores_as_c

    class Scoring:  # the fake detector, with DWPose-like scores below 1.0
        def load(self):
            return self

        def unload(self):
            pass

        def detect_people(self, image, threshold=0.3):
            from hosts import FakeDetector

            frame = FakeDetector().detect_people(image, threshold)
            for person in frame.people:
                person.body[person.body[:, 2] > 0, 2] = 0.8
            return frame

    url, module, _ = fake_webui("a1111", api_auth=AUTH)
    write_scores_as_c(monkeypatch)
    from hosts import detector_registered

    with detector_registered("dwpose", Scoring()):
        got = by_name(run_checks(url, auth=AUTH, timeout=60))
    check = got["controlnet/render_openpose_json of our pose"]
    assert not check.passed and "pixels differ" in check.detail
