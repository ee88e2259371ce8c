"""Issue #9: security. Auth on every route, no pickle anywhere, verified weights, no path escapes,
127.0.0.1 by default.

``tests/test_api.py`` covers basic-auth parsing, garbage headers and wrong, missing and
right credentials on ``GET info``; ``tests/test_host.py`` the WebUI's ``--api-auth``;
``tests/test_weights.py`` sha256 checks and atomic downloads. This file adds: every
route of the router (found by walking the app, so new routes are covered) refuses
missing and wrong credentials before reading the body; the API takes no server
paths; a scan of the source for pickle loading; batch outputs stay inside their
folder whatever the input names and symlinks; ``serve`` and ``ui`` bind 127.0.0.1
unless told otherwise, checked on a briefly started server too.
Runs in both environments (pydantic 1 and 2).
"""
from __future__ import annotations

import ast
import base64
import json
import logging
import os
import socket
import sys
from pathlib import Path

import pytest

from api_client import Client
from conftest import REPO_ROOT
from lib_skelext.api import PREFIX, create_app
from lib_skelext.cli import build_parser, main

EXAMPLE = (REPO_ROOT / "examples" / "waist_up.json").read_text()
CREDS = ("alice", "s3cret")


# ------------------------------------------------------------------------- auth
@pytest.fixture(scope="module")
def app():
    return create_app(auth="alice:s3cret")


def skelext_routes(app):
    from api_client import api_routes

    found = [(method, route.path) for route in api_routes(app)
             if route.path.startswith(PREFIX) for method in sorted(route.methods)]
    assert {("GET", f"{PREFIX}/info"), ("POST", f"{PREFIX}/complete"), ("POST", f"{PREFIX}/detect"),
            ("POST", f"{PREFIX}/render")} <= set(found)
    return found


def test_every_route_wants_credentials(app):
    client = Client(app)
    photo = (REPO_ROOT / "examples" / "coco_000000000785_crop_hipsup.jpg").read_bytes()
    body = {"pose": json.loads(EXAMPLE), "image": base64.b64encode(photo).decode(), "detector": "blazepose",
            "resolution": 128}
    for method, path in skelext_routes(app):
        for auth in (None, ("alice", "wrong"), ("mallory", "s3cret"), ("alice", "s3cret "), ("ALICE", "s3cret")):
            r = client.request(method, path, auth=auth, json=body if method == "POST" else None)
            assert r.status_code == 401, (method, path, auth, r.status_code)
            assert r.headers["www-authenticate"] == "Basic" and set(r.json()) == {"detail"}
        r = client.request(method, path, auth=CREDS, json=body if method == "POST" else None)
        assert r.status_code not in (401, 403), (method, path, r.text[:200])


def test_credentials_are_checked_before_the_body_is_read(app):
    """A wrong password with a huge or malformed body is 401, not 413 or 422 (nothing parsed)."""
    client = Client(app)
    for method, path in skelext_routes(app):
        if method != "POST":
            continue
        for content in (b"{not json", b"x" * (25 * 1024 * 1024)):
            r = client.request(method, path, auth=("alice", "nope"), content=content,
                               headers={"content-type": "application/json"})
            assert r.status_code == 401


def test_401_reveals_nothing(app):
    r = Client(app).get(f"{PREFIX}/info", auth=("alice", "wrong"))
    assert "s3cret" not in r.text and "alice" not in r.text and "version" not in r.text


# ------------------------------------------------------------- no server paths
def test_request_models_have_no_path_fields():
    schemas = create_app().openapi()["components"]["schemas"]
    for name in ("CompleteRequest", "DetectRequest", "RenderRequest"):
        for field in schemas[name]["properties"]:
            assert not any(w in field.lower() for w in ("path", "file", "dir", "url", "folder")), (name, field)


@pytest.mark.parametrize("route", ["complete", "render"])
def test_a_server_path_as_pose_is_not_opened(route):
    client = Client(create_app())
    real_file = str(REPO_ROOT / "examples" / "waist_up.json")  # a valid pose file on the server
    for value in (real_file, "file://" + real_file, "/etc/passwd", "../../../../etc/passwd"):
        r = client.post(f"{PREFIX}/{route}", json={"pose": value})
        assert r.status_code == 400, (value, r.text[:200])
        assert "root:" not in r.text and "pose_keypoints_2d" not in r.text


def test_a_server_path_as_image_is_not_opened():
    client = Client(create_app())
    photo = str(REPO_ROOT / "examples" / "coco_000000000785_crop_hipsup.jpg")
    for value in (photo, "file://" + photo, "/etc/passwd", base64.b64encode(photo.encode()).decode(),
                  "data:image/png;base64," + base64.b64encode(b"/etc/passwd").decode()):
        r = client.post(f"{PREFIX}/detect", json={"image": value, "detector": "blazepose"})
        assert r.status_code == 400, (value, r.text[:200])
        assert "root:" not in r.text


# ----------------------------------------------------------------- no pickle
SCANNED = ("lib_skelext", "train", "scripts", "bench", "tools")
PICKLE_MODULES = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "joblib", "shelve", "marshal"}


