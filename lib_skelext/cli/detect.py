"""``detect PHOTO|DIR -o OUT_DIR``: photos -> completed poses.

Writes per photo ``<stem>.json`` (OpenPose JSON, pixels), ``<stem>_control.png``
(the ControlNet conditioning image) and ``<stem>_overlay.png`` (the photo under
the skeleton; completed joints are rings).
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any, List

from ..atomic import write_atomic
from ..errors import SkelextError
from ..settings import add_cli_options, settings_from_args
from .files import natural_key, save_png, wrote

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
    result = process_image(image, settings, detector=detector)
    stem = photo.stem
    paths = (out_dir / f"{stem}.json", out_dir / f"{stem}_control.png", out_dir / f"{stem}_overlay.png")
    write_atomic(paths[0], result.json_text.encode("utf-8"))
    save_png(paths[1], result.control_image)
    save_png(paths[2], result.overlay())
    wrote(*paths, note=f"{len(result.frame.people)} people, {result.completed_points} points completed")
    return len(result.frame.people)


def cmd_detect(args: argparse.Namespace) -> int:
    from ..image_io import IMAGE_SUFFIXES

    src, out_dir = Path(args.input), Path(args.output)
    settings = settings_from_args(args)
    if not src.exists():
        raise SkelextError(f"{src}: no such file or folder")
    if out_dir.exists() and not out_dir.is_dir():
        raise SkelextError(f"{out_dir}: -o must be a folder")
    if args.sequence:
        from .sequence import detect_sequence

        return detect_sequence(src, out_dir, settings, args,
                               load_detector=lambda: make_detector(settings.detector, args.weights_dir))
    if src.is_dir():
        photos = sorted((p for p in src.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES),
                        key=natural_key)
        if not photos:
            raise SkelextError(f"{src}: no image files found ({', '.join(IMAGE_SUFFIXES)})")
    else:
        from ..sequence.video_io import VIDEO_SUFFIXES

        if src.suffix.lower() in VIDEO_SUFFIXES:
            raise SkelextError(f"{src} is a video: add --sequence to detect and complete its frames as one clip "
                               "(tracked, steady), or extract its frames into a folder to process them as photos")
        photos = [src]
    if len(photos) == 1 and not src.is_dir():
        from ..image_io import load_image

        image = load_image(src)  # a bad photo fails here: one line, before any model loads or prints
        out_dir.mkdir(parents=True, exist_ok=True)
        detect_one(src, out_dir, settings, make_detector(settings.detector, args.weights_dir), image)
        return 0
    out_dir.mkdir(parents=True, exist_ok=True)
    detector = make_detector(settings.detector, args.weights_dir)

    from tqdm import tqdm

    failed: List[str] = []
    for photo in tqdm(photos, desc="detecting", unit="photo", disable=None, file=sys.stderr):
        try:
            detect_one(photo, out_dir, settings, detector)
        except SkelextError as exc:
            message = str(exc) if str(exc).startswith(str(photo)) else f"{photo}: {exc}"
            failed.append(message)
            tqdm.write(f"skelext: {message}", file=sys.stderr)
    if failed:
        print(f"skelext: {len(failed)} of {len(photos)} photos failed (the others were written to {out_dir})",
              file=sys.stderr)
        return 2
    return 0


def add_commands(sub: "argparse._SubParsersAction") -> None:
    p = sub.add_parser(
        "detect",
        help="detect people in photo(s) or a video with DWPose (or BlazePose) and complete their skeletons",
        description="Detect people in a photo or a folder of photos, complete the body points cut off by "
                    "the frame or hidden, and write <stem>.json, <stem>_control.png and <stem>_overlay.png "
                    "per photo into OUT_DIR.")
    p.add_argument("input", metavar="PHOTO|DIR", help="an image file or a folder of images")
    p.add_argument("-o", "--output", metavar="OUT_DIR", required=True, help="output folder (created if needed)")
    p.add_argument("--weights-dir", metavar="DIR", default=None,
                   help="folder with yolox_l.onnx and dw-ll_ucoco_384.onnx (also env SKELEXT_DWPOSE_DIR); "
                        "downloads go there")
    add_cli_options(p, ["detector", "canvas", "resolution", "alternatives", "detection_threshold", "complete"],
                    detection_threshold="--threshold")
    p.add_argument("--sequence", action="store_true",
                   help="IN is one video: a video file (read with OpenCV) or a folder of frames in natural name "
                        "order; people are tracked and completed steadily; writes <name>.json and "
                        "<name>_control.png per frame and control.mp4")
    p.add_argument("--fps", type=float, default=None,
                   help="frame rate of control.mp4 for a folder of frames (default 30; a video keeps its own)")
    add_cli_options(p, ["sequence_mode", "smooth_detected", "bridge_gap"])
    p.set_defaults(func=cmd_detect)
