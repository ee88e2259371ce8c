"""Regenerate the README pictures from the bundled photos and the shipped model.

Run from the repository root (needs mediapipe for BlazePose, which runs
offline; with DWPose weights present pass ``--detector dwpose``):

    .venv/bin/python docs/make_figures.py

Writes ``docs/images/astronaut.png`` (photo | detector's partial skeleton |
skelext's completed skeleton) and ``docs/images/canvas_modes.png`` (keep, fit,
expand on the same photo).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lib_skelext.image_io import load_image  # noqa: E402
from lib_skelext.core import process_image  # noqa: E402
from lib_skelext.render import render_frame, render_overlay  # noqa: E402
from lib_skelext.settings import PipelineSettings  # noqa: E402

OUT = ROOT / "docs" / "images"


def _label(image: np.ndarray, text: str) -> np.ndarray:
    import cv2

    out = np.ascontiguousarray(image.copy())
    cv2.rectangle(out, (0, 0), (out.shape[1], 26), (0, 0, 0), thickness=-1)
    cv2.putText(out, text, (6, 19), cv2.FONT_HERSHEY_SIMPLEX, min(0.55, out.shape[1] / 330), (255, 255, 255), 1, cv2.LINE_AA)
    return out


def _row(panels, height: int, gap: int = 6) -> np.ndarray:
    """[(image, caption)] -> one row, each image scaled to height, then captioned."""
    import cv2

    scaled = [_label(cv2.resize(im, (max(1, round(im.shape[1] * height / im.shape[0])), height),
                                interpolation=cv2.INTER_AREA), text) for im, text in panels]
    parts = []
    for im in scaled:
        parts += [im, np.full((height, gap, 3), 255, np.uint8)]
    return np.hstack(parts[:-1])


def _save(path: Path, image: np.ndarray) -> None:
    from PIL import Image

    Image.fromarray(image).save(path, optimize=True)
    print(f"wrote {path.relative_to(ROOT)} {image.shape[1]}x{image.shape[0]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--detector", default="blazepose", choices=("blazepose", "dwpose"))
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    photo = load_image(ROOT / "examples" / "skimage_astronaut.png")

    plain = process_image(photo, PipelineSettings(detector=args.detector, complete=False))
    keep = process_image(photo, PipelineSettings(detector=args.detector, canvas="expand"))
    expanded_photo = keep.transform.apply_to_image(keep.image)
    panels = [
        (photo, "photo (waist-up)"),
        (plain.control_image, f"{args.detector}: partial"),
        (render_overlay(expanded_photo, keep.frame), "skelext: completed"),
        (keep.control_image, "control image"),
    ]
    _save(OUT / "astronaut.png", _row(panels, 300))

    modes = []
    for mode in ("keep", "fit", "expand"):
        result = process_image(photo, PipelineSettings(detector=args.detector, canvas=mode))
        modes.append((result.control_image, f"canvas = {mode}"))
    _save(OUT / "canvas_modes.png", _row(modes, 220))

    example = ROOT / "examples" / "waist_up.json"
    from lib_skelext.complete import complete_frame
    from lib_skelext.openpose_json import loads_frame

    frame = loads_frame(example.read_text())
    crop = load_image(ROOT / "examples" / "coco_000000000785_crop_hipsup.jpg")
    from lib_skelext.canvas import apply_canvas_mode

    done, transform = apply_canvas_mode(complete_frame(frame), "expand")
    _save(OUT / "waist_up_example.png", _row([
        (render_overlay(crop, frame), "examples/waist_up.json"),
        (render_overlay(transform.apply_to_image(crop), done), "completed (expand)"),
        (render_frame(done), "control image"),
    ], 240))


if __name__ == "__main__":
    main()
