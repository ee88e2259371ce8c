"""DWPose (YOLOX-L + DWPose-L whole-body) through onnxruntime.

``transforms`` holds the pure pre/post-processing, ``session`` the
onnxruntime factory, ``detector`` the ``DWPoseDetector``. Importing this
package imports neither onnxruntime nor cv2.
"""
from __future__ import annotations

from .detector import DWPoseDetector

__all__ = ["DWPoseDetector"]
