"""Complete partial OpenPose-18 bodies: public API.

Coordinates are pixels of the canvas; the canvas (0, 0, width, height) is the
visible frame, so the model knows which missing points lie beyond the edge.
Given points (confidence > 0, or ``fixed``) come back bit for bit; missing
points get the model's most likely completion with confidence 1.0 and
``Source.COMPLETED``; ``completion_confidence`` holds the model's belief
(0..1) that each completed point is within half a torso of the truth.
"""
from __future__ import annotations

import copy
import logging
from typing import TYPE_CHECKING, List, Optional, Sequence, Tuple

import numpy as np

from .errors import SkelextError
from .pose import N_BODY, Person, PoseFrame, Source
from .settings import validate_alternatives

if TYPE_CHECKING:
    from .completion_model import CompletionModel

logger = logging.getLogger(__name__)


def _check_canvas(width: float, height: float) -> Tuple[float, float]:
    try:
        w, h = float(width), float(height)
    except (TypeError, ValueError):
        raise SkelextError(f"canvas size must be numbers, got {width!r} x {height!r}") from None
    if not (np.isfinite(w) and np.isfinite(h) and w > 0 and h > 0):
        raise SkelextError(f"canvas size must be finite and positive, got {width!r} x {height!r}")
    return w, h


def given_masks(people: Sequence[Person], fixed: Optional[np.ndarray] = None) -> np.ndarray:
    """(N, 18) bool: each person's given body points (present, or ``fixed``: (N, 18) points the user
    locked or edited); SkelextError when one is not finite. The one given-points rule of the per-frame
    and the sequence completion."""
    if not people:
        return np.zeros((0, N_BODY), bool)
    bodies = np.stack([np.asarray(p.body) for p in people])
    givens = bodies[:, :, 2] > 0
    if fixed is not None:
        f = np.asarray(fixed)
        if f.shape != givens.shape:
            raise SkelextError(f"fixed must be 18 booleans (one per body point), got shape {f.shape[1:]}")
        givens = givens | f.astype(bool)
    if not np.isfinite(np.where(givens[..., None], bodies, 0.0)).all():
        raise SkelextError("a given body point has a non-finite coordinate or confidence; fix the pose data")
    return givens


def apply_completion(person: Person, body: np.ndarray, completed: np.ndarray, confidence: np.ndarray,
                     alternatives: Sequence[np.ndarray], scores: Sequence[float]) -> None:
    """Write one completion into ``person`` (in place): the body, ``Source.COMPLETED`` where
    ``completed``, the model's confidence, the ranked alternatives' bodies and their scores (best first).
    The one place ranked completions become Person fields (per frame and over a clip)."""
    source = person.source.copy()
    source[completed] = Source.COMPLETED
    person.body, person.source = body, source
    person.completion_confidence = confidence
    person.alternatives, person.alternative_scores = list(alternatives), [float(x) for x in scores]


