"""The one options schema: every option's type, choices, range, default and help, written once.

``OPTIONS`` describes each option; ``PipelineSettings`` is the frozen, validated value
the core takes. Each surface builds its controls from ``OPTIONS``:

* CLI: ``add_cli_options(parser, names)`` (argparse ``choices``/``type``/``help``);
* REST: ``lib_skelext.api.models`` builds pydantic fields (enums, ``ge``/``le``) with ``field_kwargs``;
* ControlNet sliders and WebUI settings: ``lib_skelext.host`` reads ``OPTIONS[...]`` for ranges/labels;
* the Gradio tab and the ComfyUI nodes take choices, ranges and defaults from here.
"""
from __future__ import annotations

import argparse
import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Dict, Iterable, Optional, Tuple

from .errors import SkelextError

from .pose import DWPOSE_SCORE_THRESHOLD

#: Keypoints scoring below this count as missing (DWPose and ControlNet use 0.3).
DEFAULT_THRESHOLD = DWPOSE_SCORE_THRESHOLD
CANVAS_MODES: Tuple[str, ...] = ("keep", "fit", "expand")
DETECTORS: Tuple[str, ...] = ("dwpose", "blazepose")
COORD_UNITS: Tuple[str, ...] = ("auto", "px", "norm")
OUTPUT_COORD_UNITS: Tuple[str, ...] = ("same", "px", "norm")
SEQUENCE_MODES: Tuple[str, ...] = ("causal", "offline")
#: ``sequence``: off (frames on their own) or the frames are one video, completed in this mode.
SEQUENCE_CHOICES: Tuple[str, ...] = ("off",) + SEQUENCE_MODES
#: The options that say how a control image is drawn: every surface that draws takes all of them.
RENDER_OPTIONS: Tuple[str, ...] = ("draw_body", "draw_hands", "draw_face")
DEFAULT_RESOLUTION = 512
MIN_RESOLUTION, MAX_RESOLUTION = 64, 4096
MAX_ALTERNATIVES = 8
#: Most bytes of pose JSON read from one file or upload (a pose is a few kB; a 10-minute clip's
#: list of frames a few MB). The REST API's own body limit is ``api.limits.MAX_BODY_BYTES``.
MAX_JSON_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class OptionSpec:
    """One option. kind: "choice", "int", "float" or "bool"."""

    name: str
    kind: str
    default: Any
    help: str
    label: str = ""
    choices: Tuple[str, ...] = ()
    minimum: Optional[float] = None
    maximum: Optional[float] = None
    step: Optional[float] = None

    @property
    def cli_flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def range_text(self) -> str:
        if self.kind == "choice":
            return " | ".join(self.choices)
        if self.minimum is None:
            return ""
        return f"[{_fmt(self.minimum)}, {_fmt(self.maximum)}]"

    def validate(self, value: Any) -> Any:
        """value converted to the option's type; SkelextError naming the option when out of range."""
        what = _NOUNS.get(self.name, self.name.replace("_", " "))
        if self.kind == "choice":
            if value not in self.choices:
                raise SkelextError(f"unknown {what} {value!r}; choose one of {', '.join(self.choices)}")
            return value
        if self.kind == "bool":
            if not isinstance(value, (bool, int)) or value not in (0, 1):
                raise SkelextError(f"{what} must be true or false, got {value!r}")
            return bool(value)
        if self.kind == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                if isinstance(value, float) and value.is_integer():
                    value = int(value)
                else:
                    raise SkelextError(f"{what} must be an integer from {_fmt(self.minimum)} to "
                                       f"{_fmt(self.maximum)}, got {value!r}")
        else:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(float(value)):
                raise SkelextError(f"{what} must be a number in {self.range_text()}, got {value!r}")
            value = float(value)
        if value < self.minimum or value > self.maximum:
            if self.kind == "int":
                raise SkelextError(f"{what} must be an integer from {_fmt(self.minimum)} to {_fmt(self.maximum)}, "
                                   f"got {value!r}")
            raise SkelextError(f"{what} must be in {self.range_text()}, got {value!r}")
        return value


_NOUNS = {"canvas": "canvas mode"}


def _fmt(x: Optional[float]) -> str:
    return "" if x is None else (str(int(x)) if float(x).is_integer() else str(x))


