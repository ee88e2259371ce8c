"""Request and response models, built from the options schema (``settings.OPTIONS``).

pydantic 1 and 2 (``create_model``, ``Field`` with ``ge``/``le``, ``Literal``, ``Optional``,
``Dict``, ``Any`` only): choices become enums and ranges become bounds in the OpenAPI
schema, and FastAPI answers 422 for values outside them.
"""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Dict, Optional, Tuple

from ..settings import COORD_UNITS, OPTIONS

_SCHEMA: Dict[str, Any] = {}

#: REST field name -> option name, where the API's name differs
_API_NAMES = {"threshold": "detection_threshold"}


def option_field(api_name: str) -> Tuple[Any, Any]:
    """(type, Field) for one option, for ``pydantic.create_model``."""
    from typing import Literal

    from pydantic import Field

    spec = OPTIONS[_API_NAMES.get(api_name, api_name)]
    kw: Dict[str, Any] = {"description": spec.help}
    if spec.kind == "choice":
        return Literal[spec.choices], Field(spec.default, **kw)  # type: ignore[valid-type]
    if spec.kind == "bool":
        return bool, Field(spec.default, **kw)
    kw["ge"], kw["le"] = spec.minimum, spec.maximum
    return (int if spec.kind == "int" else float), Field(spec.default, **kw)


def schema() -> Any:
    """The models (built once, on the first router)."""
    if not _SCHEMA:
        from typing import Literal

        from pydantic import BaseModel, Field, create_model

        pose = (Any, Field(..., description="OpenPose JSON: an object, a list of them (one per frame), "
                                            "or a string holding either"))
        coords = (Literal[COORD_UNITS], Field("auto", description="input units: auto (guess) | px | norm (0..1)"))

        def request(name: str, fields: Dict[str, Tuple[Any, Any]], *options: str) -> Any:
            fields = dict(fields)
            for api_name in options:
                fields[api_name] = option_field(api_name)
            return create_model(name, **fields)  # type: ignore[call-overload]

        CompleteRequest = request(
            "CompleteRequest",
            {"pose": pose, "coords": coords,
             "render": (bool, Field(False, description="also return the control image (PNG, base64; "
                                                       "one per frame for a list)")),
             "sequence": (bool, Field(False, description="the list of frames is one video: track people "
                                                         "(track_id in each person's skelext key) and "
                                                         "complete them steadily over time")),
             "fps": (float, Field(30.0, ge=0.01, le=1000, description="sequence: the clip's frame rate (frames "
                                                                   "per second), for bridge_gap in seconds"))},
            "canvas", "alternatives", "fit_margin", "sequence_mode", "smooth_detected", "rewrite_scores",
            "bridge_gap")

        class CompleteResponse(BaseModel):
            pose: Any
            completed_points: int
            image: Optional[str] = None
            images: Optional[list] = None
            info: str = "Success"

        DetectRequest = request(
            "DetectRequest",
            {"image": (str, Field(..., description="the photo: base64 PNG/JPEG/WebP, or a data: URL"))},
            "resolution", "canvas", "detector", "threshold", "alternatives", "complete", "draw_hands", "draw_face")

        class DetectResponse(BaseModel):
            pose: Dict[str, Any]
            detected: Dict[str, Any]
            image: str
            completed_points: int
            completion_failed: bool
            timings_s: Dict[str, float]
            info: str = "Success"

        RenderRequest = request("RenderRequest", {"pose": pose, "coords": coords},
                                "canvas", "draw_body", "draw_hands", "draw_face")

        class RenderResponse(BaseModel):
            image: str
            width: int
            height: int
            info: str = "Success"

        RetargetRequest = request(
            "RetargetRequest",
            {"driving": (Any, Field(..., description="the motion: an OpenPose object, a list of them (one clip), "
                                                     "or a string holding either")),
             "reference": (Any, Field(None, description="the character: an OpenPose object with one person "
                                                        "(or give reference_image)")),
             "reference_image": (Optional[str], Field(None, description="the character as a photo: base64 "
                                                                        "PNG/JPEG/WebP or a data: URL")),
             "coords": coords,
             "render": (bool, Field(False, description="also return the control images (PNG, base64)")),
             "fps": (float, Field(30.0, ge=0.01, le=1000, description="the clip's frame rate, for bridge_gap"))},
            "canvas", "fit_margin", "sequence_mode", "detector", "resolution", "retarget_position",
            "retarget_scale", "retarget_mode", "bridge_gap")

        class RetargetResponse(BaseModel):
            pose: Any
            images: Optional[list] = None
            info: str = "Success"

        _SCHEMA.update(CompleteRequest=CompleteRequest, CompleteResponse=CompleteResponse,
                       DetectRequest=DetectRequest, DetectResponse=DetectResponse,
                       RenderRequest=RenderRequest, RenderResponse=RenderResponse,
                       RetargetRequest=RetargetRequest, RetargetResponse=RetargetResponse)
    return SimpleNamespace(**_SCHEMA)


def settings_from_request(req: Any, **fixed: Any) -> Any:
    """PipelineSettings from a request model's option fields."""
    from ..settings import PipelineSettings

    values = {}
    for api_name in OPTIONS.keys() | _API_NAMES.keys():
        if hasattr(req, api_name):
            values[_API_NAMES.get(api_name, api_name)] = getattr(req, api_name)
    values.update(fixed)
    return PipelineSettings.from_mapping(values)
