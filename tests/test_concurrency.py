"""Issue #9: thread safety of model loading under concurrent first requests.

FastAPI runs the routes in a thread pool and gradio 4 runs listeners concurrently,
so the first requests after start-up arrive together. Each test starts 16 threads
at one barrier against a cache that has not loaded anything yet, makes loading
slow (to widen the race), and checks that the file or model is loaded exactly once
and that every thread gets the same result. Runs in both environments.
"""
from __future__ import annotations

import json
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from conftest import REPO_ROOT
from hosts import detector_registered
import lib_skelext.completion_model as cm
from lib_skelext.complete import complete_frame
from lib_skelext.openpose_json import dumps_frame, loads_frame

THREADS = 16
EXAMPLE = (REPO_ROOT / "examples" / "waist_up.json").read_text()


def together(fn, n: int = THREADS) -> list:
    """fn(i) in n threads released at once; results in order (exceptions re-raised)."""
    barrier = threading.Barrier(n)

    def run(i):
        barrier.wait()
        return fn(i)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(run, range(n)))


@pytest.fixture
def fresh_model(tmp_path, monkeypatch):
    """A copy of the shipped model at a path no cache has seen; counts reads of the file."""
    path = tmp_path / "fresh.safetensors"
    shutil.copy(cm.DEFAULT_MODEL_PATH, path)
    monkeypatch.setenv("SKELEXT_COMPLETION_MODEL", str(path))
    monkeypatch.setattr(cm, "_cache", {})
    import safetensors.numpy

    reads = []
    real = safetensors.numpy.load_file

    def slow_load_file(filename, *args, **kwargs):
        reads.append(str(filename))
        time.sleep(0.2)  # every other thread arrives while this one is loading
        return real(filename, *args, **kwargs)

    monkeypatch.setattr(safetensors.numpy, "load_file", slow_load_file)
    return path, reads


def test_completion_model_loads_once_under_concurrent_first_calls(fresh_model):
    path, reads = fresh_model
    frame = loads_frame(EXAMPLE)
    texts = together(lambda i: dumps_frame(complete_frame(frame)))
    assert reads == [str(path)]  # one read of the file
    assert len(set(texts)) == 1  # every thread: the same completion, bit for bit
    assert len(json.loads(texts[0])["people"][0]["skelext"]["completed"]) > 0
    models = together(lambda i: cm.load_model())
    assert len({id(m) for m in models}) == 1 and reads == [str(path)]


def test_concurrent_complete_frame_matches_serial(fresh_model):
    """Many people, many threads, one shared model: results equal a serial run (no shared scratch state)."""
    rng = np.random.default_rng(3)
    frames = []
    for i in range(THREADS):
        frame = loads_frame(EXAMPLE)
        for person in frame.people:
            person.body[person.body[:, 2] > 0, :2] += rng.normal(0, 5, (int((person.body[:, 2] > 0).sum()), 2))
        frames.append(frame)
    serial = [dumps_frame(complete_frame(f, alternatives=3)) for f in frames]
    parallel = together(lambda i: dumps_frame(complete_frame(frames[i], alternatives=3)))
    assert parallel == serial


def test_rest_first_requests_load_the_detector_once(monkeypatch):
    """16 concurrent first ``detect`` requests: the detector's load() runs once, all answer 200 alike."""
    import asyncio
    import base64

    import httpx

    from hosts import FakeDetector
    from lib_skelext.api import create_app

    class SlowLoading(FakeDetector):
        loads = 0

        def load(self):
            type(self).loads += 1
            time.sleep(0.2)
            return self

    detector = SlowLoading()
    app = create_app()
    photo = base64.b64encode((REPO_ROOT / "examples" / "coco_000000000785_crop_hipsup.jpg").read_bytes()).decode()

    async def many():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t", timeout=60) as c:
            return await asyncio.gather(*(c.post("/skelext/v1/detect", json={"image": photo, "resolution": 128})
                                          for _ in range(THREADS)))

    with detector_registered("dwpose", detector):
        responses = asyncio.run(many())
    assert [r.status_code for r in responses] == [200] * THREADS
    assert SlowLoading.loads == 1
    assert len({json.dumps(r.json()["pose"], sort_keys=True) for r in responses}) == 1


@pytest.mark.parametrize("name", ["blazepose", "dwpose"])
def test_process_wide_detector_is_built_once(monkeypatch, name):
    """``detectors.get_detector`` under concurrent first calls: one detector object, built and loaded
    once, not one per thread (each DWPose detector holds its own ONNX sessions, hundreds of MB)."""
    import lib_skelext.blazepose as blazepose
    import lib_skelext.detectors as detectors
    import lib_skelext.dwpose.detector as dwpose

    built = []

    class Slow:
        loads = 0

        def __init__(self, *args, **kwargs):
            built.append(self)
            time.sleep(0.1)

        def load(self):
            type(self).loads += 1
            time.sleep(0.1)
            return self

    monkeypatch.setattr(detectors, "_INSTANCES", {})
    monkeypatch.setattr(detectors, "_LOADED", {})
    monkeypatch.setattr(blazepose, "BlazePoseDetector", Slow)
    monkeypatch.setattr(dwpose, "DWPoseDetector", Slow)
    got = together(lambda i: detectors.get_detector(name))
    assert len(built) == 1 and all(g is built[0] for g in got) and Slow.loads == 1
