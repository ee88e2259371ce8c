"""#24: one pipeline under every surface: one failure policy, one set of names and units, the same
clip gives the same JSON everywhere.

Outputs are read the way their consumers read them (``host_readers``: comfyui_controlnet_aux's
``is_normalized``), not with skelext's own reader."""
from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import numpy as np
import pytest

import lib_skelext.complete as complete_mod
import lib_skelext.guard as guard_mod
from api_client import Client
from comfyui_fakes import comfy_host  # noqa: F401  (fixture)
from pose_docs import normalized
from lib_skelext.api import create_app
from lib_skelext.cli import build_parser, main
from lib_skelext.completion_model import load_model
from lib_skelext.core import complete_poses
from lib_skelext.errors import CompletionFailed, SkelextError
from lib_skelext.openpose_json import frame_from_dict
from lib_skelext.settings import OPTIONS, PipelineSettings

REPO = Path(__file__).resolve().parents[1]
WAIST_UP = json.loads((REPO / "examples" / "waist_up.json").read_text())
FULL_BODY = json.loads((REPO / "examples" / "full_body.json").read_text())


def clip_docs(n=8, width=300, height=160):
    """A waist-up person (cut below the hips) drifting right: one video's frames."""
    mean = load_model().mean_pose
    docs = []
    for t in range(n):
        xy = mean * 60.0 + [100 + 2 * t, 50]
        body = np.zeros((18, 3))
        vis = xy[:, 1] < height
        body[vis, :2], body[vis, 2] = xy[vis], 1.0
        docs.append({"people": [{"pose_keypoints_2d": body.ravel().tolist()}], "canvas_width": width,
                     "canvas_height": height})
    return docs


@pytest.fixture
def broken_model(monkeypatch):
    """The completion model's forward pass raises as onnxruntime/torch do at run time (single frames and
    sequences alike); the warning count starts afresh."""
    from lib_skelext.completion_model import CompletionModel

    def boom(self, *args, **kwargs):
        raise RuntimeError("the model exploded\nsecond line")

    load_model()  # loaded while healthy: the failure is the forward pass's
    monkeypatch.setattr(CompletionModel, "predict", boom)
    monkeypatch.setattr(guard_mod, "_FAILURES", {})


# ------------------------------------------------------------------ the failure policy
def test_core_fallback_returns_the_pose_as_given_and_raise_raises_one_line(broken_model, caplog):
    frame = frame_from_dict(WAIST_UP)
    with caplog.at_level(logging.WARNING, logger="lib_skelext"):
        result = complete_poses([frame])[0]
    assert result.completion_failed and result.completed_points == 0
    assert np.array_equal(result.frame.people[0].body, frame.people[0].body)
    assert [r.levelno for r in caplog.records if "completion failed" in r.getMessage()] == [logging.WARNING]
    with pytest.raises(CompletionFailed, match=r"^completion failed \(RuntimeError: the model exploded\)$"):
        complete_poses([frame], on_failure="raise")
    with pytest.raises(SkelextError, match="on_failure"):
        complete_poses([frame], on_failure="ignore")


@pytest.mark.parametrize("error", [TypeError("a bug"), KeyError("a bug"), AttributeError("a bug"),
                                   NotImplementedError("a bug")])
def test_programming_errors_are_never_caught(monkeypatch, error):
    def bug(frames, **kwargs):
        raise error

    monkeypatch.setattr(complete_mod, "complete_frames", bug)
    for policy in ("fallback", "raise"):
        with pytest.raises(type(error)):
            complete_poses([frame_from_dict(WAIST_UP)], on_failure=policy)


def test_bad_input_is_not_a_model_failure(monkeypatch):
    def bad(frames, **kwargs):
        raise SkelextError("a given body point has a non-finite coordinate")

    monkeypatch.setattr(complete_mod, "complete_frames", bad)
    with pytest.raises(SkelextError, match="non-finite") as caught:
        complete_poses([frame_from_dict(WAIST_UP)])  # fallback does not swallow bad input
    assert not isinstance(caught.value, CompletionFailed)


