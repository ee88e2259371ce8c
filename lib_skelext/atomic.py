"""Atomic file writes: a temporary file in the target folder, then a rename.

A reader never sees half a file, and a failed write leaves the old file (or
nothing) in place. The result gets the usual permissions (0666 minus the
umask), not mkstemp's private 0600.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def default_file_mode() -> int:
    """0o666 minus the process umask (what open() would give a new file)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def write_atomic(path: Path, data: bytes) -> None:
    """Write data to path via a temporary file in the same folder, then os.replace."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=str(path.parent))
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, default_file_mode())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
