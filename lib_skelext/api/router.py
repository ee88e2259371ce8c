"""The ``/skelext/v1`` APIRouter: each path wired to its work in ``routes`` (parse, call the core,
format), behind the guarded route class (auth, body limit); errors become status codes here.

No ``from __future__ import annotations`` here: FastAPI reads the route
functions' annotations, which name models built at run time.
"""
from typing import Any, Callable, Dict, Optional

from ..errors import SkelextError
from . import routes
from .auth import guarded_route_class, parse_credentials
from .limits import MAX_BODY_BYTES, MAX_IMAGE_PIXELS, PREFIX, TooLarge
from .models import schema


def build_router(*, auth: Optional[str] = None, max_body_bytes: int = MAX_BODY_BYTES,
                 max_image_pixels: int = MAX_IMAGE_PIXELS,
                 detector_location: Optional[Callable[[], Any]] = None):
    """The ``/skelext/v1`` router.

    auth: ``"user:pass[,user:pass...]"`` or None (open).
    detector_location: returns the ``detectors.DetectorLocation`` detectors are taken at
        (the WebUI passes its settings' folders and device); default: the standalone folders.
    Detectors come from the process-wide registry (``detectors.get_detector``).
    """
    from fastapi import APIRouter, HTTPException

    from ..detectors import DetectorLocation

    credentials = parse_credentials(auth)
    m = schema()
    ctx = routes.RouteContext(location=detector_location or (lambda: DetectorLocation()),
                              max_body_bytes=max_body_bytes, max_image_pixels=max_image_pixels,
                              auth=bool(credentials))

    def run(work: Callable[..., Dict[str, Any]], *args: Any) -> Dict[str, Any]:
        try:
            return work(*args, ctx)
        except routes.ServerSide as exc:  # weights, mediapipe or the model file missing: the server's side
            raise HTTPException(status_code=503, detail=str(exc)) from None
        except SkelextError as exc:  # the request's
            raise HTTPException(status_code=413 if isinstance(exc, TooLarge) else 400, detail=str(exc)) from None

    router = APIRouter(prefix=PREFIX, tags=["skelext"],
                       route_class=guarded_route_class(credentials, max_body_bytes))

    @router.get("/info")
    def info() -> Dict[str, Any]:
        return run(routes.info)

    @router.post("/complete", response_model=m.CompleteResponse)
    def complete(req: m.CompleteRequest):
        return run(routes.complete, req)

    @router.post("/detect", response_model=m.DetectResponse)
    def detect(req: m.DetectRequest):
        return run(routes.detect, req)

    @router.post("/render", response_model=m.RenderResponse)
    def render(req: m.RenderRequest):
        return run(routes.render, req)

    @router.post("/retarget", response_model=m.RetargetResponse)
    def retarget(req: m.RetargetRequest):
        return run(routes.retarget, req)

    return router
