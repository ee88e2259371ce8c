"""Every surface's pose output, read the way the hosts read it (``host_readers``: ControlNet's decoder
and drawing, comfyui_controlnet_aux's renderer, the openpose editor), not with skelext's own reader.

The detector here reports DWPose-like scores (0.9993, 0.76, 0.32, ...) on the body, hands and face:
before the hosts' rule, every one of those points was dropped by the hosts (c < 1.0) and ControlNet's
preview of skelext's pose was black. Each surface must now hand over a pose in which every present
point survives each reader, and which ControlNet's and aux's drawing draw exactly as skelext drew it.
"""
from __future__ import annotations

import json
from typing import Any, Dict, List, Tuple

import numpy as np
import pytest

from host_readers import aux_render, controlnet_decode, controlnet_draw, editor_visible, lit_pixels
from comfyui_fakes import comfy_host  # noqa: F401  (fixture)
from hosts import WAIST_UP_NORM, Hosts, detector_registered
from lib_skelext.pose import L_WRIST, N_BODY, N_HAND, R_WRIST, Person, PoseFrame

WIDTH, HEIGHT = 512, 512
BODY_SCORES = (0.9993, 0.76, 0.32, 0.95, 0.88, 0.64, 0.71, 0.93, 0.41, 0, 0, 0.55, 0, 0, 0.97, 0.99, 0.81, 0.86)
PARTS = ("pose_keypoints_2d", "hand_left_keypoints_2d", "hand_right_keypoints_2d", "face_keypoints_2d")


class ScoringDetector:
    """A waist-up person as DWPose reports one: raw scores below 1.0 on every present point, a hand
    at each wrist and a face, all inside the image (the image's size = the canvas)."""

    def load(self):
        return self

    def unload(self) -> None:
        pass

    def detect_people(self, image: np.ndarray, threshold: float = 0.3) -> PoseFrame:
        h, w = image.shape[:2]
        body = np.zeros((N_BODY, 3))
        for index, (x, y) in WAIST_UP_NORM.items():
            body[index] = (x * w, y * h, BODY_SCORES[index])

        def hand(at: int) -> np.ndarray:
            x, y = body[at, :2]
            return np.column_stack([x + np.linspace(-12, 12, N_HAND), y + np.linspace(4, 28, N_HAND),
                                    np.linspace(0.45, 0.9, N_HAND)])

        face = np.column_stack([body[0, 0] + np.linspace(-15, 15, 70), body[0, 1] + 6 * np.sin(np.arange(70)),
                                np.linspace(0.35, 0.95, 70)])
        return PoseFrame([Person(body=body, hand_left=hand(L_WRIST), hand_right=hand(R_WRIST), face=face)], w, h)


