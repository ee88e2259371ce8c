"""Request payloads: base64 images, pose JSON, size checks, and what ``GET info`` reports."""
from __future__ import annotations

import base64
import binascii
import io
import warnings
from typing import Any, Dict, List, Optional

import numpy as np

from ..errors import SkelextError
from .limits import MAX_IMAGE_PIXELS, TooLarge


def decode_image(data: Any, max_pixels: int = MAX_IMAGE_PIXELS) -> np.ndarray:
    """Base64 (or data: URL) PNG/JPEG/WebP/... -> (H, W, 3) uint8 RGB, read as the CLI reads
    photos (``image_io.load_image``: EXIF orientation, 16-bit scaled to 8, alpha over white)."""
    if not isinstance(data, str) or not data.strip():
        raise SkelextError("image: expected a base64-encoded image string")
    text = data.strip()
    if text.startswith("data:"):
        header, _, text = text.partition(",")
        if ";base64" not in header:
            raise SkelextError("image: data URLs must be base64 (data:image/png;base64,...)")
    try:
        raw = base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise SkelextError("image: not valid base64") from None
    if not raw:
        raise SkelextError("image: empty")
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # max_pixels decides, below
            im = Image.open(io.BytesIO(raw))
        width, height = im.size
    except Image.DecompressionBombError as exc:  # over twice PIL's own limit: refused while reading the header
        raise TooLarge(f"image: too large ({str(exc).split(',')[0]})") from None
    except Exception:  # PIL raises several types for foreign bytes
        raise SkelextError("image: not a readable image (send PNG, JPEG or WebP bytes, base64-encoded)") from None
    if width * height > max_pixels:
        raise TooLarge(f"image: {width}x{height} is {width * height} pixels; at most {max_pixels}")
    from ..image_io import load_image

    return load_image(raw, max_pixels=max_pixels)  # SkelextError "image: ..." for truncated data


def encode_png(image: np.ndarray) -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def read_poses(pose: Any, coords: str = "auto"):
    """Request ``pose`` (an object or a list of them, or a string holding either) ->
    (PoseFrames in pixels, was a list)."""
    from ..openpose_json import frames_from_json, normalized_flag, parse_json
    from ..settings import OPTIONS

    normalized = normalized_flag(OPTIONS["coords"].validate(coords))
    if isinstance(pose, (str, bytes)):
        pose = parse_json(pose)
    check_finite(pose)
    return frames_from_json(pose, normalized=normalized)


def check_finite(value: Any, depth: int = 0) -> None:
    """Reject NaN/Infinity anywhere (Python's JSON parser lets them through)."""
    if depth > 64:
        raise SkelextError("invalid JSON: nested too deeply")
    if isinstance(value, float) and not np.isfinite(value):
        raise SkelextError("invalid JSON: NaN and Infinity are not allowed")
    if isinstance(value, dict):
        for item in value.values():
            check_finite(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            check_finite(item, depth + 1)


def check_canvas_pixels(frame: Any, max_pixels: int) -> None:
    pixels = int(frame.canvas_width) * int(frame.canvas_height)
    if pixels > max_pixels:
        raise TooLarge(f"canvas {frame.canvas_width}x{frame.canvas_height} is {pixels} pixels; "
                       f"at most {max_pixels} can be drawn")


_SHA256_CACHE: Dict[Any, str] = {}


def completion_model_info() -> Dict[str, Any]:
    """The completion model file, its architecture and the metadata stored in it."""
    import json
    import os

    from .. import completion_model as cm

    path = os.path.abspath(os.environ.get("SKELEXT_COMPLETION_MODEL") or cm.DEFAULT_MODEL_PATH)
    info: Dict[str, Any] = {"path": path, "file": os.path.basename(path), "found": os.path.isfile(path),
                            "encoding_version": cm.ENCODING_VERSION}
    if not info["found"]:
        return info
    from ..weights import sha256_of

    stat = os.stat(path)
    key = (path, stat.st_size, stat.st_mtime_ns)
    if key not in _SHA256_CACHE:  # hashing the file took 2 ms of every GET info
        _SHA256_CACHE.clear()
        _SHA256_CACHE[key] = sha256_of(path)
    info["sha256"] = _SHA256_CACHE[key]
    try:
        from safetensors import safe_open

        with safe_open(path, framework="numpy") as f:
            meta = dict(f.metadata() or {})
    except Exception as exc:
        info["error"] = f"unreadable: {exc}".splitlines()[0]
        return info
    for key, value in meta.items():
        try:
            info[key] = json.loads(value)
        except (TypeError, ValueError):
            info[key] = value
    return info


def dwpose_weights_info(search_dirs: Optional[List[Any]] = None) -> Dict[str, Any]:
    from ..weights import DWPOSE_FILES, dwpose_search_dirs, find_file, verify_local_file

    dirs = list(search_dirs) if search_dirs else dwpose_search_dirs()
    files: Dict[str, Optional[str]] = {}
    problems: Dict[str, str] = {}
    for weight in DWPOSE_FILES:
        path = find_file(weight.name, dirs)
        files[weight.name] = str(path) if path is not None else None
        if path is not None:
            try:  # the same check detection makes (hashed once, remembered by size and mtime)
                verify_local_file(weight, path)
            except SkelextError as exc:
                problems[weight.name] = str(exc)
    info: Dict[str, Any] = {"found": all(files.values()) and not problems, "files": files,
                            "looked_in": [str(d) for d in dirs], "download_from": {w.name: w.url for w in DWPOSE_FILES}}
    if problems:
        info["problems"] = problems
    return info
