"""REST API: a FastAPI ``APIRouter`` under ``/skelext/v1/``.

Routes (all JSON; images are base64 PNG):

* ``POST complete``: OpenPose JSON in, completed OpenPose JSON out
  (options: canvas, alternatives, coords, render).
* ``POST detect``: a base64 image in, completed poses and the control image out
  (options: resolution, canvas, detector, threshold, alternatives, complete, draw_*).
* ``POST render``: OpenPose JSON in, the ControlNet-style drawing out.
* ``GET info``: versions, the completion model, where DWPose's weights were looked
  for and found.

Mounted by the WebUI in ``on_app_started`` (``lib_skelext.host.mount_api``) and
by ``python -m lib_skelext serve``. Access control follows the WebUI's own API:
``auth="user:pass,user2:pass2"`` (the WebUI's ``--api-auth``) makes every route
ask for HTTP basic auth (401 + ``WWW-Authenticate: Basic``; passwords compared
with ``secrets.compare_digest``). Bodies over ``max_body_bytes`` get 413 before
they are read in full, images over ``max_image_pixels`` get 413, every bad input
a 4xx with a message (``SkelextError`` -> 400, schema errors -> 422).

Detectors are a documented hook: ``detectors={"dwpose": factory, ...}`` maps a
detector name to a zero-argument factory returning an object with
``detect_people(image, threshold) -> PoseFrame`` (tests pass a tiny fake one).
The routes are plain ``def``: FastAPI runs them in its thread pool, off the
event loop. fastapi and pydantic are imported only when a router is built.

No ``from __future__ import annotations`` here: FastAPI reads the route
functions' annotations, which name models built inside ``build_router``.
"""
import base64
import binascii
import io
import logging
import secrets
import threading
from typing import Any, Callable, Dict, List, Optional

import numpy as np

from . import __version__
from .errors import SkelextError

logger = logging.getLogger(__name__)

PREFIX = "/skelext/v1"
MAX_BODY_BYTES = 20 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000


class TooLarge(SkelextError):
    """Input beyond a size limit (HTTP 413)."""


# ------------------------------------------------------------------ auth
def parse_credentials(auth: Optional[str]) -> Dict[str, str]:
    """``"user:pass,user2:pass2"`` -> {user: pass}, split as the WebUI splits ``--api-auth``."""
    credentials: Dict[str, str] = {}
    for item in (auth or "").split(","):
        if not item.strip():
            continue
        if ":" not in item:
            raise SkelextError("auth must be user:password pairs separated by commas")
        user, password = item.split(":", 1)
        credentials[user] = password
    return credentials


