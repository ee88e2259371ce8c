"""onnxruntime session factory: CUDA when onnxruntime offers it, else CPU.

onnxruntime is imported inside the functions, never at module import.
"""
from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, List, Optional, Sequence

from ..errors import SkelextError

if TYPE_CHECKING:  # pragma: no cover
    import onnxruntime

logger = logging.getLogger(__name__)

#: Preferred providers, best first; only those onnxruntime reports are used.
PREFERRED_PROVIDERS = ("CUDAExecutionProvider", "CPUExecutionProvider")


def choose_providers(available: Sequence[str], device: str = "auto") -> List[str]:
    """Providers for ``device`` ("auto", "cuda" or "cpu") among ``available``.

    "auto" takes CUDA when available, always with CPU as the fallback.
    """
    device = (device or "auto").lower()
    if device not in ("auto", "cuda", "cpu"):
        raise SkelextError(f"unknown device {device!r}; choose auto, cuda or cpu")
    if device == "cpu":
        return ["CPUExecutionProvider"]
    wanted = [p for p in PREFERRED_PROVIDERS if p in available]
    if device == "cuda" and "CUDAExecutionProvider" not in wanted:
        raise SkelextError("device 'cuda' asked for, but this onnxruntime has no CUDAExecutionProvider; "
                           "install onnxruntime-gpu or use device 'cpu'")
    return wanted or ["CPUExecutionProvider"]


def create_session(path: "os.PathLike[str] | str", *, device: str = "auto",
                   providers: Optional[Sequence[str]] = None) -> "onnxruntime.InferenceSession":
    """Load one ONNX model. Logs one INFO line (path, providers)."""
    try:
        import onnxruntime as ort
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise SkelextError("onnxruntime is not installed; run `pip install onnxruntime` "
                           "(or onnxruntime-gpu) to use the DWPose detector") from exc
    if providers is None:
        providers = choose_providers(ort.get_available_providers(), device)
    options = ort.SessionOptions()
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(os.fspath(path), sess_options=options, providers=list(providers))
    except Exception as exc:  # onnxruntime raises its own types for corrupt files
        raise SkelextError(f"cannot load ONNX model {os.fspath(path)}: {exc}".splitlines()[0]
                           + "; delete the file so it is fetched again") from exc
    logger.info("loaded %s with onnxruntime %s, providers %s", os.fspath(path), ort.__version__,
                ",".join(session.get_providers()))
    return session
