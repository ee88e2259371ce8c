"""The outside cross-check of issue #16, rebuilt: a plain regression MLP trained about 10 minutes.

A comparison method for the report, never shipped. Residual MLP, 512 wide x 3 pre-LayerNorm
blocks with GELU (1.6 M parameters); input: the visible points centred on their mean and
divided by their RMS spread, visibility flags, the frame rectangle in the same units and
log(spread / frame width), log(spread / frame height); output: all 18 points in those units;
loss: Euclidean error of the missing labelled points in torso lengths; training frames only
from ``simulate_crops.anywhere_frames`` (bottom cut, side cut, 1-4 hidden points, two edges);
the person's mirror image is averaged in at inference. Trained on the TRAIN split only, for a
fixed number of steps (``STEPS``, about 10 minutes on one core here) so that it is reproducible.

    .venv/bin/python -m train.regression_baseline            # writes train/cache/regression_baseline.npz
"""
from __future__ import annotations

import argparse
import logging
import os
import time
from typing import Dict, List, Optional

import numpy as np

from lib_skelext.pose import BODY_FLIP, L_HIP, NECK, R_HIP

from . import CACHE_DIR
from .prepare import PEOPLE_PATH, load_people
from .simulate_crops import ANYWHERE_KINDS, _finish, _visible_in, anywhere_frames, augment

logger = logging.getLogger(__name__)
BASELINE_PATH = os.path.join(CACHE_DIR, "regression_baseline.npz")
#: Steps of batch ``BATCH``: about 10 minutes of one torch thread on this 2-core machine.
STEPS = 13000
BATCH = 256
HIDDEN = 512
BLOCKS = 3
RECT_CLIP = 30.0
N_FEATURES = 18 * 3 + 4 + 2
_MIRROR = np.array(BODY_FLIP)


def features(xy: np.ndarray, visible: np.ndarray, rect: np.ndarray) -> tuple:
    """(B, 18, 2) px, (B, 18) bool, (B, 4) px -> features (B, 60) float32, centre (B, 2), spread (B,)."""
    xy = np.asarray(xy, np.float64)
    w = visible.astype(np.float64)
    n = np.maximum(w.sum(1), 1.0)
    c = (np.where(visible[..., None], xy, 0.0)).sum(1) / n[:, None]
    s = np.sqrt((((xy - c[:, None]) ** 2).sum(-1) * w).sum(1) / n)
    s = np.where(s > 1e-9, s, 1.0)
    norm = np.where(visible[..., None], (xy - c[:, None]) / s[:, None, None], 0.0)
    r = np.asarray(rect, np.float64).reshape(-1, 4)
    rn = np.concatenate([(r[:, :2] - c) / s[:, None], (r[:, 2:] - c) / s[:, None]], 1)
    size = np.maximum(np.stack([r[:, 2] - r[:, 0], r[:, 3] - r[:, 1]], 1), 1e-9)
    logs = np.clip(np.log(s[:, None] / size), -8.0, 8.0)
    f = np.concatenate([np.concatenate([norm, w[..., None]], -1).reshape(len(xy), -1),
                        np.clip(rn, -RECT_CLIP, RECT_CLIP), logs], 1)
    return f.astype(np.float32), c, s


def _sample(xy, label, rng):
    gt, label = augment(xy, label, rng)
    kind = rng.integers(0, len(ANYWHERE_KINDS), len(gt))
    rect, hide = anywhere_frames(gt, label, rng, kind)
    vis = _visible_in(gt, label, rect) & ~hide
    return _finish(gt, label, vis, rect, rng, noise=False)


def _net():
    import torch
    from torch import nn

    class RegressionMLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.inp = nn.Linear(N_FEATURES, HIDDEN)
            self.blocks = nn.ModuleList(nn.Sequential(nn.LayerNorm(HIDDEN), nn.Linear(HIDDEN, HIDDEN), nn.GELU(),
                                                      nn.Linear(HIDDEN, HIDDEN)) for _ in range(BLOCKS))
            self.norm = nn.LayerNorm(HIDDEN)
            self.out = nn.Linear(HIDDEN, 36)

        def forward(self, x):
            h = self.inp(x)
            for b in self.blocks:
                h = h + b(h)
            return self.out(torch.nn.functional.gelu(self.norm(h))).reshape(-1, 18, 2)

    return RegressionMLP()


