"""skelext: complete partial OpenPose skeletons (DWPose + a small completion network).

Importing this package is cheap: numpy only. torch, onnxruntime, cv2, gradio
and fastapi are imported inside the functions that need them.
"""
from __future__ import annotations

__version__ = "0.1.0"

from .errors import SkelextError
from .pose import Person, PoseFrame, Source

__all__ = ["__version__", "SkelextError", "Person", "PoseFrame", "Source"]