def test_a_missing_model_file_in_a_sequence_falls_back_like_a_single_frame(monkeypatch, tmp_path, caplog):
    """Before #24 the sequence path loaded the model outside the guard and raised."""
    frames = [frame_from_dict(d) for d in clip_docs(4)]
    monkeypatch.setenv("SKELEXT_COMPLETION_MODEL", str(tmp_path / "absent.safetensors"))
    monkeypatch.setattr(guard_mod, "_FAILURES", {})
    with caplog.at_level(logging.WARNING, logger="lib_skelext"):
        for settings in (PipelineSettings(), PipelineSettings(sequence="causal")):
            results = complete_poses(frames, settings)
            assert all(r.completion_failed and r.completed_points == 0 for r in results)
    with pytest.raises(CompletionFailed, match="absent.safetensors"):
        complete_poses(frames, PipelineSettings(sequence="offline"), on_failure="raise")


@pytest.mark.parametrize("route, body", [
    ("complete", {"pose": WAIST_UP}),
    ("complete", {"pose": clip_docs(4), "sequence": "causal"}),
    ("retarget", {"driving": WAIST_UP, "reference": FULL_BODY}),  # the driving legs need the model
])
def test_rest_reports_completion_failed(broken_model, route, body):
    client = Client(create_app())
    r = client.post(f"/skelext/v1/{route}", json=body)
    assert r.status_code == 200, r.text[:300]
    assert r.json()["completion_failed"] is True
    if route == "complete" and isinstance(body["pose"], dict):
        assert r.json()["completed_points"] == 0


def test_rest_reports_completion_failed_false_when_it_ran():
    client = Client(create_app())
    for route, body in (("complete", {"pose": WAIST_UP}), ("retarget", {"driving": FULL_BODY, "reference": WAIST_UP})):
        r = client.post(f"/skelext/v1/{route}", json=body)
        assert r.status_code == 200 and r.json()["completion_failed"] is False, r.text[:300]


@pytest.mark.parametrize("command", ["complete", "retarget"])
def test_cli_exits_3_with_one_line_and_writes_nothing(broken_model, tmp_path, capsys, command):
    src = tmp_path / "in.json"
    src.write_text(json.dumps(WAIST_UP))
    out = tmp_path / "out.json"
    argv = [command, str(src), "-o", str(out)]
    if command == "retarget":
        argv += ["--reference", str(REPO / "examples" / "full_body.json")]
    assert main(argv) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("skelext: ") and "completion failed" in err[0], err
    assert not out.exists()


def test_cli_folder_batch_stops_at_a_model_failure_with_exit_3(broken_model, tmp_path, capsys):
    src = tmp_path / "in"
    src.mkdir()
    for i in range(3):
        (src / f"{i}.json").write_text(json.dumps(WAIST_UP))
    assert main(["-q", "complete", str(src), "-o", str(tmp_path / "out")]) == 3
    assert not list((tmp_path / "out").glob("*.json"))


def test_comfyui_node_falls_back_with_a_warning(broken_model, caplog):
    pytest.importorskip("torch")
    from lib_skelext.comfyui.nodes import SkelextCompletePose

    with caplog.at_level(logging.WARNING, logger="lib_skelext"):
        poses, _ = SkelextCompletePose().complete([WAIST_UP], canvas="keep")["result"]
    assert poses[0]["people"][0]["pose_keypoints_2d"] == WAIST_UP["people"][0]["pose_keypoints_2d"]
    assert any("completion failed" in r.getMessage() for r in caplog.records)


def test_tab_run_falls_back_and_says_so(broken_model):
    from lib_skelext.ui.handlers import start_session

    session, message = start_session(None, json.dumps(WAIST_UP))
    assert "completion failed" in message
    assert np.array_equal(session.frame.people[0].body, frame_from_dict(WAIST_UP).people[0].body)


