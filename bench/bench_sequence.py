"""Benchmark: per-frame completion vs ``--sequence`` (causal and offline) on video.

Two sources:
(a) the real video ../shared/videos/sports2d_demo.mp4 (BSD-3-Clause; attribution in its README):
    reference = BlazePose on the full frames, input = BlazePose on crops that cut the person
    (``sequence_video.py``);
(b) clips made from held-out TEST people (``sequence_synthetic.py``): a still pose under a
    panning / zooming camera with 2% detector jitter (the issue's case), a camera swaying sideways
    (for the delay), and a moving pose (each pose swings to another person's and back every 40 frames).

Figures, all in torso lengths (reference neck -> mid-hip) over completed points: error; jitter
(mean |second difference| per frame); jumps (share of frame steps where a completed point
moves > 0.3 torso); delay (frames the output trails the truth, fitted on moving points:
d = -sum(r.v) / sum(v.v), r the error, v the truth's velocity). Speed: ``complete --sequence``
on a one-person folder, wall clock including start-up and file I/O.

Run: ``.venv/bin/python bench/bench_sequence.py`` (``--quick`` for a smaller run, ``--split val``
to tune on validation people). Writes bench/sequence_results.json and docs/images/sequence_*.png.
Prints; asserts nothing.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Callable, Dict, List

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.dirname(os.path.abspath(__file__))]

from lib_skelext.core import complete_poses  # noqa: E402
from lib_skelext.pose import L_HIP, NECK, R_HIP, Person, PoseFrame  # noqa: E402
from lib_skelext.sequence import complete_sequence  # noqa: E402

METHODS: Dict[str, Callable] = {
    "per-frame": lambda frames: complete_poses(frames),
    "sequence (causal)": lambda frames: complete_sequence(frames, mode="causal"),
    "sequence (offline)": lambda frames: complete_sequence(frames, mode="offline"),
}
JUMP = 0.3


def outputs(results, n_points: int = 18):
    """-> pred (T, 18, 2) px (NaN: no person), completed (T, 18) bool, for person 0 of each frame."""
    t = len(results)
    pred, comp = np.full((t, n_points, 2), np.nan), np.zeros((t, n_points), bool)
    for i, r in enumerate(results):
        if r.frame.people:
            p = r.frame.people[0]
            pred[i], comp[i] = p.body[:, :2], p.completed
    return pred, comp


class Tally:
    """Sums over clips; ``result()`` gives the figures."""

    def __init__(self) -> None:
        self.e, self.j, self.jref, self.steps, self.jumps, self.rv, self.vv = [], [], [], 0, 0, 0.0, 0.0
        self.ref_jumps = 0

    def add(self, pred, comp, gt, gt_ok, torso) -> None:
        m = comp & gt_ok
        self.e.append((np.linalg.norm(pred - gt, axis=-1) / torso[:, None])[m])
        d2 = np.linalg.norm(pred[2:] - 2 * pred[1:-1] + pred[:-2], axis=-1) / torso[1:-1, None]
        c3 = comp[2:] & comp[1:-1] & comp[:-2]
        self.j.append(d2[c3])
        g3 = c3 & gt_ok[2:] & gt_ok[1:-1] & gt_ok[:-2]
        self.jref.append((np.linalg.norm(gt[2:] - 2 * gt[1:-1] + gt[:-2], axis=-1) / torso[1:-1, None])[g3])
        c2 = comp[1:] & comp[:-1]
        step = np.linalg.norm(pred[1:] - pred[:-1], axis=-1) / torso[1:, None]
        any_c = c2.any(1)
        self.steps += int(any_c.sum())
        self.jumps += int(((step > JUMP) & c2).any(1).sum())
        gstep = np.linalg.norm(gt[1:] - gt[:-1], axis=-1) / torso[1:, None]
        self.ref_jumps += int(((gstep > JUMP) & c2 & gt_ok[1:] & gt_ok[:-1]).any(1).sum())
        v = np.zeros_like(gt)
        v[1:-1] = (gt[2:] - gt[:-2]) / 2
        vm = m.copy()
        vm[[0, -1]] = False
        vm[1:-1] &= gt_ok[2:] & gt_ok[:-2]
        r = pred - gt
        self.rv += float((r * v).sum(-1)[vm].sum())
        self.vv += float((v * v).sum(-1)[vm].sum())

    def clip_errors(self) -> np.ndarray:
        """(clips, 2): each clip's summed error and point count, in the order added."""
        return np.array([(e.sum(), e.size) for e in self.e], float).reshape(-1, 2)

    def result(self) -> Dict[str, float]:
        e, j, jr = (np.concatenate(x) if x else np.zeros(0) for x in (self.e, self.j, self.jref))
        return {"points": int(e.size), "error": float(e.mean()) if e.size else float("nan"),
                "jitter": float(j.mean()) if j.size else float("nan"),
                "jitter_reference": float(jr.mean()) if jr.size else float("nan"),
                "jump_share": self.jumps / max(self.steps, 1), "frame_steps": self.steps,
                "reference_jump_share": self.ref_jumps / max(self.steps, 1),
                "delay_frames": -self.rv / self.vv if self.vv > 0 else float("nan")}


