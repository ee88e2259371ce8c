"""Steady completion of one tracked person over frames.

Coordinates: input and output in pixels; the filtering happens in *body units*: each
frame's pixels are mapped onto the person's running template (their whole body as
estimated so far) by a scale and a translation fitted to the points visible in that
frame (weighted by how well the template knows each: a point seen so far only as a
completion barely counts), so a panning or zooming camera, or a person walking, moves the frame and
not the pose. In body units (about one torso length):

1. hypothesis choice: the model's ranked completions (``rank_completions``) of each
   frame are candidates; choosing one costs -log(score) plus min((d / switch_scale)^2,
   switch_cost), d the mean distance of its completed points from the candidate chosen in
   the previous frame (causal: greedy; offline: Viterbi over the whole track). Near-even
   alternatives therefore do not flip from frame to frame; a mode the model clearly
   prefers (score ratio > e^switch_cost) is taken at once, and completed points glide
   there at most ``max_step`` per frame.
2. filtering: every point is a random walk measured by the detector when visible
   (``r_visible``) and by the chosen completion when missing (``r_model``), so a point
   that leaves the frame continues from where it was last seen. The walk's variance
   grows while the visible points move in body units (a still body keeps still
   completions; a walking one lets them follow the model). The body frame
   (log scale, offset) is a constant-velocity filter (no lag on a steady pan).
   Causal: Kalman filter (frame t uses frames <= t); offline: RTS smoother (both sides).
3. following a moving body: that filter makes a still body's completion steady and lets it
   use the whole history, but when the body itself moves (walking, jumping) any averaging in
   body units trails the model and blurs the cues (an arm swing tells the leg phase) that
   make per-frame completion right. So the completed points are blended towards a short
   triangular-weighted average of the chosen completions in pixels (``follow_window``
   frames), with weight min(1, speed / follow_speed), speed the visible points' own motion in
   body units (``filters.body_speed``, which cancels detector noise). Then no completed point
   moves more than ``max_step`` per frame relative to the visible body (``filters.glide_limit``), in a body
   unit that the template fit alone cannot inflate (``unit_window``).
   What each choice moved, measured: docs/video.md.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Optional

import numpy as np

from .filters import (RandomWalkFilter, VelocityFilter, body_speed, ema, glide_limit, running_median,
                      triangular_mean)

N = 18


@dataclass(frozen=True)
class TemporalParams:
    """Variances in body units squared (about torso lengths), per frame. Tuned on validation people."""

    r_visible: float = 0.03 ** 2
    r_model: float = 0.12 ** 2
    q_pose: float = 0.003 ** 2
    r_frame: float = 0.03 ** 2
    q_frame: float = 0.003 ** 2
    #: the pose may change faster while the visible points move in body units: q = q_pose + (gain * speed)^2,
    #: speed^2 = mean square of an exponential average (weight ``motion_ema``) of their per-frame motion,
    #: less what detector noise of variance r_visible alone would give
    motion_gain: float = 8.0
    motion_ema: float = 0.1
    #: completed points move at most this many body units (about a torso) per frame relative to the visible
    #: body, in pixels as drawn (a change of mode is a quick glide over a few frames, never a jump; the
    #: body's own motion comes on top)
    max_step: float = 0.15
    switch_cost: float = 1.5
    switch_scale: float = 0.3
    #: template points fitted with fewer than this many shared visible points: the frame restarts
    min_shared: int = 2
    #: a moving body: completed points follow a weighted average of the chosen completions in pixels over
    #: the last ``follow_window`` frames (offline: ``follow_window_offline`` frames centred on each), with
    #: triangular weights; weight of that average against the body-unit filter: min(1, speed / follow_speed),
    #: speed the visible points' own motion in body units per frame (detector noise cancelled, see
    #: ``filters.body_speed``), averaged with weight ``motion_ema2``. A window of 1 frame or less: off.
    follow_window: int = 7
    follow_window_offline: int = 9
    follow_speed: float = 0.03
    motion_ema2: float = 0.1
    #: the glide limit's body unit in pixels is the smaller of the filtered frame's scale and the median of
    #: the model's own per-frame scale over the last this many model runs (offline too: a centred median
    #: measured worse on validation, moving-pose error 0.332 vs 0.327).
    #: When the few visible points change shape (an elbow swinging out, shoulders turning), the template
    #: fit reads it as growth and its scale can inflate several times over, which let completed legs leap;
    #: the model's own scale inflates less and its median hardly at all.
    unit_window: int = 30
    #: a frame whose template fit gives a scale more than this many times above or below the median of the
    #: model's own per-frame scale over the last ``unit_window`` model runs restarts the template from the
    #: model's completion (as a frame with too few shared points does): with only neck and shoulders in view,
    #: their changing shape once inflated the fit 14-fold and held the completed ankles 3 torsos off for 10
    #: frames. On validation 3 measured best (moving poses 0.337 -> 0.335, others unchanged; 2: pan/zoom
    #: worse); 0: off.
    max_fit_ratio: float = 3.0


class TrackOutput(NamedTuple):
    """xy (T, 18, 2) px: filtered body (NaN where never estimated); chosen (T,) option index, -1: none."""

    xy: np.ndarray
    chosen: np.ndarray


#: Weight of each body point in the frame fit: head and torso steady, elbows and knees less, hands and feet
#: least (they swing, and detectors lose and guess them most).
FIT_WEIGHT = np.array([1, 1, 1, .7, .5, 1, .7, .5, 1, .7, .5, 1, .7, .5, 1, 1, 1, 1], float)


def _fit(template: np.ndarray, xy: np.ndarray, w: np.ndarray) -> Optional[tuple]:
    """Scale + translation mapping template (n, 2) body units onto xy (n, 2) px: weighted (w (n,))
    centroids and RMS spreads, as the model's normalisation."""
    n = w.sum()
    tc, xc = (template * w[:, None]).sum(0) / n, (xy * w[:, None]).sum(0) / n
    st = (((template - tc) ** 2).sum(-1) * w).sum()
    sx = (((xy - xc) ** 2).sum(-1) * w).sum()
    if st < 1e-8 or sx < 1e-12:
        return None
    s = float(np.sqrt(sx / st))
    return s, xc - s * tc


