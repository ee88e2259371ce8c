"""The ablations of issue #16: short training runs, one change at a time, scored on the VALIDATION split.

    .venv/bin/python -m train.ablations --run      # trains, exports and scores every run (about 5 min each)
    .venv/bin/python -m train.ablations            # prints the table of train/README.md from the stored results

Each run is ``python -m train.train --steps 4000`` with the options below (M_steps96k sets its own); its scores
(``train.evaluate --split val --quick``) go to ``train/report/ablations/<name>.json``.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import subprocess
import sys
from typing import Dict, List

import numpy as np

from lib_skelext.completion_model import DEFAULT_MODEL_PATH

from . import CACHE_DIR, REPO_ROOT
from .simulate_crops import SCENARIOS

OUT_DIR = os.path.join(REPO_ROOT, "train", "report", "ablations")
#: Column of the model under test ("skelext v2" in the files written on 2026-12-01, "skelext" since).
_OURS = ("skelext", "skelext v2")
STEPS = 4000
_V1 = ["--encoding-version", "1", "--norm", "none", "--act", "relu", "--regression-head", "false",
       "--anywhere-share", "0", "--torso-units", "false", "--mirror", "true"]
#: G's options (v2's recipe); the runs after G change one thing from it
_G = ["--anywhere-share", "0.5", "--alternative-heads", "2"]
#: name -> (what changes, train.train options, evaluate options; "shipped": score the shipped model, no training)
RUNS: Dict[str, tuple] = {
    "A_v1recipe": ("v1.1 recipe (58 features, ReLU, mixture top-1, mirror pooled), 4k steps", _V1, []),
    "B_anywhere": ("A + 30% anywhere frames (union of frame distributions)", _V1 + ["--anywhere-share", "0.3"], []),
    "C_logframe": ("B + log frame size (encoding 2)", ["--norm", "none", "--act", "relu", "--regression-head", "false",
                                                      "--anywhere-share", "0.3", "--torso-units", "false",
                                                      "--mirror", "true"], []),
    "D_lngelu": ("C + pre-LayerNorm blocks, GELU", ["--regression-head", "false", "--anywhere-share", "0.3",
                                                    "--torso-units", "false", "--mirror", "true"], []),
    "E_reghead": ("D + regression head for the first completion (Euclidean, torso units), no mirror pooling",
                  ["--anywhere-share", "0.3"], []),
    "E_reghead_mirror": ("E with mirror pooling at inference (same weights)", None, ["--mirror", "on"]),
    "F_anywhere50": ("E with 50% anywhere frames", ["--anywhere-share", "0.5"], []),
    "G_choice2": ("F + 2 alternative regression heads, winner takes all (best of 3)", _G, []),
    "G_seed2": ("G again with another seed (how far two runs of one recipe differ)",
                _G + ["--seed", "4321"], []),
    "H_clean": ("G without detector noise in training (no jitter, no dropped points), as the regression MLP",
                _G + ["--jitter-share", "0", "--drop-max", "0"], []),
    "I_wide384": ("G, 384 wide instead of 256 (2.2x the multiply-adds)", _G + ["--hidden", "384"], []),
    "J_centroid": ("G with the regression MLP's input normalisation (centred on the visible points' mean, divided "
                   "by their RMS spread: encoding 3) instead of the mean-pose fit",
                   _G + ["--encoding-version", "3"], []),
    "K_reg4": ("G with the first completion's Euclidean term weighted 4 instead of 1 (the trunk leans to top-1)",
               _G + ["--reg-weight", "4"], []),
    "L_reg16": ("G with the Euclidean term weighted 16 and no mixture top-1 term (nearly a pure regression trunk)",
                _G + ["--reg-weight", "16", "--top-weight", "0"], []),
    "M_steps96k": ("v2 as shipped, trained 96,000 steps instead of 32,000 (3x the 26-minute budget)",
                   ["--steps", "96000"], []),
    # specialists: how far one model could go on one scenario if it served nothing else
    **{f"S_{sc}": (f"a specialist: G's network trained 16,000 steps on {sc} evaluation frames only",
                   _G + ["--specialist", sc, "--steps", "16000"], [])
       for sc in ("side_anywhere", "waist_up", "head_shoulders", "side_cut")},
    "V_shipped": ("v2 as shipped (32,000 steps), for M_steps96k and the specialists", "shipped", []),
}


def run(names: List[str]) -> None:
    os.makedirs(OUT_DIR, exist_ok=True)
    py = sys.executable
    for name in names:
        what, train_opts, eval_opts = RUNS[name]
        model_name = name if train_opts is not None else name.rsplit("_", 1)[0]
        ckpt = os.path.join(CACHE_DIR, "abl", model_name + ".pt")
        model = os.path.join(CACHE_DIR, "abl", model_name + ".safetensors")
        if train_opts == "shipped":
            model = DEFAULT_MODEL_PATH
        elif train_opts is not None:
            os.makedirs(os.path.dirname(ckpt), exist_ok=True)
            subprocess.run([py, "-m", "train.train", "--steps", str(STEPS), "--ckpt", ckpt] + train_opts, check=True)
            subprocess.run([py, "-m", "train.export", "--ckpt", ckpt, "-o", model], check=True)
        subprocess.run([py, "-m", "train.evaluate", "--model", model, "--split", "val", "--quick", "--reference", "",
                        "--baseline", "", "--json", os.path.join(OUT_DIR, name + ".json")] + eval_opts, check=True)


def table() -> List[str]:
    """Markdown rows: one per stored run (mean error of the removed points, torso lengths, validation split)."""
    L = ["| run | change | " + " | ".join(SCENARIOS) + " | mean |", "|---|---" + "|---" * (len(SCENARIOS) + 1) + "|"]
    shown = set()  # a peer's row once, however many files hold it
    for path in sorted(glob.glob(os.path.join(OUT_DIR, "*.json"))):
        name = os.path.basename(path)[:-5]
        with open(path) as f:
            res = json.load(f)["all"]
        for method in res[SCENARIOS[0]]:
            if (name not in RUNS and method in _OURS) or (method not in _OURS and method in shown):
                continue  # a peers file's v2 column repeats a run above; a peer is shown once
            shown.add(method)
            v = [res[sc][method]["err"] for sc in SCENARIOS]
            label = RUNS[name][0] if name in RUNS else name
            if method not in _OURS:
                label = f"{method}"
            L.append(f"| {name if method in _OURS else '-'} | {label} | " + " | ".join(f"{x:.3f}" for x in v)
                     + f" | {np.mean(v):.3f} |")
    return L


def main(argv: List[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", nargs="*", default=None, help="run these (default with no names: all)")
    args = ap.parse_args(argv)
    if args.run is not None:
        run(args.run or list(RUNS))
    print("\n".join(table()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
