"""lib_skelext.sequence: tracking, causal vs offline, steadiness, bit-identical detected points, bad input.

Uses the shipped completion model (numpy, well under a second per test)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from lib_skelext.completion_model import load_model
from lib_skelext.errors import SkelextError
from lib_skelext.openpose_json import frames_to_json, loads_frames
from lib_skelext.pose import Person, PoseFrame
from lib_skelext.sequence import complete_sequence
from lib_skelext.sequence.tracking import assign_tracks
from lib_skelext.settings import PipelineSettings

TORSO = 100.0
ANKLES = [10, 13]


@pytest.fixture(scope="module")
def mean_pose():
    return load_model().mean_pose


def body_at(pose: np.ndarray, centre, visible=None, rng=None, jitter=0.0) -> np.ndarray:
    """(18, 3): pose (18, 2) in torso units placed at centre (px), only ``visible`` points present."""
    xy = pose * TORSO + np.asarray(centre, float)
    if rng is not None and jitter:
        xy = xy + rng.normal(0, jitter * TORSO, xy.shape)
    body = np.zeros((18, 3))
    vis = np.ones(18, bool) if visible is None else visible
    body[vis, :2], body[vis, 2] = xy[vis], 1.0
    return body


def waist_up_clip(mean_pose, n=80, jitter=0.02, speed=(0.0, 0.0), seed=0, height=260):
    """A waist-up person (canvas bottom just below the hips) with detector jitter, moving at ``speed`` px/frame."""
    rng = np.random.default_rng(seed)
    frames, truth = [], []
    for t in range(n):
        centre = np.array([200.0, 110.0]) + np.array(speed) * t
        full = mean_pose * TORSO + centre
        vis = full[:, 1] < height
        frames.append(PoseFrame([Person(body=body_at(mean_pose, centre, vis, rng, jitter))], 400, height))
        truth.append(full)
    return frames, np.array(truth)


def tracks_of(results):
    return [[p.extra["skelext"]["track_id"] for p in r.frame.people] for r in results]


def completed_xy(results, person=0):
    return np.array([r.frame.people[person].body[:, :2] for r in results])


# ------------------------------------------------------------------ tracking
def test_ids_follow_crossing_people_in_any_order(mean_pose):
    """Two people walk towards each other and cross; the order in each frame is random."""
    rng = np.random.default_rng(3)
    arms_up = mean_pose.copy()
    arms_up[[3, 4, 6, 7], 1] -= 1.2
    frames, truth_ids = [], []
    for t in range(60):
        a = body_at(mean_pose, (100 + 6 * t, 150), rng=rng, jitter=0.01)
        b = body_at(arms_up, (460 - 6 * t, 150), rng=rng, jitter=0.01)
        people, ids = [Person(body=a), Person(body=b)], ["a", "b"]
        if rng.random() < 0.5:
            people, ids = people[::-1], ids[::-1]
        frames.append(PoseFrame(people, 600, 400))
        truth_ids.append(ids)
    ids = assign_tracks(frames, mean_pose)
    names = {}
    for frame_ids, truth in zip(ids, truth_ids):
        for tid, who in zip(frame_ids, truth):
            assert names.setdefault(tid, who) == who  # one id per person, all the way through
    assert len(names) == 2


def test_exit_reentry_and_failed_detections_keep_the_id(mean_pose):
    """A person is missing for 20 frames (left the frame / detector failed) and comes back nearby;
    a stranger appearing far away meanwhile gets a new id."""
    frames = []
    for t in range(70):
        people = []
        if not 25 <= t < 45:
            people.append(Person(body=body_at(mean_pose, (150 + t, 150))))
        if t == 30 or t == 31:
            people.append(Person(body=body_at(mean_pose, (900, 150))))
        frames.append(PoseFrame(people, 1000, 400))
    ids = assign_tracks(frames, mean_pose)
    first = ids[0][0]
    assert all(f[0] == first for f in ids[:25] + ids[45:])
    assert ids[30][0] != first and ids[31][0] == ids[30][0]


def test_track_id_is_written_and_read_back(mean_pose):
    frames, _ = waist_up_clip(mean_pose, n=5)
    results = complete_sequence(frames)
    doc = frames_to_json([r.frame for r in results], True)
    again, _ = loads_frames(json.dumps(doc))
    assert [p["skelext"]["track_id"] for f in doc for p in f["people"]] == [0] * 5
    assert all(p.extra["skelext"]["track_id"] == 0 for f in again for p in f.people)


# ------------------------------------------------------------------ temporal completion
def second_difference(xy: np.ndarray) -> np.ndarray:
    return np.linalg.norm(xy[2:] - 2 * xy[1:-1] + xy[:-2], axis=-1)


def test_still_person_completion_is_steady(mean_pose):
    """A still waist-up person with 2% jitter: the completed ankles tremble at most 1/4 as much as
    per-frame completion's, never jump by 0.3 torso, and are no further from the per-frame average."""
    from lib_skelext.core import complete_poses

    frames, _ = waist_up_clip(mean_pose, n=100)
    per_frame = completed_xy(complete_poses(frames))[:, ANKLES]
    seq = completed_xy(complete_sequence(frames))[:, ANKLES]
    jitter_pf = second_difference(per_frame).mean() / TORSO
    jitter_seq = second_difference(seq).mean() / TORSO
    assert jitter_seq <= 0.25 * jitter_pf, (jitter_seq, jitter_pf)
    assert np.linalg.norm(np.diff(seq, axis=0), axis=-1).max() / TORSO < 0.3
    centre = per_frame.mean(0)
    assert np.linalg.norm(seq[20:] - centre, axis=-1).mean() <= np.linalg.norm(per_frame[20:] - centre, axis=-1).mean()


