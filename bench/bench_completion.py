"""Benchmark the completion model on CPU: batched people/s and single-person latency.

Usage: .venv/bin/python bench/bench_completion.py [--threads 2] [--batch 4096] [--model PATH]
Prints figures (medians of the repeats); asserts nothing. Set the BLAS thread count before numpy loads,
so --threads is applied through the environment at start-up.
"""
from __future__ import annotations

import argparse
import os
import sys


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=4096)
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--model", default=None)
    args = ap.parse_args()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

    from lib_skelext.complete import complete_frame, complete_person
    from lib_skelext.completion_model import load_model
    from train.speed import CANVAS, median_time, speed_inputs

    model = load_model(args.model)
    xy, vis, rect, frame = speed_inputs(model, args.batch)
    n = args.batch
    timed = median_time

    t_model = timed(lambda: model.predict(xy, vis, rect), args.repeats)
    t_mirror = timed(lambda: model.predict(xy, vis, rect, mirror=not model.config.mirror), args.repeats)
    t_frame = timed(lambda: complete_frame(frame, model=model), max(2, args.repeats // 3))
    one = frame.people[0]
    t_one = timed(lambda: complete_person(one, CANVAS, CANVAS, model=model), 300)
    t_one_k = timed(lambda: complete_person(one, CANVAS, CANVAS, alternatives=4, model=model), 300)
    size = os.path.getsize(model.path) / 1e6
    print(f"model: {model.path} ({size:.2f} MB, {model.config.hypotheses} hypotheses, hidden {model.config.hidden})")
    print(f"threads: {args.threads}; batch {n}")
    print(f"model.predict batched:   {n / t_model:>10,.0f} people/s (mirror pooling {'on' if model.config.mirror else 'off'}"
          f", as the model file says; {'off' if model.config.mirror else 'on'}: {n / t_mirror:,.0f} people/s)")
    print(f"complete_frame batched:  {n / t_frame:>10,.0f} people/s (Person objects in and out)")
    print(f"complete_person, 1 person: {1000 * t_one:.3f} ms (alternatives=4: {1000 * t_one_k:.3f} ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
