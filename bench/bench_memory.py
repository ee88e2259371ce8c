"""Peak memory of detect + complete runs, each in a fresh process.

    .venv/bin/python bench/bench_memory.py

For each scenario a new ``python`` process imports what it needs, loads the
models once (BlazePose and the completion network; DWPose's weights are not
here), then runs the scenario twice: first to warm up, then measured.
Printed per scenario:

* ``max RSS``: ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` at the end (the
  process's peak resident memory, models and libraries included);
* ``RSS before``: the same just before the measured run (imports + models);
* ``tracemalloc peak``: peak of memory allocated through Python's allocators
  during the measured run (numpy arrays included; mediapipe's and OpenCV's
  native buffers are not).

Asserts nothing.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys, time, tracemalloc
sys.path.insert(0, sys.argv[1])
scenario = sys.argv[2]
import numpy as np
from PIL import Image
from lib_skelext.complete import complete_frame
from lib_skelext.completion_model import load_model
from lib_skelext.image_io import load_image
from lib_skelext.openpose_json import dumps_frame, loads_frame
from lib_skelext.core import process_image
from lib_skelext.render import render_frame
from lib_skelext.settings import PipelineSettings

repo = sys.argv[1]
photo = repo + "/examples/coco_000000000785_crop_hipsup.jpg"
load_model()
det = None
if scenario != "complete JSON":
    from lib_skelext.blazepose import BlazePoseDetector
    det = BlazePoseDetector().load()

def source():
    if scenario == "detect+complete 24 MP":
        import io
        big = Image.open(photo).convert("RGB").resize((6000, 4000))
        buf = io.BytesIO(); big.save(buf, format="JPEG", quality=90)
        return buf.getvalue()
    if scenario == "detect+complete 1x40000":
        import io
        buf = io.BytesIO(); Image.new("RGB", (1, 40000), (80, 90, 100)).save(buf, format="PNG")
        return buf.getvalue()
    return open(photo, "rb").read()

data = source() if det is not None else open(repo + "/examples/waist_up.json", "rb").read()

def run():
    if det is None:
        frame = complete_frame(loads_frame(data))
        render_frame(frame)
        return dumps_frame(frame)
    result = process_image(load_image(data), PipelineSettings(detector="blazepose", resolution=512), detector=det)
    result.overlay()
    return result.json_text

run()
rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
tracemalloc.start()
t = time.perf_counter()
run()
wall = time.perf_counter() - t
_, peak = tracemalloc.get_traced_memory()
tracemalloc.stop()
print(json.dumps({"scenario": scenario, "rss_before_mb": rss_before / 1024,
                  "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "traced_peak_mb": peak / 2 ** 20, "input_mb": len(data) / 2 ** 20, "wall_s": wall}))
"""

SCENARIOS = ("complete JSON", "detect+complete photo", "detect+complete 24 MP", "detect+complete 1x40000")


def main() -> int:
    print(f"python {sys.version.split()[0]}; cpus={os.cpu_count()}; one fresh process per scenario; "
          "BlazePose + completion model loaded before the measured run")
    print(f"{'scenario':26s} {'input MB':>9s} {'RSS before MB':>14s} {'max RSS MB':>11s} "
          f"{'tracemalloc peak MB':>20s} {'wall s':>7s}")
    for scenario in SCENARIOS:
        out = subprocess.run([sys.executable, "-c", CHILD, str(REPO), scenario], capture_output=True, text=True,
                             timeout=600)
        if out.returncode != 0:
            print(f"{scenario:26s} failed: {out.stderr.strip().splitlines()[-1] if out.stderr.strip() else out.returncode}")
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{scenario:26s} {r['input_mb']:9.2f} {r['rss_before_mb']:14.0f} {r['max_rss_mb']:11.0f} "
              f"{r['traced_peak_mb']:20.1f} {r['wall_s']:7.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
