"""Train the leg-length network (``lib_skelext/leg_lengths.py``) used by retargeting (issue #25).

Run: ``.venv/bin/python -m train.leg_lengths`` (after ``python -m train.prepare``; about 3 minutes on 2
CPU cores) -> ``models/skelext_leg_lengths.safetensors``, and a table on VALIDATION people.

Data: upright people with neck..ankles labelled (as ``bench/bench_retarget.py`` picks its test people),
TRAINING split only, each cut by the evaluation scenarios (``simulate_crops.scenario_sample``: waist-up,
knees-up, side cut, any height, two edges, 1-4 hidden points; 3 draws each) and mirrored. Target: the log
of each leg bone's true length in the encoding's units; L1 loss (median-optimal) on the bones the cut
hides (an end not given). The blend with the completion's lengths (log lengths, weight 0..1) is chosen
on the validation people's waist-up, knees-up and side cuts pooled, against the completion run as
``retarget_poses`` runs it; the test people are never read here.
"""
from __future__ import annotations

import argparse
import logging
import os
import time
from typing import Dict, List

import numpy as np

from lib_skelext.leg_lengths import DEFAULT_PATH, LEG_BONES, features, mirrored, save_leg_model

from .evaluate import test_people, upright
from .prepare import load_people
from .simulate_crops import scenario_sample

logger = logging.getLogger(__name__)
SCENARIOS = ("waist_up", "knees_up", "side_cut", "any_height", "two_edges", "hidden_1to4")
#: The cuts the blend is chosen on (the retargeting benchmark's cut references).
CHOICE_CUTS = ("waist_up", "knees_up", "side_cut")
BLENDS = (0.0, 0.25, 0.5, 0.75, 1.0)
CONFIG = {"hidden": 128, "steps": 12000, "batch": 512, "lr": 3e-3, "weight_decay": 1e-4, "draws": 3, "seed": 0}


def people(split: int) -> Dict[str, np.ndarray]:
    data = load_people()
    idx = test_people(data, split=split)
    xy, label = data["xy"][idx].astype(np.float64), data["label"][idx]
    keep = label[:, 1:14].all(1) & upright(xy)
    return {"xy": xy[keep], "label": label[keep]}


def cases(split: int, scenario: str, draws: int, seed: int) -> Dict[str, np.ndarray]:
    """Cut people of a split: gt (N, 18, 2), visible (N, 18), rect (N, 4), true leg lengths (N, 4), hidden (N, 4)."""
    p = people(split)
    parts = [scenario_sample(p["xy"], p["label"], scenario, np.random.default_rng(seed + d)) for d in range(draws)]
    gt = np.concatenate([s.gt for s in parts])
    vis = np.concatenate([s.visible for s in parts])
    true = np.stack([np.linalg.norm(gt[:, c] - gt[:, a], axis=1) for a, c in LEG_BONES], 1)
    hidden = np.stack([~(vis[:, a] & vis[:, c]) for a, c in LEG_BONES], 1)
    return {"gt": gt, "visible": vis, "rect": np.concatenate([s.rect for s in parts]), "true": true, "hidden": hidden}


def mean_pose(split: int = 0) -> np.ndarray:
    """(18, 2) median pose of the split's upright people, neck at 0, torso (neck -> mid-hip) 1, y down."""
    p = people(split)
    xy, label = p["xy"], p["label"]
    torso = np.linalg.norm(xy[:, 1] - (xy[:, 8] + xy[:, 11]) / 2, axis=1)
    rel = (xy - xy[:, 1:2]) / torso[:, None, None]
    return np.stack([np.median(rel[label[:, j], j], 0) for j in range(18)])


def training_set(pose: np.ndarray, draws: int, seed: int):
    xs, ys, ms = [], [], []
    for i, scenario in enumerate(SCENARIOS):
        c = cases(0, scenario, draws, seed + 10 * i)
        for xy, vis, rect, order in ((c["gt"], c["visible"], c["rect"], [0, 1, 2, 3]),
                                     (*mirrored(c["gt"], c["visible"], c["rect"]), [2, 3, 0, 1])):
            f, scale, ok = features(xy, vis, rect, pose)
            xs.append(f[ok])
            ys.append(np.log(np.maximum(c["true"][:, order], 1e-3) / scale[:, None])[ok])
            ms.append(c["hidden"][:, order][ok])
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(ms)


