"""The command line, run as users run it: `python -m lib_skelext ...` in a subprocess."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from conftest import REPO_ROOT
from pose_docs import normalized

# ControlNet colours (documented table): limb 0 (neck -> R shoulder) and joints 1, 2.
RED_LIMB_DIMMED = [153, 0, 0]
NECK_COLOUR = [255, 85, 0]
R_SHOULDER_COLOUR = [255, 170, 0]

COMPLETE_READY = (REPO_ROOT / "lib_skelext" / "complete.py").is_file() and any(
    (REPO_ROOT / "models").glob("*.safetensors"))
needs_model = pytest.mark.skipif(not COMPLETE_READY,
                                 reason="lib_skelext/complete.py or models/*.safetensors not there yet")


def run_cli(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "lib_skelext", *map(str, args)], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=timeout)


def assert_one_line_error(result):
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.strip("\n").splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("skelext: ")
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    return lines[0]


def body(points):
    out = [0, 0, 0] * 18
    for i, (x, y) in points.items():
        out[3 * i:3 * i + 3] = [x, y, 1.0]
    return out


def pose_doc(width=120, height=100, points=None):
    points = points if points is not None else {1: (60, 50), 2: (30, 50)}
    return {"people": [{"pose_keypoints_2d": body(points)}], "canvas_width": width, "canvas_height": height}


def write_json(path, doc):
    path.write_text(json.dumps(doc) if not isinstance(doc, str) else doc)
    return path


def pixels(path):
    return np.asarray(Image.open(path).convert("RGB"))


# ------------------------------------------------------------------ help
def test_help():
    result = run_cli("--help")
    assert result.returncode == 0, result.stderr
    assert "complete" in result.stdout and "render" in result.stdout
    assert result.stderr == ""


def _subcommands():
    from lib_skelext.cli import build_parser

    parser = build_parser()
    names = [name for action in parser._actions if getattr(action, "choices", None) is not None
             and isinstance(action.choices, dict) for name in action.choices]
    assert {"complete", "render"} <= set(names)
    return names


@pytest.mark.parametrize("command", _subcommands())
def test_subcommand_help(command):
    result = run_cli(command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage:")
    assert "Traceback" not in result.stderr


def test_version_and_usage_errors():
    result = run_cli("--version")
    assert result.returncode == 0 and "skelext" in result.stdout
    result = run_cli()
    assert result.returncode == 2 and "Traceback" not in result.stderr
    result = run_cli("render", "--no-such-option", "x.json", "-o", "y.png")
    assert result.returncode == 2 and "Traceback" not in result.stderr


# ------------------------------------------------------------------ render
def test_render_a_file(tmp_path):
    src = write_json(tmp_path / "pose.json", pose_doc())
    out = tmp_path / "sub" / "pose.png"
    result = run_cli("render", src, "-o", out)
    assert result.returncode == 0, result.stderr
    image = pixels(out)
    assert image.shape == (100, 120, 3)
    assert image[50, 45].tolist() == RED_LIMB_DIMMED
    assert image[50, 60].tolist() == NECK_COLOUR
    assert image[50, 30].tolist() == R_SHOULDER_COLOUR
    assert image[10, 10].tolist() == [0, 0, 0]


def test_render_normalized_file(tmp_path):
    src = write_json(tmp_path / "pose.json", pose_doc(points={1: (0.5, 0.5), 2: (0.25, 0.5)}))
    out = tmp_path / "pose.png"
    assert run_cli("render", src, "-o", out).returncode == 0
    image = pixels(out)
    assert image[50, 60].tolist() == NECK_COLOUR and image[50, 30].tolist() == R_SHOULDER_COLOUR


def test_render_into_an_existing_folder(tmp_path):
    src = write_json(tmp_path / "frame7.json", pose_doc())
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    assert run_cli("render", src, "-o", out_dir).returncode == 0
    assert pixels(out_dir / "frame7.png").shape == (100, 120, 3)


def test_render_expand_grows_the_image(tmp_path):
    src = write_json(tmp_path / "pose.json", pose_doc(points={1: (60, 50), 2: (-40, 50)}))
    out = tmp_path / "pose.png"
    assert run_cli("render", src, "-o", out, "--canvas", "expand").returncode == 0
    image = pixels(out)
    assert image.shape[0] == 100 and image.shape[1] > 160
    shift = image.shape[1] - 120   # grown on the left only
    assert image[50, 60 + shift].tolist() == NECK_COLOUR
    assert image[50, -40 + shift].tolist() == R_SHOULDER_COLOUR


def test_render_a_folder(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    write_json(src / "a.json", pose_doc())
    write_json(src / "b.json", pose_doc(width=64, height=80, points={1: (20, 20)}))
    (src / "notes.txt").write_text("not a pose")
    out = tmp_path / "out"
    result = run_cli("render", src, "-o", out)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.png"]
    assert pixels(out / "a.png")[50, 60].tolist() == NECK_COLOUR
    assert pixels(out / "b.png").shape == (80, 64, 3)
    assert "Traceback" not in result.stderr


BAD_FILES = {
    "malformed": '{"people": [',
    "empty": "",
    "nan": '{"people": [], "canvas_width": NaN, "canvas_height": 10}',
    "wrong length": json.dumps({"people": [{"pose_keypoints_2d": [1] * 51}], "canvas_width": 9, "canvas_height": 9}),
    "20 hand points": json.dumps({"people": [{"pose_keypoints_2d": [0] * 54, "hand_left_keypoints_2d": [1] * 60}],
                                  "canvas_width": 9, "canvas_height": 9}),
    "negative canvas": json.dumps({"people": [], "canvas_width": -5, "canvas_height": 9}),
    "missing canvas": json.dumps({"people": []}),
    "huge int": '{"people": [], "canvas_width": 1%s, "canvas_height": 9}' % ("0" * 400),
    "string number": json.dumps({"people": [{"pose_keypoints_2d": ["1"] * 54}], "canvas_width": 9,
                                 "canvas_height": 9}),
    "people not a list": json.dumps({"people": 3, "canvas_width": 9, "canvas_height": 9}),
    "deep nesting": "[" * 100000,
    "huge canvas": json.dumps({"people": [{"pose_keypoints_2d": [5, 5, 1] * 18}], "canvas_width": 100000,
                               "canvas_height": 100000}),
    "binary": "\x00\x01\x02",
}


@pytest.mark.parametrize("content", list(BAD_FILES.values()), ids=list(BAD_FILES))
def test_render_bad_file_is_one_line_exit_2(tmp_path, content):
    src = write_json(tmp_path / "bad.json", content)
    out = tmp_path / "bad.png"
    line = assert_one_line_error(run_cli("render", src, "-o", out))
    assert len(line) > len("skelext: ") + 10
    assert not out.exists()


def test_render_file_with_utf8_bom(tmp_path):
    src = tmp_path / "bom.json"
    src.write_bytes(b"\xef\xbb\xbf" + json.dumps(pose_doc()).encode())
    out = tmp_path / "bom.png"
    result = run_cli("render", src, "-o", out)
    assert result.returncode == 0, result.stderr
    assert pixels(out)[50, 60].tolist() == NECK_COLOUR


def test_render_file_not_utf8(tmp_path):
    src = tmp_path / "latin1.json"
    src.write_bytes(b'{"people": [], "canvas_width": 9, "canvas_height": 9, "name": "\xe9"}')
    assert_one_line_error(run_cli("render", src, "-o", tmp_path / "x.png"))


def test_render_oversized_file_is_refused_unread(tmp_path):
    src = tmp_path / "big.json"
    with open(src, "wb") as handle:
        handle.truncate(60 * 1024 * 1024)   # sparse: nothing is written
    line = assert_one_line_error(run_cli("render", src, "-o", tmp_path / "x.png"))
    assert "big.json" in line


def test_render_unwritable_output(tmp_path):
    src = write_json(tmp_path / "pose.json", pose_doc())
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert_one_line_error(run_cli("render", src, "-o", blocker / "sub" / "x.png"))


def test_render_missing_file(tmp_path):
    line = assert_one_line_error(run_cli("render", tmp_path / "nope.json", "-o", tmp_path / "x.png"))
    assert "nope.json" in line


def test_render_folder_without_json(tmp_path):
    (tmp_path / "in").mkdir()
    assert_one_line_error(run_cli("render", tmp_path / "in", "-o", tmp_path / "out"))


def test_render_folder_with_good_and_bad_files(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    write_json(src / "good1.json", pose_doc())
    write_json(src / "bad_nan.json", BAD_FILES["nan"])
    write_json(src / "good2.json", pose_doc(width=50, height=40, points={1: (10, 10)}))
    write_json(src / "bad_len.json", BAD_FILES["wrong length"])
    out = tmp_path / "out"
    result = run_cli("render", src, "-o", out)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["good1.png", "good2.png"]
    assert pixels(out / "good1.png")[50, 60].tolist() == NECK_COLOUR
    lines = result.stderr.strip().splitlines()
    assert all(line.startswith("skelext: ") for line in lines)
    assert any("bad_nan.json" in line for line in lines) and any("bad_len.json" in line for line in lines)
    assert not any("good1.json" in line or "good2.json" in line for line in lines)


def test_render_refuses_to_overwrite_its_input(tmp_path):
    src = write_json(tmp_path / "pose.json", pose_doc())
    before = src.read_bytes()
    assert_one_line_error(run_cli("render", src, "-o", src))
    assert src.read_bytes() == before


def test_render_refuses_to_write_into_its_input_folder(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    write_json(src / "a.json", pose_doc())
    assert_one_line_error(run_cli("render", src, "-o", src))
    assert sorted(p.name for p in src.iterdir()) == ["a.json"]


def test_complete_refuses_to_overwrite_its_input(tmp_path):
    src = write_json(tmp_path / "pose.json", pose_doc())
    before = src.read_bytes()
    assert_one_line_error(run_cli("complete", src, "-o", src))
    assert src.read_bytes() == before


def test_complete_missing_file(tmp_path):
    line = assert_one_line_error(run_cli("complete", tmp_path / "nope.json", "-o", tmp_path / "x.json"))
    assert "nope.json" in line


# ------------------------------------------------------------------ complete (needs the model)
WAIST_UP = REPO_ROOT / "examples" / "waist_up.json"


@needs_model
def test_complete_a_file(tmp_path):
    src = write_json(tmp_path / "in.json", json.loads(WAIST_UP.read_text()) if WAIST_UP.is_file() else pose_doc(
        512, 512, {0: (250, 100), 1: (250, 150), 2: (200, 150), 5: (300, 150), 3: (190, 220), 6: (310, 220),
                   8: (220, 300), 11: (280, 300)}))
    out = tmp_path / "out.json"
    result = run_cli("complete", src, "-o", out, "--render")
    assert result.returncode == 0, result.stderr
    original, completed = json.loads(src.read_text()), json.loads(out.read_text())
    assert (completed["canvas_width"], completed["canvas_height"]) == (original["canvas_width"],
                                                                       original["canvas_height"])
    filled_any = False
    for before, after in zip(original["people"], completed["people"]):
        b, a = before["pose_keypoints_2d"], after["pose_keypoints_2d"]
        listed = after.get("skelext", {}).get("completed", [])
        for i in range(18):
            if b[3 * i + 2] > 0:
                assert a[3 * i:3 * i + 3] == b[3 * i:3 * i + 3], f"given point {i} changed"
                assert i not in listed
            elif i in listed:
                assert a[3 * i + 2] == 1.0
                assert all(np.isfinite(a[3 * i:3 * i + 2]))
        filled_any |= bool(listed)
    assert filled_any, "nothing was completed"
    image = pixels(out.with_suffix(".png"))
    assert image.shape == (original["canvas_height"], original["canvas_width"], 3)


@needs_model
def test_complete_folder_with_a_bad_file(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    write_json(src / "good.json", pose_doc(512, 512, {0: (250, 100), 1: (250, 150), 2: (200, 150),
                                                      5: (300, 150), 8: (220, 300), 11: (280, 300)}))
    write_json(src / "bad.json", BAD_FILES["malformed"])
    out = tmp_path / "out"
    result = run_cli("complete", src, "-o", out)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["good.json"]
    assert any("bad.json" in line for line in result.stderr.splitlines())
    json.loads((out / "good.json").read_text())


@needs_model
@pytest.mark.parametrize("name", ["malformed", "nan", "wrong length", "negative canvas", "huge int"])
def test_complete_bad_file_is_one_line_exit_2(tmp_path, name):
    src = write_json(tmp_path / "bad.json", BAD_FILES[name])
    out = tmp_path / "out.json"
    assert_one_line_error(run_cli("complete", src, "-o", out))
    assert not out.exists()


@needs_model
@pytest.mark.skipif(not WAIST_UP.is_file(), reason="examples/waist_up.json missing")
def test_complete_normalized_file_with_points_below_the_frame_is_written_in_pixels(tmp_path):
    """The units rule (#24): never 0..1 output with a coordinate outside [0, 1] (comfyui_controlnet_aux and
    ControlNet take such a file for pixels). As read: pixels then; --output-coords norm: refused in one line;
    canvas fit: every point on the canvas, so 0..1 stays."""
    from lib_skelext.openpose_json import loads_frame

    doc = json.loads(WAIST_UP.read_text())
    w, h = doc["canvas_width"], doc["canvas_height"]
    src_px = write_json(tmp_path / "px.json", doc)
    src_norm = write_json(tmp_path / "norm.json", normalized(doc))
    assert run_cli("complete", src_px, "-o", tmp_path / "px_out.json").returncode == 0
    result = run_cli("complete", src_norm, "-o", tmp_path / "norm_out.json")
    assert result.returncode == 0, result.stderr
    out_px = json.loads((tmp_path / "px_out.json").read_text())["people"][0]
    out_norm = json.loads((tmp_path / "norm_out.json").read_text())["people"][0]
    given = json.loads(src_norm.read_text())["people"][0]["pose_keypoints_2d"]
    completed = out_norm["skelext"]["completed"]
    assert completed == out_px["skelext"]["completed"] and completed
    for i in range(18):
        a = out_norm["pose_keypoints_2d"][3 * i:3 * i + 3]
        b = out_px["pose_keypoints_2d"][3 * i:3 * i + 3]
        if given[3 * i + 2] > 0:
            assert a[0] == pytest.approx(given[3 * i] * w) and a[1] == pytest.approx(given[3 * i + 1] * h)
        elif i in completed:
            assert a[2] == 1.0 and a[0] == pytest.approx(b[0], abs=0.5) and a[1] == pytest.approx(b[1], abs=0.5)
    assert max(out_norm["pose_keypoints_2d"][1::3]) > h  # legs below the frame, in pixels
    frame = loads_frame((tmp_path / "norm_out.json").read_text())
    assert not frame.normalized and np.flatnonzero(frame.people[0].completed).tolist() == completed

    line = assert_one_line_error(run_cli("complete", src_norm, "-o", tmp_path / "n.json", "--output-coords", "norm"))
    assert "outside" in line and not (tmp_path / "n.json").exists()

    assert run_cli("complete", src_norm, "-o", tmp_path / "fit.json", "--canvas", "fit").returncode == 0
    fit = json.loads((tmp_path / "fit.json").read_text())["people"][0]["pose_keypoints_2d"]
    present = [v for i, v in enumerate(fit) if i % 3 < 2 and fit[i - i % 3 + 2] > 0]
    assert present and all(0.0 <= v <= 1.0 for v in present)  # still 0..1, every point on the canvas


@needs_model
def test_complete_alternatives_then_render(tmp_path):
    """The bundled waist-up skier has several plausible leg completions: ranked alternatives are recorded."""
    src = REPO_ROOT / "examples" / "waist_up.json"
    out = tmp_path / "out.json"
    result = run_cli("complete", src, "-o", out, "--alternatives", "3")
    assert result.returncode == 0, result.stderr
    doc = json.loads(out.read_text())
    info = doc["people"][0]["skelext"]
    assert 1 <= len(info["alternatives"]) <= 2
    scores = [info["best_score"]] + [alt["score"] for alt in info["alternatives"]]
    assert scores == sorted(scores, reverse=True) and sum(scores) <= 1.0 + 1e-6
    best = doc["people"][0]["pose_keypoints_2d"]
    for alt in info["alternatives"]:
        assert len(alt["pose_keypoints_2d"]) == 54
        assert alt["pose_keypoints_2d"] != best
    result = run_cli("render", out, "-o", tmp_path / "out.png")
    assert result.returncode == 0, result.stderr
    assert pixels(tmp_path / "out.png").shape == (doc["canvas_height"], doc["canvas_width"], 3)


@pytest.mark.parametrize("k", ["0", "9", "x"])
def test_complete_bad_alternatives(tmp_path, k):
    src = write_json(tmp_path / "in.json", pose_doc())
    result = run_cli("complete", src, "-o", tmp_path / "out.json", "--alternatives", k)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert not (tmp_path / "out.json").exists()


def test_outputs_get_normal_file_permissions(tmp_path):
    """Atomic writes must not leave mkstemp's private 0600 mode on user outputs."""
    src = write_json(tmp_path / "in.json", pose_doc(64, 64, {1: (30, 20), 2: (20, 20)}))
    old = os.umask(0o022)
    try:
        result = run_cli("render", src, "-o", tmp_path / "out.png")
    finally:
        os.umask(old)
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE((tmp_path / "out.png").stat().st_mode) == 0o644


