"""Request and response models, built from the options schema (``settings.OPTIONS``).

Every option field has the option's name (the CLI flag and the ComfyUI input name, modulo ``-``/``_``).
Older field names keep working (``LEGACY_FIELDS``: ``threshold`` for ``detection_threshold``;
``sequence: true`` with ``sequence_mode``). pydantic 1 and 2 (``create_model``, ``Field`` with
``ge``/``le``, ``Literal``, ``Union``, ``Optional``, ``Dict``, ``Any`` only): choices become enums and
ranges become bounds in the OpenAPI schema, and FastAPI answers 422 for values outside them.
"""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Dict, Optional, Tuple

from ..settings import OPTIONS, RENDER_OPTIONS

_SCHEMA: Dict[str, Any] = {}

#: Field names of earlier releases -> the option they set (when the option's own field is not sent).
LEGACY_FIELDS = {"threshold": "detection_threshold"}


def option_field(name: str) -> Tuple[Any, Any]:
    """(type, Field) for one option (or a legacy field name), for ``pydantic.create_model``."""
    from typing import Literal, Union

    from pydantic import Field

    spec = OPTIONS[LEGACY_FIELDS.get(name, name)]
    kw: Dict[str, Any] = {"description": spec.help if name == spec.name else f"old name of {spec.name}"}
    if spec.name == "sequence":  # true / false of earlier releases: true = sequence_mode (default causal)
        kw["description"] += "; true / false (earlier releases) also work: true means sequence_mode"
        return Union[Literal[spec.choices], bool], Field(spec.default, **kw)  # type: ignore[valid-type]
    if spec.kind == "choice":
        return Literal[spec.choices], Field(spec.default, **kw)  # type: ignore[valid-type]
    if spec.kind == "bool":
        return bool, Field(spec.default, **kw)
    kw["ge"], kw["le"] = spec.minimum, spec.maximum
    return (int if spec.kind == "int" else float), Field(spec.default, **kw)


def schema() -> Any:
    """The models (built once, on the first router)."""
    if not _SCHEMA:
        from pydantic import BaseModel, Field, create_model

        pose = (Any, Field(..., description="OpenPose JSON: an object, a list of them (one per frame), "
                                            "or a string holding either"))
        render = (bool, Field(False, description="also return the control images (PNG, base64; one per frame "
                                                 "for a list)"))
        fps = (float, Field(30.0, ge=0.01, le=1000, description="a clip's frame rate (frames per second), "
                                                                "for bridge_gap in seconds"))

        def request(name: str, fields: Dict[str, Tuple[Any, Any]], *options: str) -> Any:
            fields = dict(fields)
            for option in options:
                fields[option] = option_field(option)
            return create_model(name, **fields)  # type: ignore[call-overload]

        CompleteRequest = request(
            "CompleteRequest", {"pose": pose, "render": render, "fps": fps},
            "coords", "output_coords", "canvas", "alternatives", "fit_margin", "sequence", "sequence_mode",
            "smooth_detected", "rewrite_scores", "bridge_gap", *RENDER_OPTIONS)

        class CompleteResponse(BaseModel):
            pose: Any
            completed_points: int
            completion_failed: bool
            image: Optional[str] = None
            images: Optional[list] = None
            info: str = "Success"

        DetectRequest = request(
            "DetectRequest",
            {"image": (str, Field(..., description="the photo: base64 PNG/JPEG/WebP, or a data: URL"))},
            "resolution", "canvas", "detector", "detection_threshold", "threshold", "alternatives", "complete",
            "fit_margin", "output_coords", *RENDER_OPTIONS)

        class DetectResponse(BaseModel):
            pose: Dict[str, Any]
            detected: Dict[str, Any]
            image: str
            completed_points: int
            completion_failed: bool
            timings_s: Dict[str, float]
            info: str = "Success"

        RenderRequest = request("RenderRequest", {"pose": pose}, "coords", "canvas", "fit_margin", *RENDER_OPTIONS)

        class RenderResponse(BaseModel):
            image: str
            width: int
            height: int
            images: Optional[list] = None
            info: str = "Success"

        RetargetRequest = request(
            "RetargetRequest",
            {"driving": (Any, Field(..., description="the motion: an OpenPose object, a list of them (one clip), "
                                                     "or a string holding either")),
             "reference": (Any, Field(None, description="the character: an OpenPose object with one person "
                                                        "(or give reference_image)")),
             "reference_image": (Optional[str], Field(None, description="the character as a photo: base64 "
                                                                        "PNG/JPEG/WebP or a data: URL")),
             "render": render, "fps": fps},
            "coords", "output_coords", "canvas", "fit_margin", "sequence_mode", "detector", "resolution",
            "retarget_position", "retarget_scale", "retarget_mode", "bridge_gap", *RENDER_OPTIONS)

        class RetargetResponse(BaseModel):
            pose: Any
            completion_failed: bool
            images: Optional[list] = None
            info: str = "Success"

        _SCHEMA.update(CompleteRequest=CompleteRequest, CompleteResponse=CompleteResponse,
                       DetectRequest=DetectRequest, DetectResponse=DetectResponse,
                       RenderRequest=RenderRequest, RenderResponse=RenderResponse,
                       RetargetRequest=RetargetRequest, RetargetResponse=RetargetResponse)
    return SimpleNamespace(**_SCHEMA)


def _fields_set(req: Any) -> set:
    """The fields the client sent (pydantic 2 ``model_fields_set``, pydantic 1 ``__fields_set__``)."""
    sent = getattr(req, "model_fields_set", None)
    return set(sent if sent is not None else getattr(req, "__fields_set__", set()))


def settings_from_request(req: Any, **fixed: Any) -> Any:
    """PipelineSettings from a request model's option fields (legacy names where the new one is not sent)."""
    from ..settings import PipelineSettings

    sent = _fields_set(req)
    values = {name: getattr(req, name) for name in OPTIONS if hasattr(req, name)}
    for legacy, name in LEGACY_FIELDS.items():
        if legacy in sent and name not in sent:
            values[name] = getattr(req, legacy)
    if isinstance(values.get("sequence"), bool):
        values["sequence"] = values.get("sequence_mode", "causal") if values["sequence"] else "off"
    values.update(fixed)
    return PipelineSettings.from_mapping(values)
