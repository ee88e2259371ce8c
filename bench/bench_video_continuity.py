"""Benchmark: does a real video come out shippable? Holes in tracks, leaping knees and ankles, source
switches, on ../shared/videos/sports2d_demo.mp4 (BSD-3-Clause; see its README) cut by the crops of
``sequence_video.py`` (2 people x waist-up / knees-up fixed, waist-up / knees-up / one side moving).

For each crop's clip and each pipeline, on the person of that crop (the BlazePose reference on the
full frames tells which detection is theirs, as in ``bench_sequence.py``):

* found: frames where the detector found the person; empty in track: output frames with nobody
  between the person's first and last detection, and those in holes of at most ``bridge_gap``
  (0.5 s) of missing detections (the target: 0);
* knee/ankle jumps: share of frame steps (a knee or ankle shown in both frames) moving > 0.3 torso
  (the reference's torso length), split by whether the point's source (detected / completed)
  switched; source switches: share of those steps whose source switched;
* error and jitter of completed points against the reference (``bench_sequence.Tally``).

Pipelines: ``--lib DIR`` runs another checkout's ``lib_skelext`` (the code before a change) on the same
detections. Detections (cached in out/): BlazePose on still images at the threshold (0.3), BlazePose in
its tracking (video) mode at the hysteresis' lower threshold (0.18), as ``detect --sequence`` runs it
now, and still images at 0.18 (an ablation). Speed: ``detect VIDEO --sequence --detector blazepose`` on
the whole clip, end to end (``--speed``).

Run: ``.venv/bin/python bench/bench_video_continuity.py [--lib DIR --label before] [--speed]``; each run
adds its rows to bench/video_continuity_results.json under its label. Prints; asserts nothing.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Tuple

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "video_continuity_results.json")
LEGS = [9, 10, 12, 13]  # knees and ankles
JUMP = 0.3
FPS = 30.0
BRIDGE_S = 0.5


def _cache(kind: str) -> str:
    return os.path.join(ROOT, "out", f"video_continuity_{kind}.npz")


def detect_crops(kind: str) -> Dict[str, np.ndarray]:
    """'<person>/<crop>/body' (T, 18, 3) crop px for detections ``kind``: still_0.3 | still_0.18 | tracking_0.18
    (the still_0.3 ones are ``sequence_video``'s own cache)."""
    from sequence_video import CROPS, PEOPLE, load_or_run

    data = load_or_run()
    if kind == "still_0.3":
        return data
    path = _cache(kind)
    if os.path.isfile(path):
        with np.load(path) as z:
            return {**data, **{k: z[k] for k in z.files}}
    from lib_skelext.blazepose import BlazePoseDetector
    from sequence_video import VIDEO

    from lib_skelext.sequence.video_io import read_video

    frames = list(read_video(VIDEO))
    height, width = frames[0].shape[:2]
    mode, threshold = kind.split("_")
    out = {}
    for person in PEOPLE:
        for crop in CROPS:
            rects = data[f"{person}/{crop}/rect"]
            det = BlazePoseDetector(video=mode == "tracking").load()
            bodies = []
            for image, (x0, y0, x1, y1) in zip(frames, rects):
                canvas = np.zeros((y1 - y0, x1 - x0, 3), np.uint8)
                sx0, sy0, sx1, sy1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
                canvas[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = image[sy0:sy1, sx0:sx1]
                found = det.detect_people(canvas, threshold=float(threshold))
                bodies.append(found.people[0].body if found.people else np.zeros((18, 3)))
            det.close()
            out[f"{person}/{crop}/body"] = np.stack(bodies)
            print(f"detected {kind} {person}/{crop}", flush=True)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    np.savez_compressed(path, **out)
    return {**data, **out}


def clips(kind: str) -> Dict[str, tuple]:
    """name -> (frames, gt, gt_ok, torso, same): ``bench_sequence.video_clips`` on these detections."""
    from bench_sequence import video_clips

    return video_clips(detect_crops(kind))


def continuity(results, same: np.ndarray, torso: np.ndarray) -> Dict[str, int]:
    """Counts for one clip's output (person 0 of each frame)."""
    t = len(results)
    shown = np.array([bool(r.frame.people) for r in results])
    found = np.flatnonzero(same)
    counts = {"frames": t, "found": int(same.sum()), "shown": int(shown.sum()), "empty_in_track": 0,
              "empty_in_short_holes": 0, "leg_steps": 0, "leg_jumps": 0, "leg_switches": 0,
              "leg_jumps_switching": 0, "leg_jumps_detected": 0, "leg_jumps_completed": 0}
    if found.size:
        first, last = found[0], found[-1]
        counts["empty_in_track"] = int((~shown[first:last + 1]).sum())
        limit = int(round(BRIDGE_S * FPS))
        k = first
        while k <= last:  # holes of missing detections, and how many of their frames stayed empty
            if same[k]:
                k += 1
                continue
            end = k
            while end <= last and not same[end]:
                end += 1
            if end - k <= limit:
                counts["empty_in_short_holes"] += int((~shown[k:end]).sum())
            k = end
    bodies = np.zeros((t, 18, 3))
    sources = np.zeros((t, 18), int)
    for i, r in enumerate(results):
        if r.frame.people:
            bodies[i], sources[i] = r.frame.people[0].body, r.frame.people[0].source
    a, b = bodies[:-1][:, LEGS], bodies[1:][:, LEGS]
    ok = (a[..., 2] > 0) & (b[..., 2] > 0)
    step = np.linalg.norm(b[..., :2] - a[..., :2], axis=-1) / torso[1:, None]
    switched = sources[:-1][:, LEGS] != sources[1:][:, LEGS]
    jump = ok & (step > JUMP)
    counts.update(leg_steps=int(ok.sum()), leg_jumps=int(jump.sum()), leg_switches=int((ok & switched).sum()),
                  leg_jumps_switching=int((jump & switched).sum()),
                  leg_jumps_detected=int((jump & ~switched & (sources[1:][:, LEGS] == 1)).sum()),
                  leg_jumps_completed=int((jump & ~switched & (sources[1:][:, LEGS] == 2)).sum()))
    return counts


def run(kind: str) -> Dict[str, Dict[str, float]]:
    from bench_sequence import Tally, outputs

    from lib_skelext.sequence import complete_sequence

    rows: Dict[str, Dict[str, float]] = {}
    for mode in ("causal", "offline"):
        tally, total = Tally(), {}
        for name, (frames, gt, gt_ok, torso, same) in clips(kind).items():
            results = complete_sequence([f.copy() for f in frames], mode=mode)
            pred, comp = outputs(results)
            tally.add(pred, comp, gt, gt_ok, torso)
            for key, value in continuity(results, same, torso).items():
                total[key] = total.get(key, 0) + value
        row = {**total, **{k: v for k, v in tally.result().items() if k in ("error", "jitter", "points")}}
        row["leg_jump_share"] = row["leg_jumps"] / max(row["leg_steps"], 1)
        row["leg_switch_share"] = row["leg_switches"] / max(row["leg_steps"], 1)
        rows[mode] = row
        print(f"{kind} {mode}:", json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}),
              flush=True)
    return rows


