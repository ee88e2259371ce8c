"""The completion model's speed figures, measured one way for the report (``train.evaluate``) and the
benchmark (``bench/bench_completion.py``): a batch of people around the mean pose, 60% of their points
given, on a 600 x 600 canvas; medians of repeated runs."""
from __future__ import annotations

import time
from typing import Callable, Dict, Tuple

import numpy as np

from lib_skelext.completion_model import CompletionModel
from lib_skelext.pose import Person, PoseFrame

CANVAS = 600


def speed_inputs(model: CompletionModel, n: int = 4096, seed: int = 0) -> Tuple[np.ndarray, np.ndarray, np.ndarray,
                                                                                   PoseFrame]:
    """xy (n, 18, 2) px, visible (n, 18), rect (n, 4), and the same people as one PoseFrame."""
    rng = np.random.default_rng(seed)
    xy = model.mean_pose[None] * 100 + 300 + rng.normal(0, 5, (n, 18, 2))
    vis = rng.random((n, 18)) < 0.6
    vis[:, :2] = True
    rect = np.tile([0.0, 0.0, float(CANVAS), float(CANVAS)], (n, 1))
    people = [Person(body=np.concatenate([xy[i], vis[i, :, None].astype(float)], 1)) for i in range(n)]
    return xy, vis, rect, PoseFrame(people=people, canvas_width=CANVAS, canvas_height=CANVAS)


def median_time(fn: Callable[[], object], repeats: int) -> float:
    """Seconds per call, median of ``repeats`` calls after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def measure_speed(model: CompletionModel) -> Dict[str, float]:
    """people/s for a batch of 4096 through ``complete_frame`` (Person objects in and out) and through
    ``model.predict``, and ms for one person through ``complete_person`` (medians of runs)."""
    from lib_skelext.complete import complete_frame, complete_person

    xy, vis, rect, frame = speed_inputs(model)
    n = len(xy)
    t_predict = median_time(lambda: model.predict(xy, vis, rect), 5)
    t_frame = median_time(lambda: complete_frame(frame, model=model), 5)
    person = frame.people[0]
    t_one = median_time(lambda: complete_person(person, CANVAS, CANVAS, model=model), 200)
    return {"batched_people_per_s": n / t_frame, "predict_people_per_s": n / t_predict,
            "single_person_ms": 1000 * t_one}
