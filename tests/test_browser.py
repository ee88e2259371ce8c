"""The standalone UI in a real browser: headless Debian Chromium driven by playwright-core.

Starts ``python -m lib_skelext ui`` on a free port (this venv's gradio: 3.41 in
.venv, 4.x in .venv-forge), runs ``tests/browser/editor_test.js`` (load
examples/waist_up.json, see completed legs, drag a knee, re-complete, download
JSON + PNG, undo/redo) and asserts on the JSON it prints. Screenshots go to
``artifacts/browser/<gradio version>/``. Skipped only when node, Chromium or
playwright-core (``tools/setup.sh test``) are missing; the photo test also
needs mediapipe (BlazePose runs offline; DWPose weights are not downloaded here).
"""
from __future__ import annotations

import importlib.util
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BROWSER_DIR = ROOT / "tests" / "browser"
SCRIPT = BROWSER_DIR / "editor_test.js"
CHROMIUM = os.environ.get("SKELEXT_CHROMIUM", "/usr/bin/chromium")
#: Console messages that only say the sandbox has no internet (gradio's web fonts).
OFFLINE_NOISE = ("ERR_NAME_NOT_RESOLVED", "ERR_INTERNET_DISCONNECTED", "fonts.googleapis", "Unable to preload CSS")


def _skip_reason() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed (needed to drive the browser)"
    if not Path(CHROMIUM).exists():
        return f"Chromium not found at {CHROMIUM} (apt-get install -y chromium chromium-driver)"
    if not (BROWSER_DIR / "node_modules" / "playwright-core").is_dir():
        return "playwright-core is not installed: run tools/setup.sh test (npm install in tests/browser)"
    try:
        import gradio  # noqa: F401  (only: is it installed?)
    except ImportError:
        return "gradio is not installed in this environment"
    return None