def speed(video: str, lib: str, runs: int = 2) -> Dict[str, float]:
    """``detect VIDEO --sequence --detector blazepose`` end to end, run from checkout ``lib`` (best of runs)."""
    from lib_skelext.sequence.video_io import probe_video

    _, count, width, height = probe_video(video)
    walls = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            env = dict(os.environ, PYTHONPATH=lib)
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "lib_skelext", "-q", "detect", video, "-o", tmp, "--sequence",
                            "--detector", "blazepose"], check=True, env=env, cwd=lib)
            walls.append(time.perf_counter() - t)
    best = min(walls)
    return {"frames": count, "size": f"{width}x{height}", "wall_s": best, "frames_per_s": count / best,
            "cores": os.cpu_count(), "load_average": os.getloadavg()[0]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lib", default=ROOT, help="checkout whose lib_skelext runs (default: this one)")
    ap.add_argument("--label", default="after")
    ap.add_argument("--detections", nargs="*", default=["tracking_0.18", "still_0.3", "still_0.18"])
    ap.add_argument("--speed", action="store_true", help="also time detect VIDEO --sequence (BlazePose)")
    args = ap.parse_args()
    sys.path[:0] = [os.path.abspath(args.lib), HERE]
    import lib_skelext  # from --lib, before bench_sequence puts this checkout first on sys.path

    print("lib_skelext from", os.path.dirname(lib_skelext.__file__), flush=True)
    results = json.load(open(RESULTS)) if os.path.isfile(RESULTS) else {}
    entry = results.setdefault(args.label, {"lib": os.path.relpath(os.path.abspath(args.lib), ROOT)})
    for kind in args.detections:
        entry[kind] = run(kind)
    if args.speed:
        from sequence_video import VIDEO

        entry["speed"] = speed(VIDEO, os.path.abspath(args.lib))
        print("speed", entry["speed"])
    with open(RESULTS, "w") as f:
        json.dump(results, f, indent=1, sort_keys=True)
    print("wrote", RESULTS)


if __name__ == "__main__":
    main()