def error_change_ci(base: Tally, other: Tally, draws: int = 2000, seed: int = 0) -> List[float]:
    """95% bootstrap interval, over clips, of other's mean error / base's - 1 (both tallies over the same
    clips): how far a difference between two methods is from the noise of which clips were drawn."""
    b, o = base.clip_errors(), other.clip_errors()
    pick = np.random.default_rng(seed).integers(0, len(b), (draws, len(b)))
    ratio = (o[pick, 0].sum(1) / o[pick, 1].sum(1)) / (b[pick, 0].sum(1) / b[pick, 1].sum(1)) - 1
    return [float(x) for x in np.percentile(ratio, [2.5, 97.5])]


def with_error_ci(tallies: Dict[str, Tally]) -> Dict[str, Dict[str, float]]:
    """Each method's result; the sequence methods' with ``error_change_ci95`` against per-frame."""
    row = {name: t.result() for name, t in tallies.items()}
    for name in row:
        if name != "per-frame":
            row[name]["error_change_ci95"] = error_change_ci(tallies["per-frame"], tallies[name])
    return row


def run_synthetic(split: int, n_people: int, length: int) -> Dict[str, Dict[str, Dict[str, float]]]:
    from sequence_synthetic import make_sequences, morph_sequences, sway_sequences

    out: Dict[str, Dict[str, Dict[str, float]]] = {}
    sets = {"pan_zoom": make_sequences(split, n_people=n_people, length=length),
            "sway": sway_sequences(split, n_people=n_people, length=length),
            "moving_pose": morph_sequences(split, n_people=n_people, length=length)}
    for set_name, clips in sets.items():
        groups = list(dict.fromkeys(c.scenario for c in clips)) + ["all"]
        tallies = {sc: {name: Tally() for name in METHODS} for sc in groups}
        for name, fn in METHODS.items():
            for c in clips:  # each clip run once, counted in its scenario's figures and in "all"
                pred, comp = outputs(fn(c.frames))
                for sc in (c.scenario, "all"):
                    tallies[sc][name].add(pred, comp, c.gt, np.broadcast_to(c.label, comp.shape), c.torso)
        for sc in groups:
            out[f"{set_name}/{sc}"] = row = with_error_ci(tallies[sc])
            n_clips = len(clips) if sc == "all" else sum(c.scenario == sc for c in clips)
            print(f"synthetic {set_name}/{sc}: {n_clips} clips", {k: round(v['jitter'], 4) for k, v in row.items()})
    return out


def video_clips(data: Dict[str, np.ndarray] = None) -> Dict[str, tuple]:
    """name -> (frames, gt (T, 18, 2) crop px, gt_ok (T, 18), torso (T,) px, same_person (T,) bool).
    data: the detections (``sequence_video.load_or_run()``'s layout; default: that)."""
    from sequence_video import CROPS, PEOPLE, load_or_run

    data = load_or_run() if data is None else data
    clips = {}
    for person in PEOPLE:
        ref = data[f"{person}/reference"]
        neck_ok = (ref[:, NECK, 2] > 0) & (ref[:, R_HIP, 2] > 0) & (ref[:, L_HIP, 2] > 0)
        torso_all = np.linalg.norm(ref[:, NECK, :2] - (ref[:, R_HIP, :2] + ref[:, L_HIP, :2]) / 2, axis=1)
        torso = np.where(neck_ok, torso_all, np.median(torso_all[neck_ok]))
        for crop in CROPS:
            rect, body = data[f"{person}/{crop}/rect"], data[f"{person}/{crop}/body"]
            w, h = int(rect[0, 2] - rect[0, 0]), int(rect[0, 3] - rect[0, 1])
            gt = ref[:, :, :2] - rect[:, None, :2]
            gt_ok = ref[..., 2] > 0
            shared = gt_ok & (body[..., 2] > 0)
            dist = np.where(shared, np.linalg.norm(body[..., :2] - gt, axis=-1), 0).sum(1)
            dist /= np.maximum(shared.sum(1), 1)
            same = (shared.sum(1) >= 2) & (dist < 0.5 * torso)  # BlazePose found this person in the crop
            frames = [PoseFrame([Person(body=b)] if (b[:, 2] > 0).sum() and s else [], w, h)
                      for b, s in zip(body, same)]
            clips[f"{person}/{crop}"] = (frames, gt, gt_ok & same[:, None], torso, same)
    return clips


def run_video() -> Dict[str, Dict[str, Dict[str, float]]]:
    out = {}
    totals = {name: Tally() for name in METHODS}
    for name, (frames, gt, gt_ok, torso, same) in video_clips().items():
        row = {}
        for method, fn in METHODS.items():
            pred, comp = outputs(fn(frames))
            one = Tally()
            for tally in (one, totals[method]):
                tally.add(pred, comp, gt, gt_ok, torso)
            row[method] = one.result()
            row[method]["frames_with_person"] = int(same.sum())
        out[name] = row
        print(f"video {name}: {int(same.sum())} frames", {k: round(v["jitter"], 4) for k, v in row.items()})
    out["all"] = with_error_ci(totals)
    return out


