"""Public completion API: lib_skelext.complete (real behaviour on held-out poses)."""
from __future__ import annotations

import logging
import os
import subprocess
import sys

import numpy as np
import pytest

from lib_skelext.complete import complete_frame, complete_person
from lib_skelext.errors import SkelextError
from lib_skelext.pose import (BODY_FLIP, L_ANKLE, L_ELBOW, L_HIP, L_KNEE, L_WRIST, NECK, R_ANKLE, R_HIP, R_KNEE,
                              Person, PoseFrame, Source)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ANCHORS = os.path.normpath(os.path.join(REPO, "..", "shared", "anchors"))

# Held-out TEST-split people (COCO val2017 image ids 292082 and 118921; CC BY 4.0), pixels, all 18 labelled.
STANDING = np.array([[339, 276], [334, 349], [277, 357], [262, 435], [308, 470], [391, 341], [415, 422],
                     [381, 465], [313, 463], [325, 525], [333, 601], [388, 456], [390, 504], [397, 603],
                     [331, 263], [357, 266], [303, 272], [377, 280]], float)
STANDING2 = np.array([[389, 157], [394, 180], [374, 181], [356, 201], [329, 208], [414, 178], [433, 199],
                      [452, 211], [388, 256], [393, 296], [394, 337], [416, 253], [417, 285], [428, 327],
                      [383, 154], [393, 152], [379, 159], [399, 153]], float)


def _torso(xy: np.ndarray) -> float:
    return float(np.linalg.norm(xy[NECK] - (xy[R_HIP] + xy[L_HIP]) / 2))


def _crop(xy: np.ndarray, x0: float, y0: float, x1: float, y1: float) -> tuple:
    """Ground truth cropped by a frame: canvas = crop, points outside removed."""
    p = xy - [x0, y0]
    inside = (p[:, 0] >= 0) & (p[:, 0] < x1 - x0) & (p[:, 1] >= 0) & (p[:, 1] < y1 - y0)
    body = np.zeros((18, 3))
    body[inside, :2] = p[inside]
    body[inside, 2] = 0.9
    return Person(body=body), x1 - x0, y1 - y0


def test_visible_points_bit_for_bit_and_inputs_untouched():
    rng = np.random.default_rng(0)
    body = np.zeros((18, 3))
    body[:, :2] = STANDING + rng.normal(0, 1e-3, (18, 2))
    body[:, 2] = rng.uniform(0.31, 0.99, 18)
    body[[9, 10, 12, 13, 4], 2] = 0.0
    src = np.where(body[:, 2] > 0, Source.DETECTED, Source.MISSING).astype(np.uint8)
    src[2] = Source.EDITED
    hand = rng.random((21, 3))
    person = Person(body=body, source=src, hand_left=hand, face=rng.random((70, 3)), extra={"k": [1]})
    before = person.copy()
    out = complete_person(person, 700, 560)
    vis = before.body[:, 2] > 0
    assert out is not person
    assert out.body[vis].tobytes() == before.body[vis].tobytes()
    assert out.source[vis].tobytes() == before.source[vis].tobytes()
    assert person.body.tobytes() == before.body.tobytes() and person.source.tobytes() == before.source.tobytes()
    assert person.completion_confidence is None and person.alternatives == []
    np.testing.assert_array_equal(out.hand_left, hand)
    np.testing.assert_array_equal(out.face, before.face)
    assert out.extra == {"k": [1]} and out.extra is not person.extra
    assert np.isfinite(out.body).all()
    assert (out.body[~vis, 2] == 1.0).all() and (out.source[~vis] == Source.COMPLETED).all()
    c = out.completion_confidence
    assert c.shape == (18,) and (c[vis] == 1.0).all() and (c >= 0).all() and (c <= 1).all()


def test_fewer_than_two_points_unchanged(caplog):
    body = np.zeros((18, 3))
    body[NECK] = [100, 100, 0.8]
    person = Person(body=body)
    with caplog.at_level(logging.INFO, logger="lib_skelext.complete"):
        out = complete_person(person, 400, 400)
    assert out.body.tobytes() == person.body.tobytes()
    assert out.completion_confidence is None and out.alternatives == [] and out.extra == {}
    assert (out.source == person.source).all()
    assert any("fewer than 2" in r.message for r in caplog.records)
    empty = complete_person(Person(body=np.zeros((18, 3))), 400, 400)
    assert empty.completion_confidence is None


