"""OpenPose JSON as ControlNet and the openpose editors write and read it.

Format: ``{"people": [{"pose_keypoints_2d": [x, y, c] * 18, "face_keypoints_2d":
[...], "hand_left_keypoints_2d": [...], "hand_right_keypoints_2d": [...]}],
"animals": [], "canvas_width": W, "canvas_height": H}``.

* The hosts' rule: every present point skelext writes, detected or completed, is
  ``[x, y, 1.0]``; missing points are ``[0, 0, 0]``. sd-webui-controlnet's
  ``decode_json_as_poses``, comfyui_controlnet_aux's drawing and the openpose
  editor drop every point with c < 1.0. The detector's scores (``scores``, per
  part), which points were completed and the model's confidence go in the extra
  per-person key ``"skelext"`` that other readers ignore, and are read back from it.
  Points read from a file and left unchanged are written back exactly as read
  (``core``'s ``rewrite_scores`` option applies the rule to them too).
* Coordinates are pixels or 0..1. The reader guesses only when not told: a
  file is normalised when every present coordinate lies in [-1, 2] (not
  ControlNet's [0, 1], which completed off-canvas points would break). Every writer
  follows one rule (``output_normalized``): never 0..1 with a coordinate outside
  [0, 1]; "as read" then writes pixels, and an explicit 0..1 request is refused.
* Reading then writing loses nothing: unknown keys, animals and every point
  that was not changed are written back exactly as read (``Person.origin``,
  ``PoseFrame.source_keys``).

Over 300 lines on purpose: the reader and the writer are one contract (key
tables, units, the origin bookkeeping and the ``skelext`` key must change together).
"""
from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from .errors import SkelextError
from .pose import N_BODY, N_HAND, Person, PoseFrame, Source

BODY_KEY = "pose_keypoints_2d"
FACE_KEY = "face_keypoints_2d"
LEFT_KEY = "hand_left_keypoints_2d"
RIGHT_KEY = "hand_right_keypoints_2d"
SKELEXT_KEY = "skelext"
_PART_KEYS = (BODY_KEY, FACE_KEY, LEFT_KEY, RIGHT_KEY)

MAX_PEOPLE = 1000


@dataclass
class PersonOrigin:
    """What was read for one person: its keys in order, the raw part values, and those parts in
    pixels; a part written back unchanged is written from ``raw`` (same numbers, same types)."""

    keys: List[str]
    raw: Dict[str, Any]
    px: Dict[str, Optional[np.ndarray]]
    #: apply the hosts' rule to unchanged points too (``apply_hosts_rule``)
    rewrite_scores: bool = False
#: Frames in one list-of-frames document (a 10-minute clip at 60 fps is 36,000).
MAX_FRAMES = 100_000
MAX_FACE_POINTS = 200
#: Coordinates beyond this many pixels from the canvas origin are refused (a typo or garbage: a pose
#: that far off would be drawn as nothing and could not be placed on any canvas).
MAX_COORDINATE_PX = 1e6
#: Normalised files have every present coordinate within this range.
_NORMALIZED_RANGE = (-1.0, 2.0)


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        shown = f" {str(value)[:20]!r}" if isinstance(value, (str, bool)) else ""
        raise SkelextError(f"{where}: expected a number, got {type(value).__name__}{shown}")
    try:
        number = float(value)
    except OverflowError:
        raise SkelextError(f"{where}: number too large") from None
    if not math.isfinite(number):
        raise SkelextError(f"{where}: numbers must be finite, got {value}")
    return number


