"""``PoseResult``: what the core hands every surface (frames in pixels; serialised at the edges)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Sequence

import numpy as np

from .pose import PoseFrame
from .settings import PipelineSettings


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
        """OpenPose JSON object of ``frame``, in ``settings.output_coords`` unless ``normalized`` says
        (the one units rule: ``openpose_json.output_normalized``)."""
        from .openpose_json import frame_to_dict, normalized_flag

        if normalized is None:
            normalized = normalized_flag(self.settings.output_coords)
        return frame_to_dict(self.frame, normalized=normalized)

    @property
    def json_text(self) -> str:
        import json

        return json.dumps(self.to_dict(), allow_nan=False)

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


def results_to_json(results: "Sequence[PoseResult]", as_list: bool) -> Any:
    """The results' poses as written everywhere: a list of OpenPose objects, or the one object."""
    docs = [r.to_dict() for r in results]
    return docs if as_list else docs[0]
