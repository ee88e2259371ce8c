"""``detect PHOTO|DIR|VIDEO -o OUT_DIR``: photos -> completed poses; a video -> a steady clip.

Photos: per photo ``<stem>.json`` (OpenPose JSON), ``<stem>_control.png`` (the ControlNet
conditioning image) and ``<stem>_overlay.png`` (the photo under the skeleton; completed joints are
rings). ``--sequence``: IN is one video (a video file or a folder of frames, ``cli.video``).
Parse, call the core (``core.process_image`` / ``process_images``), write.
"""
from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any, List

from ..atomic import write_atomic
from ..errors import SkelextError
from ..settings import RENDER_OPTIONS, add_cli_options, add_legacy_sequence_mode, settings_from_args
from .files import image_files, people_note, run_batch, save_png, wrote

logger = logging.getLogger("lib_skelext")


def make_detector(name: str, weights_dir: Any = None) -> Any:
    """The registry's detector, loaded now (fails once, up front, when weights are missing)."""
    from ..detectors import get_detector

    return get_detector(name, weights_dir=weights_dir)


def detect_one(photo: Path, out_dir: Path, settings: Any, detector: Any, image: Any = None) -> int:
    """Process one photo (``image``: its pixels, when already read); returns the number of people written."""
    from ..core import process_image
    from ..image_io import load_image

    if image is None:
        image = load_image(photo)
    result = process_image(image, settings, detector=detector, on_failure="raise")
    stem = photo.stem
    paths = (out_dir / f"{stem}.json", out_dir / f"{stem}_control.png", out_dir / f"{stem}_overlay.png")
    write_atomic(paths[0], result.json_text.encode("utf-8"))
    save_png(paths[1], result.control_image)
    save_png(paths[2], result.overlay())
    wrote(*paths, note=people_note(result))
    return len(result.frame.people)


def cmd_detect(args: argparse.Namespace) -> int:
    src, out_dir = Path(args.input), Path(args.output)
    settings = settings_from_args(args)
    if not src.exists():
        raise SkelextError(f"{src}: no such file or folder")
    if out_dir.exists() and not out_dir.is_dir():
        raise SkelextError(f"{out_dir}: -o must be a folder")
    if settings.complete:  # a missing model file: exit 2 now, before any detection runs
        from ..completion_model import load_model

        load_model()
    if settings.sequence != "off":
        from .video import detect_video

        return detect_video(src, out_dir, settings, args,
                            load_detector=lambda: make_detector(settings.detector, args.weights_dir))
    if not src.is_dir():
        from ..image_io import load_image
        from ..sequence.video_io import VIDEO_SUFFIXES

        if src.suffix.lower() in VIDEO_SUFFIXES:
            raise SkelextError(f"{src} is a video: add --sequence to detect and complete its frames as one clip "
                               "(tracked, steady), or extract its frames into a folder to process them as photos")
        image = load_image(src)  # a bad photo fails here: one line, before any model loads or prints
        out_dir.mkdir(parents=True, exist_ok=True)
        detect_one(src, out_dir, settings, make_detector(settings.detector, args.weights_dir), image)
        return 0
    photos = image_files(src)
    detector = make_detector(settings.detector, args.weights_dir)
    return run_batch(src, out_dir, photos, lambda photo, dst: detect_one(photo, dst, settings, detector),
                     "detecting", unit="photo")


def add_commands(sub: "argparse._SubParsersAction") -> None:
    p = sub.add_parser(
        "detect",
        help="detect people in photo(s) or a video with DWPose (or BlazePose) and complete their skeletons",
        description="Detect people in a photo or a folder of photos, complete the body points cut off by "
                    "the frame or hidden, and write <stem>.json, <stem>_control.png and <stem>_overlay.png "
                    "per photo into OUT_DIR. With --sequence, IN is one video (a video file or a folder of "
                    "frames). Exit codes: 0 done, 2 bad input, 3 the completion model failed.")
    p.add_argument("input", metavar="PHOTO|DIR|VIDEO", help="an image file, a folder of images, or (--sequence) "
                                                            "a video file or a folder of frames")
    p.add_argument("-o", "--output", metavar="OUT_DIR", required=True, help="output folder (created if needed)")
    p.add_argument("--weights-dir", metavar="DIR", default=None,
                   help="folder with yolox_l.onnx and dw-ll_ucoco_384.onnx (also env SKELEXT_DWPOSE_DIR); "
                        "downloads go there")
    add_cli_options(p, ["detector", "canvas", "resolution", "alternatives", "detection_threshold", "complete",
                        "fit_margin", "output_coords", *RENDER_OPTIONS, "sequence", "smooth_detected",
                        "bridge_gap"])
    add_legacy_sequence_mode(p)
    p.add_argument("--fps", type=float, default=None,
                   help="--sequence: the frame rate of a folder of frames (default 30; a video keeps its own)")
    p.set_defaults(func=cmd_detect)
