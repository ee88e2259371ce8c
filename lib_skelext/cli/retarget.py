"""``retarget DRIVING -o OUT --reference REF``: a driving motion with a reference character's body.

DRIVING is a JSON file (one OpenPose frame, or a list of frames: one clip) or a folder of *.json (one
frame each, natural name order = frame order); the output has the same shape (a single frame, a list
file, or a folder with the same names). REF is a pose JSON with one person, or a photo (detected with
``--detector``). The canvas is the reference's (then ``--canvas``).
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, List, Tuple

from ..errors import SkelextError
from ..settings import RENDER_OPTIONS, add_cli_options, settings_from_args
from .files import (
    add_output_arguments, check_output_folder, list_files, png_path, read_frames, render_pngs, same_file, shown,
    with_path, write_poses, wrote,
)


def read_reference(path: Path, settings: Any, weights_dir: Any = None) -> Any:
    """A reference PoseFrame from a pose JSON or a photo (detected, not completed: retargeting does that)."""
    from ..image_io import IMAGE_SUFFIXES

    if not path.exists():
        raise SkelextError(f"{path}: no such file")
    if path.suffix.lower() in IMAGE_SUFFIXES:
        from ..detectors import get_detector
        from ..image_io import load_image
        from ..retarget import reference_from_image

        image = with_path(path, lambda: load_image(path))
        return reference_from_image(image, settings, get_detector(settings.detector, weights_dir=weights_dir))
    frames, as_list = read_frames(path, "auto")
    if as_list and len(frames) != 1:
        raise SkelextError(f"{path}: the reference must be one pose (one frame), not a list of {len(frames)}")
    return frames[0]


def _read_driving(src: Path, coords: str) -> Tuple[List[Any], str, List[Path]]:
    """(frames, shape: "one" | "list" | "folder", the folder's files)."""
    if src.is_dir():
        files = list_files(src, "*.json")
        frames = []
        for path in files:
            loaded, as_list = read_frames(path, coords)
            if as_list:
                raise SkelextError(f"{path}: holds a list of frames; in a folder each file holds one frame")
            frames.append(loaded[0])
        return frames, "folder", files
    if not src.exists():
        raise SkelextError(f"{src}: no such file or folder")
    frames, as_list = read_frames(src, coords)
    return frames, "list" if as_list else "one", []


def cmd_retarget(args: argparse.Namespace) -> int:
    from ..completion_model import load_model
    from ..retarget import retarget_poses

    src, dst = Path(args.input), Path(args.output)
    settings = settings_from_args(args)
    frames, shape, files = _read_driving(src, settings.coords)
    if shape == "folder":
        check_output_folder(src, dst)
    elif dst.is_dir():
        dst = dst / src.name
    if shape != "folder" and same_file(src, dst):
        raise SkelextError(f"{dst}: refusing to overwrite the input file; choose another -o")
    reference = read_reference(Path(args.reference), settings, args.weights_dir)
    load_model()  # a missing model file is this command's failure (exit 2); one failing on the input: exit 3
    results = retarget_poses(frames, reference, settings, fps=args.fps, on_failure="raise")
    note = f"{len(results)} frame{'s' if len(results) != 1 else ''} retargeted"
    if shape == "folder":
        dst.mkdir(parents=True, exist_ok=True)
        for path, result in zip(files, results):
            write_poses([result], dst / path.name, as_list=False, indent=args.indent)
            if args.render:
                render_pngs([result], dst / (path.stem + ".png"), False)
        wrote(dst, note=note)
        return 0
    written = [write_poses(results, dst, as_list=shape == "list", indent=args.indent)]
    png = png_path(args.render, dst)
    if png is not None:
        written += render_pngs(results, png, shape == "list")
    wrote(*shown(written), note=note)
    return 0


def add_commands(sub: "argparse._SubParsersAction") -> None:
    p = sub.add_parser("retarget", help="draw a driving motion with a reference character's body",
                       description="Retarget a driving pose or clip onto a reference character: each bone keeps "
                                   "the driving's direction and takes the reference's length (missing points of "
                                   "both are completed first: a waist-up character gets legs). DRIVING is a JSON "
                                   "file (one frame or a list of frames) or a folder of *.json frames; OUT has the "
                                   "same shape.")
    p.add_argument("input", metavar="DRIVING", help="OpenPose JSON file (a frame or a list) or folder of *.json")
    add_output_arguments(p, "output JSON file or folder",
                         "also draw the retargeted skeletons (a list: one PNG per frame; a folder: one per file)")
    p.add_argument("--reference", metavar="REF", required=True,
                   help="the character: a pose JSON with one person, or a photo (detected with --detector)")
    p.add_argument("--fps", type=float, default=None, help="the clip's frame rate (for bridge-gap; default 30)")
    p.add_argument("--weights-dir", metavar="DIR", default=None, help="DWPose files for a photo reference")
    add_cli_options(p, ["coords", "output_coords", "canvas", "fit_margin", "sequence_mode", "detector",
                        "resolution", "retarget_position", "retarget_scale", "retarget_mode", "bridge_gap",
                        *RENDER_OPTIONS])
    p.set_defaults(func=cmd_retarget)
