"""File helpers shared by the subcommands: bounded JSON reads, pose and PNG writes, folder batches."""
from __future__ import annotations

import io
import logging
import os
import re
import sys
from pathlib import Path
from typing import Any, Callable, List, Optional, Sequence, Tuple

from ..atomic import write_atomic
from ..errors import CompletionFailed, SkelextError
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


def run_batch(src: Path, dst: Path, files: Sequence[Path], one: Callable[[Path, Path], object], verb: str,
              unit: str = "file") -> int:
    """Run one(file, dst) over files (found in the folder src); report bad ones, go on.
    A completion failure (``CompletionFailed``, exit 3) stops the run: it would fail every file."""
    from tqdm import tqdm

    check_output_folder(src, dst)
    dst.mkdir(parents=True, exist_ok=True)
    failed: List[str] = []
    for path in tqdm(files, desc=verb, unit=unit, disable=None, file=sys.stderr):
        try:
            one(path, dst)
        except CompletionFailed:
            raise
        except SkelextError as exc:
            message = str(exc) if str(exc).startswith(str(path)) else f"{path}: {exc}"
            failed.append(message)
            tqdm.write(f"skelext: {message}", file=sys.stderr)
    done = len(files) - len(failed)
    logger.info("%d of %d %ss done -> %s", done, len(files), unit, dst)
    if failed:
        print(f"skelext: {len(failed)} of {len(files)} {unit}s failed (the others were written to {dst})",
              file=sys.stderr)
        return 2
    return 0


def with_path(src: Path, action: Callable[[], object]) -> object:
    """Run action; a SkelextError's one line names the input file (same type: exit codes hold)."""
    try:
        return action()
    except SkelextError as exc:
        if str(exc).startswith(str(src)):
            raise
        raise type(exc)(f"{src}: {exc}") from exc.__cause__


def read_frames(path: Path, coords: str) -> Tuple[list, bool]:
    """A pose JSON file -> (PoseFrames in pixels, was a list); errors name the file."""
    from ..openpose_json import loads_frames, normalized_flag

    return with_path(path, lambda: loads_frames(read_json_file(path), normalized=normalized_flag(coords)))


def write_poses(results: Sequence[Any], dst: Path, *, as_list: bool, indent: Optional[int] = None) -> Path:
    """The results' poses as one JSON file (a list, or the one object), in ``settings.output_coords``."""
    import json

    from ..result import results_to_json

    write_atomic(dst, json.dumps(results_to_json(results, as_list), indent=indent, allow_nan=False).encode("utf-8"))
    return dst


def render_pngs(results: Sequence[Any], png: Path, as_list: bool) -> List[Path]:
    """One control image per result: ``png``, or ``<stem>_00000.png``... for a list (drawn, saved, not kept)."""
    paths = []
    for i, result in enumerate(results):
        path = png.with_name(f"{png.stem}_{i:05d}.png") if as_list else png
        save_png(path, result.draw_control_image())
        paths.append(path)
    return paths


def png_path(render: Any, dst: Path) -> Optional[Path]:
    """``--render`` (absent, bare, or a PNG path) -> where the drawing of output ``dst`` goes."""
    if not render:
        return None
    return Path(render) if isinstance(render, str) else dst.with_suffix(".png")


def shown(written: Sequence[Path]) -> list:
    """The files a ``wrote`` line names (a long list of PNGs is counted)."""
    return list(written) if len(written) <= 3 else [written[0], f"{len(written) - 1} PNGs"]


def image_files(src: Path) -> List[Path]:
    """The images of a folder, in natural name order (frame2 before frame10)."""
    from ..image_io import IMAGE_SUFFIXES

    paths = sorted((p for p in src.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES),
                   key=natural_key)
    if not paths:
        raise SkelextError(f"{src}: no image files found ({', '.join(IMAGE_SUFFIXES)})")
    return paths


def people_note(result: Any) -> str:
    """``wrote`` line's note for one image or frame."""
    people = len(result.frame.people)
    return f"{people} {'person' if people == 1 else 'people'}, {result.completed_points} points completed"


def add_output_arguments(parser: Any, output_help: str, render_help: str) -> None:
    """``-o/--output``, ``--render [PNG]`` and ``--indent`` of the commands that write pose JSON."""
    parser.add_argument("-o", "--output", metavar="OUT", required=True, help=output_help)
    parser.add_argument("--render", nargs="?", const=True, default=None, metavar="PNG", help=render_help)
    parser.add_argument("--indent", type=int, default=None, help="indent the JSON output")
