"""pose.py: COCO-17 / COCO-WholeBody-133 -> OpenPose-18, Person and PoseFrame.

Expected layouts are written here from the documented formats (host-notes.md:
OpenPose body order, ControlNet's DWPose reordering, WholeBody slices), not
from the module's tables.
"""
from __future__ import annotations

import numpy as np
import pytest

from lib_skelext import pose
from lib_skelext.pose import Person, PoseFrame, Source

# OpenPose-18 body order (host-notes.md).
OPENPOSE_NAMES = [
    "nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow",
    "left_wrist", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
    "right_eye", "left_eye", "right_ear", "left_ear",
]
# COCO-17 order (the COCO keypoint annotation format).
COCO_NAMES = [
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee",
    "right_knee", "left_ankle", "right_ankle",
]
# ControlNet's wholebody.py, as quoted in host-notes.md: with the neck appended
# as index 17, openpose[OPENPOSE_IDX] = mmpose[MMPOSE_IDX]; other indices stay.
MMPOSE_IDX = [17, 6, 8, 10, 7, 9, 12, 14, 16, 13, 15, 2, 1, 4, 3]
OPENPOSE_IDX = [1, 2, 3, 4, 6, 7, 8, 9, 10, 12, 13, 14, 15, 16, 17]
# 1-based limb pairs as ControlNet draws them.
LIMB_PAIRS_1BASED = [[2, 3], [2, 6], [3, 4], [4, 5], [6, 7], [7, 8], [2, 9], [9, 10], [10, 11], [2, 12],
                     [12, 13], [13, 14], [2, 1], [1, 15], [15, 17], [1, 16], [16, 18]]


def coco_points(score: float = 0.9) -> np.ndarray:
    """(17, 3) with a distinct position per COCO index."""
    i = np.arange(17, dtype=np.float64)
    return np.stack([10.0 * i + 3.0, 200.0 - 7.0 * i, np.full(17, score)], axis=1)


def controlnet_reorder(coco17: np.ndarray) -> np.ndarray:
    """The documented DWPose -> OpenPose reordering (neck = shoulders' mean)."""
    with_neck = np.vstack([coco17, [(coco17[5] + coco17[6]) / 2]])
    out = with_neck.copy()
    out[OPENPOSE_IDX] = with_neck[MMPOSE_IDX]
    return out[:18]


# ------------------------------------------------------------------ tables
def test_body_names_follow_openpose_order():
    assert list(pose.BODY_NAMES) == OPENPOSE_NAMES


def test_limbs_are_controlnets_pairs():
    assert [list(p) for p in pose.LIMBS] == [[a - 1, b - 1] for a, b in LIMB_PAIRS_1BASED]


def test_flip_swaps_left_and_right_by_name():
    for i, j in enumerate(pose.BODY_FLIP):
        name = OPENPOSE_NAMES[i]
        mirrored = name.replace("right", "LEFT").replace("left", "right").replace("LEFT", "left")
        assert OPENPOSE_NAMES[j] == mirrored


# ------------------------------------------------------------------ COCO-17
def test_coco17_mapping_matches_names():
    kp = coco_points()
    body = pose.body_from_coco17(kp)
    assert body.shape == (18, 3)
    for op_index, name in enumerate(OPENPOSE_NAMES):
        if name == "neck":
            continue
        np.testing.assert_array_equal(body[op_index], kp[COCO_NAMES.index(name)], err_msg=name)


def test_coco17_mapping_matches_controlnet_reordering():
    kp = coco_points()
    expected = controlnet_reorder(kp)
    body = pose.body_from_coco17(kp)
    np.testing.assert_allclose(body[:, :2], expected[:, :2])
    assert (body[:, 2] > 0).all()


def test_neck_is_mean_of_shoulders():
    kp = coco_points()
    kp[5] = [100.0, 50.0, 0.8]   # left shoulder
    kp[6] = [40.0, 70.0, 0.6]    # right shoulder
    body = pose.body_from_coco17(kp)
    assert body[1, 0] == pytest.approx(70.0)
    assert body[1, 1] == pytest.approx(60.0)
    assert body[1, 2] > 0


