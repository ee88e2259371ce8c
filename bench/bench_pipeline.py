"""Detection alone vs dwpose_full (detection + completion) on real photos, side by side.

    .venv/bin/python -m bench.bench_pipeline [--detector dwpose|blazepose] [--repeat N]

Uses DWPose when its two ONNX files are found locally (never downloads),
else BlazePose. Prints per photo the median wall time of the plain run
(``complete=False``) and of the full run, and completion's share of the full
run (target < 2 %). Asserts nothing.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

PHOTOS = ("skimage_astronaut.png", "sports2d_f092_crop_waistup.jpg", "coco_000000000785_crop_hipsup.jpg",
          "coco_000000000785.jpg", "coco_000000197388.jpg", "sports2d_f060.jpg")


def pick_detector(name: str, weights_dir):
    from lib_skelext import weights

    if name in ("auto", "dwpose"):
        dirs = weights.dwpose_search_dirs(explicit_dir=weights_dir)
        found = [weights.find_file(f.name, dirs) for f in weights.DWPOSE_FILES]
        if all(found):
            from lib_skelext.dwpose import DWPoseDetector

            return "dwpose", DWPoseDetector(found[0], found[1]).load()
        if name == "dwpose":
            sys.exit(f"DWPose weights not found in {', '.join(map(str, dirs))}")
    from lib_skelext.blazepose import BlazePoseDetector

    return "blazepose", BlazePoseDetector().load()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--detector", choices=("auto", "dwpose", "blazepose"), default="auto")
    ap.add_argument("--weights-dir", default=None)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--resolution", type=int, default=512)
    ap.add_argument("--photos", default=os.environ.get("SKELEXT_SHARED", str(REPO.parent / "shared")) + "/photos")
    args = ap.parse_args()

    from lib_skelext.image_io import load_image
    from lib_skelext.core import process_image
    from lib_skelext.settings import PipelineSettings

    name, det = pick_detector(args.detector, args.weights_dir)
    if args.detector == "auto" and name == "blazepose":
        print("DWPose weights not found locally: using BlazePose (YOLOX-L + DWPose-L are heavier "
              "models, so completion's share of a DWPose run should be smaller; not measured here)")
    plain = PipelineSettings(resolution=args.resolution, detector=name, complete=False)
    full = PipelineSettings(resolution=args.resolution, detector=name, complete=True)
    photos = [Path(args.photos) / p for p in PHOTOS if (Path(args.photos) / p).exists()]
    if not photos:
        sys.exit(f"no photos in {args.photos}")

    # warm-up: model loading (detector and completion network) is not timed
    warm = process_image(load_image(photos[0]), full, detector=det)
    if warm.completion_failed:
        print("note: completion failed (see warning above); the full run measures the fallback only")
    print(f"detector={name} resolution={args.resolution} repeat={args.repeat} cpus={os.cpu_count()}")
    print("median (min) wall times of whole process_image calls; 'complete' is the completion stage inside 'full'")
    print(f"{'photo':36s} {'people':>6s} {'plain ms':>15s} {'full ms':>15s} {'complete ms':>13s} {'share':>7s}")
    shares, min_shares = [], []
    for path in photos:
        img = load_image(path)
        t_plain, t_full, t_comp = [], [], []
        people = 0
        for _ in range(args.repeat):
            t = time.perf_counter()
            process_image(img, plain, detector=det)
            t_plain.append(time.perf_counter() - t)
            t = time.perf_counter()
            res = process_image(img, full, detector=det)
            t_full.append(time.perf_counter() - t)
            t_comp.append(res.timings_s["complete"])
            people = len(res.frame.people)
        mp, mf, mc = (statistics.median(v) * 1000 for v in (t_plain, t_full, t_comp))
        share = mc / mf if mf else 0.0
        shares.append(share)
        min_shares.append(min(t_comp) / min(t_full))
        print(f"{path.name[:36]:36s} {people:6d} {mp:7.1f} ({min(t_plain) * 1000:5.1f}) {mf:7.1f} "
              f"({min(t_full) * 1000:5.1f}) {mc:6.2f} ({min(t_comp) * 1000:4.2f}) {share:7.2%}")
    print(f"completion share of the full run: median over photos {statistics.median(shares):.2%}, "
          f"max {max(shares):.2%}; from min times (least noise) median {statistics.median(min_shares):.2%}, "
          f"max {max(min_shares):.2%} (target < 2%)")


if __name__ == "__main__":
    main()
