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
from typing import Any, Callable

from ..atomic import write_atomic
from ..errors import SkelextError
from ..settings import settings_from_args
from .files import check_output_folder, list_files, read_json_file, save_png, units, with_path, wrote

logger = logging.getLogger("lib_skelext")


def _progress(items, desc: str, unit: str):
    from tqdm import tqdm

    return tqdm(items, desc=desc, unit=unit, disable=None if len(items) >= 50 else True, file=sys.stderr,
                mininterval=0.5)


def complete_sequence_folder(src: Path, dst: Path, args: argparse.Namespace) -> int:
    """``complete FOLDER --sequence``: read every frame, complete the clip, write every frame (same names).
    (A single file holding a list of frames goes through ``complete._complete_one``.)"""
    from ..openpose_json import frames_to_json, loads_frames
    from ..sequence import complete_sequence, count_tracks

    settings = settings_from_args(args)
    coords = units(args.coords)
    out_units = None if args.output_coords == "same" else units(args.output_coords)
    check_output_folder(src, dst)
    files = list_files(src, "*.json")
    frames = []
    for path in _progress(files, "reading", "frame"):
        loaded, as_list = with_path(path, lambda: loads_frames(read_json_file(path), normalized=coords))
        if as_list:
            raise SkelextError(f"{path}: holds a list of frames; with --sequence and a folder, "
                               "each file holds one frame (or give the list file itself as IN)")
        frames.append(loaded[0])
    results = with_path(src, lambda: complete_sequence(frames, settings, fps=args.fps))
    dst.mkdir(parents=True, exist_ok=True)
    for path, result in zip(_progress(files, "writing", "frame"), results):
        doc = frames_to_json([result.frame], False, normalized=out_units)
        write_atomic(dst / path.name, json.dumps(doc, indent=args.indent, allow_nan=False).encode("utf-8"))
        written = [dst / path.name]
        if args.render:
            save_png(dst / (path.stem + ".png"), result.draw_control_image())  # not kept for the whole clip
            written.append(dst / (path.stem + ".png"))
        wrote(*written, note=_note(result))
    logger.info("%d frames, %d tracks, %d points completed -> %s", len(results), count_tracks(results),
                sum(r.completed_points for r in results), dst)
    return 0


def _note(result) -> str:
    people = len(result.frame.people)
    return f"{people} {'person' if people == 1 else 'people'}, {result.completed_points} points completed"


def detect_sequence(src: Path, out_dir: Path, settings, args: argparse.Namespace,
                    load_detector: Callable[[], Any]) -> int:
    """The ``detect --sequence`` command: a video file or a folder of frames -> per-frame JSON and
    control PNGs plus ``control.mp4``. load_detector: called once the input was found readable."""
    from ..image_io import IMAGE_SUFFIXES, load_image
    from ..sequence import complete_sequence, count_tracks
    from ..sequence.video_io import DEFAULT_FPS, frame_names, probe_video, read_video, write_video
    from .files import natural_key

    if src.is_dir():
        paths = sorted((p for p in src.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES),
                       key=natural_key)
        if not paths:
            raise SkelextError(f"{src}: no image files found ({', '.join(IMAGE_SUFFIXES)})")
        names = [p.stem for p in paths]
        fps = args.fps or DEFAULT_FPS
        images = (with_path(p, lambda p=p: load_image(p)) for p in paths)
    else:
        if src.suffix.lower() in IMAGE_SUFFIXES:
            raise SkelextError(f"{src}: --sequence needs a video file or a folder of frames, not one photo")
        fps, count, _, _ = probe_video(src)  # an unreadable video fails here, before any model loads
        names = frame_names(count or 1, src.stem)
        fps = args.fps or fps
        images = read_video(src)
    out_dir.mkdir(parents=True, exist_ok=True)
    frames = detect_clip(images, settings, load_detector(), total=len(names))
    if len(names) < len(frames):  # the container under-reported its frame count
        names = frame_names(len(frames), src.stem)
    names = names[:len(frames)]
    results = with_path(src, lambda: complete_sequence(frames, settings, fps=fps))

    def controls():  # one frame at a time: a long video's control images never sit in memory together
        for name, result in zip(_progress(names, "writing", "frame"), results):
            write_atomic(out_dir / f"{name}.json", result.json_text.encode("utf-8"))
            image = result.draw_control_image()
            save_png(out_dir / f"{name}_control.png", image)
            wrote(out_dir / f"{name}.json", out_dir / f"{name}_control.png", note=_note(result))
            yield image

    count = write_video(out_dir / "control.mp4", controls(), fps)
    wrote(out_dir / "control.mp4", note=f"{count} frames at {fps:g} fps")
    logger.info("%s: %d frames, %d tracks, %d points completed -> %s", src.name, len(results),
                count_tracks(results),
                sum(r.completed_points for r in results), out_dir)
    return 0


def detect_clip(images, settings, detector, total: int = 0) -> list:
    """One clip's frames, in order -> detected frames (not completed): the detector in its tracking mode
    where it has one (BlazePose), at the hysteresis' lower threshold (``sequence.continuity``)."""
    from ..core import process_image
    from ..detectors import video_detector
    from ..sequence.continuity import HYSTERESIS_LOW

    plain = settings.replace(complete=False, canvas="keep",
                             detection_threshold=settings.detection_threshold * HYSTERESIS_LOW)
    with video_detector(detector) as tracking:
        return [process_image(image, plain, detector=tracking, draw=False).frame
                for image in _count(images, total)]


def _count(images, total: int):
    """tqdm over a video's frames (total: the container's frame count, may be 0)."""
    from tqdm import tqdm

    return tqdm(images, desc="detecting", unit="frame", total=total or None, file=sys.stderr,
                disable=None if total >= 50 else True, mininterval=0.5)
