"""Editing state of the UI's pose editor: pure Python + numpy, no gradio.

Over 300 lines on purpose: one state machine (snapshots, undo/redo, locks, hidden
points, alternatives, canvas modes) whose methods share its invariants.

An ``EditSession`` holds a completed ``PoseFrame`` (pixels of the current
canvas), the selected person, per-point ``hidden`` / ``locked`` flags and
undo/redo stacks of snapshots. The UI calls its methods from event handlers and
renders ``output_frame()``; the browser only draws and reports drags.

* ``move_point``: a body point gets a new position and ``Source.EDITED``;
  a hand follows its wrist, the face follows the nose.
* ``toggle_hidden``: a hidden point is left out of the output (``[0, 0, 0]``)
  and of the model's input; its value is kept so showing it again restores it.
* ``toggle_locked``: a locked point is given input to ``recomplete``, like an
  edited one, so the model keeps it.
* ``recomplete``: the model re-runs on the selected person with the detected,
  edited and locked points (not hidden ones) as input, on the original canvas
  (so "beyond the image edge" keeps its meaning in every canvas mode).
* ``choose_alternative``, ``set_canvas_mode``, ``undo``, ``redo``, ``reset``.

Every method that changes something pushes an undo snapshot first and clears
redo; methods that change nothing push nothing.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np

from .canvas import CanvasTransform, apply_canvas_mode, apply_transform
from .errors import SkelextError
from .pose import N_BODY, PART_ANCHORS, Person, PoseFrame, Source
from .settings import PipelineSettings, validate_canvas_mode
from .steps import with_alternative
#: Undo depth; older snapshots are dropped.
MAX_UNDO = 100
#: Coordinates further than this from the canvas (in canvas sizes) are refused.
MAX_OFF_CANVAS = 4.0

#: complete_person's signature: (person, canvas_width, canvas_height, *, alternatives, fixed) -> Person.
Completer = Callable[..., Person]


def _default_completer(person: Person, width: float, height: float, *, alternatives: int = 1,
                       fixed: Optional[np.ndarray] = None) -> Person:
    from .complete import complete_person

    return complete_person(person, width, height, alternatives=alternatives, fixed=fixed)


@dataclass
class _State:
    """Everything undo/redo restores."""

    frame: PoseFrame
    hidden: np.ndarray  # (n_people, 18) bool
    locked: np.ndarray  # (n_people, 18) bool
    selected_person: int
    chosen_alternative: List[int]  # per person: index into alternative_bodies (0 = best)
    alternative_bodies: List[List[np.ndarray]]  # per person: [best, alt1, ...] (18, 3) each
    alternative_scores: List[List[float]]
    canvas_mode: str
    transform: CanvasTransform
    image: Optional[np.ndarray]  # the photo warped to the current canvas, or None

    def copy(self) -> "_State":
        # The image is never modified in place: share it.
        memo = {} if self.image is None else {id(self.image): self.image}
        return copy.deepcopy(self, memo)


def _alternatives_of(person: Person) -> Tuple[List[np.ndarray], List[float]]:
    bodies = [person.body.copy()] + [np.asarray(a, dtype=np.float64).copy() for a in person.alternatives]
    scores = list(person.alternative_scores) or [1.0]
    scores += [0.0] * (len(bodies) - len(scores))
    return bodies, scores[:len(bodies)]


@dataclass
class EditSession:
    """The editor's state. Build with ``EditSession.start(...)``."""

    base_frame: PoseFrame  # completed, on the original canvas (canvas mode keep)
    base_image: Optional[np.ndarray]  # (H, W, 3) uint8 RGB photo of the original canvas, or None
    alternatives: int = 1
    completer: Optional[Completer] = None
    #: the run's options: the view draws the control image with its ``draw_*`` (as ControlNet gets it)
    settings: PipelineSettings = field(default_factory=PipelineSettings)
    state: _State = field(init=False)
    initial: _State = field(init=False)
    undo_stack: List[_State] = field(default_factory=list)
    redo_stack: List[_State] = field(default_factory=list)
    #: (the image, its data: URL) of the last drawn editor background (the tab's view reuses it)
    image_url_cache: Optional[Tuple[Any, str]] = field(default=None, repr=False, compare=False)

    # ------------------------------------------------------------ construction
    @classmethod
    def start(cls, frame: PoseFrame, image: Optional[np.ndarray] = None, *, canvas_mode: str = "keep",
              alternatives: int = 1, completer: Optional[Completer] = None,
              settings: Optional[PipelineSettings] = None) -> "EditSession":
        """A session on an already completed frame (pixels of the photo's canvas)."""
        validate_canvas_mode(canvas_mode)
        session = cls(base_frame=frame.copy(), base_image=None if image is None else np.asarray(image),
                      alternatives=alternatives, completer=completer, settings=settings or PipelineSettings())
        n = len(frame.people)
        bodies, scores = zip(*[_alternatives_of(p) for p in frame.people]) if n else ((), ())
        identity = CanvasTransform(1.0, 0.0, 0.0, int(frame.canvas_width), int(frame.canvas_height))
        session.state = _State(frame=frame.copy(), hidden=np.zeros((n, N_BODY), bool),
                               locked=np.zeros((n, N_BODY), bool), selected_person=0,
                               chosen_alternative=[0] * n, alternative_bodies=list(bodies),
                               alternative_scores=list(scores), canvas_mode="keep", transform=identity,
                               image=session.base_image)
        if canvas_mode != "keep":
            session._apply_canvas_mode(canvas_mode)
        session.initial = session.state.copy()
        return session

    # ------------------------------------------------------------- properties
    @property
    def frame(self) -> PoseFrame:
        return self.state.frame

    @property
    def hidden(self) -> np.ndarray:
        return self.state.hidden

    @property
    def locked(self) -> np.ndarray:
        return self.state.locked

    @property
    def selected_person(self) -> int:
        return self.state.selected_person

    @property
    def canvas_mode(self) -> str:
        return self.state.canvas_mode

    @property
    def image(self) -> Optional[np.ndarray]:
        return self.state.image

    @property
    def can_undo(self) -> bool:
        return bool(self.undo_stack)

    @property
    def can_redo(self) -> bool:
        return bool(self.redo_stack)

    def edited(self, person: int) -> np.ndarray:
        """(18,) bool: points the user moved."""
        return self.frame.people[person].source == Source.EDITED

    def fixed(self, person: int) -> np.ndarray:
        """(18,) bool: what re-completion treats as given beside detected points (edited | locked)."""
        return (self.edited(person) | self.locked[person]) & ~self.hidden[person]

    def alternative_choices(self, person: Optional[int] = None) -> List[Tuple[int, float]]:
        """[(index, score)] of the person's completions, best first."""
        p = self.selected_person if person is None else person
        if not self.frame.people:
            return []
        return list(enumerate(self.state.alternative_scores[p]))

    def chosen_alternative(self, person: Optional[int] = None) -> int:
        p = self.selected_person if person is None else person
        return self.state.chosen_alternative[p] if self.frame.people else 0

    # ----------------------------------------------------------------- checks
    def _person(self, person: Any) -> int:
        if isinstance(person, bool) or not isinstance(person, (int, np.integer)):
            raise SkelextError(f"person must be an index, got {person!r}")
        if not 0 <= int(person) < len(self.frame.people):
            raise SkelextError(f"no person {person}: the pose has {len(self.frame.people)}")
        return int(person)

    @staticmethod
    def _point(point: Any) -> int:
        if isinstance(point, bool) or not isinstance(point, (int, np.integer)) or not 0 <= int(point) < N_BODY:
            raise SkelextError(f"body point must be an index 0..17, got {point!r}")
        return int(point)

    def _push(self) -> None:
        self.undo_stack.append(self.state.copy())
        del self.undo_stack[:-MAX_UNDO]
        self.redo_stack.clear()

    # ------------------------------------------------------------------ edits
    def select_person(self, person: int) -> bool:
        """Select a person (not an undoable edit). Returns whether it changed."""
        p = self._person(person)
        changed = p != self.state.selected_person
        self.state.selected_person = p
        return changed

    def move_point(self, person: int, point: int, x: float, y: float) -> bool:
        """Move a body point to (x, y) canvas pixels; its hand/face follows. Returns whether it changed."""
        p, i = self._person(person), self._point(point)
        try:
            x, y = float(x), float(y)
        except (TypeError, ValueError):
            raise SkelextError(f"coordinates must be numbers, got {x!r}, {y!r}") from None
        w, h = self.frame.canvas_width, self.frame.canvas_height
        if not (np.isfinite(x) and np.isfinite(y)) or abs(x) > MAX_OFF_CANVAS * w + w \
                or abs(y) > MAX_OFF_CANVAS * h + h:
            raise SkelextError(f"point ({x}, {y}) is too far outside the {w}x{h} canvas")
        body = self.frame.people[p].body
        if body[i, 2] > 0 and body[i, 0] == x and body[i, 1] == y:
            return False
        self._push()
        person_obj = self.frame.people[p]
        old = person_obj.body.copy()
        person_obj.body = person_obj.body.copy()
        person_obj.body[i] = [x, y, 1.0]
        source = person_obj.source.copy()
        source[i] = Source.EDITED
        person_obj.source = source
        self.state.hidden[p, i] = False
        self.state.selected_person = p
        _follow(person_obj, old)
        return True

    def toggle_hidden(self, person: int, point: int) -> bool:
        """Hide a shown point or show a hidden one. Returns the new hidden flag."""
        p, i = self._person(person), self._point(point)
        if not self.state.hidden[p, i] and self.frame.people[p].body[i, 2] <= 0:
            raise SkelextError(f"point {i} of person {p} is missing; there is nothing to hide")
        self._push()
        self.state.hidden[p, i] = not self.state.hidden[p, i]
        return bool(self.state.hidden[p, i])

    def toggle_locked(self, person: int, point: int) -> bool:
        """Lock or unlock a point for re-completion. Returns the new locked flag."""
        p, i = self._person(person), self._point(point)
        self._push()
        self.state.locked[p, i] = not self.state.locked[p, i]
        return bool(self.state.locked[p, i])

    def recomplete(self, person: Optional[int] = None) -> Person:
        """Re-run the model on one person (default: the selected one) with detected, edited and locked
        points as input. Points it fills become ``Source.COMPLETED``; hidden points stay hidden."""
        p = self.selected_person if person is None else self._person(person)
        st = self.state
        current = st.frame.people[p]
        fixed = self.fixed(p)
        given = ((current.source == Source.DETECTED) | fixed) & ~st.hidden[p] & (current.body[:, 2] > 0)
        query = current.copy()
        query.body = current.body.copy()
        query.body[~given] = 0.0
        source = current.source.copy()
        source[~given] = Source.MISSING
        query.source = source
        query.alternatives, query.alternative_scores, query.completion_confidence = [], [], None
        # Complete on the original canvas, where (0, 0, w, h) is the photo.
        base_w, base_h = self.base_frame.canvas_width, self.base_frame.canvas_height
        inverse = st.transform.inverse(base_w, base_h)
        base_query = apply_transform(PoseFrame([query], st.frame.canvas_width, st.frame.canvas_height), inverse)
        completer = self.completer or _default_completer
        from .guard import complete_guarded

        # under the core's guard: a model failure is one CompletionFailed line (a warning in the tab),
        # and the session stays as it was
        result, _ = complete_guarded(lambda: completer(base_query.people[0], base_w, base_h,
                                                       alternatives=self.alternatives, fixed=fixed.copy()),
                                     on_failure="raise")
        moved = apply_transform(PoseFrame([result], base_w, base_h), st.transform).people[0]
        new_source = moved.source.copy()
        new_source[fixed & (current.source == Source.EDITED)] = Source.EDITED
        moved.source = new_source
        # Hidden points that the model did not fill keep their old value (shown again later).
        keep = st.hidden[p] & (moved.body[:, 2] <= 0)
        moved.body[keep] = current.body[keep]
        moved.source[keep] = current.source[keep]
        # Parts not in the model's hands: keep the current ones, then let them follow.
        moved.face, moved.hand_left, moved.hand_right = current.face, current.hand_left, current.hand_right
        moved.extra = copy.deepcopy(current.extra)
        moved.origin = current.origin
        _follow(moved, current.body)
        self._push()
        st = self.state
        st.frame.people[p] = moved
        st.alternative_bodies[p], st.alternative_scores[p] = _alternatives_of(moved)
        st.chosen_alternative[p] = 0
        return moved

    def choose_alternative(self, index: int, person: Optional[int] = None) -> bool:
        """Replace the completed (not edited, locked or detected) points by alternative ``index``."""
        p = self.selected_person if person is None else self._person(person)
        bodies = self.state.alternative_bodies[p]
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < len(bodies):
            raise SkelextError(f"no alternative {index!r}: the person has {len(bodies)}")
        if index == self.state.chosen_alternative[p]:
            return False
        self._push()
        person_obj = self.frame.people[p]
        old = person_obj.body.copy()
        replace = (person_obj.source == Source.COMPLETED) & ~self.state.locked[p]
        person_obj.body = with_alternative(person_obj.body, bodies[index], replace)
        self.state.chosen_alternative[p] = int(index)
        _follow(person_obj, old)
        return True

    def set_canvas_mode(self, mode: str) -> bool:
        """Switch keep / fit / expand, keeping every edit (undoable)."""
        validate_canvas_mode(mode)
        if mode == self.state.canvas_mode:
            return False
        self._push()
        self._apply_canvas_mode(mode)
        return True

    def _apply_canvas_mode(self, mode: str) -> None:
        st = self.state
        base_w, base_h = self.base_frame.canvas_width, self.base_frame.canvas_height
        back = apply_transform(st.frame, st.transform.inverse(base_w, base_h))
        frame, transform = apply_canvas_mode(back, mode)
        st.alternative_bodies = [[transform.apply_to_points(apply_transform_points(b, st.transform, True))
                                  for b in bodies] for bodies in st.alternative_bodies]
        st.frame, st.transform, st.canvas_mode = frame, transform, mode
        st.image = None if self.base_image is None else transform.apply_to_image(self.base_image)

    # ------------------------------------------------------------ undo & co.
    def undo(self) -> bool:
        if not self.undo_stack:
            return False
        self.redo_stack.append(self.state)
        self.state = self.undo_stack.pop()
        return True

    def redo(self) -> bool:
        if not self.redo_stack:
            return False
        self.undo_stack.append(self.state)
        self.state = self.redo_stack.pop()
        return True

    def reset(self) -> bool:
        """Back to the state after loading (undoable)."""
        self._push()
        self.state = self.initial.copy()
        return True

    # ----------------------------------------------------------------- output
    def output_frame(self) -> PoseFrame:
        """The frame as it should be written or rendered: hidden points removed."""
        out = self.frame.copy()
        for p, person in enumerate(out.people):
            hide = self.state.hidden[p]
            if hide.any():
                body = person.body.copy()
                body[hide] = 0.0
                source = person.source.copy()
                source[hide] = Source.MISSING
                person.body, person.source = body, source
        return out

    def to_json(self, *, indent: Optional[int] = None) -> str:
        from .openpose_json import dumps_frame

        return dumps_frame(self.output_frame(), indent=indent)

    def summary(self) -> Dict[str, Any]:
        """A small description for status lines and tests."""
        return {
            "people": len(self.frame.people),
            "selected_person": self.selected_person,
            "canvas": [self.frame.canvas_width, self.frame.canvas_height],
            "canvas_mode": self.canvas_mode,
            "undo": len(self.undo_stack),
            "redo": len(self.redo_stack),
        }


def apply_transform_points(points: np.ndarray, transform: CanvasTransform, inverse: bool = False) -> np.ndarray:
    """Points (n, 3) through a canvas transform or its inverse; missing points stay [0, 0, 0]."""
    if not inverse:
        return transform.apply_to_points(points)
    return transform.inverse(transform.width, transform.height).apply_to_points(points)


def _follow(person: Person, old_body: np.ndarray) -> None:
    """Shift hands/face by the move of their anchor body point (old_body -> person.body)."""
    for name, anchor in PART_ANCHORS:  # the core's table of parts and their anchors
        part = getattr(person, name)
        if part is None or old_body[anchor, 2] <= 0 or person.body[anchor, 2] <= 0:
            continue
        delta = person.body[anchor, :2] - old_body[anchor, :2]
        if not delta.any():
            continue
        moved = part.copy()
        present = moved[:, 2] > 0
        moved[present, :2] += delta
        setattr(person, name, moved)
