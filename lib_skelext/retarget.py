"""Retargeting: a driving motion drawn with a reference character's body (bone lengths, size, place).

Pure numpy on completed bodies (pixels); ``core.retarget_poses`` completes the reference and the
driving frames first (a waist-up character gets legs), then calls ``retarget_body`` per person and
frame. The OpenPose tree is rooted at the neck; its bones are ``pose.LIMBS`` (parent -> child, each
parent placed before its children).

For each bone (p -> c) in driving frame t: the direction is the driving's, the length is the
reference's bone length scaled as the driving bone changes over the clip relative to its first frame
(foreshortening kept): ``L_ref * |D_t[c] - D_t[p]| / |D_0[c] - D_0[p]|``. The neck stands where the
reference's neck stands in the first frame and then moves with the driving neck's motion scaled by
the ratio of body sizes (reference torso / driving torso). Hands and the face move and scale with
their wrist (the forearm's length ratio) and nose (the head bone's ratio).

A leg bone the reference does not show (an end completed) takes its length from the leg-length network
(``leg_lengths``: trained for lengths, where the completion is trained for places and so shortens a bone
whose direction is uncertain), blended with the completed bone's length as the model file says, when
the completed reference stands upright (as the network's training people do); otherwise, the completed
bone's length.

Options (what the peers offer; ``settings.retarget_*``): ``position="driving"`` keeps the driving's
place; ``scale="driving"`` keeps the driving's overall size (the reference's proportions);
``mode="scale"`` only scales and moves the driving pose as a whole to the reference's size (no per-bone
lengths).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from .errors import SkelextError
from .pose import (L_ELBOW, L_HIP, L_WRIST, LIMBS, N_BODY, NECK, NOSE, R_ELBOW, R_HIP, R_WRIST, Person,
                   torso_length)

if TYPE_CHECKING:
    from .pose import PoseFrame

POSITIONS = ("reference", "driving")
SCALES = ("reference", "driving")
MODES = ("bones", "scale")
#: a bone shorter than this (px) has no direction; a first-frame bone this short gives no length ratio
_MIN_PX = 1e-6


@dataclass(frozen=True)
class RetargetOptions:
    position: str = "reference"
    scale: str = "reference"
    mode: str = "bones"

    def __post_init__(self) -> None:
        for name, allowed in (("position", POSITIONS), ("scale", SCALES), ("mode", MODES)):
            value = getattr(self, name)
            if value not in allowed:
                raise SkelextError(f"unknown retarget {name} {value!r}; choose one of {', '.join(allowed)}")


def bone_lengths(body: np.ndarray) -> np.ndarray:
    """(17,) length of each bone of ``LIMBS`` (NaN where an end is missing)."""
    out = np.full(len(LIMBS), np.nan)
    for k, (p, c) in enumerate(LIMBS):
        if body[p, 2] > 0 and body[c, 2] > 0:
            out[k] = float(np.linalg.norm(body[c, :2] - body[p, :2]))
    return out


@dataclass
class Mapping:
    """What one retargeted person keeps over the clip: the reference body, the driving's first frame
    (bone lengths, neck), the size ratio."""

    reference: np.ndarray          # (18, 3) px, completed
    reference_lengths: np.ndarray  # (17,)
    first_lengths: np.ndarray      # (17,) the driving's first frame
    first_neck: np.ndarray         # (2,)
    size_ratio: float              # reference torso / driving torso (first frame)


def reference_lengths(reference: np.ndarray, given: np.ndarray, canvas: Tuple[float, float]) -> np.ndarray:
    """(17,) bone lengths of a completed reference (18, 3) px whose points ``given`` (18,) bool were seen on a
    canvas (width, height) px: the leg bones with a completed end from the leg-length network (see above)."""
    from .leg_lengths import LEG_BONES, load_leg_model

    lengths = bone_lengths(reference)
    given = np.asarray(given, bool) & (reference[:, 2] > 0)
    hidden = [j for j, (p, c) in enumerate(LEG_BONES) if not (given[p] and given[c])]
    if not hidden or not upright(reference):
        return lengths
    model = load_leg_model()
    net, ok = model.predict(reference[None, :, :2], given[None], np.array([[0.0, 0.0, *canvas]]))
    if not ok[0]:
        return lengths
    for j in hidden:
        k = LIMBS.index(LEG_BONES[j])
        if np.isfinite(lengths[k]) and lengths[k] > _MIN_PX:
            lengths[k] = float(np.exp(model.blend * np.log(net[0, j]) + (1 - model.blend) * np.log(lengths[k])))
    return lengths


def upright(body: np.ndarray) -> bool:
    """The neck lies at least half a torso above the mid-hip (within ~60 degrees of upright)."""
    torso = torso_length(body)
    return bool(torso) and (body[R_HIP, 1] + body[L_HIP, 1]) / 2 - body[NECK, 1] >= 0.5 * torso


def start_mapping(reference: np.ndarray, first: np.ndarray, lengths: Optional[np.ndarray] = None) -> Mapping:
    """The mapping from a driving person's first frame (18, 3) onto the reference body (18, 3); lengths:
    the reference's bone lengths (17,) (default: measured on the reference body)."""
    ref_torso, drv_torso = torso_length(reference), torso_length(first)
    if not ref_torso or not drv_torso:
        raise SkelextError("retarget needs the neck and both hips of the reference and of the driving pose "
                           "(after completion)")
    return Mapping(reference=reference, reference_lengths=bone_lengths(reference) if lengths is None else lengths,
                   first_lengths=bone_lengths(first), first_neck=first[NECK, :2].copy(),
                   size_ratio=ref_torso / drv_torso)


