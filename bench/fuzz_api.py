"""Long schema-driven fuzz of the standalone REST server: >= 10,000 schemathesis requests, count the 5xx.

    .venv/bin/python bench/fuzz_api.py [--requests 10000] [--seed 0]

Starts ``python -m lib_skelext serve`` (127.0.0.1, a free port, ``--auth``) with
``--weights-dir`` pointing at two tiny stand-in DWPose ONNX files (built with
``tests/_onnx_fakes.py``: a YOLOX that always reports one box, a pose model that
puts every keypoint on the brightest pixel), so ``detect`` runs the real DWPose
code path instead of answering 503 for missing weights. It then reads
``/openapi.json`` with schemathesis (``schemathesis.openapi.from_url``) and, for
every operation and both generation modes (valid and invalid inputs), sends
hypothesis-generated cases until the request budget is spent. Every response is
counted by status; any 5xx is printed with its request. A quarter of the cases
go out without credentials or with wrong ones (they must be 401). The short,
in-suite version is ``tests/test_api_fuzz.py``. Asserts nothing; exits 1 when
a 5xx was seen or the server died.
"""
from __future__ import annotations

import argparse
import collections
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests"), str(REPO / "bench")]

from bench_server_load import AUTH, start_server, stop_server  # noqa: E402


def fake_dwpose_weights(folder: Path) -> Path:
    import numpy as np

    from _onnx_fakes import empty_raw, encode_box, make_detector_model, make_dot_pose_model

    raw = empty_raw()
    encode_box(raw, (160, 100, 480, 600), 1.0, objectness=0.9, class_scores={0: 0.9})
    make_detector_model(folder / "yolox_l.onnx", raw.astype(np.float32))
    make_dot_pose_model(folder / "dw-ll_ucoco_384.onnx")
    return folder


def sample_images() -> list:
    """Small valid photos (base64) in several modes: what a narrowed ``image`` field may hold."""
    import base64
    import io

    import numpy as np
    from PIL import Image

    photo = Image.open(REPO / "examples" / "coco_000000000785_crop_hipsup.jpg").convert("RGB")
    photo.thumbnail((128, 128))
    variants = [photo, photo.convert("L"), photo.convert("RGBA"), photo.convert("P"),
                Image.fromarray(np.asarray(photo.convert("L"), dtype=np.uint16) * 257), Image.new("RGB", (1, 300))]
    out = []
    for im in variants:
        buffer = io.BytesIO()
        im.save(buffer, format="PNG")
        out.append(base64.b64encode(buffer.getvalue()).decode())
    return out


