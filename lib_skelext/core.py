"""The one processing core: poses in -> completed poses; images in -> detect -> the same.

Every surface (CLI, REST, the tab, the WebUI preprocessor, ComfyUI nodes) parses its host's
input, calls one of these, and formats the ``PoseResult``s:

* ``complete_poses(frames, settings)`` / ``complete_pose``: one forward pass for every person of
  every frame; ``settings.sequence`` causal / offline: the frames are one video (the sequence stage,
  ``sequence.stage.ClipStage``);
* ``process_images(images, settings)`` / ``process_image``: detection on ControlNet's resized image,
  then the same (a clip: the detector's tracking mode, at the hysteresis' lower threshold);
* ``render_poses(frames, settings)``: poses drawn as they are (the canvas mode only).

Steps, in this order, for all of them:

1. (when completing) body points outside the canvas become missing (readers such as ControlNet's
   drawing do not show them; the model takes the canvas as the visible frame, so it predicts them);
2. (a clip) people tracked, hysteresis on the threshold;
3. completion under the guard (the model is loaded inside it). A model failure (``MODEL_ERRORS``:
   the model file missing or unreadable, the forward pass raising) is handled by ``on_failure``:
   "fallback" (the hosts' generation paths) logs one WARNING line per failure and returns the poses
   as given, ``completion_failed=True``; "raise" raises ``CompletionFailed`` (the CLI exits 3).
   Bad input (``SkelextError``) and programming errors are never caught;
4. hands whose wrist and faces whose nose were completed are dropped (a detected hand cannot hang
   on an invented wrist); ``alternative=k``: each person's k-th ranked completion;
5. (a clip) holes bridged, source switches glided, track ids written;
6. ``rewrite_scores``; the canvas mode (keep / fit / expand; one transform for a clip or a shared batch).

The pure per-frame steps (1, 4) are in ``steps``, the guard (3) in ``guard``; this module orders
them and builds the results. The result holds frames (pixels), not JSON: serialise at the edges (``PoseResult.to_dict()``,
``json_text``, ``control_image``).
"""
from __future__ import annotations

import logging
import time
from contextlib import nullcontext
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from .errors import SkelextError
from .guard import MODEL_ERRORS, ON_FAILURE, complete_guarded
from .pose import PoseFrame
from .result import PoseResult
from .settings import PipelineSettings
from .steps import choose_alternative, drop_body_points_outside, drop_parts_of_completed, with_alternative

__all__ = ["complete_poses", "complete_pose", "process_images", "process_image", "detect_frames", "render_poses",
           "complete_guarded", "PoseResult", "MODEL_ERRORS", "ON_FAILURE",
           # the steps, defined in ``steps``
           "drop_body_points_outside", "drop_parts_of_completed", "choose_alternative", "with_alternative"]

logger = logging.getLogger(__name__)


def _clip_stage(frames: Sequence[PoseFrame], settings: PipelineSettings, fps: Optional[float], clip: Any) -> Any:
    """The sequence stage when ``settings.sequence`` says the frames are one video, else None."""
    if settings.sequence == "off":
        return None
    from .sequence.stage import ClipStage, check_sequence

    check_sequence(frames)
    return clip if clip is not None else ClipStage.from_settings(settings, fps)


def _run(frames: Sequence[PoseFrame], settings: PipelineSettings, *, alternative: int = 0,
         shared_canvas: bool = False, clip: Any = None, on_failure: str = "fallback"
         ) -> Tuple[List[PoseFrame], List[Any], bool]:
    """Steps 1-6 over several frames at once -> (frames, canvas transforms, completion failed)."""
    from .canvas import apply_canvas_mode, apply_shared_canvas_mode
    from .openpose_json import apply_hosts_rule

    if on_failure not in ON_FAILURE:
        raise SkelextError(f"on_failure must be one of {', '.join(ON_FAILURE)}, got {on_failure!r}")
    work = [f.copy() for f in frames]
    if settings.complete:
        work = [drop_body_points_outside(f) for f in work]
    failed = False
    if (settings.complete or clip is not None) and any(f.people for f in work):
        def completion() -> List[PoseFrame]:
            if clip is None:
                from .complete import complete_frames

                return complete_frames(work, alternatives=settings.alternatives)
            clip.prepare(work)
            return clip.complete(work)

        done, failed = complete_guarded(completion, on_failure)
        if failed or done is None:
            work = [f.copy() for f in frames]  # as given: nothing dropped, nothing invented
        else:
            work = [choose_alternative(drop_parts_of_completed(f), alternative) for f in done]
            if clip is not None:
                work = clip.finish(work)
    if settings.rewrite_scores:
        work = [apply_hosts_rule(frame) for frame in work]
    one_size = len({(f.canvas_width, f.canvas_height) for f in work}) == 1
    if (shared_canvas or clip is not None) and one_size:
        out, transform = apply_shared_canvas_mode(work, settings.canvas, settings.fit_margin, in_place=True)
        return out, [transform] * len(out), failed
    out, transforms = [], []
    for frame in work:
        moved, transform = apply_canvas_mode(frame, settings.canvas, settings.fit_margin, in_place=True)  # ours
        out.append(moved)
        transforms.append(transform)
    return out, transforms, failed