def _choice_cost(cands: np.ndarray, ref: np.ndarray, use: np.ndarray, p: TemporalParams) -> np.ndarray:
    """(M,) transition cost of candidates (M, 18, 2) from ref (18, 2) over points ``use`` (18,) bool."""
    if not use.any():
        return np.zeros(len(cands))
    d = np.sqrt(((cands[:, use] - ref[use]) ** 2).sum(-1)).sum(-1) / use.sum()
    return np.minimum((d / p.switch_scale) ** 2, p.switch_cost)


def _viterbi(cands: np.ndarray, emit: np.ndarray, miss: np.ndarray, valid: np.ndarray, p: TemporalParams) -> np.ndarray:
    """Offline choice: cands (T, M, 18, 2) body units, emit (T, M) costs (inf: unused), miss (T, 18).
    Frames with ``valid`` False are skipped (chain continues across them)."""
    idx = np.nonzero(valid)[0]
    chosen = np.full(len(cands), -1)
    if not len(idx):
        return chosen
    m = cands.shape[1]
    back = np.zeros((len(idx), m), int)
    delta = emit[idx[0]].copy()
    for n in range(1, len(idx)):
        a, b = idx[n - 1], idx[n]
        use = miss[a] & miss[b]
        if use.any():
            d = np.sqrt(((cands[a][:, None, use] - cands[b][None, :, use]) ** 2).sum(-1)).sum(-1) / use.sum()  # (M, M)
            trans = np.minimum((d / p.switch_scale) ** 2, p.switch_cost)
        else:
            trans = np.zeros((m, m))
        total = delta[:, None] + trans
        back[n] = np.argmin(total, 0)
        delta = total[back[n], np.arange(m)] + emit[b]
    j = int(np.argmin(delta))
    for n in range(len(idx) - 1, -1, -1):
        chosen[idx[n]] = j
        j = back[n, j]
    return chosen