def check_basic_auth(header: Optional[str], credentials: Dict[str, str]) -> Optional[str]:
    """None when allowed, else the 401 detail (the WebUI's own wording)."""
    if not credentials:
        return None
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "basic" or not token:
        return "Not authenticated"
    try:
        user, sep, password = base64.b64decode(token.strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return "Invalid authentication credentials"
    if not sep:
        return "Invalid authentication credentials"
    expected = credentials.get(user)
    if expected is not None and secrets.compare_digest(password.encode("utf-8"), expected.encode("utf-8")):
        return None
    return "Incorrect username or password"


# ------------------------------------------------------------ image and JSON I/O
def decode_image(data: Any, max_pixels: int = MAX_IMAGE_PIXELS) -> np.ndarray:
    """Base64 (or data: URL) PNG/JPEG/WebP/... -> (H, W, 3) uint8 RGB, or (H, W, 4) with alpha."""
    if not isinstance(data, str) or not data.strip():
        raise SkelextError("image: expected a base64-encoded image string")
    text = data.strip()
    if text.startswith("data:"):
        header, _, text = text.partition(",")
        if ";base64" not in header:
            raise SkelextError("image: data URLs must be base64 (data:image/png;base64,...)")
    try:
        raw = base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise SkelextError("image: not valid base64") from None
    if not raw:
        raise SkelextError("image: empty")
    from PIL import Image

    try:
        im = Image.open(io.BytesIO(raw))
        width, height = im.size
    except Exception:  # PIL raises several types for foreign bytes, bombs included
        raise SkelextError("image: not a readable image (send PNG, JPEG or WebP bytes, base64-encoded)") from None
    if width * height > max_pixels:
        raise TooLarge(f"image: {width}x{height} is {width * height} pixels; at most {max_pixels}")
    try:
        im.load()
        im = im.convert("RGBA" if ("A" in im.getbands() or "transparency" in im.info) else "RGB")
    except Exception:
        raise SkelextError("image: truncated or corrupt image data") from None
    return np.asarray(im, dtype=np.uint8)


def encode_png(image: np.ndarray) -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


_UNITS = {"auto": None, "px": False, "norm": True}


def read_pose(pose: Any, coords: str = "auto"):
    """Request ``pose`` (an object, or a string holding one) -> PoseFrame (pixels)."""
    from .openpose_json import frame_from_dict, parse_json

    if coords not in _UNITS:
        raise SkelextError(f"coords must be one of {', '.join(_UNITS)}, got {coords!r}")
    if isinstance(pose, (str, bytes)):
        pose = parse_json(pose)
    _check_finite(pose)
    return frame_from_dict(pose, normalized=_UNITS[coords])


def _check_finite(value: Any, depth: int = 0) -> None:
    """Reject NaN/Infinity anywhere (Python's JSON parser lets them through)."""
    if depth > 64:
        raise SkelextError("invalid JSON: nested too deeply")
    if isinstance(value, float) and not np.isfinite(value):
        raise SkelextError("invalid JSON: NaN and Infinity are not allowed")
    if isinstance(value, dict):
        for item in value.values():
            _check_finite(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_finite(item, depth + 1)


def _check_canvas_pixels(frame: Any, max_pixels: int) -> None:
    pixels = int(frame.canvas_width) * int(frame.canvas_height)
    if pixels > max_pixels:
        raise TooLarge(f"canvas {frame.canvas_width}x{frame.canvas_height} is {pixels} pixels; "
                       f"at most {max_pixels} can be drawn")


def _completed_points(frame: Any) -> int:
    return int(sum(int(p.completed.sum()) for p in frame.people))


# ----------------------------------------------------------------- model info
def completion_model_info() -> Dict[str, Any]:
    """The completion model file, its architecture and the metadata stored in it."""
    import json
    import os

    from . import completion_model as cm

    path = os.path.abspath(os.environ.get("SKELEXT_COMPLETION_MODEL") or cm.DEFAULT_MODEL_PATH)
    info: Dict[str, Any] = {"path": path, "found": os.path.isfile(path), "encoding_version": cm.ENCODING_VERSION}
    if not info["found"]:
        return info
    try:
        from safetensors import safe_open

        with safe_open(path, framework="numpy") as f:
            meta = dict(f.metadata() or {})
    except Exception as exc:
        info["error"] = f"unreadable: {exc}".splitlines()[0]
        return info
    for key, value in meta.items():
        try:
            info[key] = json.loads(value)
        except (TypeError, ValueError):
            info[key] = value
    return info


def dwpose_weights_info(search_dirs: Optional[List[Any]] = None) -> Dict[str, Any]:
    from .weights import DWPOSE_FILES, dwpose_search_dirs, find_file

    dirs = list(search_dirs) if search_dirs else dwpose_search_dirs()
    found = {w.name: find_file(w.name, dirs) for w in DWPOSE_FILES}
    files = {name: (str(path) if path is not None else None) for name, path in found.items()}
    return {"found": all(files.values()), "files": files, "looked_in": [str(d) for d in dirs],
            "download_from": {w.name: w.url for w in DWPOSE_FILES}}


# --------------------------------------------------------------------- models
_SCHEMA: Dict[str, Any] = {}


def schema() -> Any:
    """Request/response models (pydantic 1 and 2: Field, Optional, List, Dict, Any only)."""
    if not _SCHEMA:
        from pydantic import BaseModel, Field

        class CompleteRequest(BaseModel):
            pose: Any = Field(..., description="OpenPose JSON: an object, or a string holding one")
            canvas: str = Field("keep", description="keep | fit | expand")
            alternatives: int = Field(1, description="ranked completions per person, 1..8")
            coords: str = Field("auto", description="input units: auto (guess) | px | norm (0..1)")
            render: bool = Field(False, description="also return the control image (PNG, base64)")

        class CompleteResponse(BaseModel):
            pose: Dict[str, Any]
            completed_points: int
            image: Optional[str] = None
            info: str = "Success"

        class DetectRequest(BaseModel):
            image: str = Field(..., description="the photo: base64 PNG/JPEG/WebP, or a data: URL")
            resolution: int = Field(512, description="short side in pixels the photo is resized to (64..4096)")
            canvas: str = Field("keep", description="keep | fit | expand")
            detector: str = Field("dwpose", description="dwpose | blazepose")
            threshold: float = Field(0.3, description="keypoints scoring below it are missing (0..1)")
            alternatives: int = Field(1, description="ranked completions per person, 1..8")
            complete: bool = Field(True, description="False: plain detection")
            draw_hands: bool = True
            draw_face: bool = True

        class DetectResponse(BaseModel):
            pose: Dict[str, Any]
            detected: Dict[str, Any]
            image: str
            completed_points: int
            completion_failed: bool
            timings_s: Dict[str, float]
            info: str = "Success"

        class RenderRequest(BaseModel):
            pose: Any = Field(..., description="OpenPose JSON: an object, or a string holding one")
            coords: str = Field("auto", description="input units: auto (guess) | px | norm (0..1)")
            canvas: str = Field("keep", description="keep | fit | expand")
            draw_body: bool = True
            draw_hands: bool = True
            draw_face: bool = True

        class RenderResponse(BaseModel):
            image: str
            width: int
            height: int
            info: str = "Success"

        _SCHEMA.update(CompleteRequest=CompleteRequest, CompleteResponse=CompleteResponse,
                       DetectRequest=DetectRequest, DetectResponse=DetectResponse,
                       RenderRequest=RenderRequest, RenderResponse=RenderResponse)
    from types import SimpleNamespace

    return SimpleNamespace(**_SCHEMA)


def dump_model(model: Any) -> Dict[str, Any]:
    return model.model_dump() if hasattr(model, "model_dump") else model.dict()


# --------------------------------------------------------------------- router
def _guarded_route_class(credentials: Dict[str, str], max_body_bytes: int):
    """An APIRoute that checks auth, then reads the body with a size cap, before FastAPI parses it."""
    from fastapi.routing import APIRoute
    from starlette.requests import Request
    from starlette.responses import JSONResponse

    def too_large() -> JSONResponse:
        return JSONResponse({"detail": f"request body too large (at most {max_body_bytes} bytes)"}, status_code=413)

    class SkelextRoute(APIRoute):
        def get_route_handler(self) -> Callable:
            handler = super().get_route_handler()

            async def guarded(request: Request):
                denied = check_basic_auth(request.headers.get("authorization"), credentials)
                if denied is not None:
                    return JSONResponse({"detail": denied}, status_code=401, headers={"WWW-Authenticate": "Basic"})
                if request.method in ("POST", "PUT", "PATCH"):
                    length = request.headers.get("content-length")
                    if length is not None:
                        if not length.strip().isdigit():
                            return JSONResponse({"detail": "bad Content-Length"}, status_code=400)
                        if int(length) > max_body_bytes:
                            return too_large()
                    body = bytearray()
                    async for chunk in request.stream():
                        body += chunk
                        if len(body) > max_body_bytes:
                            return too_large()
                    request = _replay(request, bytes(body))
                return await handler(request)

            return guarded

    return SkelextRoute


def _replay(request: Any, body: bytes) -> Any:
    """A new Request whose body is ``body`` (the original stream was consumed)."""
    from starlette.requests import Request

    sent = False
    original = request.receive

    async def receive():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await original()

    return Request(request.scope, receive)


def build_router(*, auth: Optional[str] = None, max_body_bytes: int = MAX_BODY_BYTES,
                 max_image_pixels: int = MAX_IMAGE_PIXELS,
                 detectors: Optional[Dict[str, Callable[[], Any]]] = None,
                 dwpose_detector: Optional[Callable[[], Any]] = None,
                 dwpose_search_dirs: Optional[Callable[[], List[Any]]] = None):
    """The ``/skelext/v1`` router.

    auth: ``"user:pass[,user:pass...]"`` or None (open).
    detectors: {name: zero-argument factory} overriding the built-in detectors.
    dwpose_detector: factory for "dwpose" (the WebUI passes its settings-aware one).
    dwpose_search_dirs: folders to report in ``GET info`` (default: the standalone ones).
    """
    from fastapi import APIRouter, HTTPException

    from .settings import DETECTORS, PipelineSettings, validate_alternatives, validate_canvas_mode

    credentials = parse_credentials(auth)
    m = schema()
    factories: Dict[str, Callable[[], Any]] = {}
    if dwpose_detector is not None:
        factories["dwpose"] = dwpose_detector
    factories.update(detectors or {})
    load_lock = threading.Lock()
    loaded: set = set()

    def detector_for(name: str) -> Any:
        if name not in DETECTORS and name not in factories:
            raise SkelextError(f"unknown detector {name!r}; choose one of {', '.join(sorted(set(DETECTORS) | set(factories)))}")
        if name in factories:
            det = factories[name]()
        else:
            from .pipeline import default_detector

            det = default_detector(name)
        if name not in loaded:  # first use loads the model files, once, under a lock
            with load_lock:
                if name not in loaded and hasattr(det, "load"):
                    try:
                        det.load()
                    except SkelextError as exc:  # missing weights or mediapipe: the server's side
                        raise HTTPException(status_code=503, detail=str(exc)) from None
                loaded.add(name)
        return det

    def completion_model() -> Any:
        from .completion_model import load_model  # loads once, under its own lock

        try:
            return load_model()
        except SkelextError as exc:  # the server's model file, not the request
            raise HTTPException(status_code=503, detail=str(exc)) from None

    def fail(exc: SkelextError) -> HTTPException:
        return HTTPException(status_code=413 if isinstance(exc, TooLarge) else 400, detail=str(exc))

    router = APIRouter(prefix=PREFIX, tags=["skelext"],
                       route_class=_guarded_route_class(credentials, max_body_bytes))

    @router.get("/info")
    def info() -> Dict[str, Any]:
        dirs = dwpose_search_dirs() if dwpose_search_dirs else None
        return {"version": __version__, "api": PREFIX, "completion_model": completion_model_info(),
                "dwpose_weights": dwpose_weights_info(dirs), "detectors": sorted(set(DETECTORS) | set(factories)),
                "limits": {"max_body_bytes": max_body_bytes, "max_image_pixels": max_image_pixels},
                "auth": bool(credentials)}

    @router.post("/complete", response_model=m.CompleteResponse)
    def complete(req: m.CompleteRequest):
        from .canvas import apply_canvas_mode
        from .complete import complete_frame
        from .openpose_json import frame_to_dict

        try:
            validate_canvas_mode(req.canvas)
            validate_alternatives(req.alternatives)
            frame = read_pose(req.pose, req.coords)
        except SkelextError as exc:
            raise fail(exc) from None
        completion_model()
        try:
            completed = complete_frame(frame, alternatives=req.alternatives)
            completed, _ = apply_canvas_mode(completed, req.canvas)
            image = None
            if req.render:
                from .render import render_frame

                _check_canvas_pixels(completed, max_image_pixels)
                image = encode_png(render_frame(completed))
            return {"pose": frame_to_dict(completed), "completed_points": _completed_points(completed),
                    "image": image, "info": "Success"}
        except SkelextError as exc:
            raise fail(exc) from None

    @router.post("/detect", response_model=m.DetectResponse)
    def detect(req: m.DetectRequest):
        import json

        from .openpose_json import frame_to_dict
        from .pipeline import run_dwpose_full

        try:
            settings = PipelineSettings(resolution=req.resolution, canvas=req.canvas, detector=req.detector,
                                        detection_threshold=req.threshold, alternatives=req.alternatives,
                                        complete=req.complete, draw_hands=req.draw_hands, draw_face=req.draw_face)
            image = decode_image(req.image, max_image_pixels)
            h, w = image.shape[:2]
            scale = settings.resolution / float(min(h, w))
            if w * h * scale * scale > max_image_pixels:
                raise TooLarge(f"resolution {settings.resolution} makes this {w}x{h} image "
                               f"{int(w * scale)}x{int(h * scale)}; at most {max_image_pixels} pixels")
            result = run_dwpose_full(image, settings, detector=detector_for(req.detector))
        except SkelextError as exc:
            raise fail(exc) from None
        return {"pose": json.loads(result.json_text), "detected": frame_to_dict(result.detected),
                "image": encode_png(result.control_image), "completed_points": _completed_points(result.frame),
                "completion_failed": bool(result.completion_failed),
                "timings_s": {k: float(v) for k, v in result.timings_s.items()}, "info": "Success"}

    @router.post("/render", response_model=m.RenderResponse)
    def render(req: m.RenderRequest):
        from .canvas import apply_canvas_mode
        from .render import render_frame

        try:
            validate_canvas_mode(req.canvas)
            frame = read_pose(req.pose, req.coords)
            if req.canvas != "keep":
                frame, _ = apply_canvas_mode(frame, req.canvas)
            _check_canvas_pixels(frame, max_image_pixels)
            image = render_frame(frame, draw_body=req.draw_body, draw_hands=req.draw_hands, draw_face=req.draw_face)
        except SkelextError as exc:
            raise fail(exc) from None
        return {"image": encode_png(image), "width": int(image.shape[1]), "height": int(image.shape[0]),
                "info": "Success"}

    return router


def create_app(**router_kwargs: Any):
    """A FastAPI app serving only the skelext router (``python -m lib_skelext serve``)."""
    from fastapi import FastAPI

    app = FastAPI(title="skelext", version=__version__,
                  description="Complete partial OpenPose skeletons (DWPose + completion network).")
    app.include_router(build_router(**router_kwargs))
    return app


def serve(host: str = "127.0.0.1", port: int = 7870, auth: Optional[str] = None, **router_kwargs: Any) -> None:
    """Run the router standalone with uvicorn (blocks until stopped)."""
    try:
        import uvicorn
    except ImportError:
        raise SkelextError("serving needs fastapi and uvicorn: pip install 'skelext[api]'") from None
    if not auth and host not in ("127.0.0.1", "localhost", "::1"):
        logger.warning("serving on %s without --auth: anyone who can reach this port can use it", host)
    uvicorn.run(create_app(auth=auth, **router_kwargs), host=host, port=port, log_level="info")


__all__ = ["PREFIX", "build_router", "create_app", "serve", "decode_image", "encode_png", "parse_credentials",
           "check_basic_auth", "TooLarge"]


# ------------------------------------------------------------------------ CLI
ENV_AUTH = "SKELEXT_API_AUTH"


def add_serve_command(sub: Any) -> None:
    """``python -m lib_skelext serve``: registered by ``cli.py``."""
    p = sub.add_parser(
        "serve", help="run the REST API (/skelext/v1/) on its own",
        description=f"Serve {PREFIX}/ (complete, detect, render, info) with uvicorn. Binds 127.0.0.1 "
                    f"unless told otherwise; give --auth (or set {ENV_AUTH}) before listening on other "
                    "addresses.")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=7870, help="port (default 7870)")
    p.add_argument("--auth", default=None, metavar="USER:PASS[,USER:PASS]",
                   help=f"require HTTP basic auth, as the WebUI's --api-auth (default: ${ENV_AUTH})")
    p.add_argument("--weights-dir", default=None, metavar="DIR",
                   help="folder with yolox_l.onnx and dw-ll_ucoco_384.onnx (default: the usual places)")
    p.set_defaults(func=cmd_serve)


def cmd_serve(args: Any) -> int:
    import os

    if not 0 < int(args.port) < 65536:
        raise SkelextError(f"--port must be 1..65535, got {args.port}")
    auth = args.auth if args.auth is not None else os.environ.get(ENV_AUTH) or None
    parse_credentials(auth)  # fail early on a malformed value
    kwargs: Dict[str, Any] = {}
    if args.weights_dir:
        from .dwpose import DWPoseDetector

        detector = DWPoseDetector(weights_dir=args.weights_dir)
        kwargs["dwpose_detector"] = lambda: detector
    serve(args.host, int(args.port), auth, **kwargs)
    return 0
