"""``complete`` and ``render``: OpenPose JSON file(s) -> completed JSON / drawings.

A JSON file holds one OpenPose object or a list of them (one per video frame, as ComfyUI's
``POSE_KEYPOINT`` batches are saved); the output has the same shape. A folder of ``*.json`` is a
batch (one frame per file, the same names out); with ``--sequence`` it is one video (natural name
order = frame order). Parse, call the core (``core.complete_poses`` / ``core.render_poses``), write.
"""
from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import List

from ..errors import SkelextError
from ..settings import RENDER_OPTIONS, add_cli_options, add_legacy_sequence_mode, settings_from_args
from .files import (
    add_output_arguments, list_files, people_note, png_path, read_frames, render_pngs, run_batch, same_file, shown,
    with_path, write_poses, wrote,
)

logger = logging.getLogger("lib_skelext")


def _note(results: list, settings) -> str:
    completed = sum(r.completed_points for r in results)
    if settings.sequence == "off":
        return f"{completed} points completed"
    from ..sequence import count_tracks

    return f"{len(results)} frames, {count_tracks(results)} tracks, {completed} points completed"


def _complete(frames: list, settings, args: argparse.Namespace) -> list:
    from ..core import complete_poses

    return complete_poses(frames, settings, fps=args.fps, on_failure="raise")


def _complete_file(src: Path, dst: Path, args: argparse.Namespace, png) -> None:
    settings = settings_from_args(args)
    frames, as_list = read_frames(src, settings.coords)
    if settings.sequence != "off" and not as_list:
        raise SkelextError("--sequence needs a list of frames (one OpenPose object per video frame) or a "
                           "folder of frames; this file holds a single pose")
    results = with_path(src, lambda: _complete(frames, settings, args))
    written = [write_poses(results, dst, as_list=as_list, indent=args.indent)]
    if png is not None:
        written += render_pngs(results, png, as_list)
    wrote(*shown(written), note=_note(results, settings))


def _complete_clip_folder(src: Path, dst: Path, args: argparse.Namespace) -> int:
    """A folder whose files are one video's frames: read every frame, complete the clip, write every
    frame under its name."""
    from .files import check_output_folder

    settings = settings_from_args(args)
    check_output_folder(src, dst)
    files = list_files(src, "*.json")
    frames = []
    for path in files:
        loaded, as_list = read_frames(path, settings.coords)
        if as_list:
            raise SkelextError(f"{path}: holds a list of frames; with --sequence and a folder, "
                               "each file holds one frame (or give the list file itself as IN)")
        frames.append(loaded[0])
    results = with_path(src, lambda: _complete(frames, settings, args))
    dst.mkdir(parents=True, exist_ok=True)
    for path, result in zip(files, results):
        written: List[Path] = [write_poses([result], dst / path.name, as_list=False, indent=args.indent)]
        if args.render:
            written += render_pngs([result], dst / (path.stem + ".png"), False)
        wrote(*written, note=people_note(result))
    logger.info("%s -> %s", _note(results, settings), dst)
    return 0


def cmd_complete(args: argparse.Namespace) -> int:
    from ..completion_model import load_model

    src, dst = Path(args.input), Path(args.output)
    settings = settings_from_args(args)  # bad option values fail here, before any file is read
    if src.exists():
        # a missing or broken model file is this command's failure (exit 2, one line), found before any
        # file is read; a model that fails on the input is exit 3 (``CompletionFailed``)
        load_model()
    if src.is_dir():
        if settings.sequence != "off":
            return _complete_clip_folder(src, dst, args)
        return run_batch(src, dst, list_files(src, "*.json"), lambda s, d: _complete_file(
            s, d / s.name, args, (d / (s.stem + ".png")) if args.render else None), "completing")
    if not src.exists():
        raise SkelextError(f"{src}: no such file or folder")
    if dst.is_dir():
        dst = dst / src.name
    if same_file(src, dst):
        raise SkelextError(f"{dst}: refusing to overwrite the input file; choose another -o")
    with_path(src, lambda: _complete_file(src, dst, args, png_path(args.render, dst)))
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    from ..core import render_poses

    settings = settings_from_args(args)

    def one(src: Path, dst: Path) -> None:
        frames, as_list = read_frames(src, settings.coords)
        written = render_pngs(render_poses(frames, settings), dst, as_list)
        wrote(written[0], note=f"{len(frames)} frames" if as_list else "")

    src, dst = Path(args.input), Path(args.output)
    if src.is_dir():
        return run_batch(src, dst, list_files(src, "*.json"), lambda s, d: one(s, d / (s.stem + ".png")),
                         "rendering")
    if not src.exists():
        raise SkelextError(f"{src}: no such file or folder")
    if dst.is_dir():
        dst = dst / (src.stem + ".png")
    if same_file(src, dst):
        raise SkelextError(f"{dst}: refusing to overwrite the input file; choose another -o")
    with_path(src, lambda: one(src, dst))
    return 0


def add_commands(sub: "argparse._SubParsersAction") -> None:
    p = sub.add_parser("complete", help="complete the missing body points of OpenPose JSON file(s)",
                       description="Complete every person's missing body points. IN is a JSON file (one "
                                   "OpenPose object, or a list of them, one per video frame) or a folder of "
                                   "*.json (batch, e.g. video frames); OUT is a file or folder. Exit codes: 0 "
                                   "done, 2 bad input, 3 the completion model failed.")
    p.add_argument("input", metavar="IN", help="OpenPose JSON file or folder of *.json")
    add_output_arguments(p, "output JSON file or folder",
                         "also draw the completed skeleton (file mode: to PNG, default OUT with .png; "
                         "folder mode: one PNG per JSON; a list of frames: one PNG per frame)")
    add_cli_options(p, ["coords", "output_coords", "canvas", "alternatives", "fit_margin", "rewrite_scores",
                        "sequence", "smooth_detected", "bridge_gap", *RENDER_OPTIONS])
    add_legacy_sequence_mode(p)
    p.add_argument("--fps", type=float, default=None,
                   help="--sequence: the clip's frame rate, for --bridge-gap in seconds (default 30)")
    p.set_defaults(func=cmd_complete)

    p = sub.add_parser("render", help="draw OpenPose JSON as ControlNet does",
                       description="Draw poses on a black canvas exactly as ControlNet's OpenPose preprocessors.")
    p.add_argument("input", metavar="IN", help="OpenPose JSON file or folder of *.json")
    p.add_argument("-o", "--output", metavar="OUT", required=True, help="output PNG file or folder")
    add_cli_options(p, ["coords", "canvas", "fit_margin", *RENDER_OPTIONS])
    p.set_defaults(func=cmd_render)