def retarget_body(driving: np.ndarray, mapping: Mapping,
                  options: RetargetOptions = RetargetOptions()) -> Tuple[np.ndarray, float, float]:
    """One driving body (18, 3) px -> (retargeted body (18, 3) px, forearm ratio, head ratio).

    The ratios are retargeted length / driving length of the forearms and of the neck -> nose bone,
    for the hands and the face."""
    out = np.zeros((N_BODY, 3))
    if driving[NECK, 2] <= 0:
        return out, 1.0, 1.0
    global_scale = mapping.size_ratio if options.scale == "reference" else 1.0
    if options.position == "reference":
        root = mapping.reference[NECK, :2] + global_scale * (driving[NECK, :2] - mapping.first_neck)
    else:
        root = driving[NECK, :2]
    out[NECK] = [root[0], root[1], 1.0]
    lengths_scale = 1.0 if options.scale == "reference" else 1.0 / mapping.size_ratio
    ratios = np.ones(len(LIMBS))
    for k, (p, c) in enumerate(LIMBS):
        if out[p, 2] <= 0 or driving[p, 2] <= 0 or driving[c, 2] <= 0:
            continue
        vec = driving[c, :2] - driving[p, :2]
        if options.mode == "scale":
            out[c] = [*(out[p, :2] + global_scale * vec), 1.0]
            ratios[k] = global_scale
            continue
        now = float(np.hypot(*vec))
        first, ref = mapping.first_lengths[k], mapping.reference_lengths[k]
        if not (np.isfinite(first) and np.isfinite(ref)) or first < _MIN_PX:
            length = global_scale * now  # no reference length for this bone: the body's scale
        else:
            length = ref * lengths_scale * now / first
        out[c] = [*(out[p, :2] + (vec / now * length if now > _MIN_PX else 0.0)), 1.0]
        ratios[k] = length / now if now > _MIN_PX else global_scale
    forearm = {R_WRIST: _limb(R_ELBOW, R_WRIST), L_WRIST: _limb(L_ELBOW, L_WRIST)}
    return out, float(np.mean([ratios[forearm[R_WRIST]], ratios[forearm[L_WRIST]]])), float(ratios[_limb(NECK, NOSE)])


def _limb(p: int, c: int) -> int:
    return LIMBS.index((p, c))


def move_part(points: Optional[np.ndarray], driving_anchor: np.ndarray, out_anchor: np.ndarray,
              ratio: float) -> Optional[np.ndarray]:
    """A hand or face (n, 3) of the driving pose moved onto its retargeted anchor and scaled about it."""
    if points is None or driving_anchor[2] <= 0 or out_anchor[2] <= 0:
        return None
    out = points.copy()
    present = out[:, 2] > 0
    out[present, :2] = out_anchor[:2] + ratio * (points[present, :2] - driving_anchor[:2])
    out[present, 2] = 1.0
    return out


def retarget_person(driving: Person, mapping: Mapping, options: RetargetOptions = RetargetOptions()) -> Person:
    """A driving person -> the same motion with the reference's body; hands with their wrists, the face
    with the nose. The ``skelext`` record lists what was retargeted and what was completed (in the
    driving frame and in the reference)."""
    body, forearm, head = retarget_body(driving.body, mapping, options)
    person = Person(body=body, source=driving.source.copy(),
                    hand_left=move_part(driving.hand_left, driving.body[L_WRIST], body[L_WRIST], forearm),
                    hand_right=move_part(driving.hand_right, driving.body[R_WRIST], body[R_WRIST], forearm),
                    face=move_part(driving.face, driving.body[NOSE], body[NOSE], head))
    person.source[body[:, 2] <= 0] = 0
    record = dict(driving.extra.get("skelext") or {})
    for key in ("completed", "confidence", "alternatives", "best_score", "scores"):
        record.pop(key, None)
    record["retargeted"] = [int(i) for i in np.flatnonzero(body[:, 2] > 0)]
    person.extra = {"skelext": record}
    return person


def options_from(settings: Any) -> RetargetOptions:
    return RetargetOptions(position=settings.retarget_position, scale=settings.retarget_scale,
                           mode=settings.retarget_mode)


