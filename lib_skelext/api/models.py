"""Request and response models: pydantic 1 and 2 (Field, Optional, Dict, Any only)."""
from __future__ import annotations

from typing import Any, Dict, Optional


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