def test_completed_points_move_with_the_body(mean_pose):
    """The camera pans at 2 px/frame: the completed ankles keep their place on the body (no lag)."""
    frames, truth = waist_up_clip(mean_pose, n=60, speed=(2.0, 0.0), jitter=0.01)
    seq = completed_xy(complete_sequence(frames))[:, ANKLES]
    rel = seq - truth[:, 1:2]  # relative to the neck
    drift = rel[30:].mean(0) - rel[5:15].mean(0)
    assert np.abs(drift).max() < 0.05 * TORSO, drift


def test_a_moving_body_gets_the_models_completion_without_lag(mean_pose):
    """The arms swing up and down (the visible body itself moves, as when walking): the completed legs
    stay within 0.15 torso of the per-frame completion of the same frame (the smoothing of a still body,
    which trails the model by many frames, would not), and tremble at most 0.3 x as much as per-frame's
    (the body-unit filter alone, which lets completions follow a moving body by loosening, gave 0.39 x)."""
    from lib_skelext.core import complete_poses

    rng = np.random.default_rng(3)
    frames = []
    for t in range(90):
        pose = mean_pose.copy()
        lift = 0.9 * np.sin(2 * np.pi * t / 30.0)
        pose[[3, 6], 1] -= 0.5 * lift  # elbows
        pose[[4, 7], 1] -= lift  # wrists
        vis = pose[:, 1] * TORSO + 110.0 < 260
        frames.append(PoseFrame([Person(body=body_at(pose, (200.0, 110.0), vis, rng, 0.02))], 400, 260))
    per_frame = completed_xy(complete_poses(frames))[:, ANKLES]
    seq = completed_xy(complete_sequence(frames))[:, ANKLES]
    gap = np.linalg.norm(seq[30:] - per_frame[30:], axis=-1).mean() / TORSO
    assert gap < 0.15, gap
    assert second_difference(seq).mean() <= 0.3 * second_difference(per_frame).mean()


def test_body_speed_ignores_detector_noise():
    """body_speed: white noise reads as (almost) still whatever its size (the plain RMS step would read
    2 x noise); a steady drift reads as its speed; steps without shared points keep the estimate."""
    from lib_skelext.sequence.filters import body_speed

    rng = np.random.default_rng(0)
    seen = np.ones((400, 10), bool)
    drift = np.zeros((400, 10, 2))
    drift[..., 0] = 0.03 * np.arange(400)[:, None]
    for noise in (0.01, 0.02, 0.05):
        base = rng.normal(0, noise, (400, 10, 2))
        s_still = body_speed(base, seen, 0.1)[-1]
        s_moving = body_speed(base + drift, seen, 0.1)
        assert s_still < 0.5 * noise, (noise, s_still)
        assert abs(s_moving[-1] - 0.03) < 0.35 * noise + 0.002, (noise, s_moving[-1])
    gaps = seen.copy()
    gaps[200:210] = False
    held = body_speed(drift, gaps, 0.1)
    assert held[:2].tolist() == [0.0, 0.0] and held[205] == pytest.approx(held[199]) and held[205] > 0.02


