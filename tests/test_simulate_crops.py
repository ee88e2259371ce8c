"""Training views of train/simulate_crops.py: photo framings, occluders, drops (no data files needed)."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("train.simulate_crops")
from train.simulate_crops import FRAMINGS, framing_frames, training_sample  # noqa: E402

from lib_skelext.pose import L_ANKLE, L_HIP, L_KNEE, NECK, R_ANKLE, R_HIP, R_KNEE  # noqa: E402

# An upright person (COCO val2017 292082, a held-out test person), pixels, all 18 labelled.
STANDING = np.array([[339, 276], [334, 349], [277, 357], [262, 435], [308, 470], [391, 341], [415, 422],
                     [381, 465], [313, 463], [325, 525], [333, 601], [388, 456], [390, 504], [397, 603],
                     [331, 263], [357, 266], [303, 272], [377, 280]], float)


def _people(n: int, upside_down: bool = False) -> tuple:
    xy = np.repeat(STANDING[None], n, 0)
    if upside_down:
        xy[..., 1] = 1000 - xy[..., 1]
    return xy, np.ones((n, 18), bool)


def test_framings_cut_at_the_drawn_landmark_window():
    xy, label = _people(4000)
    rect, ok = framing_frames(xy, label, np.random.default_rng(0))
    assert ok.all()
    neck = STANDING[NECK, 1]
    hip = STANDING[[R_HIP, L_HIP], 1].mean()
    knee = STANDING[[R_KNEE, L_KNEE], 1].mean()
    ankle = STANDING[[R_ANKLE, L_ANKLE], 1].mean()
    torso = hip - neck
    windows = {"head_shoulders": (neck + 0.05 * torso, neck + 0.45 * torso),
               "chest_up": (neck + 0.35 * torso, neck + 0.75 * torso),
               "waist_up": (hip - 0.25 * torso, hip + 0.2 * torso),
               "thighs_up": (hip + 0.2 * (knee - hip), hip + 0.8 * (knee - hip)),
               "knees_up": (knee - 0.2 * torso, knee + 0.2 * torso),
               "shins_up": (knee + 0.2 * (ankle - knee), knee + 0.85 * (ankle - knee))}
    assert set(windows) == set(FRAMINGS)
    cut = rect[:, 3]
    inside_any = np.zeros(len(cut), bool)
    for name, (lo, hi) in windows.items():
        hit = (cut >= lo - 1e-9) & (cut <= hi + 1e-9)
        inside_any |= hit
        # each framing is drawn about as often as its share says (windows overlap, so >=)
        share = FRAMINGS[name][0] / sum(v[0] for v in FRAMINGS.values())
        assert hit.mean() >= 0.8 * share, name
    assert inside_any.all()
    # the sides hold what is above the cut unless an arm is cut on purpose (about 15%)
    above = STANDING[:, 1][None] < cut[:, None]
    xs = np.where(above, STANDING[:, 0][None], np.nan)
    holds = (np.nanmin(xs, 1) > rect[:, 0]) & (np.nanmax(xs, 1) < rect[:, 2]) & (rect[:, 1] < STANDING[:, 1].min())
    assert 0.75 < holds.mean() < 0.95


def test_framing_refuses_people_who_are_not_upright():
    xy, label = _people(200, upside_down=True)
    _, ok = framing_frames(xy, label, np.random.default_rng(1))
    assert not ok.any()
    xy, label = _people(200)
    label[:, [R_KNEE, L_KNEE]] = False  # no knees: knee, thigh and shin framings cannot be placed
    _, ok = framing_frames(xy, label, np.random.default_rng(2))
    assert 0.4 < ok.mean() < 0.8


def test_training_sample_with_framings_and_no_occluders():
    xy, label = _people(2000)
    rng = np.random.default_rng(3)
    s = training_sample(xy, label, rng, jitter_share=0.0, framing_share=1.0, hide_share=0.0, drop_max=0.0)
    inside = ((s.gt[..., 0] >= s.rect[:, :1]) & (s.gt[..., 0] < s.rect[:, 2:3])
              & (s.gt[..., 1] >= s.rect[:, 1:2]) & (s.gt[..., 1] < s.rect[:, 3:4]))
    # no occluders and no drops: exactly the points inside the frame are given (bar the >= 2 rule),
    # except face points, which a detector misses now and then regardless
    body = [j for j in range(18) if j not in (0, 14, 15, 16, 17)]
    enough = inside.sum(1) >= 2
    assert (s.visible[enough][:, body] == inside[enough][:, body]).all()
    # the bottom edge goes through the body for most people (framed, not a margin)
    cut_through = (s.gt[..., 1] >= s.rect[:, 3:4]).any(1)
    assert cut_through.mean() > 0.9
    s2 = training_sample(xy, label, np.random.default_rng(3), hide_share=1.0)
    assert (s2.visible.sum(1) < s.visible.sum(1)).mean() > 0.5
