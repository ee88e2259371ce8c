"""Evaluate the shipped completion model on the held-out TEST split; write train/report/REPORT.md.

``--split val --quick`` scores a model on the VALIDATION split only (the ablations of
train/README.md), against v1.1 and the regression MLP, without the report.

For each scenario (see ``simulate_crops.scenario_sample``) every method gets the
same inputs: the visible points of a test person and the frame rectangle. Scores
use only the points the scenario removed that the source labels: mean error in
torso lengths (ground-truth neck -> mid-hip) and PCK at 0.5 torso. Plausibility:
the share of completed bodies whose 12 body-limb lengths, as fractions of their
sum, all fall within the range seen in training people.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
from typing import Dict, List, Optional, Tuple

import numpy as np

from lib_skelext.completion_model import DEFAULT_MODEL_PATH, CompletionModel, load_model, rank_completions
from lib_skelext.pose import L_HIP, NECK, R_HIP

from . import DEFAULT_ANCHORS_DIR, REPO_ROOT
from .baselines import mean_pose_shift_scale, mean_pose_similarity, nearest_neighbour, seed_method
from .prepare import PEOPLE_PATH, SOURCES, load_people
from .regression_baseline import BASELINE_PATH, regression_method
from .simulate_crops import SCENARIOS, Sample, scenario_sample
from .speed import measure_speed

logger = logging.getLogger(__name__)
REPORT_DIR = os.path.join(REPO_ROOT, "train", "report")
BODY_LIMBS = ((1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10), (1, 11), (11, 12), (12, 13))
SIMPLE = ("mean pose (scale+shift)", "mean pose (similarity)", "nearest neighbour")
SEEDS = ("seed v7", "seed v8")
OURS = "skelext"
#: The previous shipped model (v1.1), kept in the repository for this comparison only.
V1 = "skelext v1.1"
V1_PATH = os.path.join(REPO_ROOT, "train", "reference", "skelext_completion_v1_1.safetensors")
#: The outside cross-check of issue #16, rebuilt and trained here (``train.regression_baseline``).
REGRESSION = "regression MLP (10 min)"
#: Methods with ranked completions (best-of-3, calibration).
RANKED = (OURS, V1)
#: Target ratios from issue #6 (seed, simple baselines) and issue #16 (v1.1 / regression MLP, best-of-3).
SEED_RATIO, BASELINE_RATIO, PLAUSIBLE_TARGET = 0.5, 0.8, 0.99
PEER_RATIO, BEST_OF_RATIO = 0.85, 0.9
SPEED_BATCHED, SPEED_SINGLE_MS = 20000, 1.0
#: The report's oracle figure: error of the best of the first BEST_OF ranked completions.
BEST_OF = 3
#: Scenarios cutting at a body height: evaluated on upright people only.
HEIGHT_CUTS = ("head_shoulders", "chest_up", "waist_up", "knees_up", "any_height")


def limb_ratios(xy: np.ndarray) -> np.ndarray:
    """(B, 18, 2) -> (B, 12) body-limb lengths as fractions of their sum."""
    lengths = np.stack([np.linalg.norm(xy[:, a] - xy[:, b], axis=-1) for a, b in BODY_LIMBS], 1)
    return lengths / np.maximum(lengths.sum(1, keepdims=True), 1e-9)


def limb_ranges(xy: np.ndarray, label: np.ndarray) -> np.ndarray:
    """(12, 2) min and max limb ratio over training people with every body limb labelled."""
    need = sorted({j for limb in BODY_LIMBS for j in limb})
    full = label[:, need].all(1)
    r = limb_ratios(xy[full].astype(np.float64))
    return np.stack([r.min(0), r.max(0)], 1)


def plausible(xy: np.ndarray, ranges: np.ndarray) -> np.ndarray:
    r = limb_ratios(xy)
    return ((r >= ranges[:, 0]) & (r <= ranges[:, 1])).all(1) & np.isfinite(xy).all((1, 2))


def ours_method(model: CompletionModel, store: Dict[str, np.ndarray]):
    """First completion of the model; also keeps best-of-K error inputs and confidences in ``store``."""
    def run(inp, vis, rect):
        ranked = rank_completions(model.predict(inp, vis, rect), ~vis, BEST_OF, calibration=model.calibration)
        store["all_px"], store["scores"], store["conf"] = ranked.options_px, ranked.scores, ranked.confidence
        return np.where(vis[..., None], inp, ranked.options_px[:, 0])
    return run


def upright(xy: np.ndarray) -> np.ndarray:
    """(B,) bool: the neck lies at least 0.5 torso above the mid-hip (within ~60 degrees of upright)."""
    mid = (xy[:, R_HIP] + xy[:, L_HIP]) / 2
    torso = np.linalg.norm(xy[:, NECK] - mid, axis=1)
    return mid[:, 1] - xy[:, NECK, 1] >= 0.5 * torso


def test_people(data: Dict[str, np.ndarray], source: Optional[str] = None, split: int = 2) -> np.ndarray:
    """Indices of test-split (or ``split``: 1 validation) people with neck and both hips labelled (torso defined)."""
    lab = data["label"]
    ok = (data["split"] == split) & lab[:, NECK] & lab[:, R_HIP] & lab[:, L_HIP] & (lab.sum(1) >= 4)
    xy = data["xy"].astype(np.float64)
    torso = np.linalg.norm(xy[:, NECK] - (xy[:, R_HIP] + xy[:, L_HIP]) / 2, axis=1)
    ok &= torso > 1.0
    if source is not None:
        ok &= data["source"] == SOURCES.index(source)
    return np.nonzero(ok)[0]


def for_scenario(idx: np.ndarray, xy: np.ndarray, scenario: str) -> np.ndarray:
    """The people of ``idx`` a scenario uses: the height cuts only upright people, the others everyone."""
    return idx[upright(xy[idx])] if scenario in HEIGHT_CUTS else idx


def scenario_case(xy: np.ndarray, label: np.ndarray, scenario: str, rng: np.random.Generator,
                  margins: Tuple[float, float] = (0.1, 0.6)) -> Sample:
    """``scenario_sample`` of these people, keeping those it removes a labelled point from (the scored ones)."""
    s = scenario_sample(xy, label, scenario, rng, margins)
    keep = (s.label & ~s.visible).any(1)
    return Sample(*(a[keep] for a in s))


def score(pred: np.ndarray, s: Sample, ranges: np.ndarray) -> Dict[str, float]:
    target = s.label & ~s.visible
    torso = np.linalg.norm(s.gt[:, NECK] - (s.gt[:, R_HIP] + s.gt[:, L_HIP]) / 2, axis=1)
    err = np.linalg.norm(pred - s.gt, axis=-1) / torso[:, None]
    e = err[target]
    has = (~s.visible).any(1)
    return {"err": float(e.mean()), "pck": float((e < 0.5).mean()), "points": int(target.sum()),
            "people": int(target.any(1).sum()), "plausible": float(plausible(pred[has], ranges).mean())}


def evaluate(model_path: str = DEFAULT_MODEL_PATH, anchors_dir: str = DEFAULT_ANCHORS_DIR,
             people_path: str = PEOPLE_PATH, out_dir: str = REPORT_DIR, seed: int = 7,
             max_people: Optional[int] = None, plots: bool = True, split: str = "test", quick: bool = False,
             reference_path: str = V1_PATH, baseline_path: str = BASELINE_PATH) -> Dict:
    """Score every method on every scenario; write metrics.json and REPORT.md (not with quick).

    split: "test" (the report), "val" (model selection) or "train" (the models' fit to their own training
    people: a diagnostic, never a result); quick: only the models
    (v2, v1.1, regression MLP), no seeds, simple baselines, speed or files.
    """
    data = load_people(people_path)
    xy, label = data["xy"].astype(np.float64), data["label"]
    train_idx = np.nonzero(data["split"] == 0)[0]
    split_id = {"test": 2, "val": 1, "train": 0}[split]
    model = load_model(model_path)
    ranges = limb_ranges(xy[train_idx], label[train_idx])
    stores: Dict[str, Dict[str, np.ndarray]] = {OURS: {}, V1: {}}
    methods = {OURS: ours_method(model, stores[OURS])}
    if reference_path and os.path.isfile(reference_path):
        methods[V1] = ours_method(load_model(reference_path), stores[V1])
    if baseline_path and os.path.isfile(baseline_path):
        methods[REGRESSION] = regression_method(baseline_path)
    seed_stats = {}
    if not quick:
        methods[SIMPLE[0]] = mean_pose_shift_scale(model.mean_pose)
        methods[SIMPLE[1]] = mean_pose_similarity(model.mean_pose)
        methods[SIMPLE[2]] = nearest_neighbour(xy[train_idx], label[train_idx], model.mean_pose)
        if anchors_dir and os.path.isfile(os.path.join(anchors_dir, "seed_model.py")):
            for name, f in zip(SEEDS, ("seed_model.npz", "seed_model_v8.npz")):
                methods[name], seed_stats[name] = seed_method(anchors_dir, f)
        else:
            logger.warning("no seed model at %s: seed columns left out", anchors_dir)

    results: Dict[str, Dict] = {"all": {}, "coco": {}, "split": split}
    extras: Dict[str, Dict] = {}
    examples = {}
    for subset in (("all",) if quick else ("all", "coco")):
        idx = test_people(data, None if subset == "all" else "coco", split_id)
        if max_people:
            idx = idx[:max_people]
        for sc in SCENARIOS:
            rng = np.random.default_rng(seed + SCENARIOS.index(sc))
            use = for_scenario(idx, xy, sc)
            s = scenario_case(xy[use], label[use], sc, rng)
            row = {}
            for name, method in methods.items():
                if name in seed_stats:
                    seed_stats[name].update(ran=0, no_neck=0)
                pred = method(s.inp, s.visible, s.rect)
                row[name] = score(pred, s, ranges)
                cov = s.visible[:, NECK]  # people the seed can run on (neck given)
                if cov.any():
                    row[name]["err_neck_given"] = score(pred[cov], Sample(*(a[cov] for a in s)), ranges)["err"]
                if name in seed_stats:
                    row[name]["coverage"] = seed_stats[name]["ran"] / max(1, len(s.gt))
                if name in RANKED:
                    store = stores[name]
                    target = s.label & ~s.visible
                    torso = np.linalg.norm(s.gt[:, NECK] - (s.gt[:, R_HIP] + s.gt[:, L_HIP]) / 2, axis=1)
                    errk = np.linalg.norm(store["all_px"] - s.gt[:, None], axis=-1) / torso[:, None, None]
                    per_hyp = (errk * target[:, None]).sum(-1) / np.maximum(target.sum(1), 1)[:, None]
                    per_hyp[store["scores"] <= 0] = np.inf
                    row[name]["best_of_k_err"] = float((errk[np.arange(len(s.gt)), per_hyp.argmin(1)])[target].mean())
                    if name == OURS:
                        conf = store["conf"][target]
                        hit = (errk[:, 0][target] < 0.5)
                        extras.setdefault(subset, {})[sc] = {"conf": conf, "hit": hit}
                        if subset == "all":
                            examples[sc] = (s, pred)
            results[subset][sc] = row
            logger.info("%s/%s: %s", subset, sc, {k: round(v["err"], 3) for k, v in row.items()})
    if quick:
        return results
    results["seed_fallback"] = ("the seed needs the neck; without it every missing point is placed at the "
                                "centroid of the visible points (coverage = share of people with a neck)")
    gt_plaus = plausible(xy[test_people(data)], ranges).mean()
    results["gt_test_plausible"] = float(gt_plaus)
    if REGRESSION in methods:
        results["regression_minutes"] = methods[REGRESSION].minutes
    results["speed"] = measure_speed(model)
    results["model_bytes"] = os.path.getsize(model.path) if model.path else 0
    results["train_summary"] = model_metadata(model.path).get("train_summary", {})
    results["model_parameters"] = int(sum(v.size for k, v in model.w.items()
                                          if k not in ("mean_pose", "calibration") and not k.startswith("heads")))
    conf = np.concatenate([v["conf"] for v in extras["all"].values()])
    hit = np.concatenate([v["hit"] for v in extras["all"].values()])
    results["calibration"] = calibration_table(conf, hit)
    os.makedirs(out_dir, exist_ok=True)
    if plots:
        make_plots(results, examples, conf, hit, out_dir)
    with open(os.path.join(out_dir, "metrics.json"), "w") as f:
        json.dump(results, f, indent=1, sort_keys=True)
    write_report(results, out_dir)
    return results


def model_metadata(path: str) -> Dict:
    """The JSON entries of a model file's safetensors metadata."""
    from safetensors import safe_open

    out: Dict = {}
    try:
        with safe_open(path, framework="numpy") as f:
            for k, v in (f.metadata() or {}).items():
                try:
                    out[k] = json.loads(v)
                except ValueError:
                    out[k] = v
    except Exception:  # a model built in memory
        pass
    return out