@needs_model
def test_files_written_are_named_and_verbosity_flags_go_anywhere(tmp_path):
    """Without flags: one ``skelext: wrote ...`` line per input; -q silences it; -v adds progress;
    -v/-q are accepted before and after the subcommand."""
    example = REPO_ROOT / "examples" / "waist_up.json"
    out = tmp_path / "a.json"
    plain = run_cli("complete", example, "-o", out)
    assert plain.returncode == 0 and plain.stderr.strip().splitlines() == [
        f"skelext: wrote {out} ({json.loads(out.read_text())['people'][0]['skelext']['completed'].__len__()} "
        "points completed)"]
    for args in (("-q", "complete", example, "-o", out), ("complete", example, "-o", out, "-q")):
        quiet = run_cli(*args)
        assert quiet.returncode == 0 and quiet.stderr == "", args
    for args in (("-v", "complete", example, "-o", out), ("complete", example, "-o", out, "-v")):
        loud = run_cli(*args)
        assert loud.returncode == 0 and "wrote" in loud.stderr and "loaded" in loud.stderr, (args, loud.stderr)
    assert run_cli("complete", example, "-o", out, "-q", "-v").returncode == 2  # one or the other


@needs_model
def test_complete_a_list_of_frames_gives_a_list(tmp_path):
    """The list-of-frames JSON (ComfyUI's POSE_KEYPOINT saved to a file): completed frame by frame,
    answered with a list of the same length; one PNG per frame with --render."""
    frame = json.loads((REPO_ROOT / "examples" / "waist_up.json").read_text())
    src = tmp_path / "batch.json"
    src.write_text(json.dumps([frame, frame, {**frame, "people": []}]))
    result = run_cli("complete", src, "-o", tmp_path / "out.json", "--render", tmp_path / "out.png")
    assert result.returncode == 0, result.stderr
    out = json.loads((tmp_path / "out.json").read_text())
    assert isinstance(out, list) and len(out) == 3 and out[2]["people"] == []
    assert out[0] == out[1] and out[0]["people"][0]["skelext"]["completed"]
    assert sorted(p.name for p in tmp_path.glob("out_*.png")) == ["out_00000.png", "out_00001.png", "out_00002.png"]
    src.write_text("[]")
    assert_one_line_error(run_cli("complete", src, "-o", tmp_path / "x.json"))
    src.write_text(json.dumps([frame, {"people": []}]))
    line = assert_one_line_error(run_cli("complete", src, "-o", tmp_path / "x.json"))
    assert "frame 1" in line


def test_complete_without_the_model_file_fails_instead_of_writing_the_pose_unchanged(tmp_path):
    example = REPO_ROOT / "examples" / "waist_up.json"
    env = {**os.environ, "SKELEXT_COMPLETION_MODEL": str(tmp_path / "absent.safetensors")}
    result = subprocess.run([sys.executable, "-m", "lib_skelext", "complete", str(example), "-o",
                             str(tmp_path / "out.json")], cwd=REPO_ROOT, capture_output=True, text=True, env=env,
                            timeout=120)
    line = assert_one_line_error(result)
    assert "absent.safetensors" in line and not (tmp_path / "out.json").exists()
