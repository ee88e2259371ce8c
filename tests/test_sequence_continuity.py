"""Video you can ship: holes in a track bridged up to a limit, points that come and go glide instead
of leaping, causal mode never looks ahead (``sequence.bridge``, ``sequence.continuity``)."""
from __future__ import annotations

import numpy as np
import pytest

from lib_skelext.completion_model import load_model
from lib_skelext.pose import L_KNEE, R_KNEE, Person, PoseFrame, torso_length
from lib_skelext.sequence import complete_sequence
from lib_skelext.sequence.continuity import HYSTERESIS_LOW
from lib_skelext.settings import PipelineSettings

TORSO = 60.0
W, H = 400, 420
FPS = 30.0  # bridge_gap 0.5 s -> 15 frames


@pytest.fixture(scope="module")
def mean_pose():
    return load_model().mean_pose


def full_body(mean_pose, t, speed=1.5, score=0.9):
    xy = mean_pose * TORSO + np.array([150.0 + speed * t, 140.0])
    body = np.zeros((18, 3))
    body[:, :2], body[:, 2] = xy, score
    return body


def clip_with_hole(mean_pose, start, length, n=60):
    frames = []
    for t in range(n):
        people = [] if start <= t < start + length else [Person(body=full_body(mean_pose, t))]
        frames.append(PoseFrame(people, W, H))
    return frames


def bridged(result):
    return [p for p in result.frame.people if "bridged" in p.extra.get("skelext", {})]


@pytest.mark.parametrize("mode", ["causal", "offline"])
@pytest.mark.parametrize("length, bridged_frames", [(1, 1), (5, 5), (20, None)])
def test_holes_of_1_5_20_frames(mean_pose, mode, length, bridged_frames):
    """1 and 5 frames (under the 0.5 s limit): every frame of the hole has the person, marked bridged,
    with the same track id. 20 frames: offline leaves the hole empty, causal holds the pose for the
    limit (15 frames) and then ends the track; the person comes back with the same id."""
    start = 20
    results = complete_sequence(clip_with_hole(mean_pose, start, length), PipelineSettings(sequence_mode=mode),
                                fps=FPS)
    in_hole = results[start:start + length]
    if bridged_frames is not None:
        assert all(len(r.frame.people) == 1 and bridged(r) for r in in_hole)
        gaps = [bridged(r)[0].extra["skelext"]["bridged"] for r in in_hole]
        assert all(0 < g["confidence"] < 1 for g in gaps)
    else:
        filled = [bool(r.frame.people) for r in in_hole]
        expected = 0 if mode == "offline" else 15
        assert filled == [True] * expected + [False] * (length - expected)
    ids = {p.extra["skelext"]["track_id"] for r in results for p in r.frame.people}
    assert ids == {0}
    for r in results:  # bridged people are whole bodies drawn like any other
        for p in r.frame.people:
            assert (p.body[:, 2] > 0).sum() == 18


def test_offline_bridge_interpolates_between_the_frames_around_the_hole(mean_pose):
    frames = clip_with_hole(mean_pose, 20, 5)
    results = complete_sequence(frames, PipelineSettings(sequence_mode="offline"), fps=FPS)
    before, after = results[19].frame.people[0].body, results[25].frame.people[0].body
    for j in range(1, 6):
        t = j / 6
        np.testing.assert_allclose(results[19 + j].frame.people[0].body[:, :2],
                                   (1 - t) * before[:, :2] + t * after[:, :2], atol=1e-9)


@pytest.mark.parametrize("mode", ["causal", "offline"])
def test_a_person_leaving_for_good_is_not_extended_past_the_limit(mean_pose, mode):
    frames = [PoseFrame([Person(body=full_body(mean_pose, t))] if t < 30 else [], W, H) for t in range(70)]
    results = complete_sequence(frames, PipelineSettings(sequence_mode=mode), fps=FPS)
    shown = [bool(r.frame.people) for r in results]
    extra = 15 if mode == "causal" else 0  # causal cannot know they left for good; offline never invents
    assert shown == [True] * (30 + extra) + [False] * (40 - extra)


