"""Encoding, numpy forward pass and model file handling of lib_skelext.completion_model."""
from __future__ import annotations

import os

import numpy as np
import pytest

from lib_skelext.completion_model import (DEFAULT_MODEL_PATH, ENCODING_VERSION, N_FEATURES, SUPPORTED_ENCODINGS,
                                          CompletionModel, ModelConfig, encode, fit_normalisation, load_model, point_confidence,
                                          save_model)
from lib_skelext.errors import SkelextError


def _random_weights(config: ModelConfig, rng: np.random.Generator, mean_pose: np.ndarray) -> dict:
    h = config.hidden
    w = {"inp.weight": rng.normal(0, 0.2, (h, N_FEATURES)), "inp.bias": rng.normal(0, 0.1, h),
         "out.weight": rng.normal(0, 0.05, (config.out_dim, h)), "out.bias": rng.normal(0, 0.05, config.out_dim),
         "mean_pose": mean_pose}
    for i in range(config.blocks):
        w[f"blocks.{i}.0.weight"] = rng.normal(0, 0.1, (h, h))
        w[f"blocks.{i}.0.bias"] = rng.normal(0, 0.1, h)
        w[f"blocks.{i}.2.weight"] = rng.normal(0, 0.1, (h, h))
        w[f"blocks.{i}.2.bias"] = rng.normal(0, 0.1, h)
    return {k: np.asarray(v, np.float32) for k, v in w.items()}


def test_fit_normalisation_recovers_scale_and_offset():
    model = load_model()
    mp = model.mean_pose
    xy = (mp * 137.0 + [40.0, -12.0])[None]
    vis = np.ones((1, 18), bool)
    vis[0, [0, 14, 15, 16, 17]] = False
    scale, offset, ok = fit_normalisation(xy, vis, mp)
    assert ok[0]
    np.testing.assert_allclose(scale, [137.0], rtol=1e-9)
    np.testing.assert_allclose(offset[0], [40.0, -12.0], atol=1e-7)


def test_fit_normalisation_needs_two_distinct_points():
    mp = load_model().mean_pose
    xy = np.zeros((3, 18, 2))
    xy[:, :, 0] = np.arange(18)
    vis = np.zeros((3, 18), bool)
    vis[0, 1] = True  # one point
    vis[1, [1, 2]] = True  # two points ...
    xy[1, 2] = xy[1, 1]  # ... at the same place
    vis[2, [1, 2]] = True  # two distinct points
    _, _, ok = fit_normalisation(xy, vis, mp)
    assert ok.tolist() == [False, False, True]


def test_encoding_is_invariant_to_pixel_scale_and_shift():
    mp = load_model().mean_pose
    rng = np.random.default_rng(0)
    xy = mp[None] * 80 + 200 + rng.normal(0, 4, (5, 18, 2))
    vis = rng.random((5, 18)) < 0.6
    vis[:, 1:3] = True
    rect = np.tile([0.0, 0.0, 400.0, 300.0], (5, 1))
    f1 = encode(xy, vis, rect, mp)[0]
    f2 = encode(xy * 3.5 + 17, vis, rect * 3.5 + 17, mp)[0]
    assert f1.shape == (5, N_FEATURES) and f1.dtype == np.float32
    np.testing.assert_allclose(f1, f2, atol=1e-4)
    # missing points are zeros with a 0 visibility flag
    pts = f1[:, :54].reshape(5, 18, 3)
    assert (pts[~vis] == 0).all() and (pts[vis][:, 2] == 1).all()


def test_log_frame_size_tells_far_frames_from_near_ones():
    mp = load_model().mean_pose
    xy = (mp * 50 + 400)[None].repeat(3, 0)
    vis = np.ones((3, 18), bool)
    lo, hi = xy[0].min(0), xy[0].max(0)
    near = np.r_[lo - 20, hi + 20]
    far = np.r_[lo - 2000, hi + 2000]
    farther = np.r_[lo - 8000, hi + 8000]
    f = encode(xy, vis, np.stack([near, far, farther]), mp)[0]
    v1 = encode(xy, vis, np.stack([near, far, farther]), mp, version=1)[0]
    assert v1.shape == (3, 58) and f.shape == (3, N_FEATURES) and N_FEATURES == 60
    np.testing.assert_array_equal(f[:, :58], v1)
    # the clipped rectangle cannot tell the two far frames apart; the log frame size can
    assert (v1[1] == v1[2]).all()
    assert f[0, 58] < f[1, 58] < f[2, 58] and f[0, 59] < f[1, 59] < f[2, 59]
    np.testing.assert_allclose(f[2, 58:] - f[1, 58:], np.log((hi - lo + 16000) / (hi - lo + 4000)), atol=1e-5)


