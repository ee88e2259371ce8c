"""One core, every surface: the same pose through the CLI, the REST API, the tab's handler and the
WebUI preprocessor gives byte-identical JSON (the shipped model, no fakes of the completion).

The pose is a waist-up person whose right wrist is missing while the right hand was detected: the
core drops a detected hand hanging on a completed wrist, on every surface alike (the tab once kept
it while the CLI and REST did not).
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from api_client import Client
from hosts import WAIST_UP_NORM, Hosts
from lib_skelext.openpose_json import dumps_frame
from lib_skelext.pose import N_BODY, N_HAND, R_WRIST, Person, PoseFrame

WIDTH, HEIGHT = 512, 384


class OnePose:
    """A detector that finds the test pose (the preprocessor's image is the pose's canvas size)."""

    def __init__(self, frame: PoseFrame) -> None:
        self.frame = frame

    def load(self):
        return self

    def unload(self) -> None:
        pass

    def detect_people(self, image, threshold=0.3):
        assert image.shape[:2] == (HEIGHT, WIDTH)  # no resize, no padding at this size
        return self.frame.copy()


def waist_up_without_right_wrist() -> PoseFrame:
    body = np.zeros((N_BODY, 3))
    for index, (x, y) in WAIST_UP_NORM.items():
        body[index] = (x * WIDTH, y * HEIGHT, 1.0)
    body[R_WRIST] = 0.0
    hand = np.column_stack([np.linspace(60, 90, N_HAND), np.linspace(290, 320, N_HAND), np.ones(N_HAND)])
    return PoseFrame([Person(body=body, hand_right=hand)], WIDTH, HEIGHT)


def canonical(doc) -> bytes:
    return json.dumps(doc).encode("utf-8")


@pytest.fixture
def pose_file(tmp_path):
    path = tmp_path / "pose.json"
    path.write_text(dumps_frame(waist_up_without_right_wrist()))
    return path


def via_cli(pose_file, tmp_path) -> bytes:
    from lib_skelext.cli import main

    out = tmp_path / "cli.json"
    assert main(["-q", "complete", str(pose_file), "-o", str(out)]) == 0
    return out.read_bytes()


def via_rest(pose_file) -> bytes:
    from lib_skelext.api import create_app

    r = Client(create_app()).post("/skelext/v1/complete", json={"pose": json.loads(pose_file.read_text())})
    assert r.status_code == 200, r.text
    return canonical(r.json()["pose"])


def via_tab(pose_file) -> bytes:
    from lib_skelext import ui

    session, _ = ui.start_session(None, pose_file.read_text(), canvas_mode="keep", alternatives=1)
    return dumps_frame(session.output_frame()).encode("utf-8")


def via_preprocessor(monkeypatch) -> bytes:
    from lib_skelext import host
    from lib_skelext.host import options as host_options
    from lib_skelext.host.preprocess import DWPoseFullRunner

    hosts = Hosts(monkeypatch)
    hosts.webui()
    hosts.use_detector(OnePose(waist_up_without_right_wrist()))
    monkeypatch.setattr(host, "_runner", DWPoseFullRunner(host_options.read_options))
    got = []
    image = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    host.runner()(image, min(WIDTH, HEIGHT), 0, 0.3, got.append)  # canvas 0 = keep, threshold 0.3
    return canonical(got[0])


def test_same_pose_same_json_on_every_surface(pose_file, tmp_path, monkeypatch):
    outputs = {"cli": via_cli(pose_file, tmp_path), "rest": via_rest(pose_file), "tab": via_tab(pose_file),
               "preprocessor": via_preprocessor(monkeypatch)}
    doc = json.loads(outputs["cli"])
    person = doc["people"][0]
    assert R_WRIST in person["skelext"]["completed"]  # the wrist was completed...
    assert person.get("hand_right_keypoints_2d") is None  # ...so the detected hand hanging on it is gone
    assert len(person["skelext"]["completed"]) >= 4  # and the legs are there
    for name, data in outputs.items():
        assert data == outputs["cli"], f"{name} differs from the CLI"
