"""DWPose whole-body detection: YOLOX-L person boxes, then DWPose-L 133 keypoints.

``DWPoseDetector.detect_people(image)`` returns a ``PoseFrame`` in pixels of
``image``, people converted the way ControlNet formats DWPose output
(``pose.person_from_wholebody133``: OpenPose-18 body with the neck, face
68 + 2 eyes, both hands). Sessions are created on first use.

Thread safety: the two sessions live in one tuple that is replaced, never changed. A detection
reads it once and uses only that snapshot, so ``unload()`` (ControlNet's unload hook, from
another thread) never pulls a session from under a running detection: that detection finishes
with the sessions it started with, which are freed when it lets go of them.
"""
from __future__ import annotations

import logging
import os
import threading
from typing import TYPE_CHECKING, Any, Optional, Sequence, Tuple

import numpy as np

from ..errors import SkelextError
from ..pose import DWPOSE_SCORE_THRESHOLD, PoseFrame, person_from_wholebody133
from . import transforms as T

if TYPE_CHECKING:  # pragma: no cover
    import onnxruntime

logger = logging.getLogger(__name__)

#: (YOLOX detector session, DWPose pose session)
_Sessions = Tuple["onnxruntime.InferenceSession", "onnxruntime.InferenceSession"]


def check_image(image: Any) -> np.ndarray:
    """(H, W, 3) uint8 RGB or raise SkelextError."""
    arr = np.asarray(image)
    if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] != 3 or arr.shape[0] < 1 or arr.shape[1] < 1:
        raise SkelextError(f"expected an RGB image as an (H, W, 3) uint8 array, got shape {arr.shape} "
                           f"dtype {arr.dtype}")
    return np.ascontiguousarray(arr)


