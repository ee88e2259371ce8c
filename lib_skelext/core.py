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
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from .errors import SkelextError
from .pose import L_WRIST, NOSE, R_WRIST, PoseFrame, Source
from .result import PoseResult
from .settings import PipelineSettings

logger = logging.getLogger(__name__)


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


def _finish(frames: Sequence[PoseFrame], settings: PipelineSettings, alternative: int = 0,
            shared_canvas: bool = False) -> Tuple[List[PoseFrame], List[Any], bool]:
    """Steps 1-4 over several frames at once -> (frames, transforms, completion failed).
    shared_canvas: one canvas transform for every frame (they share one canvas size)."""
    from .canvas import apply_canvas_mode, apply_shared_canvas_mode
    from .openpose_json import apply_hosts_rule

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
    if settings.rewrite_scores:
        work = [apply_hosts_rule(frame) for frame in work]
    if shared_canvas and len({(f.canvas_width, f.canvas_height) for f in work}) == 1:
        out, transform = apply_shared_canvas_mode(work, settings.canvas, settings.fit_margin, in_place=True)
        return out, [transform] * len(out), failed
    out, transforms = [], []
    for frame in work:
        moved, transform = apply_canvas_mode(frame, settings.canvas, settings.fit_margin, in_place=True)  # ours
        out.append(moved)
        transforms.append(transform)
    return out, transforms, failed


def complete_poses(frames: Sequence[PoseFrame], settings: Optional[PipelineSettings] = None, *,
                   alternative: int = 0, shared_canvas: bool = False) -> List[PoseResult]:
    """Complete several frames (one forward pass over all their people); one result per frame.

    alternative: 0 = the best completion; k = each person's k-th ranked alternative
    (``choose_alternative``; needs ``settings.alternatives`` >= k + 1).
    shared_canvas: the frames are one batch (a video's frames): fit / expand use one transform for
    all of them, so the figure does not zoom from frame to frame (frames of one canvas size).
    """
    settings = settings or PipelineSettings()
    _check_alternative(alternative, settings)
    t0 = time.perf_counter()
    out, transforms, failed = _finish(frames, settings, alternative, shared_canvas)
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
    settings = settings or PipelineSettings()
    t0 = time.perf_counter()
    timings: Dict[str, float] = {}
    detector = detector if detector is not None else _registry_detector(settings, location)
    detected, resized, timings["detect"] = _detect(image, settings, detector)

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


def _registry_detector(settings: PipelineSettings, location: Any) -> Any:
    from .detectors import get_detector

    return get_detector(settings.detector, location)


def _detect(image: Any, settings: PipelineSettings, detector: Any) -> Tuple[PoseFrame, np.ndarray, float]:
    """Detection on ControlNet's resized, padded image -> (people on the resized image's canvas,
    the resized image, seconds)."""
    from .resize import resize_image_with_pad

    padded, remove_pad = resize_image_with_pad(image, settings.resolution)
    resized = remove_pad(padded)
    t = time.perf_counter()
    detected = detector.detect_people(padded, threshold=settings.detection_threshold)
    elapsed = time.perf_counter() - t
    detected.canvas_height, detected.canvas_width = resized.shape[:2]
    return detected, resized, elapsed


def process_images(images: Sequence[Any], settings: Optional[PipelineSettings] = None, *, detector: Any = None,
                   location: Any = None, shared_canvas: bool = True,
                   on_image: Optional[Callable[[int], None]] = None) -> List[PoseResult]:
    """A batch of images (e.g. a video's frames) -> one result each, as ``process_image``, with one
    forward pass for every person and (``shared_canvas``) one fit / expand transform for the whole
    batch where the images share one size. Control images are drawn when first read.
    on_image(i): called after image i was detected (progress bars)."""
    settings = settings or PipelineSettings()
    detector = detector if detector is not None else _registry_detector(settings, location)
    detected, resized, seconds = [], [], []
    for i, image in enumerate(images):
        frame, photo, elapsed = _detect(image, settings, detector)
        detected.append(frame)
        resized.append(photo)
        seconds.append(elapsed)
        if on_image is not None:
            on_image(i)
    t = time.perf_counter()
    frames, transforms, failed = _finish(detected, settings, shared_canvas=shared_canvas)
    complete_s = (time.perf_counter() - t) / max(1, len(frames))
    return [PoseResult(frame=f, detected=d, settings=settings, transform=tr, image=photo, completion_failed=failed,
                       timings_s={"detect": s, "complete": complete_s, "total": s + complete_s})
            for f, d, tr, photo, s in zip(frames, detected, transforms, resized, seconds)]