def test_bridge_gap_is_an_option_in_seconds(mean_pose):
    frames = clip_with_hole(mean_pose, 20, 5)  # frames 20..24
    offline = PipelineSettings(sequence_mode="offline")
    assert not complete_sequence(frames, offline.replace(bridge_gap=0), fps=FPS)[22].frame.people
    assert not complete_sequence(frames, offline.replace(bridge_gap=0.1), fps=FPS)[22].frame.people  # 3 frames
    assert complete_sequence(frames, offline.replace(bridge_gap=0.1), fps=60.0)[22].frame.people  # 6 frames
    causal = complete_sequence(frames, PipelineSettings(bridge_gap=0.1), fps=FPS)  # held 3 frames, then ended
    assert [bool(r.frame.people) for r in causal[20:25]] == [True, True, True, False, False]


def test_causal_mode_never_looks_ahead_even_while_bridging(mean_pose):
    """Frame t's output is the same whether the clip ends at t or goes on (people coming back or not)."""
    frames = clip_with_hole(mean_pose, 20, 8, n=50)
    full = complete_sequence(frames, PipelineSettings(sequence_mode="causal"), fps=FPS)
    for t in (19, 21, 24, 27, 28, 35):
        cut = complete_sequence([f.copy() for f in frames[:t + 1]], PipelineSettings(sequence_mode="causal"),
                                fps=FPS)
        a, b = full[t].frame.people, cut[t].frame.people
        assert len(a) == len(b)
        for pa, pb in zip(a, b):
            np.testing.assert_array_equal(pa.body, pb.body)
            assert pa.extra == pb.extra


@pytest.mark.parametrize("mode", ["causal", "offline"])
def test_a_knee_flickering_at_the_threshold_moves_less_than_a_tenth_of_a_torso(mean_pose, mode):
    """The knees score about the threshold (0.3) and come and go every frame or two, or leave by the
    frame's edge: their source switches, their position glides (< 0.1 torso per frame beyond the
    body's own motion); points that stay detected come back exactly."""
    rng = np.random.default_rng(1)
    frames, given = [], []
    for t in range(80):
        body = full_body(mean_pose, t, speed=0.5)
        body[[R_KNEE, L_KNEE], 0] += 0.6 * TORSO  # knees bent forward: far from where a completion puts them
        body[[R_KNEE, L_KNEE], 2] = 0.3 + rng.normal(0, 0.08, 2)  # around the threshold
        low = body[:, 2] < 0.3 * HYSTERESIS_LOW  # the detector (run at the lower threshold) drops these
        if t % 7 in (3, 4):  # the knees sink below the frame's edge now and then
            low[[R_KNEE, L_KNEE]] = True
        body[low] = 0.0
        frames.append(PoseFrame([Person(body=body)], W, H))
        given.append(body.copy())
    results = complete_sequence(frames, PipelineSettings(sequence_mode=mode), fps=FPS)
    out = np.array([r.frame.people[0].body for r in results])
    unit = np.median([torso_length(b) for b in out])
    body_motion = 0.5 / unit
    steps = np.hypot(*(out[1:, [R_KNEE, L_KNEE], :2] - out[:-1, [R_KNEE, L_KNEE], :2]).transpose(2, 0, 1)) / unit
    assert steps.max() < 0.1 + body_motion
    switches = sum(int((results[t].frame.people[0].source[[R_KNEE, L_KNEE]]
                        != results[t - 1].frame.people[0].source[[R_KNEE, L_KNEE]]).sum()) for t in range(1, 80))
    assert switches > 5  # the knees did come and go
    hips = [8, 11]  # detected in every frame and never switching: exactly as given
    for r, g in zip(results, given):
        np.testing.assert_array_equal(r.frame.people[0].body[hips], g[hips])


