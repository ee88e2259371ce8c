"""process_image with fake detectors and a fake completion: sizes, hands/face, failures."""
from __future__ import annotations

import json
import logging

import numpy as np
import pytest

import lib_skelext.complete as complete_mod
from lib_skelext.core import drop_parts_of_completed, process_image
from lib_skelext.resize import resize_image_with_pad, to_rgb_uint8
from lib_skelext.pose import L_ANKLE, L_WRIST, NOSE, R_WRIST, Person, PoseFrame, Source
from lib_skelext.settings import PipelineSettings


class FakeDetector:
    """One person, upper body only, placed relative to the image it is given."""

    def __init__(self):
        self.seen = []

    def detect_people(self, image, threshold=0.3):
        self.seen.append((image.shape, threshold))
        h, w = image.shape[:2]
        body = np.zeros((18, 3))
        body[0] = [0.5 * w, 0.2 * h, 0.9]
        body[1] = [0.5 * w, 0.35 * h, 0.9]
        body[2] = [0.4 * w, 0.35 * h, 0.9]
        body[5] = [0.6 * w, 0.35 * h, 0.9]
        hand = np.tile([0.3 * w, 0.5 * h, 0.8], (21, 1))
        face = np.tile([0.5 * w, 0.2 * h, 0.8], (70, 1))
        return PoseFrame([Person(body=body, hand_left=hand, hand_right=hand, face=face)], w, h)


def fake_complete(frame, *, alternatives=1):
    out = frame.copy()
    for p in out.people:
        for i in (R_WRIST, L_ANKLE):
            p.body[i] = [p.body[1, 0], frame.canvas_height * 1.5, 1.0]
            p.source[i] = Source.COMPLETED
    return out


@pytest.mark.parametrize("shape,res,expected_hw,padded_hw", [
    ((425, 640, 3), 512, (512, 771), (512, 832)),
    ((512, 512, 3), 512, (512, 512), (512, 512)),
    ((260, 300, 3), 512, (512, 591), (512, 640)),
    ((1000, 300, 3), 256, (853, 256), (896, 256)),
])
def test_resize_with_pad_matches_controlnet_sizes(shape, res, expected_hw, padded_hw):
    img = np.random.default_rng(0).integers(0, 255, shape, dtype=np.uint8)
    padded, remove_pad = resize_image_with_pad(img, res)
    assert padded.shape[:2] == padded_hw
    assert remove_pad(padded).shape[:2] == expected_hw
    # edge padding: the last row/column is repeated
    h, w = expected_hw
    np.testing.assert_array_equal(padded[h:, :w], np.repeat(padded[h - 1:h, :w], padded_hw[0] - h, axis=0))


def test_to_rgb_uint8_conversions():
    gray = np.full((4, 5), 9, np.uint8)
    assert to_rgb_uint8(gray).shape == (4, 5, 3)
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[..., 3] = 0  # transparent -> white, as ControlNet's HWC3
    assert (to_rgb_uint8(rgba) == 255).all()
    from lib_skelext.errors import SkelextError
    with pytest.raises(SkelextError):
        to_rgb_uint8(np.zeros((4, 4, 3), np.float32))


def test_full_run_sizes_json_and_completion(monkeypatch):
    monkeypatch.setattr(complete_mod, "complete_frames", lambda frames, **kw: [fake_complete(f, **kw) for f in frames])
    img = np.zeros((425, 640, 3), np.uint8)
    det = FakeDetector()
    res = process_image(img, PipelineSettings(resolution=512), detector=det)
    assert det.seen == [((512, 832, 3), 0.3)]          # detection on the padded image
    assert res.control_image.shape == (512, 771, 3)     # = ControlNet's remove_pad size
    doc = json.loads(res.json_text)
    assert (doc["canvas_width"], doc["canvas_height"]) == (771, 512)
    assert (res.frame.canvas_width, res.frame.canvas_height) == (771, 512)
    assert (res.detected.canvas_width, res.detected.canvas_height) == (771, 512)
    p = res.frame.people[0]
    assert p.source[R_WRIST] == Source.COMPLETED and p.body[L_ANKLE, 1] > 512   # off-frame, kept
    assert p.hand_right is None and p.hand_left is not None and p.face is not None
    assert res.detected.people[0].source[R_WRIST] == Source.MISSING            # detection untouched
    assert res.overlay().shape == (512, 771, 3)
    assert not res.completion_failed and res.timings_s["total"] > 0


def test_expand_canvas_grows_control_image(monkeypatch):
    monkeypatch.setattr(complete_mod, "complete_frames", lambda frames, **kw: [fake_complete(f, **kw) for f in frames])
    res = process_image(np.zeros((512, 512, 3), np.uint8), PipelineSettings(canvas="expand"),
                          detector=FakeDetector())
    assert res.control_image.shape[0] > 512 and res.control_image.shape[1] == 512
    doc = json.loads(res.json_text)
    assert (doc["canvas_width"], doc["canvas_height"]) == (512, res.control_image.shape[0])
    assert res.overlay().shape == res.control_image.shape


