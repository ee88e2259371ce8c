"""Smoke test of the training pipeline: prepare, a few training steps, export, load, predict (< 30 s)."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.normpath(os.path.join(REPO, "..", "shared", "data"))

pytestmark = pytest.mark.skipif(not os.path.isdir(os.path.join(DATA, "mpii")), reason="no ../shared/data")


def test_prepare_train_export_predict(tmp_path):
    pytest.importorskip("torch")
    from lib_skelext.completion_model import load_model
    from train.export import export
    from train.prepare import SOURCES, SPLITS_PATH, load_people, prepare
    from train.simulate_crops import SCENARIOS, scenario_sample, training_sample
    from train.train import TrainConfig, train

    people = prepare(out_path=str(tmp_path / "people.npz"))
    data = load_people(people)
    # the split is by image: no image in two splits; splits.json is the record
    for s in (1, 2):
        assert not set(data["image"][data["split"] == 0]) & set(data["image"][data["split"] == s])
    with open(SPLITS_PATH) as f:
        splits = json.load(f)
    assert set(splits["test"]) == set(SOURCES)
    assert (data["split"] == 2).sum() > 1000 and (data["label"][:, 0] == 0).sum() > 30000  # no MPII/LSP faces

    rng = np.random.default_rng(0)
    idx = rng.choice(np.nonzero(data["split"] == 0)[0], 256)
    s = training_sample(data["xy"][idx], data["label"][idx], rng)
    assert (s.visible.sum(1) >= 2).all() and not (s.visible & ~s.label).any()
    inside = ((s.gt[..., 0] >= s.rect[:, :1]) & (s.gt[..., 0] < s.rect[:, 2:3])
              & (s.gt[..., 1] >= s.rect[:, 1:2]) & (s.gt[..., 1] < s.rect[:, 3:4]))
    assert not (s.visible & ~inside).any()
    for sc in SCENARIOS:
        assert scenario_sample(data["xy"][idx], data["label"][idx], sc, rng).gt.shape == (256, 18, 2)

    assert set(SCENARIOS) >= {"bottom_anywhere", "side_anywhere", "two_edges"}

    ckpt = str(tmp_path / "ckpt.pt")
    cfg = TrainConfig(steps=30, batch=64, val_size=128, val_every=15, hidden=32, blocks=1, hypotheses=3)
    summary = train(cfg, people_path=people, ckpt_path=ckpt, max_people=2000, progress=False)
    assert np.isfinite(summary["best_val_nll"]) and np.isfinite(summary["best_val_top1_err"])
    out = export(ckpt, str(tmp_path / "m.safetensors"), people)
    model = load_model(out)
    assert model.config.hypotheses == 3 and model.config.regression_head and model.config.norm == "layer"
    pred = model.predict(s.inp, s.visible, s.rect)
    assert np.isfinite(pred.means_px).all() and pred.top_px.shape == (256, 18, 2) and np.isfinite(pred.top_px).all()


def test_specialist_trains_on_its_scenario_only(tmp_path):
    """--specialist (an ablation): a few steps on one evaluation scenario's frames; an unknown name is refused."""
    pytest.importorskip("torch")
    from train.prepare import prepare
    from train.train import TrainConfig, train

    people = prepare(out_path=str(tmp_path / "people.npz"))
    cfg = TrainConfig(steps=10, batch=32, val_size=64, val_every=5, hidden=32, blocks=1, hypotheses=3,
                      specialist="side_anywhere")
    summary = train(cfg, people_path=people, ckpt_path=str(tmp_path / "s.pt"), max_people=1500, progress=False)
    assert np.isfinite(summary["best_val_top1_err"]) and summary["train_people"] < 1500
    with pytest.raises(ValueError, match="unknown scenario"):
        train(TrainConfig(steps=1, specialist="waist-up"), people_path=people, ckpt_path=str(tmp_path / "x.pt"))


def test_regression_baseline_trains_and_keeps_visible_points(tmp_path):
    pytest.importorskip("torch")
    from train.prepare import load_people, prepare
    from train.regression_baseline import regression_method, train_baseline
    from train.simulate_crops import scenario_sample

    people = prepare(out_path=str(tmp_path / "people.npz"))
    out = str(tmp_path / "rb.npz")
    train_baseline(out, people, steps=5, max_people=500)
    data = load_people(people)
    idx = np.nonzero((data["split"] == 2) & data["label"][:, [1, 8, 11]].all(1))[0][:64]
    s = scenario_sample(data["xy"][idx], data["label"][idx], "two_edges", np.random.default_rng(0))
    pred = regression_method(out)(s.inp, s.visible, s.rect)
    assert pred.shape == (64, 18, 2) and np.isfinite(pred).all()
    assert (pred[s.visible] == s.inp[s.visible]).all()