@pytest.mark.parametrize("left, right, present", [
    (0.9, 0.9, True), (0.3, 0.3, True), (0.9, 0.29, False), (0.29, 0.9, False), (0.0, 0.0, False),
])
def test_neck_present_only_if_both_shoulders_reach_threshold(left, right, present):
    kp = coco_points()
    kp[5, 2], kp[6, 2] = left, right
    body = pose.body_from_coco17(kp, threshold=0.3)
    assert (body[1, 2] > 0) == present
    if not present:
        np.testing.assert_array_equal(body[1], [0, 0, 0])


def test_low_scores_become_missing_zeros():
    kp = coco_points()
    kp[COCO_NAMES.index("left_knee"), 2] = 0.29
    kp[COCO_NAMES.index("nose"), 2] = 0.3
    body = pose.body_from_coco17(kp, threshold=0.3)
    np.testing.assert_array_equal(body[OPENPOSE_NAMES.index("left_knee")], [0, 0, 0])
    assert body[OPENPOSE_NAMES.index("nose"), 2] == pytest.approx(0.3)
    # everything else is kept
    assert (body[:, 2] > 0).sum() == 17


def test_coco17_visibility_flags_with_threshold_one():
    kp = coco_points(score=2.0)  # COCO ground truth: v = 2 visible
    kp[COCO_NAMES.index("right_ankle"), 2] = 0  # not labelled
    kp[COCO_NAMES.index("left_ankle"), 2] = 1   # labelled, occluded
    body = pose.body_from_coco17(kp, threshold=1)
    assert body[OPENPOSE_NAMES.index("right_ankle"), 2] == 0
    assert body[OPENPOSE_NAMES.index("left_ankle"), 2] > 0


def test_non_finite_points_become_missing():
    kp = coco_points()
    kp[0, 0] = np.nan
    kp[9, 1] = np.inf
    body = pose.body_from_coco17(kp)
    np.testing.assert_array_equal(body[OPENPOSE_NAMES.index("nose")], [0, 0, 0])
    np.testing.assert_array_equal(body[OPENPOSE_NAMES.index("left_wrist")], [0, 0, 0])
    assert np.isfinite(body).all()


def test_coco17_does_not_modify_input():
    kp = coco_points()
    kp[3, 2] = 0.1
    before = kp.copy()
    pose.body_from_coco17(kp)
    np.testing.assert_array_equal(kp, before)


# ------------------------------------------------------------------ WholeBody-133
def wholebody_points(score: float = 0.9) -> np.ndarray:
    i = np.arange(133, dtype=np.float64)
    return np.stack([i + 0.25, 1000.0 - i, np.full(133, score)], axis=1)


def test_wholebody_layout():
    kp = wholebody_points()
    person = pose.person_from_wholebody133(kp)
    np.testing.assert_allclose(person.body[:, :2], controlnet_reorder(kp[:17])[:, :2])
    # face: the 68 face points (after 17 body + 6 feet), then R eye, L eye = 70
    assert person.face.shape == (70, 3)
    np.testing.assert_array_equal(person.face[:68], kp[23:91])
    np.testing.assert_array_equal(person.face[68], kp[COCO_NAMES.index("right_eye")])
    np.testing.assert_array_equal(person.face[69], kp[COCO_NAMES.index("left_eye")])
    np.testing.assert_array_equal(person.hand_left, kp[91:112])
    np.testing.assert_array_equal(person.hand_right, kp[112:133])
    # the feet (17:23) go nowhere
    feet_x = set(kp[17:23, 0])
    for part in (person.body, person.face, person.hand_left, person.hand_right):
        assert not feet_x & set(part[:, 0])


@pytest.mark.parametrize("part, rows", [("face", slice(23, 91)), ("hand_left", slice(91, 112)),
                                        ("hand_right", slice(112, 133))])
def test_wholebody_all_missing_part_is_none(part, rows):
    kp = wholebody_points()
    kp[rows, 2] = 0.1
    person = pose.person_from_wholebody133(kp)
    assert getattr(person, part) is None
    for other in {"face", "hand_left", "hand_right"} - {part}:
        assert getattr(person, other) is not None


