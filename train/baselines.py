"""Comparison methods for the report: mean pose fits, nearest neighbour, the seed model.

Every method maps (inp (B, 18, 2) px, visible (B, 18) bool, rect (B, 4) px) to a
full body (B, 18, 2) px whose visible points equal the input.
"""
from __future__ import annotations

import logging
import os
import sys
from typing import Callable, Dict, Tuple

import numpy as np

from lib_skelext.completion_model import fit_normalisation
from lib_skelext.pose import L_HIP, NECK, R_HIP

logger = logging.getLogger(__name__)
Method = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def _keep_visible(pred: np.ndarray, inp: np.ndarray, vis: np.ndarray) -> np.ndarray:
    return np.where(vis[..., None], inp, pred)


def mean_pose_shift_scale(mean_pose: np.ndarray) -> Method:
    """Mean pose fitted by scale + translation (the model's own normalisation), no rotation."""
    def run(inp, vis, rect):
        scale, offset, _ = fit_normalisation(inp, vis, mean_pose)
        return _keep_visible(mean_pose[None] * scale[:, None, None] + offset[:, None], inp, vis)
    return run


def mean_pose_similarity(mean_pose: np.ndarray) -> Method:
    """Mean pose fitted by a least-squares similarity (scale, rotation, translation)."""
    def run(inp, vis, rect):
        w = vis.astype(np.float64)
        n = np.maximum(w.sum(1), 1)[:, None]
        m = mean_pose[..., 0] + 1j * mean_pose[..., 1]
        p = inp[..., 0] + 1j * inp[..., 1]
        cm = (m[None] * w).sum(1, keepdims=True) / n
        cp = (p * w).sum(1, keepdims=True) / n
        num = (np.conj(m[None] - cm) * (p - cp) * w).sum(1, keepdims=True)
        den = (np.abs(m[None] - cm) ** 2 * w).sum(1, keepdims=True)
        a = np.where(den > 1e-9, num / np.maximum(den, 1e-9), 1.0)
        z = a * (m[None] - cm) + cp
        return _keep_visible(np.stack([z.real, z.imag], -1), inp, vis)
    return run


def nearest_neighbour(pool_xy: np.ndarray, pool_label: np.ndarray, mean_pose: np.ndarray,
                      max_pool: int = 6000, seed: int = 0) -> Method:
    """Training pose whose visible points fit best (scale + translation); its points fill the gaps.

    Pool: training people with all 14 non-face body points labelled; their
    missing face points come from the mean pose (neck origin, torso 1).
    """
    body = [j for j in range(18) if j not in (0, 14, 15, 16, 17)]
    ok = pool_label[:, body].all(1)
    xy, lab = pool_xy[ok].astype(np.float64), pool_label[ok]
    rng = np.random.default_rng(seed)
    if len(xy) > max_pool:
        pick = rng.choice(len(xy), max_pool, replace=False)
        xy, lab = xy[pick], lab[pick]
    mid = (xy[:, R_HIP] + xy[:, L_HIP]) / 2
    torso = np.maximum(np.linalg.norm(xy[:, NECK] - mid, axis=1), 1e-6)
    pool = (xy - xy[:, NECK][:, None]) / torso[:, None, None]
    pool = np.where(lab[..., None], pool, mean_pose[None])
    logger.info("nearest-neighbour pool: %d training people", len(pool))

    def run(inp, vis, rect):
        out = np.empty_like(inp, dtype=np.float64)
        for i in range(len(inp)):
            v = vis[i]
            q = inp[i, v]  # (V, 2)
            c = pool[:, v]  # (P, V, 2)
            cq, cc = q.mean(0), c.mean(1, keepdims=True)
            cz = c - cc
            s = (cz * (q - cq)).sum((1, 2)) / np.maximum((cz ** 2).sum((1, 2)), 1e-9)
            s = np.maximum(s, 1e-6)
            fit = s[:, None, None] * cz + cq
            res = ((fit - q) ** 2).sum((1, 2))
            b = int(np.argmin(res))
            out[i] = s[b] * (pool[b] - cc[b]) + cq
        return _keep_visible(out, inp, vis)
    return run


def seed_method(anchors_dir: str, weights_file: str) -> Tuple[Method, Dict[str, int]]:
    """The seed model via ``seed_model.complete`` on the canvas = frame rectangle.

    The seed needs the neck; without it, missing points are placed at the centroid
    of the visible points (counted, see ``stats['no_neck']``).
    """
    if anchors_dir not in sys.path:
        sys.path.insert(0, anchors_dir)
    import seed_model  # type: ignore  # comparison only, never shipped

    weights = os.path.join(anchors_dir, weights_file)
    stats = {"ran": 0, "no_neck": 0}

    def run(inp, vis, rect):
        out = np.empty_like(inp, dtype=np.float64)
        for i in range(len(inp)):
            x0, y0, x1, y1 = rect[i]
            if not vis[i, NECK]:
                stats["no_neck"] += 1
                out[i] = inp[i, vis[i]].mean(0)
                continue
            stats["ran"] += 1
            pose = np.zeros((18, 3))
            pose[:, :2] = inp[i] - [x0, y0]
            pose[:, 2] = vis[i]
            out[i] = seed_model.complete(pose, x1 - x0, y1 - y0, 0.0, weights) + [x0, y0]
        return _keep_visible(out, inp, vis)
    return run, stats
