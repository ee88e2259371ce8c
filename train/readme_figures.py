"""The figures of README.md and docs/video.md, written from the files that measured them: the
accuracy table and the speed line from ``train/report/metrics.json`` (``train.evaluate``), the
video tables from ``bench/sequence_results.json`` (``bench/bench_sequence.py``) and
``bench/video_continuity_results.json`` (``bench/bench_video_continuity.py``), the retargeting table from
``bench/retarget_results.json`` (``bench/bench_retarget.py``), train/README.md's tables from
the stored ablation runs (``train.ablations``), metrics.json and ``train/report/headroom.json`` (``train.headroom``).

    .venv/bin/python -m train.readme_figures          # rewrite the blocks
    .venv/bin/python -m train.readme_figures --check  # exit 1 if a document differs (tests run it)

Each document holds each block between ``<!-- figures:NAME -->`` and ``<!-- /figures:NAME -->``;
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
VIDEO_DOC_PATH = os.path.join(REPO_ROOT, "docs", "video.md")
TRAIN_README_PATH = os.path.join(REPO_ROOT, "train", "README.md")


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
    ratios = [results[OURS]["best_of_k_err"] / results[OURS]["err"] for results in rows.values()
              if "best_of_k_err" in results[OURS]]
    if ratios:
        lines += ["", f"The best of skelext's first 3 completions (`--alternatives 3`) is {1 - max(ratios):.0%}-"
                      f"{1 - min(ratios):.0%} closer to the truth than the first one, on every scenario."]
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
                 f"{speed['cli_frames_per_s']:,.0f} frames/s{' with the files on a RAM disk' if speed.get('ram_disk') else ''} "
                 f"({speed['library_frames_per_s']:,.0f} frames/s in the "
                 f"library, without reading and writing files), {speed['cores']} CPU cores.")
    return "\n".join(lines)


def _sequence_results() -> Dict:
    with open(SEQUENCE_RESULTS_PATH, encoding="utf-8") as f:
        return json.load(f)


#: docs/video.md row labels of the synthetic sets
VIDEO_DOC_ROWS = {"pan_zoom/waist_up": "pan/zoom, waist-up", "pan_zoom/knees_up": "pan/zoom, knees-up",
                  "pan_zoom/side_cut": "pan/zoom, side cut", "pan_zoom/all": "**pan/zoom, all**",
                  "sway/all": "sway, all", "moving_pose/all": "moving pose, all"}
#: issue #15's targets
JITTER_RATIO, JUMP_SHARE, FRAMES_PER_S = 0.25, 0.002, 1000


def video_doc_tables(metrics: Dict) -> str:
    """docs/video.md: per-frame vs sequence on the synthetic sets, the real video, and per video clip."""
    results = _sequence_results()
    head = "| method | error | jitter | jumps > 0.3 | delay (frames) |"
    out = [f"| clips {head}", "|---|---|---|---|---|---|"]
    for src, keys in (("synthetic", list(VIDEO_DOC_ROWS)), ("video", ["all"])):
        if src == "video":
            out += ["", f"| crops (10 clips) {head}", "|---|---|---|---|---|---|"]
        for key in keys:
            row = results[src][key]
            base = row["per-frame"]
            for i, (method, r) in enumerate(row.items()):
                ratio = "" if method == "per-frame" else f" ({r['jitter'] / base['jitter']:.2f}×)"
                delay = "" if key.startswith("pan_zoom") else f"{r['delay_frames']:.2f}"
                out.append(f"| {VIDEO_DOC_ROWS.get(key, key) if i == 0 else ''} | {method} | {r['error']:.3f} | "
                           f"{r['jitter']:.4f}{ratio} | {100 * r['jump_share']:.2f}% | {delay} |")
            if not key.startswith("pan_zoom"):
                out.append(f"| | *reference itself* | | {base['jitter_reference']:.4f} | "
                           f"{100 * base['reference_jump_share']:.2f}% | |")
    out += ["", "Per clip of the video, error / jitter / jumps:", "",
            "| clip | per-frame | sequence (causal) | sequence (offline) |", "|---|---|---|---|"]
    for key, row in results["video"].items():
        if key != "all":
            out.append(f"| {key} | " + " | ".join(
                f"{r['error']:.3f} / {r['jitter']:.3f} / {100 * r['jump_share']:.1f}%" for r in row.values()) + " |")
    return "\n".join(out)


def video_targets_table(metrics: Dict) -> str:
    """docs/video.md: issue #15's targets against the measured figures, one row per clip set."""
    results = _sequence_results()
    sets = (("synthetic", "pan_zoom/all", "still poses, panning/zooming camera"),
            ("synthetic", "sway/all", "still poses, swaying camera"),
            ("synthetic", "moving_pose/all", "poses that change (the truth jumps too)"),
            ("video", "all", "real video (the reference jumps too)"))
    out = ["| clips | mode | jitter <= 0.25x per-frame | jumps <= 0.2% | error <= per-frame |", "|---|---|---|---|---|"]
    for src, key, label in sets:
        row = results[src][key]
        base = row["per-frame"]
        for method in ("sequence (causal)", "sequence (offline)"):
            r = row[method]
            jit = r["jitter"] / base["jitter"]
            ref = f" (truth {100 * base['reference_jump_share']:.2f}%)" if base["reference_jump_share"] > 0 else ""
            rel = r["error"] / base["error"] - 1
            change = f"{rel:+.1%}"
            verdict = "met" if rel <= 0 else "**missed**"
            if "error_change_ci95" in r:  # bootstrap over clips: is the difference beyond which clips were drawn
                lo, hi = r["error_change_ci95"]
                change += f", 95% CI {lo:+.1%}..{hi:+.1%}"
                if rel > 0 and lo <= 0:
                    verdict += " (within the noise of which clips were drawn)"
            out.append(f"| {label if 'causal' in method else ''} | {method.split('(')[1][:-1]} | "
                       f"{jit:.2f}x {'met' if jit <= JITTER_RATIO else '**missed**'} | "
                       f"{100 * r['jump_share']:.2f}%{ref} {'met' if r['jump_share'] <= JUMP_SHARE else '**missed**'} | "
                       f"{r['error']:.3f} vs {base['error']:.3f} ({change}) {verdict} |")
    speed = results["speed"]
    fps = speed["cli_frames_per_s"]
    out += ["", f"Speed: `complete --sequence` on a one-person folder of {speed['frames']:,} JSON frames: "
            f"{fps:,.0f} frames/s wall clock, start-up and file writing included"
            f"{' (files on a RAM disk)' if speed.get('ram_disk') else ''} (target {FRAMES_PER_S:,}: "
            f"{'met' if fps >= FRAMES_PER_S else '**missed**'}; load average {speed['load_average']:.1f}); "
            f"`complete_sequence` alone {speed['library_frames_per_s']:,.0f} frames/s."]
    return "\n".join(out)


