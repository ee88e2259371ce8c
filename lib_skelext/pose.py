"""Pose data model: people with 18 OpenPose body points, optional face and hands.

Coordinates are pixels of the canvas everywhere in skelext (see
``openpose_json`` for 0..1 files). A body point is *present* when its
confidence is > 0; ``Person.source`` records where each point came from.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Dict, List, Optional

import numpy as np

N_BODY = 18
N_HAND = 21

BODY_NAMES = (
    "nose", "neck", "right_shoulder", "right_elbow", "right_wrist",
    "left_shoulder", "left_elbow", "left_wrist", "right_hip", "right_knee",
    "right_ankle", "left_hip", "left_knee", "left_ankle", "right_eye",
    "left_eye", "right_ear", "left_ear",
)
NOSE, NECK, R_SHOULDER, R_ELBOW, R_WRIST, L_SHOULDER, L_ELBOW, L_WRIST = range(8)
R_HIP, R_KNEE, R_ANKLE, L_HIP, L_KNEE, L_ANKLE, R_EYE, L_EYE, R_EAR, L_EAR = range(8, 18)

#: The parts that hang on a body point: (Person attribute, anchor index). A hand or face follows its
#: anchor when it moves, and is dropped when its anchor was invented (completed).
PART_ANCHORS = (("hand_left", L_WRIST), ("hand_right", R_WRIST), ("face", NOSE))

#: Index of each point's mirror image (left <-> right), for flips.
BODY_FLIP = (0, 1, 5, 6, 7, 2, 3, 4, 11, 12, 13, 8, 9, 10, 15, 14, 17, 16)

#: OpenPose limbs as 0-based (a, b) body indices, in ControlNet's drawing order.
LIMBS = (
    (1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10),
    (1, 11), (11, 12), (12, 13), (1, 0), (0, 14), (14, 16), (0, 15), (15, 17),
)

#: OpenPose index <- COCO-17 index (neck, OpenPose 1, is the shoulders' mean).
COCO17_TO_OPENPOSE = (0, -1, 6, 8, 10, 5, 7, 9, 12, 14, 16, 11, 13, 15, 2, 1, 4, 3)

#: COCO-WholeBody-133 slices (DWPose's output layout, before the neck is inserted).
WB_FACE = slice(23, 91)
WB_LEFT_HAND = slice(91, 112)
WB_RIGHT_HAND = slice(112, 133)

#: DWPose / ControlNet: points scoring below this are missing.
DWPOSE_SCORE_THRESHOLD = 0.3


class Source(IntEnum):
    """Where a body point came from."""

    MISSING = 0
    DETECTED = 1
    COMPLETED = 2
    EDITED = 3


@dataclass
class Person:
    """One person.

    body: (18, 3) float64, x_px, y_px, confidence; confidence 0 = missing.
    source: (18,) uint8 ``Source`` per body point.
    face: (n, 3) or None (ControlNet writes n = 70: 68 face points + 2 eyes).
    hand_left, hand_right: (21, 3) or None.
    completion_confidence: (18,) in 0..1 for every point (1 for given ones)
        once the person went through completion, else None.
    alternatives: further ranked completions, each (18, 3), best first
        (the main ``body`` is alternative 0).
    extra: unknown keys of the person's JSON object, kept for round trips.
    origin: what ``openpose_json`` read for this person (``PersonOrigin``: key order, raw
        values, pixels), so untouched values are written back verbatim (integers stay
        integers); None for people built in code or whose coordinates were transformed.
    """

    body: np.ndarray
    source: Optional[np.ndarray] = None
    face: Optional[np.ndarray] = None
    hand_left: Optional[np.ndarray] = None
    hand_right: Optional[np.ndarray] = None
    completion_confidence: Optional[np.ndarray] = None
    alternatives: List[np.ndarray] = field(default_factory=list)
    alternative_scores: List[float] = field(default_factory=list)
    extra: Dict[str, Any] = field(default_factory=dict)
    origin: Optional[Any] = None

    def __post_init__(self) -> None:
        self.body = np.array(self.body, dtype=np.float64).reshape(N_BODY, 3)
        if self.source is None:
            self.source = np.where(self.body[:, 2] > 0, Source.DETECTED, Source.MISSING).astype(np.uint8)
        else:
            self.source = np.asarray(self.source, dtype=np.uint8).reshape(N_BODY)
        for name, n in (("face", None), ("hand_left", N_HAND), ("hand_right", N_HAND)):
            part = getattr(self, name)
            if part is not None:
                part = np.array(part, dtype=np.float64).reshape(-1, 3)
                if n is not None and len(part) != n:
                    raise ValueError(f"{name} needs {n} points, got {len(part)}")
                setattr(self, name, part)

    @property
    def present(self) -> np.ndarray:
        """(18,) bool: body points with confidence > 0."""
        return self.body[:, 2] > 0

    @property
    def completed(self) -> np.ndarray:
        """(18,) bool: body points the model filled in."""
        return self.source == Source.COMPLETED

    def copy(self) -> "Person":
        """An independent copy: new arrays (same values bit for bit), a deep copy of ``extra``;
        ``origin`` is shared (read-only). Several times faster than ``copy.deepcopy``."""
        def arr(a: Optional[np.ndarray]) -> Optional[np.ndarray]:
            return None if a is None else a.copy()

        new = object.__new__(Person)  # the fields are valid already: no second check and copy in __post_init__
        new.__dict__.update(body=self.body.copy(), source=arr(self.source), face=arr(self.face),
                            hand_left=arr(self.hand_left), hand_right=arr(self.hand_right),
                            completion_confidence=arr(self.completion_confidence),
                            alternatives=[a.copy() for a in self.alternatives],
                            alternative_scores=list(self.alternative_scores),
                            extra=copy.deepcopy(self.extra) if self.extra else {}, origin=self.origin)
        return new


@dataclass
class PoseFrame:
    """People on a canvas of canvas_width x canvas_height pixels."""

    people: List[Person]
    canvas_width: int
    canvas_height: int
    animals: Optional[list] = None
    extra: Dict[str, Any] = field(default_factory=dict)
    #: The units the frame was read in; writers use them by default.
    normalized: bool = False
    #: The top-level keys of the JSON object it was read from, in order (None: built in code);
    #: writers keep that order and add no key that was not there (but people and the canvas).
    source_keys: Optional[List[str]] = None

    def copy(self) -> "PoseFrame":
        """An independent copy (``Person.copy`` for each person)."""
        return PoseFrame(people=[p.copy() for p in self.people], canvas_width=self.canvas_width,
                         canvas_height=self.canvas_height, animals=copy.deepcopy(self.animals),
                         extra=copy.deepcopy(self.extra), normalized=self.normalized,
                         source_keys=None if self.source_keys is None else list(self.source_keys))


def _missing_to_zero(points: np.ndarray, threshold: float) -> np.ndarray:
    out = np.array(points, dtype=np.float64)
    low = ~(out[:, 2] >= threshold) | ~np.isfinite(out).all(axis=1)
    out[low] = 0.0
    return out


def body_from_coco17(keypoints: np.ndarray, threshold: float = DWPOSE_SCORE_THRESHOLD) -> np.ndarray:
    """COCO-17 (17, 3) x, y, score -> OpenPose-18 body (18, 3).

    The neck is the mean of the shoulders, present only when both are; points
    scoring below ``threshold`` become missing ``[0, 0, 0]``. For COCO ground
    truth pass visibility flags as scores and threshold=1 (labelled points).
    """
    kp = np.asarray(keypoints, dtype=np.float64).reshape(17, 3)
    body = np.zeros((N_BODY, 3))
    for op_index, coco_index in enumerate(COCO17_TO_OPENPOSE):
        if coco_index >= 0:
            body[op_index] = kp[coco_index]
    ls, rs = kp[5], kp[6]
    if ls[2] >= threshold and rs[2] >= threshold:
        body[NECK] = [(ls[0] + rs[0]) / 2, (ls[1] + rs[1]) / 2, min(ls[2], rs[2])]
    else:
        body[NECK] = 0.0
    return _missing_to_zero(body, threshold)


def person_from_wholebody133(keypoints: np.ndarray, threshold: float = DWPOSE_SCORE_THRESHOLD) -> Person:
    """COCO-WholeBody-133 (133, 3) -> Person, as ControlNet formats DWPose output.

    Body as ``body_from_coco17``; face = 68 face points + the two eye points
    (R eye, L eye) = 70; hands 21 each. A part whose points are all missing is None.
    """
    kp = np.asarray(keypoints, dtype=np.float64).reshape(133, 3)
    body = body_from_coco17(kp[:17], threshold)

    def part(points: np.ndarray) -> Optional[np.ndarray]:
        cleaned = _missing_to_zero(points, threshold)
        return cleaned if (cleaned[:, 2] > 0).any() else None

    face = part(kp[WB_FACE])
    if face is not None:
        face = np.vstack([face, body[R_EYE], body[L_EYE]])
    return Person(body=body, face=face, hand_left=part(kp[WB_LEFT_HAND]), hand_right=part(kp[WB_RIGHT_HAND]))


def torso_length(body: np.ndarray) -> Optional[float]:
    """Neck -> mid-hip distance in pixels, or None if the points are missing."""
    b = np.asarray(body)
    if b[NECK, 2] > 0 and b[R_HIP, 2] > 0 and b[L_HIP, 2] > 0:
        mid_hip = (b[R_HIP, :2] + b[L_HIP, :2]) / 2
        return float(np.linalg.norm(b[NECK, :2] - mid_hip))
    return None
