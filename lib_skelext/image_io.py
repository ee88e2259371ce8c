"""Read photos safely into (H, W, 3) uint8 RGB arrays (PIL)."""
from __future__ import annotations

import io
import os
import warnings
from pathlib import Path
from typing import Union

import numpy as np

from .errors import SkelextError

#: Refuse images with more pixels than this (decompression bombs): 80 megapixels.
MAX_PIXELS = 80_000_000
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif")


def _to_rgb_array(img) -> np.ndarray:
    """Any PIL mode -> (H, W, 3) uint8 RGB. Alpha is composited over white
    (as ControlNet does); 16/32-bit gray is scaled down to 8 bits."""
    from PIL import Image

    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        arr = np.asarray(img).astype(np.float64)
        if mode.startswith("I;16") or arr.max(initial=0) > 255:
            arr = arr / 257.0
        gray = np.clip(np.round(arr), 0, 255).astype(np.uint8)
        return np.repeat(gray[:, :, None], 3, axis=2)
    if mode == "F":
        arr = np.asarray(img).astype(np.float64)
        arr = arr * 255.0 if arr.max(initial=0) <= 1.0 else arr
        gray = np.clip(np.round(arr), 0, 255).astype(np.uint8)
        return np.repeat(gray[:, :, None], 3, axis=2)
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in img.info)
    if has_alpha:
        rgba = np.asarray(img.convert("RGBA")).astype(np.float32)
        alpha = rgba[:, :, 3:4] / 255.0
        return (rgba[:, :, :3] * alpha + 255.0 * (1.0 - alpha)).clip(0, 255).astype(np.uint8)
    if mode != "RGB":
        img = img.convert("RGB")
    assert isinstance(img, Image.Image)
    return np.ascontiguousarray(np.asarray(img, dtype=np.uint8))


def load_image(source: Union[str, os.PathLike, bytes], *, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """A photo file (or its bytes) -> (H, W, 3) uint8 RGB.

    EXIF orientation is applied; the first frame of animations is used.
    Unreadable files and images over ``max_pixels`` raise ``SkelextError``.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    name = "image" if isinstance(source, (bytes, bytearray)) else str(source)
    try:
        handle = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else open(Path(source), "rb")
    except OSError as exc:
        raise SkelextError(f"{name}: cannot read ({exc.strerror or exc})") from None
    with handle:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                img = Image.open(handle)
                w, h = img.size
                if w * h > max_pixels:
                    raise SkelextError(f"{name}: image too large ({w}x{h} = {w * h} pixels; at most {max_pixels})")
                img.load()
                img = ImageOps.exif_transpose(img) or img
        except SkelextError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise SkelextError(f"{name}: image too large ({exc})") from None
        except UnidentifiedImageError:
            raise SkelextError(f"{name}: not a readable image (unknown format or broken file)") from None
        except Exception as exc:  # PIL raises many types for broken files
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise SkelextError(f"{name}: not a readable image ({reason})") from None
    if img.size[0] < 1 or img.size[1] < 1:
        raise SkelextError(f"{name}: empty image")
    return _to_rgb_array(img)