def test_webui_preprocessor_falls_back_and_draws_the_detection(broken_model, caplog):
    """ControlNet's generation path: the plain detection is drawn, one warning in the console."""
    from lib_skelext.host.preprocess import DWPoseFullRunner, HostOptions

    class OnePerson:
        def detect_people(self, image, threshold=0.3):
            frame = frame_from_dict(WAIST_UP)
            frame.canvas_height, frame.canvas_width = image.shape[:2]
            return frame

    runner = DWPoseFullRunner(HostOptions)
    runner.detector = lambda options=None: OnePerson()
    got = []
    with caplog.at_level(logging.WARNING, logger="lib_skelext"):
        control = runner(np.zeros((205, 270, 3), np.uint8), 205, 0, 0.3, got.append)
    assert control.any() and got[0]["people"] and not got[0]["people"][0].get("skelext", {}).get("completed")
    assert any("completion failed" in r.getMessage() for r in caplog.records)


def test_editor_recompletion_under_the_guard(monkeypatch):
    """A failing re-completion is one CompletionFailed line (the tab shows it) and the session is unchanged."""
    from lib_skelext.edit_session import EditSession

    def boom(*args, **kwargs):
        raise RuntimeError("the model exploded")

    session = EditSession.start(complete_poses([frame_from_dict(WAIST_UP)])[0].frame, completer=boom)
    before = session.frame.people[0].body.copy()
    session.move_point(0, 4, 50.0, 60.0)
    moved = session.frame.people[0].body.copy()
    with pytest.raises(CompletionFailed, match="the model exploded"):
        session.recomplete(0)
    assert np.array_equal(session.frame.people[0].body, moved) and not np.array_equal(moved, before)


# ------------------------------------------------------------------ units: every writer
def _aux_is_normalized(doc) -> bool:
    """comfyui_controlnet_aux's ``is_normalized`` over a person's body points with c >= 1."""
    body = doc["people"][0]["pose_keypoints_2d"]
    present = [(body[i], body[i + 1]) for i in range(0, len(body), 3) if body[i + 2] >= 1.0]
    return bool(present) and all(0 <= abs(x) <= 1 and 0 <= abs(y) <= 1 for x, y in present)


def _writer_outputs(tmp_path):
    """Each writer's output for the 0..1 waist-up pose (completed legs fall below the frame), as text."""
    norm = normalized(WAIST_UP)
    src = tmp_path / "norm.json"
    src.write_text(json.dumps(norm))
    out = {}
    assert main(["-q", "complete", str(src), "-o", str(tmp_path / "cli.json")]) == 0
    out["cli complete"] = json.loads((tmp_path / "cli.json").read_text())
    assert main(["-q", "retarget", str(src), "-o", str(tmp_path / "rt.json"), "--reference", str(src)]) == 0
    out["cli retarget"] = json.loads((tmp_path / "rt.json").read_text())
    client = Client(create_app())
    out["rest complete"] = client.post("/skelext/v1/complete", json={"pose": norm, "coords": "norm"}).json()["pose"]
    out["rest retarget"] = client.post("/skelext/v1/retarget", json={"driving": norm, "reference": norm}).json()["pose"]
    result = complete_poses([frame_from_dict(norm)])[0]
    out["PoseResult.to_dict"] = result.to_dict()
    out["PoseResult.json_text"] = json.loads(result.json_text)
    return out


def test_every_writer_never_writes_0_1_with_a_point_outside(tmp_path):
    outputs = _writer_outputs(tmp_path)
    for writer, doc in outputs.items():
        body = doc["people"][0]["pose_keypoints_2d"]
        h = doc["canvas_height"]
        # aux reads pixels, and the completed legs lie below the frame where they belong
        assert not _aux_is_normalized(doc), writer
        assert max(body[1::3]) > 1.0, writer
        if writer.endswith("complete") or writer.startswith("PoseResult"):
            assert max(body[1::3]) > h, writer


