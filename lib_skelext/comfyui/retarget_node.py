"""The *Retarget Pose* node: a driving ``POSE_KEYPOINT`` batch drawn with a reference character's body
(a pose, or a photo detected here). A thin adapter over ``retarget.retarget_poses``."""
from __future__ import annotations

from typing import Any, Dict, Optional

from ..errors import SkelextError
from ..settings import OPTIONS, PipelineSettings
from .inputs import CATEGORY, FPS_INPUT, POSE, POSE_OUT_TOOLTIP, POSE_TOOLTIP, option_input
from .pose_keypoint import frames_from_pose_keypoint, pose_keypoint_from_frames, ui_json


class SkelextRetargetPose:
    """driving POSE_KEYPOINT + reference (POSE_KEYPOINT or IMAGE) -> POSE_KEYPOINT + control images."""

    DESCRIPTION = ("Retargets a driving motion onto a character: every bone keeps the driving pose's direction "
                   "and takes the character's length; the figure stands where the character stands. Missing "
                   "points of both are completed first, so a character seen waist-up gets legs whose lengths "
                   "come from the completion. For pose-driven video (MusePose, UniAnimate, MimicMotion, "
                   "Wan-Animate) when the reference photo shows the character only in part.")
    CATEGORY = CATEGORY
    FUNCTION = "retarget"
    RETURN_TYPES = (POSE, "IMAGE")
    RETURN_NAMES = ("pose_keypoint", "control_image")
    OUTPUT_TOOLTIPS = (POSE_OUT_TOOLTIP + "; one per driving frame, on the reference's canvas",
                       "the retargeted skeletons drawn as ControlNet draws OpenPose (B x H x W x 3)")

    @classmethod
    def INPUT_TYPES(cls) -> Dict[str, Any]:
        return {"required": {
            "driving": (POSE, {"tooltip": "the motion: " + POSE_TOOLTIP + " (a batch is one clip)"}),
            "canvas": option_input("canvas"),
            "sequence_mode": option_input("sequence_mode"),
            "retarget_position": option_input("retarget_position"),
            "retarget_scale": option_input("retarget_scale"),
            "retarget_mode": option_input("retarget_mode"),
        }, "optional": {
            "reference_pose": (POSE, {"tooltip": "the character as a pose with one person (or connect "
                                                 "reference_image)"}),
            "reference_image": ("IMAGE", {"tooltip": "the character as a photo (its first image), detected with "
                                                     "the detector below"}),
            "detector": option_input("detector"),
            "bridge_gap": option_input("bridge_gap"),
            "fps": FPS_INPUT,
        }}

    def retarget(self, driving: Any, canvas: str = "keep", sequence_mode: str = "causal",
                 retarget_position: str = "reference", retarget_scale: str = "reference",
                 retarget_mode: str = "bones", reference_pose: Optional[Any] = None,
                 reference_image: Optional[Any] = None, detector: str = OPTIONS["detector"].default,
                 bridge_gap: float = OPTIONS["bridge_gap"].default, fps: float = 30.0) -> Dict[str, Any]:
        from ..retarget import retarget_poses
        from .tensors import pad_to_common_size, tensor_from_images

        settings = PipelineSettings(canvas=canvas, sequence_mode=sequence_mode, retarget_position=retarget_position,
                                    retarget_scale=retarget_scale, retarget_mode=retarget_mode, detector=detector,
                                    bridge_gap=bridge_gap)
        frames = frames_from_pose_keypoint(driving, "driving")
        if (reference_pose is None) == (reference_image is None):
            raise SkelextError("connect the character as reference_pose or as reference_image (one of them)")
        if reference_pose is not None:
            refs = frames_from_pose_keypoint(reference_pose, "reference_pose")
            if len(refs) != 1:
                raise SkelextError(f"reference_pose: one pose, not a batch of {len(refs)}")
            reference = refs[0]
        else:
            reference = _detect_reference(reference_image, settings)
        results = retarget_poses(frames, reference, settings, fps=fps)
        images, (height, width) = pad_to_common_size([r.control_image for r in results])
        poses = pose_keypoint_from_frames([r.frame for r in results], (width, height))
        return {"ui": ui_json(poses), "result": (poses, tensor_from_images(images))}


def _detect_reference(image: Any, settings: PipelineSettings) -> Any:
    from ..core import process_image
    from ..detectors import get_detector
    from .host import dwpose_location
    from .tensors import images_from_tensor

    photos = images_from_tensor(image, "reference_image")
    found = get_detector(settings.detector, dwpose_location())
    return process_image(photos[0], settings.replace(complete=False, canvas="keep"), detector=found,
                         draw=False).frame