def test_wholebody_partly_missing_hand_keeps_shape():
    kp = wholebody_points()
    kp[95, 2] = 0.2
    person = pose.person_from_wholebody133(kp)
    assert person.hand_left.shape == (21, 3)
    np.testing.assert_array_equal(person.hand_left[4], [0, 0, 0])
    assert (person.hand_left[:, 2] > 0).sum() == 20


def test_wholebody_face_eyes_missing_are_zero():
    kp = wholebody_points()
    kp[COCO_NAMES.index("right_eye"), 2] = 0.0
    person = pose.person_from_wholebody133(kp)
    np.testing.assert_array_equal(person.face[68], [0, 0, 0])
    assert person.face[69, 2] > 0


def test_wholebody_sources():
    kp = wholebody_points()
    kp[COCO_NAMES.index("left_ankle"), 2] = 0.0
    person = pose.person_from_wholebody133(kp)
    la = OPENPOSE_NAMES.index("left_ankle")
    assert person.source[la] == Source.MISSING
    assert (person.source[np.arange(18) != la] == Source.DETECTED).all()
    assert not person.completed.any()


# ------------------------------------------------------------------ Person / PoseFrame
def test_person_accepts_flat_body_and_derives_source():
    flat = [0.0] * 54
    flat[3:6] = [10.0, 20.0, 0.8]
    person = Person(body=flat)
    assert person.body.shape == (18, 3)
    assert person.body.dtype == np.float64
    assert person.present.tolist() == [i == 1 for i in range(18)]
    assert person.source[1] == Source.DETECTED
    assert (np.delete(person.source, 1) == Source.MISSING).all()


@pytest.mark.parametrize("n_points", [17, 19, 0])
def test_person_rejects_wrong_body_size(n_points):
    with pytest.raises(ValueError):
        Person(body=np.zeros((n_points, 3)))


@pytest.mark.parametrize("name", ["hand_left", "hand_right"])
@pytest.mark.parametrize("n_points", [20, 22])
def test_person_rejects_wrong_hand_size(name, n_points):
    with pytest.raises(ValueError, match=name):
        Person(body=np.zeros((18, 3)), **{name: np.ones((n_points, 3))})


def test_person_face_any_length_and_flat_hands():
    person = Person(body=np.zeros((18, 3)), face=np.ones((68, 3)), hand_left=[1.0] * 63)
    assert person.face.shape == (68, 3)
    assert person.hand_left.shape == (21, 3)


def test_person_explicit_source_and_completed():
    body = np.ones((18, 3))
    source = np.full(18, Source.DETECTED)
    source[[10, 13]] = Source.COMPLETED
    person = Person(body=body, source=source)
    assert np.flatnonzero(person.completed).tolist() == [10, 13]
    with pytest.raises(ValueError):
        Person(body=body, source=np.zeros(17))


def test_person_copy_is_deep():
    person = Person(body=np.ones((18, 3)), hand_left=np.ones((21, 3)), extra={"k": [1, 2]})
    clone = person.copy()
    clone.body[0, 0] = 99
    clone.hand_left[0, 0] = 99
    clone.source[0] = Source.EDITED
    clone.extra["k"].append(3)
    assert person.body[0, 0] == 1 and person.hand_left[0, 0] == 1
    assert person.source[0] == Source.DETECTED
    assert person.extra == {"k": [1, 2]}


def test_person_does_not_alias_input_array():
    body = np.ones((18, 3))
    person = Person(body=body)
    person.body[0, 0] = 5
    assert body[0, 0] == 1


def test_poseframe_copy_is_deep():
    frame = PoseFrame(people=[Person(body=np.ones((18, 3)))], canvas_width=10, canvas_height=20)
    clone = frame.copy()
    clone.people[0].body[:] = 0
    clone.people.append(Person(body=np.zeros((18, 3))))
    assert frame.people[0].body.sum() == 54 and len(frame.people) == 1


def test_torso_length():
    body = np.zeros((18, 3))
    body[1] = [10, 10, 1]    # neck
    body[8] = [7, 14, 1]     # right hip
    body[11] = [13, 14, 1]   # left hip -> mid-hip (10, 14)
    assert pose.torso_length(body) == pytest.approx(4.0)
    body[11, 2] = 0
    assert pose.torso_length(body) is None