def v2_targets_table(metrics: Dict) -> str:
    """train/README.md: issue #16's per-scenario targets on the test split (``train/report/metrics.json``)."""
    from .headroom import PEERS, TARGET_RATIO

    rows = _in_report_order(metrics["all"])
    out = [f"| scenario | v2 | {' | '.join(PEERS)} | v2 / better peer (target <= {TARGET_RATIO}) | "
           "v2 best of 3 (ratio to top-1, target <= 0.9) | v2 PCK@0.5 | v2 plausible |",
           "|---" * (6 + len(PEERS)) + "|"]
    for sc, row in rows.items():
        ours = row[OURS]
        ratio = ours["err"] / min(row[name]["err"] for name in PEERS)
        best3 = ours["best_of_k_err"] / ours["err"]
        out.append(f"| {sc} | {ours['err']:.3f} | " + " | ".join(f"{row[name]['err']:.3f}" for name in PEERS)
                   + f" | {ratio:.2f} {'yes' if ratio <= TARGET_RATIO else 'NO'} | {ours['best_of_k_err']:.3f} "
                   f"({best3:.2f} {'yes' if best3 <= 0.9 else 'NO'}) | {ours['pck']:.1%} | {ours['plausible']:.1%} |")
    return "\n".join(out)


def headroom_table(metrics: Dict) -> str:
    """train/README.md: the target against v2's oracle best of 3 and the errors on training people."""
    from .headroom import table

    return table(metrics)


def margin_shift_table(metrics: Dict) -> str:
    """train/README.md: the scenarios with their uncut frame edges as evaluated and moved out."""
    from .headroom import margin_table

    return margin_table()


def ablation_table(metrics: Dict) -> str:
    """train/README.md: the issue #16 ablations, one row per stored run (``train.ablations``)."""
    from .ablations import table

    return "\n".join(table())


CONTINUITY_RESULTS_PATH = os.path.join(REPO_ROOT, "bench", "video_continuity_results.json")
#: (label in the results file, its detections, what the table calls it)
CONTINUITY_ROWS = (("before", "still_0.3", "before: BlazePose on still images (0.3)"),
                   ("after", "tracking_0.18", "now: BlazePose tracking, hysteresis, glide, bridges"))


def _continuity_results() -> Dict:
    with open(CONTINUITY_RESULTS_PATH, encoding="utf-8") as f:
        return json.load(f)


def _continuity_row(label: str, r: Dict) -> str:
    return (f"| {label} | {r['found']:,} | {r['empty_in_short_holes']} | {r['empty_in_track']} | "
            f"{r['leg_jump_share']:.2%} ({r['leg_jumps_switching']} / {r['leg_jumps_detected']} / "
            f"{r['leg_jumps_completed']}) | {r['leg_switch_share']:.1%} | {r['error']:.3f} | {r['jitter']:.4f} |")


_CONTINUITY_HEAD = ("| pipeline | found | empty frames in holes <= 0.5 s | empty frames in track | knee/ankle jumps > 0.3 "
                    "torso (at a source switch / detected / completed) | source switches | error | jitter |\n"
                    "|---|---|---|---|---|---|---|---|")