def present_points(doc: Dict[str, Any]) -> List[Tuple[int, str, int, float, float]]:
    """(person, part, index, x, y) of every point the document holds with c > 0."""
    out = []
    for p, person in enumerate(doc["people"]):
        for key in PARTS:
            numbers = person.get(key) or []
            for i in range(0, len(numbers), 3):
                if numbers[i + 2] > 0:
                    out.append((p, key, i // 3, numbers[i], numbers[i + 1]))
    return out


def assert_hosts_read_it_all(doc: Dict[str, Any], control: np.ndarray = None, *, draw_hands: bool = True,
                             draw_face: bool = True) -> None:
    """Every present point survives ControlNet's decoder (and so aux's), the editor shows every present
    point inside the canvas, and ControlNet's drawing of the JSON equals skelext's control image."""
    points = present_points(doc)
    assert points, "nothing to read"
    decoded = controlnet_decode(doc)
    editor = editor_visible(doc)
    for p, key, i, x, y in points:
        assert decoded[p][key] is not None and decoded[p][key][i] is not None, f"ControlNet drops {key}[{i}]"
        if x > 0 and y > 0:
            assert editor[p][key][i] is not None, f"the editor hides {key}[{i}]"
    if control is not None:
        drawn = controlnet_draw(doc, draw_hand=draw_hands, draw_face=draw_face)
        assert lit_pixels(control) > 0
        assert drawn.shape == control.shape
        assert np.array_equal(drawn, control), \
            f"ControlNet draws {lit_pixels(drawn)} px, skelext {lit_pixels(control)} px"


@pytest.fixture
def photo() -> np.ndarray:
    return np.full((HEIGHT, WIDTH, 3), 90, np.uint8)


@pytest.fixture
def scoring_dwpose():
    with detector_registered("dwpose", ScoringDetector()) as detector:
        yield detector


# ------------------------------------------------------------------ the rule itself
@pytest.mark.parametrize("canvas", ["keep", "fit", "expand"])
def test_core_image_path_is_read_whole_by_every_host(photo, canvas):
    from lib_skelext.core import process_image
    from lib_skelext.settings import PipelineSettings

    result = process_image(photo, PipelineSettings(canvas=canvas), detector=ScoringDetector())
    doc = result.to_dict()
    assert result.completed_points >= 4
    assert_hosts_read_it_all(doc, result.control_image)
    person = doc["people"][0]
    # the scores are not lost: they are in the skelext record, and read back from it
    assert person["skelext"]["scores"]["body"][0] == pytest.approx(0.9993)
    assert person["skelext"]["scores"]["hand_left"][0] == pytest.approx(0.45)
    assert all(c in (0, 1.0) for c in person["pose_keypoints_2d"][2::3])
    from lib_skelext.openpose_json import frame_to_dict

    detected = frame_to_dict(result.detected)
    assert_hosts_read_it_all(detected)


def test_before_the_rule_controlnet_drew_nothing_of_the_detected_body(photo):
    """The failure the rule mends, measured through the reader: with raw scores in the JSON,
    ControlNet's drawing lights only the completed legs."""
    from lib_skelext.core import process_image

    result = process_image(photo, detector=ScoringDetector())
    doc = result.to_dict()
    for person in doc["people"]:  # what skelext used to write: the detector's scores as c
        body = person["pose_keypoints_2d"]
        for i, score in enumerate(person["skelext"]["scores"]["body"]):
            if score > 0:
                body[3 * i + 2] = score
    old = lit_pixels(controlnet_draw(doc))
    new = lit_pixels(controlnet_draw(result.to_dict()))
    assert new == lit_pixels(result.control_image)
    assert old < new / 2


# ------------------------------------------------------------------ CLI
def test_cli_detect_json_and_control_image(photo, scoring_dwpose, tmp_path):
    from lib_skelext.cli import main
    from lib_skelext.cli.files import save_png
    from lib_skelext.image_io import load_image

    save_png(tmp_path / "in.png", photo)
    assert main(["-q", "detect", str(tmp_path / "in.png"), "-o", str(tmp_path / "out"), "--canvas", "expand"]) == 0
    doc = json.loads((tmp_path / "out" / "in.json").read_text())
    assert_hosts_read_it_all(doc, load_image(tmp_path / "out" / "in_control.png"))


def test_cli_complete_writes_read_points_as_read_unless_asked(tmp_path):
    """A file read and not changed is written back exactly as read; --rewrite-scores applies the
    hosts' rule to it too."""
    from lib_skelext.cli import main
    from lib_skelext.image_io import load_image
    from lib_skelext.openpose_json import dumps_frame

    src = tmp_path / "raw.json"
    src.write_text(dumps_frame(ScoringDetector().detect_people(np.zeros((HEIGHT, WIDTH, 3), np.uint8))))
    raw = json.loads(src.read_text())
    for person in raw["people"]:  # as a raw DWPose dump would hold them: the scores as c
        for key in PARTS:
            numbers = person[key]
            scores = person["skelext"]["scores"][{"pose_keypoints_2d": "body", "face_keypoints_2d": "face",
                                                   "hand_left_keypoints_2d": "hand_left",
                                                   "hand_right_keypoints_2d": "hand_right"}[key]]
            for i, score in enumerate(scores):
                if score > 0:
                    numbers[3 * i + 2] = score
        del person["skelext"]
    src.write_text(json.dumps(raw))
    assert main(["-q", "complete", str(src), "-o", str(tmp_path / "as_read.json")]) == 0
    as_read = json.loads((tmp_path / "as_read.json").read_text())
    assert as_read["people"][0]["pose_keypoints_2d"][:3] == raw["people"][0]["pose_keypoints_2d"][:3]
    assert main(["-q", "complete", str(src), "-o", str(tmp_path / "rule.json"), "--rewrite-scores",
                 "--render", str(tmp_path / "rule.png")]) == 0
    rule = json.loads((tmp_path / "rule.json").read_text())
    assert_hosts_read_it_all(rule, load_image(tmp_path / "rule.png"))
    assert rule["people"][0]["skelext"]["scores"]["body"][0] == pytest.approx(0.9993)


def test_cli_complete_sequence_of_a_detected_clip(tmp_path):
    from lib_skelext.cli import main
    from lib_skelext.openpose_json import frames_to_json

    frames = []
    for t in range(6):
        frame = ScoringDetector().detect_people(np.zeros((HEIGHT, WIDTH, 3), np.uint8))
        frame.people[0].body[frame.people[0].present, 0] += 3 * t
        frames.append(frame)
    (tmp_path / "clip.json").write_text(json.dumps(frames_to_json(frames, True)))
    assert main(["-q", "complete", str(tmp_path / "clip.json"), "-o", str(tmp_path / "out.json"), "--sequence",
                 "--canvas", "fit"]) == 0
    docs = json.loads((tmp_path / "out.json").read_text())
    assert len(docs) == 6
    for doc in docs:
        assert_hosts_read_it_all(doc)
        assert doc["people"][0]["skelext"]["completed"]


# ------------------------------------------------------------------ REST
def test_rest_detect_pose_detected_and_image(photo, scoring_dwpose):
    from api_client import Client
    from lib_skelext.api import create_app
    from lib_skelext.api.payloads import decode_image, encode_png

    r = Client(create_app()).post("/skelext/v1/detect", json={"image": encode_png(photo), "canvas": "fit"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert_hosts_read_it_all(body["pose"], decode_image(body["image"]))
    assert_hosts_read_it_all(body["detected"])


def test_rest_complete_with_render(photo):
    from api_client import Client
    from lib_skelext.api import create_app
    from lib_skelext.api.payloads import decode_image
    from lib_skelext.openpose_json import frame_to_dict

    pose = frame_to_dict(ScoringDetector().detect_people(photo))
    r = Client(create_app()).post("/skelext/v1/complete", json={"pose": pose, "render": True, "canvas": "expand"})
    assert r.status_code == 200, r.text
    assert_hosts_read_it_all(r.json()["pose"], decode_image(r.json()["image"]))


# ------------------------------------------------------------------ WebUI: preprocessor, /controlnet/detect, tab
def test_preprocessor_callback_and_control_image(photo, monkeypatch):
    from lib_skelext import host
    from lib_skelext.host import options as host_options
    from lib_skelext.host.preprocess import DWPoseFullRunner

    hosts = Hosts(monkeypatch)
    hosts.webui()
    hosts.use_detector(ScoringDetector())
    monkeypatch.setattr(host, "_runner", DWPoseFullRunner(host_options.read_options))
    for canvas in (0, 1, 2):
        got: List[Any] = []
        control = host.runner()(photo, 512, canvas, 0.3, got.append)
        assert_hosts_read_it_all(got[0], control)


def test_tab_json_and_send_to_controlnet(photo, scoring_dwpose):
    """The tab's JSON is what *Send to ControlNet* uploads: ControlNet's JSON upload renders it with
    decode_json_as_poses + draw_poses, and that drawing becomes the unit's input."""
    from lib_skelext import ui
    from lib_skelext.openpose_json import dumps_frame
    from lib_skelext.render import render_frame

    session, _ = ui.start_session(photo, None, canvas_mode="expand")
    doc = json.loads(dumps_frame(session.output_frame()))
    assert_hosts_read_it_all(doc, render_frame(session.output_frame()))


# ------------------------------------------------------------------ ComfyUI
def _tensor(images):
    import torch

    return torch.from_numpy(np.stack(images).astype(np.float32) / 255.0)


def _images(tensor) -> List[np.ndarray]:
    return [np.round(t.numpy() * 255).astype(np.uint8) for t in tensor]


@pytest.mark.parametrize("sequence", ["off", "causal"])
def test_comfyui_detect_node_pose_keypoint_read_by_aux(photo, scoring_dwpose, comfy_host, sequence):
    from lib_skelext.comfyui.nodes import SkelextDetectPose

    out = SkelextDetectPose().detect(_tensor([photo, photo[:, ::-1].copy(), photo]), canvas="expand",
                                     sequence=sequence)
    control, poses, placed = out["result"]
    controls = _images(control)
    assert len(poses) == 3 and len(controls) == 3
    for doc, image in zip(poses, controls):
        assert_hosts_read_it_all(doc, image)
    # aux's *Render Pose JSON* reads a batch as its first frame: it draws what skelext drew there
    assert np.array_equal(aux_render(poses), controls[0])
    assert json.loads(out["ui"]["openpose_json"][0])[0] == poses[0]


def test_comfyui_complete_node(photo, comfy_host):
    from lib_skelext.comfyui.nodes import SkelextCompletePose
    from lib_skelext.openpose_json import frame_to_dict

    pose = [frame_to_dict(ScoringDetector().detect_people(photo))]
    out = SkelextCompletePose().complete(pose, canvas="fit")
    poses, control = out["result"]
    assert_hosts_read_it_all(poses[0], _images(control)[0])
    assert np.array_equal(aux_render(poses), _images(control)[0])


# ------------------------------------------------------------------ the rule on request, bad input
def _raw_dwpose_dump() -> Dict[str, Any]:
    """A pose as a raw DWPose dump holds it: the scores as c (not skelext's writing)."""
    from lib_skelext.openpose_json import frame_to_dict

    doc = frame_to_dict(ScoringDetector().detect_people(np.zeros((HEIGHT, WIDTH, 3), np.uint8)))
    person = doc["people"][0]
    for i, score in enumerate(person.pop("skelext")["scores"]["body"]):
        if score > 0:
            person["pose_keypoints_2d"][3 * i + 2] = score
    for key in ("hand_left_keypoints_2d", "hand_right_keypoints_2d", "face_keypoints_2d"):
        person.pop(key)
    return doc


def test_rest_rewrite_scores_and_the_as_read_default():
    from api_client import Client
    from lib_skelext.api import create_app

    client, pose = Client(create_app()), _raw_dwpose_dump()
    as_read = client.post("/skelext/v1/complete", json={"pose": pose}).json()["pose"]
    assert as_read["people"][0]["pose_keypoints_2d"][:3] == pose["people"][0]["pose_keypoints_2d"][:3]
    rule = client.post("/skelext/v1/complete", json={"pose": pose, "rewrite_scores": True}).json()["pose"]
    assert_hosts_read_it_all(rule)
    assert rule["people"][0]["skelext"]["scores"]["body"][0] == pytest.approx(0.9993)


def test_comfyui_complete_node_rewrite_scores(comfy_host):
    from lib_skelext.comfyui.nodes import SkelextCompletePose

    poses, _ = SkelextCompletePose().complete([_raw_dwpose_dump()], rewrite_scores=True)["result"]
    assert_hosts_read_it_all(poses[0])


FAR = {"people": [{"pose_keypoints_2d": [1e308, 5, 1] + [0] * 51}], "canvas_width": 9, "canvas_height": 9}


def test_absurd_coordinates_are_refused_on_every_surface(tmp_path, comfy_host):
    """|x| > 1e6 px was accepted and silently zeroed (REST 200): now 400, exit 2, a node error."""
    from api_client import Client
    from lib_skelext.api import create_app
    from lib_skelext.cli import main
    from lib_skelext.comfyui.nodes import SkelextCompletePose
    from lib_skelext.errors import SkelextError

    r = Client(create_app()).post("/skelext/v1/complete", json={"pose": FAR})
    assert r.status_code == 400 and "out of range" in r.json()["detail"]
    (tmp_path / "far.json").write_text(json.dumps(FAR))
    assert main(["-q", "complete", str(tmp_path / "far.json"), "-o", str(tmp_path / "out.json")]) == 2
    assert not (tmp_path / "out.json").exists()
    with pytest.raises(SkelextError, match="out of range"):
        SkelextCompletePose().complete([FAR])
    near = json.loads(json.dumps(FAR))
    near["people"][0]["pose_keypoints_2d"][0] = -999_999.0  # far off the canvas, but a coordinate
    assert Client(create_app()).post("/skelext/v1/complete", json={"pose": near}).status_code == 200


def test_sequence_needs_a_list_of_frames(tmp_path):
    from api_client import Client
    from lib_skelext.api import create_app
    from lib_skelext.cli import main

    pose = _raw_dwpose_dump()
    r = Client(create_app()).post("/skelext/v1/complete", json={"pose": pose, "sequence": True})
    assert r.status_code == 400 and "list of frames" in r.json()["detail"]
    assert Client(create_app()).post("/skelext/v1/complete", json={"pose": [pose, pose], "sequence": True}) \
        .status_code == 200
    (tmp_path / "one.json").write_text(json.dumps(pose))
    assert main(["-q", "complete", str(tmp_path / "one.json"), "-o", str(tmp_path / "o.json"), "--sequence"]) == 2


def test_boolean_flags_mean_what_they_say(photo, scoring_dwpose, tmp_path):
    """`detect --complete` once turned completion off; both spellings exist and mean what they say."""
    from lib_skelext.cli import main
    from lib_skelext.cli.files import save_png

    save_png(tmp_path / "in.png", photo)
    completed = {}
    for flag in ("--complete", "--no-complete", None):
        out = tmp_path / str(flag)
        args = ["-q", "detect", str(tmp_path / "in.png"), "-o", str(out)] + ([flag] if flag else [])
        assert main(args) == 0
        person = json.loads((out / "in.json").read_text())["people"][0]
        completed[flag] = len(person.get("skelext", {}).get("completed", []))
    assert completed["--complete"] >= 4 and completed[None] == completed["--complete"]
    assert completed["--no-complete"] == 0
