"""File helpers shared by the subcommands: bounded JSON reads, PNG writes, folder batches."""
from __future__ import annotations

import io
import logging
import os
import re
import sys
from pathlib import Path
from typing import Callable, List, Optional

from ..atomic import write_atomic
from ..errors import SkelextError
from ..settings import MAX_JSON_BYTES

logger = logging.getLogger("lib_skelext")



def read_json_file(path: Path) -> bytes:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise SkelextError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if not path.is_file():
        raise SkelextError(f"{path}: not a file")
    if size > MAX_JSON_BYTES:
        raise SkelextError(f"{path}: file too large ({size} bytes; at most {MAX_JSON_BYTES})")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SkelextError(f"{path}: cannot read ({exc.strerror or exc})") from None


def save_png(path: Path, image) -> None:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    write_atomic(path, buffer.getvalue())


def wrote(*paths: Path, note: str = "") -> None:
    """One line per input: the files written for it (``-q`` silences it)."""
    logger.log(WROTE, "wrote %s%s", ", ".join(str(p) for p in paths), f" ({note})" if note else "")


#: Between INFO and WARNING: shown by default, hidden by -q.
WROTE = 25
logging.addLevelName(WROTE, "WROTE")


def same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def natural_key(path: Path) -> list:
    """frame2.json before frame10.json."""
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", path.name)]


def list_files(src: Path, pattern: str) -> List[Path]:
    files = sorted((p for p in src.glob(pattern) if p.is_file()), key=natural_key)
    if not files:
        raise SkelextError(f"{src}: no {pattern} files found")
    return files


def check_output_folder(src: Path, dst: Path) -> None:
    if dst.exists() and not dst.is_dir():
        raise SkelextError(f"{dst}: the output for a folder must be a folder")
    if same_file(src, dst):
        raise SkelextError(f"{dst}: refusing to write into the input folder; choose another -o")


def run_batch(src: Path, dst: Path, pattern: str, one: Callable[[Path, Path], object], verb: str) -> int:
    """Run one(file, out_dir) over every file matching pattern; report bad ones, go on."""
    from tqdm import tqdm

    check_output_folder(src, dst)
    files = list_files(src, pattern)
    dst.mkdir(parents=True, exist_ok=True)
    failed: List[str] = []
    for path in tqdm(files, desc=verb, unit="file", disable=None, file=sys.stderr):
        try:
            one(path, dst)
        except SkelextError as exc:
            message = str(exc) if str(exc).startswith(str(path)) else f"{path}: {exc}"
            failed.append(message)
            tqdm.write(f"skelext: {message}", file=sys.stderr)
    done = len(files) - len(failed)
    logger.info("%d of %d files done -> %s", done, len(files), dst)
    if failed:
        print(f"skelext: {len(failed)} of {len(files)} files failed (the others were written to {dst})",
              file=sys.stderr)
        return 2
    return 0


def with_path(src: Path, action: Callable[[], object]) -> object:
    """Run action; a SkelextError's one line names the input file."""
    try:
        return action()
    except SkelextError as exc:
        if str(exc).startswith(str(src)):
            raise
        raise SkelextError(f"{src}: {exc}") from None


def units(value: str) -> Optional[bool]:
    return {"auto": None, "px": False, "norm": True}[value]