def measure_speed(frames_n: int = 3000, repeats: int = 5) -> Dict[str, float]:
    """``complete --sequence`` on a one-person folder of frames_n JSON files (best of repeats).

    The folders are on a RAM disk (/dev/shm) where there is one: on this shared virtual machine, creating
    3,000 files on disk took from 0.1 to 1.5 s from one run to the next, which measured the disk, not skelext."""
    from sequence_synthetic import still_clip

    clip = still_clip(frames_n)
    walls, cpus = [], []
    ram = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    with tempfile.TemporaryDirectory(dir=ram) as tmp:
        src = os.path.join(tmp, "in")
        os.makedirs(src)
        for i, frame in enumerate(clip.frames):
            from lib_skelext.openpose_json import dumps_frame

            with open(os.path.join(src, f"frame_{i:05d}.json"), "w") as f:
                f.write(dumps_frame(frame))
        for k in range(repeats):
            dst = os.path.join(tmp, f"out{k}")
            before = os.times()
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "lib_skelext", "-q", "complete", src, "-o", dst, "--sequence"],
                           cwd=ROOT, check=True)
            walls.append(time.perf_counter() - t)
            after = os.times()
            cpus.append((after.children_user - before.children_user) + (after.children_system - before.children_system))
    t = time.perf_counter()
    complete_sequence(clip.frames)
    lib = time.perf_counter() - t
    best = int(np.argmin(walls))
    return {"frames": frames_n, "cli_wall_s": walls[best], "cli_frames_per_s": frames_n / walls[best],
            "cli_cpu_s": cpus[best], "cli_frames_per_cpu_s": frames_n / cpus[best],
            "library_frames_per_s": frames_n / lib, "cores": os.cpu_count(), "ram_disk": ram is not None,
            "load_average": os.getloadavg()[0]}


def table(rows: Dict[str, Dict[str, Dict[str, float]]], title: str) -> str:
    lines = [f"\n{title}\n", "| clip | method | error | jitter | jumps > 0.3 | delay (frames) |",
             "|---|---|---|---|---|---|"]
    for clip, row in rows.items():
        for method, r in row.items():
            lines.append(f"| {clip} | {method} | {r['error']:.3f} | {r['jitter']:.4f} | {100 * r['jump_share']:.2f}% "
                         f"| {r['delay_frames']:.2f} |")
        ref = next(iter(row.values()))
        lines.append(f"| {clip} | (reference itself) | | {ref['jitter_reference']:.4f} | "
                     f"{100 * ref['reference_jump_share']:.2f}% | |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer people, no speed run")
    ap.add_argument("--split", choices=("test", "val"), default="test")
    ap.add_argument("--no-video", action="store_true")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "sequence_results.json"))
    ap.add_argument("--markdown", action="store_true",
                    help="print the docs/video.md tables from bench/sequence_results.json and stop "
                         "(python -m train.readme_figures writes them into docs/video.md)")
    ap.add_argument("--speed", action="store_true",
                    help="only measure the speed again (on a quiet machine: it is shared): it becomes --out's speed "
                         "figure, and every such run is kept in its speed_runs")
    args = ap.parse_args()
    if args.speed:
        with open(args.out) as f:
            saved = json.load(f)
        saved["speed"] = measure_speed()
        saved.setdefault("speed_runs", []).append(saved["speed"])
        print("speed", saved["speed"])
        with open(args.out, "w") as f:
            json.dump(saved, f, indent=1, sort_keys=True)
        return
    if args.markdown:
        from train.readme_figures import video_doc_tables

        print(video_doc_tables({}))
        return
    split = 2 if args.split == "test" else 1
    results = {"split": args.split, "synthetic": run_synthetic(split, 20 if args.quick else 100, 120)}
    print(table(results["synthetic"], "held-out people (synthetic clips)"))
    if not args.no_video:
        results["video"] = run_video()
        print(table(results["video"], "sports2d_demo.mp4 (BlazePose reference)"))
    if not args.quick:
        results["speed"] = measure_speed()
        print("speed", results["speed"])
    if args.split == "test" and not args.quick:
        from sequence_plots import ankle_plots

        results["plots"] = ankle_plots(METHODS, outputs, video_clips() if not args.no_video else {})
        if os.path.isfile(args.out):  # the speed runs so far stay (they vary with the shared machine's load)
            with open(args.out) as f:
                results["speed_runs"] = json.load(f).get("speed_runs", [])
        results.setdefault("speed_runs", []).append(results["speed"])
        with open(args.out, "w") as f:
            json.dump(results, f, indent=1, sort_keys=True)
        print("wrote", args.out)


if __name__ == "__main__":
    main()