def test_bad_arguments_raise():
    body = np.zeros((18, 3))
    body[:3] = [[1, 2, 1], [3, 4, 1], [5, 6, 1]]
    person = Person(body=body)
    bad = person.copy()
    bad.body[1, 0] = np.nan
    with pytest.raises(SkelextError):
        complete_person(bad, 100, 100)
    for k in (0, 9, 1.5, True):
        with pytest.raises(SkelextError):
            complete_person(person, 100, 100, alternatives=k)
    for w, h in ((0, 100), (100, float("inf")), ("x", 1)):
        with pytest.raises(SkelextError):
            complete_person(person, w, h)
    with pytest.raises(SkelextError):
        complete_person(person, 100, 100, fixed=np.ones(5, bool))


def test_waist_up_person_gets_ankles_below_the_frame():
    for xy in (STANDING, STANDING2):
        hip_y = (xy[R_HIP, 1] + xy[L_HIP, 1]) / 2
        x0, y0 = xy[:, 0].min() - 40, xy[:, 1].min() - 30
        person, w, h = _crop(xy, x0, y0, xy[:, 0].max() + 40, hip_y + 5)
        assert not person.present[[R_KNEE, R_ANKLE, L_KNEE, L_ANKLE]].any()
        out = complete_person(person, w, h)
        torso = _torso(xy)
        for j in (R_ANKLE, L_ANKLE, R_KNEE, L_KNEE):
            assert out.body[j, 1] > h, (j, out.body[j], h)
        for j in (R_ANKLE, L_ANKLE):
            assert out.body[j, 1] > h + 0.5 * torso
            assert np.linalg.norm(out.body[j, :2] + [x0, y0] - xy[j]) < 1.0 * torso


def test_occluded_limb_inside_the_frame_lands_inside():
    body = np.zeros((18, 3))
    body[:, :2] = STANDING - [150, 150]
    body[:, 2] = 1.0
    body[[L_ELBOW, L_WRIST], 2] = 0.0
    out = complete_person(Person(body=body), 500, 600)
    for j in (L_ELBOW, L_WRIST):
        x, y = out.body[j, :2]
        assert 0 <= x < 500 and 0 <= y < 600
        assert np.linalg.norm(out.body[j, :2] - (STANDING[j] - 150)) < 0.8 * _torso(STANDING)


def test_small_person_on_a_big_canvas():
    """Far frame edges (normalised rectangle clipped) must read as 'no constraint', not as a cue."""
    body = np.zeros((18, 3))
    body[:, :2] = STANDING + [300, 200]  # inside every canvas below
    body[:, 2] = 1.0
    body[[L_ELBOW, L_WRIST, R_KNEE, R_ANKLE], 2] = 0.0
    torso = _torso(STANDING)
    for w, h in ((900, 900), (4000, 3000), (20000, 20000)):
        out = complete_person(Person(body=body), w, h)
        for j in (L_ELBOW, L_WRIST, R_KNEE, R_ANKLE):
            assert np.linalg.norm(out.body[j, :2] - body[j, :2]) < 0.8 * torso, (w, j)


def test_flip_consistency():
    import copy
    from dataclasses import replace

    from lib_skelext.completion_model import load_model

    xy = STANDING - [150, 200]
    w, h = 500, 300  # cut at the hips
    body = np.zeros((18, 3))
    inside = xy[:, 1] < h
    body[inside, :2], body[inside, 2] = xy[inside], 1.0
    mirror = body[list(BODY_FLIP)].copy()
    mirror[:, 0] = np.where(mirror[:, 2] > 0, w - mirror[:, 0], 0.0)
    shipped = load_model()
    pooled = copy.copy(shipped)
    pooled.config = replace(shipped.config, mirror=True)
    for model, tol in ((shipped, 0.15), (pooled, 1e-6)):
        out = complete_person(Person(body=body), w, h, model=model)
        out_m = complete_person(Person(body=mirror), w, h, model=model)
        back = out_m.body[list(BODY_FLIP)].copy()
        back[:, 0] = w - back[:, 0]
        diff = np.linalg.norm(back[:, :2] - out.body[:, :2], axis=1)[~inside]
        # learned from flipped training people: nearly mirror-symmetric (over 1,500 validation people cut at
        # the waist the completed points of a person and of its mirror image differ by 0.07 torso on average,
        # 0.20 at the 95th percentile; this person: 0.10 on average, 0.15 at most); pooling each person with its mirror image (off in the shipped file: it
        # halves throughput for <1%) makes completion commute exactly
        assert diff.mean() < tol * _torso(xy) and diff.max() < 1.7 * tol * _torso(xy), (model.config.mirror, diff)
        if model.config.mirror:
            np.testing.assert_allclose(out_m.completion_confidence[list(BODY_FLIP)], out.completion_confidence,
                                       atol=1e-9)


