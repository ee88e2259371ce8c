"""Match people across frames: stable track ids, causal (frame t is matched using frames <= t).

Each track remembers its last visible points, its centroid velocity (pixels per frame)
and its body scale (pixels per body unit, ~ a torso length). A person in a new frame is
compared with every track seen within ``max_gap`` frames: the mean distance of the body
points both show, after moving the track by its velocity for the frames in between
(at most ``max_extrapolate``), in body scales. The cheapest pairs are matched first
(greedy); a pair costing more than ``gate + gate_growth * gap`` (capped at ``gate_max``)
is no match, so a person who leaves and comes back near where they left within
``max_gap`` frames gets their old id, and a frame where detection failed only widens
the gate. Unmatched people start new tracks (ids 0, 1, 2, ... in order of appearance).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import numpy as np

from ..completion_model import fit_normalisation
from ..pose import PoseFrame


@dataclass(frozen=True)
class TrackerParams:
    """Distances in body scales (~torso lengths); times in frames."""

    max_gap: int = 60
    max_extrapolate: int = 10
    gate: float = 0.8
    gate_growth: float = 0.1
    gate_max: float = 3.0
    #: a track with fewer shared points than this is compared by centroids, plus this penalty
    centroid_penalty: float = 0.5


@dataclass
class _Track:
    tid: int
    xy: np.ndarray  # (18, 2) px, last seen position of each point (NaN: never seen)
    last: int
    scale: float
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(2))


def body_scales(frames: Sequence[PoseFrame], mean_pose: np.ndarray) -> List[np.ndarray]:
    """Per frame, (people,) pixels per body unit of each person (the model's normalisation;
    the size of the visible points where it cannot be fitted). One vectorised pass."""
    bodies = [p.body for f in frames for p in f.people]
    if not bodies:
        return [np.zeros(0) for _ in frames]
    b = np.stack(bodies)
    vis = b[..., 2] > 0
    s, _, ok = fit_normalisation(b[..., :2], vis, mean_pose)
    with np.errstate(invalid="ignore"):
        lo = np.where(vis[..., None], b[..., :2], np.inf).min(1)
        hi = np.where(vis[..., None], b[..., :2], -np.inf).max(1)
    size = np.nan_to_num((hi - lo).max(1), nan=1.0, posinf=1.0, neginf=1.0)
    s = np.where(ok, s, np.maximum(size, 1.0))
    out, start = [], 0
    for f in frames:
        out.append(s[start:start + len(f.people)])
        start += len(f.people)
    return out


class Tracker:
    """Feed frames in order with ``update``; each call returns the track id of every person."""

    def __init__(self, mean_pose: np.ndarray, params: Optional[TrackerParams] = None) -> None:
        self.mean_pose = np.asarray(mean_pose, np.float64)
        self.p = params or TrackerParams()
        self.tracks: Dict[int, _Track] = {}
        self.next_id = 0

    def _cost(self, track: _Track, xy: np.ndarray, vis: np.ndarray, frame: int) -> float:
        gap = frame - track.last
        shift = track.velocity * min(gap, self.p.max_extrapolate)
        pred = track.xy + shift
        shared = vis & np.isfinite(pred[:, 0])
        if shared.sum() >= 2:
            d = np.sqrt(((pred[shared] - xy[shared]) ** 2).sum(-1)).sum() / (shared.sum() * track.scale)
        else:
            known = np.isfinite(pred[:, 0])
            gap_xy = pred[known].sum(0) / known.sum() - xy[vis].sum(0) / vis.sum()
            d = np.sqrt((gap_xy ** 2).sum()) / track.scale + self.p.centroid_penalty
        limit = min(self.p.gate + self.p.gate_growth * (gap - 1), self.p.gate_max)
        return float(d) if d <= limit else np.inf

    def update(self, frame: PoseFrame, index: int, scales: Optional[np.ndarray] = None) -> List[int]:
        """Track ids (one per person of ``frame``, -1 for people without visible points); index: frame number;
        scales: the people's ``body_scales`` (computed here when not given)."""
        if scales is None:
            scales = body_scales([frame], self.mean_pose)[0]
        people = [(p.body[:, :2], p.body[:, 2] > 0) for p in frame.people]
        for tid in [t for t, tr in self.tracks.items() if index - tr.last > self.p.max_gap]:
            del self.tracks[tid]
        pairs = []
        for i, (xy, vis) in enumerate(people):
            if vis.any():
                for tid, tr in self.tracks.items():
                    c = self._cost(tr, xy, vis, index)
                    if np.isfinite(c):
                        pairs.append((c, i, tid))
        ids = [-1] * len(people)
        used = set()
        for c, i, tid in sorted(pairs):
            if ids[i] < 0 and tid not in used:
                ids[i] = tid
                used.add(tid)
        for i, (xy, vis) in enumerate(people):
            if not vis.any():
                continue
            if ids[i] < 0:
                ids[i] = self.next_id
                self.next_id += 1
                self.tracks[ids[i]] = _Track(ids[i], np.full((18, 2), np.nan), index, float(scales[i]))
            self._observe(self.tracks[ids[i]], xy, vis, index, float(scales[i]))
        return ids

    def _observe(self, tr: _Track, xy: np.ndarray, vis: np.ndarray, index: int, scale: float) -> None:
        shared = vis & np.isfinite(tr.xy[:, 0])  # tr.xy is the track's own array (updated in place)
        if shared.any() and index > tr.last:
            moved = (xy[shared] - tr.xy[shared]).sum(0) / shared.sum()
            tr.velocity = 0.5 * tr.velocity + 0.5 * moved / (index - tr.last)
            tr.xy[~vis] += moved  # points not seen now move with the body
        tr.xy[vis] = xy[vis]
        tr.scale = 0.8 * tr.scale + 0.2 * scale
        tr.last = index


def assign_tracks(frames: Sequence[PoseFrame], mean_pose: np.ndarray,
                  params: Optional[TrackerParams] = None) -> List[List[int]]:
    """Track ids for every person of every frame (frames in time order, consecutive)."""
    tracker = Tracker(mean_pose, params)
    scales = body_scales(frames, mean_pose)
    return [tracker.update(f, i, s) for i, (f, s) in enumerate(zip(frames, scales))]
