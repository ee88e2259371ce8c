"""Tracked people -> steady completed bodies: one model pass for every person of every frame,
then ``temporal.complete_track`` per track. Pixels in, pixels out."""
from __future__ import annotations

from typing import TYPE_CHECKING, List, Optional, Sequence

import numpy as np

from ..complete import apply_completion, given_masks
from ..pose import N_BODY, Person, PoseFrame
from .temporal import TemporalParams, complete_track

if TYPE_CHECKING:
    from ..completion_model import CompletionModel

#: Ranked completions per frame the temporal choice picks from.
CANDIDATES = 4


def complete_tracked(frames: Sequence[PoseFrame], ids: Sequence[Sequence[int]], *, alternatives: int = 1,
                     offline: bool = False, smooth_detected: bool = False, add_completed: bool = True,
                     model: Optional["CompletionModel"] = None,
                     params: Optional[TemporalParams] = None) -> List[PoseFrame]:
    """New frames whose people (ids[f][i] = track id, -1: untracked) are completed over time.

    Visible points come back bit for bit unless ``smooth_detected``; ``add_completed`` False
    only smooths (plain detection with smoothing). Each person's ``completion_confidence``
    is the model's (calibrated) probability that the point shown is within half a torso.
    """
    from ..completion_model import fit_normalisation, load_model, point_confidence, rank_completions

    out = [f.copy() for f in frames]
    where = [(fi, pi) for fi, f in enumerate(frames) for pi in range(len(f.people)) if ids[fi][pi] >= 0]
    if not where:
        return out
    model = model or load_model()
    people: List[Person] = [frames[fi].people[pi] for fi, pi in where]
    given = given_masks(people)
    xy = np.stack([np.where(g[:, None], p.body[:, :2], 0.0) for p, g in zip(people, given)])
    rect = np.array([[0.0, 0.0, float(frames[fi].canvas_width), float(frames[fi].canvas_height)] for fi, _ in where])
    pred = model.predict(xy, given, rect)
    # The candidates over time are the first completion and the mixture's groups: the alternative heads'
    # winner-takes-all guesses scored by the mixture mass around them tie with the first completion too
    # often, and choosing them frame by frame cost accuracy (validation moving poses: error 0.308 with
    # them, 0.297 without; per-frame 0.299).
    ranked = rank_completions(pred._replace(alt_px=None), ~given, max(CANDIDATES, alternatives),
                              calibration=model.calibration)
    options = np.where(given[:, None, :, None], xy[:, None], ranked.options_px)
    scale, offset, _ = fit_normalisation(xy, given, model.mean_pose)
    init = np.concatenate([scale[:, None], offset], 1)
    frame_no = np.array([fi for fi, _ in where])
    track = np.array([ids[fi][pi] for fi, pi in where])
    smooth_xy = np.full(xy.shape, np.nan)
    chosen = np.full(len(where), -1)
    for tid in np.unique(track):
        rows = np.nonzero(track == tid)[0]  # frame order (where is built in frame order)
        res = complete_track(xy[rows], given[rows], frame_no[rows], options[rows], ranked.scores[rows],
                             pred.ok[rows], init[rows], offline=offline, params=params)
        smooth_xy[rows], chosen[rows] = res.xy, res.chosen
    have = np.isfinite(smooth_xy[..., 0]).all(1)
    ref = np.where(np.isfinite(smooth_xy), smooth_xy, 0.0) / pred.scale[:, None, None]
    conf = point_confidence(pred.means_px / pred.scale[:, None, None, None], pred.sigma_norm, pred.probs, ref)
    if model.calibration is not None:
        conf = np.interp(conf, model.calibration[0], model.calibration[1])
    for n, (fi, pi) in enumerate(where):
        person = out[fi].people[pi]
        if not pred.ok[n] or not have[n]:
            person.completion_confidence = None  # fewer than 2 usable points: as given
            continue
        miss = ~given[n]
        body = person.body.copy()
        if smooth_detected:
            body[given[n], :2] = smooth_xy[n, given[n]]
        if add_completed and miss.any():
            body[miss, :2] = smooth_xy[n, miss]
            body[miss, 2] = 1.0
            others = [j for j in np.nonzero(ranked.scores[n] > 0)[0] if j != chosen[n]][:alternatives - 1]
            apply_completion(person, body, miss, np.where(miss, conf[n], 1.0),
                             [_body(body, miss, ranked.options_px[n, j]) for j in others],
                             [ranked.scores[n, j] for j in [chosen[n], *others]])
            continue
        if add_completed:
            person.completion_confidence = np.ones(N_BODY)
            person.alternatives, person.alternative_scores = [], [1.0]
        person.body = body
    return out


def _body(body: np.ndarray, miss: np.ndarray, option_px: np.ndarray) -> np.ndarray:
    b = body.copy()
    b[miss, :2] = option_px[miss]
    b[miss, 2] = 1.0
    return b