def _call_name(node: ast.Call) -> str:
    parts = []
    func = node.func
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        parts.append(func.id)
    return ".".join(reversed(parts))


def _keyword(node: ast.Call, name: str):
    for kw in node.keywords:
        if kw.arg == name:
            return kw.value.value if isinstance(kw.value, ast.Constant) else "<expr>"
    return None


def pickle_findings(path: Path, root: Path = REPO_ROOT) -> list:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        where = f"{path.relative_to(root)}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import):
            found += [f"{where} import {a.name}" for a in node.names if a.name.split(".")[0] in PICKLE_MODULES]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in PICKLE_MODULES:
            found.append(f"{where} from {node.module} import")
        elif isinstance(node, ast.Call):
            name = _call_name(node)
            last = name.rsplit(".", 1)[-1]
            if name.endswith("torch.load"):
                if _keyword(node, "weights_only") is not True:
                    found.append(f"{where} {name} without weights_only=True")
            elif last == "load" and name.split(".")[0] in ("np", "numpy"):
                if _keyword(node, "allow_pickle") not in (None, False):
                    found.append(f"{where} {name}(allow_pickle=...)")
            elif last in ("read_pickle", "from_pickle") or name in ("yaml.load", "yaml.unsafe_load"):
                found.append(f"{where} {name}")
            elif name.endswith("serialization.add_safe_globals"):
                found.append(f"{where} {name}: widens every later torch.load")
    return found


def test_no_pickle_loading_anywhere():
    files = [p for d in SCANNED if (REPO_ROOT / d).is_dir() for p in sorted((REPO_ROOT / d).rglob("*.py"))]
    assert len(files) > 20
    findings = [f for p in files for f in pickle_findings(p)]
    assert findings == [], "\n".join(findings)


def test_the_scan_finds_what_it_looks_for(tmp_path):
    bad = tmp_path / "probe.py"
    sample = ("import pickle\nimport torch, numpy as np\nfrom joblib import load\n"
              "torch.load('x')\ntorch.load('x', weights_only=False)\nnp.load('x', allow_pickle=True)\n"
              "torch.load('x', weights_only=True)\nnp.load('x')\nimport pandas as pd\npd.read_pickle('x')\n")
    bad.write_text(sample)
    found = pickle_findings(bad, tmp_path)
    assert len(found) == 6, found


def test_model_files_are_safetensors_and_onnx_only():
    from lib_skelext.completion_model import DEFAULT_MODEL_PATH
    from lib_skelext.weights import DWPOSE_FILES

    assert DEFAULT_MODEL_PATH.endswith(".safetensors")
    assert not [p for p in (REPO_ROOT / "models").iterdir() if p.suffix in (".pt", ".pth", ".pkl", ".ckpt", ".bin")]
    for w in DWPOSE_FILES:  # downloads: https only, a sha256 for each (checked by test_weights)
        assert w.url.startswith("https://") and w.name.endswith(".onnx")
        assert len(w.sha256) == 64 and int(w.sha256, 16) >= 0


# --------------------------------------------------------------- path escapes
def _tree(root: Path) -> dict:
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() and not p.is_symlink() else os.readlink(p)
                                       if p.is_symlink() else None) for p in root.rglob("*")}


def test_batch_outputs_stay_in_their_folder(tmp_path, capsys):
    """Names from input basenames only; symlinks in the input are read, never followed when writing;
    a symlink already in the output folder is replaced, its target untouched."""
    src, out, outside = tmp_path / "in", tmp_path / "out", tmp_path / "outside"
    src.mkdir(), out.mkdir(), outside.mkdir()
    (outside / "x.json").write_text(EXAMPLE)
    (outside / "victim.json").write_text("precious")
    (outside / "victim.png").write_text("precious")
    (src / "a.json").write_text(EXAMPLE)
    (src / "..json").write_text(EXAMPLE)
    (src / "-o.json").write_text(EXAMPLE)
    (src / "x.json").symlink_to(Path("..") / "outside" / "x.json")  # "../outside/x.json" from inside
    (src / "sub.json").mkdir()
    (src / "sub.json" / "deep.json").write_text(EXAMPLE)
    (out / "a.json").symlink_to(outside / "victim.json")
    (out / "a.png").symlink_to(outside / "victim.png")
    before = _tree(outside)
    assert main(["complete", str(src), "-o", str(out), "--render"]) == 0, capsys.readouterr().err
    assert _tree(outside) == before  # nothing outside written, no link target touched
    names = sorted(p.name for p in out.iterdir())
    assert names == ["-o.json", "-o.png", "..json", "..png", "a.json", "a.png", "x.json", "x.png"]
    assert all(p.is_file() and not p.is_symlink() for p in out.iterdir())
    assert json.loads((out / "x.json").read_text())["people"]  # the linked input was read
    assert not (out / "sub.json").exists() and not (out / "deep.json").exists()