def test_completion_failure_returns_detection_with_a_warning_each_time(monkeypatch, caplog):
    def boom(frames, *, alternatives=1):
        raise RuntimeError("bug in completion\nsecond line")

    import lib_skelext.guard as guard_mod

    monkeypatch.setattr(complete_mod, "complete_frames", boom)
    monkeypatch.setattr(guard_mod, "_FAILURES", {})
    with caplog.at_level(logging.WARNING, logger="lib_skelext"):
        res = process_image(np.zeros((300, 300, 3), np.uint8), PipelineSettings(), detector=FakeDetector())
        again = process_image(np.zeros((300, 300, 3), np.uint8), PipelineSettings(), detector=FakeDetector())
    assert again.completion_failed and res.completion_failed
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    # every failure reaches the console (WebUI shows WARNING); the traceback only the first time
    assert len(warnings) == 2 and all("second line" not in w.getMessage() for w in warnings)
    assert warnings[0].exc_info and not warnings[1].exc_info and "[2 times]" in warnings[1].getMessage()
    assert res.frame.people[0].present.sum() == 4 and res.frame.people[0].hand_right is not None
    assert res.control_image.shape == (512, 512, 3)


def test_complete_off_and_no_people(monkeypatch):
    called = []
    monkeypatch.setattr(complete_mod, "complete_frames", lambda f, **k: called.append(1) or f)
    res = process_image(np.zeros((300, 300, 3), np.uint8), PipelineSettings(complete=False),
                          detector=FakeDetector())
    assert not called and not res.frame.people[0].completed.any()

    class Nobody:
        def detect_people(self, image, threshold=0.3):
            return PoseFrame([], image.shape[1], image.shape[0])

    res = process_image(np.zeros((300, 300, 3), np.uint8), PipelineSettings(), detector=Nobody())
    assert res.frame.people == [] and not res.control_image.any() and not called
    assert json.loads(res.json_text)["people"] == []


def test_drop_parts_face_when_nose_completed():
    face = np.ones((70, 3))
    p = Person(body=np.zeros((18, 3)), face=face, hand_left=np.ones((21, 3)))
    p.source[NOSE] = Source.COMPLETED
    p.source[L_WRIST] = Source.COMPLETED
    frame = drop_parts_of_completed(PoseFrame([p], 10, 10))
    assert frame.people[0].face is None and frame.people[0].hand_left is None


def test_pipeline_with_fake_onnx_models(tmp_path, monkeypatch):
    """DWPoseDetector (tiny ONNX models) inside the pipeline: detection runs on
    the padded image and comes back in control-image pixels."""
    pytest.importorskip("onnxruntime")
    from _onnx_fakes import empty_raw, encode_box, make_constant_pose_model, make_detector_model

    from lib_skelext.dwpose import DWPoseDetector

    monkeypatch.setattr(complete_mod, "complete_frames", lambda frames, **kw: [fake_complete(f, **kw) for f in frames])
    # photo 640x480 -> resolution 512 -> 683x512 (padded 704x512); the detector
    # sees the padded image, letterbox ratio 640/704.
    ratio = 640 / 704
    raw = empty_raw()
    encode_box(raw, (200.0, 100.0, 328.0, 407.2), ratio, objectness=0.9, class_scores={0: 0.9})
    sx = np.zeros((133, 576), np.float32)
    sy = np.zeros((133, 768), np.float32)
    for k, (bx, by) in {0: (288, 100), 5: (340, 200), 6: (236, 200)}.items():
        sx[k, bx], sy[k, by] = 0.9, 0.9
    det = DWPoseDetector(make_detector_model(tmp_path / "d.onnx", raw),
                         make_constant_pose_model(tmp_path / "p.onnx", sx, sy), device="cpu")
    res = process_image(np.zeros((480, 640, 3), np.uint8), PipelineSettings(), detector=det)
    assert res.control_image.shape == (512, 683, 3)
    nose = res.detected.people[0].body[NOSE]
    # box centre (264, 253.6), crop 288x384 scaled to 1.25 * 307.2 = 384 px tall -> 1:1
    np.testing.assert_allclose(nose[:2], [264 - 144 + 144, 253.6 - 192 + 50], atol=1e-2)
    assert res.frame.people[0].completed.sum() == 2
    assert res.control_image.any()


def test_points_in_the_padding_strip_are_completed_not_kept(monkeypatch):
    """Detection runs on the padded image: a knee found in the padding (y >= h)
    goes to completion as missing; with complete=False it stays as detected."""
    class PadKnee(FakeDetector):
        def detect_people(self, image, threshold=0.3):
            frame = super().detect_people(image, threshold)
            frame.people[0].body[9] = [100.0, 520.0, 0.9]   # resized height is 512, padded 576
            frame.people[0].source[9] = Source.DETECTED
            return frame

    seen = []

    def complete_all(frame, *, alternatives=1):
        seen.append(frame.people[0].body[9].copy())
        out = frame.copy()
        for p in out.people:
            miss = ~p.present
            p.body[miss] = [1.0, 600.0, 1.0]
            p.source[miss] = Source.COMPLETED
        return out

    monkeypatch.setattr(complete_mod, "complete_frames", lambda frames, **kw: [complete_all(f, **kw) for f in frames])
    img = np.zeros((450, 500, 3), np.uint8)          # -> 569 x 512, padded 576 x 576
    res = process_image(img, PipelineSettings(), detector=PadKnee())
    assert (seen[0] == 0).all()                      # handed over as missing
    assert res.frame.people[0].source[9] == Source.COMPLETED
    assert res.detected.people[0].body[9, 1] == 520  # the detection itself is kept as found
    plain = process_image(img, PipelineSettings(complete=False), detector=PadKnee())
    assert plain.frame.people[0].body[9, 1] == 520 and plain.frame.people[0].source[9] == Source.DETECTED