def complete_track(xy: np.ndarray, visible: np.ndarray, frame_index: np.ndarray, options_px: np.ndarray,
                   scores: np.ndarray, ok: np.ndarray, init_frame: np.ndarray, *, offline: bool = False,
                   params: Optional[TemporalParams] = None) -> TrackOutput:
    """One person's frames -> steady bodies.

    xy (T, 18, 2) px, visible (T, 18) bool (the given points), frame_index (T,) increasing ints,
    options_px (T, M, 18, 2) ranked completions px (visible points hold the input), scores (T, M)
    (0: unused option), ok (T,) whether the model ran, init_frame (T, 3) the model's own
    normalisation (scale px per unit, offset x, y px) to start the template from.
    """
    p = params or TemporalParams()
    t_len = len(xy)
    miss = ~visible
    with np.errstate(divide="ignore"):
        emit = np.where(scores > 0, -np.log(np.maximum(scores, 1e-300)), np.inf)
    pose = RandomWalkFilter(2 * N, p.q_pose)
    frame = VelocityFilter(3, p.q_frame)
    s0 = None
    cands = np.full(options_px.shape, np.nan)
    meas = np.full((t_len, N, 2), np.nan)  # visible points in body units
    raw = np.full((t_len, 3), np.nan)
    chosen = np.full(t_len, -1)
    steps = []  # (t, pose estimate (18, 2), frame estimate (3,)) per filter step
    last_f = None
    r_vis = np.full((N, 2), p.r_visible)
    vel = np.zeros((N, 2))  # exponential average of the visible points' motion, body units per frame
    prev_meas, prev_vis, last_choice = None, None, None
    noise2 = 4.0 * p.r_visible * p.motion_ema / (2.0 - p.motion_ema)  # E|vel|^2 of a still point
    qs = np.zeros(t_len)
    model_unit = np.full(t_len, np.nan)  # median of the model's own scale over its last unit_window runs
    model_unit[ok] = running_median(init_frame[ok, 0], p.unit_window, centred=False)
    for t in range(t_len):
        dt = 1.0 if last_f is None else float(frame_index[t] - last_f)
        if not ok[t]:
            continue
        last_f = frame_index[t]
        q = pose.x.reshape(N, 2)
        shared = visible[t] & np.isfinite(q[:, 0])
        if shared.sum() >= p.min_shared:  # points known only from completions barely count (precision weights)
            var = pose.p.reshape(N, 2).sum(1)[shared] / 2
            fit = _fit(q[shared], xy[t, shared], FIT_WEIGHT[shared] * p.r_visible / (p.r_visible + var))
        else:
            fit = None
        if fit is not None and p.max_fit_ratio > 0 and not (
                model_unit[t] / p.max_fit_ratio <= fit[0] <= model_unit[t] * p.max_fit_ratio):
            fit = None  # the template fit has run away from the body's size: restart it
        if fit is None:  # start (or restart) the template from this frame's best completion
            s, o = float(init_frame[t, 0]), init_frame[t, 1:]
            pose = RandomWalkFilter(2 * N, p.q_pose) if not steps else _restart(pose, p)
        else:
            s, o = fit
        if s0 is None:
            s0 = s
        cands[t] = (options_px[t] - o) / s
        meas[t][visible[t]] = (xy[t, visible[t]] - o) / s
        raw[t] = [np.log(s / s0), o[0] / s0, o[1] / s0]
        if offline:
            j = int(np.argmin(emit[t]))  # provisional (template only); Viterbi decides below
        elif last_choice is None:
            j = int(np.argmin(emit[t]))
        else:
            j = int(np.argmin(emit[t] + _choice_cost(cands[t], last_choice, miss[t], p)))
        chosen[t] = j
        last_choice = cands[t, j]
        qs[t] = p.q_pose
        if prev_meas is not None:
            both = visible[t] & prev_vis
            if both.any():
                vel[both] += p.motion_ema * ((meas[t, both] - prev_meas[both]) / dt - vel[both])
                speed2 = float((vel[both] ** 2).sum() / both.sum()) - noise2  # minus what jitter alone gives
                qs[t] = p.q_pose + p.motion_gain ** 2 * max(speed2, 0.0)
        prev_meas, prev_vis = meas[t], visible[t]
        z = np.where(visible[t][:, None], meas[t], cands[t, j])
        r = np.where(visible[t][:, None], r_vis, p.r_model)
        est = pose.step(z.ravel(), r.ravel(), dt, qs[t]).reshape(N, 2)
        fr = frame.step(raw[t], np.full(3, p.r_frame), dt)
        steps.append((t, est, fr))
    out = np.full((t_len, N, 2), np.nan)
    if not steps:
        return TrackOutput(out, chosen)
    ts = np.array([s[0] for s in steps])
    speed = np.zeros(t_len)  # the visible points' own motion, body units per frame
    speed[ts] = body_speed(meas[ts], visible[ts], p.motion_ema2)
    if offline:
        chosen = _viterbi(cands, emit, miss, ok, p)
        pose2 = RandomWalkFilter(2 * N, p.q_pose)
        last_f = None
        for t in ts:
            dt = 1.0 if last_f is None else float(frame_index[t] - last_f)
            last_f = frame_index[t]
            z = np.where(visible[t][:, None], meas[t], cands[t, chosen[t]])
            r = np.where(visible[t][:, None], r_vis, p.r_model)
            pose2.step(z.ravel(), r.ravel(), dt, qs[t])
        poses = pose2.smooth().reshape(-1, N, 2)
        frames = frame.smooth()
    else:
        poses = np.stack([s[1] for s in steps])
        frames = np.stack([s[2] for s in steps])
    scale = np.exp(frames[:, 0]) * s0
    offset = frames[:, None, 1:] * s0
    window = p.follow_window_offline if offline else p.follow_window
    follow = np.minimum(1.0, speed[ts] / p.follow_speed)
    if offline and window > 1:
        follow = 0.5 * (ema(follow, p.motion_ema2) + ema(follow[::-1], p.motion_ema2)[::-1])
    if window > 1 and (follow > 0).any():  # a moving body: follow the model's completions in pixels
        picked = np.where(miss[ts][..., None], options_px[ts, chosen[ts]], np.nan)
        plain = (triangular_mean(picked, frame_index[ts], window, centred=offline) - offset) / scale[:, None, None]
        w = np.where(miss[ts], follow[:, None], 0.0)[..., None]
        poses = np.where(np.isfinite(plain), (1.0 - w) * poses + w * plain, poses)
    unit = np.minimum(scale, model_unit[ts])
    out[ts] = glide_limit(poses * scale[:, None, None] + offset, xy[ts], visible[ts], frame_index[ts], unit,
                           p.max_step)
    return TrackOutput(out, chosen)


def _restart(pose: RandomWalkFilter, p: TemporalParams) -> RandomWalkFilter:
    """A fresh pose filter that keeps the history (for smoothing) but forgets the template."""
    fresh = RandomWalkFilter(2 * N, p.q_pose)
    fresh._hist = pose._hist
    return fresh
