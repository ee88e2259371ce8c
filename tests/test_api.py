"""REST API /skelext/v1: every route, auth, limits, and a 4xx for every bad input.

The real router (``lib_skelext.api.build_router``) behind an ASGI client; people
come from a ``FakeDetector`` passed through the documented ``detectors`` hook and
are completed by the real ``complete.py`` running a tiny completion model file
written in the shipped format (its output is the mean pose). Runs in both test
environments (pydantic 1 / fastapi 0.94 and pydantic 2 / fastapi 0.112).
"""
from __future__ import annotations

import asyncio
import base64
import io
import json
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from api_client import Client
from hosts import FakeDetector, detector_registered
from lib_skelext import __version__
from lib_skelext.detectors import DetectorLocation
from lib_skelext.api import build_router, check_basic_auth, create_app, decode_image, parse_credentials
from lib_skelext.errors import SkelextError

REPO = Path(__file__).resolve().parents[1]
AUTH = ("alice", "s3cret")
EXAMPLE = json.loads((REPO / "examples" / "waist_up.json").read_text())

#: A standing person in the completion model's normalised frame (neck at 0, torso 1, y down).
MEAN_POSE = [(0, -0.5), (0, 0), (-0.4, 0), (-0.5, 0.5), (-0.55, 0.95), (0.4, 0), (0.5, 0.5), (0.55, 0.95),
             (-0.2, 1), (-0.22, 1.6), (-0.24, 2.2), (0.2, 1), (0.22, 1.6), (0.24, 2.2), (-0.08, -0.6),
             (0.08, -0.6), (-0.18, -0.55), (0.18, -0.55)]


@pytest.fixture(autouse=True)
def tiny_model(tmp_path_factory, monkeypatch):
    """A completion model file of the shipped format whose every hypothesis is the mean pose."""
    from lib_skelext.completion_model import N_FEATURES, ModelConfig, save_model

    path = tmp_path_factory.getbasetemp() / "tiny_completion.safetensors"
    if not path.exists():
        cfg = ModelConfig(hidden=8, blocks=1, hypotheses=2)
        w = {"inp.weight": np.zeros((8, N_FEATURES)), "inp.bias": np.zeros(8),
             "blocks.0.0.weight": np.zeros((8, 8)), "blocks.0.0.bias": np.zeros(8),
             "blocks.0.2.weight": np.zeros((8, 8)), "blocks.0.2.bias": np.zeros(8),
             "out.weight": np.zeros((cfg.out_dim, 8)), "out.bias": np.zeros(cfg.out_dim),
             "mean_pose": np.array(MEAN_POSE, dtype=np.float32)}
        save_model(str(path), w, cfg, {"model_version": "test-tiny"})
    monkeypatch.setenv("SKELEXT_COMPLETION_MODEL", str(path))
    return path


@pytest.fixture
def detector():
    return FakeDetector()


@pytest.fixture
def client(detector):
    with detector_registered("dwpose", detector):
        yield Client(create_app(auth="alice:s3cret,bob:pa:ss"))


def png_b64(h=120, w=160, mode="RGB") -> str:
    rng = np.random.default_rng(1)
    channels = {"RGB": 3, "RGBA": 4, "L": 1}[mode]
    arr = rng.integers(0, 255, size=(h, w, channels), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(arr[:, :, 0] if channels == 1 else arr, mode).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def decode_png(text: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(text))))


def post(client, route, body=None, **kw):
    kw.setdefault("auth", AUTH)
    if body is not None:
        kw["json"] = body
    return client.post(f"/skelext/v1/{route}", **kw)


# --------------------------------------------------------------------------- auth
@pytest.mark.parametrize("auth, status", [
    (None, 401), (("alice", "wrong"), 401), (("mallory", "s3cret"), 401), (("alice", "s3cret"), 200),
    (("bob", "pa:ss"), 200), (("alice", "sécret"), 401), (("", ""), 401),
])
def test_auth(client, auth, status):
    r = client.get("/skelext/v1/info", auth=auth)
    assert r.status_code == status
    if status == 401:
        assert r.headers["www-authenticate"] == "Basic"
        assert r.json()["detail"]


