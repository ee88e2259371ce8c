"""Issue #9: property tests (hypothesis) of the completion API and of REST with near-valid poses.

``tests/test_openpose_json.py`` already fuzzes the JSON reader (arbitrary text and
objects raise only ``SkelextError``; valid documents round-trip losslessly) and
``tests/test_api_fuzz.py`` runs schemathesis over the OpenAPI schema. What this
file adds:

* ``complete_person`` / ``complete_frame`` on arbitrary people (any subset of
  points, coordinates from 1e-300 to 1e300, off-canvas, duplicated, confidences in
  (0, 1], garbage in missing points, odd canvases): given points come back bit for
  bit, every output is finite, inputs are not modified, the documented shapes and
  rankings hold, and the completed frame survives a JSON round trip exactly.
* REST ``complete``/``render`` with structured, near-valid pose documents (which
  schemathesis, seeing ``pose: Any``, almost never builds): never a 5xx, and
  every 200 keeps the given points.

Runs in .venv only (hypothesis is not part of the Forge-like environment).
"""
from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api_client import Client
from lib_skelext.api import create_app
from lib_skelext.complete import complete_frame, complete_person
from lib_skelext.completion_model import load_model
from lib_skelext.errors import SkelextError
from lib_skelext.openpose_json import dumps_frame, frame_to_dict, loads_frame
from lib_skelext.pose import N_BODY, Person, PoseFrame, Source

SETTINGS = dict(deadline=None, suppress_health_check=list(HealthCheck))

finite = st.floats(allow_nan=False, allow_infinity=False)
coord = st.one_of(st.floats(-2000, 4000, allow_nan=False), st.integers(-10, 5000), finite,
                  st.sampled_from([0.0, -0.0, 1e-300, 5e-324, 1e300, -1e300, 1e154, 1e155, 2.0 ** 52]))
conf = st.one_of(st.floats(1e-6, 1.0), st.just(1.0), st.sampled_from([5e-324, 0.3]))
canvas = st.one_of(st.integers(1, 8192), st.floats(0.5, 1e5, allow_nan=False), st.sampled_from([1, 1e-3, 1e12]))


@st.composite
def bodies(draw) -> np.ndarray:
    """(18, 3): present points anywhere; missing points have confidence 0 and any x, y."""
    body = np.zeros((N_BODY, 3))
    present = draw(st.lists(st.booleans(), min_size=N_BODY, max_size=N_BODY))
    anchor = draw(st.one_of(st.none(), st.tuples(coord, coord)))  # many points at one place
    for i, here in enumerate(present):
        if here:
            x, y = anchor if anchor is not None and draw(st.booleans()) else (draw(coord), draw(coord))
            body[i] = [x, y, draw(conf)]
        elif draw(st.integers(0, 3)) == 0:
            body[i] = [draw(finite), draw(finite), 0.0]  # garbage under a missing point
    return body


def people(min_size: int = 0, max_size: int = 4):
    return st.lists(bodies().map(lambda b: Person(body=b)), min_size=min_size, max_size=max_size)


@pytest.fixture(scope="module")
def model():
    return load_model()


def check_completed(before: Person, after: Person, k: int, fixed=None) -> None:
    given = before.body[:, 2] > 0
    if fixed is not None:
        given = given | fixed
    assert np.array_equal(after.body[given], before.body[given])  # bit for bit
    assert np.array_equal(np.signbit(after.body[given]), np.signbit(before.body[given]))  # -0.0 stays -0.0
    assert after.body.shape == (N_BODY, 3) and after.body.dtype == np.float64
    if after.completion_confidence is None:  # fewer than 2 usable points: unchanged
        assert np.array_equal(after.body, before.body, equal_nan=True)
        return
    assert np.isfinite(after.body[~given]).all()
    assert (after.body[~given, 2] == 1.0).all()
    assert (after.source[~given] == Source.COMPLETED).all()
    c = after.completion_confidence
    assert c.shape == (N_BODY,) and np.isfinite(c).all() and (c >= 0).all() and (c <= 1).all()
    assert len(after.alternatives) <= k - 1 and len(after.alternative_scores) == len(after.alternatives) + 1
    scores = np.array(after.alternative_scores)
    assert np.isfinite(scores).all() and (np.diff(scores) <= 1e-12).all() and scores.sum() <= 1 + 1e-9
    for alt in after.alternatives:
        assert np.isfinite(alt).all() and np.array_equal(alt[given], before.body[given])


@settings(max_examples=150, **SETTINGS)
@given(body=bodies(), width=canvas, height=canvas, k=st.integers(1, 8),
       fixed=st.one_of(st.none(), st.lists(st.booleans(), min_size=N_BODY, max_size=N_BODY)))