def test_glide_limit_is_relative_to_the_visible_body():
    """A completed point that jumps 100 px glides at 0.15 units (here 10 px) per frame on top of the visible
    body's own motion (5 px/frame to the right), which passes through unlimited."""
    from lib_skelext.sequence.filters import glide_limit

    s = 8
    xy = np.zeros((s, 18, 2))
    xy[:, :, 0] = 5.0 * np.arange(s)[:, None]
    visible = np.zeros((s, 18), bool)
    visible[:, :8] = True
    out = xy.copy()
    out[3:, 10, 1] += 100.0  # the completed ankle flips mode at step 3
    limited = glide_limit(out, xy, visible, np.arange(s), np.full(s, 10.0 / 0.15), 0.15)
    steps = np.diff(limited[:, 10], axis=0)
    np.testing.assert_allclose(steps[:, 0], 5.0)  # the body's motion
    assert np.abs(steps[:, 1]).max() <= 10.0 + 1e-9 and limited[-1, 10, 1] == pytest.approx(50.0)
    np.testing.assert_array_equal(limited[:, :8], out[:, :8])  # visible points untouched


def test_glide_limit_body_motion_is_not_one_swinging_limb():
    """Four points visible, three still and one (an elbow) swinging 60 px a frame: the body does not move,
    so a completed point still glides at 0.15 units (10 px) a frame, not at the elbow's mean share (15 px)."""
    from lib_skelext.sequence.filters import glide_limit

    s = 8
    xy = np.zeros((s, 18, 2))
    xy[:, 3, 0] = 60.0 * np.arange(s)
    visible = np.zeros((s, 18), bool)
    visible[:, [1, 2, 3, 5]] = True
    out = xy.copy()
    out[:, 10] = 60.0 * np.arange(s)[:, None] / 4  # a completion that follows the mean of the four
    limited = glide_limit(out, xy, visible, np.arange(s), np.full(s, 10.0 / 0.15), 0.15)
    assert np.linalg.norm(np.diff(limited[:, 10], axis=0), axis=-1).max() <= 10.0 + 1e-9


def test_running_median_causal_uses_only_the_past():
    from lib_skelext.sequence.filters import running_median

    x = np.array([1.0, 2.0, 30.0, 4.0, 5.0, 6.0])
    np.testing.assert_allclose(running_median(x, 3, centred=False), [1.0, 1.5, 2.0, 4.0, 5.0, 5.0])
    np.testing.assert_allclose(running_median(x, 3, centred=True), [1.5, 2.0, 4.0, 5.0, 5.0, 5.5])
    changed = x.copy()
    changed[4:] = 1000.0
    np.testing.assert_array_equal(running_median(changed, 3, centred=False)[:4], running_median(x, 3, centred=False)[:4])


def test_completed_legs_do_not_leap_when_few_visible_points_change_shape(mean_pose):
    """Only neck, shoulders and one elbow are visible and the elbow swings far out in two frames: fitting the
    running template to those points reads it as the body growing (its scale inflates over 4x), which
    let the completed ankles leap 0.44 torso in a frame where the model kept them still. They now move at
    most 0.2 torso a frame (the glide limit's unit follows the model's own scale, its body motion is the
    median step of the visible points)."""
    from lib_skelext.sequence.temporal import complete_track

    n, scale, neck = 60, 100.0, np.array([200.0, 100.0])
    rng = np.random.default_rng(0)
    xy = np.zeros((n, 18, 2))
    visible = np.zeros((n, 18), bool)
    visible[:, [1, 2, 3, 5]] = True
    options = np.repeat((mean_pose * scale + neck)[None, None], n, 0)  # the model: legs stay put
    for t in range(n):
        pose = mean_pose.copy()
        swing = min(max((t - 20) / 2, 0.0), 1.0)
        pose[3] = pose[2] + (pose[3] - pose[2]) * (1 + 4 * swing)
        xy[t] = pose * scale + neck + rng.normal(0, 1, (18, 2))
        options[t, 0, visible[t]] = xy[t, visible[t]]
    init = np.tile([scale, *(neck - scale * mean_pose[1])], (n, 1))
    out = complete_track(xy, visible, np.arange(n), options, np.ones((n, 1)), np.ones(n, bool), init).xy
    steps = np.linalg.norm(np.diff(out[:, ANKLES], axis=0), axis=-1) / scale
    assert steps.max() < 0.2, steps.max()


