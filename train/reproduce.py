"""One command: prepare data, train, export ``models/*.safetensors``, evaluate, write the model card.

    .venv/bin/python -m train.reproduce            # full run (about 26 + 10 min on 2 CPU cores)
    .venv/bin/python -m train.reproduce --steps 300 --baseline-steps 100  # quick check of the pipeline

The regression MLP of issue #16 (a comparison column of the report, never shipped) is
trained too unless ``train/cache/regression_baseline.npz`` exists already (``--retrain-baseline``).
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import time
from dataclasses import asdict
from typing import Dict, List

from lib_skelext.completion_model import DEFAULT_MODEL_PATH, ENCODING_VERSION, load_model

from . import DEFAULT_ANCHORS_DIR, DEFAULT_DATA_DIR, REPO_ROOT
from .evaluate import OURS, REGRESSION, REPORT_DIR, SCENARIOS, SEEDS, SIMPLE, V1, evaluate
from .export import export
from .prepare import prepare
from .regression_baseline import BASELINE_PATH, STEPS as BASELINE_STEPS, train_baseline
from .train import TrainConfig, train

logger = logging.getLogger(__name__)
CARD_PATH = os.path.join(REPO_ROOT, "models", "MODEL_CARD.md")


def _alternatives_text(c) -> str:
    if not c.alternative_heads:
        return ""
    return (f" and {c.alternative_heads} more (the same linear layer, {c.regression_dim} outputs): "
            "alternative completions trained winner-takes-all")


def write_model_card(results: Dict, summary: Dict, cfg: TrainConfig, model_path: str = DEFAULT_MODEL_PATH,
                     path: str = CARD_PATH) -> None:
    model = load_model(model_path)
    c = model.config
    L = ["# skelext completion model (`models/" + os.path.basename(model_path) + "`)", "",
         "Completes partial OpenPose-18 bodies (people cut by the frame or occluded) and gives K ranked "
         "alternatives with a confidence per point. Inference: numpy only (`lib_skelext/completion_model.py`).", "",
         "## Format", "",
         f"- Encoding version: **{ENCODING_VERSION}** (stored in the file metadata with the architecture config).",
         "- Input: the given body points and the visible canvas rectangle, normalised by fitting a mean pose "
         "(stored in the file as `mean_pose`) to the given points by scale + translation (no rotation). "
         f"{c.n_features} features: 18 x (x, y, visible) + rectangle (x0, y0, x1, y1) + log of the frame's width "
         "and height in those units (tells a small person on a big canvas from a tight frame).",
         f"- Architecture: residual MLP, hidden {c.hidden}, {c.blocks} pre-LayerNorm residual blocks (2 linear layers "
         f"each, {c.act.upper()}), a final LayerNorm, then two heads: a mixture density head with K = {c.hypotheses} "
         "hypotheses (18 points x 2 means, 18 isotropic log sigmas, 1 mixture logit each) and a regression head "
         f"(18 points) for the first completion{_alternatives_text(c)}. "
         f"{results['model_parameters']:,} parameters, float32 safetensors, {results['model_bytes'] / 1e6:.2f} MB.",
         "- Loss: mixture negative log-likelihood over the labelled points the model did not see, plus the "
         f"Euclidean error of the most likely hypothesis (weight {cfg.top_weight}), plus the Euclidean error of the "
         f"regression head in torso lengths (weight {cfg.reg_weight})"
         + (f", plus (weight {cfg.choice_weight}) the error of whichever of the {1 + c.alternative_heads} regression "
            "completions is closest to each person (winner takes all: the alternatives learn what the first "
            "completion misses)" if c.alternative_heads else "")
         + ". Points a source does not label are never penalised (per-point label masks).",
         ("- Output: the first completion is the regression head's; the alternative heads' completions, then the "
          "mixture's groups of hypotheses that differ from all of them, are the ranked alternatives "
          "(`Person.alternatives`); each one's score is the mixture probability of the hypotheses nearest to it. "
          if c.alternative_heads else
          "- Output: the first completion is the regression head's; the mixture's hypotheses, grouped (near-duplicates "
          "averaged, weighted by probability), give the ranked alternatives (`Person.alternatives`) and the scores; "
          "the first completion takes the place of the most likely group and the score of every group near it. ")
         + ("Each person is pooled with its mirror image (one forward pass)." if c.mirror else
            "No mirror pooling (it did not pay for its halved throughput; see train/README.md)."),
         "- Confidence: the mixture's probability mass within 0.5 torso of the returned point, mapped through an "
         "isotonic calibration fitted on validation people (stored in the file as `calibration`); see the "
         "calibration table in `train/report/REPORT.md`.", "",
         "## Training data", "",
         "| source | use | licence |", "|---|---|---|",
         "| MPII Human Pose v1 (Andriluka et al., CVPR 2014); three derived annotation files, deduplicated | body "
         "points (no face points) | Simplified BSD; \"freely available for research purposes\" |",
         "| LSP-extended (Johnson & Everingham, CVPR 2011) | body points, flag == 1 only | no licence stated; "
         "cite the paper |",
         "| COCO 2017 val keypoints (partial subset) | body + face points | CC BY 4.0 (annotations) |", "",
         "OpenPose neck = mid-shoulders where both shoulders are labelled. Split by image "
         "(`train/splits.json`): the test images are never trained on. Because of the MPII/LSP terms, use the "
         "weights for research unless you clear other uses with the dataset authors.", "",
         "## Training", "",
         f"- Command: `.venv/bin/python -m train.reproduce`; {summary.get('steps')} steps of batch {cfg.batch}, "
         f"AdamW lr {cfg.lr} cosine, seed {cfg.seed}, torch threads: {cfg.threads}; "
         f"{summary.get('train_minutes', float('nan')):.1f} min of training here on a shared 2-core machine "
         f"({summary.get('train_cpu_minutes', float('nan')):.1f} CPU minutes; budget 26 min).",
         f"- {summary.get('train_people')} training people, with simulated frames: photo framings of upright "
         f"people ({100 * cfg.framing_share:.0f}%: bottom edge near the shoulders, chest, waist, thighs, knees or "
         "shins, each in a window wider than the evaluation's; `train/simulate_crops.py` FRAMINGS), otherwise random "
         f"rectangles and side cuts; occluders inside the frame ({100 * cfg.hide_share:.0f}%); then "
         f"{100 * cfg.anywhere_share:.0f}% of all people instead get a frame that follows no habit (`anywhere_frames`: "
         "a bottom cut, a side cut, 1-4 hidden points or two edges, the cut edge anywhere between the last visible "
         "and the first cut point); dropped and jittered points, left/right flips, rotation, aspect and scale changes.",
         "",
         "## Held-out results (test split, mean error of removed points in torso lengths; lower is better)", "",
         "| scenario | skelext v2 | v2 best of 3 | " + " | ".join((V1, REGRESSION) + SEEDS + SIMPLE) + " |",
         "|---|---|---" + "|---" * (2 + len(SEEDS) + len(SIMPLE)) + "|"]
    for sc in SCENARIOS:
        row = results["all"][sc]
        L.append(f"| {sc} | **{row[OURS]['err']:.3f}** | {row[OURS]['best_of_k_err']:.3f} | "
                 + " | ".join(f"{row[n]['err']:.3f}" if n in row else "-" for n in (V1, REGRESSION) + SEEDS + SIMPLE)
                 + " |")
    sp = results["speed"]
    L += ["", "PCK@0.5 torso (skelext): " + ", ".join(f"{sc} {100 * results['all'][sc][OURS]['pck']:.0f}%"
                                                     for sc in SCENARIOS) + ".",
          f"Plausibility (limb ratios within the training range): lowest over scenarios "
          f"{100 * min(results['all'][sc][OURS]['plausible'] for sc in SCENARIOS):.1f}%.",
          f"Speed (numpy, 2 CPU threads, shared machine): {sp['batched_people_per_s']:,.0f} people/s batched through "
          f"`complete_frame`, {sp['single_person_ms']:.2f} ms per single person.", "",
          "Full tables, COCO-only results, plots and targets: `train/report/REPORT.md`.", "",
          "## Limits", "",
          "- Trained on 2D annotations of mostly upright people in everyday and sports photos; unusual poses and "
          "extreme crops (only a face visible) get plausible but generic bodies.",
          "- Face points (nose, eyes, ears) are learned from about 1,000 COCO people only.",
          "- The model has learned photographers' framing habits: a bottom edge just below the hips or near the knees "
          "reads as a waist or knee shot, so the missing joints are put just beyond that edge. Frames that follow no "
          "such habit are the `any_height`, `bottom_anywhere`, `side_anywhere` and `two_edges` scenarios of the report.",
          ""]
    with open(path, "w") as f:
        f.write("\n".join(L))


def main(argv: List[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=DEFAULT_DATA_DIR)
    ap.add_argument("--anchors", default=DEFAULT_ANCHORS_DIR, help="seed model folder (comparison only)")
    ap.add_argument("--steps", type=int, default=TrainConfig.steps)
    ap.add_argument("--model", default=DEFAULT_MODEL_PATH)
    ap.add_argument("--baseline-steps", type=int, default=BASELINE_STEPS)
    ap.add_argument("--retrain-baseline", action="store_true")
    ap.add_argument("--card-only", action="store_true",
                    help="only rewrite models/MODEL_CARD.md from train/report/metrics.json and the checkpoint")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.card_only:
        from .export import checkpoint_weights

        _, _, ckpt = checkpoint_weights()
        with open(os.path.join(REPORT_DIR, "metrics.json")) as f:
            results = json.load(f)
        write_model_card(results, ckpt["summary"], TrainConfig(**ckpt["train_config"]), args.model)
        return 0
    t0 = time.time()
    prepare(args.data)
    cfg = TrainConfig(steps=args.steps)
    summary = train(cfg)
    if args.retrain_baseline or not os.path.isfile(BASELINE_PATH):
        train_baseline(BASELINE_PATH, steps=args.baseline_steps)
    export(out_path=args.model)
    results = evaluate(args.model, args.anchors, out_dir=REPORT_DIR)
    write_model_card(results, summary, cfg, args.model)
    logger.info("done in %.1f min: %s, %s", (time.time() - t0) / 60, args.model, CARD_PATH)
    logger.info("config %s", json.dumps(asdict(cfg)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