def test_property_complete_person(model, body, width, height, k, fixed):
    person = Person(body=body)
    snapshot = body.copy()
    fixed_arr = None if fixed is None else np.array(fixed)
    if fixed_arr is not None and not np.isfinite(body[fixed_arr]).all():
        return  # (fixed points must be finite; covered by the garbage-point test below)
    after = complete_person(person, width, height, alternatives=k, fixed=fixed_arr, model=model)
    assert np.array_equal(person.body, snapshot)  # the input is not modified
    check_completed(person, after, k, fixed_arr)


@settings(max_examples=80, **SETTINGS)
@given(crowd=people(0, 6), width=st.integers(1, 8192), height=st.integers(1, 8192), k=st.integers(1, 4))
def test_property_complete_frame_and_json_round_trip(model, crowd, width, height, k):
    frame = PoseFrame(people=crowd, canvas_width=width, canvas_height=height)
    snapshots = [p.body.copy() for p in crowd]
    out = complete_frame(frame, alternatives=k, model=model)
    assert len(out.people) == len(crowd) and (out.canvas_width, out.canvas_height) == (width, height)
    for before, snap, after in zip(crowd, snapshots, out.people):
        assert np.array_equal(before.body, snap)
        check_completed(before, after, k)
    # batching does not change anyone's result: each person alone gives the same numbers (float32 net)
    for before, after in zip(crowd, out.people):
        alone = complete_person(before, width, height, alternatives=k, model=model)
        size = max(1.0, float(np.abs(before.body[before.body[:, 2] > 0, :2]).max(initial=0.0)))
        np.testing.assert_allclose(alone.body, after.body, rtol=1e-4, atol=1e-4 * size)
    # written and read back (pixels): bodies, completed flags and alternatives are exact
    text = dumps_frame(out)
    assert "NaN" not in text and "Infinity" not in text
    back = loads_frame(text, normalized=False, max_coordinate=None)  # surfaces refuse |x| > 1e6 px
    assert dumps_frame(back) == text
    for a, b in zip(out.people, back.people):
        assert np.array_equal(a.body[a.body[:, 2] > 0], b.body[b.body[:, 2] > 0])
        assert np.array_equal(a.source == Source.COMPLETED, b.source == Source.COMPLETED)
        assert len(a.alternatives) == len(b.alternatives)


@settings(max_examples=60, **SETTINGS)
@given(body=bodies(), bad=st.sampled_from([np.nan, np.inf, -np.inf]), index=st.integers(0, N_BODY - 1),
       column=st.integers(0, 2))
def test_property_non_finite_given_points_are_refused(model, body, bad, index, column):
    body[index, 2] = 1.0 if column != 2 else body[index, 2]
    body[index, column] = bad
    person = Person(body=body)
    given = body[:, 2] > 0
    if column == 2 and not given[index]:  # NaN confidence is "not > 0": a missing point
        check_completed(person, complete_person(person, 640, 480, model=model), 1)
        return
    with pytest.raises(SkelextError):
        complete_person(person, 640, 480, model=model)


@pytest.mark.parametrize("w, h", [(0, 10), (-1, 10), (float("nan"), 10), (float("inf"), 10), ("x", 10), (None, 1)])
def test_bad_canvas_is_refused(model, w, h):
    body = np.zeros((N_BODY, 3))
    body[1], body[2] = [5, 5, 1], [3, 5, 1]
    with pytest.raises(SkelextError):
        complete_person(Person(body=body), w, h, model=model)
    with pytest.raises(SkelextError):
        complete_frame(PoseFrame(people=[Person(body=body)], canvas_width=w, canvas_height=h), model=model)


# ------------------------------------------------------------------------- REST
def _flat(body: np.ndarray) -> list:
    return [float(v) for v in body.ravel()]


@st.composite
def near_valid_requests(draw):
    crowd = draw(st.lists(bodies(), max_size=3))
    people_out = []
    for body in crowd:
        person = {"pose_keypoints_2d": _flat(body)}
        if draw(st.integers(0, 5)) == 0:
            person["hand_left_keypoints_2d"] = draw(st.lists(st.floats(-100, 100), min_size=60, max_size=66))
        if draw(st.integers(0, 5)) == 0:
            person["face_keypoints_2d"] = draw(st.lists(st.floats(0, 100), min_size=0, max_size=9))
        if draw(st.integers(0, 6)) == 0:
            person["skelext"] = {"completed": draw(st.lists(st.integers(-3, 20), max_size=4)),
                                 "confidence": draw(st.lists(st.floats(0, 1), max_size=18))}
        people_out.append(person)
    doc = {"people": people_out, "canvas_width": draw(st.one_of(st.integers(1, 3000), st.integers(-3, 200_000))),
           "canvas_height": draw(st.integers(1, 3000))}
    body = {"pose": json.dumps(doc) if draw(st.booleans()) else doc}
    for key, strategy in (("canvas", st.sampled_from(["keep", "fit", "expand", "other"])),
                          ("alternatives", st.integers(0, 9)), ("coords", st.sampled_from(["auto", "px", "norm"])),
                          ("render", st.booleans())):
        if draw(st.booleans()):
            body[key] = draw(strategy)
    return doc, body


