"""``detect --sequence``: one video's frames in (a video file read with OpenCV, or a folder of images
in natural name order), steady tracked poses out: ``<name>.json`` and ``<name>_control.png`` per frame
and ``control.mp4`` (the control images at the source's frame rate). A bad frame stops the run with
one line naming it: a sequence with a hole in it would be tracked wrongly.

The frames are read one at a time and handed to ``core.process_images`` (``settings.sequence`` on):
detection in the detector's tracking mode, then the clip completed as one.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any, Callable, Iterator, List, Tuple

from ..atomic import write_atomic
from ..errors import SkelextError
from .files import save_png, with_path, wrote

logger = logging.getLogger("lib_skelext")


def _progress(items, desc: str, unit: str, total: int = 0):
    from tqdm import tqdm

    total = total or len(items)
    return tqdm(items, desc=desc, unit=unit, total=total or None, disable=None if total >= 50 else True,
                file=sys.stderr, mininterval=0.5)


def open_clip(src: Path, fps: Any) -> Tuple[List[str], float, Iterator[Any]]:
    """(frame names, frame rate, the frames one at a time) of a video file or a folder of images."""
    from ..image_io import IMAGE_SUFFIXES, load_image
    from ..sequence.video_io import DEFAULT_FPS, frame_names, probe_video, read_video
    from .files import image_files

    if src.is_dir():
        paths = image_files(src)
        return [p.stem for p in paths], fps or DEFAULT_FPS, (with_path(p, lambda p=p: load_image(p)) for p in paths)
    if src.suffix.lower() in IMAGE_SUFFIXES:
        raise SkelextError(f"{src}: --sequence needs a video file or a folder of frames, not one photo")
    rate, count, _, _ = probe_video(src)  # an unreadable video fails here, before any model loads
    return frame_names(count or 1, src.stem), fps or rate, read_video(src)


def detect_video(src: Path, out_dir: Path, settings: Any, args: argparse.Namespace,
                 load_detector: Callable[[], Any]) -> int:
    """The ``detect --sequence`` command. load_detector: called once the input was found readable."""
    from ..core import process_images
    from ..sequence import count_tracks
    from ..sequence.video_io import frame_names, write_video
    from .files import people_note

    names, fps, images = open_clip(src, args.fps)
    out_dir.mkdir(parents=True, exist_ok=True)
    detector = load_detector()
    results = with_path(src, lambda: process_images(_progress(images, "detecting", "frame", len(names)), settings,
                                                    detector=detector, fps=fps, keep_images=False,
                                                    on_failure="raise"))
    if len(names) < len(results):  # the container under-reported its frame count
        names = frame_names(len(results), src.stem)

    def controls():  # one frame at a time: a long video's control images never sit in memory together
        for name, result in zip(_progress(names[:len(results)], "writing", "frame"), results):
            write_atomic(out_dir / f"{name}.json", result.json_text.encode("utf-8"))
            image = result.draw_control_image()
            save_png(out_dir / f"{name}_control.png", image)
            wrote(out_dir / f"{name}.json", out_dir / f"{name}_control.png", note=people_note(result))
            yield image

    count = write_video(out_dir / "control.mp4", controls(), fps)
    wrote(out_dir / "control.mp4", note=f"{count} frames at {fps:g} fps")
    logger.info("%s: %d frames, %d tracks, %d points completed -> %s", src.name, len(results),
                count_tracks(results), sum(r.completed_points for r in results), out_dir)
    return 0
