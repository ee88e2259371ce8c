"""Optional detector on MediaPipe BlazePose (``mediapipe.solutions.pose``).

Runs offline (the "full" landmark model ships inside the mediapipe wheel), so
it works where DWPose's weights cannot be fetched. BlazePose is a
**single-person** model: ``detect_people`` returns at most one person, the
most prominent one. It gives 33 body landmarks and no face or hand keypoints,
so ``Person.face``/``hand_left``/``hand_right`` stay None.

Landmark -> OpenPose-18: the neck is the mid-point of the shoulders (present
only when both are). A landmark is *missing* when its confidence
(visibility, and presence where MediaPipe reports it) is below the threshold
or when it lies outside the image: BlazePose guesses positions for
out-of-frame joints, and those are exactly the points skelext's completion
should fill in instead.
"""
from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any, Optional

import numpy as np

from .errors import SkelextError
from .pose import DWPOSE_SCORE_THRESHOLD, N_BODY, NECK, Person, PoseFrame

if TYPE_CHECKING:  # pragma: no cover
    import mediapipe

logger = logging.getLogger(__name__)

#: OpenPose body index -> BlazePose landmark index (-1: the neck, derived).
BLAZEPOSE_TO_OPENPOSE = (0, -1, 12, 14, 16, 11, 13, 15, 24, 26, 28, 23, 25, 27, 5, 2, 8, 7)
BLAZE_L_SHOULDER, BLAZE_R_SHOULDER = 11, 12
DEFAULT_THRESHOLD = DWPOSE_SCORE_THRESHOLD


def landmarks_to_body(landmarks: np.ndarray, width: int, height: int,
                      threshold: float = DEFAULT_THRESHOLD) -> np.ndarray:
    """BlazePose (33, 3) x_norm, y_norm, confidence -> OpenPose body (18, 3) pixels.

    Points with confidence < threshold, non-finite values or coordinates
    outside [0, 1] (outside the image) become ``[0, 0, 0]``.
    """
    lm = np.asarray(landmarks, dtype=np.float64).reshape(33, 3)
    inside = (lm[:, 0] >= 0) & (lm[:, 0] <= 1) & (lm[:, 1] >= 0) & (lm[:, 1] <= 1)
    ok = inside & (lm[:, 2] >= threshold) & np.isfinite(lm).all(axis=1)
    body = np.zeros((N_BODY, 3))
    for op_index, bp_index in enumerate(BLAZEPOSE_TO_OPENPOSE):
        if bp_index >= 0 and ok[bp_index]:
            body[op_index] = [lm[bp_index, 0] * width, lm[bp_index, 1] * height, lm[bp_index, 2]]
    ls, rs = BLAZE_L_SHOULDER, BLAZE_R_SHOULDER
    if ok[ls] and ok[rs]:
        mid = (lm[ls, :2] + lm[rs, :2]) / 2
        body[NECK] = [mid[0] * width, mid[1] * height, min(lm[ls, 2], lm[rs, 2])]
    return body


def _landmark_array(pose_landmarks: Any) -> np.ndarray:
    rows = []
    for lm in pose_landmarks.landmark:
        conf = float(lm.visibility)
        presence = float(getattr(lm, "presence", 0.0) or 0.0)
        if presence > 0:  # only some mediapipe graphs fill it in
            conf = min(conf, presence)
        rows.append((lm.x, lm.y, conf))
    return np.array(rows, dtype=np.float64)


class BlazePoseDetector:
    """MediaPipe BlazePose. One person at most.

    model_complexity: 0 (lite) or 1 (full; bundled with mediapipe). 2 (heavy)
    makes mediapipe download a model file on first use.
    video: MediaPipe's tracking mode (``static_image_mode=False``) for the frames of one clip, in
    order: the person found in one frame is followed into the next from their landmarks, and the
    person detector runs again only when they are lost, so a person at the frame's edge or half
    hidden is kept where independent photos lose them. It follows one person: the most prominent
    one when it (re)starts, until they are lost. Use one instance per clip (``video_session``).
    """

    def __init__(self, model_complexity: int = 1, min_detection_confidence: float = 0.5, *,
                 video: bool = False) -> None:
        self.model_complexity = model_complexity
        self.min_detection_confidence = min_detection_confidence
        self.video = video
        self._pose: Optional["mediapipe.solutions.pose.Pose"] = None
        self._lock = threading.Lock()

    def video_session(self) -> "BlazePoseDetector":
        """A new detector in tracking mode for one clip's frames (close it after the clip)."""
        return BlazePoseDetector(self.model_complexity, self.min_detection_confidence, video=True).load()

    def load(self) -> "BlazePoseDetector":
        with self._lock:
            self._load_locked()
        return self

    def _load_locked(self) -> Any:
        """The MediaPipe graph, built if needed; the caller holds ``_lock``."""
        if self._pose is None:
            try:
                import mediapipe as mp
            except ImportError as exc:
                raise SkelextError("the BlazePose detector needs mediapipe; run `pip install mediapipe`") from exc
            self._pose = mp.solutions.pose.Pose(
                static_image_mode=not self.video, model_complexity=self.model_complexity,
                enable_segmentation=False, min_detection_confidence=self.min_detection_confidence,
                smooth_landmarks=True)  # video mode: MediaPipe's own landmark filter, as its video mode runs
            logger.info("loaded MediaPipe BlazePose %s (model_complexity=%d, %s, CPU)", mp.__version__,
                        self.model_complexity, "video tracking" if self.video else "still images")
        return self._pose

    def close(self) -> None:
        """Free the MediaPipe graph; the next detection builds a new one. Waits for a running
        ``process`` (same lock): closing a graph mid-run makes MediaPipe raise in that run."""
        with self._lock:
            pose, self._pose = self._pose, None
            if pose is not None:
                pose.close()

    unload = close

    def landmarks(self, image: np.ndarray) -> Optional[np.ndarray]:
        """(33, 3) x_norm, y_norm, confidence for the one person, or None."""
        from .dwpose.detector import check_image

        image = check_image(image)
        with self._lock:  # load, process and close one at a time: a graph runs one image at a time anyway
            result = self._load_locked().process(image)
        if result.pose_landmarks is None:
            return None
        return _landmark_array(result.pose_landmarks)

    def detect_people(self, image: np.ndarray, threshold: float = DEFAULT_THRESHOLD) -> PoseFrame:
        """At most one person in ``image`` ((H, W, 3) uint8 RGB), pixels of the image."""
        from .dwpose.detector import check_image

        image = check_image(image)
        h, w = image.shape[:2]
        lm = self.landmarks(image)
        people = []
        if lm is not None:
            body = landmarks_to_body(lm, w, h, threshold)
            if (body[:, 2] > 0).any():
                people.append(Person(body=body))
        return PoseFrame(people=people, canvas_width=w, canvas_height=h)