@pytest.mark.parametrize("layer", [dict(), dict(norm="layer", act="gelu", regression_head=True),
                                   dict(norm="layer", act="gelu", regression_head=True, alternative_heads=2),
                                   dict(norm="layer", act="relu", encoding_version=1)])
def test_numpy_forward_matches_torch(layer):
    torch = pytest.importorskip("torch")
    from train.model import CompletionNet

    config = ModelConfig(hidden=32, blocks=2, hypotheses=3, **layer)
    mean_pose = load_model().mean_pose
    net = CompletionNet(config, torch.from_numpy(mean_pose))
    weights = {k: v.detach().numpy() for k, v in net.state_dict().items()}
    model = CompletionModel(weights, config)
    feats = np.random.default_rng(1).normal(0, 1, (7, config.n_features)).astype(np.float32)
    m_np, s_np, l_np, t_np = model.forward_all(feats)
    with torch.no_grad():
        m_t, s_t, l_t, t_t = net(torch.from_numpy(feats))
    np.testing.assert_allclose(m_np, m_t.numpy(), atol=1e-4)
    np.testing.assert_allclose(s_np, s_t.numpy(), atol=1e-4)
    np.testing.assert_allclose(l_np, l_t.numpy(), atol=1e-4)
    assert (t_np is None) == (t_t is None) == (not config.regression_head)
    if t_np is not None:
        assert t_np.shape == (7, 1 + config.alternative_heads, 18, 2)
        np.testing.assert_allclose(t_np, t_t.numpy().reshape(t_np.shape), atol=1e-4)
    # small batches take a matrix-vector path per row: same numbers
    for n in (0, 1, 2):
        for small, big in zip(model.forward_all(feats[:n]), (m_np, s_np, l_np, t_np)):
            if big is None:
                assert small is None
                continue
            assert small.shape == (n,) + big.shape[1:]
            np.testing.assert_allclose(small, big[:n], atol=1e-5)


def test_predict_shapes_sorted_probs_and_finite(tmp_path):
    config = ModelConfig(hidden=16, blocks=1, hypotheses=4)
    rng = np.random.default_rng(2)
    mp = load_model().mean_pose
    path = str(tmp_path / "m.safetensors")
    save_model(path, _random_weights(config, rng, mp), config)
    model = load_model(path)
    assert load_model(path) is model  # cached
    xy = mp[None] * 50 + 100 + rng.normal(0, 3, (6, 18, 2))
    vis = rng.random((6, 18)) < 0.5
    vis[:, :2] = True
    rect = np.tile([0.0, 0.0, 300.0, 300.0], (6, 1))
    single = model.predict(xy, vis, rect, mirror=False)
    assert single.means_px.shape == (6, 4, 18, 2) and single.sigma_norm.shape == (6, 4, 18)
    np.testing.assert_allclose(single.probs.sum(1), 1.0)
    pred = model.predict(xy, vis, rect)  # K hypotheses of the person + K of its mirror image
    assert pred.means_px.shape == (6, 8, 18, 2) and pred.sigma_norm.shape == (6, 8, 18)
    # the person's own view is in the pooled mixture at half weight
    for i in range(6):
        for k in range(4):
            d = np.abs(pred.means_px[i] - single.means_px[i, k]).max((1, 2))
            j = int(d.argmin())
            assert d[j] < 1e-3 and abs(pred.probs[i, j] - single.probs[i, k] / 2) < 1e-6
    assert np.isfinite(pred.means_px).all() and (pred.sigma_norm > 0).all()
    assert (np.diff(pred.probs, axis=1) <= 0).all()
    np.testing.assert_allclose(pred.probs.sum(1), 1.0)
    conf = point_confidence(pred.means_px / pred.scale[:, None, None, None], pred.sigma_norm, pred.probs)
    assert conf.shape == (6, 18) and (conf >= 0).all() and (conf <= 1).all()


