"""process_image on real photographs (/work/shared/photos; skipped when absent).

Detectors: BlazePose always (offline); DWPose too when its real weights are
found locally (never downloaded here). Distances are in torso lengths
(neck -> mid-hip) of the reference person, measured in the original photo.

* waist-up photos: legs must be completed *below* the frame, in order
  (hip above knee above ankle) and at a human scale;
* full-body photos cut above the knees: completed points must land near the
  full photo's ground truth (COCO-WholeBody) or near the detection on the
  uncut photo.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from lib_skelext.errors import SkelextError
from lib_skelext.pose import (BODY_NAMES, L_ANKLE, L_HIP, L_KNEE, NECK, R_ANKLE, R_HIP, R_KNEE, Source,
                              body_from_coco17, torso_length)
from lib_skelext.settings import PipelineSettings

LEGS = (R_KNEE, R_ANKLE, L_KNEE, L_ANKLE)


@pytest.fixture(scope="module")
def completion_model():
    from lib_skelext.completion_model import load_model

    try:
        return load_model()
    except SkelextError as exc:
        pytest.skip(f"completion model not available: {exc}")


@pytest.fixture(scope="module", params=["blazepose", "dwpose"])
def detector(request):
    if request.param == "blazepose":
        pytest.importorskip("mediapipe")
        from lib_skelext.blazepose import BlazePoseDetector

        det = BlazePoseDetector()
        yield "blazepose", det
        det.close()
        return
    from lib_skelext import weights

    dirs = weights.dwpose_search_dirs()
    found = [weights.find_file(f.name, dirs) for f in weights.DWPOSE_FILES]
    if not all(found):
        pytest.skip("real DWPose weights not found locally (never downloaded in tests)")
    from lib_skelext.dwpose import DWPoseDetector

    yield "dwpose", DWPoseDetector(found[0], found[1])


def load(shared_dir, name):
    from lib_skelext.image_io import load_image

    path = shared_dir / "photos" / name
    if not path.exists():
        pytest.skip(f"{path} missing")
    return load_image(path)


def run(image, detector, **kw):
    from lib_skelext.core import process_image

    name, det = detector
    return process_image(image, PipelineSettings(detector=name, **kw), detector=det)


def main_person(frame):
    """The person with the most body points (BlazePose has one anyway)."""
    assert frame.people, "nobody detected"
    return max(frame.people, key=lambda p: (p.present.sum(), np.ptp(p.body[p.present, 1])))


def to_original(points_xy, result, crop_shape, offset=(0, 0)):
    """Control-image pixels -> pixels of the photo the crop was cut from."""
    k = result.control_image.shape[1] / crop_shape[1]
    return np.asarray(points_xy) / k + np.asarray(offset, dtype=np.float64)


@pytest.mark.parametrize("name", ["skimage_astronaut.png", "sports2d_f092_crop_waistup.jpg"])
def test_waist_up_legs_completed_below_frame(shared_dir, detector, completion_model, name):
    res = run(load(shared_dir, name), detector)
    assert not res.completion_failed
    h = res.control_image.shape[0]
    p = main_person(res.frame)
    body = p.body
    for i in LEGS:
        assert p.source[i] == Source.COMPLETED, f"{BODY_NAMES[i]} not completed"
        assert body[i, 1] > h, f"{BODY_NAMES[i]} at y={body[i, 1]:.0f}, not below the frame (h={h})"
    for hip, knee, ankle in ((R_HIP, R_KNEE, R_ANKLE), (L_HIP, L_KNEE, L_ANKLE)):
        assert body[hip, 2] > 0
        assert body[hip, 1] < body[knee, 1] < body[ankle, 1]
    torso = torso_length(body)
    mid_hip_y = (body[R_HIP, 1] + body[L_HIP, 1]) / 2
    legs = (body[R_ANKLE, 1] + body[L_ANKLE, 1]) / 2 - mid_hip_y
    assert 0.9 * torso < legs < 2.5 * torso, f"leg length {legs / torso:.2f} torsos"
    # JSON keeps the off-frame points (canvas keep) and the canvas is the control image
    doc = json.loads(res.json_text)
    assert (doc["canvas_width"], doc["canvas_height"]) == (res.control_image.shape[1], h)
    # the detected points are untouched by completion
    detected = main_person(res.detected)
    given = detected.present
    np.testing.assert_array_equal(p.body[given], detected.body[given])


def _coco_785_truth(shared_dir):
    path = shared_dir / "photos" / "coco_test_coco_wholebody.json"
    if not path.exists():
        pytest.skip(f"{path} missing")
    doc = json.loads(path.read_text())
    ann = next(a for a in doc["annotations"] if a["image_id"] == 785)
    # visibility flags as scores, threshold 1: every labelled point
    return body_from_coco17(np.array(ann["keypoints"], dtype=np.float64).reshape(17, 3), threshold=1)


def _completed_errors(res, crop_shape, offset, reference, torso):
    p = main_person(res.frame)
    pts = to_original(p.body[:, :2], res, crop_shape, offset)
    return {BODY_NAMES[i]: float(np.hypot(*(pts[i] - reference[i, :2])) / torso)
            for i in np.nonzero(p.completed)[0] if reference[i, 2] > 0}


def test_hips_up_crop_vs_ground_truth(shared_dir, detector, completion_model):
    """coco_000000000785_crop_hipsup.jpg is rows 20:225, columns 250:520 of the full photo."""
    truth = _coco_785_truth(shared_dir)
    torso = torso_length(truth)
    crop = load(shared_dir, "coco_000000000785_crop_hipsup.jpg")
    res = run(crop, detector)
    errors = _completed_errors(res, crop.shape, (250, 20), truth, torso)
    print(f"\n[{detector[0]}] hips-up crop, completed vs ground truth (torso {torso:.0f} px):",
          {k: round(v, 2) for k, v in errors.items()})
    assert {"right_knee", "left_knee", "right_ankle", "left_ankle"} <= set(errors)
    assert max(errors.values()) < 0.75 and np.mean(list(errors.values())) < 0.5


@pytest.mark.parametrize("name,cut", [
    ("coco_000000000785.jpg", 0.2), ("coco_000000000785.jpg", 1.2),
    ("opencv_basketball1.png", 0.2), ("opencv_basketball1.png", 1.2),
])
def test_crops_made_here_vs_uncut_detection(shared_dir, detector, completion_model, name, cut):
    """Cut the photo at hip + cut x (knee - hip) of the uncut detection; compare the completed
    points with the uncut detection (and, for coco 785, with the ground truth)."""
    full = load(shared_dir, name)
    det_name, det = detector
    uncut = main_person(det.detect_people(full))
    ref = uncut.body
    if not ref[list(LEGS) + [NECK, R_HIP, L_HIP], 2].all():
        pytest.skip(f"{det_name} misses legs on the uncut {name}")
    torso = torso_length(ref)
    present = ref[:, 2] > 0
    xs, ys = ref[present, 0], ref[present, 1]
    x0, x1 = int(max(0, xs.min() - 0.6 * torso)), int(min(full.shape[1], xs.max() + 0.6 * torso))
    y0 = int(max(0, ys.min() - 0.5 * torso))
    hip_y, knee_y = ref[[R_HIP, L_HIP], 1].mean(), ref[[R_KNEE, L_KNEE], 1].mean()
    y1 = int(hip_y + cut * (knee_y - hip_y))
    crop = np.ascontiguousarray(full[y0:y1, x0:x1])
    res = run(crop, detector)
    errors = _completed_errors(res, crop.shape, (x0, y0), ref, torso)
    print(f"\n[{det_name}] {name} cut at {cut}: completed vs uncut detection (torso {torso:.0f} px):",
          {k: round(v, 2) for k, v in errors.items()})
    assert "right_ankle" in errors and "left_ankle" in errors
    if cut < 1:
        assert "right_knee" in errors and "left_knee" in errors
    assert max(errors.values()) < 0.75 and np.mean(list(errors.values())) < 0.5
    if name == "coco_000000000785.jpg":
        truth = _coco_785_truth(shared_dir)
        gt_errors = _completed_errors(res, crop.shape, (x0, y0), truth, torso_length(truth))
        print(f"   same vs ground truth: {({k: round(v, 2) for k, v in gt_errors.items()})}")
        assert max(gt_errors.values()) < 0.75


def test_walking_side_view_stays_plausible(shared_dir, detector, completion_model):
    """A walking stride cut at the hips is ambiguous (which leg is forward): only a
    loose bound, and the legs must hang below the hips."""
    full = load(shared_dir, "sports2d_f115.jpg")
    det_name, det = detector
    ref = main_person(det.detect_people(full)).body
    if not ref[list(LEGS) + [NECK, R_HIP, L_HIP], 2].all():
        pytest.skip(f"{det_name} misses legs on the uncut photo")
    torso = torso_length(ref)
    present = ref[:, 2] > 0
    x0 = int(max(0, ref[present, 0].min() - 0.6 * torso))
    x1 = int(min(full.shape[1], ref[present, 0].max() + 0.6 * torso))
    y0 = int(max(0, ref[present, 1].min() - 0.5 * torso))
    y1 = int(ref[[R_HIP, L_HIP], 1].mean() + 0.2 * (ref[[R_KNEE, L_KNEE], 1].mean() - ref[[R_HIP, L_HIP], 1].mean()))
    crop = np.ascontiguousarray(full[y0:y1, x0:x1])
    res = run(crop, detector)
    errors = _completed_errors(res, crop.shape, (x0, y0), ref, torso)
    print(f"\n[{det_name}] walking side view cut at the hips:", {k: round(v, 2) for k, v in errors.items()})
    assert set(errors) >= {"right_ankle", "left_ankle"}
    assert max(errors.values()) < 1.5


def test_dwpose_multiple_people(shared_dir, detector, completion_model):
    """Several people (DWPose only: BlazePose is single-person): everyone is kept, and
    people whose legs are hidden get them completed without touching the others."""
    if detector[0] != "dwpose":
        pytest.skip("BlazePose finds one person at most")
    res = run(load(shared_dir, "sports2d_f060.jpg"), detector)
    assert len(res.frame.people) >= 2 and len(res.frame.people) == len(res.detected.people)
    for done, seen in zip(res.frame.people, res.detected.people):
        given = seen.present
        np.testing.assert_array_equal(done.body[given], seen.body[given])
        assert done.present.all() or not done.completed.any()
