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


def test_anywhere_edges_lie_between_the_last_visible_and_the_first_cut_point():
    from train.simulate_crops import ANYWHERE_KINDS, anywhere_frames

    xy, label = _people(3000)
    rng = np.random.default_rng(4)
    kind = rng.integers(0, len(ANYWHERE_KINDS), len(xy))
    rect, hide = anywhere_frames(xy, label, rng, kind)
    x, y = xy[..., 0], xy[..., 1]
    inside = (x >= rect[:, :1]) & (x < rect[:, 2:3]) & (y >= rect[:, 1:2]) & (y < rect[:, 3:4])
    height = STANDING[:, 1].max() - STANDING[:, 1].min()
    width = STANDING[:, 0].max() - STANDING[:, 0].min()
    bottom, side, hidden = (kind == 0) | (kind == 3), (kind == 1) | (kind == 3), kind == 2
    # a bottom cut removes points below it; its edge lies between the last kept and the first removed point
    below = y >= rect[:, 3:4]
    assert below[bottom].any(1).all() and not below[~bottom].any()
    last = np.where(inside, y, -np.inf).max(1)
    first = np.where(below, y, np.inf).min(1)
    assert ((rect[bottom, 3] > last[bottom]) & (rect[bottom, 3] <= first[bottom])).all()
    # ... at 20-90% of the body's height before the move; spread over the whole gap, not at one end
    gap_pos = (rect[bottom, 3] - last[bottom]) / (first[bottom] - last[bottom])
    assert 0.35 < gap_pos.mean() < 0.65 and gap_pos.min() < 0.1 and gap_pos.max() > 0.9
    assert (first[bottom] - STANDING[:, 1].min() >= 0.2 * height - 1e-9).all()
    # a side cut removes 15-40% of the width (before the move) from the left or the right
    out_side = ((x < rect[:, :1]) | (x >= rect[:, 2:3])) & ~below  # (points below a bottom cut may lie anywhere)
    assert out_side[side].any(1).all() and not out_side[~side].any()
    right = rect[:, 2] < STANDING[:, 0].max()
    assert 0.3 < right[side].mean() < 0.7
    only = side & right & ~bottom
    first_cut = np.where(out_side, x, np.inf).min(1)
    assert (first_cut[only] >= STANDING[:, 0].max() - 0.4 * width - 1e-9).all()
    assert (rect[only, 2] > np.where(inside, x, -np.inf).max(1)[only]).all()
    # hidden: the whole body in the frame, 1-4 points hidden inside
    assert inside[hidden].all() and (1 <= hide[hidden].sum(1)).all() and (hide[hidden].sum(1) <= 4).all()
    assert not hide[~hidden].any()
    # the free edges leave 2-65% of the visible part's size beyond it
    vis = inside  # (hidden points count: they are inside the frame)
    top_gap = np.where(vis, y, np.inf).min(1) - rect[:, 1]
    vis_h = np.where(vis, y, -np.inf).max(1) - np.where(vis, y, np.inf).min(1)
    vis_w = np.where(vis, x, -np.inf).max(1) - np.where(vis, x, np.inf).min(1)
    size_h = np.maximum(vis_h, 0.3 * np.maximum(vis_h, vis_w))
    assert ((top_gap >= 0.02 * size_h - 1e-6) & (top_gap <= 0.65 * size_h + 1e-6)).all()


def test_training_sample_mixes_in_anywhere_frames():
    xy, label = _people(3000)
    plain = training_sample(xy, label, np.random.default_rng(5), framing_share=1.0, hide_share=0.0, drop_max=0.0)
    mixed = training_sample(xy, label, np.random.default_rng(5), framing_share=1.0, hide_share=0.0, drop_max=0.0,
                            anywhere_share=0.5)
    # framings always cut the bottom; anywhere frames also cut only a side, or hide points inside the frame
    def bottom_cut(s):
        return (s.gt[..., 1] >= s.rect[:, 3:4]).any(1)
    assert bottom_cut(plain).mean() > 0.9
    assert 0.45 < bottom_cut(mixed).mean() < 0.85
    inside = ((mixed.gt[..., 0] >= mixed.rect[:, :1]) & (mixed.gt[..., 0] < mixed.rect[:, 2:3])
              & (mixed.gt[..., 1] >= mixed.rect[:, 1:2]) & (mixed.gt[..., 1] < mixed.rect[:, 3:4]))
    assert (inside & ~mixed.visible).any(1).mean() > 0.05


def test_scenario_margins_put_the_uncut_edges_that_far_beyond_the_body():
    """The evaluation's uncut frame edges lie 0.1-0.6 torso beyond the body; ``margins`` moves them (what
    ``train.headroom`` uses to ask which models read the generator's rule), with the same cut."""
    from train.simulate_crops import scenario_sample

    xy, label = _people(500)
    torso = np.linalg.norm(STANDING[NECK] - STANDING[[R_HIP, L_HIP]].mean(0))
    top = STANDING[:, 1].min()
    for margins in ((0.1, 0.6), (0.6, 1.5)):
        for scenario in ("head_shoulders", "side_cut"):
            s = scenario_sample(xy, label, scenario, np.random.default_rng(0), margins)
            beyond = (top - s.rect[:, 1]) / torso  # the top edge cuts nothing in both
            assert margins[0] - 1e-9 <= beyond.min() and beyond.max() <= margins[1] + 1e-9, (scenario, margins)
            assert beyond.max() - beyond.min() > 0.5 * (margins[1] - margins[0])
    default = scenario_sample(xy, label, "waist_up", np.random.default_rng(3))
    same = scenario_sample(xy, label, "waist_up", np.random.default_rng(3), (0.1, 0.6))
    np.testing.assert_array_equal(default.rect, same.rect)