def test_encoding_3_centres_on_the_visible_mean_with_unit_rms_spread():
    rng = np.random.default_rng(3)
    xy = rng.uniform(100, 400, (5, 18, 2))
    vis = rng.random((5, 18)) < 0.6
    vis[:, :3] = True
    mean_pose = rng.normal(size=(18, 2))
    feats, scale, offset, ok = encode(xy, vis, np.tile([0.0, 0, 500, 500], (5, 1)), mean_pose, 3)
    assert ok.all() and feats.shape == (5, N_FEATURES)
    norm = feats[:, :54].reshape(5, 18, 3)[..., :2]
    for i in range(5):  # the mean pose plays no part: the visible points alone set centre and scale
        pts = norm[i][vis[i]]
        np.testing.assert_allclose(pts.mean(0), 0.0, atol=1e-5)
        np.testing.assert_allclose(np.sqrt((pts ** 2).sum(1).mean()), 1.0, rtol=1e-5)
    v2 = encode(xy, vis, np.tile([0.0, 0, 500, 500], (5, 1)), mean_pose, 2)[0]
    assert not np.allclose(v2, feats)


def test_wrong_encoding_version_and_missing_file_raise(tmp_path):
    config = ModelConfig(hidden=8, blocks=1, hypotheses=2, encoding_version=max(SUPPORTED_ENCODINGS) + 1)
    path = str(tmp_path / "future.safetensors")
    save_model(path, _random_weights(config, np.random.default_rng(0), np.zeros((18, 2))), config)
    with pytest.raises(SkelextError, match="encoding"):
        load_model(path)
    with pytest.raises(SkelextError, match="not found"):
        load_model(str(tmp_path / "nope.safetensors"))
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a model")
    with pytest.raises(SkelextError, match="cannot read"):
        load_model(str(bad))


def test_shipped_model_is_small_and_current():
    assert os.path.getsize(DEFAULT_MODEL_PATH) < 5_000_000
    model = load_model()
    assert model.config.encoding_version == ENCODING_VERSION
    assert model.mean_pose.shape == (18, 2)


def test_version_1_files_still_load_and_predict():
    """The v1.1 model (kept for the report's comparison) reads its 58-feature encoding."""
    path = os.path.join(os.path.dirname(DEFAULT_MODEL_PATH), "..", "train", "reference",
                        "skelext_completion_v1_1.safetensors")
    model = load_model(path)
    assert model.config.encoding_version == 1 and model.config.n_features == 58
    assert not model.config.regression_head and model.config.mirror
    xy = (model.mean_pose * 80 + 300)[None]
    vis = np.zeros((1, 18), bool)
    vis[0, :8] = True
    pred = model.predict(xy, vis, np.array([[0.0, 0.0, 600.0, 400.0]]))
    assert pred.top_px is None and pred.means_px.shape == (1, 2 * model.config.hypotheses, 18, 2)
    assert np.isfinite(pred.means_px).all()


def test_rank_completions_puts_the_regression_completion_first():
    from lib_skelext.completion_model import Prediction, rank_completions

    base = np.zeros((18, 2))
    means = np.stack([base, base + 0.05, base + 3.0, base + 6.0])[None]
    probs = np.array([[0.4, 0.1, 0.3, 0.2]])
    top = (base + 0.05)[None] * 10.0  # a near-duplicate of the first pair: it takes that group's place
    pred = Prediction(means * 10.0, np.full((1, 4, 18), 0.2), probs, np.array([10.0]), np.array([True]), top)
    missing = np.zeros((1, 18), bool)
    missing[0, 9:14] = True
    out = rank_completions(pred, missing, 3)
    np.testing.assert_allclose(out.options_px[0, 0], top[0])
    np.testing.assert_allclose(out.scores[0], [0.5, 0.3, 0.2])
    # near a less likely group, the regression completion absorbs that group; the most likely group stays an
    # alternative and shares its score: it keeps min(s0 - s1, s0 / 2) = 0.2 of its 0.5
    top2 = (base + 3.05)[None] * 10.0
    out2 = rank_completions(pred._replace(top_px=top2), missing, 3)
    np.testing.assert_allclose(out2.options_px[0, 0], top2[0])
    np.testing.assert_allclose(out2.scores[0], [0.3 + 0.5 - 0.2, 0.2, 0.2])
    np.testing.assert_allclose(out2.options_px[0, 1], (base + 0.05 * 0.1 / 0.5) * 10.0)
    np.testing.assert_allclose(out2.options_px[0, 2], (base + 6.0) * 10.0)
    assert (np.diff(out2.scores[0]) <= 0).all() and out2.scores[0].sum() <= 1 + 1e-12
    one = rank_completions(pred, missing, 1)
    np.testing.assert_allclose(one.options_px[0, 0], top[0])
    np.testing.assert_allclose(one.confidence, out.confidence)


