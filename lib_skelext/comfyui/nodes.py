"""The ComfyUI nodes (category ``skelext``): thin adapters over ``lib_skelext.core``.

Each node parses ComfyUI's inputs (``IMAGE`` tensors, ``POSE_KEYPOINT`` lists), calls the
one processing core and formats the result. Inputs, ranges, defaults and tooltips come
from ``settings.OPTIONS``. Bad input raises one ``SkelextError``; ComfyUI shows its
message on the node and keeps running. Node names are part of saved workflows: never
rename them.

Importing this module is cheap (stdlib, numpy): torch, cv2 and the models load inside
the node functions.

Over 300 lines on purpose: the five classes (and *Retarget Pose*, in ``retarget_node``) are the pack's public surface (their names and
inputs are stored in users' workflows) and stay beside the mappings that publish them.
"""
from __future__ import annotations

import json
import logging
import os
from typing import Any, Dict, List, Optional, Tuple

from ..errors import SkelextError
from ..settings import MAX_ALTERNATIVES, OPTIONS, RENDER_OPTIONS, PipelineSettings
from .inputs import CATEGORY, FPS_INPUT, POSE, POSE_OUT_TOOLTIP, POSE_TOOLTIP, option_input
from .pose_keypoint import frames_from_pose_keypoint, pose_keypoint_from_frames, ui_json

logger = logging.getLogger(__name__)

def _settings(**values: Any) -> PipelineSettings:
    return PipelineSettings.from_mapping(values)


SEQUENCE_OPTIONAL = {"sequence": option_input("sequence"), "bridge_gap": option_input("bridge_gap"),
                     "fps": FPS_INPUT}
#: The drawing options every drawing node takes (``settings.RENDER_OPTIONS``).
RENDER_INPUTS = {name: option_input(name) for name in RENDER_OPTIONS}


def _check_batch(images: List[Any], frames: List[Any], what: str) -> None:
    if len(images) not in (1, len(frames)):
        raise SkelextError(f"{what}: {len(images)} images for {len(frames)} pose frames; "
                           "give one image, or one per frame")


class SkelextCompletePose:
    """POSE_KEYPOINT -> completed POSE_KEYPOINT + the control image."""

    DESCRIPTION = ("Completes the missing body points of every person (legs below a waist-up frame, an arm "
                   "cut by the edge) with skelext's model: one pass over the whole batch. Detected points are "
                   "kept exactly. Outputs the completed poses (pixels) and ControlNet's OpenPose drawing.")
    CATEGORY = CATEGORY
    FUNCTION = "complete"
    RETURN_TYPES = (POSE, "IMAGE")
    RETURN_NAMES = ("pose_keypoint", "control_image")
    OUTPUT_TOOLTIPS = (POSE_OUT_TOOLTIP,
                       "the completed skeletons drawn as ControlNet's OpenPose preprocessor draws them "
                       "(B x H x W x 3)")

    @classmethod
    def INPUT_TYPES(cls) -> Dict[str, Any]:
        return {"required": {
            "pose_keypoint": (POSE, {"tooltip": POSE_TOOLTIP}),
            "canvas": option_input("canvas"),
            "alternative": ("INT", {"default": 0, "min": 0, "max": MAX_ALTERNATIVES - 1, "step": 1,
                                    "tooltip": "which ranked completion to use: 0 = the best, k = the model's "
                                               "k-th alternative (people with fewer keep the best)"}),
            "draw_hands": option_input("draw_hands"),
            "draw_face": option_input("draw_face"),
        }, "optional": {**SEQUENCE_OPTIONAL, "rewrite_scores": option_input("rewrite_scores"),
                        "draw_body": option_input("draw_body")}}

    def complete(self, pose_keypoint: Any, canvas: str = "keep", alternative: int = 0, draw_hands: bool = True,
                 draw_face: bool = True, sequence: str = "off", rewrite_scores: bool = False,
                 bridge_gap: float = OPTIONS["bridge_gap"].default, fps: float = 30.0,
                 draw_body: bool = True) -> Dict[str, Any]:
        from ..core import complete_poses
        from .host import progress_bar

        frames = frames_from_pose_keypoint(pose_keypoint)
        settings = _settings(canvas=canvas, alternatives=int(alternative) + 1, draw_body=draw_body,
                             draw_hands=draw_hands, draw_face=draw_face, rewrite_scores=rewrite_scores,
                             bridge_gap=bridge_gap, sequence=sequence)
        bar = progress_bar(len(frames) + 1)  # the completion, then each drawing
        # one forward pass; one fit / expand transform for the whole batch (no zooming)
        results = complete_poses(frames, settings, alternative=int(alternative), shared_canvas=True, fps=fps)
        bar.update(1)
        poses, images = _outputs(results, bar=bar)
        return {"ui": ui_json(poses), "result": (poses, images)}


