"""Plots for ``bench_sequence.py``: one completed ankle's track over time, per-frame vs sequence."""
from __future__ import annotations

import os
from typing import Callable, Dict

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMAGES = os.path.join(ROOT, "docs", "images")
COLOURS = {"per-frame": "#d62728", "sequence (causal)": "#1f77b4", "sequence (offline)": "#2ca02c"}


def _plot(path: str, title: str, tracks: Dict[str, np.ndarray], truth: np.ndarray, torso: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 1, figsize=(8, 5), sharex=True)
    for k, (ax, axis) in enumerate(zip(axes, ("x", "y"))):
        ax.plot(truth[:, k] / torso, color="black", lw=2, alpha=0.5, label="reference")
        for name, xy in tracks.items():
            ax.plot(xy[:, k] / torso, color=COLOURS[name], lw=1.2, label=name)
        ax.set_ylabel(f"ankle {axis} (torso lengths)")
    axes[0].set_title(title, fontsize=10)
    axes[0].legend(fontsize=8, loc="best")
    axes[1].set_xlabel("frame")
    fig.tight_layout()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def ankle_plots(methods: Dict[str, Callable], outputs: Callable, video: Dict[str, tuple]) -> Dict[str, str]:
    """Writes docs/images/sequence_ankle_synthetic.png (and _video.png); returns name -> path."""
    from sequence_synthetic import make_sequences

    written = {}
    clip = make_sequences(2, ("waist_up",), n_people=3, length=120, seed=11)[0]
    ankle = 13 if clip.label[13] else 10
    tracks = {}
    for name, fn in methods.items():
        pred, comp = outputs(fn(clip.frames))
        tracks[name] = np.where(comp[:, ankle, None], pred[:, ankle], np.nan)
    path = os.path.join(IMAGES, "sequence_ankle_synthetic.png")
    _plot(path, "held-out test person, waist-up, panning/zooming camera, 2% jitter: "
          f"{'left' if ankle == 13 else 'right'} ankle (completed)",
          tracks, clip.gt[:, ankle], float(np.median(clip.torso)))
    written["synthetic"] = os.path.relpath(path, ROOT)
    key = "woman/moving_waist_up"
    if key in video:
        frames, gt, gt_ok, torso, _ = video[key]
        tracks = {}
        for name, fn in methods.items():
            pred, comp = outputs(fn(frames))
            tracks[name] = np.where(comp[:, 13, None], pred[:, 13], np.nan)
        truth = np.where(gt_ok[:, 13, None], gt[:, 13], np.nan)
        path = os.path.join(IMAGES, "sequence_ankle_video.png")
        _plot(path, "sports2d_demo.mp4, walking woman, moving waist-up crop: left ankle (completed)",
              tracks, truth, float(np.median(torso)))
        written["video"] = os.path.relpath(path, ROOT)
    return written