def test_template_restarts_when_its_fit_runs_away_from_the_body_size(mean_pose):
    """Only neck and shoulders are visible and the shoulders spread to 5x their width over 10 frames (a turn,
    a shrug) while the model keeps the legs where they were: the template fit reads the spread as the body
    growing. Without a limit its scale ran away and held the completed ankles up to 3.7 torsos from the
    model's completion, still 1.6 at the end; the template now restarts once its scale leaves 1/3..3x the
    model's recent median, and the ankles stay with the model."""
    from lib_skelext.sequence.temporal import TemporalParams, complete_track

    n, scale, neck = 80, 100.0, np.array([200.0, 100.0])
    rng = np.random.default_rng(0)
    xy = np.zeros((n, 18, 2))
    visible = np.zeros((n, 18), bool)
    visible[:, [1, 2, 5]] = True
    options = np.repeat((mean_pose * scale + neck)[None, None], n, 0)  # the model: legs stay put
    for t in range(n):
        pose = mean_pose.copy()
        spread = 1 + 4 * min(max((t - 20) / 10, 0.0), 1.0)
        pose[[2, 5]] = pose[1] + (pose[[2, 5]] - pose[1]) * spread
        xy[t] = pose * scale + neck + rng.normal(0, 1, (18, 2))
        options[t, 0, visible[t]] = xy[t, visible[t]]
    init = np.tile([scale, *(neck - scale * mean_pose[1])], (n, 1))

    def ankles_off_model(params):
        out = complete_track(xy, visible, np.arange(n), options, np.ones((n, 1)), np.ones(n, bool), init,
                             params=params).xy
        return np.linalg.norm(out[:, ANKLES] - options[:, 0, ANKLES], axis=-1).max(1) / scale

    unguarded = ankles_off_model(TemporalParams(max_fit_ratio=0))
    assert unguarded[35:].max() > 1.0  # the scenario does inflate the fit
    guarded = ankles_off_model(TemporalParams())
    assert guarded[:20].max() < 0.1 and guarded[35:].max() < 0.2, guarded


def test_triangular_mean_causal_uses_only_the_past():
    from lib_skelext.sequence.filters import triangular_mean

    v = np.arange(10.0)[:, None, None] * np.ones((10, 1, 2))
    frames = np.arange(10)
    causal = triangular_mean(v, frames, 3, centred=False)
    changed = v.copy()
    changed[6:] += 100.0
    np.testing.assert_array_equal(triangular_mean(changed, frames, 3, centred=False)[:6], causal[:6])
    assert causal[5, 0, 0] == pytest.approx((5 * 3 + 4 * 2 + 3 * 1) / 6)  # weights window - age
    centred = triangular_mean(v, frames, 3, centred=True)
    assert centred[5, 0, 0] == pytest.approx(5.0)  # symmetric weights on a line: no lag
    gaps = v.copy()
    gaps[4, 0] = np.nan
    assert np.isfinite(triangular_mean(gaps, frames, 3, centred=False)).all()


def test_causal_never_looks_ahead(mean_pose):
    """Frames 0..k come out the same whatever follows them; offline output does change."""
    frames, _ = waist_up_clip(mean_pose, n=60, speed=(2.0, 0.5))
    k = 30
    full = completed_xy(complete_sequence(frames))
    head = completed_xy(complete_sequence(frames[:k]))
    # equal up to float32 rounding of the batched forward pass (batch size differs)
    np.testing.assert_allclose(full[:k], head, rtol=0, atol=1e-4)
    off_full = completed_xy(complete_sequence(frames, mode="offline"))
    off_head = completed_xy(complete_sequence(frames[:k], mode="offline"))
    assert np.abs(off_full[:k] - off_head).max() > 0.01