def _points(values: Any, where: str, count: Optional[int]) -> Optional[np.ndarray]:
    """A flat [x, y, c, ...] list -> (n, 3) float64, or None for null / []."""
    if values is None:
        return None
    if not isinstance(values, list):
        raise SkelextError(f"{where}: expected a list of numbers or null, got {type(values).__name__}")
    if not values:
        return None
    if len(values) % 3:
        raise SkelextError(f"{where}: length must be a multiple of 3 (x, y, confidence), got {len(values)}")
    n = len(values) // 3
    if count is not None and n != count:
        raise SkelextError(f"{where}: expected {count} points ({count * 3} numbers), got {len(values)} numbers")
    if count is None and n > MAX_FACE_POINTS:
        raise SkelextError(f"{where}: too many points ({n})")
    return np.array([_number(v, where) for v in values], dtype=np.float64).reshape(n, 3)


def _canvas_size(doc: Dict[str, Any], key: str) -> int:
    if key not in doc:
        raise SkelextError(f"missing {key!r}: the canvas size in pixels is required")
    value = _number(doc[key], key)
    if value <= 0 or value != int(value) or value > 100_000:
        raise SkelextError(f"{key} must be a positive whole number of pixels up to 100000, got {doc[key]}")
    return int(value)


def _guess_normalized(people: Sequence[Dict[str, Any]]) -> bool:
    coords: List[np.ndarray] = []
    for person in people:
        for part in person.values():
            if isinstance(part, np.ndarray) and part.ndim == 2 and part.shape[1] == 3:
                present = part[part[:, 2] > 0]
                coords.append(present[:, :2].ravel())
    if not coords:
        return False
    values = np.concatenate(coords)
    if values.size == 0:
        return False
    lo, hi = _NORMALIZED_RANGE
    return bool(values.min() >= lo and values.max() <= hi)