pytestmark = pytest.mark.skipif(_skip_reason() is not None, reason=_skip_reason() or "")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_http(url: str, proc: subprocess.Popen, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the UI server exited with {proc.returncode} before answering")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"the UI server did not answer on {url} within {timeout_s:.0f} s")


#: The tab as the WebUI gets it from on_ui_tabs(): no script or stylesheet of its own.
WEBUI_LIKE_SERVER = (
    "import sys; from lib_skelext.ui import build_ui; demo = build_ui(standalone=False); demo.queue(); "
    "demo.launch(server_name='127.0.0.1', server_port=int(sys.argv[1]), show_api=False)"
)


def _serve(tmp_path_factory, args):
    port = _free_port()
    log_path = tmp_path_factory.mktemp("ui") / "server.log"
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", PYTHONUNBUFFERED="1")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, *args, str(port)], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT)
        try:
            _wait_http(f"http://127.0.0.1:{port}/", proc, timeout_s=180)
            yield f"http://127.0.0.1:{port}", log_path
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture(scope="module")
def ui_server(tmp_path_factory):
    """``python -m lib_skelext ui`` on a free port."""
    yield from _serve(tmp_path_factory, ["-m", "lib_skelext", "ui", "--host", "127.0.0.1", "--port"])


@pytest.fixture(scope="module")
def webui_like_server(tmp_path_factory):
    yield from _serve(tmp_path_factory, ["-c", WEBUI_LIKE_SERVER])


def _xy(joint: dict) -> tuple:
    return joint["x"], joint["y"]


def _run_browser(ui_server, **env_extra) -> tuple:
    """Run editor_test.js against the server; (result dict, server log tail)."""
    url, log_path = ui_server
    shots = ROOT / "artifacts" / "browser" / metadata.version("gradio")
    if env_extra.get("SKELEXT_WEBUI_MODE") == "1":
        shots = shots / "webui"
    env = dict(os.environ, SKELEXT_URL=url, SKELEXT_POSE=str(ROOT / "examples" / "waist_up.json"),
               SKELEXT_SHOTS=str(shots), SKELEXT_CHROMIUM=CHROMIUM, **env_extra)
    run = subprocess.run(["node", str(SCRIPT)], cwd=BROWSER_DIR, env=env, capture_output=True, text=True,
                         timeout=300)
    lines = [line for line in run.stdout.splitlines() if line.strip()]
    assert lines, f"no output from the browser script; stderr:\n{run.stderr[-3000:]}"
    result = json.loads(lines[-1])
    name = "result_photo.json" if "SKELEXT_PHOTO" in env_extra else "result_edit.json"
    shots.mkdir(parents=True, exist_ok=True)
    (shots / name).write_text(json.dumps(result, indent=1))
    server_log = log_path.read_text(errors="replace")[-3000:]
    assert result["ok"], f"{result.get('error')}\nsteps: {result['steps']}\nserver log:\n{server_log}"
    assert run.returncode == 0
    errors = [e for e in result["console_errors"] if not any(n in e for n in OFFLINE_NOISE)]
    assert not errors, errors
    return result, server_log


def test_edit_knee_recomplete_download_in_browser(ui_server):
    result, server_log = _run_browser(ui_server)
    _check_edit_flow(result, server_log)


def test_edit_flow_with_the_script_injected_as_the_webui_does(webui_like_server):
    """on_ui_tabs()'s Blocks; javascript/skelext.js added to the page head before gradio renders and
    style.css after, as the WebUI does; "Send to txt2img ControlNet" clicked for real."""
    result, server_log = _run_browser(webui_like_server, SKELEXT_WEBUI_MODE="1")
    assert result["webui_mode"] is True
    _check_edit_flow(result, server_log)


def _check_edit_flow(result: dict, server_log: str) -> None:

    knee, ankle = result["knee_index"], result["ankle_index"]
    # Completed legs are drawn: both knees and ankles were missing in the waist-up pose.
    assert set(result["completed_legs"]) == {9, 10, 12, 13}, (result["completed_legs"], server_log)
    assert result["completed_limbs"] >= 4
    assert result["knee_before"]["kind"] in ("completed", "lowconf")

    # The drag moved the knee (now an edited point) and nothing else yet.
    moved = math.dist(_xy(result["knee_before"]), _xy(result["knee_after"]))
    assert moved > 5, result["knee_after"]
    assert result["knee_after"]["kind"] == "edited"
    assert _xy(result["ankle_after_drag"]) == _xy(result["ankle_before"])

    # Re-completion keeps the edited knee and moves the ankle along with it.
    assert _xy(result["knee_after_recomplete"]) == _xy(result["knee_after"])
    ankle_before, ankle_after = _xy(result["ankle_before"]), _xy(result["ankle_after_recomplete"])
    assert math.dist(ankle_before, ankle_after) > 1.0, (ankle_before, ankle_after)
    knee_shift = [a - b for a, b in zip(_xy(result["knee_after"]), _xy(result["knee_before"]))]
    ankle_shift = [a - b for a, b in zip(ankle_after, ankle_before)]
    assert sum(k * a for k, a in zip(knee_shift, ankle_shift)) > 0, (knee_shift, ankle_shift)

    # The downloaded JSON holds the edit (pixels of the 270 x 205 canvas) and the new ankle.
    assert result["json_canvas"] == [270, 205]
    assert result["json_knee"][2] == 1.0
    assert math.dist(result["json_knee"][:2], _xy(result["knee_after"])) < 0.01
    assert math.dist(result["json_ankle"][:2], ankle_after) < 0.01
    info = result["json_skelext"]
    assert ankle in info["completed"] and knee not in info["completed"]
    png = Path(result["download_png"]).read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"

    # Undo goes back to before the re-completion, redo returns to it.
    assert _xy(result["ankle_after_undo"]) == ankle_before
    assert _xy(result["ankle_after_redo"]) == ankle_after

    # The second alternative changes completed points only; choosing the best one again restores them.
    loaded = {(j["person"], j["point"]): j for j in result["loaded_joints"]}
    second = {(j["person"], j["point"]): j for j in result["joints_alternative_2"]}
    first = {(j["person"], j["point"]): j for j in result["joints_alternative_1"]}
    moved = [key for key, j in loaded.items() if _xy(second[key]) != _xy(j)]
    assert moved and all(loaded[key]["kind"] in ("completed", "lowconf") for key in moved), moved
    assert all(_xy(first[key]) == _xy(j) for key, j in loaded.items())
    # ... and after the knee was dragged, the second alternative changes the completed ankle, never the edited knee.
    assert _xy(result["knee_after_alternative"]) == _xy(result["knee_after"])
    assert result["knee_after_alternative"]["kind"] == "edited"
    assert _xy(result["ankle_after_alternative"]) != _xy(result["ankle_before"])

    # Hide / show, click-to-select, lock.
    assert result["hidden_knee_kind"] == "hidden" and result["shown_knee_kind"] == "edited"
    other_knee = 12 if knee == 9 else 9
    assert result["selected_after_click"] == [other_knee]
    assert result["other_knee_locked"] is True
    assert result["selected_from_list"] == [13]

    # Expand grows the 270 x 205 canvas downwards to hold the completed legs.
    width, height = result["expand_canvas"]
    assert width >= 270 and height > 205, result["expand_canvas"]

    # Send to ControlNet (stand-in markup): PNG and JSON on unit 0's inputs, unit enabled, unit 1 untouched.
    cn = result["controlnet"]
    assert cn["image"]["name"] == "skelext_pose.png" and cn["image"]["type"] == "image/png" and cn["image"]["size"]
    assert cn["pose"]["name"] == "skelext_pose.json"
    assert json.loads(cn["pose"]["text"])["canvas_width"] == width
    assert cn["enabled"] is True and cn["other_unit_files"] == 0
    assert cn["changes"][:2] == ["skelext_pose.png", "skelext_pose.json"]

    assert result["idle_stable"], "the editor kept re-rendering on its own (an event loop between components)"
    assert len(result["screenshots"]) == 5 and all(Path(p).is_file() for p in result["screenshots"])


@pytest.mark.skipif(importlib.util.find_spec("mediapipe") is None,
                    reason="mediapipe (the offline BlazePose detector) is not installed in this environment")
def test_photo_detect_and_complete_in_browser(ui_server):
    photo = ROOT / "examples" / "coco_000000000785_crop_hipsup.jpg"
    result, server_log = _run_browser(ui_server, SKELEXT_PHOTO=str(photo))
    assert "1 people detected" in result["photo_status"], (result["photo_status"], server_log)
    assert result["photo_joints"] == 18
    assert result["photo_kinds"].count("detected") >= 10
    assert sum(k in ("completed", "lowconf") for k in result["photo_kinds"]) >= 2  # the legs below the hips
    assert result["photo_has_image"] == 1
