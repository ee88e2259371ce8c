"""The README's commands run, so the docs cannot rot.

* The README opens with exactly two commands (set up + main job; set up + tests).
* Every fenced block marked ```` ```bash example ```` runs from the repository
  root and exits 0 (``.venv/bin/python`` is replaced by this interpreter).
* Every block marked ```` ```bash example-server ```` runs against a real
  ``python -m lib_skelext serve`` on a free port and gets JSON without an error.
"""
from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import List, Tuple

import numpy as np
import pytest

from conftest import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```", re.S | re.M)


def blocks(tag: str) -> List[str]:
    return [body for info, body in FENCE.findall(README) if info.strip() == tag]


def commands(block: str) -> List[str]:
    """Shell commands of a block: comments dropped, backslash continuations joined."""
    joined = re.sub(r"\\\n\s*", " ", block)
    return [line.strip() for line in joined.splitlines() if line.strip() and not line.strip().startswith("#")]


def localise(command: str) -> str:
    return command.replace(".venv/bin/python", shlex.quote(sys.executable))


def test_readme_opens_with_exactly_two_commands():
    first_info, first_body = FENCE.findall(README)[0]
    assert README.startswith("```bash\n"), "the README's first lines must be the commands block"
    cmds = commands(first_body)
    assert len(cmds) == 2
    setup_and_run, tests = cmds
    assert "tools/setup.sh" in setup_and_run and "lib_skelext complete examples/waist_up.json" in setup_and_run
    assert tests == "bash tools/test.sh"
    ci = (REPO_ROOT / ".ci" / "run").read_text()
    assert "tools/test.sh" in ci, ".ci/run must run the README's test command"


def test_readme_main_job_writes_json_and_png(tmp_path):
    """The first command's job (minus the setup, which CI has done): JSON + PNG of a completed person."""
    main_job = commands(FENCE.findall(README)[0][1])[0].split("&&", 1)[1].strip()
    main_job = main_job.replace("out/", f"{tmp_path}/")
    result = subprocess.run(localise(main_job), shell=True, cwd=REPO_ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(tmp_path / "waist_up.json") in lines[0] and str(tmp_path / "waist_up.png") \
        in lines[0], "one printed line says where the files are"
    doc = json.loads((tmp_path / "waist_up.json").read_text())
    before = json.loads((REPO_ROOT / "examples" / "waist_up.json").read_text())
    person, given = doc["people"][0], before["people"][0]["pose_keypoints_2d"]
    assert person["skelext"]["completed"], "the waist-up example must get points completed"
    # the canvas grew to show the completed legs, which lie below the photo's frame
    shift_y = person["pose_keypoints_2d"][1] - given[1]  # the nose is detected: the expand offset
    ankles = [person["pose_keypoints_2d"][3 * i + 1] for i in (10, 13)]
    assert doc["canvas_height"] > before["canvas_height"]
    assert all(before["canvas_height"] + shift_y < y < doc["canvas_height"] for y in ankles)
    from PIL import Image

    drawing = np.asarray(Image.open(tmp_path / "waist_up.png"))
    assert drawing.shape[:2] == (doc["canvas_height"], doc["canvas_width"])
    assert drawing[int(before["canvas_height"] + shift_y):].any(), "the legs are drawn in the added canvas"


@pytest.mark.parametrize("command", [c for b in blocks("bash example") for c in commands(b)])
def test_readme_example_command_runs(command):
    if "--detector blazepose" in command:
        pytest.importorskip("mediapipe")
    result = subprocess.run(localise(command), shell=True, cwd=REPO_ROOT, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, f"{command}\n{result.stderr[-2000:]}"
    outputs = re.findall(r"-o (\S+)", command) + re.findall(r"--render (\S+\.png)", command)
    for out in outputs:
        path = REPO_ROOT / out
        assert path.exists() and (path.is_dir() and any(path.iterdir()) or path.stat().st_size > 0), out


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server_port():
    pytest.importorskip("fastapi")
    pytest.importorskip("uvicorn")
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "lib_skelext", "serve", "--port", str(port)], cwd=REPO_ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/skelext/v1/info", timeout=2).read()
            break
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"serve exited: {proc.stderr.read()[-2000:]}")
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("serve did not answer within 60 s")
    yield port
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


