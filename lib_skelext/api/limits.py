"""Limits and the error type for inputs beyond them."""
from __future__ import annotations

from ..errors import SkelextError

PREFIX = "/skelext/v1"
MAX_BODY_BYTES = 20 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000


class TooLarge(SkelextError):
    """Input beyond a size limit (HTTP 413)."""
