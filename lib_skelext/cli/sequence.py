"""``complete --sequence`` and ``detect --sequence``: one video's frames in, steady tracked poses out.

complete: IN is a folder of OpenPose JSON files (natural name order = frame order; one frame
per file; the output folder gets the same names) or one file holding a list of frames.
detect: IN is a video file (read with OpenCV) or a folder of images (natural order); OUT_DIR
gets ``<name>.json`` and ``<name>_control.png`` per frame and ``control.mp4`` (the control
images at the source's frame rate). A bad frame stops the run with one line naming it:
a sequence with a hole in it would be tracked wrongly.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import List

from ..atomic import write_atomic
from ..errors import SkelextError
from ..settings import settings_from_args
from .files import check_output_folder, list_files, read_json_file, same_file, save_png, units, with_path, wrote

logger = logging.getLogger("lib_skelext")


def _progress(items, desc: str, unit: str):
    from tqdm import tqdm

    return tqdm(items, desc=desc, unit=unit, disable=None if len(items) >= 50 else True, file=sys.stderr,
                mininterval=0.5)


def complete_sequence_files(src: Path, dst: Path, args: argparse.Namespace) -> int:
    """The ``complete --sequence`` command: read every frame, complete the clip, write every frame."""
    from ..openpose_json import frames_to_json, loads_frames
    from ..sequence import complete_sequence

    settings = settings_from_args(args)
    coords = units(args.coords)
    out_units = None if args.output_coords == "same" else units(args.output_coords)
    if src.is_dir():
        check_output_folder(src, dst)
        files = list_files(src, "*.json")
        frames = []
        for path in _progress(files, "reading", "frame"):
            loaded, as_list = with_path(path, lambda: loads_frames(read_json_file(path), normalized=coords))
            if as_list:
                raise SkelextError(f"{path}: holds a list of frames; with --sequence and a folder, "
                                   "each file holds one frame (or give the list file itself as IN)")
            frames.append(loaded[0])
        results = with_path(src, lambda: complete_sequence(frames, settings))
        dst.mkdir(parents=True, exist_ok=True)
        for path, result in zip(_progress(files, "writing", "frame"), results):
            doc = frames_to_json([result.frame], False, normalized=out_units)
            write_atomic(dst / path.name, json.dumps(doc, indent=args.indent, allow_nan=False).encode("utf-8"))
            wrote(dst / path.name)
            if args.render:
                save_png(dst / (path.stem + ".png"), result.control_image)
                wrote(dst / (path.stem + ".png"))
        logger.info("%d frames, %d tracks, %d points completed -> %s", len(results), _tracks(results),
                    sum(r.completed_points for r in results), dst)
        return 0
    if not src.exists():
        raise SkelextError(f"{src}: no such file or folder")
    if dst.is_dir():
        dst = dst / src.name
    if same_file(src, dst):
        raise SkelextError(f"{dst}: refusing to overwrite the input file; choose another -o")
    frames, as_list = with_path(src, lambda: loads_frames(read_json_file(src), normalized=coords))
    results = with_path(src, lambda: complete_sequence(frames, settings))
    doc = frames_to_json([r.frame for r in results], as_list, normalized=out_units)
    write_atomic(dst, json.dumps(doc, indent=args.indent, allow_nan=False).encode("utf-8"))
    wrote(dst)
    if args.render:
        png = Path(args.render) if isinstance(args.render, str) else dst.with_suffix(".png")
        for i, result in enumerate(results):
            path = png.with_name(f"{png.stem}_{i:05d}.png") if as_list else png
            save_png(path, result.control_image)
            wrote(path)
    return 0


def _tracks(results: List) -> int:
    ids = {p.extra.get("skelext", {}).get("track_id") for r in results for p in r.frame.people}
    return len(ids - {None})