SERVER_COMMANDS: List[Tuple[str, str]] = [(c, c.split("/skelext/v1/")[1].split()[0].rstrip("'\""))
                                          for b in blocks("bash example-server") for c in commands(b)]


def test_readme_documents_every_route():
    assert sorted({route for _, route in SERVER_COMMANDS}) == ["complete", "detect", "info", "render"]


@pytest.mark.parametrize("command,route", SERVER_COMMANDS, ids=[r for _, r in SERVER_COMMANDS])
def test_readme_curl_example_works(command, route, server_port):
    if shutil.which("curl") is None:
        pytest.skip("curl not installed")
    if "blazepose" in command:
        pytest.importorskip("mediapipe")
    command = command.replace("127.0.0.1:7870", f"127.0.0.1:{server_port}")
    result = subprocess.run(command + " -w '\\n%{http_code}'", shell=True, cwd=REPO_ROOT, capture_output=True,
                            text=True, timeout=120, env={**os.environ})
    body, _, status = result.stdout.rpartition("\n")
    assert result.returncode == 0 and status == "200", f"{route}: HTTP {status} {body[:500]}"
    reply = json.loads(body)
    if route in ("complete", "detect"):
        assert reply["pose"]["people"], route
    if route == "render":
        assert reply["image"]
    if route == "info":
        assert reply["version"]



def exec_in_repo(code: str) -> dict:
    """Run a README Python block from the repository root; -> its namespace."""
    namespace: dict = {}
    cwd = os.getcwd()
    os.chdir(REPO_ROOT)
    try:
        exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - the README's own example
    finally:
        os.chdir(cwd)
    return namespace


@pytest.mark.parametrize("code", blocks("python example-server"))
def test_readme_python_example_works(code, server_port):
    pytest.importorskip("requests")
    namespace = exec_in_repo(code.replace("127.0.0.1:7870", f"127.0.0.1:{server_port}"))
    completed = namespace["completed"]
    assert any(p.get("skelext", {}).get("completed") for p in completed["people"])


def test_readme_figures_come_from_the_evaluation():
    """The accuracy table and the speed line are the ones ``train.readme_figures`` writes from
    train/report/metrics.json (the file ``train.evaluate`` writes): they cannot drift."""
    from train import readme_figures

    metrics = json.loads((REPO_ROOT / "train" / "report" / "metrics.json").read_text())
    assert readme_figures.render(README, metrics) == README, "run: python -m train.readme_figures"
    waist = metrics["all"]["waist_up"]["skelext"]["err"]
    assert f"{waist:.3f}" in README  # and the figure really is in the text


def test_video_doc_figures_come_from_the_benchmark():
    """docs/video.md's tables and target verdicts are the ones ``train.readme_figures`` writes from
    bench/sequence_results.json; a verdict follows the figure (met / missed)."""
    from train import readme_figures

    doc = (REPO_ROOT / "docs" / "video.md").read_text(encoding="utf-8")
    metrics = json.loads((REPO_ROOT / "train" / "report" / "metrics.json").read_text())
    assert readme_figures.render(doc, metrics, readme_figures.VIDEO_DOC_BLOCKS) == doc, \
        "run: python -m train.readme_figures"
    results = json.loads((REPO_ROOT / "bench" / "sequence_results.json").read_text())
    causal = results["synthetic"]["pan_zoom/all"]["sequence (causal)"]
    assert f"{causal['error']:.3f}" in doc
    fake = json.loads(json.dumps(results))
    fake["synthetic"]["pan_zoom/all"]["sequence (causal)"]["jump_share"] = 0.5
    original = readme_figures._sequence_results
    readme_figures._sequence_results = lambda: fake
    try:
        row = next(line for line in readme_figures.video_targets_table(metrics).splitlines() if "panning" in line)
    finally:
        readme_figures._sequence_results = original
    assert "50.00% **missed**" in row, row


