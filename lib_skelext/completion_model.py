"""The completion network: body-normalised encoding and a numpy forward pass.

One source of truth for the encoding: ``train/`` imports ``encode`` from here.

Encoding (``ENCODING_VERSION`` 2; files of version 1 still load)
-----------------------------------------------------------------
* Body normalisation: a mean pose ``mean_pose`` (18, 2), neck at the origin, torso
  (neck -> mid-hip) of length 1, y down, is fitted to the usable points by a scale
  and a translation only (no rotation, so "up" is kept): the translation matches
  the centroids, the scale is the ratio of the RMS spreads about them (which does
  not collapse when the person is rotated). Normalised units are therefore about
  one torso length.
* Features (60,): for each of the 18 points x_norm, y_norm, visible (0/1), missing
  points as (0, 0, 0); then the visible canvas rectangle x0, y0, x1, y1 in the same
  normalised coordinates, clipped to +-``RECT_CLIP``; then (version 2 only) the log
  of the frame's width and height in normalised units, clipped to ``LOG_FRAME_CLIP``,
  which tells a far frame (a small person on a big canvas) from a near one where
  the clipped rectangle cannot. Points missing because they lie beyond the edge
  therefore belong outside that rectangle, occluded ones inside.
* Network (``ModelConfig.norm == "none"``, version 1 files): Linear(F, H) ReLU, then
  B residual blocks h + W2 relu(W1 h), then a linear head. With ``norm == "layer"``
  (v2): Linear(F, H), then B pre-norm blocks h + W2 act(W1 LayerNorm(h)), then
  act(LayerNorm(h)) feeds the heads; act is ReLU or GELU (tanh form).
* Heads: the mixture head gives, for K hypotheses, 18 (dx, dy) offsets added to the
  mean pose, 18 log sigmas (isotropic, normalised units) and one mixture logit. With
  ``regression_head`` a second linear head gives one completion (18 offsets added to
  the mean pose) trained on the Euclidean error alone: it is the first completion,
  the mixture gives the alternatives, scores and confidences.

Weights are a safetensors file read with ``safetensors.numpy``; its metadata holds
``{"config": json}`` with the architecture and the encoding version.

Over 300 lines on purpose: the encoding, the forward pass and the ranking of hypotheses are one
contract with ``train/`` (which imports the encoding from here).
"""
from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import asdict, dataclass
from typing import Dict, NamedTuple, Optional, Tuple

import numpy as np

from .assets import asset_path, read_model_file
from .errors import ModelError, SkelextError
from .pose import BODY_FLIP

logger = logging.getLogger(__name__)

ENCODING_VERSION = 2
#: Encoding versions this module reads (1: the v1.x models; 2: adds the log frame size; 3: version 2's features
#: normalised the regression MLP's way, centred on the visible points' mean and divided by their RMS spread,
#: used by the #16 ablation J_centroid only).
SUPPORTED_ENCODINGS = (1, 2, 3)
N_POINTS = 18
#: Features of the current encoding (``ModelConfig.n_features`` gives a file's own).
N_FEATURES = N_POINTS * 3 + 6
RECT_CLIP = 8.0
LOG_FRAME_CLIP = (-3.0, 7.0)
COORD_CLIP = 12.0
LOG_SIGMA_MIN = -4.5
LOG_SIGMA_MAX = 2.0
#: Radius (normalised units, ~torso lengths) inside which a completed point counts as right.
CONFIDENCE_RADIUS = 0.5
#: People whose fitted scale or offset (pixels) reach this are returned unchanged.
MAX_PX = 1e100
#: Batches up to this many rows run one matrix-vector product per row (faster for a person and its mirror).
SMALL_BATCH = 4
#: Hypotheses closer than this (mean over completed points, normalised units) form one completion.
DISTINCT_NORM = 0.3

_MIRROR = np.array(BODY_FLIP)

