"""Export the trained checkpoint to ``models/*.safetensors`` (float32, numpy-readable)."""
from __future__ import annotations

import argparse
import json
import logging
import os
from typing import Dict, List

import numpy as np

from lib_skelext.completion_model import (DEFAULT_MODEL_PATH, CompletionModel, ModelConfig, rank_completions,
                                          save_model)

from .prepare import PEOPLE_PATH, load_people
from .simulate_crops import SCENARIOS, scenario_sample
from .train import CKPT_PATH

logger = logging.getLogger(__name__)


def checkpoint_weights(ckpt_path: str = CKPT_PATH) -> tuple:
    """(numpy weights named as CompletionModel expects, ModelConfig, checkpoint dict)."""
    import torch

    # weights_only: no arbitrary pickle code runs; the checkpoint's numpy arrays (mean_pose) are allowed by name
    try:
        from numpy._core.multiarray import _reconstruct  # numpy 2
    except ImportError:
        from numpy.core.multiarray import _reconstruct
    allowed = [_reconstruct, np.ndarray, np.dtype] + [
        type(np.dtype(t)) for t in (np.float64, np.float32, np.int64, np.bool_)]
    with torch.serialization.safe_globals(allowed):
        ckpt = torch.load(ckpt_path, map_location="cpu", weights_only=True)
    weights: Dict[str, np.ndarray] = {k: v.detach().cpu().numpy().astype(np.float32)
                                      for k, v in ckpt["state_dict"].items()}
    return weights, ModelConfig.from_json(ckpt["model_config"]), ckpt


def _isotonic(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pool-adjacent-violators: non-decreasing fit of y (ordered by x already)."""
    vals, wts = [], []
    for v in y:
        vals.append(float(v))
        wts.append(1.0)
        while len(vals) > 1 and vals[-2] > vals[-1]:
            w = wts[-2] + wts[-1]
            vals[-2:] = [(vals[-2] * wts[-2] + vals[-1] * wts[-1]) / w]
            wts[-2:] = [w]
    return np.repeat(vals, np.array(wts, int))


def fit_calibration(model: CompletionModel, people_path: str = PEOPLE_PATH, seed: int = 11,
                    bins: int = 20) -> np.ndarray:
    """(2, bins + 2) knots mapping raw confidence to the share of completed points within
    0.5 torso, fitted on VALIDATION people (every scenario), isotonic, through (0, 0) and (1, 1)."""
    from lib_skelext.pose import L_HIP, NECK, R_HIP

    data = load_people(people_path)
    lab = data["label"]
    idx = np.nonzero((data["split"] == 1) & lab[:, NECK] & lab[:, R_HIP] & lab[:, L_HIP] & (lab.sum(1) >= 4))[0]
    xy = data["xy"].astype(np.float64)
    confs, hits = [], []
    for k, sc in enumerate(SCENARIOS):
        s = scenario_sample(xy[idx], lab[idx], sc, np.random.default_rng(seed + k))
        ranked = rank_completions(model.predict(s.inp, s.visible, s.rect), ~s.visible, 1)
        target = s.label & ~s.visible
        torso = np.linalg.norm(s.gt[:, NECK] - (s.gt[:, R_HIP] + s.gt[:, L_HIP]) / 2, axis=1)
        err = np.linalg.norm(ranked.options_px[:, 0] - s.gt, axis=-1) / torso[:, None]
        confs.append(ranked.confidence[target])
        hits.append(err[target] < 0.5)
    conf, hit = np.concatenate(confs), np.concatenate(hits).astype(np.float64)
    order = np.argsort(conf)
    conf, hit = conf[order], _isotonic(conf[order], hit[order])
    edges = np.linspace(0, len(conf), bins + 1).astype(int)
    xs = [conf[a:b].mean() for a, b in zip(edges[:-1], edges[1:])]
    ys = [hit[a:b].mean() for a, b in zip(edges[:-1], edges[1:])]
    knots = np.array([[0.0] + xs + [1.0], [0.0] + ys + [max(ys[-1], 1.0)]])
    knots[1] = np.maximum.accumulate(np.clip(knots[1], 0, 1))
    logger.info("confidence calibration on %d validation points: %s", len(conf),
                " ".join(f"{a:.2f}->{b:.2f}" for a, b in knots.T[1:-1:4]))
    return knots


def export(ckpt_path: str = CKPT_PATH, out_path: str = DEFAULT_MODEL_PATH, people_path: str = PEOPLE_PATH) -> str:
    weights, config, ckpt = checkpoint_weights(ckpt_path)
    weights["calibration"] = fit_calibration(CompletionModel(weights, config), people_path).astype(np.float32)
    meta = {
        "train_config": json.dumps(ckpt.get("train_config", {}), sort_keys=True),
        "train_summary": json.dumps(ckpt.get("summary", {}), sort_keys=True),
        "data": "MPII Human Pose (BSD, research use), LSP-extended (citation), COCO 2017 val keypoints (CC BY 4.0)",
        "format": "skelext completion model; see models/MODEL_CARD.md",
    }
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    save_model(out_path, weights, config, meta)
    n = sum(v.size for k, v in weights.items() if k not in ("mean_pose", "calibration"))
    logger.info("exported %s: %d parameters, %.2f MB", out_path, n, os.path.getsize(out_path) / 1e6)
    return out_path


def main(argv: List[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ckpt", default=CKPT_PATH)
    ap.add_argument("-o", "--out", default=DEFAULT_MODEL_PATH)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    export(args.ckpt, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
