"""DWPoseDetector end to end through real onnxruntime sessions on tiny fake models.

The image is 960x720, so the letterbox ratio is 2/3 (a real resize). Two
people have boxes 160x307.2 px: x1.25 and widened to 3:4 that is exactly
288x384, the pose model's input, so crops are 1:1 copies shifted by an
integer offset and the expected keypoint positions are plain sums.
"""
from __future__ import annotations

import sys

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from _onnx_fakes import (empty_raw, encode_box, make_constant_pose_model, make_detector_model,  # noqa: E402
                         make_dot_pose_model)

from lib_skelext.dwpose import DWPoseDetector  # noqa: E402
from lib_skelext.pose import L_SHOULDER, L_WRIST, NECK, NOSE, R_SHOULDER, Source  # noqa: E402

W, H = 960, 720
RATIO = 2 / 3
BOX_A = (120.0, 146.4, 280.0, 453.6)   # centre (200, 300)
BOX_B = (620.0, 186.4, 780.0, 493.6)   # centre (700, 340)
OFFSET_A = (200 - 144, 300 - 192)      # crop pixel + offset = image pixel
OFFSET_B = (700 - 144, 340 - 192)


def scene_raw() -> np.ndarray:
    raw = empty_raw()
    encode_box(raw, BOX_A, RATIO, objectness=0.95, class_scores={0: 0.9})
    encode_box(raw, BOX_B, RATIO, objectness=0.9, class_scores={0: 0.9})
    # near-duplicate of A, lower score: removed by NMS (other stride -> other anchor)
    encode_box(raw, (125, 150, 285, 455), RATIO, objectness=0.9, class_scores={0: 0.6}, stride=16)
    # a confident car and a weak person: neither becomes a person box
    encode_box(raw, (400, 500, 600, 650), RATIO, objectness=0.9, class_scores={2: 0.95}, stride=16)
    encode_box(raw, (420, 40, 470, 120), RATIO, objectness=0.5, class_scores={0: 0.5}, stride=8)
    return raw


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    d = tmp_path_factory.mktemp("fake_dwpose")
    sx = np.zeros((133, 576), np.float32)
    sy = np.zeros((133, 768), np.float32)
    peaks = {  # COCO-WholeBody index: (x bin, y bin, x peak, y peak)
        0: (200, 100, 0.9, 0.7),    # nose at crop (100, 50), score min(0.9, 0.7)
        5: (300, 240, 0.95, 0.95),  # left shoulder at crop (150, 120)
        6: (160, 241, 0.9, 0.9),    # right shoulder at crop (80, 120.5)
        9: (310, 400, 0.2, 0.9),    # left wrist: score 0.2 < 0.3 -> missing
        91: (330, 420, 0.8, 0.8),   # left hand root
        112: (150, 430, 0.8, 0.8),  # right hand root
    }
    for k, (bx, by, px, py) in peaks.items():
        sx[k, bx], sy[k, by] = px, py
    return {
        "det": make_detector_model(d / "det.onnx", scene_raw()),
        "det_empty": make_detector_model(d / "det_empty.onnx", empty_raw()),
        "det_car": make_detector_model(d / "det_car.onnx", _car_only()),
        "pose_const": make_constant_pose_model(d / "pose_const.onnx", sx, sy),
        "pose_const_b1": make_constant_pose_model(d / "pose_const_b1.onnx", sx, sy, batch=1),
        "pose_dot": make_dot_pose_model(d / "pose_dot.onnx"),
    }


def _car_only():
    raw = empty_raw()
    encode_box(raw, (400, 500, 600, 650), RATIO, objectness=0.9, class_scores={2: 0.95}, stride=16)
    return raw


def image():
    return np.zeros((H, W, 3), dtype=np.uint8)


def test_boxes_survive_letterbox_decode_nms(models):
    det = DWPoseDetector(models["det"], models["pose_const"], device="cpu")
    boxes = det.detect_boxes(image())
    np.testing.assert_allclose(boxes, [BOX_A, BOX_B], atol=1e-3)


def test_constant_peaks_land_on_exact_pixels(models):
    det = DWPoseDetector(models["det"], models["pose_const"], device="cpu")
    kp = det.detect_wholebody(image())
    assert kp.shape == (2, 133, 3)
    for person, (ox, oy) in zip(kp, (OFFSET_A, OFFSET_B)):
        np.testing.assert_allclose(person[0], [100 + ox, 50 + oy, 0.7], atol=1e-3)
        np.testing.assert_allclose(person[6, :2], [80 + ox, 120.5 + oy], atol=1e-3)
        assert person[9, 2] == pytest.approx(0.2)
        assert person[1, 2] == 0  # no peak: score 0

    frame = det.detect_people(image())
    assert (frame.canvas_width, frame.canvas_height) == (W, H)
    assert len(frame.people) == 2
    p = frame.people[0]
    ox, oy = OFFSET_A
    np.testing.assert_allclose(p.body[NOSE, :2], [100 + ox, 50 + oy], atol=1e-3)
    np.testing.assert_allclose(p.body[L_SHOULDER, :2], [150 + ox, 120 + oy], atol=1e-3)
    np.testing.assert_allclose(p.body[R_SHOULDER, :2], [80 + ox, 120.5 + oy], atol=1e-3)
    np.testing.assert_allclose(p.body[NECK, :2], [115 + ox, 120.25 + oy], atol=1e-3)
    assert p.body[L_WRIST, 2] == 0 and p.source[L_WRIST] == Source.MISSING
    assert p.present.sum() == 4  # nose, neck, both shoulders
    np.testing.assert_allclose(p.hand_left[0, :2], [165 + ox, 210 + oy], atol=1e-3)
    np.testing.assert_allclose(p.hand_right[0, :2], [75 + ox, 215 + oy], atol=1e-3)
    assert p.face is None  # no face point scored


