"""Leg bone lengths of a person whose legs the picture cuts or hides (issue #25): a small network.

The completion places missing points where they are most likely (it is trained on their Euclidean
error), which shortens a bone whose direction is uncertain; retargeting needs the bone's length.
This network predicts, for the four leg bones (hip -> knee, knee -> ankle, right then left), the log
of their length from the given points alone, trained with an L1 loss (the median, which is what the
retargeting benchmark scores) on simulated cuts of training people (``train/leg_lengths.py``).

Input: the completion's encoding of the given points and the visible canvas
(``completion_model.encode``, fitted to this file's own ``mean_pose``) plus, for each of the 13 body
bones, the log of its length in those units and whether it is seen (0 where not). Output: log
lengths in the same units (so pixels = exp(output) * the fitted scale). Network: standardised
input, two hidden layers with GELU (tanh form), linear output; a person and its mirror image are
averaged. Weights: ``models/skelext_leg_lengths.safetensors`` (numpy inference; safetensors read
lazily); its metadata holds the config (hidden width, the blend weight with the completion's
lengths chosen on validation people).
"""
from __future__ import annotations

import json
import os
import threading
from typing import Dict, Optional, Tuple

import numpy as np

from .assets import asset_path, read_model_file
from .completion_model import _gelu, encode
from .errors import ModelError
from .pose import BODY_FLIP, L_ANKLE, L_HIP, L_KNEE, LIMBS, R_ANKLE, R_HIP, R_KNEE

MODEL_FILE = "skelext_leg_lengths.safetensors"
DEFAULT_PATH = str(asset_path("models/" + MODEL_FILE))
#: The bones predicted, in output order (right thigh, right shin, left thigh, left shin).
LEG_BONES = ((R_HIP, R_KNEE), (R_KNEE, R_ANKLE), (L_HIP, L_KNEE), (L_KNEE, L_ANKLE))
#: Body bones whose seen length is an input (the 13 bones among points 0..13).
INPUT_BONES = tuple(b for b in LIMBS if max(b) <= 13)
_MIRROR = np.array(BODY_FLIP)
#: Output columns of the mirror image, back in this person's order.
_MIRROR_LEGS = np.array([2, 3, 0, 1])
_LOG_MIN = 1e-3

_lock = threading.Lock()
_cache: Dict[str, "LegLengthModel"] = {}


def features(xy: np.ndarray, visible: np.ndarray, rect: np.ndarray,
             mean_pose: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(N, 18, 2) px, (N, 18) bool given, (N, 4) px canvas -> features (N, 86), scale (N,) px per unit, ok (N,)."""
    xy = np.asarray(xy, np.float64)
    vis = np.asarray(visible, bool)
    feats, scale, _, ok = encode(xy, vis, rect, mean_pose)
    cols = [feats.astype(np.float64)]
    for p, c in INPUT_BONES:
        seen = vis[:, p] & vis[:, c]
        length = np.linalg.norm(xy[:, c] - xy[:, p], axis=1) / scale
        cols += [np.where(seen, np.log(np.maximum(np.where(seen, length, 1.0), _LOG_MIN)), 0.0), seen.astype(np.float64)]
    return np.column_stack(cols), scale, ok


def mirrored(xy: np.ndarray, visible: np.ndarray, rect: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The mirror image (left and right swapped, x negated) of people and their canvases."""
    rect = np.asarray(rect, np.float64).reshape(-1, 4)
    return (np.asarray(xy, np.float64)[:, _MIRROR] * [-1.0, 1.0], np.asarray(visible, bool)[:, _MIRROR],
            np.stack([-rect[:, 2], rect[:, 1], -rect[:, 0], rect[:, 3]], 1))


class LegLengthModel:
    """The numpy network; weights named as the torch module's (``train/leg_lengths.py``)."""

    def __init__(self, weights: Dict[str, np.ndarray], config: Dict[str, float], path: str = "") -> None:
        self.w = {k: np.asarray(v, np.float64) for k, v in weights.items()}
        self.mean_pose = self.w["mean_pose"]
        self.config = config
        self.path = path
        #: log length = blend * this network's + (1 - blend) * the completion's (chosen on validation people)
        self.blend = float(config.get("blend", 1.0))

    def forward(self, feats: np.ndarray) -> np.ndarray:
        w = self.w
        h = (feats - w["feature_mean"]) / w["feature_std"]
        h = _gelu(h @ w["net.0.weight"].T + w["net.0.bias"])
        h = _gelu(h @ w["net.2.weight"].T + w["net.2.bias"])
        return h @ w["net.4.weight"].T + w["net.4.bias"]

    def predict(self, xy: np.ndarray, visible: np.ndarray, rect: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """(N, 18, 2) px, (N, 18) given, (N, 4) canvas px -> leg bone lengths (N, 4) px (``LEG_BONES``), ok (N,)."""
        f, scale, ok = features(xy, visible, rect, self.mean_pose)
        fm, _, ok_m = features(*mirrored(xy, visible, rect), self.mean_pose)
        log_len = (self.forward(f) + self.forward(fm)[:, _MIRROR_LEGS]) / 2.0
        return np.exp(log_len) * scale[:, None], ok & ok_m


def load_leg_model(path: Optional[str] = None) -> LegLengthModel:
    """Load (once, thread-safe) the leg-length network; default: the file shipped in ``models/``."""
    path = os.path.abspath(path or DEFAULT_PATH)
    with _lock:
        model = _cache.get(path)
        if model is not None:
            return model
        weights, meta = read_model_file(path, "leg-length model", "python -m train.leg_lengths")
        try:
            config = json.loads(meta["config"])
        except (KeyError, TypeError, ValueError) as exc:  # a foreign file: no config
            raise ModelError(f"cannot read leg-length model {path}: {exc}; re-download or rebuild it") from exc
        model = _cache[path] = LegLengthModel(weights, config, path)
        return model


def save_leg_model(path: str, weights: Dict[str, np.ndarray], config: Dict[str, float]) -> None:
    """Write weights (float32) + the config as metadata (used by ``train/leg_lengths.py``)."""
    from safetensors.numpy import save_file

    save_file({k: np.ascontiguousarray(v, dtype=np.float32) for k, v in weights.items()}, path,
              metadata={"config": json.dumps(config, sort_keys=True)})