def calibration_table(conf: np.ndarray, hit: np.ndarray) -> List[Dict[str, float]]:
    rows = []
    edges = np.array([0, 0.2, 0.4, 0.6, 0.8, 0.9, 1.0001])
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = (conf >= lo) & (conf < hi)
        if m.sum():
            rows.append({"lo": float(lo), "hi": float(min(hi, 1.0)), "n": int(m.sum()),
                         "mean_conf": float(conf[m].mean()), "hit_rate": float(hit[m].mean())})
    return rows


def make_plots(results: Dict, examples: Dict, conf: np.ndarray, hit: np.ndarray, out_dir: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lib_skelext.pose import LIMBS

    names = list(results["all"][SCENARIOS[0]].keys())
    for metric, fname, label in (("err", "error.png", "mean error of removed points (torso lengths)"),
                                 ("pck", "pck.png", "PCK @ 0.5 torso")):
        fig, ax = plt.subplots(figsize=(9, 3.6))
        wbar = 0.8 / len(names)
        for k, name in enumerate(names):
            vals = [min(results["all"][sc][name][metric], 1.5) for sc in SCENARIOS]
            ax.bar(np.arange(len(SCENARIOS)) + k * wbar, vals, wbar, label=name)
        ax.set_xticks(np.arange(len(SCENARIOS)) + 0.4 - wbar / 2)
        ax.set_xticklabels(SCENARIOS, fontsize=8)
        ax.set_ylabel(label, fontsize=8)
        if metric == "err":
            ax.set_ylim(0, 1.5)
            ax.set_title("all test people (bars clipped at 1.5)", fontsize=8)
        ax.legend(fontsize=7, ncol=3)
        fig.tight_layout()
        fig.savefig(os.path.join(out_dir, fname), dpi=70)
        plt.close(fig)

    fig, ax = plt.subplots(figsize=(3.6, 3.4))
    cal = results["calibration"]
    ax.plot([0, 1], [0, 1], "k:", lw=1)
    ax.plot([c["mean_conf"] for c in cal], [c["hit_rate"] for c in cal], "o-")
    ax.set_xlabel("completion confidence", fontsize=8)
    ax.set_ylabel("share within 0.5 torso", fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "calibration.png"), dpi=70)
    plt.close(fig)

    fig, axes = plt.subplots(2, 6, figsize=(13, 5))
    for ax, sc in zip(axes.flat, [s for s in SCENARIOS if s in examples] + [None]):
        ax.set_xticks([])
        ax.set_yticks([])
        if sc is None:
            ax.axis("off")
            continue
        s, pred = examples[sc]
        i = int(np.random.default_rng(3).integers(len(s.gt)))
        x0, y0, x1, y1 = s.rect[i]
        for a, b in LIMBS:
            if s.label[i, a] and s.label[i, b]:
                ax.plot(s.gt[i, [a, b], 0], s.gt[i, [a, b], 1], "-", color="0.6", lw=3)
            ax.plot(pred[i, [a, b], 0], pred[i, [a, b], 1], "-", color="tab:blue" if s.visible[i, a]
                    and s.visible[i, b] else "tab:orange", lw=1.3)
        ax.plot(*s.gt[i, s.visible[i]].T, "o", color="tab:blue", ms=3)
        ax.plot(*pred[i, ~s.visible[i]].T, "o", color="tab:orange", ms=3)
        ax.add_patch(plt.Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, color="k", lw=1))
        ax.set_aspect("equal")
        ax.invert_yaxis()
        ax.set_title(sc, fontsize=8)
    fig.suptitle("grey: ground truth; blue: visible input; orange: completed; box: frame", fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "examples.png"), dpi=70)
    plt.close(fig)


