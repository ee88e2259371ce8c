"""Video: tracked, steady completion over a sequence of frames.

The steps live in ``stage`` (``ClipStage``, called by ``core.complete_poses`` when
``settings.sequence`` is causal or offline); this package's entry point is a thin wrapper:
``complete_sequence(frames, settings)`` takes consecutive frames of one video (PoseFrames in
pixels, one canvas size) and returns one ``core.PoseResult`` per frame, as ``core.complete_poses``
does, with these differences:

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

The core's other steps apply exactly as for single frames (they are the same code): body points
outside the canvas become missing, completion runs under the same guard and failure policy,
hands on completed wrists and faces on completed noses are dropped. Video files: ``video_io``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional, Sequence

from ..pose import PoseFrame
from ..settings import OPTIONS, PipelineSettings
from .stage import TRACK_ID_KEY, ClipStage, check_sequence

if TYPE_CHECKING:
    from ..completion_model import CompletionModel
    from ..result import PoseResult
    from .temporal import TemporalParams
    from .tracking import TrackerParams

__all__ = ["complete_sequence", "check_sequence", "count_tracks", "TRACK_ID_KEY"]


def complete_sequence(frames: Sequence[PoseFrame], settings: Optional[PipelineSettings] = None, *,
                      mode: Optional[str] = None, smooth_detected: Optional[bool] = None,
                      model: Optional["CompletionModel"] = None, temporal: Optional["TemporalParams"] = None,
                      tracker: Optional["TrackerParams"] = None, fps: Optional[float] = None,
                      on_failure: str = "fallback") -> List["PoseResult"]:
    """Consecutive frames (pixels) -> one PoseResult per frame, tracked and steady:
    ``core.complete_poses`` with ``sequence`` = mode.

    mode: "causal" | "offline" (default ``settings.sequence`` when on, else ``settings.sequence_mode``);
    smooth_detected: also smooth the detected points (default ``settings.smooth_detected``); fps: the
    clip's frame rate (default 30), which turns ``settings.bridge_gap`` seconds into frames.
    """
    from ..core import complete_poses

    settings = settings or PipelineSettings()
    if mode is None:
        mode = settings.sequence if settings.sequence != "off" else settings.sequence_mode
    settings = settings.replace(sequence=OPTIONS["sequence_mode"].validate(mode),
                                smooth_detected=settings.smooth_detected if smooth_detected is None
                                else OPTIONS["smooth_detected"].validate(smooth_detected))
    check_sequence(frames)
    clip = ClipStage.from_settings(settings, fps, model=model, temporal=temporal, tracker=tracker)
    return complete_poses(frames, settings, clip=clip, on_failure=on_failure)


def count_tracks(results: Sequence["PoseResult"]) -> int:
    """People tracked through a sequence (distinct ``track_id``s in the results)."""
    ids = {p.extra.get("skelext", {}).get(TRACK_ID_KEY) for r in results for p in r.frame.people}
    return len(ids - {None})