def train(pose: np.ndarray, config: Dict) -> Dict[str, np.ndarray]:
    import torch

    torch.manual_seed(config["seed"])
    x, y, m = training_set(pose, config["draws"], config["seed"])
    mu, sd = x.mean(0), x.std(0) + 1e-6
    logger.info("%d training rows, %d features", len(x), x.shape[1])
    xt = torch.tensor((x - mu) / sd, dtype=torch.float32)
    yt, mt = torch.tensor(y, dtype=torch.float32), torch.tensor(m, dtype=torch.float32)
    h = config["hidden"]
    net = torch.nn.Sequential(torch.nn.Linear(x.shape[1], h), torch.nn.GELU(approximate="tanh"), torch.nn.Linear(h, h),
                              torch.nn.GELU(approximate="tanh"), torch.nn.Linear(h, len(LEG_BONES)))
    opt = torch.optim.AdamW(net.parameters(), config["lr"], weight_decay=config["weight_decay"])
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, config["lr"], total_steps=config["steps"])
    gen = torch.Generator().manual_seed(config["seed"])
    t0 = time.perf_counter()
    for step in range(config["steps"]):
        b = torch.randint(0, len(xt), (config["batch"],), generator=gen)
        w = mt[b]
        loss = (torch.abs(net(xt[b]) - yt[b]) * w).sum() / w.sum().clamp(min=1.0)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 2000 == 0:
            logger.info("step %d loss %.4f (%.0f s)", step, loss.item(), time.perf_counter() - t0)
    weights = {f"net.{k}": v.detach().numpy() for k, v in net.state_dict().items()}
    weights.update(mean_pose=pose, feature_mean=mu, feature_std=sd)
    return weights


def completion_lengths(c: Dict[str, np.ndarray]) -> np.ndarray:
    """(N, 4) leg lengths of the completion, run as ``retarget_poses`` runs it (one reference at a time)."""
    from lib_skelext.core import complete_poses
    from lib_skelext.pose import Person, PoseFrame
    from lib_skelext.settings import PipelineSettings

    keep = PipelineSettings().replace(canvas="keep", alternatives=1, rewrite_scores=False)
    out = np.full((len(c["gt"]), 4), np.nan)
    for i, (xy, vis, rect) in enumerate(zip(c["gt"], c["visible"], c["rect"])):
        body = np.zeros((18, 3))
        body[vis, :2], body[vis, 2] = xy[vis] - rect[:2], 1.0
        w, h = max(1, int(np.ceil(rect[2] - rect[0]))), max(1, int(np.ceil(rect[3] - rect[1])))
        done = complete_poses([PoseFrame([Person(body=body)], w, h)], keep)[0].frame.people[0].body
        for j, (a, b) in enumerate(LEG_BONES):
            if done[a, 2] > 0 and done[b, 2] > 0:
                out[i, j] = np.linalg.norm(done[b, :2] - done[a, :2])
    return out


def median_error(lengths: np.ndarray, c: Dict[str, np.ndarray]) -> float:
    """Median relative length error over the hidden leg bones (the benchmark's measure)."""
    m = c["hidden"]
    return float(np.median(np.abs(lengths[m] - c["true"][m]) / c["true"][m]))


def choose_blend(weights: Dict[str, np.ndarray], config: Dict) -> float:
    """Validation people: each blend per cut, and the blend with the lowest median over the cuts pooled."""
    from lib_skelext.leg_lengths import LegLengthModel

    model = LegLengthModel(weights, config)
    pooled: Dict[float, List[np.ndarray]] = {w: [] for w in BLENDS}
    print("| validation cut | hidden leg bones | " + " | ".join(f"blend {w}" for w in BLENDS) + " |")
    print("|---" * (len(BLENDS) + 2) + "|")
    for i, cut in enumerate(CHOICE_CUTS):
        c = cases(1, cut, 3, 100 + 10 * i)
        net, ok = model.predict(c["gt"], c["visible"], c["rect"])
        comp = completion_lengths(c)
        row = []
        for w in BLENDS:
            with np.errstate(divide="ignore", invalid="ignore"):  # a zero-length bone (two labels at one place)
                mixed = net if w == 1.0 else comp if w == 0.0 else np.exp(w * np.log(net) + (1 - w) * np.log(comp))
                est = np.where(ok[:, None], mixed, comp)
                row.append(median_error(est, c))
                m = c["hidden"]
                pooled[w].append(np.abs(est[m] - c["true"][m]) / c["true"][m])
        print(f"| {cut} | {int(c['hidden'].sum())} | " + " | ".join(f"{e:.1%}" for e in row) + " |")
    score = {w: float(np.median(np.concatenate(v))) for w, v in pooled.items()}
    best = min(BLENDS, key=lambda w: score[w])
    print("pooled:", ", ".join(f"blend {w}: {e:.1%}" for w, e in score.items()), f"-> blend {best}")
    return best


def main(argv: List[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=DEFAULT_PATH)
    ap.add_argument("--steps", type=int, default=CONFIG["steps"])
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    import torch

    torch.set_num_threads(min(2, os.cpu_count() or 1))
    config = dict(CONFIG, steps=args.steps)
    weights = train(mean_pose(0), config)
    config["blend"] = choose_blend(weights, config)
    save_leg_model(args.out, weights, config)
    print("wrote", args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