def _outputs(results: List[Any], photos: bool = False, bar: Any = None) -> Tuple[Any, ...]:
    """(POSE_KEYPOINT, control images tensor[, photos placed on the pose's canvas]) of the core's results
    (bar: one progress step per drawing)."""
    from .tensors import pad_to_common_size, tensor_from_images

    drawn = []
    for result in results:
        drawn.append(result.control_image)
        if bar is not None:
            bar.update(1)
    images, (height, width) = pad_to_common_size(drawn)
    poses = pose_keypoint_from_frames([r.frame for r in results], (width, height))
    if not photos:
        return poses, tensor_from_images(images)
    placed, _ = pad_to_common_size([r.transform.apply_to_image(r.image) for r in results])
    return poses, tensor_from_images(images), tensor_from_images(placed)


class SkelextDetectPose:
    """IMAGE batch -> control images + POSE_KEYPOINT (the whole ``dwpose_full`` pipeline)."""

    DESCRIPTION = ("Detects people (DWPose, or BlazePose offline) on each image, resized as ControlNet's "
                   "preprocessors do, completes their missing body points and draws the control image: "
                   "the WebUI's dwpose_full preprocessor as a node.")
    CATEGORY = CATEGORY
    FUNCTION = "detect"
    RETURN_TYPES = ("IMAGE", POSE, "IMAGE")
    RETURN_NAMES = ("control_image", "pose_keypoint", "photo")
    OUTPUT_TOOLTIPS = ("the skeletons drawn as ControlNet does, on the pose's canvas (B x H x W x 3)",
                       POSE_OUT_TOOLTIP + "; canvas = the control image",
                       "the resized photos placed on the pose's canvas as the canvas mode placed the poses "
                       "(fit scales, expand adds black borders): connect it to Render Pose's image to draw "
                       "the poses over their photo with any canvas mode")

    @classmethod
    def INPUT_TYPES(cls) -> Dict[str, Any]:
        return {"required": {
            "image": ("IMAGE", {"tooltip": "photos or video frames (a batch)"}),
            "detector": option_input("detector"),
            "resolution": option_input("resolution"),
            "canvas": option_input("canvas"),
            "detection_threshold": option_input("detection_threshold"),
            "complete": option_input("complete"),
            "draw_hands": option_input("draw_hands"),
            "draw_face": option_input("draw_face"),
        }, "optional": {**SEQUENCE_OPTIONAL, "draw_body": option_input("draw_body")}}

    def detect(self, image: Any, detector: str = "dwpose", resolution: int = 512, canvas: str = "keep",
               detection_threshold: float = 0.3, complete: bool = True, draw_hands: bool = True,
               draw_face: bool = True, sequence: str = "off", bridge_gap: float = OPTIONS["bridge_gap"].default,
               fps: float = 30.0, draw_body: bool = True) -> Dict[str, Any]:
        from ..core import process_images
        from ..detectors import get_detector
        from .host import dwpose_location, progress_bar
        from .tensors import images_from_tensor

        photos = images_from_tensor(image)
        settings = _settings(detector=detector, resolution=resolution, canvas=canvas,
                             detection_threshold=detection_threshold, complete=complete, draw_body=draw_body,
                             draw_hands=draw_hands, draw_face=draw_face, bridge_gap=bridge_gap, sequence=sequence)
        found = get_detector(settings.detector, dwpose_location())  # loads once; missing weights: one line
        bar = progress_bar(len(photos))
        # one forward pass, one fit / expand transform for every image (no zooming from frame to frame);
        # sequence on: the batch is one video (the detector's tracking mode, then the clip completed as one)
        results = process_images(photos, settings, detector=found, fps=fps, on_image=lambda i: bar.update(1))
        poses, images, placed = _outputs(results, photos=True)
        return {"ui": ui_json(poses), "result": (images, poses, placed)}