@pytest.mark.parametrize("header", ["Bearer abc", "Basic !!!", "Basic " + base64.b64encode(b"nocolon").decode(),
                                    "Basic " + base64.b64encode(b"\xff\xfe:x").decode(), "Basic"])
def test_auth_garbage_headers_are_401(client, header):
    for route, method in (("info", "GET"), ("render", "POST")):
        r = client.request(method, f"/skelext/v1/{route}", headers={"Authorization": header}, json={"pose": EXAMPLE})
        assert r.status_code == 401


def test_auth_checked_before_the_body(client):
    r = client.post("/skelext/v1/complete", content=b"x" * (21 * 1024 * 1024))
    assert r.status_code == 401


def test_no_auth_configured_is_open(detector):
    c = Client(create_app())
    assert c.get("/skelext/v1/info").status_code == 200


def test_credentials_parsing_as_the_webui():
    assert parse_credentials("a:b,c:d:e") == {"a": "b", "c": "d:e"}
    assert parse_credentials(None) == {} and parse_credentials("") == {}
    with pytest.raises(SkelextError):
        parse_credentials("justauser")
    token = base64.b64encode(b"a:b").decode()
    assert check_basic_auth(f"Basic {token}", {"a": "b"}) is None
    assert check_basic_auth(None, {"a": "b"}) == "Not authenticated"


# --------------------------------------------------------------------------- info
def test_info(client, tiny_model):
    r = client.get("/skelext/v1/info", auth=AUTH)
    assert r.status_code == 200
    info = r.json()
    assert info["version"] == __version__ and info["auth"] is True
    model = info["completion_model"]
    assert model["found"] is True and model["path"] == str(tiny_model)
    assert model["model_version"] == "test-tiny" and model["config"]["hypotheses"] == 2
    assert model["file"] == tiny_model.name and len(model["sha256"]) == 64
    weights = info["dwpose_weights"]
    assert set(weights["files"]) == {"yolox_l.onnx", "dw-ll_ucoco_384.onnx"}
    assert weights["looked_in"] and isinstance(weights["found"], bool)
    assert "dwpose" in info["detectors"] and "blazepose" in info["detectors"]


def test_info_reports_host_folders(tmp_path, monkeypatch):
    (tmp_path / "yolox_l.onnx").write_bytes(b"x")
    (tmp_path / "dw-ll_ucoco_384.onnx").write_bytes(b"x")
    monkeypatch.setenv("SKELEXT_SKIP_SHA256", "1")  # stand-ins accepted, as detection would
    c = Client(create_app(detector_location=lambda: DetectorLocation(search_dirs=(str(tmp_path),))))
    weights = c.get("/skelext/v1/info").json()["dwpose_weights"]
    assert weights["found"] is True and weights["looked_in"] == [str(tmp_path)]
    assert weights["files"]["yolox_l.onnx"] == str(tmp_path / "yolox_l.onnx")
    # without that, info says what detection would: these files are not the official ones
    monkeypatch.delenv("SKELEXT_SKIP_SHA256")
    weights = c.get("/skelext/v1/info").json()["dwpose_weights"]
    assert weights["found"] is False and "is not the official yolox_l.onnx" in weights["problems"]["yolox_l.onnx"]


# ----------------------------------------------------------------------- complete
def body_of(pose: dict) -> np.ndarray:
    return np.array(pose["pose_keypoints_2d"], dtype=float).reshape(18, 3)


def test_complete(client):
    r = post(client, "complete", {"pose": EXAMPLE})
    assert r.status_code == 200, r.text[:300]
    out = r.json()
    assert out["info"] == "Success" and out["image"] is None
    assert (out["pose"]["canvas_width"], out["pose"]["canvas_height"]) == (270, 205)
    before, after = body_of(EXAMPLE["people"][0]), body_of(out["pose"]["people"][0])
    given = before[:, 2] > 0
    assert np.array_equal(before[given], after[given])  # given points untouched
    assert (after[:, 2] > 0).all() and out["completed_points"] == int((~given).sum())
    assert after[10, 1] > before[8, 1]  # an ankle below the hip


