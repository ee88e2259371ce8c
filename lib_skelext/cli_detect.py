"""``python -m lib_skelext detect PHOTO|DIR -o OUT_DIR``: photos -> completed poses.

Writes per photo ``<stem>.json`` (OpenPose JSON, pixels), ``<stem>_control.png``
(the ControlNet conditioning image) and ``<stem>_overlay.png`` (the photo under
the skeleton; completed joints are rings). Registered into ``cli`` through
its ``_EXTRA_COMMANDS`` hook; only stdlib is imported at module level.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any, List

from .errors import SkelextError

logger = logging.getLogger("lib_skelext")


def make_detector(name: str, weights_dir: Any = None) -> Any:
    """A loaded detector for the CLI (fails once, up front, when weights are missing)."""
    if name == "blazepose":
        from .blazepose import BlazePoseDetector

        return BlazePoseDetector().load()
    from .dwpose import DWPoseDetector

    return DWPoseDetector(weights_dir=weights_dir).load()


def detect_one(photo: Path, out_dir: Path, settings: Any, detector: Any, image: Any = None) -> int:
    """Process one photo (``image``: its pixels, when already read); returns the number of people written."""
    from .cli import save_png, write_atomic
    from .image_io import load_image
    from .pipeline import run_dwpose_full

    if image is None:
        image = load_image(photo)
    result = run_dwpose_full(image, settings, detector=detector)
    stem = photo.stem
    write_atomic(out_dir / f"{stem}.json", result.json_text.encode("utf-8"))
    save_png(out_dir / f"{stem}_control.png", result.control_image)
    save_png(out_dir / f"{stem}_overlay.png", result.overlay())
    completed = sum(int(p.completed.sum()) for p in result.frame.people)
    logger.info("%s: %d people, %d points completed -> %s", photo.name, len(result.frame.people), completed,
                out_dir)
    return len(result.frame.people)


def cmd_detect(args: argparse.Namespace) -> int:
    from .image_io import IMAGE_SUFFIXES
    from .settings import PipelineSettings

    src, out_dir = Path(args.input), Path(args.output)
    settings = PipelineSettings(resolution=args.resolution, canvas=args.canvas, detector=args.detector,
                                detection_threshold=args.threshold, alternatives=args.alternatives,
                                complete=not args.no_complete)
    if not src.exists():
        raise SkelextError(f"{src}: no such file or folder")
    if out_dir.exists() and not out_dir.is_dir():
        raise SkelextError(f"{out_dir}: -o must be a folder")
    if src.is_dir():
        photos = sorted(p for p in src.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        if not photos:
            raise SkelextError(f"{src}: no image files found ({', '.join(IMAGE_SUFFIXES)})")
    else:
        photos = [src]
    if len(photos) == 1 and not src.is_dir():
        from .image_io import load_image

        image = load_image(src)  # a bad photo fails here: one line, before any model loads or prints
        out_dir.mkdir(parents=True, exist_ok=True)
        detect_one(src, out_dir, settings, make_detector(args.detector, args.weights_dir), image)
        return 0
    out_dir.mkdir(parents=True, exist_ok=True)
    detector = make_detector(args.detector, args.weights_dir)

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


def add_detect_command(sub: "argparse._SubParsersAction") -> None:
    from .settings import CANVAS_MODES, DEFAULT_RESOLUTION, DETECTORS, MAX_ALTERNATIVES

    p = sub.add_parser(
        "detect", help="detect people in photo(s) with DWPose (or BlazePose) and complete their skeletons",
        description="Detect people in a photo or a folder of photos, complete the body points cut off by "
                    "the frame or hidden, and write <stem>.json, <stem>_control.png and <stem>_overlay.png "
                    "per photo into OUT_DIR.")
    p.add_argument("input", metavar="PHOTO|DIR", help="an image file or a folder of images")
    p.add_argument("-o", "--output", metavar="OUT_DIR", required=True, help="output folder (created if needed)")
    p.add_argument("--detector", choices=DETECTORS, default="dwpose",
                   help="dwpose (ONNX weights, found or downloaded once) or blazepose (mediapipe, one person, "
                        "offline); default dwpose")
    p.add_argument("--canvas", choices=CANVAS_MODES, default="keep",
                   help="keep: off-frame points stay in the JSON; fit: scale people into the frame; "
                        "expand: grow the canvas (default keep)")
    p.add_argument("--resolution", type=int, default=DEFAULT_RESOLUTION, metavar="N",
                   help=f"short side in pixels before detection, as ControlNet's slider (default {DEFAULT_RESOLUTION})")
    p.add_argument("--weights-dir", metavar="DIR", default=None,
                   help="folder with yolox_l.onnx and dw-ll_ucoco_384.onnx (also env SKELEXT_DWPOSE_DIR); "
                        "downloads go there")
    p.add_argument("--alternatives", type=int, default=1, metavar="K",
                   help=f"ranked completions per person to record (1..{MAX_ALTERNATIVES})")
    p.add_argument("--threshold", type=float, default=0.3, help="keypoint score threshold (default 0.3)")
    p.add_argument("--no-complete", action="store_true", help="plain detection, no completion")
    p.set_defaults(func=cmd_detect)
