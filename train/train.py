"""Train the completion network on simulated truncations of real training people.

Fixed seeds, a fixed number of steps, tqdm progress; the best checkpoint on a
fixed simulated validation set (val split images) goes to ``train/cache/ckpt.pt``.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import time
from dataclasses import asdict, dataclass
from typing import Dict, List, Optional

import numpy as np

from lib_skelext.completion_model import COORD_CLIP, ModelConfig, encode
from lib_skelext.pose import L_HIP, NECK, R_HIP

from . import CACHE_DIR
from .prepare import PEOPLE_PATH, SOURCES, load_people
from .simulate_crops import SCENARIOS, Sample, scenario_sample, training_sample

logger = logging.getLogger(__name__)
CKPT_PATH = os.path.join(CACHE_DIR, "ckpt.pt")


@dataclass
class TrainConfig:
    steps: int = 32000
    batch: int = 512
    lr: float = 2e-3
    weight_decay: float = 1e-4
    warmup: int = 300
    coco_share: float = 0.2
    jitter_share: float = 0.6
    jitter_max: float = 0.04
    framing_share: float = 0.6
    hide_share: float = 0.3
    drop_max: float = 0.06
    top_weight: float = 2.0
    seed: int = 1234
    val_size: int = 8192
    val_every: int = 500
    threads: int = 1  # 1 thread: the 2 cores are shared, and 2 OMP threads thrash under load
    anywhere_share: float = 0.5
    hidden: int = 256
    blocks: int = 3
    hypotheses: int = 8
    encoding_version: int = 2
    norm: str = "layer"
    act: str = "gelu"
    regression_head: bool = True
    reg_weight: float = 1.0
    alternative_heads: int = 2
    choice_weight: float = 1.0
    torso_units: bool = True
    mirror: bool = False
    #: "" (the product): the training mixture; a scenario name of ``simulate_crops.SCENARIOS``: train only on
    #: that evaluation scenario's frames (a specialist, for the ablation that asks how far one model could go
    #: on one kind of frame if it served nothing else; never shipped)
    specialist: str = ""


def compute_mean_pose(xy: np.ndarray, label: np.ndarray) -> np.ndarray:
    """(18, 2) median pose of people with neck + both hips: neck at 0, torso length 1, y down."""
    ok = label[:, NECK] & label[:, R_HIP] & label[:, L_HIP]
    xy, label = xy[ok].astype(np.float64), label[ok]
    mid = (xy[:, R_HIP] + xy[:, L_HIP]) / 2
    torso = np.linalg.norm(xy[:, NECK] - mid, axis=1)
    keep = torso > 1e-3
    norm = (xy[keep] - xy[keep, NECK][:, None]) / torso[keep, None, None]
    lab = label[keep]
    mean = np.zeros((18, 2))
    for j in range(18):
        if not lab[:, j].any():
            raise ValueError(f"no training person labels point {j}; the mean pose needs every point")
        mean[j] = np.median(norm[lab[:, j], j], axis=0)
    return mean


def batch_tensors(sample: Sample, mean_pose: np.ndarray, version: int = 2):
    """Simulated sample -> (features, target_norm, mask, torso_norm) torch tensors for the loss.

    torso_norm (B,): the ground-truth neck -> mid-hip length in normalised units where
    the source labels them (else 1), clipped to 0.3..3.
    """
    import torch

    feats, scale, offset, ok = encode(sample.inp, sample.visible, sample.rect, mean_pose, version)
    target = (sample.gt - offset[:, None]) / scale[:, None, None]
    target = np.clip(target, -COORD_CLIP, COORD_CLIP)
    mask = sample.label & ~sample.visible & ok[:, None]
    has = sample.label[:, NECK] & sample.label[:, R_HIP] & sample.label[:, L_HIP]
    torso = np.linalg.norm(target[:, NECK] - (target[:, R_HIP] + target[:, L_HIP]) / 2, axis=1)
    torso = np.clip(np.where(has, torso, 1.0), 0.3, 3.0)
    return (torch.from_numpy(feats), torch.from_numpy(target.astype(np.float32)),
            torch.from_numpy(mask.astype(np.float32)), torch.from_numpy(torso.astype(np.float32)))


def train(cfg: TrainConfig, people_path: str = PEOPLE_PATH, ckpt_path: str = CKPT_PATH,
          max_people: Optional[int] = None, progress: bool = True) -> Dict[str, float]:
    """Run training; returns summary figures (also stored in the checkpoint)."""
    import torch
    from tqdm import tqdm

    from .model import CompletionNet, mixture_loss

    if cfg.specialist and cfg.specialist not in SCENARIOS:
        raise ValueError(f"unknown scenario {cfg.specialist!r}; one of {', '.join(SCENARIOS)}")
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    data = load_people(people_path)
    usable = data["label"].sum(1) >= 3
    tr = np.nonzero((data["split"] == 0) & usable)[0]
    va = np.nonzero((data["split"] == 1) & usable)[0]
    if max_people:  # a random subset (smoke tests), every source kept
        sub = np.random.default_rng(cfg.seed)
        tr = np.sort(sub.choice(tr, min(max_people, len(tr)), replace=False))
        va = np.sort(sub.choice(va, min(max(64, max_people // 8), len(va)), replace=False))
    xy, label = data["xy"].astype(np.float64), data["label"]
    mean_pose = compute_mean_pose(xy[tr], label[tr])
    if cfg.specialist:  # the scenario's own people: torso labelled, upright for the height cuts (as evaluate)
        from .evaluate import for_scenario, test_people

        tr, va = (for_scenario(np.intersect1d(test_people(data, split=split_id), among), xy, cfg.specialist)
                  for split_id, among in ((0, tr), (1, va)))

    def draw(idx: np.ndarray, gen: np.random.Generator) -> Sample:
        if cfg.specialist:
            return scenario_sample(xy[idx], label[idx], cfg.specialist, gen)
        return training_sample(xy[idx], label[idx], gen, cfg.jitter_share, cfg.jitter_max, cfg.framing_share,
                               cfg.hide_share, cfg.drop_max, cfg.anywhere_share)

    coco = tr[data["source"][tr] == SOURCES.index("coco")]
    other = tr[data["source"][tr] != SOURCES.index("coco")]
    if len(coco) == 0:
        coco = other

    vrng = np.random.default_rng(cfg.seed + 1)
    vidx = vrng.choice(va, cfg.val_size, replace=True)
    if cfg.specialist:
        val_sample = draw(vidx, vrng)
    else:  # training_sample's default detector noise whatever --jitter-*: as in every run so far (weights reproduce)
        val_sample = training_sample(xy[vidx], label[vidx], vrng, framing_share=cfg.framing_share,
                                     hide_share=cfg.hide_share, drop_max=cfg.drop_max, anywhere_share=cfg.anywhere_share)
    val = batch_tensors(val_sample, mean_pose, cfg.encoding_version)

    config = ModelConfig(hidden=cfg.hidden, blocks=cfg.blocks, hypotheses=cfg.hypotheses,
                         encoding_version=cfg.encoding_version, norm=cfg.norm, act=cfg.act,
                         regression_head=cfg.regression_head, mirror=cfg.mirror,
                         alternative_heads=cfg.alternative_heads)
    net = CompletionNet(config, torch.from_numpy(mean_pose))
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)

    def lr_at(step: int) -> float:
        if step < cfg.warmup:
            return cfg.lr * (step + 1) / cfg.warmup
        t = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
        return 1e-5 + 0.5 * (cfg.lr - 1e-5) * (1 + np.cos(np.pi * t))

    def evaluate_val() -> tuple:
        net.eval()
        with torch.no_grad():
            out = net(val[0])
            _, nll, err = mixture_loss(*out, val[1], val[2], torso=val[3] if cfg.torso_units else None)
        net.train()
        return float(nll), float(err)

    best = (float("inf"), None)
    history: List[Dict[str, float]] = []
    t0 = time.time()
    c0 = time.process_time()  # CPU time of this process: the run's length on an unshared core
    bar = tqdm(range(cfg.steps), disable=not progress, desc="train", mininterval=5)
    run_loss = None
    for step in bar:
        n_coco = int(rng.binomial(cfg.batch, cfg.coco_share))
        idx = np.concatenate([rng.choice(coco, n_coco), rng.choice(other, cfg.batch - n_coco)])
        feats, target, mask, torso = batch_tensors(draw(idx, rng), mean_pose, cfg.encoding_version)
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        loss, nll, err = mixture_loss(*net(feats), target, mask, cfg.top_weight, cfg.reg_weight,
                                      torso if cfg.torso_units else None, cfg.choice_weight)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
        opt.step()
        run_loss = float(err) if run_loss is None else 0.98 * run_loss + 0.02 * float(err)
        if (step + 1) % cfg.val_every == 0 or step + 1 == cfg.steps:
            vnll, verr = evaluate_val()
            history.append({"step": step + 1, "val_nll": vnll, "val_top1_err": verr, "train_err": run_loss,
                            "minutes": (time.time() - t0) / 60})
            bar.set_postfix(train_err=f"{run_loss:.3f}", val_err=f"{verr:.3f}", val_nll=f"{vnll:.2f}")
            logger.info("step %d: train err %.3f, val err %.3f, val nll %.3f", step + 1, run_loss, verr, vnll)
            # with a regression head the first completion is what users see: keep the lowest top-1 error
            crit = verr if cfg.regression_head else vnll
            if crit < best[0]:
                best = (crit, {k: v.detach().clone() for k, v in net.state_dict().items()})
    minutes = (time.time() - t0) / 60
    summary = {"train_minutes": minutes, "train_cpu_minutes": (time.process_time() - c0) / 60,
               "best_val_" + ("top1_err" if cfg.regression_head else "nll"): best[0],
               "best_val_nll": min(h["val_nll"] for h in history), "steps": cfg.steps,
               "train_people": int(len(tr)), "val_people": int(len(va))}
    os.makedirs(os.path.dirname(ckpt_path), exist_ok=True)
    torch.save({"state_dict": best[1], "model_config": config.to_json(), "train_config": asdict(cfg),
                "mean_pose": mean_pose, "history": history, "summary": summary}, ckpt_path)
    logger.info("trained %d steps in %.1f min; checkpoint %s", cfg.steps, minutes, ckpt_path)
    return summary


def main(argv: List[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for k, v in asdict(TrainConfig()).items():
        kind = (lambda t: t.lower() in ("1", "true", "yes")) if isinstance(v, bool) else type(v)
        ap.add_argument(f"--{k.replace('_', '-')}", type=kind, default=v)
    ap.add_argument("--ckpt", default=CKPT_PATH)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    cfg = TrainConfig(**{k: getattr(args, k) for k in asdict(TrainConfig())})
    logger.info("summary %s", json.dumps(train(cfg, ckpt_path=args.ckpt)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