def test_alternatives_ranked_distinct_and_consistent():
    xy = STANDING - [150, 200]
    body = np.zeros((18, 3))
    inside = xy[:, 1] < 300
    body[inside, :2], body[inside, 2] = xy[inside], 1.0
    out = complete_person(Person(body=body), 500, 300, alternatives=4)
    scores = out.alternative_scores
    assert 2 <= len(scores) <= 4 and len(out.alternatives) == len(scores) - 1
    assert all(a >= b for a, b in zip(scores, scores[1:])) and sum(scores) <= 1 + 1e-9
    assert all(0 < s <= 1 for s in scores)
    bodies = [out.body] + out.alternatives
    for b in bodies:
        assert b.shape == (18, 3) and np.isfinite(b).all()
        assert b[inside].tobytes() == out.body[inside].tobytes()
    miss = ~inside
    for i in range(len(bodies)):
        for j in range(i):
            assert np.linalg.norm(bodies[i][miss, :2] - bodies[j][miss, :2], axis=1).mean() > 1.0
    one = complete_person(Person(body=body), 500, 300)
    assert one.alternatives == [] and len(one.alternative_scores) == 1


def test_fixed_points_count_as_given():
    body = np.zeros((18, 3))
    body[:, :2] = STANDING
    body[:8, 2] = 1.0
    fixed = np.zeros(18, bool)
    fixed[R_ANKLE] = True  # user placed it, conf still 0
    out = complete_person(Person(body=body), 800, 800, fixed=fixed)
    assert out.body[R_ANKLE].tobytes() == body[R_ANKLE].tobytes()
    assert out.source[R_ANKLE] != Source.COMPLETED and out.completion_confidence[R_ANKLE] == 1.0


def test_complete_frame_batches_people_and_returns_new_frame():
    b1 = np.zeros((18, 3))
    b1[:8, :2], b1[:8, 2] = STANDING[:8], 1.0
    b2 = np.zeros((18, 3))
    b2[1] = [10, 10, 1]
    full = np.concatenate([STANDING2, np.ones((18, 1))], 1)
    frame = PoseFrame(people=[Person(body=b1), Person(body=b2), Person(body=full)], canvas_width=640,
                      canvas_height=480, extra={"a": 1})
    out = complete_frame(frame, alternatives=2)
    assert out is not frame and len(out.people) == 3 and out.extra == {"a": 1}
    single = complete_person(frame.people[0], 640, 480, alternatives=2)
    np.testing.assert_allclose(out.people[0].body, single.body)
    assert out.people[1].completion_confidence is None
    assert (out.people[2].completion_confidence == 1).all() and out.people[2].body.tobytes() == full.tobytes()
    assert frame.people[0].completion_confidence is None


def test_import_does_not_load_torch():
    code = "import sys, lib_skelext.complete, lib_skelext.completion_model; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


NO_SEED = pytest.mark.skipif(not os.path.isfile(os.path.join(ANCHORS, "seed_model.py")), reason="no ../shared/anchors")


def _seed_errors(crops) -> dict:
    """Mean error (torso lengths) over the scored points: skelext vs the seed's v7 and v8 weights.

    crops: (person, canvas w, canvas h, ground truth (18, 2) in canvas pixels, torso px, scored (18,) bool).
    """
    sys.path.insert(0, ANCHORS)
    import seed_model

    errs = {"ours": [], "v7": [], "v8": []}
    for person, w, h, gt, torso, scored in crops:
        errs["ours"].append(np.linalg.norm(complete_person(person, w, h).body[scored, :2] - gt[scored], axis=1) / torso)
        for name, f in (("v7", "seed_model.npz"), ("v8", "seed_model_v8.npz")):
            pred = seed_model.complete(person.body, w, h, 0.0, os.path.join(ANCHORS, f))
            errs[name].append(np.linalg.norm(pred[scored] - gt[scored], axis=1) / torso)
    return {k: float(np.concatenate(v).mean()) for k, v in errs.items()}