def test_explicit_0_1_output_with_points_outside_is_refused_everywhere(tmp_path, capsys):
    norm = normalized(WAIST_UP)
    src = tmp_path / "norm.json"
    src.write_text(json.dumps(norm))
    assert main(["complete", str(src), "-o", str(tmp_path / "x.json"), "--output-coords", "norm"]) == 2
    assert "outside" in capsys.readouterr().err and not (tmp_path / "x.json").exists()
    r = Client(create_app()).post("/skelext/v1/complete", json={"pose": norm, "output_coords": "norm"})
    assert r.status_code == 400 and "outside" in r.json()["detail"]
    with pytest.raises(SkelextError, match="outside"):
        complete_poses([frame_from_dict(norm)], PipelineSettings(output_coords="norm"))[0].to_dict()
    # fit: every point on the canvas, so 0..1 is written, and aux reads it as 0..1
    r = Client(create_app()).post("/skelext/v1/complete", json={"pose": norm, "output_coords": "norm",
                                                                "canvas": "fit"})
    assert r.status_code == 200 and _aux_is_normalized(r.json()["pose"])


def test_comfyui_save_refuses_0_1_with_points_outside(comfy_host):
    pytest.importorskip("torch")
    from lib_skelext.comfyui.nodes import SkelextCompletePose, SkelextSavePose

    poses, _ = SkelextCompletePose().complete([normalized(WAIST_UP)], canvas="keep")["result"]
    assert not _aux_is_normalized(poses[0])  # POSE_KEYPOINT is pixels
    with pytest.raises(SkelextError, match="outside"):
        SkelextSavePose().save(poses, output_coords="norm")
    SkelextSavePose().save(poses, output_coords="px")


# ------------------------------------------------------------------ names
def _cli_flags(command: str) -> set:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return {s for a in sub.choices[command]._actions for s in a.option_strings}


@pytest.mark.parametrize("command, model", [("complete", "CompleteRequest"), ("detect", "DetectRequest"),
                                            ("render", "RenderRequest"), ("retarget", "RetargetRequest")])
def test_every_option_has_one_name_on_cli_and_rest(command, model):
    """CLI flag = REST field (modulo -/_) for every option the route takes, with the same choices/range."""
    from lib_skelext.api.models import LEGACY_FIELDS, schema

    cls = getattr(schema(), model)
    fields = set(getattr(cls, "model_fields", None) or cls.__fields__)  # pydantic 2, pydantic 1
    options = {f for f in fields if f in OPTIONS}
    flags = _cli_flags(command)
    missing = [o for o in options if OPTIONS[o].cli_flag not in flags]
    assert not missing, (command, missing)
    assert fields - options - set(LEGACY_FIELDS) <= {"pose", "image", "render", "fps", "driving", "reference",
                                                      "reference_image"}


def test_comfyui_inputs_that_name_options_use_the_options_names_and_choices():
    pytest.importorskip("torch")
    from lib_skelext.comfyui.nodes import NODE_CLASS_MAPPINGS

    for name, cls in NODE_CLASS_MAPPINGS.items():
        spec = cls.INPUT_TYPES()
        for group in ("required", "optional"):
            for key, (kind, extra) in spec.get(group, {}).items():
                if key in OPTIONS and OPTIONS[key].kind == "choice":  # Save: px / norm (POSE_KEYPOINT is px)
                    assert set(kind) <= set(OPTIONS[key].choices), (name, key)
    save = NODE_CLASS_MAPPINGS["SkelextSavePose"].INPUT_TYPES()["required"]
    assert "output_coords" in save and set(save["output_coords"][0]) <= set(OPTIONS["output_coords"].choices)
    complete = NODE_CLASS_MAPPINGS["SkelextCompletePose"].INPUT_TYPES()
    assert "sequence" in complete["optional"] and complete["optional"]["sequence"][0] == list(
        OPTIONS["sequence"].choices)


def test_webui_threshold_slider_range_is_the_options():
    from lib_skelext.host.preprocess import threshold_from_slider
    from lib_skelext.host.registry import _slider_values

    spec = OPTIONS["detection_threshold"]
    slider = _slider_values("keep")["threshold"]
    assert (slider["minimum"], slider["maximum"], slider["step"]) == (spec.minimum, spec.maximum, spec.step)
    assert threshold_from_slider(spec.maximum) == spec.maximum and threshold_from_slider(spec.minimum) == 0.0
    assert threshold_from_slider(spec.maximum + 0.5) == spec.default


