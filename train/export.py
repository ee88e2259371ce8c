"""Export the trained checkpoint to ``models/*.safetensors`` (float32, numpy-readable)."""
from __future__ import annotations

import argparse
import json
import logging
import os
from typing import Dict, List

import numpy as np

from lib_skelext.completion_model import DEFAULT_MODEL_PATH, ModelConfig, save_model

from .train import CKPT_PATH

logger = logging.getLogger(__name__)


def checkpoint_weights(ckpt_path: str = CKPT_PATH) -> tuple:
    """(numpy weights named as CompletionModel expects, ModelConfig, checkpoint dict)."""
    import torch

    ckpt = torch.load(ckpt_path, map_location="cpu", weights_only=False)
    weights: Dict[str, np.ndarray] = {k: v.detach().cpu().numpy().astype(np.float32)
                                      for k, v in ckpt["state_dict"].items()}
    return weights, ModelConfig.from_json(ckpt["model_config"]), ckpt


def export(ckpt_path: str = CKPT_PATH, out_path: str = DEFAULT_MODEL_PATH) -> str:
    weights, config, ckpt = checkpoint_weights(ckpt_path)
    meta = {
        "train_config": json.dumps(ckpt.get("train_config", {}), sort_keys=True),
        "train_summary": json.dumps(ckpt.get("summary", {}), sort_keys=True),
        "data": "MPII Human Pose (BSD, research use), LSP-extended (citation), COCO 2017 val keypoints (CC BY 4.0)",
        "format": "skelext completion model; see models/MODEL_CARD.md",
    }
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    save_model(out_path, weights, config, meta)
    n = sum(v.size for k, v in weights.items())
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
