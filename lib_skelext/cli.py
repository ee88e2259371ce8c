"""Command line: ``python -m lib_skelext <command> ...``.

Exit codes: 0 success, 2 bad input (one line on stderr, never a traceback),
130 interrupted. Batch runs over a folder report each bad file, complete the
good ones and exit 2 at the end if any file failed.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Callable, List, Optional, Sequence

from . import __version__
from .atomic import write_atomic
from .errors import SkelextError
from .settings import CANVAS_MODES, MAX_ALTERNATIVES

logger = logging.getLogger("lib_skelext")

#: Batch inputs larger than this are refused (a pose JSON is a few kB).
MAX_JSON_BYTES = 50 * 1024 * 1024


# ---------------------------------------------------------------- file helpers
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
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    write_atomic(path, buffer.getvalue())


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _units(value: str) -> Optional[bool]:
    return {"auto": None, "px": False, "norm": True}[value]


# -------------------------------------------------------------------- complete
def _complete_one(src: Path, dst: Path, args: argparse.Namespace, png: Optional[Path]) -> int:
    from .canvas import apply_canvas_mode
    from .complete import complete_frame
    from .openpose_json import dumps_frame, loads_frame

    frame = loads_frame(read_json_file(src), normalized=_units(args.coords))
    completed = complete_frame(frame, alternatives=args.alternatives)
    completed, _ = apply_canvas_mode(completed, args.canvas)
    out_units = None if args.output_coords == "same" else _units(args.output_coords)
    write_atomic(dst, dumps_frame(completed, normalized=out_units, indent=args.indent).encode("utf-8"))
    if png is not None:
        from .render import render_frame

        save_png(png, render_frame(completed))
    return sum(int(p.completed.sum()) for p in completed.people)


def cmd_complete(args: argparse.Namespace) -> int:
    src, dst = Path(args.input), Path(args.output)
    if src.is_dir():
        return _batch(src, dst, "*.json", lambda s, d: _complete_one(
            s, d / s.name, args, (d / (s.stem + ".png")) if args.render else None), "completing")
    if not src.exists():
        raise SkelextError(f"{src}: no such file or folder")
    if dst.is_dir():
        dst = dst / src.name
    if _same_file(src, dst):
        raise SkelextError(f"{dst}: refusing to overwrite the input file; choose another -o")
    png = None
    if args.render:
        png = Path(args.render) if isinstance(args.render, str) else dst.with_suffix(".png")
    filled = _with_path(src, lambda: _complete_one(src, dst, args, png))
    logger.info("completed %d points -> %s", filled, dst)
    return 0


def _batch(src: Path, dst: Path, pattern: str, one: Callable[[Path, Path], object], verb: str) -> int:
    """Run one(file, out_dir) over every file matching pattern; report bad ones, go on."""
    from tqdm import tqdm

    if dst.exists() and not dst.is_dir():
        raise SkelextError(f"{dst}: the output for a folder must be a folder")
    if _same_file(src, dst):
        raise SkelextError(f"{dst}: refusing to write into the input folder; choose another -o")
    files = sorted(p for p in src.glob(pattern) if p.is_file())
    if not files:
        raise SkelextError(f"{src}: no {pattern} files found")
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


# ---------------------------------------------------------------------- render
def cmd_render(args: argparse.Namespace) -> int:
    from .openpose_json import loads_frame
    from .render import render_frame

    def one(src: Path, dst: Path) -> None:
        frame = loads_frame(read_json_file(src), normalized=_units(args.coords))
        if args.canvas != "keep":
            from .canvas import apply_canvas_mode

            frame, _ = apply_canvas_mode(frame, args.canvas)
        save_png(dst, render_frame(frame, draw_hands=not args.no_hands, draw_face=not args.no_face))

    src, dst = Path(args.input), Path(args.output)
    if src.is_dir():
        return _batch(src, dst, "*.json", lambda s, d: one(s, d / (s.stem + ".png")), "rendering")
    if not src.exists():
        raise SkelextError(f"{src}: no such file or folder")
    if dst.is_dir():
        dst = dst / (src.stem + ".png")
    if _same_file(src, dst):
        raise SkelextError(f"{dst}: refusing to overwrite the input file; choose another -o")
    _with_path(src, lambda: one(src, dst))
    return 0


def _with_path(src: Path, action: Callable[[], object]) -> object:
    """Run action; a SkelextError's one line names the input file."""
    try:
        return action()
    except SkelextError as exc:
        if str(exc).startswith(str(src)):
            raise
        raise SkelextError(f"{src}: {exc}") from None