def test_complete_options(client):
    r = post(client, "complete", {"pose": json.dumps(EXAMPLE), "canvas": "expand", "alternatives": 2,
                                  "render": True})
    assert r.status_code == 200, r.text[:300]
    out = r.json()
    pose = out["pose"]
    assert pose["canvas_height"] > 205  # the ankles are below the photo: the canvas grew
    image = decode_png(out["image"])
    assert image.shape == (pose["canvas_height"], pose["canvas_width"], 3) and image.any()
    norm = dict(EXAMPLE, people=[dict(EXAMPLE["people"][0], pose_keypoints_2d=[
        v / (270 if i % 3 == 0 else 205) if i % 3 != 2 else v
        for i, v in enumerate(EXAMPLE["people"][0]["pose_keypoints_2d"])])])
    # the units rule (#24): 0..1 is never written with a point outside [0, 1] (aux would read it as pixels)
    r = post(client, "complete", {"pose": norm, "coords": "norm"})
    body = r.json()["pose"]["people"][0]["pose_keypoints_2d"]
    assert r.status_code == 200 and body[:2] == pytest.approx([117.0, 61.0]) and max(body[1::3]) > 205  # pixels
    r = post(client, "complete", {"pose": norm, "coords": "norm", "canvas": "fit"})
    body = r.json()["pose"]["people"][0]["pose_keypoints_2d"]
    assert r.status_code == 200 and 0 < max(v for i, v in enumerate(body) if i % 3 < 2) <= 1.0  # 0..1 kept
    r = post(client, "complete", {"pose": norm, "coords": "norm", "output_coords": "norm"})
    assert r.status_code == 400 and "outside" in r.json()["detail"]


def bad_people(**person) -> dict:
    return {"people": [person], "canvas_width": 100, "canvas_height": 100}


@pytest.mark.parametrize("body, status", [
    ({"pose": "not json"}, 400),
    ({"pose": "[1, 2]"}, 400),
    ({"pose": 42}, 400),
    ({"pose": {"people": []}}, 400),  # no canvas size
    ({"pose": bad_people(pose_keypoints_2d=[1.0] * 53)}, 400),  # wrong length
    ({"pose": bad_people(pose_keypoints_2d=[1.0] * 51)}, 400),  # 17 points
    ({"pose": bad_people(pose_keypoints_2d=["a"] * 54)}, 400),
    ({"pose": bad_people(pose_keypoints_2d=[1.0] * 54, hand_left_keypoints_2d=[1.0] * 60)}, 400),
    ({"pose": {"people": "x", "canvas_width": 10, "canvas_height": 10}}, 400),
    ({"pose": {"people": [], "canvas_width": -5, "canvas_height": 10}}, 400),
    ({"pose": {"people": [], "canvas_width": 10 ** 400, "canvas_height": 10}}, 400),
    ({"pose": EXAMPLE, "canvas": "bogus"}, 422),  # out of the schema's range/choices
    ({"pose": EXAMPLE, "alternatives": 0}, 422),  # out of the schema's range/choices
    ({"pose": EXAMPLE, "alternatives": 99}, 422),  # out of the schema's range/choices
    ({"pose": EXAMPLE, "alternatives": "many"}, 422),
    ({"pose": EXAMPLE, "coords": "inches"}, 422),  # out of the schema's range/choices
    ({"pose": {"people": [], "canvas_width": 100000, "canvas_height": 100000}, "render": True}, 413),
    ({}, 422),  # pose missing
    ([1, 2, 3], 422),
])
def test_complete_bad_input(client, body, status):
    r = post(client, "complete", body)
    assert r.status_code == status, r.text[:300]
    assert r.json()["detail"]


