"""The sequence stage: what the core does differently when its frames are one video.

``core.complete_poses`` runs its steps in one order for single images, batches and clips; for a
clip (``settings.sequence`` causal or offline) it calls a ``ClipStage`` at three points:

1. ``prepare(frames)`` (under the completion guard, after points outside the canvas were dropped):
   people tracked across frames (``tracking``), hysteresis on the detection threshold
   (``continuity``);
2. ``complete(frames)`` (under the guard, instead of the per-frame completion): one model pass over
   every person of every frame, then steady hypotheses per track (``completion``, ``temporal``);
3. ``finish(frames)`` (after the core dropped hands on completed wrists): holes in a track bridged
   (``bridge``), points that change source glide (``continuity``), track ids written to each
   person's ``skelext`` record.

The model is loaded inside ``prepare`` (tracking normalises bodies with its mean pose), so a
missing or broken model file is caught by the core's guard like any other model failure.

The stage never calls the core back; the core owns the order, the guard, the canvas and the result.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, List, Optional, Sequence

from ..errors import SkelextError
from ..pose import PoseFrame

if TYPE_CHECKING:
    from ..completion_model import CompletionModel
    from .temporal import TemporalParams
    from .tracking import TrackerParams

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


def check_fps(fps: Optional[float]) -> float:
    """The clip's frame rate (default 30); SkelextError unless a positive number."""
    from .video_io import DEFAULT_FPS

    rate = DEFAULT_FPS if fps is None else fps
    if isinstance(rate, bool) or not (isinstance(rate, (int, float)) and math.isfinite(rate) and rate > 0):
        raise SkelextError(f"fps must be a positive number of frames per second, got {fps!r}")
    return float(rate)


class ClipStage:
    """The sequence steps for one clip (build one per call; it holds the clip's track ids).

    mode: "causal" | "offline"; detection_threshold: the run's (hysteresis keeps a tracked point
    down to ``HYSTERESIS_LOW`` of it); complete: add completed points (False: track and, with
    smooth_detected, smooth only); bridge_gap: seconds; fps: the clip's frame rate.
    model, temporal, tracker: the completion model and the filters' parameters (benchmarks, tests).
    """

    def __init__(self, *, mode: str, detection_threshold: float, complete: bool = True, alternatives: int = 1,
                 smooth_detected: bool = False, bridge_gap: float = 0.5, fps: Optional[float] = None,
                 model: Optional["CompletionModel"] = None, temporal: Optional["TemporalParams"] = None,
                 tracker: Optional["TrackerParams"] = None) -> None:
        self.offline = mode == "offline"
        self.detection_threshold = detection_threshold
        self.add_completed = complete
        self.alternatives = alternatives
        self.smooth_detected = smooth_detected
        self.bridge_gap = bridge_gap
        self.fps = check_fps(fps)
        self.model = model
        self.temporal = temporal
        self.tracker = tracker
        self.ids: List[List[int]] = []

    @classmethod
    def from_settings(cls, settings: "object", fps: Optional[float] = None, **params: object) -> "ClipStage":
        """The stage for ``settings`` (a ``PipelineSettings`` whose ``sequence`` is causal or offline)."""
        s = settings
        return cls(mode=s.sequence, detection_threshold=s.detection_threshold, complete=s.complete,  # type: ignore
                   alternatives=s.alternatives, smooth_detected=s.smooth_detected,  # type: ignore
                   bridge_gap=s.bridge_gap, fps=fps, **params)  # type: ignore

    @property
    def runs_model(self) -> bool:
        """Completion or smoothing: the model's pass over the clip is needed."""
        return self.add_completed or self.smooth_detected

    def _model(self) -> "CompletionModel":
        if self.model is None:
            from ..completion_model import load_model

            self.model = load_model()
        return self.model

    def prepare(self, frames: List[PoseFrame]) -> None:
        """Track people (ids per frame) and apply the threshold's hysteresis, in place."""
        from .continuity import HYSTERESIS_LOW, apply_hysteresis
        from .tracking import assign_tracks

        self.ids = assign_tracks(frames, self._model().mean_pose, self.tracker)
        threshold = self.detection_threshold
        apply_hysteresis(frames, self.ids, threshold, threshold * HYSTERESIS_LOW)

    def complete(self, frames: List[PoseFrame]) -> List[PoseFrame]:
        """New frames, completed (and/or smoothed) steadily per track."""
        if not self.runs_model:
            return frames
        from .completion import complete_tracked

        return complete_tracked(frames, self.ids, alternatives=self.alternatives, offline=self.offline,
                                smooth_detected=self.smooth_detected, add_completed=self.add_completed,
                                model=self._model(), params=self.temporal)

    def finish(self, frames: List[PoseFrame]) -> List[PoseFrame]:
        """Bridge holes, glide source switches, write track ids (the core skips this when the
        completion failed: the poses then come back as given)."""
        from .bridge import bridge_gaps, max_bridge_frames
        from .continuity import blend_switches

        frames, self.ids, _ = bridge_gaps(frames, self.ids, offline=self.offline,
                                          max_frames=max_bridge_frames(self.bridge_gap, self.fps))
        blend_switches(frames, self.ids)  # a point changing source (bridged ones count as completed) glides
        for frame, frame_ids in zip(frames, self.ids):
            for person, tid in zip(frame.people, frame_ids):
                if tid >= 0:
                    info = person.extra.get("skelext")
                    person.extra["skelext"] = dict(info) if isinstance(info, dict) else {}
                    person.extra["skelext"][TRACK_ID_KEY] = int(tid)
        return frames