@NO_SEED
def test_beats_the_seed_on_two_held_out_people():
    crops = []
    for xy in (STANDING, STANDING2):
        torso = _torso(xy)
        for cut in (0.3, 0.55, 1.0, 1.8):  # head-and-shoulders .. knees-up
            x0, y0 = xy[:, 0].min() - 30, xy[:, 1].min() - 30
            person, w, h = _crop(xy, x0, y0, xy[:, 0].max() + 30, xy[NECK, 1] + cut * torso)
            crops.append((person, w, h, xy - [x0, y0], torso, ~person.present))
    mean = _seed_errors(crops)
    # two people are a sanity check only (STANDING's short torso under wide shoulders makes every model
    # draw her legs too long); the held-out figures are in train/report/REPORT.md and the next test
    assert mean["ours"] < min(mean["v7"], mean["v8"]), mean


@NO_SEED
@pytest.mark.skipif(not os.path.isdir(os.path.join(REPO, "..", "shared", "data", "mpii")), reason="no ../shared/data")
@pytest.mark.parametrize("scenario", ["waist_up", "knees_up"])
def test_beats_the_seed_on_300_held_out_people(scenario, tmp_path_factory):
    pytest.importorskip("scipy")
    from train.evaluate import upright
    from train.prepare import load_people, prepare
    from train.simulate_crops import scenario_sample

    data = load_people(prepare(out_path=str(tmp_path_factory.mktemp("data") / "people.npz")))
    lab, xy = data["label"], data["xy"].astype(np.float64)
    test = np.nonzero((data["split"] == 2) & lab[:, NECK] & lab[:, R_HIP] & lab[:, L_HIP] & (lab.sum(1) >= 8))[0]
    idx = np.random.default_rng(0).choice(test[upright(xy[test])], 300, replace=False)
    s = scenario_sample(xy[idx], lab[idx], scenario, np.random.default_rng(1))
    crops = []
    for i in np.nonzero((s.label & ~s.visible).any(1) & s.visible[:, NECK])[0]:  # the seed needs the neck
        x0, y0, x1, y1 = s.rect[i]
        body = np.zeros((18, 3))
        body[s.visible[i], :2] = s.gt[i, s.visible[i]] - [x0, y0]
        body[s.visible[i], 2] = 1.0
        crops.append((Person(body=body), x1 - x0, y1 - y0, s.gt[i] - [x0, y0], _torso(s.gt[i]),
                      s.label[i] & ~s.visible[i]))  # points the source does not label are not scored
    mean = _seed_errors(crops)
    # on the whole test split the report measures 0.51 (waist_up) and 0.60 (knees_up) of the best seed
    assert mean["ours"] < 0.7 * min(mean["v7"], mean["v8"]), mean


def test_random_inputs_property():
    """Any finite partial body on any canvas: finite output, given points untouched, conf in 0..1."""
    hyp = pytest.importorskip("hypothesis")
    st = pytest.importorskip("hypothesis.strategies")

    @hyp.settings(max_examples=60, deadline=None)
    @hyp.given(seed=st.integers(0, 2 ** 32 - 1), w=st.floats(8, 5000), h=st.floats(8, 5000),
               k=st.integers(1, 8), spread=st.floats(0.01, 3.0))
    def check(seed, w, h, k, spread):
        rng = np.random.default_rng(seed)
        body = np.zeros((18, 3))
        body[:, 0] = rng.normal(w / 2, spread * w, 18)
        body[:, 1] = rng.normal(h / 2, spread * h, 18)
        body[:, 2] = np.where(rng.random(18) < rng.random(), rng.uniform(0.05, 1, 18), 0.0)
        person = Person(body=body)
        out = complete_person(person, w, h, alternatives=k)
        vis = person.present
        assert out.body[vis].tobytes() == person.body[vis].tobytes()
        assert np.isfinite(out.body).all()
        if out.completion_confidence is None:
            assert vis.sum() < 2 or np.ptp(body[vis, :2], axis=0).max() == 0
            assert out.body.tobytes() == person.body.tobytes()
        else:
            c = out.completion_confidence
            assert ((c >= 0) & (c <= 1)).all() and (c[vis] == 1).all()
            assert 1 <= len(out.alternative_scores) <= k and sum(out.alternative_scores) <= 1 + 1e-9

    check()