def continuity_table(metrics: Dict) -> str:
    """README and docs/video.md: the real video before and after (``bench/bench_video_continuity.py``)."""
    results = _continuity_results()
    lines = [_CONTINUITY_HEAD]
    for mode in ("causal", "offline"):
        for key, kind, label in CONTINUITY_ROWS:
            lines.append(_continuity_row(f"{label}, {mode}", results[key][kind][mode]))
    frames = results["after"]["tracking_0.18"]["causal"]["frames"]
    before, after = results["before"]["speed"], results["after"]["speed"]
    lines += ["", f"sports2d_demo.mp4 cut by 10 crops ({frames:,} frames, two people, BlazePose). `detect VIDEO "
              f"--sequence --detector blazepose` on the whole {after['frames']}-frame {after['size']} clip, end to "
              f"end: {before['frames_per_s']:.1f} frames/s before, {after['frames_per_s']:.1f} frames/s now "
              f"({after['cores']} CPU cores)."]
    return "\n".join(lines)


def continuity_ablation_table(metrics: Dict) -> str:
    """docs/video.md: every stored run of ``bench_video_continuity.py`` (attempts and detections)."""
    results = _continuity_results()
    lines = [_CONTINUITY_HEAD.replace("| pipeline |", "| run, detections, mode |")]
    for label, entry in results.items():
        for kind, rows in entry.items():
            if kind in ("lib", "speed"):
                continue
            for mode, r in rows.items():
                lines.append(_continuity_row(f"{label}; {kind}; {mode}", r))
    return "\n".join(lines)


RETARGET_RESULTS_PATH = os.path.join(REPO_ROOT, "bench", "retarget_results.json")
_RETARGET_METHODS = (("skelext", "skelext"), ("musepose", "MusePose's rule"), ("unianimate", "UniAnimate's rule"))


def retarget_table(metrics: Dict) -> str:
    """README: retargeting on held-out pairs against the peers' rules (``bench/bench_retarget.py``)."""
    with open(RETARGET_RESULTS_PATH, encoding="utf-8") as f:
        results = json.load(f)
    lines = ["| reference | method | bones seen in the reference: length error (median) | legs not seen: length "
             "error (median) | bone direction error (median) | pairs answered |", "|---|---|---|---|---|---|"]
    for cut, rows in results["pairs"].items():
        for key, name in _RETARGET_METHODS:
            r = rows[key]
            legs = "-" if r["legs_median"] != r["legs_median"] else f"{r['legs_median']:.1%}"
            lines.append(f"| {cut.replace('_', '-') if key == 'skelext' else ''} | {name} | {r['seen_median']:.1%} | "
                         f"{legs} | {r['angle_median_deg']:.1f} deg | {r['answered']:.0%} |")
    sp = results["speed"]
    lines += ["", f"600 pairs of held-out people per reference cut. Retargeting a {sp['frames']:,}-frame clip "
              f"(sequence completion included): {sp['seconds']:.2f} s ({sp['frames_per_s']:,.0f} frames/s, "
              f"{sp['cores']} CPU cores)."]
    return "\n".join(lines)


BLOCKS = {"accuracy": accuracy_table, "speed": speed_line, "sequence": sequence_table,
          "continuity": continuity_table, "retarget": retarget_table}
TRAIN_README_BLOCKS = {"ablations": ablation_table, "v2-targets": v2_targets_table, "headroom": headroom_table,
                      "margin-shift": margin_shift_table}
VIDEO_DOC_BLOCKS = {"video-tables": video_doc_tables, "video-targets": video_targets_table,
                    "continuity": continuity_table, "continuity-ablations": continuity_ablation_table}
#: document -> its blocks
DOCUMENTS = {README_PATH: BLOCKS, VIDEO_DOC_PATH: VIDEO_DOC_BLOCKS, TRAIN_README_PATH: TRAIN_README_BLOCKS}


def render(text: str, metrics: Dict, blocks: Dict = BLOCKS) -> str:
    for name, build in blocks.items():
        pattern = re.compile(rf"(<!-- figures:{name} -->\n).*?(\n<!-- /figures:{name} -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"a document lacks the <!-- figures:{name} --> block")
        text = pattern.sub(lambda m: m.group(1) + build(metrics) + m.group(2), text)
    return text


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a document differs")
    args = parser.parse_args(argv)
    with open(METRICS_PATH, encoding="utf-8") as f:
        metrics = json.load(f)
    stale = []
    for path, blocks in DOCUMENTS.items():
        with open(path, encoding="utf-8") as f:
            text = f.read()
        wanted = render(text, metrics, blocks)
        if wanted == text:
            continue
        stale.append(os.path.relpath(path, REPO_ROOT))
        if not args.check:
            with open(path, "w", encoding="utf-8") as f:
                f.write(wanted)
    if args.check and stale:
        print(f"{', '.join(stale)}: figures differ from the results files: run python -m train.readme_figures",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