def parse_json(text: Union[str, bytes]) -> Any:
    """json.loads with SkelextError for every malformed input (NaN included)."""
    def reject_constant(name: str) -> None:
        raise SkelextError(f"invalid JSON: {name} is not allowed")

    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8-sig")  # a BOM, as Windows editors write, is fine
        return json.loads(text, parse_constant=reject_constant)
    except SkelextError:
        raise
    except UnicodeDecodeError:
        raise SkelextError("invalid JSON: not UTF-8 text") from None
    except RecursionError:
        raise SkelextError("invalid JSON: nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise SkelextError(f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except ValueError:  # e.g. an integer beyond Python's 4300-digit conversion limit
        raise SkelextError("invalid JSON: a number has too many digits") from None


#: Deepest nesting accepted anywhere in a document (OpenPose JSON needs 4);
#: deeper documents could be read but not copied or written back.
MAX_DEPTH = 64


def _check_tree(doc: Dict[str, Any]) -> None:
    """Reject what could not be copied or written back: deep nesting, NaN/Infinity, huge ints."""
    def join(where: str, key: Any, container: Any) -> str:
        if isinstance(container, list):
            return f"{where}[{key}]"
        key = json.dumps(str(key))[1:-1][:40]  # one line, short
        return f"{where}.{key}" if where else key

    stack: List[Tuple[Any, str, int]] = [(doc, "", 1)]
    while stack:
        value, where, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise SkelextError(f"{where}: nested too deeply (more than {MAX_DEPTH} levels)")
        for key, child in (value.items() if isinstance(value, dict) else enumerate(value)):
            if isinstance(child, (list, dict)):
                stack.append((child, join(where, key, value), depth + 1))
            elif isinstance(child, float):
                if not math.isfinite(child):
                    raise SkelextError(f"{join(where, key, value)}: numbers must be finite, got {child}")
            elif isinstance(child, int) and child.bit_length() > 10_000:
                raise SkelextError(f"{join(where, key, value)}: number too large")


def _check_coordinates(i: int, key: str, points: Optional[np.ndarray], limit: Optional[float]) -> None:
    if points is None or limit is None:
        return
    far = (points[:, 2] > 0) & (np.abs(points[:, :2]) > limit).any(axis=1)
    if far.any():
        k = int(np.flatnonzero(far)[0])
        raise SkelextError(f"people[{i}].{key} point {k}: coordinate ({points[k, 0]:g}, {points[k, 1]:g}) is out of "
                           f"range (at most {limit:g} pixels from the canvas origin)")


def frame_from_dict(doc: Any, *, normalized: Optional[bool] = None,
                    max_coordinate: Optional[float] = MAX_COORDINATE_PX) -> PoseFrame:
    """Parsed OpenPose JSON -> PoseFrame in pixels. Raises SkelextError.
    max_coordinate: present points further than this (pixels, either axis) are refused (None: any)."""
    if not isinstance(doc, dict):
        raise SkelextError(f"expected a JSON object with 'people' and the canvas size, got {type(doc).__name__}")
    _check_tree(doc)
    width = _canvas_size(doc, "canvas_width")
    height = _canvas_size(doc, "canvas_height")
    people_doc = doc.get("people", [])
    if not isinstance(people_doc, list):
        raise SkelextError("'people' must be a list")
    if len(people_doc) > MAX_PEOPLE:
        raise SkelextError(f"too many people: {len(people_doc)} (at most {MAX_PEOPLE})")
    animals = doc.get("animals")
    if animals is not None and not isinstance(animals, list):
        raise SkelextError("'animals' must be a list")

    parsed: List[Dict[str, Any]] = []
    for i, person_doc in enumerate(people_doc):
        if not isinstance(person_doc, dict):
            raise SkelextError(f"people[{i}] must be an object")
        parts: Dict[str, Any] = {}
        parts[BODY_KEY] = _points(person_doc.get(BODY_KEY), f"people[{i}].{BODY_KEY}", N_BODY)
        parts[FACE_KEY] = _points(person_doc.get(FACE_KEY), f"people[{i}].{FACE_KEY}", None)
        parts[LEFT_KEY] = _points(person_doc.get(LEFT_KEY), f"people[{i}].{LEFT_KEY}", N_HAND)
        parts[RIGHT_KEY] = _points(person_doc.get(RIGHT_KEY), f"people[{i}].{RIGHT_KEY}", N_HAND)
        parsed.append(parts)

    if normalized is None:
        normalized = _guess_normalized(parsed)
    scale = np.array([width, height, 1.0]) if normalized else np.ones(3)

    people: List[Person] = []
    for person_doc, parts in zip(people_doc, parsed):
        pixel_parts = {k: (None if v is None else v * scale) for k, v in parts.items()}
        for key, points in pixel_parts.items():
            _check_coordinates(len(people), key, points, max_coordinate)
        body = pixel_parts[BODY_KEY] if pixel_parts[BODY_KEY] is not None else np.zeros((N_BODY, 3))
        extra = {k: v for k, v in person_doc.items() if k not in _PART_KEYS}
        person = Person(
            body=body,
            face=pixel_parts[FACE_KEY],
            hand_left=pixel_parts[LEFT_KEY],
            hand_right=pixel_parts[RIGHT_KEY],
            extra=extra,
        )
        _restore_skelext_info(person, scale)
        read_px = {k: (None if v is None else v.copy()) for k, v in pixel_parts.items()}
        if isinstance(person.extra.get(SKELEXT_KEY), dict):
            _restore_scores(person, person.extra[SKELEXT_KEY], read_px)
        # What was read, to write untouched points back verbatim.
        person.origin = PersonOrigin(keys=list(person_doc.keys()),
                                     raw={k: person_doc.get(k) for k in _PART_KEYS}, px=read_px)
        people.append(person)

    extra = {k: v for k, v in doc.items() if k not in ("people", "animals", "canvas_width", "canvas_height")}
    return PoseFrame(people=people, canvas_width=width, canvas_height=height, animals=animals, extra=extra,
                     normalized=bool(normalized), source_keys=list(doc.keys()))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _restore_scores(person: Person, info: Dict[str, Any], pixel_parts: Dict[str, Optional[np.ndarray]]) -> None:
    """The detector's scores back onto the points they were recorded for (present points only), in the
    person and in what was read (so the points still count as unchanged and are written back as read)."""
    recorded = info.get(SCORES_KEY)
    if not isinstance(recorded, dict):
        return
    parts = _person_parts(person)
    for name, key in _SCORE_PARTS:
        values, points = recorded.get(name), parts.get(name)
        if points is None or not isinstance(values, list) or len(values) != len(points) \
                or not all(_is_number(v) and v >= 0 for v in values):
            continue
        scores = np.array(values, dtype=np.float64)
        use = (points[:, 2] > 0) & (scores > 0)
        if name == "body":
            use &= person.source != Source.COMPLETED
        points[use, 2] = scores[use]
        read = pixel_parts.get(key)
        if read is not None and read.shape == points.shape:
            read[use, 2] = scores[use]


def _restore_skelext_info(person: Person, scale: np.ndarray) -> None:
    """Re-read what an earlier skelext run recorded (completed points, confidence, alternatives, scores)."""
    info = person.extra.get(SKELEXT_KEY)
    if not isinstance(info, dict):
        return
    completed = info.get("completed")
    if isinstance(completed, list) and all(
            isinstance(i, int) and not isinstance(i, bool) and 0 <= i < N_BODY for i in completed):
        for i in completed:
            if person.body[i, 2] > 0:
                person.source[i] = Source.COMPLETED
    confidence = info.get("confidence")
    if isinstance(confidence, list) and len(confidence) == N_BODY and all(_is_number(c) for c in confidence):
        person.completion_confidence = np.array(confidence, dtype=np.float64)
    # Read back so that writing the person again keeps them (the writer rebuilds the key).
    alternatives, best = info.get("alternatives"), info.get("best_score")
    if isinstance(alternatives, list) and alternatives and _is_number(best) and all(
            isinstance(alt, dict) and _is_number(alt.get("score")) and isinstance(alt.get(BODY_KEY), list)
            and len(alt[BODY_KEY]) == 3 * N_BODY and all(_is_number(v) for v in alt[BODY_KEY])
            for alt in alternatives):
        person.alternatives = [np.array(alt[BODY_KEY], dtype=np.float64).reshape(N_BODY, 3) * scale
                               for alt in alternatives]
        person.alternative_scores = [float(best)] + [float(alt["score"]) for alt in alternatives]


def loads_frame(text: Union[str, bytes], *, normalized: Optional[bool] = None,
                max_coordinate: Optional[float] = MAX_COORDINATE_PX) -> PoseFrame:
    """OpenPose JSON text -> PoseFrame in pixels. Raises SkelextError on bad input."""
    return frame_from_dict(parse_json(text), normalized=normalized, max_coordinate=max_coordinate)


def frames_from_json(doc: Any, *, normalized: Optional[bool] = None) -> Tuple[List[PoseFrame], bool]:
    """One OpenPose object, or a list of them (one per video frame: ComfyUI's ``POSE_KEYPOINT``)
    -> (frames, was a list). Units are guessed per frame unless ``normalized`` says.
    Raises SkelextError naming the bad frame."""
    if isinstance(doc, dict):
        return [frame_from_dict(doc, normalized=normalized)], False
    if not isinstance(doc, list):
        raise SkelextError(f"expected an OpenPose JSON object or a list of them (one per frame), "
                           f"got {type(doc).__name__}")
    if not doc:
        raise SkelextError("empty batch: the list holds no frames")
    if len(doc) > MAX_FRAMES:
        raise SkelextError(f"too many frames: {len(doc)} (at most {MAX_FRAMES} in one list)")
    frames = []
    for i, item in enumerate(doc):
        try:
            frames.append(frame_from_dict(item, normalized=normalized))
        except SkelextError as exc:
            raise SkelextError(f"frame {i}: {exc}") from None
    return frames, True


def loads_frames(text: Union[str, bytes], *, normalized: Optional[bool] = None) -> Tuple[List[PoseFrame], bool]:
    """OpenPose JSON text holding an object or a list of frames -> (frames, was a list)."""
    return frames_from_json(parse_json(text), normalized=normalized)


def frames_to_json(frames: Sequence[PoseFrame], as_list: bool, *, normalized: Optional[bool] = None) -> Any:
    """The inverse of ``frames_from_json``: a list of objects, or the one object."""
    docs = [frame_to_dict(f, normalized=normalized) for f in frames]
    return docs if as_list else docs[0]


def _part_out(points: Optional[np.ndarray], key: str, person: Person, scale: np.ndarray,
              completed: Optional[np.ndarray]) -> Optional[list]:
    origin = person.origin
    if origin is not None:
        raw, px = origin.raw.get(key), origin.px.get(key)
        if px is None and (points is None or not (points[:, 2] > 0).any()):
            return raw  # null, [] or absent as it was (a body read as null is all zeros)
        if points is not None and px is not None and points.shape == px.shape and np.array_equal(points, px) \
                and (completed is None or not completed.any()) \
                and not (origin.rewrite_scores and _breaks_hosts_rule(raw)):
            return raw
    if points is None:
        return None
    unchanged = np.zeros(len(points), bool)  # points exactly as read: written back as they were
    if origin is not None and px is not None:
        k = min(len(px), len(points))
        unchanged[:k] = (points[:k] == px[:k]).all(1)
        if origin.rewrite_scores:
            raw_c = np.array([v for v in raw[2::3]], dtype=np.float64)[:k]
            unchanged[:k] &= (raw_c == 0) | (raw_c == 1.0)
    out: List[float] = []
    for i, point in enumerate(points):
        if unchanged[i] and not (completed is not None and completed[i]):
            out.extend(raw[3 * i:3 * i + 3])
        elif completed is not None and completed[i]:
            out.extend([float(point[0] / scale[0]), float(point[1] / scale[1]), 1.0])
        elif point[2] > 0:  # the hosts' rule: present is c = 1.0 (the score goes to the record)
            out.extend([float(point[0] / scale[0]), float(point[1] / scale[1]), 1.0])
        else:
            out.extend([0.0, 0.0, 0.0])
    return out


def _breaks_hosts_rule(raw: Any) -> bool:
    """A part as read has a present point whose c is not 1.0."""
    return isinstance(raw, list) and any(c != 0 and c != 1.0 for c in raw[2::3])


def apply_hosts_rule(frame: PoseFrame) -> PoseFrame:
    """Points read with 0 < c != 1.0 will be written as c = 1.0 too, though unchanged (in place)."""
    for person in frame.people:
        if person.origin is not None:  # shared with copies of the person: replaced, not changed
            person.origin = dataclasses.replace(person.origin, rewrite_scores=True)
    return frame


def person_to_dict(person: Person, scale: np.ndarray) -> Dict[str, Any]:
    completed = person.completed & person.present
    doc: Dict[str, Any] = {}
    origin = person.origin
    keys = origin.keys if origin is not None else list(_PART_KEYS)
    parts = {BODY_KEY: person.body, FACE_KEY: person.face, LEFT_KEY: person.hand_left, RIGHT_KEY: person.hand_right}
    for key in list(keys) + [k for k in _PART_KEYS if k not in keys]:
        if key in parts:
            value = _part_out(parts[key], key, person, scale, completed if key == BODY_KEY else None)
            if key in keys or value is not None:
                doc[key] = value
        elif key in person.extra:
            doc[key] = person.extra[key]
    for key, value in person.extra.items():
        if key not in doc:
            doc[key] = value
    info = _skelext_info(person, scale)
    scores = _detector_scores(person, doc)
    if scores:
        info = info if info is not None else {k: v for k, v in (person.extra.get(SKELEXT_KEY) or {}).items()
                                              if k not in _COMPLETION_KEYS}
        info[SCORES_KEY] = scores
    elif info is not None:
        info.pop(SCORES_KEY, None)
    if info is not None:
        doc[SKELEXT_KEY] = info
    elif not _body_unchanged(person):
        # nothing completed any more: a stale completion record would mark points again on reading;
        # other keys of the record (a sequence's track_id) stay
        rest = {k: v for k, v in (person.extra.get(SKELEXT_KEY) or {}).items() if k not in _COMPLETION_KEYS}
        if rest:
            doc[SKELEXT_KEY] = rest
        else:
            doc.pop(SKELEXT_KEY, None)
    return doc


#: The keys of the ``skelext`` record that describe a completion (rebuilt on every write).
_COMPLETION_KEYS = ("completed", "confidence", "alternatives", "best_score", "scores")
#: The record's key for the detector's scores: {"body": [18], "face": [n], "hand_left": [21], ...}
#: (0 for missing and completed points), for the parts that had a score other than 1.0.
SCORES_KEY = "scores"
_SCORE_PARTS = (("body", BODY_KEY), ("face", FACE_KEY), ("hand_left", LEFT_KEY), ("hand_right", RIGHT_KEY))


def _person_parts(person: Person) -> Dict[str, Optional[np.ndarray]]:
    return {"body": person.body, "face": person.face, "hand_left": person.hand_left, "hand_right": person.hand_right}


def _detector_scores(person: Person, written: Dict[str, Any]) -> Dict[str, List[float]]:
    """The point scores of each part where a point scoring other than 1.0 was written with c = 1.0
    (the hosts' rule), so the scores live on in the record: 0 for missing and completed points."""
    out: Dict[str, List[float]] = {}
    parts = _person_parts(person)
    for name, key in _SCORE_PARTS:
        points, values = parts[name], written.get(key)
        if points is None or not isinstance(values, list) or len(values) != 3 * len(points):
            continue
        scores = np.where(points[:, 2] > 0, points[:, 2], 0.0)
        if name == "body":
            scores = np.where(person.completed, 0.0, scores)
        written_c = np.array([v if _is_number(v) else 0.0 for v in values[2::3]], dtype=np.float64)
        if ((scores > 0) & (scores != 1.0) & (written_c == 1.0)).any():
            out[name] = [float(c) for c in scores]
    return out


def _body_unchanged(person: Person) -> bool:
    """True when the body is as it was read (then what was read is written back)."""
    origin = person.origin
    if origin is None:
        return False
    read = origin.px.get(BODY_KEY)
    return read is not None and read.shape == person.body.shape and bool(np.array_equal(read, person.body)) \
        and not (person.source == Source.EDITED).any()


def _skelext_info(person: Person, scale: np.ndarray) -> Optional[Dict[str, Any]]:
    completed = person.completed & person.present
    if not completed.any() and person.completion_confidence is None:
        return None
    info: Dict[str, Any] = dict(person.extra.get(SKELEXT_KEY) or {})
    info["completed"] = [int(i) for i in np.flatnonzero(completed)]
    if person.completion_confidence is not None:
        info["confidence"] = [round(float(c), 4) for c in person.completion_confidence]
    if person.alternatives:
        info["alternatives"] = [
            {"score": round(float(score), 4),
             BODY_KEY: [v for p in alt for v in (float(p[0] / scale[0]), float(p[1] / scale[1]),
                                                  1.0 if p[2] > 0 else 0.0)]}
            for alt, score in zip(person.alternatives, person.alternative_scores[1:])
        ]
        info["best_score"] = round(float(person.alternative_scores[0]), 4) if person.alternative_scores else None
    else:
        info.pop("alternatives", None)
    return info


#: ``coords`` / ``output_coords`` value -> the readers' and writers' ``normalized`` (None: guess / as read).
UNITS = {"auto": None, "same": None, "px": False, "norm": True}


def normalized_flag(units: str) -> Optional[bool]:
    """An option's units name (``coords``: auto | px | norm; ``output_coords``: same | px | norm) ->
    ``normalized`` for ``frame_from_dict`` / ``frame_to_dict``."""
    if units not in UNITS:
        raise SkelextError(f"units must be one of {', '.join(UNITS)}, got {units!r}")
    return UNITS[units]


def points_outside_canvas(frame: PoseFrame, *, changed_only: bool = False) -> int:
    """How many present points (body, hands, face) lie outside the closed canvas [0, W] x [0, H].
    changed_only: count only points not exactly as read (those are written back as they were)."""
    count = 0
    for person in frame.people:
        origin = person.origin if changed_only else None
        for key, points in ((BODY_KEY, person.body), (LEFT_KEY, person.hand_left), (RIGHT_KEY, person.hand_right),
                            (FACE_KEY, person.face)):
            if points is None:
                continue
            consider = points[:, 2] > 0
            read = origin.px.get(key) if origin is not None else None
            if read is not None and read.shape == points.shape:
                consider &= ~(points == read).all(1) | (person.completed if key == BODY_KEY else False)
            p = points[consider]
            count += int(((p[:, 0] < 0) | (p[:, 1] < 0) | (p[:, 0] > frame.canvas_width)
                          | (p[:, 1] > frame.canvas_height)).sum())
    return count


def output_normalized(frame: PoseFrame, normalized: Optional[bool]) -> bool:
    """The one units rule of every writer: never 0..1 output with a coordinate skelext wrote outside [0, 1].

    normalized None (as read): 0..1 when the frame was read so and every point lies on the canvas,
    else pixels (readers such as comfyui_controlnet_aux take a 1.71 for a pixel); True: 0..1, or a
    SkelextError when a point lies outside; False: pixels. Points of a 0..1 file written back
    exactly as read (lossless round trips) are the file's, not counted."""
    if normalized is False:
        return False
    outside = points_outside_canvas(frame, changed_only=bool(frame.normalized))
    if normalized is None:
        return bool(frame.normalized) and not outside
    if outside:
        raise SkelextError(f"0..1 output cannot hold the {outside} points outside the "
                           f"{frame.canvas_width}x{frame.canvas_height} canvas (completed limbs beyond the frame): "
                           "write pixels (output_coords px), or use canvas fit or expand")
    return True


def frame_to_dict(frame: PoseFrame, *, normalized: Optional[bool] = None) -> Dict[str, Any]:
    """PoseFrame -> OpenPose JSON object: pixels, or 0..1 (``normalized``; default: as read), by the
    units rule of ``output_normalized``."""
    normalized = output_normalized(frame, normalized)
    scale = np.array([frame.canvas_width, frame.canvas_height, 1.0]) if normalized else np.ones(3)
    if normalized != frame.normalized:
        frame = _forget_origin(frame)
    doc: Dict[str, Any] = {}
    keys = frame.source_keys or ["people", "animals", "canvas_height", "canvas_width"]
    for key in list(keys) + [k for k in ("people", "canvas_height", "canvas_width") if k not in keys]:
        if key == "people":
            doc["people"] = [person_to_dict(p, scale) for p in frame.people]
        elif key == "animals":
            doc["animals"] = frame.animals if frame.animals is not None else []
        elif key == "canvas_width":
            doc["canvas_width"] = int(frame.canvas_width)
        elif key == "canvas_height":
            doc["canvas_height"] = int(frame.canvas_height)
        elif key in frame.extra:
            doc[key] = frame.extra[key]
    for key, value in frame.extra.items():
        doc.setdefault(key, value)
    return doc


def _forget_origin(frame: PoseFrame) -> PoseFrame:
    """A copy whose points are all written from their values (units change)."""
    frame = frame.copy()
    for person in frame.people:
        person.origin = None
    return frame


def dumps_frame(frame: PoseFrame, *, normalized: Optional[bool] = None, indent: Optional[int] = None) -> str:
    """PoseFrame -> OpenPose JSON text."""
    return json.dumps(frame_to_dict(frame, normalized=normalized), indent=indent, allow_nan=False)
