"""skelext: complete partial OpenPose skeletons (DWPose + a small completion network).

Data flow (one way; lower stages never import higher ones)::

    image (H, W, 3) uint8 RGB                     OpenPose JSON (object, or a list of frames)
      -> resize.resize_image_with_pad               -> openpose_json.frames_from_json
      -> detectors.get_detector(...).detect_people  |
      -> PoseFrame (pixels) -----------------------+
      -> core: drop points outside the canvas -> complete.complete_frames (completion_model)
               -> drop hands/face on invented anchors -> canvas.apply_canvas_mode
      -> core.PoseResult (frames, not text)
      -> render.render_frame (control image) / openpose_json.frame_to_dict (JSON), at the edges

Module map:

* data: ``pose`` (Person, PoseFrame), ``openpose_json`` (read/write, lossless round trips),
  ``errors`` (SkelextError), ``settings`` (the one options schema, ``PipelineSettings``),
  ``assets`` (shipped files: model, script, stylesheet), ``atomic`` (files written whole or not at all).
* stages: ``resize`` (ControlNet's image handling), ``detectors`` (Detector protocol, one
  registry), ``dwpose/`` (onnxruntime DWPose), ``blazepose`` (mediapipe), ``weights`` (find,
  download, verify), ``completion_model`` (numpy network), ``complete`` (people in, completed
  people out), ``canvas`` (keep/fit/expand), ``render`` (ControlNet's drawing), ``image_io``.
* the core: ``core`` (``complete_pose``/``complete_poses``, ``process_image``/``process_images``
  -> ``PoseResult``, defined in ``result``); ``retarget`` (a driving motion with a reference
  character's body, on completed poses: ``retarget_poses``; ``leg_lengths``: the numpy network giving
  the lengths of leg bones the reference does not show).
* sequences: ``sequence/`` (tracking, temporal completion and filters over video frames,
  ``complete_sequence`` -> the core's ``PoseResult`` per frame; video files with OpenCV).
* surfaces, each a thin adapter over ``core`` (or ``sequence``): ``cli/`` (argparse subcommands),
  ``api/`` (REST router), ``ui/`` (Gradio tab: view, handlers, layout; ``edit_session``,
  ``editor_svg``), ``host/`` (WebUI/ControlNet/Forge preprocessor and settings), ``comfyui/``
  (ComfyUI nodes; the repository root's ``__init__.py`` publishes them), ``hostcheck/`` (checks
  against a running WebUI, Forge or ComfyUI).

Importing this package is cheap: numpy only. torch, onnxruntime, cv2, gradio
and fastapi are imported inside the functions that need them.
"""
from __future__ import annotations

__version__ = "0.2.0"

from .errors import SkelextError
from .pose import Person, PoseFrame, Source

__all__ = ["__version__", "SkelextError", "Person", "PoseFrame", "Source"]