def test_train_readme_ablation_table_comes_from_the_stored_runs():
    """train/README.md's ablation table is ``train.ablations``' table of train/report/ablations/*.json."""
    from train import readme_figures

    doc = (REPO_ROOT / "train" / "README.md").read_text(encoding="utf-8")
    metrics = json.loads((REPO_ROOT / "train" / "report" / "metrics.json").read_text())
    assert readme_figures.render(doc, metrics, readme_figures.TRAIN_README_BLOCKS) == doc, \
        "run: python -m train.readme_figures"
    run = json.loads((REPO_ROOT / "train" / "report" / "ablations" / "G_choice2.json").read_text())["all"]
    assert f"| {run['side_cut']['skelext']['err']:.3f} |" in doc


def test_headroom_table_flags_a_target_below_the_oracle_and_measures_the_fit_gap(tmp_path):
    """train.headroom's table: the target is 0.85 x the better peer, flagged where it lies below v2's best of 3;
    the gap is v2's test error against its error on its training people."""
    from train.headroom import table

    def row(ours, best3, v1, reg):
        return {"skelext": {"err": ours, "best_of_k_err": best3}, "skelext v1.1": {"err": v1},
                "regression MLP (10 min)": {"err": reg}}

    metrics = {"all": {"waist_up": row(0.40, 0.30, 0.40, 0.50), "side_cut": row(0.30, 0.27, 0.35, 0.30)}}
    fit = {"waist_up": {"skelext": {"err": 0.32}, "skelext v1.1": {"err": 0.40}, "regression MLP (10 min)": {"err": 0.5}},
           "side_cut": {"skelext": {"err": 0.30}, "skelext v1.1": {"err": 0.35}, "regression MLP (10 min)": {"err": 0.3}}}
    path = tmp_path / "headroom.json"
    path.write_text(json.dumps({"train_split": fit}))
    text = table(metrics, str(path))
    waist = next(line for line in text.splitlines() if line.startswith("| waist_up"))
    side = next(line for line in text.splitlines() if line.startswith("| side_cut"))
    assert "| 0.340 (skelext v1.1) |" in waist and "above target" not in waist and "+25.0%" in waist
    assert "| 0.255 (regression MLP (10 min)) |" in side and "0.270 **above target**" in side and "+0.0%" in side
    assert "on 1 of 2 scenarios (side_cut)" in text


def test_margin_table_shows_both_margins_and_a_missing_specialist_as_a_dash(tmp_path):
    from train.headroom import margin_table

    shift = {"waist_up": {"as evaluated (0.1-0.6)": {"skelext": 0.376, "skelext v1.1": 0.374,
                                                     "regression MLP (10 min)": 0.385, "specialist": 0.36},
                          "moved out (0.6-1.5)": {"skelext": 0.403, "skelext v1.1": 0.438,
                                                  "regression MLP (10 min)": 0.914}}}
    path = tmp_path / "headroom.json"
    path.write_text(json.dumps({"margin_shift": shift}))
    rows = margin_table(str(path)).splitlines()
    assert rows[2] == "| waist_up | as evaluated (0.1-0.6) | 0.376 | 0.374 | 0.385 | 0.360 |"
    assert rows[3] == "|  | moved out (0.6-1.5) | 0.403 | 0.438 | 0.914 | - |"
    assert len(rows) == 4 and rows[1].count("---") == 6


@pytest.mark.parametrize("code", blocks("python example"))
def test_readme_python_library_example_works(code):
    result = exec_in_repo(code)["result"]
    assert result.completed_points > 0 and result.control_image.shape[2] == 3