def reference_from_image(image: Any, settings: Any, detector: Any = None, location: Any = None) -> "PoseFrame":
    """The reference character from a photo: its people as detected (``settings.detector``), not yet
    completed (``retarget_poses`` completes them), on the resized photo's canvas."""
    from .core import process_image

    return process_image(image, settings.replace(complete=False, canvas="keep", sequence="off"), detector=detector,
                         location=location, draw=False).frame


def _check_inputs(frames: "List[PoseFrame]", reference: "PoseFrame") -> Person:
    """The reference's one person; SkelextError for an empty clip, mixed units, no or several people."""
    if not frames:
        raise SkelextError("empty driving clip: give at least one frame")
    if len({bool(f.normalized) for f in frames}) > 1:
        raise SkelextError("the driving frames mix 0..1 and pixel coordinates; give them in one unit "
                           "(or say which with coords)")
    people = [p for p in reference.people if (p.body[:, 2] > 0).any()]
    if not people:
        raise SkelextError("no person in the reference: give a pose or photo showing the character")
    if len(people) > 1:
        raise SkelextError(f"the reference shows {len(people)} people; give one (crop the photo, or keep one "
                           "person in the pose)")
    return people[0]


def complete_reference(person: Person, reference: "PoseFrame", settings: Any,
                       on_failure: str = "fallback") -> Tuple[Person, np.ndarray, bool]:
    """The reference person completed (a waist-up character gets legs) -> (the completed person, its bone
    lengths (17,) with ``reference_lengths``' leg lengths, a model failed). Both models run under the
    completion guard: on a fallback, the person as given or the completed lengths."""
    from .core import complete_poses
    from .guard import complete_guarded
    from .pose import PoseFrame

    frame = PoseFrame([person.copy()], reference.canvas_width, reference.canvas_height)
    result = complete_poses([frame], settings, on_failure=on_failure)[0]
    completed = result.frame.people[0]
    lengths, failed = complete_guarded(lambda: reference_lengths(
        completed.body, ~completed.completed, (result.frame.canvas_width, result.frame.canvas_height)), on_failure)
    return completed, bone_lengths(completed.body) if lengths is None else lengths, failed or result.completion_failed


def retarget_poses(driving: "Sequence[PoseFrame]", reference: "PoseFrame", settings: Any = None, *,
                   fps: Optional[float] = None, on_failure: str = "fallback") -> "List[Any]":
    """The pipeline: driving frames (pixels; one frame or a clip) and a reference pose (one person) ->
    one ``core.PoseResult`` per driving frame, on the reference's canvas (then ``settings.canvas``,
    one transform for the clip).

    The reference is completed first (``complete_reference``: a waist-up character gets legs, their
    lengths from ``reference_lengths``), and so are the driving frames (a clip with sequence completion
    in ``settings.sequence_mode``, so it is steady; people tracked); each driving person is mapped from
    the first frame their track appears in. A completion failure follows ``on_failure`` (``core``):
    "raise" -> ``CompletionFailed``; "fallback" -> the poses as given are retargeted (results marked
    ``completion_failed``). Raises SkelextError for no or several people in the reference, an empty
    clip, driving frames that mix 0..1 and pixel coordinates, or a reference or driving pose without
    neck and hips.
    """
    from .canvas import apply_shared_canvas_mode
    from .core import complete_poses
    from .pose import PoseFrame
    from .result import PoseResult
    from .settings import PipelineSettings

    settings = settings or PipelineSettings()
    frames = list(driving)
    person = _check_inputs(frames, reference)
    keep = settings.replace(canvas="keep", alternatives=1, rewrite_scores=False, sequence="off")
    ref_person, ref_lengths, failed = complete_reference(person, reference, keep, on_failure)
    clip = keep.replace(sequence=settings.sequence_mode) if len(frames) > 1 else keep
    done = complete_poses(frames, clip, fps=fps, on_failure=on_failure)
    failed = failed or any(r.completion_failed for r in done)
    options = options_from(settings)
    mappings: Dict[Any, Mapping] = {}
    out_frames = []
    for result in done:
        people_out = []
        for i, person in enumerate(result.frame.people):
            if person.body[NECK, 2] <= 0:
                continue
            key = (person.extra.get("skelext") or {}).get("track_id", i)
            if key not in mappings:
                mappings[key] = start_mapping(ref_person.body, person.body, ref_lengths)
            moved = retarget_person(person, mappings[key], options)
            moved.extra["skelext"]["reference_completed"] = [int(j) for j in np.flatnonzero(ref_person.completed)]
            people_out.append(moved)
        out_frames.append(PoseFrame(people_out, reference.canvas_width, reference.canvas_height,
                                    normalized=bool(frames[0].normalized)))  # "same" units: the driving's
    out_frames, transform = apply_shared_canvas_mode(out_frames, settings.canvas, settings.fit_margin,
                                                     in_place=True)
    return [PoseResult(frame=f, detected=src, settings=settings, transform=transform, completion_failed=failed)
            for f, src in zip(out_frames, frames)]
