"""ControlNet's preprocessor image handling: any image -> (H, W, 3) uint8 RGB, resize with pad.

The image is handled as ControlNet's preprocessors handle it
(``scripts/processor.py`` ``resize_image_with_pad`` / ``remove_pad``): the
short side is resized to ``resolution`` (cubic when enlarging, area when
shrinking), the bottom and right edges are padded (edge pixels repeated) up
to multiples of 64, detection runs on the padded image, and the result is
cropped back to the resized size. So the control image has exactly the size
ControlNet's own ``dw_openpose_full`` returns.
"""
from __future__ import annotations

from typing import Any, Callable, Tuple

import numpy as np

from .errors import SkelextError


# ------------------------------------------------------------------ image prep
def to_rgb_uint8(image: Any, *, coerce_dtype: bool = False) -> np.ndarray:
    """Any image a host hands over -> (H, W, 3) uint8 RGB.

    (H, W), (H, W, 1), (H, W, 3), (H, W, 4) or more channels (image + mask: the
    first three are kept). Gray gains three channels; RGBA is composed over white
    as ControlNet's ``HWC3`` does. Other dtypes raise SkelextError, unless
    ``coerce_dtype`` (WebUI hosts), which clips numeric values to 0..255.
    """
    arr = np.asarray(image)
    if arr.ndim not in (2, 3) or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise SkelextError(f"expected an (H, W, 3) RGB image, got shape {arr.shape}")
    if arr.dtype != np.uint8:
        if not coerce_dtype or arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
            raise SkelextError(f"expected a uint8 image, got dtype {arr.dtype}")
        arr = np.clip(np.nan_to_num(arr.astype(np.float64)), 0, 255).astype(np.uint8)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    channels = arr.shape[2]
    if channels == 1:
        arr = np.repeat(arr, 3, axis=2)
    elif channels == 4:
        color = arr[:, :, :3].astype(np.float32)
        alpha = arr[:, :, 3:4].astype(np.float32) / 255.0
        arr = np.clip(color * alpha + 255.0 * (1.0 - alpha), 0, 255).round().astype(np.uint8)
    elif channels >= 3:
        arr = arr[:, :, :3]
    else:
        raise SkelextError(f"expected 1, 3 or 4 channels, got {channels}")
    return np.ascontiguousarray(arr)


def pad64(x: int) -> int:
    """Pixels to add so that x becomes a multiple of 64."""
    return int(np.ceil(float(x) / 64.0) * 64 - x)


#: Longest side, in pixels, an image is resized to before detection. ControlNet
#: has no cap, so a 1x40000 strip at resolution 512 would become 512x20480000;
#: here its long side stops at this (the short side then shrinks, to 1 pixel at least).
MAX_RESIZED_SIDE = 16384


def resized_size(height: int, width: int, resolution: int) -> Tuple[int, int]:
    """(height, width) in pixels of an image after ControlNet's resize (short side ->
    resolution), with the long side capped at ``MAX_RESIZED_SIDE``."""
    k = float(resolution) / float(min(height, width))
    k = min(k, MAX_RESIZED_SIDE / float(max(height, width)))
    return max(1, int(np.round(float(height) * k))), max(1, int(np.round(float(width) * k)))


def resize_image_with_pad(image: np.ndarray, resolution: int) -> Tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]:
    """ControlNet's preprocessor resize: short side -> resolution, pad to 64
    (long side at most ``MAX_RESIZED_SIDE``).

    Returns (padded image, remove_pad) where remove_pad(x) crops an array of
    the padded size back to the resized (unpadded) size.
    """
    import cv2

    img = to_rgb_uint8(image)
    h_raw, w_raw = img.shape[:2]
    h_target, w_target = resized_size(h_raw, w_raw, resolution)
    k = min(h_target / float(h_raw), w_target / float(w_raw))
    interpolation = cv2.INTER_CUBIC if k > 1 else cv2.INTER_AREA
    img = cv2.resize(img, (w_target, h_target), interpolation=interpolation)
    padded = np.pad(img, [[0, pad64(h_target)], [0, pad64(w_target)], [0, 0]], mode="edge")

    def remove_pad(x: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(x[:h_target, :w_target])

    return np.ascontiguousarray(padded), remove_pad
