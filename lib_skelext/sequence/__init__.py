"""Video: tracked, steady completion over a sequence of frames (an adapter over ``core``).

``complete_sequence(frames, settings)`` takes consecutive frames of one video (PoseFrames
in pixels, one canvas size) and returns one ``core.PoseResult`` per frame, as
``core.complete_poses`` does, with these differences:

* people are tracked across frames (``tracking``); each person's id is written to the
  per-person ``skelext`` key as ``track_id`` and a person's completion uses only their
  own history;
* completed points are steady (``temporal``): hypotheses are chosen consistently and
  filtered in body units; mode ``causal`` (frame t uses frames <= t: live use) or
  ``offline`` (both sides);
* detected points come back bit for bit unless ``smooth_detected``;
* the canvas mode uses one transform for the whole sequence (a video keeps one size and
  does not zoom from frame to frame);
* points that come and go (``continuity``): hysteresis on the detection threshold, and a point
  whose source changes (detected <-> completed) glides to its new position over a few frames;
* holes in a track (``bridge``): a person missing for up to ``settings.bridge_gap`` seconds keeps
  a pose (offline: interpolated; causal: held and moved on), marked ``bridged`` in the record.

The core's other steps apply exactly as for single frames: body points outside the
canvas become missing, completion runs under the same guard (a failure logs one
warning and returns the poses as given), hands on completed wrists and faces on
completed noses are dropped.
"""
from __future__ import annotations

import logging
import math
import time
from typing import TYPE_CHECKING, List, Optional, Sequence

from ..errors import SkelextError
from ..pose import PoseFrame
from ..settings import OPTIONS, PipelineSettings

if TYPE_CHECKING:
    from ..completion_model import CompletionModel
    from ..core import PoseResult
    from .temporal import TemporalParams
    from .tracking import TrackerParams

logger = logging.getLogger(__name__)

__all__ = ["complete_sequence", "check_sequence", "TRACK_ID_KEY"]

#: Key inside each person's ``skelext`` record holding the track id.
TRACK_ID_KEY = "track_id"


def check_sequence(frames: Sequence[PoseFrame]) -> None:
    """SkelextError unless frames is a non-empty list of PoseFrames sharing one canvas size."""
    if not isinstance(frames, (list, tuple)) or not frames:
        raise SkelextError("empty sequence: give at least one frame")
    for i, f in enumerate(frames):
        if not isinstance(f, PoseFrame):
            raise SkelextError(f"frame {i}: expected a PoseFrame, got {type(f).__name__}")
    w, h = frames[0].canvas_width, frames[0].canvas_height
    for i, f in enumerate(frames):
        if (f.canvas_width, f.canvas_height) != (w, h):
            raise SkelextError(f"frames of one sequence must share one canvas size: frame 0 is {w}x{h}, "
                               f"frame {i} is {f.canvas_width}x{f.canvas_height}")


def complete_sequence(frames: Sequence[PoseFrame], settings: Optional[PipelineSettings] = None, *,
                      mode: Optional[str] = None, smooth_detected: Optional[bool] = None,
                      model: Optional["CompletionModel"] = None, temporal: Optional["TemporalParams"] = None,
                      tracker: Optional["TrackerParams"] = None, fps: Optional[float] = None) -> List["PoseResult"]:
    """Consecutive frames (pixels) -> one PoseResult per frame, tracked and steady.

    mode: "causal" | "offline" (default ``settings.sequence_mode``); smooth_detected: also
    smooth the detected points (default ``settings.smooth_detected``); fps: the clip's frame rate
    (default 30), which turns ``settings.bridge_gap`` seconds into frames.
    """
    from ..canvas import apply_shared_canvas_mode
    from ..completion_model import load_model
    from ..core import PoseResult, complete_guarded, drop_body_points_outside, drop_parts_of_completed
    from .bridge import bridge_gaps, max_bridge_frames
    from .completion import complete_tracked
    from .continuity import HYSTERESIS_LOW, apply_hysteresis, blend_switches
    from .tracking import assign_tracks
    from .video_io import DEFAULT_FPS

    settings = settings or PipelineSettings()
    mode = OPTIONS["sequence_mode"].validate(settings.sequence_mode if mode is None else mode)
    smooth = OPTIONS["smooth_detected"].validate(settings.smooth_detected if smooth_detected is None
                                                 else smooth_detected)
    check_sequence(frames)
    t0 = time.perf_counter()
    work = [f.copy() for f in frames]
    if settings.complete:
        work = [drop_body_points_outside(f) for f in work]
    model = model or load_model()
    ids = assign_tracks(work, model.mean_pose, tracker)
    threshold = settings.detection_threshold
    apply_hysteresis(work, ids, threshold, threshold * HYSTERESIS_LOW)  # points wobbling about the threshold
    failed = False
    if (settings.complete or smooth) and any(f.people for f in work):
        done, failed = complete_guarded(work, completer=lambda frames: complete_tracked(
            frames, ids, alternatives=settings.alternatives, offline=mode == "offline", smooth_detected=smooth,
            add_completed=settings.complete, model=model, params=temporal))
        if failed:
            done = [f.copy() for f in frames]  # as given: nothing dropped, nothing invented
        else:  # (frames without hands or faces have nothing to drop)
            done = [drop_parts_of_completed(f) if any(p.hand_left is not None or p.hand_right is not None
                                                      or p.face is not None for p in f.people) else f
                    for f in done]
    else:
        done = work
    rate = DEFAULT_FPS if fps is None else fps
    if not (isinstance(rate, (int, float)) and math.isfinite(rate) and rate > 0):
        raise SkelextError(f"fps must be a positive number of frames per second, got {fps!r}")
    done, ids, _ = bridge_gaps(done, ids, offline=mode == "offline",
                               max_frames=max_bridge_frames(settings.bridge_gap, rate))
    if not failed:  # a point changing source (bridged points count as completed) glides, never leaps
        blend_switches(done, ids)
    for frame, frame_ids in zip(done, ids):
        for person, tid in zip(frame.people, frame_ids):
            if tid >= 0:
                info = person.extra.get("skelext")
                person.extra["skelext"] = dict(info) if isinstance(info, dict) else {}
                person.extra["skelext"][TRACK_ID_KEY] = int(tid)
    if settings.rewrite_scores:
        from ..openpose_json import apply_hosts_rule

        done = [apply_hosts_rule(f) for f in done]
    # ``done`` holds our own copies
    out, transform = apply_shared_canvas_mode(done, settings.canvas, settings.fit_margin, in_place=True)
    elapsed = time.perf_counter() - t0
    return [PoseResult(frame=f, detected=src, settings=settings, transform=transform, completion_failed=failed,
                       timings_s={"complete": elapsed, "total": elapsed})
            for f, src in zip(out, frames)]


def count_tracks(results: Sequence["PoseResult"]) -> int:
    """People tracked through a sequence (distinct ``track_id``s in the results)."""
    ids = {p.extra.get("skelext", {}).get(TRACK_ID_KEY) for r in results for p in r.frame.people}
    return len(ids - {None})
