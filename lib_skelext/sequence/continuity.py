"""Points that come and go: what keeps a tracked point from leaping when its source changes.

A detector sees a knee at the frame's edge or at its score threshold in some frames and not in
others; each time, the point switches between where the detector put it and where the model
completes it, and the two can lie a torso apart. Two steps, both causal (frame t uses frames <= t):

* ``apply_hysteresis`` (before completion): a point scoring at least ``threshold`` turns on; once
  on, it stays on while it scores at least ``low`` (the surfaces detect sequences at that lower
  threshold). A score wobbling about the threshold no longer flips the point every frame.
* ``blend_switches`` (after completion): where a point's source changes from one frame to the next
  and the two positions lie apart, the point glides from the old position to the new one over a
  few frames (at most ``max_step`` torso lengths per frame, by a decaying offset) instead of
  jumping. Points whose source does not change come back exactly as they were.
"""
from __future__ import annotations

import math
from typing import Dict, Sequence

import numpy as np

from ..pose import PoseFrame, Source, torso_length

#: A sequence is detected at this fraction of the detection threshold; points between it and the
#: threshold count only while their point was already on (hysteresis). On the real-video benchmark
#: (bench/bench_video_continuity.py) 0.8 measured best: knee/ankle jumps 0.96% causal (0.6: 1.03%,
#: no band: 1.00%), error unchanged within 0.001.
HYSTERESIS_LOW = 0.8
#: Largest step (torso lengths per frame) of a point gliding to its new source.
MAX_STEP = 0.08
#: Longest glide, in frames (a far switch then takes bigger steps).
MAX_BLEND = 15


def apply_hysteresis(frames: Sequence[PoseFrame], ids: Sequence[Sequence[int]], threshold: float,
                     low: float) -> None:
    """In place: a tracked point scoring in [low, threshold) stays only while its point was on in the
    track's previous frame; below ``low`` (or untracked and below ``threshold``) it is missing."""
    on: Dict[int, np.ndarray] = {}
    for frame, frame_ids in zip(frames, ids):
        for person, tid in zip(frame.people, frame_ids):
            score = person.body[:, 2]
            present = score > 0
            kept = (score >= threshold) | (present & (score >= low) & on.get(tid, np.zeros(len(score), bool)))
            drop = present & ~kept
            if drop.any():
                person.body[drop] = 0.0
                person.source = np.where(drop, Source.MISSING, person.source).astype(np.uint8)
            if tid >= 0:
                on[tid] = kept


class _Blend:
    """One track's state: last output, sources, and the offsets still gliding out."""

    def __init__(self, n: int) -> None:
        self.frame = -2
        self.xy = np.zeros((n, 2))
        self.source = np.zeros(n, np.uint8)
        self.present = np.zeros(n, bool)
        self.offset = np.zeros((n, 2))
        self.left = np.zeros(n, int)
        self.total = np.ones(n, int)


def blend_switches(frames: Sequence[PoseFrame], ids: Sequence[Sequence[int]], *, max_step: float = MAX_STEP,
                   max_blend: int = MAX_BLEND) -> int:
    """In place: each tracked point whose source (detected / completed) changed since the track's
    previous frame glides from its previous position to its new one; -> how many glides started.

    A switch at frame t with the two positions d apart (|d| > step = ``max_step`` torso lengths; closer
    ones are shown as they are) starts a glide of n = ceil(|d| / step) frames (at most ``max_blend``):
    frame t + k shows the new position plus d (n - k) / (n + 1), so each frame moves |d| / (n + 1) < step
    on top of the body's own motion.
    A track that skips a frame, or a point that goes missing, ends its glides."""
    states: Dict[int, _Blend] = {}
    started = 0
    for f, (frame, frame_ids) in enumerate(zip(frames, ids)):
        for person, tid in zip(frame.people, frame_ids):
            if tid < 0:
                continue
            body, source = person.body, person.source
            state = states.setdefault(tid, _Blend(len(body)))
            present = body[:, 2] > 0
            if state.frame != f - 1:
                state.left[:] = 0
            unit = torso_length(body)
            if state.frame == f - 1 and unit:
                kinds = (source == Source.DETECTED) | (source == Source.COMPLETED)
                for i in np.flatnonzero(present & state.present & kinds & (source != state.source)):
                    d = state.xy[i] - body[i, :2]
                    distance = float(np.hypot(*d))
                    if distance <= max_step * unit:  # a step no bigger than a glide's: shown as it is
                        state.left[i] = 0
                        continue
                    n = min(max_blend, math.ceil(distance / (max_step * unit)))
                    state.offset[i], state.total[i], state.left[i] = d, n + 1, n
                    started += 1
            state.left[~present] = 0
            active = state.left > 0
            if active.any():
                body = body.copy()
                body[active, :2] += state.offset[active] * (state.left[active] / state.total[active])[:, None]
                person.body = body
                person.origin = None
                state.left[active] -= 1
            state.frame, state.xy, state.source, state.present = f, body[:, :2].copy(), source.copy(), present
    return started
