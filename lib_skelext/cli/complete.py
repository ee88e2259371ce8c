"""``complete`` and ``render``: OpenPose JSON file(s) -> completed JSON / drawings.

A JSON file holds one OpenPose object or a list of them (one per video frame, as
ComfyUI's ``POSE_KEYPOINT`` batches are saved); the output has the same shape.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Optional

from ..atomic import write_atomic
from ..errors import SkelextError
from ..settings import COORD_UNITS, add_cli_options, settings_from_args
from .files import read_json_file, run_batch, same_file, save_png, units, with_path, wrote


def _complete_one(src: Path, dst: Path, args: argparse.Namespace, png: Optional[Path]) -> int:
    import json

    from ..core import complete_poses
    from ..openpose_json import frames_to_json, loads_frames

    frames, as_list = loads_frames(read_json_file(src), normalized=units(args.coords))
    sequence = getattr(args, "sequence", False)
    if sequence:  # the file's list of frames is one clip: tracked, steady
        from ..sequence import complete_sequence

        if not as_list:
            raise SkelextError("--sequence needs a list of frames (one OpenPose object per video frame) or a "
                               "folder of frames; this file holds a single pose")

        results = complete_sequence(frames, settings_from_args(args), fps=args.fps)
    else:
        results = complete_poses(frames, settings_from_args(args))
    out_units = None if args.output_coords == "same" else units(args.output_coords)
    doc = frames_to_json([r.frame for r in results], as_list, normalized=out_units)
    write_atomic(dst, json.dumps(doc, indent=args.indent, allow_nan=False).encode("utf-8"))
    written = [dst]
    if png is not None:
        for i, result in enumerate(results):  # a list of frames: one PNG per frame, name_00000.png ...
            path = png.with_name(f"{png.stem}_{i:05d}.png") if as_list else png
            save_png(path, result.draw_control_image())  # drawn, saved, not kept
            written.append(path)
    completed = sum(r.completed_points for r in results)
    shown = written if len(written) <= 3 else [written[0], f"{len(written) - 1} PNGs"]
    tracks = ""
    if sequence:
        from ..sequence import count_tracks

        tracks = f"{len(results)} frames, {count_tracks(results)} tracks, "
    wrote(*shown, note=f"{tracks}{completed} points completed")
    return completed


def cmd_complete(args: argparse.Namespace) -> int:
    from ..completion_model import load_model

    src, dst = Path(args.input), Path(args.output)
    if src.exists():
        # a missing or broken model file is this command's failure (exit 2), never an uncompleted output
        # (the core's guard keeps generation going in the hosts; here nothing would say it failed)
        load_model()
    if args.sequence and src.is_dir():
        from .sequence import complete_sequence_folder

        return complete_sequence_folder(src, dst, args)
    if src.is_dir():
        return run_batch(src, dst, "*.json", lambda s, d: _complete_one(
            s, d / s.name, args, (d / (s.stem + ".png")) if args.render else None), "completing")
    if not src.exists():
        raise SkelextError(f"{src}: no such file or folder")
    if dst.is_dir():
        dst = dst / src.name
    if same_file(src, dst):
        raise SkelextError(f"{dst}: refusing to overwrite the input file; choose another -o")
    png = None
    if args.render:
        png = Path(args.render) if isinstance(args.render, str) else dst.with_suffix(".png")
    with_path(src, lambda: _complete_one(src, dst, args, png))
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    from ..core import PoseResult
    from ..openpose_json import loads_frames

    settings = settings_from_args(args)

    def one(src: Path, dst: Path) -> None:
        from ..canvas import apply_canvas_mode

        frames, as_list = loads_frames(read_json_file(src), normalized=units(args.coords))
        for i, frame in enumerate(frames):
            frame, transform = apply_canvas_mode(frame, settings.canvas, settings.fit_margin)
            path = dst.with_name(f"{dst.stem}_{i:05d}.png") if as_list else dst
            save_png(path, PoseResult(frame=frame, detected=frame, settings=settings).control_image)
        wrote(dst if not as_list else dst.with_name(f"{dst.stem}_00000.png"),
              note=f"{len(frames)} frames" if as_list else "")

    src, dst = Path(args.input), Path(args.output)
    if src.is_dir():
        return run_batch(src, dst, "*.json", lambda s, d: one(s, d / (s.stem + ".png")), "rendering")
    if not src.exists():
        raise SkelextError(f"{src}: no such file or folder")
    if dst.is_dir():
        dst = dst / (src.stem + ".png")
    if same_file(src, dst):
        raise SkelextError(f"{dst}: refusing to overwrite the input file; choose another -o")
    with_path(src, lambda: one(src, dst))
    return 0


def _add_coords(p: argparse.ArgumentParser) -> None:
    p.add_argument("--coords", choices=COORD_UNITS, default="auto",
                   help="input coordinate units: pixels, 0..1, or guess (default)")


def add_commands(sub: "argparse._SubParsersAction") -> None:
    p = sub.add_parser("complete", help="complete the missing body points of OpenPose JSON file(s)",
                       description="Complete every person's missing body points. IN is a JSON file (one "
                                   "OpenPose object, or a list of them, one per video frame) or a folder of "
                                   "*.json (batch, e.g. video frames); OUT is a file or folder.")
    p.add_argument("input", metavar="IN", help="OpenPose JSON file or folder of *.json")
    p.add_argument("-o", "--output", metavar="OUT", required=True, help="output JSON file or folder")
    p.add_argument("--render", nargs="?", const=True, default=None, metavar="PNG",
                   help="also draw the completed skeleton (file mode: to PNG, default OUT with .png; "
                        "folder mode: one PNG per JSON; a list of frames: one PNG per frame)")
    p.add_argument("--output-coords", choices=("same", "px", "norm"), default="same",
                   help="output units (default: as the input)")
    p.add_argument("--indent", type=int, default=None, help="indent the JSON output")
    _add_coords(p)
    add_cli_options(p, ["canvas", "alternatives", "fit_margin", "rewrite_scores"])
    p.add_argument("--sequence", action="store_true",
                   help="the frames are one video: IN is a folder whose *.json files, in natural name order, "
                        "are consecutive frames, or a file holding a list of frames; people are tracked "
                        "(track_id in each person's skelext key) and completed steadily over time")
    add_cli_options(p, ["sequence_mode", "smooth_detected", "bridge_gap"])
    p.add_argument("--fps", type=float, default=None,
                   help="--sequence: the clip's frame rate, for --bridge-gap in seconds (default 30)")
    p.set_defaults(func=cmd_complete)

    p = sub.add_parser("render", help="draw OpenPose JSON as ControlNet does",
                       description="Draw poses on a black canvas exactly as ControlNet's OpenPose preprocessors.")
    p.add_argument("input", metavar="IN", help="OpenPose JSON file or folder of *.json")
    p.add_argument("-o", "--output", metavar="OUT", required=True, help="output PNG file or folder")
    _add_coords(p)
    add_cli_options(p, ["canvas", "draw_hands", "draw_face", "fit_margin"],
                    draw_hands="--no-hands", draw_face="--no-face")
    p.set_defaults(func=cmd_render)