MODEL_FILE = "skelext_completion_v2.safetensors"
#: The shipped model: in the source tree's models/, or inside an installed wheel (``assets``).
DEFAULT_MODEL_PATH = str(asset_path("models/" + MODEL_FILE))


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of the completion network (stored in the weight file's metadata)."""

    hidden: int = 256
    blocks: int = 3
    hypotheses: int = 8
    encoding_version: int = ENCODING_VERSION
    #: "none" (v1: ReLU residual blocks) or "layer" (pre-LayerNorm blocks and a final LayerNorm).
    norm: str = "none"
    #: "relu" or "gelu" (tanh approximation), used where norm == "layer".
    act: str = "relu"
    #: A second head trained on the Euclidean error gives the first completion.
    regression_head: bool = False
    #: Extra regression completions trained winner-takes-all with the first (multiple-choice learning:
    #: only the closest of the 1 + n completions learns from each person), offered as the alternatives.
    alternative_heads: int = 0
    #: Default of ``CompletionModel.predict(mirror=None)``: pool each person with its mirror image.
    mirror: bool = True

    @property
    def out_dim(self) -> int:
        return self.hypotheses * (N_POINTS * 2 + N_POINTS + 1)

    @property
    def n_features(self) -> int:
        return N_POINTS * 3 + (4 if self.encoding_version == 1 else 6)

    @property
    def regression_dim(self) -> int:
        """Outputs of the regression head: the first completion and the alternative heads' (18 x 2 each)."""
        return (1 + self.alternative_heads) * N_POINTS * 2 if self.regression_head else 0

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "ModelConfig":
        return cls(**json.loads(text))


def fit_normalisation(xy: np.ndarray, usable: np.ndarray, mean_pose: np.ndarray,
                      centroid: bool = False) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fit scale + translation of the mean pose to the usable points of each person.

    xy: (N, 18, 2) pixels; usable: (N, 18) bool; mean_pose: (18, 2) normalised.
    Returns scale (N,) pixels per normalised unit, offset (N, 2) pixels (so that
    pixels = scale * norm + offset), ok (N,) bool: at least 2 usable points that
    are not all at one place, and a scale and offset below ``MAX_PX`` (coordinates
    near 1e300 would overflow into inf/NaN completions). Where not ok, scale is 1
    and offset 0. centroid: instead put the usable points' mean at 0 and make their
    RMS spread 1 (encoding 3), whatever points they are.
    """
    xy = np.asarray(xy, np.float64)
    w = np.asarray(usable, bool).astype(np.float64)
    n = w.sum(1)
    safe_n = np.maximum(n, 1.0)
    with np.errstate(over="ignore", invalid="ignore"):
        cp = (np.where(w[..., None] > 0, xy, 0.0)).sum(1) / safe_n[:, None]
        cm = (mean_pose[None] * w[..., None]).sum(1) / safe_n[:, None]
        sp = ((np.where(w > 0, ((xy - cp[:, None]) ** 2).sum(-1), 0.0))).sum(1)
        sm = (((mean_pose[None] - cm[:, None]) ** 2).sum(-1) * w).sum(1)
        if centroid:
            cm, sm = np.zeros_like(cm), n
        ok = (n >= 2) & (sm > 1e-8) & (sp > 1e-12)
        scale = np.where(ok, np.sqrt(sp / np.where(ok, sm, 1.0)), 1.0)
        offset = cp - scale[:, None] * cm
        ok &= (scale < MAX_PX) & (np.abs(offset) < MAX_PX).all(-1)
    scale = np.where(ok, scale, 1.0)
    offset = np.where(ok[:, None], offset, 0.0)
    return scale, offset, ok


def encode(xy: np.ndarray, visible: np.ndarray, rect: np.ndarray, mean_pose: np.ndarray,
           version: int = ENCODING_VERSION) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """People in pixels -> network features.

    xy: (N, 18, 2) pixels; visible: (N, 18) bool (the given points); rect: (N, 4)
    visible canvas x0, y0, x1, y1 in pixels; mean_pose (18, 2); version: the
    encoding (1: 58 features, 2 and 3: 60). Returns features (N, F) float32, scale (N,),
    offset (N, 2), ok (N,).
    """
    xy = np.asarray(xy, np.float64)
    vis = np.asarray(visible, bool)
    scale, offset, ok = fit_normalisation(xy, vis, mean_pose, centroid=version == 3)
    norm = (xy - offset[:, None]) / scale[:, None, None]
    norm = np.clip(np.where(vis[..., None], norm, 0.0), -COORD_CLIP, COORD_CLIP)
    r = np.asarray(rect, np.float64).reshape(-1, 4)
    rn = np.empty_like(r)
    rn[:, 0::2] = (r[:, 0::2] - offset[:, :1]) / scale[:, None]
    rn[:, 1::2] = (r[:, 1::2] - offset[:, 1:]) / scale[:, None]
    parts = [np.concatenate([norm, vis[..., None].astype(np.float64)], -1).reshape(len(xy), -1)]
    if version >= 2:
        with np.errstate(divide="ignore", invalid="ignore"):
            size = np.log(np.maximum(np.stack([rn[:, 2] - rn[:, 0], rn[:, 3] - rn[:, 1]], 1), 1e-30))
        parts.append(np.clip(np.nan_to_num(size, nan=LOG_FRAME_CLIP[0]), *LOG_FRAME_CLIP))
    parts.insert(1, np.clip(rn, -RECT_CLIP, RECT_CLIP))
    feats = np.concatenate([parts[0], parts[1]] + parts[2:], 1)
    return feats.astype(np.float32), scale, offset, ok


class Prediction(NamedTuple):
    """Model output for N people, K hypotheses (twice the network's when the mirror image is pooled), best-first.

    means_px: (N, K, 18, 2) pixels; sigma_norm: (N, K, 18) normalised units (~torso);
    probs: (N, K) mixture weights, sorted descending; scale: (N,) pixels per unit;
    ok: (N,) whether the person had enough usable points; top_px: (N, 18, 2) pixels,
    the regression head's completion (the first one offered), or None without that head;
    alt_px: (N, A, 18, 2) pixels, the alternative heads' completions, or None without them.
    """

    means_px: np.ndarray
    sigma_norm: np.ndarray
    probs: np.ndarray
    scale: np.ndarray
    ok: np.ndarray
    top_px: Optional[np.ndarray] = None
    alt_px: Optional[np.ndarray] = None


class CompletionModel:
    """Numpy completion network; weights as float32 arrays named as the torch module's."""

    def __init__(self, weights: Dict[str, np.ndarray], config: ModelConfig, path: str = "") -> None:
        if config.encoding_version not in SUPPORTED_ENCODINGS:
            raise ModelError(f"model {path or '(in memory)'} uses encoding v{config.encoding_version}, "
                               f"this skelext reads v{SUPPORTED_ENCODINGS[0]}..v{SUPPORTED_ENCODINGS[-1]}; "
                               "update skelext or the model file")
        if config.norm not in ("none", "layer") or config.act not in ("relu", "gelu"):
            raise ModelError(f"model {path or '(in memory)'} has an unknown layer type "
                               f"(norm {config.norm!r}, act {config.act!r}); update skelext")
        self.config = config
        self.path = path
        self.w = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in weights.items()}
        self.mean_pose = self.w["mean_pose"].astype(np.float64)
        #: (2, n) raw -> calibrated confidence knots (fitted on validation people), or None.
        cal = self.w.get("calibration")
        self.calibration = None if cal is None else cal.astype(np.float64)
        self._wt = {k: np.ascontiguousarray(v.T) for k, v in self.w.items()
                    if v.ndim == 2 and k not in ("mean_pose", "calibration")}
        if config.regression_head:  # one matrix for both heads: a single product at the end
            self._wt["heads"] = np.ascontiguousarray(np.concatenate([self._wt["out.weight"], self._wt["reg.weight"]], 1))
            self.w["heads"] = np.ascontiguousarray(self._wt["heads"].T)
            self.w["heads.bias"] = np.concatenate([self.w["out.bias"], self.w["reg.bias"]])

    def forward(self, feats: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """feats (N, F) float32 -> means_norm (N, K, 18, 2), log_sigma (N, K, 18), logits (N, K)."""
        return self.forward_all(feats)[:3]

    def forward_all(self, feats: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray, Optional[np.ndarray]]:
        """As ``forward`` plus the regression head's completions (N, 1 + A, 18, 2) normalised, the first
        completion then the A alternative heads' (None without a regression head)."""
        if len(feats) <= SMALL_BATCH:  # one matrix-vector product per row: BLAS's matrix path costs more here
            width = self.config.out_dim + self.config.regression_dim
            o = np.stack([self._layers(f, lambda x, name: self.w[name] @ x) for f in feats]) \
                if len(feats) else np.zeros((0, width), np.float32)
        else:
            o = self._layers(feats, lambda x, name: x @ self._wt[name])
        means, log_sigma, logits = split_output(o[:, :self.config.out_dim], self.config.hypotheses, self.w["mean_pose"])
        top = None
        if self.config.regression_head:
            heads = 1 + self.config.alternative_heads
            top = o[:, self.config.out_dim:].reshape(len(o), heads, N_POINTS, 2) + self.w["mean_pose"]
        return means, log_sigma, logits, top

    def _layers(self, x: np.ndarray, linear) -> np.ndarray:
        """The network on x ((F,) or (N, F)); linear(x, weight name) applies one weight matrix."""
        w = self.w
        if self.config.norm == "none":
            h = np.maximum(linear(x, "inp.weight") + w["inp.bias"], 0.0)
            for i in range(self.config.blocks):
                z = np.maximum(linear(h, f"blocks.{i}.0.weight") + w[f"blocks.{i}.0.bias"], 0.0)
                h = h + (linear(z, f"blocks.{i}.2.weight") + w[f"blocks.{i}.2.bias"])
            return linear(h, "out.weight") + w["out.bias"]
        act = _gelu if self.config.act == "gelu" else _relu
        h = linear(x, "inp.weight") + w["inp.bias"]
        for i in range(self.config.blocks):
            z = _layer_norm(h, w[f"blocks.{i}.0.weight"], w[f"blocks.{i}.0.bias"])
            z = act(linear(z, f"blocks.{i}.1.weight") + w[f"blocks.{i}.1.bias"])
            h = h + (linear(z, f"blocks.{i}.3.weight") + w[f"blocks.{i}.3.bias"])
        z = act(_layer_norm(h, w["norm.weight"], w["norm.bias"]))
        if self.config.regression_head:
            return linear(z, "heads") + w["heads.bias"]
        return linear(z, "out.weight") + w["out.bias"]

    def predict(self, xy: np.ndarray, visible: np.ndarray, rect: np.ndarray, mirror: Optional[bool] = None) -> Prediction:
        """Complete N people. xy (N, 18, 2) px, visible (N, 18) bool, rect (N, 4) px.

        mirror: also complete each person's mirror image (left and right swapped,
        in the same forward pass) and return the mixture of both views, 2K
        hypotheses at half weight each (and the mean of both regression
        completions). None: the model file's default (``ModelConfig.mirror``).
        The network is not exactly left/right symmetric; pooling both views is a
        test-time augmentation that costs a second row per person.
        """
        mirror = self.config.mirror if mirror is None else mirror
        xy = np.asarray(xy, np.float64)
        visible = np.asarray(visible, bool)
        rect = np.asarray(rect, np.float64).reshape(-1, 4)
        n = len(xy)
        if mirror:
            xy = np.concatenate([xy, xy[:, _MIRROR] * [-1.0, 1.0]])
            visible = np.concatenate([visible, visible[:, _MIRROR]])
            rect = np.concatenate([rect, np.stack([-rect[:, 2], rect[:, 1], -rect[:, 0], rect[:, 3]], 1)])
        feats, scale, offset, ok = encode(xy, visible, rect, self.mean_pose, self.config.encoding_version)
        means, log_sigma, logits, top = self.forward_all(feats)
        logits = logits.astype(np.float64)
        probs = np.exp(logits - logits.max(1, keepdims=True))
        probs /= probs.sum(1, keepdims=True)
        sigma = np.exp(log_sigma.astype(np.float64))
        px = means.astype(np.float64) * scale[:, None, None, None] + offset[:, None, None, :]
        heads_px = None if top is None else top.astype(np.float64) * scale[:, None, None, None] + offset[:, None, None, :]
        if mirror:  # mirrored views back to the original's image and units
            px = np.concatenate([px[:n], px[n:][:, :, _MIRROR] * [-1.0, 1.0]], 1)
            ratio = np.divide(scale[n:], scale[:n], out=np.ones(n), where=scale[:n] > 0)
            sigma = np.concatenate([sigma[:n], sigma[n:][:, :, _MIRROR] * ratio[:, None, None]], 1)
            probs = np.concatenate([probs[:n], probs[n:]], 1) / 2.0
            if heads_px is not None:  # head by head
                heads_px = (heads_px[:n] + heads_px[n:][:, :, _MIRROR] * [-1.0, 1.0]) / 2.0
            scale, ok = scale[:n], ok[:n] & ok[n:]
        order = np.argsort(-probs, axis=1, kind="stable")
        take = np.arange(n)[:, None]
        top_px = None if heads_px is None else heads_px[:, 0]
        alt_px = heads_px[:, 1:] if heads_px is not None and heads_px.shape[1] > 1 else None
        return Prediction(px[take, order], sigma[take, order], probs[take, order], scale, ok, top_px, alt_px)


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0)


def _gelu(x: np.ndarray) -> np.ndarray:
    """GELU, tanh approximation (torch ``GELU(approximate="tanh")``)."""
    return 0.5 * x * (1.0 + np.tanh(np.float32(0.7978845608028654) * (x + np.float32(0.044715) * x * x * x)))


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """LayerNorm over the last axis (as torch's, eps 1e-5)."""
    mu = x.mean(-1, keepdims=True)
    d = x - mu
    var = (d * d).mean(-1, keepdims=True)
    return d / np.sqrt(var + np.float32(eps)) * weight + bias


def split_output(o: np.ndarray, k: int, mean_pose: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Raw head output (N, K*55) -> means (N, K, 18, 2), clipped log sigma (N, K, 18), logits (N, K)."""
    n = o.shape[0]
    means = o[:, : k * 36].reshape(n, k, N_POINTS, 2) + mean_pose
    log_sigma = np.clip(o[:, k * 36: k * 54].reshape(n, k, N_POINTS), LOG_SIGMA_MIN, LOG_SIGMA_MAX)
    logits = o[:, k * 54:]
    return means, log_sigma, logits


def point_confidence(means: np.ndarray, sigma: np.ndarray, probs: np.ndarray, ref: Optional[np.ndarray] = None,
                     radius: float = CONFIDENCE_RADIUS) -> np.ndarray:
    """Probability that each point of ``ref`` (default: hypothesis 0) lies within ``radius`` of the truth.

    means (N, K, 18, 2) normalised units; sigma (N, K, 18) the same units; probs (N, K);
    ref (N, 18, 2). Each component is an isotropic Gaussian; the mass of component k
    near ref is approximated by (1 - exp(-r^2 / 2 sigma^2)) * exp(-d^2 / 2 r^2), d the
    distance of its mean from ref. Returns (N, 18) in 0..1.
    """
    ref = means[:, 0] if ref is None else ref
    d2 = ((means - ref[:, None]) ** 2).sum(-1)
    near = (1.0 - np.exp(-radius ** 2 / (2.0 * sigma ** 2))) * np.exp(-d2 / (2.0 * radius ** 2))
    p = probs / np.maximum(probs.sum(1, keepdims=True), 1e-12)
    return np.clip((p[..., None] * near).sum(1), 0.0, 1.0)


class Completion(NamedTuple):
    """Ranked completions for N people (M = number of options asked for).

    options_px: (N, M, 18, 2) pixels, best first (options with score 0 are unused);
    scores: (N, M) probabilities, descending, sum <= 1; confidence: (N, 18) for option 0.
    """

    options_px: np.ndarray
    scores: np.ndarray
    confidence: np.ndarray


def rank_completions(pred: Prediction, missing: np.ndarray, max_options: int,
                     distinct: float = DISTINCT_NORM, calibration: Optional[np.ndarray] = None) -> Completion:
    """Group the K hypotheses into distinct completions and rank them by probability.

    Greedy, most likely first: each still unassigned hypothesis starts a group holding
    every unassigned hypothesis whose completed (``missing`` (N, 18) bool) points are
    within ``distinct`` normalised units (mean distance) of it. A group's completion is
    the probability-weighted mean of its hypotheses and its score their summed
    probability; groups are sorted by score. This keeps modes apart (standing vs
    sitting legs) while averaging near-duplicates, which lowers the error of the best
    completion. With a regression head (``pred.top_px``) the first completion is its
    output (see ``_put_regression_first`` for its score); the groups follow as the
    alternatives, the most likely one included unless it duplicates the first.
    """
    n, k = pred.probs.shape
    mn = pred.means_px / pred.scale[:, None, None, None]
    w = missing.astype(np.float64)
    dist = _mean_pairwise_distance(mn, w / np.maximum(w.sum(1), 1.0)[:, None])
    assign = np.full((n, k), -1)
    count = np.zeros(n, int)
    rows = np.arange(n)
    for j in range(k):
        if (assign >= 0).all():
            break
        lead = assign[:, j] < 0
        members = (assign < 0) & (dist[:, j] <= distinct) & lead[:, None]
        assign = np.where(members, count[:, None], assign)
        count += lead
    onehot = (assign[..., None] == np.arange(k)).astype(np.float64)  # (N, K hyp, K groups)
    gp = (pred.probs[..., None] * onehot).sum(1)  # (N, groups)
    gm = np.einsum("nkg,nkpc->ngpc", pred.probs[..., None] * onehot, pred.means_px) / np.maximum(gp, 1e-300)[..., None, None]
    if pred.alt_px is not None:
        gp, gm = _put_heads_first(pred, gm, assign, mn, w, distinct)
        order = np.concatenate([np.zeros((n, 1), int), 1 + np.argsort(-gp[:, 1:], axis=1, kind="stable")], 1)
        order = order[:, :max_options]
    elif pred.top_px is not None:
        gp, gm = _put_regression_first(pred, gm, gp, w, distinct)
        order = np.concatenate([np.zeros((n, 1), int), 1 + np.argsort(-gp[:, 1:], axis=1, kind="stable")], 1)
        order = order[:, :max_options]
    else:
        order = np.argsort(-gp, axis=1, kind="stable")[:, :max_options]
    scores = gp[rows[:, None], order]
    options = gm[rows[:, None], order]
    scale = pred.scale[:, None, None]
    conf = point_confidence(mn, pred.sigma_norm, pred.probs, options[:, 0] / scale)
    if calibration is not None:
        conf = np.interp(conf, calibration[0], calibration[1])
    return Completion(options, scores, conf)


def _put_heads_first(pred: Prediction, gm: np.ndarray, assign: np.ndarray, mn: np.ndarray,
                     w: np.ndarray, distinct: float) -> Tuple[np.ndarray, np.ndarray]:
    """The regression completions (first, then the alternative heads') before the K groups: returns
    scores (N, H + K), means (N, H + K, 18, 2).

    Each mixture hypothesis gives its probability to the nearest offered completion: a head (also on
    a tie), or its own group (``assign`` (N, K), the group of each hypothesis; ``mn`` the hypotheses' means in
    normalised units), by mean distance over the completed points. A group left without mass, or
    whose hypotheses lie on average within ``distinct`` / 3 of a head (a near-duplicate: its mass
    goes to that head), is dropped (score 0). The first completion's score is raised to the
    largest (it is offered first); scores are renormalised to sum to 1, and every head keeps at
    least a small score (it is always offered).
    """
    n = len(pred.probs)
    rows = np.arange(n)[:, None]
    heads = np.concatenate([pred.top_px[:, None], pred.alt_px], 1).astype(gm.dtype)  # (N, H, 18, 2) px
    n_heads = heads.shape[1]
    wn = w / np.maximum(w.sum(1), 1.0)[:, None]
    scale = pred.scale[:, None, None, None]
    to_heads = _mean_distance(mn, heads / scale, wn)  # (N, K, H)
    mine = gm[rows, assign] / scale  # (N, K, 18, 2) each hypothesis's own group's completion
    own = np.einsum("nkp,np->nk", np.abs((mn[..., 0] - mine[..., 0]) + 1j * (mn[..., 1] - mine[..., 1])), wn)
    nearest_head = to_heads.argmin(2)
    by_head = to_heads.min(2) <= own  # (N, K); a head as near as the group takes the hypothesis
    head_score = (pred.probs[..., None] * (by_head[..., None] & (nearest_head[..., None] == np.arange(n_heads)))).sum(1)
    member = pred.probs[..., None] * (assign[..., None] == np.arange(gm.shape[1]))  # (N, K, G) mass by group
    group_score = (member * ~by_head[..., None]).sum(1)
    # a group whose hypotheses lie on average within distinct / 3 of a head duplicates it (by convexity its
    # mean lies at least as near): its mass goes to that head
    live = group_score > 0
    if live.any():
        g_to_heads = np.einsum("nkg,nkh->ngh", member, to_heads) / np.maximum(member.sum(1), 1e-300)[..., None]
        dup = live & (g_to_heads.min(2) <= distinct / 3.0)
        head_score += (group_score[..., None] * (dup[..., None] & (g_to_heads.argmin(2)[..., None]
                                                                    == np.arange(n_heads)))).sum(1)
        group_score = np.where(dup, 0.0, group_score)
    score = np.concatenate([np.maximum(head_score, 1e-3), group_score], 1)
    score[:, 0] = np.maximum(score[:, 0], score[:, 1:].max(1))
    score /= score.sum(1, keepdims=True)
    return score, np.concatenate([heads, gm], 1)


def _put_regression_first(pred: Prediction, gm: np.ndarray, gp: np.ndarray, w: np.ndarray,
                          distinct: float) -> Tuple[np.ndarray, np.ndarray]:
    """Prepend the regression completion to the K groups: returns scores (N, K + 1), means (N, K + 1, 18, 2).

    The regression completion refines the mixture's most likely mode. Groups within
    ``distinct`` / 3 of it (mean distance over the completed points, normalised) are
    near-duplicates: dropped, their score goes to it. Otherwise the most likely group
    g0 stays as an alternative (it often differs in a way that pays as a second guess)
    and shares its score with the regression completion: g0 keeps
    x = min(s0 - s1, s0 / 2) (s1 the next group's score), the first completion gets the
    rest, so scores stay descending from the first completion and sum to at most 1.
    """
    n = len(gp)
    rows = np.arange(n)
    zt = pred.top_px[..., 0] + 1j * pred.top_px[..., 1]  # (N, 18) px
    zg = gm[..., 0] + 1j * gm[..., 1]  # (N, groups, 18) px
    wn = w / np.maximum(w.sum(1), 1.0)[:, None]
    dist = (np.abs(zg - zt[:, None]) * wn[:, None]).sum(-1) / pred.scale[:, None]
    dup = (dist <= distinct / 3.0) & (gp > 0)
    best = np.argmax(gp, 1)
    s0 = gp[rows, best]
    s1 = np.sort(gp, 1)[:, -2] if gp.shape[1] > 1 else np.zeros(n)
    keep0 = np.clip(np.minimum(s0 - s1, s0 / 2.0), 0.0, None) * ~dup[rows, best]
    top_score = (gp * dup).sum(1) + np.where(dup[rows, best], 0.0, s0 - keep0)
    gp = np.where(dup, 0.0, gp)
    gp[rows, best] = np.where(dup[rows, best], 0.0, keep0)
    return (np.concatenate([top_score[:, None], gp], 1),
            np.concatenate([pred.top_px[:, None].astype(gm.dtype), gm], 1))


def _mean_pairwise_distance(means: np.ndarray, weights: np.ndarray, chunk: int = 64) -> np.ndarray:
    """(N, K, K) weighted mean point distance between every two hypotheses (as ``_mean_distance``; each
    pair computed once)."""
    n, k = means.shape[:2]
    first, second = np.triu_indices(k, 1)
    z = (means[..., 0] + 1j * means[..., 1]).astype(np.complex64)  # (N, K, 18)
    w32 = weights.astype(np.float32)
    out = np.zeros((n, k, k))
    for s in range(0, n, chunk):
        d = np.einsum("cqp,cp->cq", np.abs(z[s:s + chunk, first] - z[s:s + chunk, second]), w32[s:s + chunk])
        out[s:s + chunk, first, second] = d
        out[s:s + chunk, second, first] = d
    return out


def _mean_distance(a: np.ndarray, b: np.ndarray, weights: np.ndarray, chunk: int = 64) -> np.ndarray:
    """(N, A, B) weighted mean point distance between every completion of a (N, A, 18, 2) and of b
    (N, B, 18, 2); weights (N, 18) summing to 1 over the points that count.

    Points as single-precision complex numbers (one subtraction and one abs per pair; distances of
    about one unit to ~1e-6, far finer than any threshold they meet), in chunks of people small
    enough to stay in cache.
    """
    n = a.shape[0]
    za = (a[..., 0] + 1j * a[..., 1]).astype(np.complex64)  # (N, A, 18)
    zb = (b[..., 0] + 1j * b[..., 1]).astype(np.complex64)
    w32 = weights.astype(np.float32)
    out = np.empty((n, a.shape[1], b.shape[1]))
    for s in range(0, n, chunk):
        out[s:s + chunk] = np.einsum("cabp,cp->cab", np.abs(za[s:s + chunk, :, None] - zb[s:s + chunk, None]),
                                     w32[s:s + chunk])
    return out


_lock = threading.Lock()
_cache: Dict[str, CompletionModel] = {}


def load_model(path: Optional[str] = None) -> CompletionModel:
    """Load (once, thread-safe) the completion model; default: the file shipped in ``models/``."""
    path = os.path.abspath(path or os.environ.get("SKELEXT_COMPLETION_MODEL") or DEFAULT_MODEL_PATH)
    with _lock:
        model = _cache.get(path)
        if model is not None:
            return model
        weights, meta = read_model_file(path, "completion model", "python -m train.reproduce")
        try:
            config = ModelConfig.from_json(meta["config"])
        except SkelextError as exc:
            raise ModelError(str(exc)) from exc
        except Exception as exc:  # a foreign file: no config, or not ours
            raise ModelError(f"cannot read completion model {path}: {exc}; re-download or rebuild it") from exc
        model = CompletionModel(weights, config, path)
        logger.info("loaded completion model %s (backend numpy, device cpu, %d hypotheses)", path, config.hypotheses)
        _cache[path] = model
        return model


def save_model(path: str, weights: Dict[str, np.ndarray], config: ModelConfig, extra_meta: Optional[Dict[str, str]] = None) -> None:
    """Write weights (float32) + config metadata as safetensors (used by train/export.py)."""
    from safetensors.numpy import save_file

    meta = {"config": config.to_json(), "encoding_version": str(config.encoding_version)}
    meta.update(extra_meta or {})
    save_file({k: np.ascontiguousarray(v, dtype=np.float32) for k, v in weights.items()}, path, metadata=meta)
