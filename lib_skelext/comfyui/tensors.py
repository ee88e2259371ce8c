"""ComfyUI ``IMAGE`` tensors <-> numpy images.

ComfyUI passes an ``IMAGE`` as a torch tensor of shape (B, H, W, C), float32 in 0..1,
C = 3 (RGB; masks/alpha make it 1 or 4 in some packs). skelext's core takes
(H, W, 3) uint8 RGB arrays. torch is imported inside the functions (ComfyUI has it;
the WebUI extension and the CLI never need it).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, List, Sequence, Tuple

import numpy as np

from ..errors import SkelextError

if TYPE_CHECKING:  # pragma: no cover
    import torch


def images_from_tensor(image: Any, what: str = "image") -> List[np.ndarray]:
    """IMAGE (B, H, W, C) float 0..1 (torch tensor or array) -> B arrays (H, W, 3) uint8 RGB.

    Raises SkelextError for an empty batch, a wrong shape or NaN/Inf values.
    """
    if image is None:
        raise SkelextError(f"{what}: no image connected")
    if hasattr(image, "detach"):  # a torch tensor, possibly on the GPU
        array = image.detach().cpu().float().numpy()
    else:
        array = np.asarray(image)
    if array.ndim == 3:  # one image without the batch axis
        array = array[None]
    if array.ndim != 4 or array.shape[-1] not in (1, 3, 4):
        raise SkelextError(f"{what}: expected an IMAGE batch of shape (B, H, W, 3), got {tuple(array.shape)}")
    if array.shape[0] == 0:
        raise SkelextError(f"{what}: empty batch (no images)")
    if array.shape[1] < 1 or array.shape[2] < 1:
        raise SkelextError(f"{what}: empty image of {array.shape[2]}x{array.shape[1]} pixels")
    if array.dtype == np.uint8:
        u8 = array
    else:
        array = array.astype(np.float32, copy=False)
        if not np.isfinite(array).all():
            raise SkelextError(f"{what}: the image holds NaN or infinite values")
        u8 = np.clip(np.rint(array * 255.0), 0, 255).astype(np.uint8)
    if u8.shape[-1] == 1:
        u8 = np.repeat(u8, 3, axis=-1)
    elif u8.shape[-1] == 4:  # alpha dropped (ComfyUI's LoadImage gives RGB + a separate MASK)
        u8 = u8[..., :3]
    return [np.ascontiguousarray(frame) for frame in u8]


def pad_to_common_size(images: Sequence[np.ndarray]) -> Tuple[List[np.ndarray], Tuple[int, int]]:
    """Images of different sizes -> the same images padded with black at the right and bottom to
    the largest (H, W), which is returned too. Points keep their pixel coordinates (top-left anchor)."""
    height = max(int(im.shape[0]) for im in images)
    width = max(int(im.shape[1]) for im in images)
    out = []
    for im in images:
        if im.shape[0] == height and im.shape[1] == width:
            out.append(im)
        else:
            canvas = np.zeros((height, width, 3), np.uint8)
            canvas[: im.shape[0], : im.shape[1]] = im
            out.append(canvas)
    return out, (height, width)


def tensor_from_images(images: Sequence[np.ndarray]) -> "torch.Tensor":
    """B arrays (H, W, 3) uint8 of one size -> IMAGE (B, H, W, 3) float32 0..1 torch tensor."""
    import torch

    if not images:
        raise SkelextError("no images to return")
    batch = np.stack([np.asarray(im, dtype=np.uint8) for im in images]).astype(np.float32) / 255.0
    return torch.from_numpy(batch)
