"""openpose_json.py: reading, writing, units, lossless round trips, strict errors."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lib_skelext.errors import SkelextError
from lib_skelext.openpose_json import dumps_frame, frame_from_dict, frame_to_dict, loads_frame
from lib_skelext.pose import Person, PoseFrame, Source

W, H = 512, 768
R_ANKLE, L_ANKLE = 10, 13


def body_list(points=None, n=18):
    """Flat [x, y, c] * n; points: {index: (x, y, c)}, others [0, 0, 0]."""
    out = [0, 0, 0] * n
    for i, p in (points or {}).items():
        out[3 * i:3 * i + 3] = list(p)
    return out


def full_body_px():
    # every point present, in pixels, ints and floats mixed as editors write them
    return {i: (40 + 20 * i, 30.5 + 35 * i, 1.0 if i % 2 else 1) for i in range(18)}


def doc_of(people, width=W, height=H, **extra):
    return {"people": people, "canvas_width": width, "canvas_height": height, **extra}


def roundtrip(doc, **kw):
    return json.loads(dumps_frame(loads_frame(json.dumps(doc), **kw)))


# ------------------------------------------------------------------ units
def test_pixel_file_is_read_as_pixels():
    doc = doc_of([{"pose_keypoints_2d": body_list({1: (100, 200, 1.0), 2: (80, 210, 1.0)})}])
    frame = loads_frame(json.dumps(doc))
    assert frame.normalized is False
    assert (frame.canvas_width, frame.canvas_height) == (W, H)
    np.testing.assert_allclose(frame.people[0].body[1], [100, 200, 1.0])
    np.testing.assert_allclose(frame.people[0].body[0], [0, 0, 0])


def test_normalized_file_is_guessed_and_scaled_to_pixels():
    doc = doc_of([{"pose_keypoints_2d": body_list({1: (0.5, 0.25, 1.0), 2: (0.25, 0.75, 1.0)})}])
    frame = loads_frame(json.dumps(doc))
    assert frame.normalized is True
    np.testing.assert_allclose(frame.people[0].body[1], [0.5 * W, 0.25 * H, 1.0])
    np.testing.assert_allclose(frame.people[0].body[2], [0.25 * W, 0.75 * H, 1.0])


def test_off_canvas_point_does_not_break_the_guess():
    # an ankle completed below the frame: y = 1.3 in a 0..1 file
    pts = {1: (0.5, 0.2, 1.0), 2: (0.4, 0.21, 1.0), R_ANKLE: (0.45, 1.3, 1.0), 4: (-0.2, 0.5, 1.0)}
    frame = loads_frame(json.dumps(doc_of([{"pose_keypoints_2d": body_list(pts)}])))
    assert frame.normalized is True
    np.testing.assert_allclose(frame.people[0].body[R_ANKLE], [0.45 * W, 1.3 * H, 1.0])
    np.testing.assert_allclose(frame.people[0].body[4], [-0.2 * W, 0.5 * H, 1.0])


def test_guess_uses_hands_and_face_too():
    hand = [v for i in range(21) for v in (0.1 + i / 100, 0.2, 1.0)]
    frame = loads_frame(json.dumps(doc_of([{"pose_keypoints_2d": body_list(), "hand_left_keypoints_2d": hand}])))
    assert frame.normalized is True
    np.testing.assert_allclose(frame.people[0].hand_left[0], [0.1 * W, 0.2 * H, 1.0])


def test_guess_ignores_missing_points():
    # [0, 0, 0] placeholders must not make a pixel file look normalised or the reverse
    doc = doc_of([{"pose_keypoints_2d": body_list({5: (300, 400, 1.0)})}])
    assert loads_frame(json.dumps(doc)).normalized is False


def test_explicit_units_override_the_guess():
    small = doc_of([{"pose_keypoints_2d": body_list({1: (0.5, 0.5, 1.0)})}])
    as_px = loads_frame(json.dumps(small), normalized=False)
    np.testing.assert_allclose(as_px.people[0].body[1], [0.5, 0.5, 1.0])
    assert as_px.normalized is False
    big = doc_of([{"pose_keypoints_2d": body_list({1: (3.0, 4.0, 1.0)})}])
    as_norm = loads_frame(json.dumps(big), normalized=True)
    np.testing.assert_allclose(as_norm.people[0].body[1], [3.0 * W, 4.0 * H, 1.0])
    assert as_norm.normalized is True


def test_utf8_bom_is_accepted():
    frame = loads_frame(b"\xef\xbb\xbf" + json.dumps(doc_of([])).encode())
    assert (frame.canvas_width, frame.canvas_height) == (W, H)


def test_empty_people_is_valid():
    frame = loads_frame(json.dumps(doc_of([])))
    assert frame.people == []
    assert (frame.canvas_width, frame.canvas_height) == (W, H)
    assert json.loads(dumps_frame(frame))["people"] == []


def test_writer_units_default_to_read_units_and_can_be_changed():
    doc = doc_of([{"pose_keypoints_2d": body_list({1: (0.5, 0.25, 1.0)})}])
    frame = loads_frame(json.dumps(doc))
    out_px = json.loads(dumps_frame(frame, normalized=False))
    assert out_px["people"][0]["pose_keypoints_2d"][3:6] == pytest.approx([0.5 * W, 0.25 * H, 1.0])
    assert out_px["people"][0]["pose_keypoints_2d"][:3] == [0, 0, 0]
    back = loads_frame(json.dumps(out_px), normalized=False)
    back_norm = json.loads(dumps_frame(back, normalized=True))
    assert back_norm["people"][0]["pose_keypoints_2d"][3:6] == pytest.approx([0.5, 0.25, 1.0])


# ------------------------------------------------------------------ writing
def test_frame_built_in_code_writes_missing_as_zeros():
    body = np.zeros((18, 3))
    body[1] = [10.5, 20.25, 0.9]
    frame = PoseFrame(people=[Person(body=body)], canvas_width=64, canvas_height=32)
    out = json.loads(dumps_frame(frame))
    pts = out["people"][0]["pose_keypoints_2d"]
    assert len(pts) == 54
    # the hosts' rule: a present point is c = 1.0 (ControlNet and aux drop c < 1); its score lives on
    assert pts[3:6] == pytest.approx([10.5, 20.25, 1.0])
    for i in range(18):
        if i != 1:
            assert pts[3 * i:3 * i + 3] == [0, 0, 0]
    assert (out["canvas_width"], out["canvas_height"]) == (64, 32)
    assert out["people"][0]["skelext"] == {"scores": {"body": [0.0, 0.9] + [0.0] * 16}}
    assert loads_frame(json.dumps(out)).people[0].body[1, 2] == 0.9  # read back from the record
    out_norm = json.loads(dumps_frame(frame, normalized=True))
    assert out_norm["people"][0]["pose_keypoints_2d"][3:6] == pytest.approx([10.5 / 64, 20.25 / 32, 1.0])


def test_scores_of_points_scoring_one_are_not_recorded():
    body = np.zeros((18, 3))
    body[1] = [10.5, 20.25, 1.0]
    out = json.loads(dumps_frame(PoseFrame(people=[Person(body=body)], canvas_width=64, canvas_height=32)))
    assert "skelext" not in out["people"][0]


def test_points_read_with_low_scores_are_written_as_read_unless_the_rule_is_asked():
    from lib_skelext.openpose_json import apply_hosts_rule

    doc = {"people": [{"pose_keypoints_2d": [5, 6, 0.5] + [0, 0, 0] * 16 + [7, 8, 1],
                       "hand_left_keypoints_2d": [1, 2, 0.25] * 21}], "canvas_width": 64, "canvas_height": 32}
    frame = loads_frame(json.dumps(doc))
    assert json.loads(dumps_frame(frame)) == doc  # unchanged: exactly as read
    copy = frame.copy()
    out = json.loads(dumps_frame(apply_hosts_rule(copy)))
    person = out["people"][0]
    assert person["pose_keypoints_2d"][:3] == [5, 6, 1.0] and person["pose_keypoints_2d"][-3:] == [7, 8, 1]
    assert person["hand_left_keypoints_2d"][:3] == [1, 2, 1.0]
    assert person["skelext"]["scores"]["body"][0] == 0.5 and person["skelext"]["scores"]["hand_left"][0] == 0.25
    assert json.loads(dumps_frame(frame)) == doc  # the frame it was copied from is untouched
    # and read back: the scores are restored, the file written again is the same
    again = loads_frame(json.dumps(out))
    assert again.people[0].body[0, 2] == 0.5 and again.people[0].hand_left[0, 2] == 0.25
    assert json.loads(dumps_frame(again)) == out


def test_completed_points_written_with_confidence_one_and_listed():
    body = np.zeros((18, 3))
    body[1] = [100, 100, 0.9]
    body[R_ANKLE] = [120.5, 700.25, 0.42]   # completed, model confidence 0.42
    body[L_ANKLE] = [0, 0, 0]               # "completed" but missing: not listed
    source = np.full(18, Source.MISSING)
    source[1] = Source.DETECTED
    source[[R_ANKLE, L_ANKLE]] = Source.COMPLETED
    frame = PoseFrame(people=[Person(body=body, source=source)], canvas_width=W, canvas_height=H)
    person = json.loads(dumps_frame(frame))["people"][0]
    assert person["pose_keypoints_2d"][3 * R_ANKLE:3 * R_ANKLE + 3] == [120.5, 700.25, 1.0]
    assert person["pose_keypoints_2d"][3 * L_ANKLE:3 * L_ANKLE + 3] == [0, 0, 0]
    assert person["skelext"]["completed"] == [R_ANKLE]


def test_read_complete_write_read_keeps_completed_points():
    original = doc_of([{"pose_keypoints_2d": body_list({i: p for i, p in full_body_px().items()
                                                          if i not in (R_ANKLE, L_ANKLE)})}])
    frame = loads_frame(json.dumps(original))
    person = frame.people[0]
    assert not person.completed.any()
    person.body[R_ANKLE] = [250.5, 790.75, 0.37]   # below the canvas
    person.source[R_ANKLE] = Source.COMPLETED
    text = dumps_frame(frame)
    out = json.loads(text)
    pts = out["people"][0]["pose_keypoints_2d"]
    assert pts[3 * R_ANKLE:3 * R_ANKLE + 3] == [250.5, 790.75, 1.0]
    assert pts[3 * L_ANKLE:3 * L_ANKLE + 3] == [0, 0, 0]
    assert out["people"][0]["skelext"]["completed"] == [R_ANKLE]
    # untouched points are written exactly as read
    orig_pts = original["people"][0]["pose_keypoints_2d"]
    for i in set(range(18)) - {R_ANKLE}:
        assert pts[3 * i:3 * i + 3] == orig_pts[3 * i:3 * i + 3]
    again = loads_frame(text)
    assert np.flatnonzero(again.people[0].completed).tolist() == [R_ANKLE]
    np.testing.assert_allclose(again.people[0].body[R_ANKLE], [250.5, 790.75, 1.0])
    assert json.loads(dumps_frame(again)) == out


def test_read_complete_write_read_normalized_file():
    pts = {1: (0.5, 0.2, 1.0), 2: (0.4, 0.2, 1.0), 5: (0.6, 0.2, 1.0), 8: (0.45, 0.6, 1.0), 11: (0.55, 0.6, 1.0)}
    frame = loads_frame(json.dumps(doc_of([{"pose_keypoints_2d": body_list(pts)}])))
    assert frame.normalized
    person = frame.people[0]
    person.body[R_ANKLE] = [0.45 * W, 1.25 * H, 0.8]
    person.source[R_ANKLE] = Source.COMPLETED
    out = json.loads(dumps_frame(frame))
    written = out["people"][0]["pose_keypoints_2d"]
    # the units rule (#24): the completed ankle lies below the frame, so 0..1 would be read as pixels by
    # comfyui_controlnet_aux and ControlNet: written in pixels instead, every point where it was
    assert written[3 * R_ANKLE:3 * R_ANKLE + 3] == pytest.approx([0.45 * W, 1.25 * H, 1.0])
    assert written[3:6] == pytest.approx([0.5 * W, 0.2 * H, 1.0])
    again = loads_frame(json.dumps(out))
    assert not again.normalized
    assert np.flatnonzero(again.people[0].completed).tolist() == [R_ANKLE]
    np.testing.assert_allclose(again.people[0].body[R_ANKLE], [0.45 * W, 1.25 * H, 1.0])
    with pytest.raises(SkelextError, match="outside"):
        dumps_frame(frame, normalized=True)
    person.body[R_ANKLE] = [0.45 * W, 0.95 * H, 1.0]  # on the canvas: 0..1 as read
    written = json.loads(dumps_frame(frame))["people"][0]["pose_keypoints_2d"]
    assert written[3 * R_ANKLE:3 * R_ANKLE + 3] == pytest.approx([0.45, 0.95, 1.0]) and written[3:6] == [0.5, 0.2, 1.0]


def test_stale_completed_list_for_missing_point_is_not_trusted():
    person = {"pose_keypoints_2d": body_list({1: (100, 100, 1.0)}), "skelext": {"completed": [1, R_ANKLE, 99]}}
    frame = loads_frame(json.dumps(doc_of([person])))
    # 99 is out of range: the list is ignored as a whole; nothing crashes
    assert not frame.people[0].completed.any()
    person["skelext"]["completed"] = [1, R_ANKLE]
    frame = loads_frame(json.dumps(doc_of([person])))
    assert np.flatnonzero(frame.people[0].completed).tolist() == [1]   # R ankle is missing


# ------------------------------------------------------------------ lossless round trip
CONTROLNET_DOC = {
    "canvas_height": H,
    "people": [
        {
            "hand_right_keypoints_2d": None,
            "pose_keypoints_2d": body_list({i: p for i, p in full_body_px().items() if i < 12}),
            "face_keypoints_2d": [v for i in range(70) for v in (200 + i, 100 + (i % 7) * 1.5, 1.0)],
            "hand_left_keypoints_2d": [v for i in range(21) for v in (300 + 2 * i, 400 - i, 1)],
            "person_id": [-1],
            "editor_state": {"locked": [3, 4], "note": "hi"},
        },
        {
            "pose_keypoints_2d": body_list({0: (10, 10, 0.55), 1: (12, 40, 1)}),
            "hand_left_keypoints_2d": [],
            "hand_right_keypoints_2d": [v for i in range(21) for v in (0, 0, 0)],
        },
    ],
    "animals": [[[10, 20, 1], [30, 40, 1], [0, 0, 0]]],
    "canvas_width": W,
    "version": 1.3,
    "meta": {"source": "openpose-editor", "ids": [1, 2, 3]},
}


def test_controlnet_editor_doc_roundtrips_losslessly():
    out = roundtrip(CONTROLNET_DOC)
    assert out == CONTROLNET_DOC


def test_roundtrip_keeps_int_values_as_written():
    out = roundtrip(CONTROLNET_DOC)
    hand = out["people"][0]["hand_left_keypoints_2d"]
    assert hand[:3] == [300, 400, 1]
    assert all(isinstance(v, int) for v in hand)


def test_key_order_is_irrelevant():
    shuffled = {k: CONTROLNET_DOC[k] for k in reversed(list(CONTROLNET_DOC))}
    shuffled["people"] = [{k: p[k] for k in reversed(list(p))} for p in CONTROLNET_DOC["people"]]
    a, b = loads_frame(json.dumps(CONTROLNET_DOC)), loads_frame(json.dumps(shuffled))
    for pa, pb in zip(a.people, b.people):
        np.testing.assert_array_equal(pa.body, pb.body)
        for part in ("face", "hand_left", "hand_right"):
            x, y = getattr(pa, part), getattr(pb, part)
            assert (x is None) == (y is None)
            if x is not None:
                np.testing.assert_array_equal(x, y)
    assert roundtrip(shuffled) == CONTROLNET_DOC


def test_normalized_doc_roundtrips_losslessly():
    doc = doc_of([{"pose_keypoints_2d": body_list({1: (0.1, 0.2, 1.0), 2: (0.3, 1.3, 1.0), 3: (1, 0, 1)}),
                   "face_keypoints_2d": [0.33333333333333331, 0.1, 1.0] * 70}], animals=[])
    assert roundtrip(doc) == doc


def test_roundtrip_after_reading_values():
    frame = loads_frame(json.dumps(CONTROLNET_DOC))
    assert frame.people[0].face.shape == (70, 3)
    assert frame.people[0].hand_right is None
    assert frame.people[1].hand_left is None
    assert frame.people[0].extra["person_id"] == [-1]
    assert frame.extra["version"] == 1.3
    assert frame.animals == CONTROLNET_DOC["animals"]
    assert json.loads(dumps_frame(frame)) == CONTROLNET_DOC


def test_our_own_output_roundtrips_losslessly():
    body = np.zeros((18, 3))
    body[:12] = [[30 + i, 40 + i, 1.0] for i in range(12)]
    body[R_ANKLE] = [50.5, 900.5, 0.4]
    source = np.where(body[:, 2] > 0, Source.DETECTED, Source.MISSING)
    source[R_ANKLE] = Source.COMPLETED
    conf = np.ones(18)
    conf[R_ANKLE] = 0.4
    frame = PoseFrame(people=[Person(body=body, source=source, completion_confidence=conf)],
                      canvas_width=W, canvas_height=H)
    first = json.loads(dumps_frame(frame))
    assert first["people"][0]["skelext"]["confidence"][R_ANKLE] == pytest.approx(0.4)
    assert roundtrip(first) == first


def _completed_with_alternatives(width, height):
    body = np.zeros((18, 3))
    body[:12] = [[30 + i, 40 + i, 1.0] for i in range(12)]
    body[R_ANKLE] = [50.5, 190.5, 0.6]
    source = np.where(body[:, 2] > 0, Source.DETECTED, Source.MISSING)
    source[R_ANKLE] = Source.COMPLETED
    alt = body.copy()
    alt[R_ANKLE] = [70.25, 180.0, 1.0]
    person = Person(body=body, source=source, completion_confidence=np.ones(18), alternatives=[alt],
                    alternative_scores=[0.625, 0.25])
    return PoseFrame(people=[person], canvas_width=width, canvas_height=height)


def test_our_output_with_alternatives_roundtrips_losslessly():
    first = json.loads(dumps_frame(_completed_with_alternatives(100, 200)))
    info = first["people"][0]["skelext"]
    assert info["best_score"] == 0.625 and info["alternatives"][0]["score"] == 0.25
    assert info["alternatives"][0]["pose_keypoints_2d"][3 * R_ANKLE:3 * R_ANKLE + 3] == [70.25, 180.0, 1.0]
    assert roundtrip(first) == first
    frame = loads_frame(json.dumps(first))
    assert len(frame.people[0].alternatives) == 1
    np.testing.assert_array_equal(frame.people[0].alternatives[0][R_ANKLE], [70.25, 180.0, 1.0])


def test_alternatives_of_a_normalized_file_are_read_in_pixels():
    first = json.loads(dumps_frame(_completed_with_alternatives(100, 200), normalized=True))
    frame = loads_frame(json.dumps(first))
    assert frame.normalized
    np.testing.assert_allclose(frame.people[0].alternatives[0][R_ANKLE], [70.25, 180.0, 1.0])
    again = json.loads(dumps_frame(frame))
    got = again["people"][0]["skelext"]["alternatives"][0]["pose_keypoints_2d"]
    want = first["people"][0]["skelext"]["alternatives"][0]["pose_keypoints_2d"]
    assert got == pytest.approx(want, rel=1e-12, abs=1e-15)


def test_completed_list_with_booleans_is_ignored():
    person = {"pose_keypoints_2d": body_list({1: (100, 100, 1.0)}), "skelext": {"completed": [True]}}
    frame = loads_frame(json.dumps(doc_of([person])))
    assert not frame.people[0].completed.any()
    assert roundtrip(doc_of([person])) == doc_of([person])


def test_person_without_body_key_roundtrips():
    doc = doc_of([{"hand_left_keypoints_2d": [v for i in range(21) for v in (10 + i, 20, 1.0)]},
                  {"pose_keypoints_2d": None, "note": 1}])
    frame = loads_frame(json.dumps(doc))
    assert len(frame.people) == 2
    assert not frame.people[0].present.any()
    assert roundtrip(doc) == doc


# ------------------------------------------------------------------ bad input
def person_doc(**parts):
    return doc_of([{"pose_keypoints_2d": body_list({1: (10, 10, 1)}), **parts}])


def with_body(values):
    return json.dumps(doc_of([{"pose_keypoints_2d": values}]))


def raw_body(numbers_text):
    return '{"canvas_width": 64, "canvas_height": 64, "people": [{"pose_keypoints_2d": [%s]}]}' % numbers_text


def with_canvas(width):
    return '{"people": [], "canvas_height": 100, "canvas_width": %s}' % width


BAD_INPUTS = {
    "malformed": ('{"people": [}', "invalid JSON"),
    "truncated": ('{"people": [], "canvas_width": 5', "invalid JSON"),
    "empty text": ("", "invalid JSON"),
    "not utf-8": (b'{"people": [], "x": "\xff\xfe"}', "UTF-8"),
    "NaN literal": ('{"people": [], "canvas_width": NaN, "canvas_height": 5}', "NaN"),
    "NaN in a point": (raw_body(", ".join(["1"] * 53 + ["NaN"])), "NaN"),
    "Infinity": ('{"people": [], "canvas_width": Infinity, "canvas_height": 5}', "Infinity"),
    "-Infinity": (raw_body(", ".join(["1"] * 53 + ["-Infinity"])), "Infinity"),
    "overflowing float": (with_canvas("1e999"), "canvas_width"),
    "overflowing float point": (raw_body(", ".join(["1"] * 53 + ["1e999"])), "pose_keypoints_2d"),
    "huge int canvas": (with_canvas("1" + "0" * 400), "canvas_width"),
    "huge int point": (raw_body(", ".join(["1"] * 53 + ["1" + "0" * 400])), "pose_keypoints_2d"),
    "5000-digit int": (with_canvas("9" * 5000), ""),
    "string for number": (with_body([1] * 53 + ["12"]), "pose_keypoints_2d"),
    "string canvas": (with_canvas('"512"'), "canvas_width"),
    "boolean point": (with_body([1] * 53 + [True]), "pose_keypoints_2d"),
    "boolean canvas": (with_canvas("true"), "canvas_width"),
    "null in points": (with_body([1] * 53 + [None]), "pose_keypoints_2d"),
    "nested list point": (with_body([[1, 2, 3]] * 18), "pose_keypoints_2d"),
    "17 points": (with_body([1] * 51), "18 points"),
    "19 points": (with_body([1] * 57), "18 points"),
    "20 hand points": (json.dumps(person_doc(hand_left_keypoints_2d=[1] * 60)), "hand_left_keypoints_2d"),
    "22 right hand points": (json.dumps(person_doc(hand_right_keypoints_2d=[1] * 66)), "hand_right_keypoints_2d"),
    "not multiple of 3": (with_body([1] * 53), "multiple of 3"),
    "face not multiple of 3": (json.dumps(person_doc(face_keypoints_2d=[1] * 10)), "face_keypoints_2d"),
    "face too long": (json.dumps(person_doc(face_keypoints_2d=[1] * 3 * 5000)), "face_keypoints_2d"),
    "points as object": (with_body({"x": 1}), "pose_keypoints_2d"),
    "points as string": (with_body("1,2,3"), "pose_keypoints_2d"),
    "negative canvas": (with_canvas("-512"), "canvas_width"),
    "zero canvas": (with_canvas("0"), "canvas_width"),
    "fractional canvas": (with_canvas("512.5"), "canvas_width"),
    "huge canvas": (with_canvas("1000000"), "canvas_width"),
    "null canvas": (with_canvas("null"), "canvas_width"),
    "missing width": ('{"people": [], "canvas_height": 100}', "canvas_width"),
    "missing height": ('{"people": [], "canvas_width": 100}', "canvas_height"),
    "missing canvas": ('{"people": []}', "canvas"),
    "people not a list": (json.dumps(doc_of({"0": {}})), "people"),
    "people a string": (json.dumps(doc_of("none")), "people"),
    "person not an object": (json.dumps(doc_of([[1, 2, 3]])), "people[0]"),
    "second person null": (json.dumps(doc_of([{}, None])), "people[1]"),
    "animals not a list": (json.dumps(doc_of([], animals={})), "animals"),
    "top level list": ("[]", "object"),
    "top level number": ("5", "object"),
    "top level null": ("null", "object"),
    "deep list nesting": ("[" * 100000, "JSON"),
    "deep object nesting": ('{"a": ' * 100000, "JSON"),
    "deep valid nesting": ('{"people": [], "canvas_width": 5, "canvas_height": 5, "x": '
                           + "[" * 5000 + "]" * 5000 + "}", ""),
    "too many people": (json.dumps(doc_of([{}] * 1001)), "people"),
}


@pytest.mark.parametrize("text, hint", list(BAD_INPUTS.values()), ids=list(BAD_INPUTS))
def test_bad_input_raises_skelext_error_with_useful_message(text, hint):
    with pytest.raises(SkelextError) as info:
        loads_frame(text)
    message = str(info.value)
    assert hint in message
    assert "\n" not in message and 10 < len(message) < 300


def test_bad_value_message_names_person_and_key():
    text = json.dumps(doc_of([{"pose_keypoints_2d": body_list()}, {"pose_keypoints_2d": [1] * 51}]))
    with pytest.raises(SkelextError, match=r"people\[1\]\.pose_keypoints_2d"):
        loads_frame(text)


@pytest.mark.parametrize("doc", [None, 5, "x", [], {"canvas_width": 1}])
def test_frame_from_dict_rejects_non_documents(doc):
    with pytest.raises(SkelextError):
        frame_from_dict(doc)


def test_float_canvas_with_whole_value_is_a_size():
    frame = loads_frame('{"people": [], "canvas_width": 512.0, "canvas_height": 64}')
    assert frame.canvas_width == 512 and isinstance(frame.canvas_width, int)


@pytest.mark.parametrize("depth", [30, 600, 990])
def test_nested_extra_keys_are_refused_or_writable(depth):
    # anything the reader accepts must also be copyable and writable, in both units
    nested = "[" * depth + "]" * depth
    text = '{"people": [], "canvas_width": 5, "canvas_height": 5, "x": %s}' % nested
    try:
        frame = loads_frame(text)
    except SkelextError:
        assert depth > 30, "ordinary nesting must be accepted"
        return
    assert json.loads(dumps_frame(frame))["x"] == json.loads(nested)
    assert json.loads(dumps_frame(frame, normalized=True))["canvas_width"] == 5
    frame.copy()


def test_non_finite_number_in_extra_key_of_a_dict_is_refused():
    # frame_from_dict gets dicts from parsers that allow NaN (e.g. a web framework)
    with pytest.raises(SkelextError, match="finite"):
        frame_from_dict({"people": [], "canvas_width": 5, "canvas_height": 5, "meta": {"t": [float("nan")]}})
    with pytest.raises(SkelextError, match="pose_keypoints_2d"):
        frame_from_dict({"people": [{"pose_keypoints_2d": [1.0] * 53 + [float("inf")]}],
                         "canvas_width": 5, "canvas_height": 5})


# ------------------------------------------------------------------ property tests
json_scalars = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False, allow_infinity=False) \
    | st.text(max_size=8)
json_values = st.recursive(json_scalars, lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=6), c,
                                                                                             max_size=4), max_leaves=12)
PART_KEYS = {"pose_keypoints_2d", "face_keypoints_2d", "hand_left_keypoints_2d", "hand_right_keypoints_2d"}
RESERVED_TOP = {"people", "animals", "canvas_width", "canvas_height"}


@st.composite
def valid_docs(draw):
    width, height = draw(st.integers(1, 4096)), draw(st.integers(1, 4096))
    normalized = draw(st.booleans())
    if normalized:
        coord = st.floats(-1, 2, allow_nan=False) | st.sampled_from([0, 1])
    else:
        coord = st.floats(-2 * width, 3 * width, allow_nan=False) | st.integers(-5000, 5000)
    conf = st.floats(0.01, 1.0) | st.just(1) | st.just(1.0)
    point = st.one_of(st.just([0, 0, 0]), st.just([0.0, 0.0, 0.0]),
                      st.tuples(coord, coord, conf).map(list))

    def points(n):
        return st.lists(point, min_size=n, max_size=n).map(lambda ps: [v for p in ps for v in p])

    def optional_part(n):
        return st.one_of(st.just("absent"), st.none(), st.just([]), points(n))

    people = []
    for _ in range(draw(st.integers(0, 3))):
        person = {}
        parts = {"pose_keypoints_2d": points(18), "face_keypoints_2d": optional_part(draw(st.sampled_from([68, 70]))),
                 "hand_left_keypoints_2d": optional_part(21), "hand_right_keypoints_2d": optional_part(21)}
        extra = draw(st.dictionaries(st.text(max_size=8).filter(lambda k: k not in PART_KEYS | {"skelext"}),
                                     json_values, max_size=2))
        items = list(parts.items()) + list(extra.items())
        for key, strategy in draw(st.permutations(items)):
            value = draw(strategy) if key in PART_KEYS else strategy
            if value != "absent":
                person[key] = value
        people.append(person)
    doc = {"people": people, "canvas_width": width, "canvas_height": height}
    if draw(st.booleans()):
        doc["animals"] = draw(st.lists(json_values, max_size=2))
    extra_top = draw(st.dictionaries(st.text(max_size=8).filter(lambda k: k not in RESERVED_TOP), json_values,
                                     max_size=2))
    doc.update(extra_top)
    keys = draw(st.permutations(list(doc)))
    return {k: doc[k] for k in keys}


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_docs())
def test_property_valid_frames_roundtrip_losslessly(doc):
    text = json.dumps(doc)
    frame = loads_frame(text)
    assert len(frame.people) == len(doc["people"])
    assert json.loads(dumps_frame(frame)) == doc
    # and again through the frame -> dict path, with explicit units
    assert frame_to_dict(loads_frame(text, normalized=frame.normalized)) == json.loads(text)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_docs())
def test_property_units_conversion_roundtrips(doc):
    from lib_skelext.openpose_json import points_outside_canvas

    frame = loads_frame(json.dumps(doc))
    if not frame.normalized and points_outside_canvas(frame):  # the units rule: no 0..1 with points outside
        with pytest.raises(SkelextError, match="outside"):
            dumps_frame(frame, normalized=True)
        return
    other = json.loads(dumps_frame(frame, normalized=not frame.normalized))
    back = loads_frame(json.dumps(other), normalized=not frame.normalized)
    for a, b in zip(frame.people, back.people):
        np.testing.assert_allclose(a.body, b.body, rtol=1e-9, atol=1e-6)


def _check_never_raises_else(obj):
    try:
        frame = frame_from_dict(obj)
    except SkelextError:
        return
    # accepted input must also be writable and re-readable
    again = loads_frame(dumps_frame(frame), normalized=frame.normalized)
    assert len(again.people) == len(frame.people)


jsonish = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6),
    lambda c: st.lists(c, max_size=6) | st.dictionaries(st.text(max_size=6), c, max_size=5), max_leaves=15)


@st.composite
def near_valid_docs(draw):
    def maybe(valid):
        return draw(st.one_of(st.just(valid), jsonish)) if draw(st.integers(0, 4)) == 0 else valid

    def pts(n):
        return [draw(st.one_of(st.floats(-10, 10), st.integers(0, 3))) for _ in range(n * 3)]

    people = []
    for _ in range(draw(st.integers(0, 3))):
        person = {"pose_keypoints_2d": maybe(pts(18)), "hand_left_keypoints_2d": maybe(pts(21)),
                  "face_keypoints_2d": maybe(pts(draw(st.integers(0, 4)))),
                  "skelext": maybe({"completed": draw(st.lists(jsonish, max_size=3)),
                                    "confidence": draw(st.lists(jsonish, max_size=18))})}
        people.append(maybe(person))
    doc = {"people": maybe(people), "canvas_width": maybe(draw(st.integers(-5, 5000))),
           "canvas_height": maybe(draw(st.integers(1, 5000))), "animals": maybe([])}
    return {k: v for k, v in doc.items() if draw(st.integers(0, 9)) > 0}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(jsonish | near_valid_docs())
def test_property_arbitrary_input_raises_only_skelext_error(obj):
    _check_never_raises_else(obj)
    try:
        text = json.dumps(obj)   # NaN / Infinity become literals here: must be refused
    except (ValueError, RecursionError):
        return
    try:
        loads_frame(text)
    except SkelextError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40) | st.binary(max_size=40).map(bytes))
def test_property_arbitrary_text_raises_only_skelext_error(text):
    try:
        loads_frame(text)
    except SkelextError:
        pass


def test_completion_confidence_must_be_finite_to_be_restored():
    person = {"pose_keypoints_2d": body_list({1: (10, 10, 1)}), "skelext": {"confidence": [1] * 17 + [True]}}
    frame = loads_frame(json.dumps(doc_of([person])))
    assert frame.people[0].completion_confidence is None
    person["skelext"]["confidence"] = [0.5] * 18
    frame = loads_frame(json.dumps(doc_of([person])))
    np.testing.assert_allclose(frame.people[0].completion_confidence, 0.5)
    assert math.isclose(json.loads(dumps_frame(frame))["people"][0]["skelext"]["confidence"][0], 0.5)


def test_roundtrip_through_real_completion_keeps_every_key_and_value():
    """Read a ControlNet / openpose-editor document, complete it for real (the core, the shipped model),
    write it: every key and value it had comes back (ints stay ints, key order kept), only the
    missing body points are filled and a ``skelext`` key is added; nothing else appears."""
    from lib_skelext.core import complete_pose

    doc = json.loads(json.dumps(CONTROLNET_DOC))
    del doc["animals"]  # a document without "animals" must not gain "animals": []
    before = json.loads(json.dumps(doc))
    result = complete_pose(loads_frame(json.dumps(doc)))
    assert result.completed_points > 0 and not result.completion_failed
    out = json.loads(dumps_frame(result.frame))
    assert list(out) == list(before) and "animals" not in out
    for person_in, person_out in zip(before["people"], out["people"]):
        assert [k for k in person_out if k != "skelext"] == list(person_in)  # no null face/hands added
        for key, value in person_in.items():
            if key != "pose_keypoints_2d":
                assert person_out[key] == value and type(person_out[key]) is type(value)
        body_in, body_out = person_in["pose_keypoints_2d"], person_out["pose_keypoints_2d"]
        completed = set(person_out["skelext"]["completed"])
        assert completed and all(body_in[3 * i + 2] == 0 for i in completed)
        for i in range(18):
            if i not in completed:  # given and still-missing points: the very values, the very types
                assert body_out[3 * i:3 * i + 3] == body_in[3 * i:3 * i + 3]
                assert [type(v) for v in body_out[3 * i:3 * i + 3]] == [type(v) for v in body_in[3 * i:3 * i + 3]]
    for key in ("version", "meta", "canvas_width", "canvas_height"):
        assert out[key] == before[key]


def test_a_record_without_completion_keeps_its_other_keys():
    """A smoothed (changed) body with nothing completed: the completion keys go, a track_id stays."""
    doc = doc_of([{"pose_keypoints_2d": body_list({1: (10, 20, 1.0), 2: (12, 30, 1.0)}),
                   "skelext": {"completed": [1], "confidence": [1.0] * 18, "track_id": 3}}])
    frame = loads_frame(json.dumps(doc))
    person = frame.people[0]
    person.body[2, 0] += 1.5  # moved (smoothed), not completed
    person.source[:] = np.where(person.body[:, 2] > 0, Source.DETECTED, Source.MISSING)
    person.completion_confidence = None
    out = json.loads(dumps_frame(frame))["people"][0]
    assert out["skelext"] == {"track_id": 3}
    del person.extra["skelext"]["track_id"]
    assert "skelext" not in json.loads(dumps_frame(frame))["people"][0]