def narrowed(spec: dict) -> dict:
    """A copy of the published schema whose free-form fields are described precisely:
    ``pose`` an OpenPose document, ``image`` one of a few valid photos, option strings
    their documented values. Valid cases then reach the completion, rendering and
    detection code; invalid ones break one documented rule at a time."""
    import copy

    spec = copy.deepcopy(spec)
    number = {"type": "number", "minimum": -3000, "maximum": 3000}
    person = {"type": "object", "required": ["pose_keypoints_2d"], "properties": {
        "pose_keypoints_2d": {"type": "array", "items": number, "minItems": 54, "maxItems": 54},
        "hand_left_keypoints_2d": {"type": "array", "items": number, "minItems": 63, "maxItems": 63},
        "face_keypoints_2d": {"type": "array", "items": number, "minItems": 0, "maxItems": 6}}}
    pose = {"type": "object", "required": ["people", "canvas_width", "canvas_height"], "properties": {
        "people": {"type": "array", "items": person, "maxItems": 3},
        "canvas_width": {"type": "integer", "minimum": 1, "maximum": 1500},
        "canvas_height": {"type": "integer", "minimum": 1, "maximum": 1500}}}
    enums = {"canvas": ["keep", "fit", "expand"], "coords": ["auto", "px", "norm"], "detector": ["dwpose", "blazepose"]}
    schemas = spec["components"]["schemas"]
    for name in ("CompleteRequest", "RenderRequest", "DetectRequest"):
        props = schemas[name]["properties"]
        if "pose" in props:
            props["pose"] = dict(pose, description=props["pose"].get("description", ""))
        if "image" in props:
            props["image"] = {"type": "string", "enum": sample_images()}
        for key, values in enums.items():
            if key in props:
                props[key] = {"type": "string", "enum": values}
        if "alternatives" in props:
            props["alternatives"] = {"type": "integer", "minimum": 1, "maximum": 8}
        if "resolution" in props:
            props["resolution"] = {"type": "integer", "minimum": 64, "maximum": 768}
        if "threshold" in props:
            props["threshold"] = {"type": "number", "minimum": 0, "maximum": 1}
    return spec


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    import base64

    import httpx
    import schemathesis
    from hypothesis import HealthCheck, given, seed, settings
    from hypothesis.errors import Unsatisfiable

    good = {"Authorization": "Basic " + base64.b64encode(f"{AUTH[0]}:{AUTH[1]}".encode()).decode()}
    wrong = {"Authorization": "Basic " + base64.b64encode(b"bench:wrong").decode()}
    with tempfile.TemporaryDirectory() as tmp:
        proc, base, log = start_server(["--weights-dir", str(fake_dwpose_weights(Path(tmp)))])
        try:
            spec = httpx.get(f"{base}/openapi.json", timeout=10).json()
            plan = []
            for variant, variant_spec in (("published", spec), ("narrowed", narrowed(spec))):
                schema = schemathesis.openapi.from_dict(variant_spec)
                plan += [(variant, op.ok(), mode) for op in schema.get_all_operations()
                         for mode in schemathesis.GenerationMode]
            with_body = sum(1 for _, op, _ in plan if op.method.upper() == "POST")
            per_case = max(1, -(-args.requests // max(1, with_body)))  # ceil; GET info has few distinct cases
            counts: collections.Counter = collections.Counter()
            by_route: dict = collections.defaultdict(collections.Counter)
            server_errors = []
            t0 = time.perf_counter()
            n = [0]
            for variant, op, mode in plan:
                label = f"{op.method.upper()} {op.path}"
                before = sum(by_route[label].values())

                @seed(args.seed)
                @settings(max_examples=per_case, deadline=None, database=None, derandomize=False,
                          suppress_health_check=list(HealthCheck))
                @given(case=op.as_strategy(generation_mode=mode))
                def send(case):
                    n[0] += 1
                    headers = good if n[0] % 4 else (wrong if n[0] % 8 else {})
                    response = case.call(base_url=base, headers=headers, timeout=60)
                    status = response.status_code
                    counts[status] += 1
                    by_route[label][status] += 1
                    if status >= 500:
                        server_errors.append((variant, label, mode.value, status,
                                              case.as_curl_command(headers=headers)[:2000], response.text[:300]))
                    if not headers.get("Authorization") == good["Authorization"] and status != 401:
                        server_errors.append((variant, label, mode.value, status, "auth not enforced", ""))

                try:
                    send()
                except Unsatisfiable:  # e.g. no invalid request exists for GET info (no parameters)
                    pass
                sent = sum(by_route[label].values()) - before
                print(f"{variant:9s} {label:28s} {mode.value:8s} {sent:6d} requests; {label} so far: "
                      f"{dict(sorted(by_route[label].items()))}", flush=True)
            wall = time.perf_counter() - t0
            alive = proc.poll() is None
        finally:
            stop_server(proc)
            log.seek(0)
            server_log = log.read()
            log.close()
    total = sum(counts.values())
    five = sum(v for k, v in counts.items() if k >= 500)
    print(f"\nschemathesis {schemathesis.SCHEMATHESIS_VERSION}: {total} requests in {wall:.0f} s "
          f"({total / wall:.0f}/s) against python -m lib_skelext serve; statuses {dict(sorted(counts.items()))}")
    print(f"5xx: {five}; server alive at the end: {alive}; 'Traceback' in server log: "
          f"{server_log.count('Traceback')}")
    for item in server_errors[:20]:
        print("PROBLEM", *item)
    return 0 if not server_errors and alive and five == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