def target_check(results: Dict) -> List[str]:
    """Issue #16 target rows: v2 vs the better of v1.1 and the regression MLP, and best-of-3 vs top-1."""
    lines = []
    for subset in ("all", "coco"):
        for sc in SCENARIOS:
            row = results[subset][sc]
            ours = row[OURS]["err"]
            peers = {n: row[n]["err"] for n in (V1, REGRESSION) if n in row}
            best_peer = min(peers.values()) if peers else float("nan")
            which = min(peers, key=peers.get) if peers else "-"
            b3 = row[OURS]["best_of_k_err"]
            lines.append(f"| {subset} | {sc} | {ours:.3f} | {peers.get(V1, float('nan')):.3f} | "
                         f"{peers.get(REGRESSION, float('nan')):.3f} | {which} | {ours / best_peer:.2f} "
                         f"{'yes' if ours <= PEER_RATIO * best_peer else 'NO'} | {b3:.3f} | {b3 / ours:.2f} "
                         f"{'yes' if b3 <= BEST_OF_RATIO * ours else 'NO'} |")
    return lines


def seed_check(results: Dict) -> List[str]:
    """Issue #6 target rows (kept): v2 vs the best seed and the best simple baseline."""
    lines = []
    for subset in ("all", "coco"):
        for sc in SCENARIOS:
            row = results[subset][sc]
            ours = row[OURS]["err"]
            best_simple = min(row[n]["err"] for n in SIMPLE)
            seeds = [row[n]["err"] for n in SEEDS if n in row]
            best_seed = min(seeds) if seeds else float("nan")
            ok_seed = ours <= SEED_RATIO * best_seed if seeds else None
            ok_base = ours <= BASELINE_RATIO * best_simple
            lines.append(f"| {subset} | {sc} | {ours:.3f} | {best_seed:.3f} | {ours / best_seed:.2f} "
                         f"{'yes' if ok_seed else 'NO'} | {best_simple:.3f} | {ours / best_simple:.2f} "
                         f"{'yes' if ok_base else 'NO'} |")
    return lines