def test_affine_crop_reaches_the_model(models):
    img = image()
    img[320, 210] = 255   # inside A's crop only
    img[300, 690] = 255   # inside B's crop only
    det = DWPoseDetector(models["det"], models["pose_dot"], device="cpu")
    kp = det.detect_wholebody(img)
    np.testing.assert_allclose(kp[0, :, :2], np.tile([210, 320], (133, 1)), atol=1e-3)
    np.testing.assert_allclose(kp[1, :, :2], np.tile([690, 300], (133, 1)), atol=1e-3)
    assert (kp[..., 2] > 2).all()  # normalised white: (255 - 123.675) / 58.395


def test_nothing_detected_means_no_people(models):
    det = DWPoseDetector(models["det_empty"], models["pose_const"], device="cpu")
    frame = det.detect_people(image())
    assert frame.people == [] and (frame.canvas_width, frame.canvas_height) == (W, H)


def test_no_person_box_falls_back_to_whole_image_like_controlnet(models):
    det = DWPoseDetector(models["det_car"], models["pose_const"], device="cpu")
    frame = det.detect_people(image())
    assert len(frame.people) == 1
    # whole-image box: centre (480, 360), 960x720 -> x1.25 -> 1200x900 -> 3:4 -> 1200x1600
    nose = frame.people[0].body[NOSE]
    np.testing.assert_allclose(nose[:2], [100 / 288 * 1200 + 480 - 600, 50 / 384 * 1600 + 360 - 800], atol=1e-3)
    strict = DWPoseDetector(models["det_car"], models["pose_const"], device="cpu", whole_image_fallback=False)
    assert strict.detect_people(image()).people == []


def test_threshold_and_bad_input(models):
    from lib_skelext.errors import SkelextError

    det = DWPoseDetector(models["det"], models["pose_const"], device="cpu")
    frame = det.detect_people(image(), threshold=0.8)
    assert frame.people[0].body[NOSE, 2] == 0   # 0.7 < 0.8
    with pytest.raises(SkelextError):
        det.detect_people(np.zeros((10, 10), np.uint8))
    with pytest.raises(SkelextError):
        det.detect_people(np.zeros((10, 10, 3), np.float32))


def test_sessions_are_lazy(models):
    det = DWPoseDetector(models["det"], models["pose_const"], device="cpu")
    assert det._det is None and det._pose is None
    det.detect_people(image())
    assert det._det is not None
    det.unload()
    assert det._det is None


def test_missing_weights_offline_is_one_line(tmp_path, monkeypatch):
    from lib_skelext.errors import SkelextError

    monkeypatch.setenv("SKELEXT_OFFLINE", "1")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("SKELEXT_DWPOSE_DIR", raising=False)
    det = DWPoseDetector(weights_dir=tmp_path / "w")
    with pytest.raises(SkelextError) as err:
        det.detect_people(image())
    msg = str(err.value)
    assert "\n" not in msg and "yolox_l.onnx" in msg and str(tmp_path / "w") in msg


def test_import_is_lazy():
    import subprocess

    code = ("import sys, lib_skelext.dwpose, lib_skelext.weights; "
            "print(sorted(m for m in ('cv2', 'onnxruntime', 'onnx', 'torch') if m in sys.modules))")
    from pathlib import Path

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.strip() == "[]"


def test_fixed_batch_pose_model_runs_box_by_box(models):
    batched = DWPoseDetector(models["det"], models["pose_const"], device="cpu").detect_wholebody(image())
    single = DWPoseDetector(models["det"], models["pose_const_b1"], device="cpu").detect_wholebody(image())
    np.testing.assert_allclose(single, batched)


def test_choose_providers():
    from lib_skelext.dwpose.session import choose_providers
    from lib_skelext.errors import SkelextError

    gpu = ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]
    assert choose_providers(gpu) == ["CUDAExecutionProvider", "CPUExecutionProvider"]
    assert choose_providers(gpu, "cpu") == ["CPUExecutionProvider"]
    assert choose_providers(["AzureExecutionProvider", "CPUExecutionProvider"]) == ["CPUExecutionProvider"]
    with pytest.raises(SkelextError):
        choose_providers(["CPUExecutionProvider"], "cuda")
    with pytest.raises(SkelextError):
        choose_providers(gpu, "tpu")


def test_corrupt_model_file_is_a_skelext_error(tmp_path, models):
    from lib_skelext.errors import SkelextError

    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"not onnx")
    det = DWPoseDetector(bad, models["pose_const"], device="cpu")
    with pytest.raises(SkelextError, match="broken.onnx"):
        det.detect_people(image())
