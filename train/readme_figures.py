"""The main README's figures, written from the files that measured them: the accuracy table and
the speed line from ``train/report/metrics.json`` (``train.evaluate``), the video table from
``bench/sequence_results.json`` (``bench/bench_sequence.py``).

    .venv/bin/python -m train.readme_figures          # rewrite the README blocks
    .venv/bin/python -m train.readme_figures --check  # exit 1 if the README differs (tests run it)

The README holds each block between ``<!-- figures:NAME -->`` and ``<!-- /figures:NAME -->``;
nothing else in it is touched, so the figures cannot drift from the evaluation that made them.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
from typing import Dict, List

from . import REPO_ROOT
from .evaluate import OURS, REGRESSION, V1

METRICS_PATH = os.path.join(REPO_ROOT, "train", "report", "metrics.json")
README_PATH = os.path.join(REPO_ROOT, "README.md")


def _methods(rows: Dict[str, Dict]) -> List[str]:
    names: List[str] = []
    for scenario in rows.values():
        names += [n for n in scenario if n not in names]
    first = [n for n in (OURS, V1, REGRESSION) if n in names or n == OURS]
    return first + [n for n in names if n not in first]


def _in_report_order(rows: Dict[str, Dict]) -> Dict[str, Dict]:
    from .simulate_crops import SCENARIOS

    known = [name for name in SCENARIOS if name in rows]
    return {name: rows[name] for name in known + sorted(set(rows) - set(known))}


def accuracy_table(metrics: Dict) -> str:
    rows = _in_report_order(metrics["all"])
    methods = _methods(rows)
    lines = ["| scenario | people | points | " + " | ".join(methods) + " |",
             "|---" * (3 + len(methods)) + "|"]
    for scenario, results in rows.items():
        ours = results[OURS]
        best = min(r["err"] for r in results.values())
        cells = []
        for name in methods:
            r = results.get(name)
            if r is None:
                cells.append("-")
                continue
            text = f"{r['err']:.3f}"
            if r["err"] == best:
                text = f"**{text}**"
            if "coverage" in r:
                text += f" ({r['coverage']:.0%} cov)"
            cells.append(text)
        lines.append(f"| {scenario} | {ours['people']} | {ours['points']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def speed_line(metrics: Dict) -> str:
    speed = metrics["speed"]
    return (f"Speed of the completion model (2 CPU cores, numpy, as measured by `train.evaluate`): "
            f"{speed['batched_people_per_s']:,.0f} people/s batched through `complete_frame`, "
            f"{speed['single_person_ms']:.2f} ms for one "
            f"person; model file {metrics['model_bytes'] / 1e6:.2f} MB.")


SEQUENCE_RESULTS_PATH = os.path.join(REPO_ROOT, "bench", "sequence_results.json")
#: (source, key, label, show the delay): the delay is measured where the truth moves smoothly (a sway,
#: a pose change, the real video), not under the pan/zoom clips' still poses
SEQUENCE_ROWS = (("synthetic", "pan_zoom/all", "held-out people, still, panning/zooming camera, 2% jitter", False),
                 ("synthetic", "sway/all", "held-out people, still, swaying camera", True),
                 ("synthetic", "moving_pose/all", "held-out people whose pose changes", True),
                 ("video", "all", "real video (sports2d), 10 crops, BlazePose reference", True))


def sequence_table(metrics: Dict) -> str:
    """Per-frame vs --sequence, from bench/sequence_results.json (``bench/bench_sequence.py``)."""
    with open(SEQUENCE_RESULTS_PATH, encoding="utf-8") as f:
        results = json.load(f)
    lines = ["| clips | method | error | jitter | jumps > 0.3 torso | delay (frames) |", "|---|---|---|---|---|---|"]
    for source, key, label, with_delay in SEQUENCE_ROWS:
        rows = results[source][key]
        base = rows["per-frame"]["jitter"]
        for method, r in rows.items():
            ratio = f" ({r['jitter'] / base:.2f}x)" if method != "per-frame" else ""
            lines.append(f"| {label if method == 'per-frame' else ''} | {method} | {r['error']:.3f} | "
                         f"{r['jitter']:.4f}{ratio} | {r['jump_share']:.2%} | "
                         + (f"{r['delay_frames']:.2f} |" if with_delay else "- |"))
    speed = results["speed"]
    lines.append("")
    lines.append(f"Error and jitter in torso lengths (jitter: mean |second difference| of the completed points per "
                 f"frame). Speed of `complete --sequence` on a one-person folder of {speed['frames']:,} frames: "
                 f"{speed['cli_frames_per_s']:,.0f} frames/s ({speed['library_frames_per_s']:,.0f} frames/s in the "
                 f"library, without reading and writing files), {speed['cores']} CPU cores.")
    return "\n".join(lines)


BLOCKS = {"accuracy": accuracy_table, "speed": speed_line, "sequence": sequence_table}


def render(readme: str, metrics: Dict) -> str:
    for name, build in BLOCKS.items():
        pattern = re.compile(rf"(<!-- figures:{name} -->\n).*?(\n<!-- /figures:{name} -->)", re.S)
        if not pattern.search(readme):
            raise SystemExit(f"README.md lacks the <!-- figures:{name} --> block")
        readme = pattern.sub(lambda m: m.group(1) + build(metrics) + m.group(2), readme)
    return readme


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the README differs")
    args = parser.parse_args(argv)
    with open(METRICS_PATH, encoding="utf-8") as f:
        metrics = json.load(f)
    with open(README_PATH, encoding="utf-8") as f:
        readme = f.read()
    wanted = render(readme, metrics)
    if args.check:
        if wanted != readme:
            print("README.md figures differ from train/report/metrics.json: run python -m train.readme_figures",
                  file=sys.stderr)
            return 1
        return 0
    with open(README_PATH, "w", encoding="utf-8") as f:
        f.write(wanted)
    return 0


if __name__ == "__main__":
    sys.exit(main())