def _complete_many(people: Sequence[Person], givens: Sequence[np.ndarray], rects: np.ndarray, alternatives: int,
                   model: Optional["CompletionModel"]) -> List[Person]:
    """Complete several people in one forward pass. givens (N, 18) bool; rects (N, 4) px.

    The completed bodies are built for everyone at once (given rows are copied from the
    input, so they come back bit for bit); only the hand-over to the Person objects
    loops in Python.
    """
    from .completion_model import load_model, rank_completions

    out = [p.copy() for p in people]
    if not out:
        return out
    given = np.asarray(givens, bool).reshape(len(out), N_BODY)
    bodies = np.stack([p.body for p in out])
    full = given.all(1)
    for i in np.nonzero(full)[0]:
        out[i].completion_confidence = np.ones(N_BODY)
        out[i].alternatives, out[i].alternative_scores = [], [1.0]
    todo = np.nonzero(~full)[0]
    if not len(todo):
        return out
    model = model or load_model()
    g = given[todo]
    base = bodies[todo]
    xy = np.where(g[..., None], base[..., :2], 0.0)
    pred = model.predict(xy, g, rects[todo])
    ranked = rank_completions(pred, ~g, alternatives, calibration=model.calibration)
    miss = ~g
    m = ranked.options_px.shape[1]
    options = np.repeat(base[:, None], m, 1)  # (T, M, 18, 3)
    options[..., :2] = np.where(miss[:, None, :, None], ranked.options_px, options[..., :2])
    options[..., 2] = np.where(miss[:, None], 1.0, options[..., 2])
    conf = np.where(miss, ranked.confidence, 1.0)
    counts = (ranked.scores > 0).sum(1)
    scores = ranked.scores.tolist()
    for n, i in enumerate(todo.tolist()):
        person = out[i]
        if not pred.ok[n]:
            logger.info("person %d: fewer than 2 usable body points; returned unchanged", i)
            person.completion_confidence = None
            continue
        k = int(counts[n])
        opts = options[n, :k].copy()
        apply_completion(person, opts[0], miss[n], conf[n], opts[1:], scores[n][:k])
    return out


def complete_person(person: Person, canvas_width: float, canvas_height: float, *, alternatives: int = 1,
                    fixed: Optional[np.ndarray] = None, model: Optional["CompletionModel"] = None) -> Person:
    """Complete one person on a canvas_width x canvas_height pixel frame; returns a new Person.

    person.body: (18, 3) x_px, y_px, conf (conf 0 = missing). fixed: optional (18,)
    bool of points the user locked or edited (they count as given). alternatives:
    1..8 ranked completions (``person.alternatives`` holds the k-1 after the best,
    ``alternative_scores`` the k mixture probabilities, best first, sum <= 1; fewer
    are returned when the model has fewer distinct ones). With fewer than 2 usable
    points the copy comes back unchanged with ``completion_confidence`` None.
    """
    validate_alternatives(alternatives)
    w, h = _check_canvas(canvas_width, canvas_height)
    if not isinstance(person, Person):
        raise SkelextError(f"complete_person needs a Person, got {type(person).__name__}")
    given = given_masks([person], None if fixed is None else np.asarray(fixed)[None])[0]
    return _complete_many([person], [given], np.array([[0.0, 0.0, w, h]]), alternatives, model)[0]


def complete_frame(frame: PoseFrame, *, alternatives: int = 1, model: Optional["CompletionModel"] = None) -> PoseFrame:
    """Complete every person of a frame (one batched forward pass); returns a new PoseFrame.

    The frame's canvas (pixels) is the visible rectangle for everyone.
    """
    return complete_frames([frame], alternatives=alternatives, model=model)[0]


def complete_frames(frames: Sequence[PoseFrame], *, alternatives: int = 1,
                    model: Optional["CompletionModel"] = None) -> List[PoseFrame]:
    """Complete every person of several frames in one batched forward pass; new PoseFrames.

    Each frame's canvas (pixels) is the visible rectangle for its people.
    """
    validate_alternatives(alternatives)
    people: List[Person] = []
    rects: List[np.ndarray] = []
    for frame in frames:
        w, h = _check_canvas(frame.canvas_width, frame.canvas_height)
        people.extend(frame.people)
        rects.extend([np.array([0.0, 0.0, w, h])] * len(frame.people))
    done = _complete_many(people, given_masks(people), np.array(rects).reshape(-1, 4), alternatives, model)
    out: List[PoseFrame] = []
    start = 0
    for frame in frames:
        n = len(frame.people)
        out.append(PoseFrame(people=done[start:start + n], canvas_width=frame.canvas_width,
                             canvas_height=frame.canvas_height, animals=copy.deepcopy(frame.animals),
                             extra=copy.deepcopy(frame.extra), normalized=frame.normalized,
                             source_keys=frame.source_keys))
        start += n
    return out
