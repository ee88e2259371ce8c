"""Video files in and out with OpenCV (imported on first use).

Frames are (H, W, 3) uint8 RGB everywhere in skelext; OpenCV's BGR stays inside this module.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator, List, Tuple

import numpy as np

from ..errors import SkelextError

#: File endings read as videos by ``detect --sequence`` (anything else must be a folder of images).
VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv", ".gif")
#: Frame rate written when the source has none (a folder of images).
DEFAULT_FPS = 30.0


def _cv2():
    try:
        import cv2
    except ImportError as exc:  # pragma: no cover - opencv is a runtime dependency
        raise SkelextError("reading and writing videos needs OpenCV; run `pip install opencv-python-headless`") from exc
    return cv2


def probe_video(path: Path) -> Tuple[float, int, int, int]:
    """(fps, frame count (0: unknown), width, height) px; SkelextError when OpenCV cannot read it."""
    cv2 = _cv2()
    path = Path(path)
    if not path.is_file():
        raise SkelextError(f"{path}: no such video file")
    cap = cv2.VideoCapture(str(path))
    try:
        ok, frame = cap.read() if cap.isOpened() else (False, None)
        if not ok or frame is None:
            raise SkelextError(f"{path}: not a readable video (OpenCV could not decode a frame)")
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        return (fps if 0 < fps < 1000 else DEFAULT_FPS), max(count, 0), frame.shape[1], frame.shape[0]
    finally:
        cap.release()


def read_video(path: Path) -> Iterator[np.ndarray]:
    """Every frame of a video as (H, W, 3) uint8 RGB, in order (``probe_video`` first for a clear error)."""
    cv2 = _cv2()
    cap = cv2.VideoCapture(str(path))
    try:
        while True:
            ok, frame = cap.read()
            if not ok:
                return
            yield cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
    finally:
        cap.release()


def write_video(path: Path, images: Iterable[np.ndarray], fps: float) -> int:
    """(H, W, 3) uint8 RGB frames -> an MP4 (codec 'mp4v') at ``fps`` frames per second; returns the count.

    Frames are padded / cut onto the first frame's size rounded up to even numbers (top-left aligned).
    Written to a temporary name, then renamed.
    """
    cv2 = _cv2()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    writer = None
    count = 0
    try:
        for image in images:
            if writer is None:
                h, w = image.shape[:2]
                h, w = h + h % 2, w + w % 2  # MPEG-4 wants even sizes: pad one black row/column
                writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"), float(fps), (w, h))
                if not writer.isOpened():
                    raise SkelextError(f"{path}: OpenCV cannot write MP4 video here")
            if image.shape[:2] != (h, w):
                canvas = np.zeros((h, w, 3), np.uint8)
                hh, ww = min(h, image.shape[0]), min(w, image.shape[1])
                canvas[:hh, :ww] = image[:hh, :ww]
                image = canvas
            writer.write(cv2.cvtColor(np.ascontiguousarray(image, dtype=np.uint8), cv2.COLOR_RGB2BGR))
            count += 1
    except BaseException:
        if writer is not None:
            writer.release()
        tmp.unlink(missing_ok=True)
        raise
    if writer is None:
        raise SkelextError(f"{path}: no frames to write")
    writer.release()
    tmp.replace(path)
    return count


def frame_names(count: int, stem: str = "frame") -> List[str]:
    """``frame_00000`` ... names for a video's frames (enough digits for ``count``, at least 5)."""
    digits = max(5, len(str(max(count - 1, 0))))
    return [f"{stem}_{i:0{digits}d}" for i in range(count)]