def train_baseline(out_path: str = BASELINE_PATH, people_path: str = PEOPLE_PATH, steps: int = STEPS,
                   seed: int = 4321, max_people: Optional[int] = None) -> Dict[str, float]:
    import torch
    from tqdm import tqdm

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    data = load_people(people_path)
    tr = np.nonzero((data["split"] == 0) & (data["label"].sum(1) >= 3))[0]
    if max_people:
        tr = tr[:max_people]
    xy, label = data["xy"].astype(np.float64), data["label"]
    net = _net()
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=1e-4)
    t0 = time.time()
    for step in tqdm(range(steps), desc="regression baseline", mininterval=10):
        idx = rng.choice(tr, BATCH)
        s = _sample(xy[idx], label[idx], rng)
        f, c, sp = features(s.inp, s.visible, s.rect)
        target = (s.gt - c[:, None]) / sp[:, None, None]
        has = s.label[:, NECK] & s.label[:, R_HIP] & s.label[:, L_HIP]
        torso = np.linalg.norm(target[:, NECK] - (target[:, R_HIP] + target[:, L_HIP]) / 2, axis=1)
        torso = np.clip(np.where(has, torso, np.median(torso[has]) if has.any() else 1.0), 0.1, 10.0)
        mask = torch.from_numpy((s.label & ~s.visible).astype(np.float32))
        lr = 1e-3 * min(1.0, (step + 1) / 200) * 0.5 * (1 + np.cos(np.pi * step / steps))
        for g in opt.param_groups:
            g["lr"] = lr
        pred = net(torch.from_numpy(f))
        err = torch.sqrt(((pred - torch.from_numpy(np.clip(target, -50, 50).astype(np.float32))) ** 2).sum(-1) + 1e-9)
        loss = (err / torch.from_numpy(torso.astype(np.float32))[:, None] * mask).sum() / mask.sum().clamp_min(1.0)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
        opt.step()
    minutes = (time.time() - t0) / 60
    weights = {k: v.detach().numpy().astype(np.float32) for k, v in net.state_dict().items()}
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    np.savez(out_path, minutes=np.float64(minutes), steps=np.int64(steps), **weights)
    logger.info("regression baseline: %d steps in %.1f min -> %s", steps, minutes, out_path)
    return {"train_minutes": minutes, "steps": steps}


def _gelu(x):
    from math import sqrt
    try:
        from scipy.special import erf
    except ImportError:  # numpy-only fallback: Abramowitz-Stegun 7.1.26 (|error| < 1.5e-7)
        def erf(z):
            t = 1.0 / (1.0 + 0.3275911 * np.abs(z))
            y = 1 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * np.exp(-z * z)
            return np.sign(z) * y
    return 0.5 * x * (1.0 + erf(x / sqrt(2.0)))


def _ln(x, w, b):
    mu = x.mean(-1, keepdims=True)
    d = x - mu
    return d / np.sqrt((d * d).mean(-1, keepdims=True) + 1e-5) * w + b


def regression_method(path: str = BASELINE_PATH):
    """Method (inp, visible, rect) -> (B, 18, 2) px for the report, mirror-averaged; visible points kept."""
    z = np.load(path)
    w = {k: z[k].astype(np.float64) for k in z.files}

    def forward(f):
        h = f @ w["inp.weight"].T + w["inp.bias"]
        for i in range(BLOCKS):
            y = _ln(h, w[f"blocks.{i}.0.weight"], w[f"blocks.{i}.0.bias"])
            y = _gelu(y @ w[f"blocks.{i}.1.weight"].T + w[f"blocks.{i}.1.bias"])
            h = h + y @ w[f"blocks.{i}.3.weight"].T + w[f"blocks.{i}.3.bias"]
        return (_gelu(_ln(h, w["norm.weight"], w["norm.bias"])) @ w["out.weight"].T + w["out.bias"]).reshape(-1, 18, 2)

    def run(inp, vis, rect):
        inp = np.asarray(inp, np.float64)
        m_inp = inp[:, _MIRROR] * [-1.0, 1.0]
        m_rect = np.stack([-rect[:, 2], rect[:, 1], -rect[:, 0], rect[:, 3]], 1)
        f1, c1, s1 = features(inp, vis, rect)
        f2, c2, s2 = features(m_inp, vis[:, _MIRROR], m_rect)
        p1 = forward(f1) * s1[:, None, None] + c1[:, None]
        p2 = forward(f2) * s2[:, None, None] + c2[:, None]
        pred = (p1 + p2[:, _MIRROR] * [-1.0, 1.0]) / 2
        return np.where(vis[..., None], inp, pred)

    run.minutes = float(z["minutes"])
    return run


def main(argv: List[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=STEPS)
    ap.add_argument("-o", "--out", default=BASELINE_PATH)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    train_baseline(args.out, steps=args.steps)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