def write_report(results: Dict, out_dir: str) -> None:
    names = list(results["all"][SCENARIOS[0]].keys())
    L = ["# skelext completion model: held-out evaluation", "",
         "Generated by `python -m train.evaluate` (also run by `python -m train.reproduce`). All numbers are on the "
         "TEST split (images listed in `train/splits.json`), never on training images. Inputs are clean "
         "ground-truth points; each method gets the same visible points and the same frame rectangle "
         "(canvas = frame). Errors are over the removed points that the source labels, in torso lengths "
         "(ground-truth neck -> mid-hip). The height cuts (head_shoulders .. any_height) use upright people "
         "only (neck at least 0.5 torso above the mid-hip); the other scenarios use every test person with a "
         "labelled neck and hips. `any_height` cuts at a uniformly random height; `bottom_anywhere`, "
         "`side_anywhere` and `two_edges` (issue #16) cut 20-90% of the body's height, 15-40% of its width, or both, "
         "with the cut edge anywhere between the last visible and the first cut point and the other edges 2-65% "
         "of the visible part's size beyond it (`anywhere_frames` in `train/simulate_crops.py`).", "",
         f"Columns: `{OURS}` is the shipped model, v2 (its first completion); `{V1}` the previous one "
         "(`train/reference/`, comparison only); `" + REGRESSION + "` the plain regression MLP of issue #16, "
         "rebuilt and trained here on the train split only (`python -m train.regression_baseline`, "
         f"{results.get('regression_minutes', float('nan')):.1f} min); then the mean-pose fits, nearest neighbour "
         "and the seed models (comparison only).", ""]
    for subset, title in (("all", "All test people (MPII + LSPET + COCO)"), ("coco", "COCO test people only")):
        for metric, mname in (("err", "mean error (torso lengths, lower is better)"),
                              ("pck", "PCK @ 0.5 torso (higher is better)"),
                              ("plausible", "plausibility rate (share of completed bodies within training limb ratios)")):
            L += [f"## {title}: {mname}", "", "| scenario | people | points | " + " | ".join(names) + " |",
                  "|---|---|---|" + "---|" * len(names)]
            for sc in SCENARIOS:
                row = results[subset][sc]
                o = row[OURS]
                vals = []
                for n in names:
                    v = row[n][metric]
                    txt = f"{v:.3f}" if metric == "err" else f"{100 * v:.1f}%"
                    if n in SEEDS and metric == "err":
                        txt += f" ({100 * row[n]['coverage']:.0f}% cov)"
                    vals.append(f"**{txt}**" if n == OURS else txt)
                L.append(f"| {sc} | {o['people']} | {o['points']} | " + " | ".join(vals) + " |")
            L.append("")
        L += [f"Error of the best of the first {BEST_OF} ranked completions ({subset}; what `--alternatives {BEST_OF}` "
              "offers), " + " and ".join(n for n in RANKED if n in names) + ":", "",
              "| scenario | " + " | ".join(f"{n} top-1 | {n} best of {BEST_OF}" for n in RANKED if n in names) + " |",
              "|---|" + "---|---|" * len([n for n in RANKED if n in names])]
        for sc in SCENARIOS:
            row = results[subset][sc]
            L.append(f"| {sc} | " + " | ".join(f"{row[n]['err']:.3f} | {row[n]['best_of_k_err']:.3f}"
                                               for n in RANKED if n in names) + " |")
        L.append("")
    L += ["Seed coverage: " + results["seed_fallback"] + ".", "",
          f"Ground-truth test bodies that pass the plausibility check: {100 * results['gt_test_plausible']:.1f}%.", "",
          "![mean error](error.png)", "", "![PCK](pck.png)", "",
          "## Targets (issue #16)", "",
          f"v2's error against the better of v1.1 and the regression MLP (target: ratio <= {PEER_RATIO}) and the "
          f"best of its first {BEST_OF} completions against its first (target: ratio <= {BEST_OF_RATIO}).", "",
          f"| subset | scenario | v2 err | v1.1 err | regression MLP err | better peer | ratio (<= {PEER_RATIO}) "
          f"| v2 best of {BEST_OF} | ratio (<= {BEST_OF_RATIO}) |",
          "|---|---|---|---|---|---|---|---|---|"]
    L += target_check(results)
    sp = results["speed"]
    plaus = min(results[s][sc][OURS]["plausible"] for s in ("all", "coco") for sc in SCENARIOS)
    L += ["", f"- Plausibility (lowest over scenarios): {100 * plaus:.1f}% (target >= 99%).",
          f"- Model file: {results['model_bytes'] / 1e6:.2f} MB, {results['model_parameters']:,} parameters (target < 5 MB).",
          f"- Speed (numpy, this machine, 2 CPU threads shared): {sp['batched_people_per_s']:,.0f} people/s batched "
          f"through `complete_frame` (target >= {SPEED_BATCHED:,}; `model.predict` alone "
          f"{sp['predict_people_per_s']:,.0f}), {sp['single_person_ms']:.3f} ms for one person through "
          f"`complete_person` (target < {SPEED_SINGLE_MS:g} ms).",
          f"- Training: {results['train_summary'].get('steps', '?')} steps in "
          f"{results['train_summary'].get('train_minutes', float('nan')):.1f} min (1 torch thread, shared 2-core machine).",
          "", "## Targets of issue #6 (kept)", "",
          "Best seed = the lower of v7 and v8 per scenario; best simple baseline = the lowest of the two mean-pose "
          "fits and the nearest neighbour.", "",
          "| subset | scenario | v2 err | best seed err | ratio (<= 0.5) | best simple baseline err | ratio (<= 0.8) |",
          "|---|---|---|---|---|---|---|"]
    L += seed_check(results)
    L += ["", "## Confidence calibration", "",
          "Completed-point confidence of v2's first completion vs. the observed share within 0.5 torso "
          "(all scenarios, all test people).", "",
          "| confidence bin | points | mean confidence | share within 0.5 torso |", "|---|---|---|---|"]
    for c in results["calibration"]:
        L.append(f"| {c['lo']:.1f}-{c['hi']:.1f} | {c['n']} | {c['mean_conf']:.2f} | {c['hit_rate']:.2f} |")
    L += ["", "![calibration](calibration.png)", "", "## Examples (held-out test people)", "",
          "![examples](examples.png)", ""]
    with open(os.path.join(out_dir, "REPORT.md"), "w") as f:
        f.write("\n".join(L))