@pytest.mark.parametrize("raw", [
    b'{"pose": {"people": [], "canvas_width": NaN, "canvas_height": 10}}',
    b'{"pose": {"people": [], "canvas_width": 10, "canvas_height": 10, "extra": Infinity}}',
    b'{"pose": {"people": [{"pose_keypoints_2d": [' + b"NaN," * 53 + b'NaN]}], "canvas_width": 9, "canvas_height": 9}}',
])
def test_nan_and_infinity_are_400(client, raw):
    r = post(client, "complete", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 400, r.text[:300]
    assert "NaN" in r.json()["detail"] or "finite" in r.json()["detail"]


@pytest.mark.parametrize("raw", [b"{bad", b"", b"\xff\xfe", b'{"pose": }'])
def test_malformed_json_is_422(client, raw):
    r = post(client, "complete", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 422


def test_oversized_body_is_413(client):
    big = b'{"pose": "' + b"x" * (21 * 1024 * 1024) + b'"}'
    r = post(client, "complete", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413

    async def chunks():  # no Content-Length: the stream is cut at the limit
        for _ in range(22):
            yield b"x" * (1024 * 1024)

    r = post(client, "render", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_lying_content_length_is_4xx(client):
    r = post(client, "render", content=b"{}", headers={"content-type": "application/json", "content-length": "abc"})
    assert 400 <= r.status_code < 500


# ------------------------------------------------------------------------- detect
def test_detect(client, detector):
    r = post(client, "detect", {"image": png_b64(120, 160), "resolution": 240, "threshold": 0.4})
    assert r.status_code == 200, r.text[:300]
    out = r.json()
    image = decode_png(out["image"])
    assert image.shape == (240, 320, 3) and image.any()
    assert (out["pose"]["canvas_height"], out["pose"]["canvas_width"]) == (240, 320)
    assert len(out["pose"]["people"]) == 1 and len(out["detected"]["people"]) == 1
    assert out["completion_failed"] is False
    completed = set(out["pose"]["people"][0]["skelext"]["completed"])
    assert {9, 10, 12, 13} <= completed and out["completed_points"] == len(completed)  # knees and ankles
    assert detector.calls[-1][1] == pytest.approx(0.4)
    assert set(out["timings_s"]) >= {"detect", "complete", "total"}


@pytest.mark.parametrize("mode", ["RGBA", "L"])
def test_detect_image_modes_and_data_urls(client, mode):
    r = post(client, "detect", {"image": "data:image/png;base64," + png_b64(mode=mode), "resolution": 128,
                                "canvas": "fit", "draw_face": False, "complete": False})
    assert r.status_code == 200, r.text[:300]
    assert r.json()["completed_points"] == 0


def test_detect_nobody(client, detector):
    detector.people = 0
    out = post(client, "detect", {"image": png_b64()}).json()
    assert out["pose"]["people"] == [] and not decode_png(out["image"]).any()


def truncated_png() -> str:
    return base64.b64encode(base64.b64decode(png_b64())[:200]).decode()


@pytest.mark.parametrize("body, status", [
    ({"image": "%%%not base64%%%"}, 400),
    ({"image": base64.b64encode(b"hello, not an image").decode()}, 400),
    ({"image": truncated_png()}, 400),
    ({"image": ""}, 400),
    ({"image": "data:image/png,abc"}, 400),
    ({"image": png_b64(), "resolution": 10}, 422),  # out of the schema's range/choices
    ({"image": png_b64(100, 500), "resolution": 4096}, 413),  # 4096 x 20480 is over the pixel limit
    ({"image": png_b64(), "threshold": 2}, 422),  # out of the schema's range/choices
    ({"image": png_b64(), "canvas": "huge"}, 422),  # out of the schema's range/choices
    ({"image": png_b64(), "detector": "openpose"}, 422),  # out of the schema's range/choices
    ({"image": png_b64(), "alternatives": 9}, 422),  # out of the schema's range/choices
    ({"image": 12}, (400, 422)),  # pydantic 1 turns 12 into "12"; pydantic 2 refuses it
    ({"resolution": 512}, 422),
])
def test_detect_bad_input(client, body, status):
    r = post(client, "detect", body)
    assert r.status_code in (status if isinstance(status, tuple) else (status,)), r.text[:300]
    assert r.json()["detail"]


def test_detect_threshold_nan_is_refused(client):
    raw = json.dumps({"image": png_b64()})[:-1] + ', "threshold": NaN}'
    r = post(client, "detect", content=raw.encode(), headers={"content-type": "application/json"})
    assert r.status_code == 422  # outside the schema's 0..1, as any out-of-range value


def test_openapi_schema_has_the_options_enums_and_ranges():
    """The request models come from settings.OPTIONS: choices are enums, ranges are bounds."""
    from lib_skelext.settings import OPTIONS

    schemas = create_app().openapi()["components"]["schemas"]
    detect = schemas["DetectRequest"]["properties"]
    assert detect["canvas"]["enum"] == list(OPTIONS["canvas"].choices)
    assert detect["detector"]["enum"] == list(OPTIONS["detector"].choices)
    assert (detect["resolution"]["minimum"], detect["resolution"]["maximum"]) == (64, 4096)
    assert (detect["threshold"]["minimum"], detect["threshold"]["maximum"]) == (0.0, 1.0)
    assert detect["threshold"]["default"] == OPTIONS["detection_threshold"].default
    complete = schemas["CompleteRequest"]["properties"]
    assert (complete["alternatives"]["minimum"], complete["alternatives"]["maximum"]) == (1, 8)


def test_detect_image_pixel_limit(detector):
    with detector_registered("dwpose", detector):
        c = Client(create_app(max_image_pixels=100 * 100))
        r = c.post("/skelext/v1/detect", json={"image": png_b64(120, 160), "resolution": 64})
    assert r.status_code == 413 and "pixels" in r.json()["detail"]
    with pytest.raises(SkelextError):
        decode_image(png_b64(120, 160), max_pixels=100)


def test_detect_missing_dwpose_weights_is_503(monkeypatch, tmp_path):
    monkeypatch.setenv("SKELEXT_OFFLINE", "1")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("SKELEXT_DWPOSE_DIR", raising=False)
    c = Client(create_app(detector_location=lambda: DetectorLocation(search_dirs=(str(tmp_path / "none"),))))
    r = c.post("/skelext/v1/detect", json={"image": png_b64()})
    assert r.status_code == 503
    assert "yolox_l.onnx" in r.json()["detail"]


def test_complete_missing_model_is_503(client, monkeypatch, tmp_path):
    monkeypatch.setenv("SKELEXT_COMPLETION_MODEL", str(tmp_path / "absent.safetensors"))
    r = post(client, "complete", {"pose": EXAMPLE})
    assert r.status_code == 503 and "completion model" in r.json()["detail"]


# ------------------------------------------------------------------------- render
def test_render(client):
    r = post(client, "render", {"pose": EXAMPLE, "draw_face": False})
    assert r.status_code == 200, r.text[:300]
    out = r.json()
    image = decode_png(out["image"])
    assert image.shape == (205, 270, 3) and (out["width"], out["height"]) == (270, 205) and image.any()
    r = post(client, "render", {"pose": EXAMPLE, "draw_body": False, "draw_hands": False, "draw_face": False})
    assert not decode_png(r.json()["image"]).any()


@pytest.mark.parametrize("body, status", [
    ({"pose": {"people": []}}, 400),
    ({"pose": bad_people(pose_keypoints_2d=[0] * 10)}, 400),
    ({"pose": EXAMPLE, "canvas": "nope"}, 422),  # out of the schema's range/choices
    ({"pose": {"people": [], "canvas_width": 90000, "canvas_height": 90000}}, 413),
    ({"draw_face": True}, 422),
])
def test_render_bad_input(client, body, status):
    r = post(client, "render", body)
    assert r.status_code == status, r.text[:300]


# -------------------------------------------------------------------------- misc
def test_unknown_route_and_method(client):
    assert client.get("/skelext/v1/nothing", auth=AUTH).status_code == 404
    assert client.get("/skelext/v1/complete", auth=AUTH).status_code == 405


def test_openapi_schema(detector):
    app = create_app()
    paths = app.openapi()["paths"]
    assert {"/skelext/v1/complete", "/skelext/v1/detect", "/skelext/v1/render", "/skelext/v1/info"} <= set(paths)


def test_router_mounts_into_another_app(detector):
    from fastapi import FastAPI

    app = FastAPI()
    app.include_router(build_router(auth="u:p"))
    c = Client(app)
    assert c.get("/skelext/v1/info").status_code == 401
    with detector_registered("dwpose", detector):
        assert c.post("/skelext/v1/detect", json={"image": png_b64()}, auth=("u", "p")).status_code == 200


def test_concurrent_requests(detector):
    app = create_app()

    async def many():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            jobs = [c.post("/skelext/v1/detect", json={"image": png_b64(), "resolution": 128}) for _ in range(6)]
            jobs += [c.post("/skelext/v1/complete", json={"pose": EXAMPLE}) for _ in range(6)]
            return await asyncio.gather(*jobs)

    with detector_registered("dwpose", detector):
        assert [r.status_code for r in asyncio.run(many())] == [200] * 12