class SkelextRenderPose:
    """POSE_KEYPOINT -> IMAGE (ControlNet's drawing, or over the given images)."""

    DESCRIPTION = ("Draws poses as ControlNet's OpenPose preprocessor does (black canvas of the pose's size). "
                   "With images connected, draws over them instead (completed points as rings), to check "
                   "a completion against the video.")
    CATEGORY = CATEGORY
    FUNCTION = "render"
    RETURN_TYPES = ("IMAGE",)
    RETURN_NAMES = ("image",)
    OUTPUT_TOOLTIPS = ("one drawing per frame (B x H x W x 3)",)

    @classmethod
    def INPUT_TYPES(cls) -> Dict[str, Any]:
        return {"required": {
            "pose_keypoint": (POSE, {"tooltip": POSE_TOOLTIP}),
            "draw_body": option_input("draw_body"),
            "draw_hands": option_input("draw_hands"),
            "draw_face": option_input("draw_face"),
        }, "optional": {
            "image": ("IMAGE", {"tooltip": "optional: draw over these images (one, or one per frame; "
                                           "the size of the poses' canvas)"}),
        }}

    def render(self, pose_keypoint: Any, draw_body: bool = True, draw_hands: bool = True, draw_face: bool = True,
               image: Optional[Any] = None) -> Tuple[Any]:
        from ..core import render_poses
        from .host import progress_bar
        from .tensors import images_from_tensor, pad_to_common_size, tensor_from_images

        frames = frames_from_pose_keypoint(pose_keypoint)
        settings = _settings(draw_body=draw_body, draw_hands=draw_hands, draw_face=draw_face)
        photos = images_from_tensor(image, "image") if image is not None else None
        if photos is not None:
            _check_batch(photos, frames, "image")
            photos = [photos[i if len(photos) > 1 else 0] for i in range(len(frames))]
            for i, (frame, photo) in enumerate(zip(frames, photos)):
                if photo.shape[:2] != (frame.canvas_height, frame.canvas_width):
                    raise SkelextError(
                        f"image is {photo.shape[1]}x{photo.shape[0]} but pose frame {i} has a "
                        f"{frame.canvas_width}x{frame.canvas_height} canvas; connect the images the poses "
                        "were made from (after the same resize)")
        bar = progress_bar(len(frames))
        drawings = []
        for result in render_poses(frames, settings, images=photos):
            drawings.append(result.control_image if photos is None else result.overlay())
            bar.update(1)
        drawings, _ = pad_to_common_size(drawings)
        return (tensor_from_images(drawings),)


class SkelextLoadPose:
    """A JSON file or pasted JSON text -> POSE_KEYPOINT."""

    DESCRIPTION = ("Loads OpenPose JSON (one object, or a list of them: one per frame) from a file or from "
                   "pasted text. Relative paths are read from ComfyUI's input folder.")
    CATEGORY = CATEGORY
    FUNCTION = "load"
    RETURN_TYPES = (POSE,)
    RETURN_NAMES = ("pose_keypoint",)
    OUTPUT_TOOLTIPS = (POSE_OUT_TOOLTIP,)

    @classmethod
    def INPUT_TYPES(cls) -> Dict[str, Any]:
        return {"required": {
            "path": ("STRING", {"default": "", "tooltip": "a .json file: absolute, or relative to ComfyUI's "
                                                          "input folder (used when json_text is empty)"}),
            "json_text": ("STRING", {"default": "", "multiline": True,
                                     "tooltip": "OpenPose JSON pasted here (wins over path)"}),
        }}

    @classmethod
    def IS_CHANGED(cls, path: str = "", json_text: str = "") -> str:
        """Run again when the file changes (ComfyUI caches outputs by inputs otherwise)."""
        if (json_text or "").strip() or not (path or "").strip():
            return json_text or ""
        try:
            from .host import resolve_input_file

            found = resolve_input_file(path)
            stat = found.stat()
            return f"{found}:{stat.st_mtime_ns}:{stat.st_size}"
        except (SkelextError, OSError):
            return f"missing:{path}"

    def load(self, path: str = "", json_text: str = "") -> Dict[str, Any]:
        from .host import resolve_input_file

        if (json_text or "").strip():
            source, text = "json_text", json_text
        elif (path or "").strip():
            found = resolve_input_file(path)
            try:
                text = found.read_bytes()
            except OSError as exc:
                raise SkelextError(f"{found}: cannot read ({exc.strerror or exc})") from None
            source = os.fspath(found)
        else:
            raise SkelextError("give a path to a pose .json file or paste OpenPose JSON into json_text")
        frames = frames_from_pose_keypoint(text, source)
        poses = pose_keypoint_from_frames(frames)
        return {"ui": ui_json(poses), "result": (poses,)}