def main(argv: List[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=DEFAULT_MODEL_PATH)
    ap.add_argument("--anchors", default=DEFAULT_ANCHORS_DIR, help="seed model folder (comparison only)")
    ap.add_argument("--out", default=REPORT_DIR)
    ap.add_argument("--max-people", type=int, default=None)
    ap.add_argument("--split", choices=("test", "val", "train"), default="test",
                    help="test: the report; val: model selection; train: how well the models fit their own "
                         "training people (a diagnostic of over- or underfitting, never a result); val and train "
                         "with --quick")
    ap.add_argument("--reference", default=V1_PATH, help="v1.1 model file ('' leaves the column out)")
    ap.add_argument("--baseline", default=BASELINE_PATH, help="regression MLP weights ('' leaves the column out)")
    ap.add_argument("--quick", action="store_true", help="models only (v2, v1.1, regression MLP), no report files")
    ap.add_argument("--mirror", choices=("file", "on", "off"), default="file",
                    help="pool the mirror image: as the model file says (default), or force it on/off")
    ap.add_argument("--json", default=None, help="also write the results (quick: the only output) to this file")
    ap.add_argument("--speed-only", action="store_true",
                    help="measure the speed again (e.g. on a quiet machine) and rewrite it in --out's metrics.json "
                         "and REPORT.md; the accuracy figures stay")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.speed_only:
        path = os.path.join(args.out, "metrics.json")
        with open(path) as f:
            res = json.load(f)
        res["speed"] = measure_speed(load_model(args.model))
        with open(path, "w") as f:
            json.dump(res, f, indent=1, sort_keys=True)
        write_report(res, args.out)
        logger.info("speed %s", res["speed"])
        return 0
    if args.split != "test" and not args.quick:
        ap.error(f"the report is on the test split; use --split {args.split} with --quick")
    if args.mirror != "file":
        from dataclasses import replace

        model = load_model(args.model)
        model.config = replace(model.config, mirror=args.mirror == "on")
    res = evaluate(args.model, args.anchors, out_dir=args.out, max_people=args.max_people, split=args.split,
                   quick=args.quick, reference_path=args.reference, baseline_path=args.baseline)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1, sort_keys=True)
    if args.quick:
        names = list(res["all"][SCENARIOS[0]])
        print("| scenario | " + " | ".join(names) + " |")
        for sc in SCENARIOS + ("mean",):
            vals = [np.mean([res["all"][s][n]["err"] for s in SCENARIOS]) if sc == "mean" else res["all"][sc][n]["err"]
                    for n in names]
            print(f"| {sc} | " + " | ".join(f"{v:.3f}" for v in vals) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