def test_detected_points_bit_identical_unless_smoothing(mean_pose):
    frames, truth = waist_up_clip(mean_pose, n=40)
    for mode in ("causal", "offline"):
        for got, given in zip(complete_sequence(frames, mode=mode), frames):
            person, src = got.frame.people[0], given.people[0]
            vis = src.body[:, 2] > 0
            assert np.array_equal(person.body[vis], src.body[vis])
            assert person.completed.sum() == (~vis).sum()
    smooth = complete_sequence(frames, smooth_detected=True)
    vis = frames[0].people[0].body[:, 2] > 0
    raw = np.array([f.people[0].body[vis, :2] for f in frames])
    smoothed = np.array([r.frame.people[0].body[vis, :2] for r in smooth])
    assert not np.array_equal(raw, smoothed)
    assert second_difference(smoothed).mean() < 0.5 * second_difference(raw).mean()


def test_plain_detection_keeps_points_and_gets_ids(mean_pose):
    frames, _ = waist_up_clip(mean_pose, n=10)
    results = complete_sequence(frames, PipelineSettings(complete=False))
    for got, given in zip(results, frames):
        assert np.array_equal(got.frame.people[0].body, given.people[0].body)
        assert got.frame.people[0].extra["skelext"]["track_id"] == 0


def test_canvas_mode_is_one_transform_for_the_clip(mean_pose):
    frames, _ = waist_up_clip(mean_pose, n=20, speed=(1.0, 0.0))
    results = complete_sequence(frames, PipelineSettings(canvas="expand"))
    assert len({(r.frame.canvas_width, r.frame.canvas_height) for r in results}) == 1
    assert results[0].frame.canvas_height > 260  # grown to hold the completed legs
    assert len({(r.transform.offset_x, r.transform.offset_y, r.transform.scale) for r in results}) == 1


# ------------------------------------------------------------------ bad input
def test_frames_of_different_canvas_sizes_are_one_clear_error(mean_pose):
    frames, _ = waist_up_clip(mean_pose, n=3)
    frames[2] = PoseFrame(frames[2].people, 401, 260)
    with pytest.raises(SkelextError, match=r"share one canvas size: frame 0 is 400x260, frame 2 is 401x260"):
        complete_sequence(frames)


@pytest.mark.parametrize("frames", [[], None, "frames"])
def test_empty_sequence_is_an_error(frames):
    with pytest.raises(SkelextError, match="empty sequence|expected a PoseFrame"):
        complete_sequence(frames)


def test_frames_without_people_are_gaps_not_errors(mean_pose):
    frames, _ = waist_up_clip(mean_pose, n=30)
    for t in (10, 11, 12):
        frames[t] = PoseFrame([], 400, 260)
    results = complete_sequence(frames, PipelineSettings(bridge_gap=0))  # bridging off: the hole stays
    assert [len(r.frame.people) for r in results].count(0) == 3
    assert {tuple(t) for t in tracks_of(results) if t} == {(0,)}


def test_bad_mode_is_an_error(mean_pose):
    frames, _ = waist_up_clip(mean_pose, n=3)
    with pytest.raises(SkelextError, match="causal, offline"):
        complete_sequence(frames, mode="sideways")


def test_a_persons_completion_uses_only_their_own_history(mean_pose):
    """Person A's completed points are the same whether or not person B (waist-up too, jittery)
    shares the clip: each track is filtered on its own."""
    frames_a, _ = waist_up_clip(mean_pose, n=40, seed=1)
    frames_b, _ = waist_up_clip(mean_pose, n=40, seed=2, speed=(0.0, 0.0))
    both = []
    for fa, fb in zip(frames_a, frames_b):
        b = fb.people[0].body.copy()
        b[b[:, 2] > 0, 0] += 1000  # B stands far to the right
        both.append(PoseFrame([Person(body=b), fa.people[0]], 1600, 260))
    alone = [PoseFrame(f.people, 1600, 260) for f in frames_a]
    with_b = completed_xy(complete_sequence(both), person=1)
    only_a = completed_xy(complete_sequence(alone))
    np.testing.assert_allclose(with_b, only_a, rtol=0, atol=1e-4)