def _check_alternative(alternative: int, settings: PipelineSettings) -> None:
    if isinstance(alternative, bool) or not isinstance(alternative, int) or alternative < 0:
        raise SkelextError(f"alternative must be a whole number >= 0 (0 = the best), got {alternative!r}")
    if alternative >= settings.alternatives:
        raise SkelextError(f"alternative {alternative} needs alternatives >= {alternative + 1} "
                           f"(the model records {settings.alternatives})")
    if alternative and settings.sequence != "off":
        raise SkelextError("alternative applies to single images; with sequence on, the hypotheses are chosen "
                           "consistently over time: set alternative to 0")


# ------------------------------------------------------------------ poses in
def complete_poses(frames: Sequence[PoseFrame], settings: Optional[PipelineSettings] = None, *,
                   alternative: int = 0, shared_canvas: bool = False, fps: Optional[float] = None,
                   on_failure: str = "fallback", clip: Any = None) -> List[PoseResult]:
    """Complete several frames (pixels); one result per frame.

    settings.sequence: "off" (every frame on its own) or "causal" / "offline" (one video: tracked,
    steady, holes bridged; fps turns ``settings.bridge_gap`` seconds into frames).
    alternative: 0 = the best completion; k = each person's k-th ranked alternative
    (``choose_alternative``; needs ``settings.alternatives`` >= k + 1; single images only).
    shared_canvas: the frames are one batch: fit / expand use one transform for all of them, so the
    figure does not zoom from frame to frame (always so for a video).
    on_failure: "fallback" | "raise" (module docstring). clip: a ``ClipStage`` with its own model
    or filter parameters (benchmarks); default: built from ``settings``.
    """
    settings = settings or PipelineSettings()
    _check_alternative(alternative, settings)
    stage = _clip_stage(frames, settings, fps, clip)
    t0 = time.perf_counter()
    out, transforms, failed = _run(frames, settings, alternative=alternative, shared_canvas=shared_canvas,
                                   clip=stage, on_failure=on_failure)
    elapsed = time.perf_counter() - t0
    return [PoseResult(frame=f, detected=src, settings=settings, transform=t, completion_failed=failed,
                       timings_s={"complete": elapsed, "total": elapsed})
            for f, src, t in zip(out, frames, transforms)]


def complete_pose(frame: PoseFrame, settings: Optional[PipelineSettings] = None, *,
                  alternative: int = 0, on_failure: str = "fallback") -> PoseResult:
    """Pose in (pixels, canvas = the visible frame) -> completed pose."""
    return complete_poses([frame], settings, alternative=alternative, on_failure=on_failure)[0]


def render_poses(frames: Sequence[PoseFrame], settings: Optional[PipelineSettings] = None, *,
                 images: Optional[Sequence[np.ndarray]] = None) -> List[PoseResult]:
    """Poses drawn as they are: only the canvas mode (per frame) is applied; the control image
    follows ``settings.draw_*`` (``settings.RENDER_OPTIONS``). images: one photo per frame, on the
    frame's canvas, for ``PoseResult.overlay()`` (moved with the canvas mode like the poses)."""
    from .canvas import apply_canvas_mode

    settings = settings or PipelineSettings()
    results = []
    for i, frame in enumerate(frames):
        moved, transform = apply_canvas_mode(frame, settings.canvas, settings.fit_margin)
        results.append(PoseResult(frame=moved, detected=frame, settings=settings, transform=transform,
                                  image=None if images is None else images[i]))
    return results


# ------------------------------------------------------------------ images in
def _registry_detector(settings: PipelineSettings, location: Any) -> Any:
    from .detectors import get_detector

    return get_detector(settings.detector, location)


def _detect(image: Any, settings: PipelineSettings, detector: Any,
            threshold: Optional[float] = None) -> Tuple[PoseFrame, np.ndarray, float]:
    """Detection on ControlNet's resized, padded image -> (people on the resized image's canvas,
    the resized image, seconds)."""
    from .resize import resize_image_with_pad

    padded, remove_pad = resize_image_with_pad(image, settings.resolution)
    resized = remove_pad(padded)
    t = time.perf_counter()
    detected = detector.detect_people(padded, threshold=settings.detection_threshold if threshold is None
                                      else threshold)
    elapsed = time.perf_counter() - t
    detected.canvas_height, detected.canvas_width = resized.shape[:2]
    return detected, resized, elapsed