@pytest.fixture(scope="module")
def client():
    return Client(create_app(auth="u:p"))


@settings(max_examples=150, **SETTINGS)
@given(request=near_valid_requests(), route=st.sampled_from(["complete", "render"]))
def test_property_rest_never_5xx_and_keeps_given_points(client, request, route):
    doc, body = request
    r = client.post(f"/skelext/v1/{route}", json=body, auth=("u", "p"))
    assert r.status_code in (200, 400, 413, 422), (r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith("application/json")
    if r.status_code != 200:
        assert r.json()["detail"]
        return
    if route == "complete" and body.get("coords", "auto") == "px" and body.get("canvas", "keep") == "keep":
        w, h = doc["canvas_width"], doc["canvas_height"]
        for sent, got in zip(doc["people"], r.json()["pose"]["people"]):
            a = np.array(sent["pose_keypoints_2d"]).reshape(N_BODY, 3)
            b = np.array(got["pose_keypoints_2d"]).reshape(N_BODY, 3)
            # given points on the canvas come back exactly; points beyond it count as missing (the core
            # drops them as the readers do, and the model may complete them)
            visible = (a[:, 2] > 0) & (a[:, 0] >= 0) & (a[:, 1] >= 0) & (a[:, 0] <= w) & (a[:, 1] <= h)
            assert np.array_equal(a[visible], b[visible])
            assert np.isfinite(b).all()
    if route == "complete":  # the answer is itself a valid document that reads back exactly
        pose = r.json()["pose"]
        assert frame_to_dict(loads_frame(json.dumps(pose), normalized=False)) == pose


# ------------------------------------------------- what fuzzing found (regressions)
HUGE = 1.7e308


@pytest.mark.parametrize("points", [
    [(HUGE, 5), (-HUGE, 5)],  # x1 - x0 overflows to inf
    [(HUGE, HUGE), (HUGE, HUGE - 1e292)],  # all at the far end
    [(1e200, 0), (-1e200, 0), (0, 1e200)],  # (x - mean)^2 overflows in the body fit
    [(5, 5), (1e300, 7)],
])
@pytest.mark.parametrize("size", [(1, 1), (2, 3), (640, 480)])
def test_huge_coordinates_stay_finite_in_every_canvas_mode(model, points, size):
    """Once: inf/NaN completions (body fit overflow), NaN canvas sizes in expand, a negative
    fit scale on 1-pixel canvases, NaN limb angles in render: 500s from REST."""
    from lib_skelext.canvas import apply_canvas_mode
    from lib_skelext.render import render_frame

    body = np.zeros((N_BODY, 3))
    for i, (x, y) in enumerate(points):
        body[[1, 2, 5, 8][i]] = [x, y, 1.0]
    frame = PoseFrame(people=[Person(body=body)], canvas_width=size[0], canvas_height=size[1])
    completed = complete_frame(frame, model=model)
    check_completed(frame.people[0], completed.people[0], 1)
    for mode in ("keep", "fit", "expand"):
        moved, transform = apply_canvas_mode(completed, mode)
        assert np.isfinite(moved.people[0].body).all() and transform.scale >= 0
        assert 1 <= moved.canvas_width <= 4 * size[0] + 2 and 1 <= moved.canvas_height <= 4 * size[1] + 2  # 2: ceil
        image = render_frame(moved)
        assert image.shape == (moved.canvas_height, moved.canvas_width, 3)
        assert "NaN" not in dumps_frame(moved) and "Infinity" not in dumps_frame(moved)


# ------------------------------------------------- schemathesis, narrowed schema
def _narrowed_schema():
    """The published schema with ``pose`` as an OpenPose document, ``image`` as valid photos
    (``bench/fuzz_api.narrowed``): valid cases reach completion, rendering and detection.
    ``tests/test_api_fuzz.py`` fuzzes the published schema itself."""
    import sys

    import schemathesis

    from conftest import REPO_ROOT

    sys.path.insert(0, str(REPO_ROOT / "bench"))
    try:
        from fuzz_api import narrowed
    finally:
        sys.path.remove(str(REPO_ROOT / "bench"))
    app = create_app(auth="u:p")
    schema = schemathesis.openapi.from_dict(narrowed(app.openapi()))
    schema.app = app  # calls go through the ASGI app, no server
    schema.config.generation.update(modes=list(schemathesis.GenerationMode))
    return schema


NARROWED = _narrowed_schema()


@pytest.fixture(autouse=True)
def fake_dwpose():
    from hosts import FakeDetector, detector_registered

    with detector_registered("dwpose", FakeDetector()):
        yield


@NARROWED.include(method="POST").parametrize()
@settings(max_examples=50, **SETTINGS)
def test_narrowed_schema_no_server_errors(case):
    from schemathesis.checks import not_a_server_error

    case.call_and_validate(headers={"Authorization": "Basic dTpw"}, checks=[not_a_server_error])
