"""The ``/skelext/v1`` APIRouter.

No ``from __future__ import annotations`` here: FastAPI reads the route
functions' annotations, which name models built at run time.
"""
import threading
from typing import Any, Callable, Dict, List, Optional

from .. import __version__
from ..errors import SkelextError
from .auth import guarded_route_class, parse_credentials
from .limits import MAX_BODY_BYTES, MAX_IMAGE_PIXELS, PREFIX, TooLarge
from .models import schema
from .payloads import (
    check_canvas_pixels, completed_points, completion_model_info, decode_image, dwpose_weights_info, encode_png,
    read_pose,
)


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

    from ..settings import DETECTORS, PipelineSettings, validate_alternatives, validate_canvas_mode

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
            from ..pipeline import default_detector

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
        from ..completion_model import load_model  # loads once, under its own lock

        try:
            return load_model()
        except SkelextError as exc:  # the server's model file, not the request
            raise HTTPException(status_code=503, detail=str(exc)) from None

    def fail(exc: SkelextError) -> HTTPException:
        return HTTPException(status_code=413 if isinstance(exc, TooLarge) else 400, detail=str(exc))

    router = APIRouter(prefix=PREFIX, tags=["skelext"],
                       route_class=guarded_route_class(credentials, max_body_bytes))

    @router.get("/info")
    def info() -> Dict[str, Any]:
        dirs = dwpose_search_dirs() if dwpose_search_dirs else None
        return {"version": __version__, "api": PREFIX, "completion_model": completion_model_info(),
                "dwpose_weights": dwpose_weights_info(dirs), "detectors": sorted(set(DETECTORS) | set(factories)),
                "limits": {"max_body_bytes": max_body_bytes, "max_image_pixels": max_image_pixels},
                "auth": bool(credentials)}

    @router.post("/complete", response_model=m.CompleteResponse)
    def complete(req: m.CompleteRequest):
        from ..canvas import apply_canvas_mode
        from ..complete import complete_frame
        from ..openpose_json import frame_to_dict

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
                from ..render import render_frame

                check_canvas_pixels(completed, max_image_pixels)
                image = encode_png(render_frame(completed))
            return {"pose": frame_to_dict(completed), "completed_points": completed_points(completed),
                    "image": image, "info": "Success"}
        except SkelextError as exc:
            raise fail(exc) from None

    @router.post("/detect", response_model=m.DetectResponse)
    def detect(req: m.DetectRequest):
        import json

        from ..openpose_json import frame_to_dict
        from ..pipeline import resized_size, run_dwpose_full

        try:
            settings = PipelineSettings(resolution=req.resolution, canvas=req.canvas, detector=req.detector,
                                        detection_threshold=req.threshold, alternatives=req.alternatives,
                                        complete=req.complete, draw_hands=req.draw_hands, draw_face=req.draw_face)
            image = decode_image(req.image, max_image_pixels)
            h, w = image.shape[:2]
            h_out, w_out = resized_size(h, w, settings.resolution)
            if w_out * h_out > max_image_pixels:
                raise TooLarge(f"resolution {settings.resolution} makes this {w}x{h} image "
                               f"{w_out}x{h_out}; at most {max_image_pixels} pixels")
            result = run_dwpose_full(image, settings, detector=detector_for(req.detector))
        except SkelextError as exc:
            raise fail(exc) from None
        return {"pose": json.loads(result.json_text), "detected": frame_to_dict(result.detected),
                "image": encode_png(result.control_image), "completed_points": completed_points(result.frame),
                "completion_failed": bool(result.completion_failed),
                "timings_s": {k: float(v) for k, v in result.timings_s.items()}, "info": "Success"}

    @router.post("/render", response_model=m.RenderResponse)
    def render(req: m.RenderRequest):
        from ..canvas import apply_canvas_mode
        from ..render import render_frame

        try:
            validate_canvas_mode(req.canvas)
            frame = read_pose(req.pose, req.coords)
            if req.canvas != "keep":
                frame, _ = apply_canvas_mode(frame, req.canvas)
            check_canvas_pixels(frame, max_image_pixels)
            image = render_frame(frame, draw_body=req.draw_body, draw_hands=req.draw_hands, draw_face=req.draw_face)
        except SkelextError as exc:
            raise fail(exc) from None
        return {"image": encode_png(image), "width": int(image.shape[1]), "height": int(image.shape[0]),
                "info": "Success"}

    return router