_SPECS = (
    OptionSpec("resolution", "int", DEFAULT_RESOLUTION,
               "short side in pixels the image is resized to before detection (as ControlNet's slider)",
               "Resolution (short side, px)", minimum=MIN_RESOLUTION, maximum=MAX_RESOLUTION, step=8),
    OptionSpec("canvas", "choice", "keep",
               "keep: same canvas, off-frame points stay in the JSON; fit: people scaled into the frame; "
               "expand: the canvas grows to hold every point",
               "Canvas", choices=CANVAS_MODES),
    OptionSpec("detector", "choice", "dwpose",
               "dwpose (ONNX weights, found or downloaded once; every person) or blazepose (mediapipe, offline, "
               "one person per frame: the most prominent; in a video, the person it found first, followed "
               "until lost, then the most prominent again)",
               "Detector", choices=DETECTORS),
    OptionSpec("detection_threshold", "float", DEFAULT_THRESHOLD,
               "keypoints scoring below it count as missing", "Detection threshold",
               minimum=0.0, maximum=1.0, step=0.01),
    OptionSpec("alternatives", "int", 1, "ranked completions per person to record (1 = the best only)",
               "Alternatives", minimum=1, maximum=MAX_ALTERNATIVES, step=1),
    OptionSpec("complete", "bool", True, "run the completion model (false: plain detection)", "Complete"),
    OptionSpec("draw_body", "bool", True, "draw the body in the control image", "Draw body"),
    OptionSpec("draw_hands", "bool", True, "draw hands in the control image", "Draw hands"),
    OptionSpec("draw_face", "bool", True, "draw the face in the control image", "Draw face"),
    OptionSpec("fit_margin", "float", 0.05, "canvas fit/expand: margin as a fraction of the canvas side",
               "Fit margin", minimum=0.0, maximum=0.45, step=0.01),
    OptionSpec("coords", "choice", "auto",
               "input coordinate units: px (pixels), norm (0..1 of the canvas) or auto (guessed per frame)",
               "Input units", choices=COORD_UNITS),
    OptionSpec("output_coords", "choice", "same",
               "output units: same (as the input), px or norm (0..1 of the canvas); 0..1 is never written with "
               "a point outside the canvas (completed legs below the frame): same then writes pixels, and norm "
               "is refused with a message (use canvas fit or expand, or px)",
               "Output units", choices=OUTPUT_COORD_UNITS),
    OptionSpec("sequence", "choice", "off",
               "off: every frame on its own; causal / offline: the frames are one video: people are tracked "
               "(track_id in each person's skelext record) and completed steadily over time (causal uses "
               "past frames only, for live use; offline both sides)",
               "Sequence", choices=SEQUENCE_CHOICES),
    OptionSpec("sequence_mode", "choice", "causal",
               "sequences (video frames): causal (frame t uses frames up to t; live use) or offline "
               "(both sides; steadier, needs the whole clip)",
               "Sequence mode", choices=SEQUENCE_MODES),
    OptionSpec("bridge_gap", "float", 0.5,
               "sequences: a tracked person missing for up to this many seconds keeps a pose (offline: "
               "interpolated between the frames around the hole; causal: the last pose held and moved on, "
               "then the track ends); marked in the person's skelext record; 0 = off",
               "Bridge gaps (s)", minimum=0.0, maximum=10.0, step=0.1),
    OptionSpec("retarget_position", "choice", "reference",
               "retarget: where the figure stands: reference (where the reference stands, then moving with "
               "the driving motion scaled to the reference's size) or driving (the driving pose's place)",
               "Retarget position", choices=("reference", "driving")),
    OptionSpec("retarget_scale", "choice", "reference",
               "retarget: the figure's overall size: the reference's, or the driving pose's (keeping the "
               "reference's proportions)", "Retarget scale", choices=("reference", "driving")),
    OptionSpec("retarget_mode", "choice", "bones",
               "retarget: bones (each bone takes the reference's length and the driving's direction) or scale "
               "(the driving pose only scaled and moved as a whole to the reference's size)",
               "Retarget mode", choices=("bones", "scale")),
    OptionSpec("rewrite_scores", "bool", False,
               "points read from the input with a score other than 1.0 are written as [x, y, 1.0] too "
               "(ControlNet, comfyui_controlnet_aux and the editors drop c < 1.0), their scores kept in the "
               "person's skelext record; otherwise points read and not changed are written back exactly as read",
               "Rewrite input scores"),
    OptionSpec("smooth_detected", "bool", False,
               "sequences: also smooth the detected points (otherwise they come back exactly as detected)",
               "Smooth detected points"),
)

#: Every option by name, in display order.
OPTIONS: Dict[str, OptionSpec] = {spec.name: spec for spec in _SPECS}