# ---------------------------------------------------------------------- parser
def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--coords", choices=("auto", "px", "norm"), default="auto",
                   help="input coordinate units: pixels, 0..1, or guess (default)")
    p.add_argument("--canvas", choices=CANVAS_MODES, default="keep",
                   help="keep: same canvas, off-frame points kept in the JSON; fit: scale people to fit; "
                        "expand: grow the canvas to hold every point (default: keep)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lib_skelext",
        description="Complete partial OpenPose skeletons (people cut by the frame or occluded).")
    parser.add_argument("--version", action="version", version=f"skelext {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress and model loading")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("complete", help="complete the missing body points of OpenPose JSON file(s)",
                       description="Complete every person's missing body points. IN is a JSON file or a "
                                   "folder of *.json (batch, e.g. video frames); OUT is a file or folder.")
    p.add_argument("input", metavar="IN", help="OpenPose JSON file or folder of *.json")
    p.add_argument("-o", "--output", metavar="OUT", required=True, help="output JSON file or folder")
    p.add_argument("--render", nargs="?", const=True, default=None, metavar="PNG",
                   help="also draw the completed skeleton (file mode: to PNG, default OUT with .png; "
                        "folder mode: one PNG per JSON)")
    p.add_argument("--alternatives", type=int, default=1, metavar="K",
                   help=f"also record K-1 further ranked completions per person (1..{MAX_ALTERNATIVES})")
    p.add_argument("--output-coords", choices=("same", "px", "norm"), default="same",
                   help="output units (default: as the input)")
    p.add_argument("--indent", type=int, default=None, help="indent the JSON output")
    _add_common(p)
    p.set_defaults(func=cmd_complete)

    p = sub.add_parser("render", help="draw OpenPose JSON as ControlNet does",
                       description="Draw poses on a black canvas exactly as ControlNet's OpenPose preprocessors.")
    p.add_argument("input", metavar="IN", help="OpenPose JSON file or folder of *.json")
    p.add_argument("-o", "--output", metavar="OUT", required=True, help="output PNG file or folder")
    p.add_argument("--no-hands", action="store_true", help="do not draw hands")
    p.add_argument("--no-face", action="store_true", help="do not draw the face")
    _add_common(p)
    p.set_defaults(func=cmd_render)

    for register in _EXTRA_COMMANDS:
        register(sub)
    return parser


#: Functions adding further subcommands (detect, serve, ui); each takes the subparsers object.
_EXTRA_COMMANDS: List[Callable[[argparse._SubParsersAction], None]] = []


def _add_detect(sub: argparse._SubParsersAction) -> None:
    from .cli_detect import add_detect_command

    add_detect_command(sub)


_EXTRA_COMMANDS.append(_add_detect)


def _add_serve(sub: argparse._SubParsersAction) -> None:
    from .api import add_serve_command

    add_serve_command(sub)


_EXTRA_COMMANDS.append(_add_serve)


def _add_ui(sub: argparse._SubParsersAction) -> None:
    from .ui import add_ui_command

    add_ui_command(sub)


_EXTRA_COMMANDS.append(_add_ui)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: usage errors exit 2 with one usage line
        return int(exc.code or 0)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("skelext: %(message)s"))
    root = logging.getLogger("lib_skelext")
    root.addHandler(handler)
    root.setLevel(logging.INFO if args.verbose else logging.WARNING)
    try:
        if hasattr(args, "alternatives"):
            from .settings import validate_alternatives

            validate_alternatives(args.alternatives)
        return int(args.func(args) or 0)
    except SkelextError as exc:
        print(f"skelext: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"skelext: {exc.filename or ''}: {exc.strerror or exc}".replace(": : ", ": "), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("skelext: interrupted", file=sys.stderr)
        return 130
    finally:
        root.removeHandler(handler)
