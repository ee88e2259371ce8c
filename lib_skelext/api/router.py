"""The ``/skelext/v1`` APIRouter: a thin adapter over ``core``.

No ``from __future__ import annotations`` here: FastAPI reads the route
functions' annotations, which name models built at run time.
"""
from contextlib import contextmanager
from typing import Any, Callable, Dict, Iterator, List, Optional

from .. import __version__
from ..errors import SkelextError
from .auth import guarded_route_class, parse_credentials
from .limits import MAX_BODY_BYTES, MAX_IMAGE_PIXELS, PREFIX, TooLarge
from .models import schema, settings_from_request
from .payloads import (
    check_canvas_pixels, completion_model_info, decode_image, dwpose_weights_info, encode_png, read_poses,
)


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

    from ..detectors import DetectorLocation, detector_names, get_detector

    credentials = parse_credentials(auth)
    m = schema()
    location = detector_location or (lambda: DetectorLocation())

    def detector_for(name: str) -> Any:
        try:
            return get_detector(name, location())
        except SkelextError as exc:  # missing weights or mediapipe: the server's side
            raise HTTPException(status_code=503, detail=str(exc)) from None

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
        dirs = list(location().search_dirs) or None
        return {"version": __version__, "api": PREFIX, "completion_model": completion_model_info(),
                "dwpose_weights": dwpose_weights_info(dirs), "detectors": sorted(detector_names()),
                "limits": {"max_body_bytes": max_body_bytes, "max_image_pixels": max_image_pixels},
                "auth": bool(credentials)}

    @contextmanager
    def bad_input() -> Iterator[None]:
        """A SkelextError in the block: the client's (400; 413 when too large)."""
        try:
            yield
        except SkelextError as exc:
            raise fail(exc) from None

    def images_of(results: List[Any]) -> List[str]:
        for r in results:
            check_canvas_pixels(r.frame, max_image_pixels)
        return [encode_png(r.control_image) for r in results]

    @router.post("/complete", response_model=m.CompleteResponse)
    def complete(req: m.CompleteRequest):
        from ..core import complete_poses
        from ..result import results_to_json

        with bad_input():
            settings = settings_from_request(req)
            frames, as_list = read_poses(req.pose, settings.coords)
            if settings.sequence != "off" and not as_list:
                raise SkelextError("sequence needs a list of frames (one OpenPose object per video frame); "
                                   "a single pose object is not a sequence")
        completion_model()
        with bad_input():
            results = complete_poses(frames, settings, fps=req.fps)
            images = images_of(results) if req.render else None
            return {"pose": results_to_json(results, as_list),
                    "completed_points": sum(r.completed_points for r in results),
                    "completion_failed": any(r.completion_failed for r in results),
                    "image": images[0] if images else None, "images": images if as_list else None,
                    "info": "Success"}

    @router.post("/detect", response_model=m.DetectResponse)
    def detect(req: m.DetectRequest):
        from ..core import process_image
        from ..openpose_json import frame_to_dict
        from ..resize import resized_size

        with bad_input():
            settings = settings_from_request(req)
            image = decode_image(req.image, max_image_pixels)
            h, w = image.shape[:2]
            h_out, w_out = resized_size(h, w, settings.resolution)
            if w_out * h_out > max_image_pixels:
                raise TooLarge(f"resolution {settings.resolution} makes this {w}x{h} image "
                               f"{w_out}x{h_out}; at most {max_image_pixels} pixels")
            result = process_image(image, settings, detector=detector_for(settings.detector))
            return {"pose": result.to_dict(), "detected": frame_to_dict(result.detected),
                    "image": encode_png(result.control_image), "completed_points": result.completed_points,
                    "completion_failed": bool(result.completion_failed),
                    "timings_s": {k: float(v) for k, v in result.timings_s.items()}, "info": "Success"}

    @router.post("/render", response_model=m.RenderResponse)
    def render(req: m.RenderRequest):
        from ..core import render_poses

        with bad_input():
            settings = settings_from_request(req)
            frames, as_list = read_poses(req.pose, settings.coords)
            results = render_poses(frames, settings)
            images = images_of(results)
            first = results[0].frame
        return {"image": images[0], "width": int(first.canvas_width), "height": int(first.canvas_height),
                "images": images if as_list else None, "info": "Success"}

    @router.post("/retarget", response_model=m.RetargetResponse)
    def retarget(req: m.RetargetRequest):
        from ..result import results_to_json
        from ..retarget import reference_from_image, retarget_poses

        with bad_input():
            settings = settings_from_request(req)
            frames, as_list = read_poses(req.driving, settings.coords)
            if (req.reference is None) == (req.reference_image is None):
                raise SkelextError("give the character as reference (a pose) or reference_image (a photo), "
                                   "not both or neither")
            if req.reference is not None:
                refs, ref_list = read_poses(req.reference)
                if ref_list and len(refs) != 1:
                    raise SkelextError(f"reference: one pose, not a list of {len(refs)}")
                reference = refs[0]
            else:
                photo = decode_image(req.reference_image, max_image_pixels)
                reference = reference_from_image(photo, settings, detector_for(settings.detector))
        completion_model()
        with bad_input():
            results = retarget_poses(frames, reference, settings, fps=req.fps)
            return {"pose": results_to_json(results, as_list),
                    "completion_failed": any(r.completion_failed for r in results),
                    "images": images_of(results) if req.render else None, "info": "Success"}

    return router