@dataclass(frozen=True)
class PipelineSettings:
    """The options of one run, validated against ``OPTIONS`` (defaults from there too)."""

    resolution: int = OPTIONS["resolution"].default
    canvas: str = OPTIONS["canvas"].default
    detector: str = OPTIONS["detector"].default
    detection_threshold: float = OPTIONS["detection_threshold"].default
    alternatives: int = OPTIONS["alternatives"].default
    complete: bool = OPTIONS["complete"].default
    draw_body: bool = OPTIONS["draw_body"].default
    draw_hands: bool = OPTIONS["draw_hands"].default
    draw_face: bool = OPTIONS["draw_face"].default
    fit_margin: float = OPTIONS["fit_margin"].default
    sequence_mode: str = OPTIONS["sequence_mode"].default
    sequence: str = OPTIONS["sequence"].default
    coords: str = OPTIONS["coords"].default
    output_coords: str = OPTIONS["output_coords"].default
    smooth_detected: bool = OPTIONS["smooth_detected"].default
    rewrite_scores: bool = OPTIONS["rewrite_scores"].default
    bridge_gap: float = OPTIONS["bridge_gap"].default
    retarget_position: str = OPTIONS["retarget_position"].default
    retarget_scale: str = OPTIONS["retarget_scale"].default
    retarget_mode: str = OPTIONS["retarget_mode"].default

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            object.__setattr__(self, f.name, OPTIONS[f.name].validate(getattr(self, f.name)))

    def replace(self, **changes: Any) -> "PipelineSettings":
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_mapping(cls, values: Dict[str, Any]) -> "PipelineSettings":
        """Settings from a mapping holding (some of) the option names; other keys are ignored."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})


def validate_canvas_mode(mode: str) -> str:
    return OPTIONS["canvas"].validate(mode)


def validate_alternatives(k: int) -> int:
    return OPTIONS["alternatives"].validate(k)


def add_cli_options(parser: argparse.ArgumentParser, names: Iterable[str],
                    aliases: Optional[Dict[str, Tuple[str, ...]]] = None) -> None:
    """argparse arguments for these options: the flag is the option's name (``--detection-threshold``);
    ``aliases`` adds older spellings that keep working (detection_threshold=("--threshold",)).
    A choice whose first choice is "off" (``sequence``) may be given bare: it then means the next
    choice (``--sequence`` = ``--sequence causal``)."""
    aliases = CLI_ALIASES if aliases is None else aliases
    for name in names:
        spec = OPTIONS[name]
        flags = [spec.cli_flag, *aliases.get(name, ())]
        help_text = f"{spec.help} (default {str(spec.default).lower() if spec.kind == 'bool' else spec.default})"
        if spec.kind == "bool":
            # both spellings, meaning what they say: --complete / --no-complete, --draw-hands / --no-draw-hands
            parser.add_argument(*flags, dest=name, action=argparse.BooleanOptionalAction, default=spec.default,
                                help=help_text)
        elif spec.kind == "choice" and spec.choices[0] == "off":
            parser.add_argument(*flags, dest=name, choices=spec.choices, default=spec.default, nargs="?",
                                const=spec.choices[1], help=f"{help_text}; the flag alone means {spec.choices[1]}")
        elif spec.kind == "choice":
            parser.add_argument(*flags, dest=name, choices=spec.choices, default=spec.default, help=help_text)
        else:
            parser.add_argument(*flags, dest=name, type=int if spec.kind == "int" else float, default=spec.default,
                                metavar="N" if spec.kind == "int" else "X",
                                help=f"{help_text}; {spec.range_text()}")


#: Flags of earlier releases that still work (hidden from --help where they would repeat an option).
CLI_ALIASES: Dict[str, Tuple[str, ...]] = {"detection_threshold": ("--threshold",), "draw_hands": ("--hands",),
                                           "draw_face": ("--face",)}


def add_legacy_sequence_mode(parser: argparse.ArgumentParser) -> None:
    """``--sequence --sequence-mode offline`` (before ``--sequence`` took the mode) keeps working."""
    parser.add_argument("--sequence-mode", dest="legacy_sequence_mode", choices=SEQUENCE_MODES, default=None,
                        help=argparse.SUPPRESS)


def settings_from_args(args: argparse.Namespace, **fixed: Any) -> PipelineSettings:
    """PipelineSettings from parsed CLI arguments (options the command lacks keep their defaults)."""
    values = {name: getattr(args, name) for name in OPTIONS if hasattr(args, name)}
    legacy_mode = getattr(args, "legacy_sequence_mode", None)
    if legacy_mode and values.get("sequence", "off") != "off":
        values["sequence"] = legacy_mode
    values.update(fixed)
    return PipelineSettings.from_mapping(values)
