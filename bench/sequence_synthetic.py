"""Sequences made from held-out people: a still pose under a panning / zooming camera with detector jitter.

``make_sequences(split, scenarios, ...)`` returns ``Clip`` objects: the frames (PoseFrames,
pixels, the canvas is the camera's view) and the truth per frame. Used by
``bench_sequence.py`` (test split) and for tuning (validation split); never the training split.
"""
from __future__ import annotations

from typing import List, NamedTuple, Sequence

import numpy as np

from lib_skelext.pose import L_HIP, NECK, R_HIP, Person, PoseFrame

#: torso length in pixels of the people at the start of a clip
TORSO_PX = 110.0


class Clip(NamedTuple):
    """frames: T PoseFrames; gt (T, 18, 2) px; label (18,) bool; torso (T,) px; scenario name."""

    frames: List[PoseFrame]
    gt: np.ndarray
    label: np.ndarray
    torso: np.ndarray
    scenario: str


def _people(split: int):
    from train.evaluate import test_people, upright
    from train.prepare import load_people

    data = load_people()
    xy, label = data["xy"].astype(np.float64), data["label"]
    idx = test_people(data) if split == 2 else _val_people(data)
    idx = idx[upright(xy[idx])]
    return xy[idx], label[idx]


def _val_people(data) -> np.ndarray:
    lab = data["label"]
    ok = (data["split"] == 1) & lab[:, NECK] & lab[:, R_HIP] & lab[:, L_HIP] & (lab.sum(1) >= 4)
    return np.nonzero(ok)[0]


def make_sequences(split: int = 2, scenarios: Sequence[str] = ("waist_up", "knees_up", "side_cut"),
                   n_people: int = 60, length: int = 120, jitter: float = 0.02, seed: int = 0,
                   motion: str = "pan_zoom") -> List[Clip]:
    """Clips of ``length`` frames: for each scenario, ``n_people`` people (split 2 = test, 1 = validation).

    The first frame is ``simulate_crops.scenario_sample``'s cut of the person; the camera then pans at a
    constant speed (up to 0.03 torso per frame sideways, the cut line drifting by up to 0.25 torso over
    the clip) and zooms by up to +-20% (linear in time, about the canvas centre), so the truth's second
    difference is zero. Visible points get Gaussian jitter of ``jitter`` x the person's RMS spread.
    motion "sway": instead, the camera sways sideways, 0.5 torso amplitude, 40-frame period (for the
    delay); "still": no camera motion.
    """
    from train.simulate_crops import _spread, scenario_sample

    xy_all, label_all = _people(split)
    rng = np.random.default_rng(seed)
    clips: List[Clip] = []
    for sc in scenarios:
        pick = rng.choice(len(xy_all), min(n_people, len(xy_all)), replace=False)
        xy, label = xy_all[pick], label_all[pick]
        torso0 = np.linalg.norm(xy[:, NECK] - (xy[:, R_HIP] + xy[:, L_HIP]) / 2, axis=1)
        xy = xy / torso0[:, None, None] * TORSO_PX
        s = scenario_sample(xy, label, sc, rng)
        for b in range(len(xy)):
            x0, y0, x1, y1 = s.rect[b]
            w, h = int(np.ceil(x1 - x0)), int(np.ceil(y1 - y0))
            if w < 8 or h < 8:
                continue
            p0 = s.gt[b] - [x0, y0]
            c = np.array([w / 2, h / 2])
            t = np.arange(length)[:, None, None]
            vel = np.array([rng.uniform(-0.03, 0.03), rng.uniform(-0.25, 0.25) / length]) * TORSO_PX
            zoom = rng.uniform(-0.2, 0.2) / length
            if motion == "morph":  # the body moves: the pose swings to another person's and back
                other = s.gt[(b + 1) % len(xy)] - [x0, y0]
                both = label[b] & label[(b + 1) % len(xy)]
                label[b] = both
                shift = other[NECK] - p0[NECK]
                w_t = 0.5 - 0.5 * np.cos(2 * np.pi * t / 40.0)  # there and back every 40 frames (a gait cycle)
                gt = p0 + w_t * (other - shift - p0)
            elif motion == "sway":
                gt = p0 + np.stack([0.5 * TORSO_PX * np.sin(2 * np.pi * t[..., 0] / 40.0 + rng.uniform(0, 6.3)),
                                    np.zeros_like(t[..., 0], dtype=float)], -1)
            elif motion == "still":
                gt = p0 + 0.0 * t
            else:
                gt = c + (1 + zoom * t) * (p0 - c) + vel * t
            spread = _spread(p0[None], label[b][None])[0]
            frames = []
            for k in range(length):
                g = gt[k]
                vis = label[b] & (g[:, 0] >= 0) & (g[:, 0] < w) & (g[:, 1] >= 0) & (g[:, 1] < h)
                noisy = g + rng.normal(0, jitter * spread, g.shape)
                body = np.zeros((18, 3))
                body[vis, :2], body[vis, 2] = noisy[vis], 1.0
                frames.append(PoseFrame(people=[Person(body=body)] if vis.sum() >= 2 else [],
                                        canvas_width=w, canvas_height=h))
            torso = np.linalg.norm(gt[:, NECK] - (gt[:, R_HIP] + gt[:, L_HIP]) / 2, axis=1)
            clips.append(Clip(frames, gt, label[b].copy(), torso, sc))
    return clips


def morph_sequences(split: int = 2, n_people: int = 60, length: int = 120, seed: int = 2) -> List[Clip]:
    """The body itself moves: each person's pose swings to another person's and back every 40 frames
    (necks aligned), about as fast as limbs move when walking."""
    return make_sequences(split, ("waist_up", "knees_up", "side_cut"), n_people, length, seed=seed, motion="morph")


def sway_sequences(split: int = 2, n_people: int = 60, length: int = 120, seed: int = 1) -> List[Clip]:
    """Waist-up and knees-up people under a camera swaying sideways (the truth moves: measures delay)."""
    return make_sequences(split, ("waist_up", "knees_up"), n_people, length, seed=seed, motion="sway")


def still_clip(length: int, seed: int = 5) -> Clip:
    """One held-out waist-up person, still camera, 2% jitter, ``length`` frames (the speed run)."""
    return make_sequences(2, ("waist_up",), 1, length, seed=seed, motion="still")[0]
