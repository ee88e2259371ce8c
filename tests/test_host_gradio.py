"""The REST API mounted the way the WebUI mounts it: on a running Gradio app.

The WebUI launches its Gradio Blocks, then calls ``on_app_started(demo, app)``
with the live FastAPI app; skelext adds ``/skelext/v1/`` there, with the
``--api-auth`` credentials. This starts a real server on 127.0.0.1 (gradio
3.41.2 in .venv, 4.40 in .venv-forge) and talks HTTP to it.
"""
from __future__ import annotations

import socket
import sys

import pytest

from hosts import FakeDetector, Hosts
from lib_skelext import host
from lib_skelext.host import options as host_options
from lib_skelext.host.preprocess import DWPoseFullRunner


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def gradio_app(monkeypatch, tmp_path):
    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "False")
    h = Hosts(monkeypatch)
    h.webui(models_path=tmp_path / "models", api_auth="alice:s3cret")
    detector = FakeDetector()
    h.locations = h.use_detector(detector)
    monkeypatch.setattr(host, "_runner", DWPoseFullRunner(host_options.read_options))
    import gradio as gr

    with gr.Blocks() as demo:
        gr.Markdown("fake WebUI")
    app, local_url, _ = demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=free_port(),
                                    quiet=True)
    try:
        host.on_app_started(demo, app)
        yield local_url.rstrip("/")
    finally:
        demo.close()


def test_api_on_a_running_gradio_server(gradio_app):
    import httpx

    from test_api import EXAMPLE, png_b64

    with httpx.Client(base_url=gradio_app, timeout=60) as c:
        assert c.get("/skelext/v1/info").status_code == 401
        info = c.get("/skelext/v1/info", auth=("alice", "s3cret"))
        assert info.status_code == 200 and info.json()["auth"] is True
        r = c.post("/skelext/v1/render", json={"pose": EXAMPLE}, auth=("alice", "s3cret"))
        assert r.status_code == 200 and r.json()["width"] == 270
        r = c.post("/skelext/v1/detect", json={"image": png_b64(), "resolution": 128}, auth=("alice", "s3cret"))
        assert r.status_code == 200, r.text[:300]
        assert r.json()["pose"]["canvas_height"] == 128
    assert "gradio" in sys.modules