def process_image(image: Any, settings: Optional[PipelineSettings] = None, *, detector: Any = None,
                  location: Any = None, draw: bool = True, on_failure: str = "fallback") -> PoseResult:
    """Image in ((H, W, 3) uint8 RGB; gray/RGBA accepted) -> detect on ControlNet's resized, padded
    image -> complete -> canvas; the control image is drawn (``result.control_image``).

    detector: any ``detectors.Detector``; default: the registry's one for ``settings.detector``
    at ``location`` (a ``detectors.DetectorLocation``; default: the standalone folders).
    draw: draw the control image now (False: only when ``result.control_image`` is read).
    """
    settings = settings or PipelineSettings()
    if settings.sequence != "off":
        settings = settings.replace(sequence="off")  # one photo is not a video
    t0 = time.perf_counter()
    timings: Dict[str, float] = {}
    detector = detector if detector is not None else _registry_detector(settings, location)
    detected, resized, timings["detect"] = _detect(image, settings, detector)
    t = time.perf_counter()
    (frame,), (transform,), failed = _run([detected], settings, on_failure=on_failure)
    timings["complete"] = time.perf_counter() - t
    result = PoseResult(frame=frame, detected=detected, settings=settings, transform=transform, image=resized,
                        completion_failed=failed, timings_s=timings)
    if draw:
        t = time.perf_counter()
        result.control_image  # drawn now: image-path callers need it, and its time is reported
        timings["render"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - t0
    return result


def detect_frames(images: Iterable[Any], settings: PipelineSettings, detector: Any, *, video: bool = False,
                  keep_images: bool = True, on_image: Optional[Callable[[int], None]] = None
                  ) -> Tuple[List[PoseFrame], List[Optional[np.ndarray]], List[float]]:
    """Detection only, image by image (an iterable: a video is read one frame at a time)
    -> (frames on each resized image's canvas, the resized images or None, seconds each).

    video: the images are one clip, in order: the detector's tracking mode where it has one
    (``detectors.video_detector``: BlazePose), at the hysteresis' lower threshold (a point that
    wobbles about the threshold is kept while its track holds it: ``sequence.continuity``)."""
    from .detectors import video_detector

    threshold = settings.detection_threshold
    if video:
        from .sequence.continuity import HYSTERESIS_LOW

        threshold *= HYSTERESIS_LOW
    frames: List[PoseFrame] = []
    resized: List[Optional[np.ndarray]] = []
    seconds: List[float] = []
    with video_detector(detector) if video else nullcontext(detector) as active:
        for i, image in enumerate(images):
            frame, photo, elapsed = _detect(image, settings, active, threshold)
            frames.append(frame)
            resized.append(photo if keep_images else None)
            seconds.append(elapsed)
            if on_image is not None:
                on_image(i)
    return frames, resized, seconds


def process_images(images: Iterable[Any], settings: Optional[PipelineSettings] = None, *, detector: Any = None,
                   location: Any = None, shared_canvas: bool = True, fps: Optional[float] = None,
                   on_image: Optional[Callable[[int], None]] = None, on_failure: str = "fallback",
                   keep_images: bool = True) -> List[PoseResult]:
    """A batch of images -> one result each, as ``process_image``, with one forward pass for every
    person and (``shared_canvas``) one fit / expand transform for the whole batch where the images
    share one size. ``settings.sequence`` causal / offline: the images are one video's frames
    (``detect_frames(video=True)``, then ``complete_poses`` as a clip at ``fps``).
    keep_images: keep each resized photo in its result (overlays; False for long videos).
    on_image(i): called after image i was detected (progress bars). Control images are drawn when
    first read."""
    settings = settings or PipelineSettings()
    detector = detector if detector is not None else _registry_detector(settings, location)
    video = settings.sequence != "off"
    detected, resized, seconds = detect_frames(images, settings, detector, video=video, keep_images=keep_images,
                                               on_image=on_image)
    if video and not detected:
        raise SkelextError("empty video: no frames were read")
    t = time.perf_counter()
    stage = _clip_stage(detected, settings, fps, None)
    frames, transforms, failed = _run(detected, settings, shared_canvas=shared_canvas, clip=stage,
                                      on_failure=on_failure)
    complete_s = (time.perf_counter() - t) / max(1, len(frames))
    return [PoseResult(frame=f, detected=d, settings=settings, transform=tr, image=photo, completion_failed=failed,
                       timings_s={"detect": s, "complete": complete_s, "total": s + complete_s})
            for f, d, tr, photo, s in zip(frames, detected, transforms, resized, seconds)]