def test_detect_batch_outputs_stay_in_their_folder(tmp_path, capsys, monkeypatch):
    import numpy as np

    import lib_skelext.cli.detect as cli_detect
    from lib_skelext.pose import Person, PoseFrame

    class Detector:
        def detect_people(self, image, threshold=0.3):
            h, w = image.shape[:2]
            body = np.zeros((18, 3))
            body[1], body[2], body[5] = [w / 2, h / 3, 1], [w / 3, h / 3, 1], [2 * w / 3, h / 3, 1]
            return PoseFrame([Person(body=body)], w, h)

    monkeypatch.setattr(cli_detect, "make_detector", lambda name, weights_dir=None: Detector())
    src, out, outside = tmp_path / "in", tmp_path / "out", tmp_path / "outside"
    src.mkdir(), out.mkdir(), outside.mkdir()
    photo = (REPO_ROOT / "examples" / "coco_000000000785_crop_hipsup.jpg").read_bytes()
    for name in ("p.jpg", "..jpg", "-rf.jpg"):
        (src / name).write_bytes(photo)
    (outside / "victim").write_text("precious")
    (out / "p.json").symlink_to(outside / "victim")
    before = _tree(outside)
    assert main(["detect", str(src), "-o", str(out)]) == 0, capsys.readouterr().err
    assert _tree(outside) == before
    assert all(p.is_file() and not p.is_symlink() and p.parent == out for p in out.iterdir())
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f"{stem}{suffix}" for stem in ("p", ".", "-rf") for suffix in (".json", "_control.png", "_overlay.png"))


# -------------------------------------------------------------- bind address
def test_serve_and_ui_default_to_localhost(monkeypatch, caplog):
    parser = build_parser()
    assert parser.parse_args(["serve"]).host == "127.0.0.1"
    assert parser.parse_args(["ui"]).host == "127.0.0.1"
    import uvicorn

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append(kw))
    monkeypatch.delenv("SKELEXT_API_AUTH", raising=False)
    assert main(["serve"]) == 0
    assert calls[-1]["host"] == "127.0.0.1"
    with caplog.at_level(logging.WARNING, logger="lib_skelext"):
        assert main(["serve", "--host", "0.0.0.0"]) == 0
    assert calls[-1]["host"] == "0.0.0.0" and "without --auth" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="lib_skelext"):
        assert main(["serve", "--host", "0.0.0.0", "--auth", "u:p"]) == 0
    assert "without --auth" not in caplog.text


def _outward_address() -> str:
    """This machine's address on its default route (no packet is sent), or '' if none."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))
            address = s.getsockname()[0]
        except OSError:
            return ""
    return "" if address.startswith("127.") else address


def test_a_started_server_listens_on_loopback_only():
    """``python -m lib_skelext serve`` for real, briefly: reachable on 127.0.0.1, not on the LAN address."""
    import httpx

    sys.path.insert(0, str(REPO_ROOT / "bench"))
    try:
        from bench_server_load import start_server, stop_server
    finally:
        sys.path.remove(str(REPO_ROOT / "bench"))
    proc, base, log = start_server(auth=("u", "p"), timeout_s=60)
    try:
        port = int(base.rsplit(":", 1)[1])
        assert httpx.get(f"{base}/skelext/v1/info").status_code == 401
        assert httpx.get(f"{base}/skelext/v1/info", auth=("u", "p")).status_code == 200
        lan = _outward_address()
        if lan:
            with socket.socket() as s:
                s.settimeout(2)
                assert s.connect_ex((lan, port)) != 0, f"serve answered on {lan}:{port}"
    finally:
        stop_server(proc)
        log.close()


def test_ui_command_binds_localhost_and_honours_auth(monkeypatch, caplog):
    """``python -m lib_skelext ui``: 127.0.0.1 by default, ``--auth`` becomes gradio's login, a warning
    when listening elsewhere without it (the Blocks are stubbed: no server starts)."""
    pytest.importorskip("gradio")
    import lib_skelext.ui as ui
    import lib_skelext.ui.layout as layout

    launched = []

    class Blocks:
        def queue(self):
            return self

        def launch(self, **kwargs):
            launched.append(kwargs)

    monkeypatch.setattr(layout, "build_ui", lambda standalone=False: Blocks())
    monkeypatch.delenv(ui.ENV_UI_AUTH, raising=False)
    assert main(["ui"]) == 0
    assert launched[-1]["server_name"] == "127.0.0.1" and launched[-1]["auth"] is None
    assert launched[-1]["share"] is False
    assert main(["ui", "--auth", "alice:s3cret,bob:pa:ss"]) == 0
    assert launched[-1]["auth"] == [("alice", "s3cret"), ("bob", "pa:ss")]
    monkeypatch.setenv(ui.ENV_UI_AUTH, "carol:x")
    assert main(["ui"]) == 0 and launched[-1]["auth"] == [("carol", "x")]
    monkeypatch.delenv(ui.ENV_UI_AUTH)
    with caplog.at_level(logging.WARNING, logger="lib_skelext"):
        assert main(["ui", "--host", "0.0.0.0"]) == 0
    assert "without --auth" in caplog.text
    count = len(launched)
    assert main(["ui", "--auth", "no-colon"]) == 2 and len(launched) == count  # refused before starting