SAVE_LAYOUTS = ("one file (list of frames)", "one file per frame")
SAVE_UNITS = ("px", "norm")


class SkelextSavePose:
    """POSE_KEYPOINT -> JSON files in ComfyUI's output folder."""

    DESCRIPTION = ("Saves poses as OpenPose JSON in ComfyUI's output folder: the whole batch as one list (what "
                   "`python -m lib_skelext complete` and POST /complete read back), or one file per frame.")
    CATEGORY = CATEGORY
    FUNCTION = "save"
    RETURN_TYPES = ()
    OUTPUT_NODE = True

    @classmethod
    def INPUT_TYPES(cls) -> Dict[str, Any]:
        return {"required": {
            "pose_keypoint": (POSE, {"tooltip": POSE_TOOLTIP}),
            "filename_prefix": ("STRING", {"default": "skelext/pose",
                                           "tooltip": "file name prefix inside ComfyUI's output folder; "
                                                      "subfolders allowed"}),
            "layout": (list(SAVE_LAYOUTS), {"default": SAVE_LAYOUTS[0],
                                            "tooltip": "one JSON list holding every frame, or one file per frame"}),
            "output_coords": (list(SAVE_UNITS), {
                "default": "px", "tooltip": "px: pixels (safe for every reader); norm: 0..1 of the canvas (refused "
                                            "when a point lies outside the canvas: 0..1 readers would take it "
                                            "for pixels)"}),
        }}

    def save(self, pose_keypoint: Any, filename_prefix: str = "skelext/pose", layout: str = SAVE_LAYOUTS[0],
             output_coords: str = "px") -> Dict[str, Any]:
        from ..atomic import write_atomic
        from ..openpose_json import frame_to_dict
        from .host import output_file_base

        if layout not in SAVE_LAYOUTS:
            raise SkelextError(f"unknown layout {layout!r}; choose one of {', '.join(SAVE_LAYOUTS)}")
        if output_coords not in SAVE_UNITS:
            raise SkelextError(f"unknown output_coords {output_coords!r}; choose px or norm")
        frames = frames_from_pose_keypoint(pose_keypoint)
        docs = [frame_to_dict(f, normalized=output_coords == "norm") for f in frames]
        folder, stem, counter, subfolder = output_file_base(filename_prefix)
        if layout == SAVE_LAYOUTS[0]:
            items = [(f"{stem}_{counter:05}_.json", docs)]
        else:
            items = [(f"{stem}_{counter:05}_{i:05}.json", doc) for i, doc in enumerate(docs)]
        files = []
        for name, doc in items:
            write_atomic(folder / name, json.dumps(doc, indent=2, allow_nan=False).encode("utf-8"))
            files.append({"filename": name, "subfolder": subfolder, "type": "output"})
        logger.info("skelext: saved %d pose file(s) to %s", len(files), folder)
        return {"ui": {"openpose_json": [json.dumps(docs, indent=4, allow_nan=False)], "skelext_files": files}}


from .retarget_node import SkelextRetargetPose  # noqa: E402  (it builds on this module's inputs)

NODE_CLASS_MAPPINGS = {
    "SkelextCompletePose": SkelextCompletePose,
    "SkelextDetectPose": SkelextDetectPose,
    "SkelextRenderPose": SkelextRenderPose,
    "SkelextLoadPose": SkelextLoadPose,
    "SkelextSavePose": SkelextSavePose,
    "SkelextRetargetPose": SkelextRetargetPose,
}

NODE_DISPLAY_NAME_MAPPINGS = {
    "SkelextCompletePose": "Complete Pose (skelext)",
    "SkelextDetectPose": "Detect + Complete Pose (skelext)",
    "SkelextRenderPose": "Render Pose (skelext)",
    "SkelextLoadPose": "Load Pose JSON (skelext)",
    "SkelextSavePose": "Save Pose JSON (skelext)",
    "SkelextRetargetPose": "Retarget Pose (skelext)",
}
