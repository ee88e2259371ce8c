"""What each ``/skelext/v1`` route does: parse the request, call the core, format the answer.

No FastAPI here (``router`` wires these to paths and turns errors into status codes): a
``SkelextError`` is the client's (400; ``TooLarge`` 413), a ``ServerSide`` error the server's (503:
DWPose's weights or mediapipe missing, the completion model file missing or unreadable).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict, List

from .. import __version__
from ..errors import SkelextError
from .limits import PREFIX, TooLarge
from .models import settings_from_request
from .payloads import (
    check_canvas_pixels, completion_model_info, decode_image, dwpose_weights_info, encode_png, read_poses,
)


class ServerSide(SkelextError):
    """A resource the server lacks (HTTP 503), not a fault of the request."""


@dataclass(frozen=True)
class RouteContext:
    """What the routes of one router share: where detectors are taken, the limits, whether auth is on."""

    location: Callable[[], Any]
    max_body_bytes: int
    max_image_pixels: int
    auth: bool


def detector_for(ctx: RouteContext, name: str) -> Any:
    """The registry's detector at the server's location, loaded (ServerSide when it cannot be)."""
    from ..detectors import get_detector

    try:
        return get_detector(name, ctx.location())
    except SkelextError as exc:  # missing weights or mediapipe: the server's side
        raise ServerSide(str(exc)) from None


def check_model() -> None:
    """The completion model file loads (ServerSide otherwise), before a request's work starts."""
    from ..completion_model import load_model  # loads once, under its own lock

    try:
        load_model()
    except SkelextError as exc:
        raise ServerSide(str(exc)) from None


def images_of(results: List[Any], ctx: RouteContext) -> List[str]:
    """Each result's control image, base64 PNG (TooLarge for a canvas over the pixel limit)."""
    for r in results:
        check_canvas_pixels(r.frame, ctx.max_image_pixels)
    return [encode_png(r.control_image) for r in results]


def info(ctx: RouteContext) -> Dict[str, Any]:
    from ..detectors import detector_names

    dirs = list(ctx.location().search_dirs) or None
    return {"version": __version__, "api": PREFIX, "completion_model": completion_model_info(),
            "dwpose_weights": dwpose_weights_info(dirs), "detectors": sorted(detector_names()),
            "limits": {"max_body_bytes": ctx.max_body_bytes, "max_image_pixels": ctx.max_image_pixels},
            "auth": ctx.auth}


def complete(req: Any, ctx: RouteContext) -> Dict[str, Any]:
    from ..core import complete_poses
    from ..result import results_to_json

    settings = settings_from_request(req)
    frames, as_list = read_poses(req.pose, settings.coords)
    if settings.sequence != "off" and not as_list:
        raise SkelextError("sequence needs a list of frames (one OpenPose object per video frame); "
                           "a single pose object is not a sequence")
    check_model()
    results = complete_poses(frames, settings, fps=req.fps)
    images = images_of(results, ctx) if req.render else None
    return {"pose": results_to_json(results, as_list), "completed_points": sum(r.completed_points for r in results),
            "completion_failed": any(r.completion_failed for r in results),
            "image": images[0] if images else None, "images": images if as_list else None, "info": "Success"}


def detect(req: Any, ctx: RouteContext) -> Dict[str, Any]:
    from ..core import process_image
    from ..openpose_json import frame_to_dict
    from ..resize import resized_size

    settings = settings_from_request(req)
    image = decode_image(req.image, ctx.max_image_pixels)
    h, w = image.shape[:2]
    h_out, w_out = resized_size(h, w, settings.resolution)
    if w_out * h_out > ctx.max_image_pixels:
        raise TooLarge(f"resolution {settings.resolution} makes this {w}x{h} image "
                       f"{w_out}x{h_out}; at most {ctx.max_image_pixels} pixels")
    result = process_image(image, settings, detector=detector_for(ctx, settings.detector))
    return {"pose": result.to_dict(), "detected": frame_to_dict(result.detected),
            "image": encode_png(result.control_image), "completed_points": result.completed_points,
            "completion_failed": bool(result.completion_failed),
            "timings_s": {k: float(v) for k, v in result.timings_s.items()}, "info": "Success"}


def render(req: Any, ctx: RouteContext) -> Dict[str, Any]:
    from ..core import render_poses

    settings = settings_from_request(req)
    frames, as_list = read_poses(req.pose, settings.coords)
    results = render_poses(frames, settings)
    images = images_of(results, ctx)
    first = results[0].frame
    return {"image": images[0], "width": int(first.canvas_width), "height": int(first.canvas_height),
            "images": images if as_list else None, "info": "Success"}


def retarget(req: Any, ctx: RouteContext) -> Dict[str, Any]:
    from ..result import results_to_json
    from ..retarget import reference_from_image, retarget_poses

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
        photo = decode_image(req.reference_image, ctx.max_image_pixels)
        reference = reference_from_image(photo, settings, detector_for(ctx, settings.detector))
    check_model()
    results = retarget_poses(frames, reference, settings, fps=req.fps)
    return {"pose": results_to_json(results, as_list), "completion_failed": any(r.completion_failed for r in results),
            "images": images_of(results, ctx) if req.render else None, "info": "Success"}
