"""Realistic truncation of real poses: frame cuts, occluders, detector noise, flips.

All functions are vectorised numpy over a batch of people:
    xy (B, 18, 2) pixels, label (B, 18) bool (the source labels the point).
They return a ``Sample``: the augmented ground truth, which points are given to
the model (``visible``), the noisy input coordinates and the visible frame
rectangle. A point is visible only if it is labelled, inside the frame and not
hidden; the loss uses labelled points that are not visible.

``scenario_sample`` makes the fixed evaluation cases (head-and-shoulders,
chest-up, waist-up, knees-up, side cut, random hidden points, random frame).
"""
from __future__ import annotations

import warnings
from typing import NamedTuple, Tuple

import numpy as np

from lib_skelext.pose import (BODY_FLIP, L_ANKLE, L_ELBOW, L_HIP, L_KNEE, L_SHOULDER, L_WRIST, NECK, R_ANKLE,
                              R_ELBOW, R_HIP, R_KNEE, R_SHOULDER, R_WRIST)

FACE = np.array([0, 14, 15, 16, 17])
#: Point groups an object inside the frame typically hides.
OCCLUDERS = (
    (R_WRIST,), (L_WRIST,), (R_ELBOW, R_WRIST), (L_ELBOW, L_WRIST), (R_ANKLE,), (L_ANKLE,),
    (R_KNEE, R_ANKLE), (L_KNEE, L_ANKLE), (R_SHOULDER, R_ELBOW, R_WRIST), (L_SHOULDER, L_ELBOW, L_WRIST),
    (R_HIP, R_KNEE, R_ANKLE), (L_HIP, L_KNEE, L_ANKLE), (R_KNEE, R_ANKLE, L_KNEE, L_ANKLE),
    (R_HIP, R_KNEE, R_ANKLE, L_HIP, L_KNEE, L_ANKLE),
)
SCENARIOS = ("head_shoulders", "chest_up", "waist_up", "knees_up", "side_cut", "hidden_1to4", "hidden_wide_frame",
             "random_frame", "any_height", "bottom_anywhere", "side_anywhere", "two_edges")
#: Kinds of ``anywhere_frames``: a bottom cut, a side cut, points hidden inside, a bottom and a side cut at once.
ANYWHERE_KINDS = ("bottom", "side", "hidden", "two_edges")


class Sample(NamedTuple):
    """gt (B, 18, 2) px; label, visible (B, 18) bool; inp (B, 18, 2) px (noisy visible points);
    rect (B, 4) x0, y0, x1, y1 px."""

    gt: np.ndarray
    label: np.ndarray
    visible: np.ndarray
    inp: np.ndarray
    rect: np.ndarray


def _spread(xy: np.ndarray, label: np.ndarray) -> np.ndarray:
    w = label.astype(np.float64)
    n = np.maximum(w.sum(1), 1.0)
    c = (xy * w[..., None]).sum(1) / n[:, None]
    return np.sqrt((((xy - c[:, None]) ** 2).sum(-1) * w).sum(1) / n) + 1e-6


