"""The core's per-frame steps on poses (pure: frames in, frames out; no model, no canvas).

``core`` runs them in its order; ``edit_session`` uses ``with_alternative`` for the same swap.
"""
from __future__ import annotations

import numpy as np

from .pose import PART_ANCHORS, PoseFrame, Source


def drop_body_points_outside(frame: PoseFrame) -> PoseFrame:
    """Body points outside the canvas become missing (in place; returns frame).

    The canvas is the closed rectangle [0, W] x [0, H]: a point on its edge (a 0..1 pose's 1.0 is
    exactly W) is visible and stays as given; only points beyond it are dropped."""
    w, h = frame.canvas_width, frame.canvas_height
    for person in frame.people:
        b = person.body
        outside = (b[:, 2] > 0) & ((b[:, 0] < 0) | (b[:, 1] < 0) | (b[:, 0] > w) | (b[:, 1] > h))
        if outside.any():
            b[outside] = 0.0
            person.source[outside] = Source.MISSING
    return frame


def drop_parts_of_completed(frame: PoseFrame) -> PoseFrame:
    """Hands on a completed wrist and faces on a completed nose are dropped (in place; returns frame).
    A part with no point present stays as it was (nothing hangs on the invented point)."""
    for person in frame.people:
        src = person.source
        for part, anchor in PART_ANCHORS:
            points = getattr(person, part)
            if points is not None and src[anchor] == Source.COMPLETED and (points[:, 2] > 0).any():
                setattr(person, part, None)
    return frame


def with_alternative(body: np.ndarray, alternative: np.ndarray, replace: np.ndarray) -> np.ndarray:
    """A copy of ``body`` whose ``replace`` points (completed ones) come from ``alternative``.
    The one rule for swapping in a ranked completion (the core and the editor)."""
    out = np.array(body, dtype=np.float64)
    out[replace] = np.asarray(alternative, dtype=np.float64)[replace]
    return out


def choose_alternative(frame: PoseFrame, index: int) -> PoseFrame:
    """Each person's completed body points replaced by its ranked alternative ``index``
    (0 = the best, as completed; k = ``person.alternatives[k - 1]``), in place; returns frame.

    The chosen body and the best swap places in ``person.alternatives`` (scores too), so the
    JSON still lists every alternative. People with fewer alternatives (or none: nothing was
    completed) keep their best. Detected points never move.
    """
    if index <= 0:
        return frame
    for person in frame.people:
        if index > len(person.alternatives) or len(person.alternative_scores) <= index:
            continue
        body = with_alternative(person.body, person.alternatives[index - 1], person.completed)
        alternatives = list(person.alternatives)
        alternatives[index - 1] = person.body.copy()
        scores = list(person.alternative_scores)
        scores[0], scores[index] = scores[index], scores[0]
        person.body, person.alternatives, person.alternative_scores = body, alternatives, scores
    return frame