class DWPoseDetector:
    """YOLOX + DWPose through onnxruntime.

    det_model, pose_model: ONNX file paths; when None they are found or
    downloaded by ``weights.ensure_dwpose_weights(weights_dir, search_dirs=...)``
    on first use. device: "auto" (CUDA when onnxruntime has it), "cuda", "cpu".
    whole_image_fallback: as ControlNet, when the detector saw something
    (some class > 0.1) but no person > 0.3, run the pose model on the whole
    image; set False to return no people instead.
    """

    def __init__(self, det_model: "Optional[str | os.PathLike[str]]" = None,
                 pose_model: "Optional[str | os.PathLike[str]]" = None, *,
                 weights_dir: "Optional[str | os.PathLike[str]]" = None,
                 search_dirs: Optional[Sequence[os.PathLike]] = None,
                 allow_download: Optional[bool] = None, device: str = "auto",
                 whole_image_fallback: bool = True) -> None:
        self.det_model = det_model
        self.pose_model = pose_model
        self.weights_dir = weights_dir
        self.search_dirs = search_dirs
        self.allow_download = allow_download
        self.device = device
        self.whole_image_fallback = whole_image_fallback
        #: (detector, pose) sessions or None; swapped whole, under _lock, never changed in place
        self._sessions: Optional[_Sessions] = None
        self._generation = 0  # bumped by unload(): a load that began before it does not store its sessions
        self._lock = threading.Lock()  # guards _sessions/_generation; held only for the swap
        self._load_lock = threading.Lock()  # one load (and download) at a time

    # ------------------------------------------------------------- sessions
    # _det, _pose: read-only views of the current sessions (None when unloaded), for inspection.
    @property
    def _det(self) -> "Optional[onnxruntime.InferenceSession]":
        sessions = self._sessions
        return sessions[0] if sessions is not None else None

    @property
    def _pose(self) -> "Optional[onnxruntime.InferenceSession]":
        sessions = self._sessions
        return sessions[1] if sessions is not None else None

    def _resolve_paths(self) -> None:
        if self.det_model is not None and self.pose_model is not None:
            return
        from ..weights import ensure_dwpose_weights

        paths = ensure_dwpose_weights(self.weights_dir, search_dirs=self.search_dirs,
                                      allow_download=self.allow_download)
        self.det_model = self.det_model or paths.detector
        self.pose_model = self.pose_model or paths.pose

    def _snapshot(self) -> _Sessions:
        """The (detector, pose) sessions one detection uses throughout, loaded if needed."""
        sessions = self._sessions
        if sessions is not None:
            return sessions
        from .session import create_session

        with self._load_lock:  # one load even when several threads start at once
            with self._lock:
                sessions, generation = self._sessions, self._generation
            if sessions is not None:
                return sessions
            self._resolve_paths()
            sessions = (create_session(self.det_model, device=self.device),
                        create_session(self.pose_model, device=self.device))
            with self._lock:
                if self._generation == generation:  # else unloaded meanwhile: this caller only
                    self._sessions = sessions
        return sessions

    def load(self) -> "DWPoseDetector":
        """Create both sessions now (otherwise done on first detection)."""
        self._snapshot()
        return self

    def unload(self) -> None:
        """Drop the sessions (they are rebuilt on the next call). Detections already running
        keep the sessions they started with; the memory is freed when the last one ends."""
        with self._lock:
            self._sessions = None
            self._generation += 1

    # ------------------------------------------------------------ inference
    def detect_boxes(self, image: np.ndarray) -> Optional[np.ndarray]:
        """Person boxes (n, 4) x1y1x2y2 in image pixels; None when the
        detector saw nothing at all (no class of any anchor above 0.1)."""
        return self._boxes(self._snapshot()[0], check_image(image))

    @staticmethod
    def _boxes(det: "onnxruntime.InferenceSession", image: np.ndarray) -> Optional[np.ndarray]:
        blob, ratio = T.letterbox(image)
        name = det.get_inputs()[0].name
        raw = det.run(None, {name: blob[None]})[0]
        return T.person_boxes(raw, ratio)

    @staticmethod
    def _run_pose(pose: "onnxruntime.InferenceSession", batch: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        inp = pose.get_inputs()[0]
        names = [o.name for o in pose.get_outputs()]
        order = [names.index("simcc_x"), names.index("simcc_y")] if {"simcc_x", "simcc_y"} <= set(names) else [0, 1]
        fixed_batch = isinstance(inp.shape[0], int) and inp.shape[0] > 0
        if fixed_batch and len(batch) != inp.shape[0]:
            parts = [pose.run(None, {inp.name: batch[i:i + 1]}) for i in range(len(batch))]
            return (np.concatenate([p[order[0]] for p in parts]), np.concatenate([p[order[1]] for p in parts]))
        out = pose.run(None, {inp.name: batch})
        return out[order[0]], out[order[1]]

    def estimate_keypoints(self, image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        """133 COCO-WholeBody keypoints per box: (n, 133, 3) x_px, y_px, score.

        An empty ``boxes`` means the whole image, as in ControlNet.
        """
        return self._keypoints(self._snapshot()[1], check_image(image), boxes)

    def _keypoints(self, pose: "onnxruntime.InferenceSession", image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        if len(boxes) == 0:
            h, w = image.shape[:2]
            boxes = np.array([[0.0, 0.0, float(w), float(h)]])
        batch, center, scale = T.pose_inputs(image, boxes)
        simcc_x, simcc_y = self._run_pose(pose, batch)
        locs, scores = T.simcc_decode(simcc_x, simcc_y)
        xy = T.simcc_to_image(locs, center, scale)
        return np.concatenate([xy, scores[..., None]], axis=-1)

    def detect_wholebody(self, image: np.ndarray) -> np.ndarray:
        """(n, 133, 3) for every person found (n may be 0)."""
        image = check_image(image)
        det, pose = self._snapshot()  # one snapshot for both stages, whatever unload() does meanwhile
        boxes = self._boxes(det, image)
        if boxes is None or (len(boxes) == 0 and not self.whole_image_fallback):
            return np.zeros((0, 133, 3))
        return self._keypoints(pose, image, boxes)

    def detect_people(self, image: np.ndarray, threshold: float = DWPOSE_SCORE_THRESHOLD) -> PoseFrame:
        """People in ``image`` ((H, W, 3) uint8 RGB) as a PoseFrame of W x H pixels.

        Keypoints scoring below ``threshold`` are missing. A person with no
        point left at all (body, face, hands) is dropped; ControlNet keeps
        such empty entries, which draw nothing.
        """
        image = check_image(image)
        h, w = image.shape[:2]
        people = []
        for kp in self.detect_wholebody(image):
            person = person_from_wholebody133(kp, threshold)
            if person.present.any() or any(p is not None for p in (person.face, person.hand_left, person.hand_right)):
                people.append(person)
        logger.debug("DWPose: %d people in a %dx%d image", len(people), w, h)
        return PoseFrame(people=people, canvas_width=w, canvas_height=h)
