"""The one processing core: pose in -> completed pose; image in -> detect -> the same.

Every surface (CLI, REST, the tab, the WebUI preprocessor, ComfyUI nodes, sequences)
parses its host's input, calls one of these, and formats the ``PoseResult``:

* ``complete_pose(frame, settings)`` / ``complete_poses(frames, settings)`` (one
  forward pass for every person of every frame);
* ``process_image(image, settings, detector=None)``.

Steps, in this order, for both:

1. (when completing) body points outside the canvas become missing (readers such as ControlNet's
   drawing do not show them; the model takes the canvas as the visible frame, so it
   predicts them instead);
2. completion under the guard: if the model raises, one WARNING line per failure
   (with the traceback the first time) and the pose comes back as it went in,
   ``completion_failed=True``;
3. hands whose wrist and faces whose nose were completed are dropped (a detected
   hand cannot hang on an invented wrist);
3b. (``complete_poses(..., alternative=k)``) each person's completed points become its
   k-th ranked alternative (``choose_alternative``), before the canvas mode sees them;
4. the canvas mode (keep / fit / expand).

The result holds frames (pixels), not JSON: serialise at the edges
(``PoseResult.to_dict()``, ``json_text``, ``control_image``).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from .errors import SkelextError
from .pose import L_WRIST, NOSE, R_WRIST, PoseFrame, Source
from .settings import PipelineSettings

logger = logging.getLogger(__name__)


@dataclass
class PoseResult:
    """frame: people after completion and the canvas mode (pixels of ``frame``'s canvas).
    detected: the people that went in (image path: as detected on the resized image).
    settings: the options of the run. transform: the canvas mode's ``CanvasTransform``.
    image: the resized photo (image path only; before the canvas transform), for overlays.
    completion_failed: completion raised and ``frame`` is the input pose.
    timings_s: seconds per stage (detect, complete, canvas, render, total).
    """

    frame: PoseFrame
    detected: PoseFrame
    settings: PipelineSettings
    transform: Any = None
    image: Optional[np.ndarray] = None
    completion_failed: bool = False
    timings_s: Dict[str, float] = field(default_factory=dict)
    _control: Optional[np.ndarray] = field(default=None, repr=False)

    @property
    def control_image(self) -> np.ndarray:
        """(H, W, 3) uint8 RGB, the ControlNet-style drawing of ``frame`` (draw_* from settings);
        drawn once and kept."""
        if self._control is None:
            self._control = self.draw_control_image()
        return self._control

    def draw_control_image(self) -> np.ndarray:
        """The control image drawn now and not kept (long clips: one image in memory at a time)."""
        if self._control is not None:
            return self._control
        from .render import render_frame

        s = self.settings
        return render_frame(self.frame, draw_body=s.draw_body, draw_hands=s.draw_hands, draw_face=s.draw_face)

    def to_dict(self, normalized: Optional[bool] = None) -> Dict[str, Any]:
        """OpenPose JSON object of ``frame`` (units: as read, unless ``normalized`` says)."""
        from .openpose_json import frame_to_dict

        return frame_to_dict(self.frame, normalized=normalized)

    @property
    def json_text(self) -> str:
        from .openpose_json import dumps_frame

        return dumps_frame(self.frame)

    @property
    def completed_points(self) -> int:
        return int(sum(int(p.completed.sum()) for p in self.frame.people))

    def overlay(self) -> np.ndarray:
        """The photo under the skeleton (detected vs completed told apart), control-image size."""
        from .render import render_overlay

        if self.image is None:
            base = np.zeros((self.frame.canvas_height, self.frame.canvas_width, 3), np.uint8)
        else:
            base = self.image if self.transform is None else self.transform.apply_to_image(self.image)
        return render_overlay(base, self.frame)


# ------------------------------------------------------------------ steps
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
        for anchor, part in ((R_WRIST, "hand_right"), (L_WRIST, "hand_left"), (NOSE, "face")):
            points = getattr(person, part)
            if src[anchor] == Source.COMPLETED and points is not None and (points[:, 2] > 0).any():
                setattr(person, part, None)
    return frame


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
        chosen = person.alternatives[index - 1]
        replace = person.completed
        body = person.body.copy()
        body[replace] = chosen[replace]
        alternatives = list(person.alternatives)
        alternatives[index - 1] = person.body.copy()
        scores = list(person.alternative_scores)
        scores[0], scores[index] = scores[index], scores[0]
        person.body, person.alternatives, person.alternative_scores = body, alternatives, scores
    return frame


_FAILURES: Dict[str, int] = {}


def complete_guarded(frames: Sequence[PoseFrame], alternatives: int = 1, *,
                     completer: Optional[Callable[[Sequence[PoseFrame]], List[PoseFrame]]] = None
                     ) -> Tuple[List[PoseFrame], bool]:
    """(completed frames, failed). On any exception: a WARNING line and the inputs unchanged.

    completer: frames -> completed frames (default ``complete.complete_frames``; the sequence
    path passes its tracked, temporal completion). Every failure is logged at WARNING (the
    WebUI console shows WARNING and up); the traceback only the first time a message is seen,
    and later ones count repeats.
    """
    try:
        if completer is None:
            from .complete import complete_frames

            return complete_frames(frames, alternatives=alternatives), False
        return completer(frames), False
    except Exception as exc:  # never break generation because of completion
        message = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        count = _FAILURES.get(message, 0) + 1
        _FAILURES[message] = count
        logger.warning("skelext: completion failed (%s)%s; using the pose as given", message,
                       f" [{count} times]" if count > 1 else "", exc_info=count == 1)
        return list(frames), True


def _finish(frames: Sequence[PoseFrame], settings: PipelineSettings,
            alternative: int = 0) -> Tuple[List[PoseFrame], List[Any], bool]:
    """Steps 1-4 over several frames at once -> (frames, transforms, completion failed)."""
    from .canvas import apply_canvas_mode

    failed = False
    if not settings.complete:  # plain detection: exactly as found
        work = [f.copy() for f in frames]
    else:
        work = [drop_body_points_outside(f.copy()) for f in frames]
    if settings.complete and any(f.people for f in work):
        done, failed = complete_guarded(work, settings.alternatives)
        if failed:
            work = [f.copy() for f in frames]  # as given: nothing dropped, nothing invented
        else:
            work = [choose_alternative(drop_parts_of_completed(f), alternative) for f in done]
    out, transforms = [], []
    for frame in work:
        moved, transform = apply_canvas_mode(frame, settings.canvas, settings.fit_margin, in_place=True)  # ours
        out.append(moved)
        transforms.append(transform)
    return out, transforms, failed


def complete_poses(frames: Sequence[PoseFrame], settings: Optional[PipelineSettings] = None, *,
                   alternative: int = 0) -> List[PoseResult]:
    """Complete several frames (one forward pass over all their people); one result per frame.

    alternative: 0 = the best completion; k = each person's k-th ranked alternative
    (``choose_alternative``; needs ``settings.alternatives`` >= k + 1).
    """
    settings = settings or PipelineSettings()
    _check_alternative(alternative, settings)
    t0 = time.perf_counter()
    out, transforms, failed = _finish(frames, settings, alternative)
    elapsed = time.perf_counter() - t0
    return [PoseResult(frame=f, detected=src, settings=settings, transform=t, completion_failed=failed,
                       timings_s={"complete": elapsed, "total": elapsed})
            for f, src, t in zip(out, frames, transforms)]


def _check_alternative(alternative: int, settings: PipelineSettings) -> None:
    if isinstance(alternative, bool) or not isinstance(alternative, int) or alternative < 0:
        raise SkelextError(f"alternative must be a whole number >= 0 (0 = the best), got {alternative!r}")
    if alternative >= settings.alternatives:
        raise SkelextError(f"alternative {alternative} needs alternatives >= {alternative + 1} "
                           f"(the model records {settings.alternatives})")


def complete_pose(frame: PoseFrame, settings: Optional[PipelineSettings] = None, *,
                  alternative: int = 0) -> PoseResult:
    """Pose in (pixels, canvas = the visible frame) -> completed pose."""
    return complete_poses([frame], settings, alternative=alternative)[0]


def process_image(image: Any, settings: Optional[PipelineSettings] = None, *, detector: Any = None,
                  location: Any = None, draw: bool = True) -> PoseResult:
    """Image in ((H, W, 3) uint8 RGB; gray/RGBA accepted) -> detect on ControlNet's resized, padded
    image -> complete -> canvas; the control image is drawn (``result.control_image``).

    detector: any ``detectors.Detector``; default: the registry's one for ``settings.detector``
    at ``location`` (a ``detectors.DetectorLocation``; default: the standalone folders).
    draw: draw the control image now (False: only when ``result.control_image`` is read).
    """
    from .resize import resize_image_with_pad

    settings = settings or PipelineSettings()
    t0 = time.perf_counter()
    timings: Dict[str, float] = {}
    padded, remove_pad = resize_image_with_pad(image, settings.resolution)
    resized = remove_pad(padded)
    height, width = resized.shape[:2]
    if detector is None:
        from .detectors import get_detector

        detector = get_detector(settings.detector, location)

    t = time.perf_counter()
    detected = detector.detect_people(padded, threshold=settings.detection_threshold)
    timings["detect"] = time.perf_counter() - t
    detected.canvas_width, detected.canvas_height = width, height

    t = time.perf_counter()
    (frame,), (transform,), failed = _finish([detected], settings)
    timings["complete"] = time.perf_counter() - t
    result = PoseResult(frame=frame, detected=detected, settings=settings, transform=transform, image=resized,
                        completion_failed=failed, timings_s=timings)
    if draw:
        t = time.perf_counter()
        result.control_image  # drawn now: image-path callers need it, and its time is reported
        timings["render"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - t0
    return result
