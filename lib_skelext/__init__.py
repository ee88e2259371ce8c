"""skelext: complete partial OpenPose skeletons (DWPose + a small completion network).

Data flow (one way; lower stages never import higher ones)::

    image (H, W, 3) uint8 RGB                     OpenPose JSON (object, or a list of frames)
      -> resize.resize_image_with_pad               -> openpose_json.frames_from_json
      -> detectors.get_detector(...).detect_people  |
      -> PoseFrame (pixels) -----------------------+
      -> core: steps.drop_body_points_outside -> [a clip: sequence.stage tracks]
               -> guard.complete_guarded(complete.complete_frames | the clip's completion)
               -> steps.drop_parts_of_completed -> [a clip: bridge, glide] -> canvas.apply_canvas_mode
      -> core.PoseResult (frames, not text)
      -> render.render_frame (control image) / openpose_json.frame_to_dict (JSON), at the edges

Module map (``name``: ``lib_skelext/name.py``, ``name/``: a package; in brackets what it holds;
every module is listed outside the brackets, ``tests/test_layout.py`` and
``tests/test_docs_drift.py`` check both ways):

* data: ``pose`` (``Person``, ``PoseFrame``), ``openpose_json`` (read/write, lossless round trips),
  ``errors`` (``SkelextError``), ``settings`` (the one options schema, ``PipelineSettings``),
  ``assets`` (shipped files: model, script, stylesheet), ``atomic`` (files written whole or not at all).
* stages: ``resize`` (ControlNet's image handling), ``detectors`` (``Detector`` protocol, one
  registry), ``dwpose/`` (onnxruntime DWPose), ``blazepose`` (mediapipe), ``weights`` (find,
  download, verify), ``completion_model`` (numpy network), ``complete`` (people in, completed
  people out), ``canvas`` (keep/fit/expand), ``render`` (ControlNet's drawing), ``image_io``
  (photos read safely).
* the core: ``core`` (``complete_poses``, ``process_images``, ``render_poses`` -> ``PoseResult``;
  batches and clips, one canvas policy, one failure policy), ``steps`` (its per-frame steps on
  poses), ``guard`` (``complete_guarded``: the one failure policy), ``result``
  (``PoseResult``: frames, not text); ``retarget`` (a driving motion with a reference character's
  body, on completed poses: ``retarget_poses``), ``leg_lengths`` (the numpy network giving the
  lengths of leg bones a reference does not show).
* sequences: ``sequence/`` (``ClipStage``: the core's stage for a video: tracking, temporal
  completion and filters, bridges; ``complete_sequence``; video files with OpenCV).
* the pose editor, no gradio: ``edit_session`` (``EditSession``: selection, hidden and locked
  points, undo/redo), ``editor_svg`` (the editor's SVG, drawn from an ``EditSession``); the
  Gradio tab in ``ui/`` shows them.
* surfaces, each a thin adapter over ``core`` (parse, call, format): ``cli/`` (argparse subcommands),
  ``api/`` (REST router), ``ui/`` (Gradio tab: view, handlers, layout), ``host/``
  (WebUI/ControlNet/Forge preprocessor and settings), ``comfyui/`` (ComfyUI nodes; the
  repository root's __init__.py publishes them), ``hostcheck/`` (checks against a running
  WebUI, Forge or ComfyUI).

Importing this package is cheap: numpy only. torch, onnxruntime, cv2, gradio
and fastapi are imported inside the functions that need them.
"""
from __future__ import annotations

__version__ = "0.2.0"

from .errors import SkelextError
from .pose import Person, PoseFrame, Source

__all__ = ["__version__", "SkelextError", "Person", "PoseFrame", "Source"]