def test_hysteresis_keeps_a_point_that_dips_below_the_threshold(mean_pose):
    frames = []
    for t in range(20):
        body = full_body(mean_pose, t, score=0.9)
        body[R_KNEE, 2] = 0.9 if t < 5 else 0.25  # dips below 0.3 but stays above 0.3 x HYSTERESIS_LOW
        frames.append(PoseFrame([Person(body=body)], W, H))
    results = complete_sequence(frames, PipelineSettings(), fps=FPS)
    assert all(not r.frame.people[0].completed[R_KNEE] for r in results)
    late = [PoseFrame([Person(body=f.people[0].body.copy())], W, H) for f in frames[5:]]  # never on: dropped
    results = complete_sequence(late, PipelineSettings(), fps=FPS)
    assert all(r.frame.people[0].completed[R_KNEE] for r in results)


def test_blend_switches_glides_a_point_whose_source_changes(mean_pose):
    """Unit: a knee alternating between a detected position and a completed one 0.8 torso away
    would jump 0.8 torso at each switch; it glides at most 0.08 torso per frame, and the frames
    without a switch in their glide come back exactly."""
    from lib_skelext.pose import Source
    from lib_skelext.sequence.continuity import MAX_STEP, blend_switches

    frames, raw = [], []
    for t in range(45):
        body = full_body(mean_pose, 0, score=1.0)
        source = np.full(18, Source.DETECTED, np.uint8)
        if (t // 15) % 2:  # detected for 15 frames, completed for 15, ...
            body[R_KNEE, 0] += 0.8 * TORSO
            source[R_KNEE] = Source.COMPLETED
        frames.append(PoseFrame([Person(body=body, source=source)], W, H))
        raw.append(body.copy())
    assert blend_switches(frames, [[0]] * 45) == 2
    out = np.array([f.people[0].body for f in frames])
    unit = torso_length(out[0])
    steps = np.hypot(*(out[1:, R_KNEE, :2] - out[:-1, R_KNEE, :2]).T) / unit
    assert steps.max() <= MAX_STEP + 1e-9
    assert np.array_equal(out[:15], np.array(raw[:15]))  # before the first switch: exactly as given
    assert np.array_equal(out[:, L_KNEE], np.array(raw)[:, L_KNEE])  # never switched: exactly as given
    assert np.array_equal(out[27], raw[27])  # the glide (0.8 / 0.08: 10 or 11 frames) is over by then
    assert not np.array_equal(out[15], raw[15])  # and it did glide


def test_no_ghosts_flashes_and_single_points_are_not_held(mean_pose):
    """Seen in a real ComfyUI run: a false detection on sun flare (one or two frames, sometimes a single
    point) was held for the whole limit. Tracks seen in fewer than 3 frames, and poses with fewer than
    5 points, are not bridged."""
    frames = []
    for t in range(30):
        people = [Person(body=full_body(mean_pose, t))] if t < 10 else []
        if t in (12, 13):  # a two-frame flash far from the person
            people.append(Person(body=full_body(mean_pose, t) + np.array([0.0, 150.0, 0.0])))
        if 14 <= t < 18:  # a one-point "person" for four frames
            one = np.zeros((18, 3))
            one[7] = [390.0, 400.0, 0.9]
            people.append(Person(body=one))
        frames.append(PoseFrame(people, W, H))
    results = complete_sequence(frames, PipelineSettings(sequence_mode="causal"), fps=FPS)
    for t in range(10, 30):
        shown = results[t].frame.people
        bridged_ids = {p.extra["skelext"]["track_id"] for p in shown if "bridged" in p.extra["skelext"]}
        assert bridged_ids <= {0}, t  # only the real person (track 0) is held
    assert all(len(results[t].frame.people) <= 2 for t in range(30))


def test_causal_bridge_ends_when_the_person_walks_out_of_the_picture(mean_pose):
    """A person walking fast to the right edge and gone: the held pose moves on with them only while
    some of it is inside the picture."""
    width = 420
    frames = [PoseFrame([Person(body=full_body(mean_pose, t, speed=40.0))] if t < 7 else [], width, H)
              for t in range(30)]
    results = complete_sequence(frames, PipelineSettings(sequence_mode="causal"), fps=FPS)
    held = [r.frame.people[0] for r in results[7:] if r.frame.people]
    assert 0 < len(held) < 15
    assert all((p.body[:, 0] <= width).any() for p in held)  # something of them is still in the picture