def test_rank_completions_offers_the_alternative_heads_with_the_mixture_mass_around_them():
    from lib_skelext.completion_model import Prediction, rank_completions

    base = np.zeros((18, 2))
    means = np.stack([base, base + 0.05, base + 3.0, base + 6.0])[None] * 10.0
    probs = np.array([[0.4, 0.1, 0.3, 0.2]])
    top = base[None] * 10.0
    alts = np.stack([base + 6.0, base + 3.0])[None] * 10.0  # at the 0.2 and the 0.3 hypotheses
    pred = Prediction(means, np.full((1, 4, 18), 0.2), probs, np.array([10.0]), np.array([True]), top, alts)
    missing = np.zeros((1, 18), bool)
    missing[0, 9:14] = True
    out = rank_completions(pred, missing, 4)
    np.testing.assert_allclose(out.options_px[0, 0], top[0])
    np.testing.assert_allclose(out.options_px[0, 1], alts[0, 1])  # ranked by the mass near them
    np.testing.assert_allclose(out.options_px[0, 2], alts[0, 0])
    np.testing.assert_allclose(out.scores[0, :3], [0.5, 0.3, 0.2])
    assert out.scores[0, 3] == 0  # every group duplicates a head: nothing else to offer
    assert (np.diff(out.scores[0]) <= 0).all() and abs(out.scores[0].sum() - 1) < 1e-9


def test_choice_loss_trains_only_the_closest_alternative():
    torch = pytest.importorskip("torch")
    from train.model import mixture_loss

    target = torch.zeros(2, 18, 2)
    mask = torch.zeros(2, 18)
    mask[:, 10] = 1.0
    heads = torch.zeros(2, 3, 18, 2, requires_grad=True)
    with torch.no_grad():
        heads[:, 0, 10, 0] = 1.0  # the first completion is 1 off for both people
        heads[0, 1, 10, 0] = 0.1  # person 0: alternative 1 is closest
        heads[1, 2, 10, 0] = 0.2  # person 1: alternative 2 is closest
        heads[0, 2, 10, 0] = heads[1, 1, 10, 0] = 2.0
    means = torch.zeros(2, 2, 18, 2)
    loss, _, top1 = mixture_loss(means, torch.zeros(2, 2, 18), torch.zeros(2, 2), heads, target, mask,
                                 top_weight=0.0, reg_weight=1.0, choice_weight=1.0)
    loss.backward()
    g = heads.grad[:, :, 10].norm(dim=-1)
    assert float(top1) == pytest.approx(1.0, abs=1e-3)
    assert g[0, 1] > 0 and g[0, 2] == 0 and g[1, 2] > 0 and g[1, 1] == 0
    assert (g[:, 0] > 0).all()  # the first completion learns from everyone


def test_rank_completions_groups_near_duplicates_and_sorts():
    from lib_skelext.completion_model import Prediction, rank_completions

    base = np.zeros((18, 2))
    means = np.stack([base, base + 0.05, base + 3.0, base + 3.1])[None]  # two pairs of near-duplicates
    probs = np.array([[0.3, 0.1, 0.35, 0.25]])
    pred = Prediction(means * 10.0, np.full((1, 4, 18), 0.2), probs, np.array([10.0]), np.array([True]))
    missing = np.zeros((1, 18), bool)
    missing[0, 9:14] = True
    out = rank_completions(pred, missing, 3)
    np.testing.assert_allclose(out.scores[0], [0.6, 0.4, 0.0])
    np.testing.assert_allclose(out.options_px[0, 0], (base + 3.0 * 0.35 / 0.6 + 3.1 * 0.25 / 0.6) * 10.0)
    np.testing.assert_allclose(out.options_px[0, 1], (base + 0.05 * 0.1 / 0.4) * 10.0)
    assert out.confidence.shape == (1, 18) and ((out.confidence >= 0) & (out.confidence <= 1)).all()