def _bbox(xy: np.ndarray, label: np.ndarray) -> np.ndarray:
    big = 1e12
    x = np.where(label, xy[..., 0], np.nan)
    y = np.where(label, xy[..., 1], np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        box = np.stack([np.nanmin(x, 1), np.nanmin(y, 1), np.nanmax(x, 1), np.nanmax(y, 1)], 1)
    return np.nan_to_num(box, nan=0.0, posinf=big, neginf=-big)


def augment(xy: np.ndarray, label: np.ndarray, rng: np.random.Generator) -> tuple:
    """Left/right-consistent flip, small rotation, aspect change and scale about the centroid."""
    xy = np.array(xy, np.float64)
    label = np.array(label, bool)
    b = len(xy)
    flip = rng.random(b) < 0.5
    idx = np.array(BODY_FLIP)
    xy[flip] = xy[flip][:, idx]
    label[flip] = label[flip][:, idx]
    xy[flip, :, 0] *= -1
    w = label.astype(np.float64)
    c = (xy * w[..., None]).sum(1) / np.maximum(w.sum(1), 1)[:, None]
    rel = xy - c[:, None]
    ang = np.where(rng.random(b) < 0.6, rng.normal(0, np.deg2rad(8), b), 0.0)
    ang = np.where(rng.random(b) < 0.04, rng.uniform(-np.pi / 3, np.pi / 3, b), ang)
    ca, sa = np.cos(ang), np.sin(ang)
    rx = ca[:, None] * rel[..., 0] - sa[:, None] * rel[..., 1]
    ry = sa[:, None] * rel[..., 0] + ca[:, None] * rel[..., 1]
    aspect = np.exp(rng.normal(0, 0.1, b))
    scale = np.exp(rng.uniform(-1.0, 1.0, b)) * 100.0 / _spread(xy, label)
    out = np.stack([rx * aspect[:, None], ry], -1) * scale[:, None, None]
    out += rng.uniform(100, 1000, (b, 1, 2))
    out[~label] = 0.0
    return out, label


def _visible_in(xy: np.ndarray, label: np.ndarray, rect: np.ndarray) -> np.ndarray:
    x, y = xy[..., 0], xy[..., 1]
    return label & (x >= rect[:, :1]) & (x < rect[:, 2:3]) & (y >= rect[:, 1:2]) & (y < rect[:, 3:4])


def random_frames(xy: np.ndarray, label: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Frame rectangles (B, 4): each edge either a margin outside the body or a cut through it."""
    b = len(xy)
    ref = _spread(xy, label)
    box = _bbox(xy, label)
    w, h = box[:, 2] - box[:, 0], box[:, 3] - box[:, 1]
    # per edge: near (60%), mid (20%) or far (20%, log-uniform up to 40x: a small person on a big canvas,
    # whose normalised frame is clipped to +-RECT_CLIP and must read as "no constraint")
    u = rng.random((b, 4))
    margin = np.where(u < 0.6, rng.uniform(0.03, 0.8, (b, 4)),
                      np.where(u < 0.8, rng.uniform(0.8, 3.0, (b, 4)), np.exp(rng.uniform(np.log(3.0), np.log(40.0), (b, 4)))))
    margin = margin * ref[:, None]
    rect = box + margin * np.array([-1, -1, 1, 1])
    cut = rng.random((b, 4)) < np.array([0.18, 0.12, 0.18, 0.6])
    rect[:, 0] = np.where(cut[:, 0], box[:, 0] + rng.uniform(0.05, 0.6, b) * w, rect[:, 0])
    rect[:, 2] = np.where(cut[:, 2], box[:, 2] - rng.uniform(0.05, 0.6, b) * w, rect[:, 2])
    rect[:, 1] = np.where(cut[:, 1], box[:, 1] + rng.uniform(0.05, 0.5, b) * h, rect[:, 1])
    rect[:, 3] = np.where(cut[:, 3], box[:, 1] + rng.uniform(0.08, 0.97, b) * h, rect[:, 3])
    bad = rect[:, 2] - rect[:, 0] < 0.05 * ref
    rect[bad, 0], rect[bad, 2] = box[bad, 0] - margin[bad, 0], box[bad, 2] + margin[bad, 2]
    bad = rect[:, 3] - rect[:, 1] < 0.05 * ref
    rect[bad, 1], rect[bad, 3] = box[bad, 1] - margin[bad, 1], box[bad, 3] + margin[bad, 3]
    return rect


#: Photo framings: name -> (share, landmark the bottom edge is set from, jitter window in torso lengths or,
#: for "between" framings, as a fraction of the next bone). Standard shots (close-up, medium close-up,
#: medium, American/knee shot) cut near a landmark; thighs/shins fill the space between them.
FRAMINGS = {
    "head_shoulders": (0.2, "neck", (0.05, 0.45)),
    "chest_up": (0.2, "neck", (0.35, 0.75)),
    "waist_up": (0.2, "hip", (-0.25, 0.2)),
    "thighs_up": (0.1, "hip>knee", (0.2, 0.8)),
    "knees_up": (0.2, "knee", (-0.2, 0.2)),
    "shins_up": (0.1, "knee>ankle", (0.2, 0.85)),
}
#: Share of framed views whose left or right edge cuts through the body too (an arm leaves the frame).
FRAMING_SIDE_CUT = 0.15


def _mean_y(xy: np.ndarray, label: np.ndarray, joints) -> np.ndarray:
    """(B,) mean y of the labelled joints among ``joints`` (NaN where none is labelled)."""
    y = np.where(label[:, list(joints)], xy[:, list(joints), 1], np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(y, 1)


def framing_frames(xy: np.ndarray, label: np.ndarray, rng: np.random.Generator) -> tuple:
    """Photo-like frames of upright people: the bottom edge at a standard framing height.

    Photographers frame people at a few heights (``FRAMINGS``), so a frame edge
    near the knees says "knee shot" and the knees lie just beyond it. The cut
    height comes from the person's own landmarks (neck, mid-hip, knees, ankles)
    with a jitter window around each framing that is wider than the evaluation's;
    the sides hug what is left above the cut with a random margin (now and then,
    ``FRAMING_SIDE_CUT``, an arm is cut too) and the top leaves a random headroom.
    Returns rect (B, 4) px and ok (B,) bool: False for people who are not upright
    or lack the landmarks of the drawn framing (callers give them another frame).
    """
    b = len(xy)
    y = {"neck": np.where(label[:, NECK], xy[:, NECK, 1], np.nan), "hip": _mean_y(xy, label, (R_HIP, L_HIP)),
         "knee": _mean_y(xy, label, (R_KNEE, L_KNEE)), "ankle": _mean_y(xy, label, (R_ANKLE, L_ANKLE))}
    torso = y["hip"] - y["neck"]  # y down: positive when upright
    shares = np.array([v[0] for v in FRAMINGS.values()])
    kind = rng.choice(len(FRAMINGS), b, p=shares / shares.sum())
    u = rng.random(b)
    cut = np.full(b, np.nan)
    ok = np.zeros(b, bool)
    with np.errstate(invalid="ignore"):
        for k, (_, landmark, (lo, hi)) in enumerate(FRAMINGS.values()):
            m = kind == k
            t = lo + (hi - lo) * u[m]
            if ">" in landmark:  # between two landmarks: a fraction of that bone, which must point down
                a, z = (y[n][m] for n in landmark.split(">"))
                cut[m] = a + t * (z - a)
                ok[m] = z > a
            else:
                cut[m] = y[landmark][m] + t * torso[m]
                ok[m] = True
        ok &= np.isfinite(cut) & np.isfinite(torso) & (torso > 0.3 * _spread(xy, label))
    cut = np.where(ok, cut, 0.0)
    above = label & (xy[..., 1] < cut[:, None])
    ok &= above.sum(1) >= 2
    t = np.where(ok, torso, 1.0)
    box = _bbox(xy, above)
    margin = rng.uniform(0.05, 0.8, (b, 3)) * t[:, None]
    rect = np.stack([box[:, 0] - margin[:, 0], box[:, 1] - margin[:, 1], box[:, 2] + margin[:, 2], cut], 1)
    side = rng.random(b) < FRAMING_SIDE_CUT
    left = rng.random(b) < 0.5
    inner = rng.uniform(0.05, 0.35, b) * (box[:, 2] - box[:, 0])
    rect[:, 0] = np.where(side & left, box[:, 0] + inner, rect[:, 0])
    rect[:, 2] = np.where(side & ~left, box[:, 2] - inner, rect[:, 2])
    return rect, ok


def _edge_between(coord: np.ndarray, label: np.ndarray, cut: np.ndarray, rng: np.random.Generator,
                  keep_below: bool) -> np.ndarray:
    """Move each cut to a uniform place between the last kept and the first removed point along ``coord``.

    coord (B, 18) one axis of the points; keep_below: the points with coord < cut stay visible
    (a bottom or right edge), else those with coord >= cut (a top or left edge). Returns the new cut (B,).
    """
    big = 1e12
    kept = label & ((coord < cut[:, None]) if keep_below else (coord >= cut[:, None]))
    gone = label & ~kept
    if keep_below:
        last = np.where(kept, coord, -big).max(1)
        first = np.where(gone, coord, big).min(1)
    else:
        last = np.where(kept, coord, big).min(1)
        first = np.where(gone, coord, -big).max(1)
    ok = (np.abs(last) < big) & (np.abs(first) < big)
    lo, hi = np.minimum(last, first), np.maximum(last, first)
    u = rng.uniform(0.0, 1.0, len(cut))
    new = lo + u * (hi - lo)
    if keep_below:  # strictly beyond the last kept point (visible means coord < edge)
        new = np.maximum(new, np.nextafter(last, big))
    return np.where(ok, new, cut)


def anywhere_frames(xy: np.ndarray, label: np.ndarray, rng: np.random.Generator, kind: np.ndarray) -> tuple:
    """Frames that follow no framing habit: the cut edge anywhere between the last visible and the first cut point.

    kind (B,) int index into ``ANYWHERE_KINDS``: "bottom" cuts at 20-90% of the body's
    height, "side" cuts 15-40% of its width (of what a bottom cut keeps) off the left or right, "hidden" keeps the
    whole body in the frame and hides 1-4 points inside it, "two_edges" does a bottom
    and a side cut at once. Each cut edge is then moved to a uniform place between the
    last point it keeps and the first point it removes (so the edge says little about
    how far beyond it the missing points lie), and the other edges leave 2-65% of the
    visible part's size (per axis) beyond it. Returns rect (B, 4) px and hide (B, 18) bool.
    """
    b = len(xy)
    box = _bbox(xy, label)
    h = np.maximum(box[:, 3] - box[:, 1], 1e-6)
    bottom = (kind == 0) | (kind == 3)
    side = (kind == 1) | (kind == 3)
    right = rng.random(b) < 0.5
    cut_y = np.where(bottom, box[:, 1] + rng.uniform(0.2, 0.9, b) * h, np.inf)
    cut_y = np.where(bottom, _edge_between(xy[..., 1], label, cut_y, rng, True), cut_y)
    frac = rng.uniform(0.15, 0.4, b)
    inside_y = label & (xy[..., 1] < cut_y[:, None])  # the side cut is placed among the points the bottom keeps
    kept = _bbox(xy, inside_y)
    kw = kept[:, 2] - kept[:, 0]
    cut_r = np.where(side & right, kept[:, 2] - frac * kw, np.inf)
    cut_l = np.where(side & ~right, kept[:, 0] + frac * kw, -np.inf)
    cut_r = np.where(side & right, _edge_between(xy[..., 0], inside_y, cut_r, rng, True), cut_r)
    cut_l = np.where(side & ~right, _edge_between(xy[..., 0], inside_y, cut_l, rng, False), cut_l)
    vis = inside_y & (xy[..., 0] < cut_r[:, None]) & (xy[..., 0] >= cut_l[:, None])
    vis = np.where((vis.sum(1) >= 1)[:, None], vis, label)
    vbox = _bbox(xy, vis)
    size = np.stack([vbox[:, 2] - vbox[:, 0], vbox[:, 3] - vbox[:, 1]], 1)
    size = np.maximum(size, 0.3 * size.max(1, keepdims=True) + 1e-6)
    margin = rng.uniform(0.02, 0.65, (b, 4)) * np.concatenate([size, size], 1)
    rect = vbox + margin * np.array([-1, -1, 1, 1])
    rect[:, 3] = np.where(bottom, cut_y, rect[:, 3])
    rect[:, 2] = np.where(side & right, cut_r, rect[:, 2])
    rect[:, 0] = np.where(side & ~right, cut_l, rect[:, 0])
    hide = np.zeros_like(label)
    for i in np.nonzero(kind == 2)[0]:
        cand = np.nonzero(label[i])[0]
        k = min(int(rng.integers(1, 5)), len(cand) - 2)
        if k > 0:
            hide[i, rng.choice(cand, k, replace=False)] = True
    return rect, hide


def hide_inside(visible: np.ndarray, rng: np.random.Generator, p: float = 0.45) -> np.ndarray:
    """Hide occluder groups or 1-4 random points among the visible ones (people behind objects)."""
    vis = visible.copy()
    b = len(vis)
    do = rng.random(b) < p
    groups = rng.integers(0, len(OCCLUDERS) + 3, b)  # the last 3 choices: random points
    for i in np.nonzero(do)[0]:
        g = groups[i]
        if g < len(OCCLUDERS):
            vis[i, list(OCCLUDERS[g])] = False
        else:
            cand = np.nonzero(vis[i])[0]
            k = min(int(rng.integers(1, 5)), max(len(cand) - 2, 0))
            if k > 0:
                vis[i, rng.choice(cand, k, replace=False)] = False
    return vis


def _finish(gt, label, visible, rect, rng, noise: bool, jitter_share: float = 0.6, jitter_max: float = 0.04) -> Sample:
    """Guarantee >= 2 visible points (else show every labelled point), add detector noise."""
    few = visible.sum(1) < 2
    if few.any():
        box = _bbox(gt[few], label[few])
        pad = 0.2 * _spread(gt[few], label[few])[:, None]
        rect[few] = box + pad * np.array([-1, -1, 1, 1])
        visible[few] = label[few]
    inp = gt.copy()
    if noise:
        b = len(gt)
        jit = np.where(rng.random(b) < jitter_share, rng.uniform(0, jitter_max, b), 0.0) * _spread(gt, label)
        inp += rng.normal(size=gt.shape) * jit[:, None, None]
    inp[~visible] = 0.0
    return Sample(gt, label, visible, inp, rect)


def training_sample(xy: np.ndarray, label: np.ndarray, rng: np.random.Generator, jitter_share: float = 0.6,
                    jitter_max: float = 0.04, framing_share: float = 0.0, hide_share: float = 0.45,
                    drop_max: float = 0.06, anywhere_share: float = 0.0) -> Sample:
    """One random training view of each person: augmentation, frame, occluders, detector noise.

    framing_share of the people get a photo-like framing (``framing_frames``)
    where they are upright, the others a random frame (``random_frames``);
    hide_share get occluders inside the frame; each point is dropped (a
    detector's low-confidence miss) with a probability drawn up to drop_max.
    jitter_share of the people get Gaussian jitter on their visible points with
    a sigma drawn up to jitter_max x their RMS spread (about a torso length).
    anywhere_share of the people instead get a frame of ``anywhere_frames`` (a
    kind drawn uniformly; their own hidden points replace the occluders).
    """
    gt, label = augment(xy, label, rng)
    rect = random_frames(gt, label, rng)
    if framing_share > 0:
        framed, ok = framing_frames(gt, label, rng)
        use = ok & (rng.random(len(gt)) < framing_share)
        rect[use] = framed[use]
    anywhere = np.zeros(len(gt), bool)
    if anywhere_share > 0:
        anywhere = rng.random(len(gt)) < anywhere_share
        kind = rng.integers(0, len(ANYWHERE_KINDS), len(gt))
        arect, ahide = anywhere_frames(gt, label, rng, kind)
        rect[anywhere] = arect[anywhere]
    vis = _visible_in(gt, label, rect)
    occluded = hide_inside(vis, rng, hide_share)
    vis = np.where(anywhere[:, None], vis & ~ahide, occluded) if anywhere_share > 0 else occluded
    drop = rng.random(vis.shape) < rng.uniform(0, drop_max, (len(vis), 1))
    drop[:, FACE] |= rng.random((len(vis), len(FACE))) < 4 / 3 * drop_max
    vis &= ~drop
    return _finish(gt, label, vis, rect, rng, noise=True, jitter_share=jitter_share, jitter_max=jitter_max)


def scenario_sample(xy: np.ndarray, label: np.ndarray, scenario: str, rng: np.random.Generator,
                    margins: Tuple[float, float] = (0.1, 0.6)) -> Sample:
    """A fixed evaluation case on clean ground truth (no augmentation, no noise).

    People need neck and both hips labelled (torso length); the callers keep only
    upright people (neck above the mid-hip) for the four height cuts, since a
    "waist-up" photo of someone bent over or upside down is a different case
    (``random_frame`` and the others use everyone). Cut heights are set
    from the person's own points: head_shoulders cuts 0.15-0.35 torso below the
    neck, chest_up 0.4-0.65, waist_up at the mid-hip -0.15..+0.1 torso, knees_up at
    the knees -0.1..+0.1 torso; side_cut cuts a random side between the outermost
    point and the neck; hidden_1to4 hides 1-4 random labelled points inside a
    frame holding everyone (hidden_wide_frame: the same on a canvas with margins
    of 2-20 torso lengths); random_frame uses the training frame generator;
    bottom_anywhere, side_anywhere and two_edges are ``anywhere_frames`` (the cut
    edge anywhere between the last visible and the first cut point). The frame edges
    that cut nothing lie ``margins`` (uniform, torso lengths) beyond the body in the
    height cuts, side_cut and hidden_1to4 (``train.headroom`` shifts them to ask
    what a model learnt from that rule rather than from the body).
    """
    gt = np.array(xy, np.float64)
    label = np.array(label, bool)
    b = len(gt)
    neck = gt[:, NECK]
    mid_hip = (gt[:, R_HIP] + gt[:, L_HIP]) / 2
    torso = np.linalg.norm(neck - mid_hip, axis=1)
    box = _bbox(gt, label)
    margin = rng.uniform(*margins, (b, 4)) * torso[:, None]
    rect = box + margin * np.array([-1, -1, 1, 1])
    hide = np.zeros_like(label)
    if scenario in ("head_shoulders", "chest_up", "waist_up", "knees_up", "any_height"):
        if scenario == "any_height":
            top = neck[:, 1] + 0.15 * torso
            cut = top + rng.random(b) * np.maximum(box[:, 3] - top, 0.0)
        elif scenario == "head_shoulders":
            cut = neck[:, 1] + rng.uniform(0.15, 0.35, b) * torso
        elif scenario == "chest_up":
            cut = neck[:, 1] + rng.uniform(0.4, 0.65, b) * torso
        elif scenario == "waist_up":
            cut = mid_hip[:, 1] + rng.uniform(-0.15, 0.1, b) * torso
        else:
            knees = np.where(label[:, [R_KNEE, L_KNEE]], gt[:, [R_KNEE, L_KNEE], 1], np.nan)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                ky = np.nanmean(knees, 1)
            cut = np.where(np.isfinite(ky), ky, mid_hip[:, 1] + torso) + rng.uniform(-0.1, 0.1, b) * torso
        rect[:, 3] = cut
        above = label & (gt[..., 1] < cut[:, None])
        sub = _bbox(gt, above)
        rect[:, 0] = sub[:, 0] - margin[:, 0]
        rect[:, 2] = sub[:, 2] + margin[:, 2]
    elif scenario == "side_cut":
        right = rng.random(b) < 0.5
        u = rng.uniform(0.1, 0.9, b)
        rect[:, 2] = np.where(right, neck[:, 0] + u * (box[:, 2] - neck[:, 0]), rect[:, 2])
        rect[:, 0] = np.where(right, rect[:, 0], box[:, 0] + (1 - u) * (neck[:, 0] - box[:, 0]))
    elif scenario in ("hidden_1to4", "hidden_wide_frame"):
        if scenario == "hidden_wide_frame":  # a small person on a big canvas: margins of 2-20 torso lengths
            rect = box + np.exp(rng.uniform(np.log(2.0), np.log(20.0), (b, 4))) * torso[:, None] * np.array([-1, -1, 1, 1])
        for i in range(b):
            cand = np.nonzero(label[i])[0]
            k = min(int(rng.integers(1, 5)), len(cand) - 2)
            if k > 0:
                hide[i, rng.choice(cand, k, replace=False)] = True
    elif scenario == "random_frame":
        rect = random_frames(gt, label, rng)
    elif scenario in ("bottom_anywhere", "side_anywhere", "two_edges"):
        kind = {"bottom_anywhere": 0, "side_anywhere": 1, "two_edges": 3}[scenario]
        rect, hide = anywhere_frames(gt, label, rng, np.full(b, kind))
    else:
        raise ValueError(f"unknown scenario {scenario!r}")
    vis = _visible_in(gt, label, rect) & ~hide
    return _finish(gt, label, vis, rect, rng, noise=False)