def test_old_names_still_work():
    """threshold (REST) and --threshold (CLI); sequence: true + sequence_mode; --sequence --sequence-mode."""
    from lib_skelext.api.models import schema, settings_from_request
    from lib_skelext.settings import settings_from_args

    m = schema()
    assert settings_from_request(m.DetectRequest(image="x", threshold=0.6)).detection_threshold == 0.6
    assert settings_from_request(m.DetectRequest(image="x", detection_threshold=0.4, threshold=0.6)
                                 ).detection_threshold == 0.4
    assert settings_from_request(m.CompleteRequest(pose={}, sequence=True, sequence_mode="offline")
                                 ).sequence == "offline"
    assert settings_from_request(m.CompleteRequest(pose={}, sequence=False)).sequence == "off"
    assert settings_from_request(m.CompleteRequest(pose={}, sequence="causal")).sequence == "causal"
    parser = build_parser()
    args = parser.parse_args(["complete", "a.json", "-o", "b.json", "--sequence", "--sequence-mode", "offline"])
    assert settings_from_args(args).sequence == "offline"
    args = parser.parse_args(["detect", "a.jpg", "-o", "b", "--threshold", "0.5", "--no-hands"])
    assert settings_from_args(args).detection_threshold == 0.5 and not settings_from_args(args).draw_hands
    args = parser.parse_args(["complete", "a.json", "-o", "b.json", "--sequence"])
    assert settings_from_args(args).sequence == "causal"


# ------------------------------------------------------------------ the same clip everywhere
@pytest.mark.parametrize("mode", ["causal", "offline"])
def test_the_same_clip_through_cli_rest_and_comfyui_gives_the_same_json(tmp_path, comfy_host, mode):
    pytest.importorskip("torch")
    from lib_skelext.comfyui.nodes import SkelextCompletePose

    docs = clip_docs(8)
    src = tmp_path / "clip.json"
    src.write_text(json.dumps(docs))
    assert main(["-q", "complete", str(src), "-o", str(tmp_path / "out.json"), "--sequence", mode,
                 "--canvas", "expand"]) == 0
    cli = json.loads((tmp_path / "out.json").read_text())
    r = Client(create_app()).post("/skelext/v1/complete", json={"pose": docs, "sequence": mode, "canvas": "expand"})
    assert r.status_code == 200, r.text[:300]
    poses, _ = SkelextCompletePose().complete(docs, canvas="expand", sequence=mode)["result"]
    comfy = json.loads(json.dumps(poses))
    assert cli == r.json()["pose"] == comfy
    assert len(cli) == 8 and {p["skelext"]["track_id"] for f in cli for p in f["people"]} == {0}
    assert all(f["people"][0]["skelext"]["completed"] for f in cli)


def test_retarget_without_the_leg_length_model_follows_the_failure_policy(monkeypatch, tmp_path):
    """The leg-length network (#25) is a model too: fallback keeps the completed lengths and says so;
    raise is one CompletionFailed line."""
    import lib_skelext.leg_lengths as leg_lengths
    from lib_skelext.retarget import retarget_poses

    driving, reference = frame_from_dict(FULL_BODY), frame_from_dict(WAIST_UP)
    healthy = retarget_poses([driving], reference)[0]
    assert not healthy.completion_failed
    monkeypatch.setattr(leg_lengths, "DEFAULT_PATH", str(tmp_path / "absent.safetensors"))
    monkeypatch.setattr(guard_mod, "_FAILURES", {})
    fallback = retarget_poses([driving], reference)[0]
    assert fallback.completion_failed and fallback.frame.people[0].present.all()
    assert not np.allclose(fallback.frame.people[0].body, healthy.frame.people[0].body)  # other leg lengths
    with pytest.raises(CompletionFailed, match="leg-length model not found"):
        retarget_poses([driving], reference, on_failure="raise")
