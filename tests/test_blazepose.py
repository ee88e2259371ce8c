"""BlazePose backend: the 33 -> OpenPose-18 mapping, and real photos (skipped without them)."""
from __future__ import annotations

import numpy as np
import pytest

from lib_skelext.blazepose import BLAZEPOSE_TO_OPENPOSE, landmarks_to_body
from lib_skelext.pose import (L_ANKLE, L_EAR, L_EYE, L_HIP, L_KNEE, L_SHOULDER, NECK, NOSE, R_ANKLE, R_EYE, R_HIP,
                              R_KNEE, R_SHOULDER, R_WRIST)


def synthetic_landmarks():
    """Landmark i at (i / 40, i / 50), full confidence: positions identify the index."""
    i = np.arange(33, dtype=np.float64)
    return np.stack([i / 40 + 0.05, i / 50 + 0.05, np.ones(33)], axis=1)


def test_mapping_uses_the_right_landmarks():
    lm = synthetic_landmarks()
    body = landmarks_to_body(lm, 400, 500)
    expected = {NOSE: 0, R_SHOULDER: 12, L_SHOULDER: 11, R_WRIST: 16, R_HIP: 24, L_HIP: 23, R_KNEE: 26,
                L_KNEE: 25, R_ANKLE: 28, L_ANKLE: 27, R_EYE: 5, L_EYE: 2, L_EAR: 7}
    for op, bp in expected.items():
        np.testing.assert_allclose(body[op], [lm[bp, 0] * 400, lm[bp, 1] * 500, 1.0])
    np.testing.assert_allclose(body[NECK, :2], [(lm[11, 0] + lm[12, 0]) / 2 * 400, (lm[11, 1] + lm[12, 1]) / 2 * 500])
    assert len(BLAZEPOSE_TO_OPENPOSE) == 18 and BLAZEPOSE_TO_OPENPOSE[NECK] == -1


def test_outside_or_low_visibility_is_missing():
    lm = synthetic_landmarks()
    lm[27, 1] = 1.3          # left ankle below the image: BlazePose's guess, not a detection
    lm[28, 0] = -0.01        # right ankle left of the image
    lm[26, 2] = 0.1          # right knee barely visible
    lm[12, 2] = 0.2          # right shoulder -> no neck either
    body = landmarks_to_body(lm, 400, 500, threshold=0.3)
    for i in (L_ANKLE, R_ANKLE, R_KNEE, R_SHOULDER, NECK):
        assert (body[i] == 0).all()
    assert body[L_KNEE, 2] == 1 and body[L_SHOULDER, 2] == 1
    lm[np.arange(33), 2] = 0.5
    assert landmarks_to_body(lm, 400, 500, threshold=0.6)[:, 2].max() == 0


# ------------------------------------------------------------------ real photos
@pytest.fixture(scope="module")
def blaze():
    pytest.importorskip("mediapipe")
    from lib_skelext.blazepose import BlazePoseDetector

    det = BlazePoseDetector()
    yield det
    det.close()


def photo(shared_dir, name):
    from lib_skelext.image_io import load_image

    path = shared_dir / "photos" / name
    if not path.exists():
        pytest.skip(f"{path} missing")
    return load_image(path)


def test_astronaut_is_waist_up(blaze, shared_dir):
    img = photo(shared_dir, "skimage_astronaut.png")
    frame = blaze.detect_people(img)
    assert len(frame.people) == 1 and (frame.canvas_width, frame.canvas_height) == (512, 512)
    body = frame.people[0].body
    for i in (NOSE, NECK, R_SHOULDER, L_SHOULDER, R_EYE, L_EYE):
        assert body[i, 2] > 0
    # hips are at the bottom edge or below, knees and ankles far below: all missing
    for i in (R_KNEE, L_KNEE, R_ANKLE, L_ANKLE):
        assert body[i, 2] == 0
    # the face is in the upper third, shoulders below it
    assert body[NOSE, 1] < 512 / 3 < body[NECK, 1]
    assert frame.people[0].face is None and frame.people[0].hand_left is None


def test_full_body_photo_has_legs(blaze, shared_dir):
    img = photo(shared_dir, "coco_000000000785.jpg")
    body = blaze.detect_people(img).people[0].body
    # COCO ground truth: left ankle (466, 362), right ankle (396, 341), nose (367, 81)
    assert body[L_ANKLE, 2] > 0 and body[R_ANKLE, 2] > 0
    assert np.hypot(*(body[NOSE, :2] - [367, 81])) < 15
    assert np.hypot(*(body[L_ANKLE, :2] - [466, 362])) < 30


def test_single_person_only(blaze, shared_dir):
    img = photo(shared_dir, "sports2d_f060.jpg")   # two people in the photo
    assert len(blaze.detect_people(img).people) <= 1
