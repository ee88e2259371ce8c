"""Kalman filters over frames, vectorised over channels, with Rauch-Tung-Striebel smoothing.

Time is counted in frames (``dt`` = frames since the previous step, so gaps where a
person was not seen are bridged). Units are whatever the caller feeds: the sequence
code uses body units (about one torso length) for poses and log-scale / offsets for
the body frame. A channel without any measurement yet is NaN (unknown).

* ``RandomWalkFilter``: x_t = x_{t-1} + w, w ~ N(0, q dt) (a still pose that may drift).
* ``VelocityFilter``: constant velocity, white-noise acceleration of spectral density q
  (a camera pan or a walking body moves at a steady speed without lag).

Each ``step`` returns the filtered (causal) estimate; ``smooth()`` returns the
two-sided estimate over every step taken (offline). Beside them, the per-track helpers the
sequence code runs once over a whole track: exponential and running averages and medians,
the visible points' own speed, and ``glide_limit`` (no completed point leaps).
"""
from __future__ import annotations

from typing import List, Tuple, Union

import numpy as np

ArrayLike = Union[float, np.ndarray]


class RandomWalkFilter:
    """channels: number of independent scalar signals; q: process variance per frame."""

    def __init__(self, channels: int, q: ArrayLike) -> None:
        self.x = np.full(channels, np.nan)
        self.p = np.full(channels, np.inf)
        self.q = q
        self._known = False
        self._hist: List[Tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (p_pred, x_filt, p_filt)

    def step(self, z: np.ndarray, r: np.ndarray, dt: float = 1.0, q: ArrayLike = None) -> np.ndarray:
        """z (C,) measurement (NaN = none), r (C,) its variance (inf = none); q: this step's process
        variance per frame (default the filter's). Returns x (C,)."""
        p_pred = self.p + (self.q if q is None else q) * dt
        if self._known and np.isfinite(z).all():  # the common case, in a few operations
            k = p_pred / (p_pred + r)
            self.x = self.x + k * (z - self.x)
            self.p = (1.0 - k) * p_pred
            self._hist.append((p_pred, self.x, self.p))
            return self.x
        seen = np.isfinite(z) & np.isfinite(r)
        new = seen & ~np.isfinite(self.x)
        upd = seen & ~new
        k = np.where(upd, p_pred / np.where(upd, p_pred + r, 1.0), 0.0)
        x = np.where(upd, self.x + k * (np.where(upd, z, 0.0) - np.where(upd, self.x, 0.0)), self.x)
        p = np.where(upd, (1.0 - k) * p_pred, p_pred)
        x = np.where(new, z, x)
        p = np.where(new, r, p)
        self._hist.append((p_pred, x, p))
        self.x, self.p = x, p
        self._known = bool(np.isfinite(x).all())
        return x

    def smooth(self) -> np.ndarray:
        """(steps, C) two-sided estimates (RTS); NaN before a channel's first measurement is
        filled from the first one (a point seen later was there before)."""
        n = len(self._hist)
        out = np.empty((n, len(self.x)))
        out[-1] = self._hist[-1][1]
        for t in range(n - 2, -1, -1):
            _, xf, pf = self._hist[t]
            p_next = self._hist[t + 1][0]
            with np.errstate(invalid="ignore", divide="ignore"):
                g = np.where(np.isfinite(pf) & np.isfinite(xf), pf / p_next, 0.0)
            out[t] = np.where(np.isfinite(xf), xf + g * (out[t + 1] - np.where(np.isfinite(xf), xf, 0.0)),
                              out[t + 1])
        return out


class VelocityFilter:
    """Constant-velocity Kalman filter for C independent channels (state: value, velocity per frame)."""

    def __init__(self, channels: int, q: ArrayLike) -> None:
        self.x = np.full(channels, np.nan)
        self.v = np.zeros(channels)
        self.p = (np.zeros(channels),) * 3  # p00, p01, p11
        self.q = q
        self._known = False
        self._hist: List[tuple] = []

    def step(self, z: np.ndarray, r: np.ndarray, dt: float = 1.0) -> np.ndarray:
        """z (C,) measurement (NaN = none), r (C,) variance. Returns the filtered value (C,)."""
        q = self.q
        p00, p01, p11 = self.p
        x_pred = self.x + self.v * dt
        v_pred = self.v
        a00 = p00 + 2 * dt * p01 + dt * dt * p11 + q * dt ** 3 / 3
        a01 = p01 + dt * p11 + q * dt ** 2 / 2
        a11 = p11 + q * dt
        if self._known and np.isfinite(z).all():  # the common case, in a few operations
            s = a00 + r
            k0, k1 = a00 / s, a01 / s
            innov = z - x_pred
            x, v = x_pred + k0 * innov, v_pred + k1 * innov
            b00, b01, b11 = (1 - k0) * a00, (1 - k0) * a01, a11 - k1 * a01
            self._hist.append((dt, x_pred, v_pred, (a00, a01, a11), x, v, (b00, b01, b11)))
            self.x, self.v, self.p = x, v, (b00, b01, b11)
            return x
        seen = np.isfinite(z) & np.isfinite(r)
        new = seen & ~np.isfinite(self.x)
        upd = seen & ~new
        s = np.where(upd, a00 + r, 1.0)
        k0, k1 = np.where(upd, a00 / s, 0.0), np.where(upd, a01 / s, 0.0)
        innov = np.where(upd, z - np.where(upd, x_pred, 0.0), 0.0)
        x = np.where(upd, x_pred + k0 * innov, x_pred)
        v = v_pred + k1 * innov
        b00, b01, b11 = (1 - k0) * a00, (1 - k0) * a01, a11 - k1 * a01
        x = np.where(new, z, x)
        v = np.where(new, 0.0, v)
        big = 1e6  # an unknown velocity: wide prior
        b00, b01, b11 = np.where(new, r, b00), np.where(new, 0.0, b01), np.where(new, big, b11)
        self._hist.append((dt, x_pred, v_pred, (a00, a01, a11), x, v, (b00, b01, b11)))
        self.x, self.v, self.p = x, v, (b00, b01, b11)
        self._known = bool(np.isfinite(x).all())
        return x

    def smooth(self) -> np.ndarray:
        """(steps, C) two-sided (RTS) values."""
        n = len(self._hist)
        xs, vs = self._hist[-1][4].copy(), self._hist[-1][5].copy()
        out = np.empty((n, len(self.x)))
        out[-1] = xs
        for t in range(n - 2, -1, -1):
            _, _, _, _, xf, vf, (f00, f01, f11) = self._hist[t]
            dt, xp, vp, (a00, a01, a11), _, _, _ = self._hist[t + 1]
            # G = P_f F^T A^-1, F = [[1, dt], [0, 1]]
            c00, c01 = f00 + dt * f01, f01          # (P_f F^T) row 0
            c10, c11 = f01 + dt * f11, f11          # row 1
            det = a00 * a11 - a01 * a01
            with np.errstate(invalid="ignore", divide="ignore"):
                i00, i01, i11 = a11 / det, -a01 / det, a00 / det
            g00, g01 = c00 * i00 + c01 * i01, c00 * i01 + c01 * i11
            g10, g11 = c10 * i00 + c11 * i01, c10 * i01 + c11 * i11
            dx, dv = xs - xp, vs - vp
            ok = np.isfinite(xf) & np.isfinite(det) & (det > 0)
            xs = np.where(ok, xf + np.where(ok, g00 * dx + g01 * dv, 0.0), np.where(np.isfinite(xf), xf, xs))
            vs = np.where(ok, vf + np.where(ok, g10 * dx + g11 * dv, 0.0), vf)
            out[t] = xs
        return out


def body_speed(xy: np.ndarray, seen: np.ndarray, weight: float) -> np.ndarray:
    """How fast the visible points move by themselves, with detector noise cancelled: xy (T, P, 2),
    seen (T, P) bool -> speed (T,) in xy units per step (0 until three steps share a point).

    White noise moves a point as far (in mean square) in one step as in two, steady motion twice
    as far, so (E|x_t - x_t-2|^2 - E|x_t - x_t-1|^2) / 3 estimates the squared speed free of the
    noise level (which differs from detector to detector). Both expectations are exponential
    averages (``weight``) over the points seen in all three steps.
    """
    t_len = len(xy)
    speed = np.zeros(t_len)
    if t_len < 3:
        return speed
    both = seen[2:] & seen[1:-1] & seen[:-2]  # (T-2, P)
    n = both.sum(1)
    with np.errstate(invalid="ignore"):
        one = np.where(both, ((xy[2:] - xy[1:-1]) ** 2).sum(-1), 0.0).sum(1)
        two = np.where(both, ((xy[2:] - xy[:-2]) ** 2).sum(-1), 0.0).sum(1)
    m1 = m2 = None
    for k in np.nonzero(n)[0]:  # a scalar recursion over the steps with shared points
        a, b = one[k] / n[k], two[k] / n[k]
        m1 = a if m1 is None else m1 + weight * (a - m1)
        m2 = b if m2 is None else m2 + weight * (b - m2)
        speed[k + 2] = np.sqrt(max(m2 - m1, 0.0) / 3.0)
    if n.any():  # steps without shared points keep the last estimate
        first = int(np.nonzero(n)[0][0])
        speed[first + 2:] = _hold(speed[first + 2:], n[first:] > 0)
    return speed


def _hold(values: np.ndarray, fresh: np.ndarray) -> np.ndarray:
    """values where fresh, else the last fresh value before."""
    idx = np.where(fresh, np.arange(len(values)), 0)
    np.maximum.accumulate(idx, out=idx)
    return values[idx]


def ema(x: np.ndarray, weight: float) -> np.ndarray:
    """Exponential average of x (T,) over its first axis, starting from x[0]."""
    out = np.empty(len(x))
    acc = float(x[0]) if len(x) else 0.0
    for i, v in enumerate(x):
        acc += weight * (v - acc)
        out[i] = acc
    return out


def triangular_mean(v: np.ndarray, frame_index: np.ndarray, window: int, centred: bool) -> np.ndarray:
    """v (S, P, 2) values at frames ``frame_index`` (S,) increasing (NaN: none) -> averages over the
    frames within ``window``: causal, the last ``window`` frames weighted ``window - age``; centred,
    those within ``window // 2`` either side weighted ``window - distance``. Where a point has
    no value in its window, its own value is kept."""
    out = v.copy()
    lo = hi = 0
    for k in range(len(v)):
        if centred:
            while frame_index[lo] < frame_index[k] - window // 2:
                lo += 1
            while hi < len(v) and frame_index[hi] <= frame_index[k] + window // 2:
                hi += 1
        else:
            while frame_index[k] - frame_index[lo] >= window:
                lo += 1
            hi = k + 1
        seg = v[lo:hi]
        have = np.isfinite(seg[..., 0])
        weight = have * (window - np.abs(frame_index[lo:hi] - frame_index[k]))[:, None].astype(float)
        total = weight.sum(0)
        mean = (np.where(have[..., None], seg, 0.0) * weight[..., None]).sum(0) / np.maximum(total, 1e-12)[:, None]
        out[k] = np.where(total[:, None] > 0, mean, v[k])
    return out


def running_median(x: np.ndarray, window: int, centred: bool) -> np.ndarray:
    """x (S,) -> the median of each step's window of ``window`` steps: causal, the last ``window`` up to
    and including it (fewer at the start); centred, ``window // 2`` either side (fewer at the ends)."""
    if window <= 1 or len(x) < 2:
        return np.asarray(x, float).copy()
    before = window // 2 if centred else window - 1
    after = window // 2 if centred else 0
    padded = np.concatenate([np.full(before, np.nan), np.asarray(x, float), np.full(after, np.nan)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, before + after + 1)
    return np.nanmedian(windows, axis=1)


def glide_limit(out: np.ndarray, xy: np.ndarray, visible: np.ndarray, frame_index: np.ndarray,
                 unit_px: np.ndarray, max_step: float) -> np.ndarray:
    """out (S, 18, 2) px: a point missing in two consecutive steps moves at most ``max_step`` body units
    (``unit_px`` (S,) px each, about a torso) per frame relative to the visible body, whose motion is the
    median step (per axis) of the points visible in both (xy (S, 18, 2) px as detected, visible (S, 18)):
    the median, because one limb swinging among a few visible points is not the body moving (with the
    mean, an elbow among four points let completed legs leap; measured in docs/video.md). Causal: each
    step is limited against the previous output."""
    out = out.copy()
    if len(out) < 2:
        return out
    gaps = np.diff(frame_index).astype(float)
    both = visible[1:] & visible[:-1]
    step = np.where(both[..., None], xy[1:] - xy[:-1], np.nan)
    body = np.zeros((len(step), 2))
    have = both.any(1)
    if have.any():
        body[have] = np.nanmedian(step[have], axis=1)
    limit = max_step * unit_px[1:] * gaps  # (S - 1,)
    missing = ~visible[1:] & ~visible[:-1]
    with np.errstate(invalid="ignore"):
        over = missing & (np.sqrt(((out[1:] - out[:-1] - body[:, None]) ** 2).sum(-1)) > limit[:, None])
    if not over.any():  # the usual case: nothing to limit
        return out
    for k in range(1 + int(np.argmax(over.any(1))), len(out)):  # from the first step over, each against the last
        rel = out[k] - out[k - 1] - body[k - 1]
        with np.errstate(invalid="ignore"):
            norm = np.sqrt((rel ** 2).sum(-1))
            big = missing[k - 1] & (norm > limit[k - 1])
        if big.any():
            out[k, big] = out[k - 1, big] + body[k - 1] + rel[big] * (limit[k - 1] / norm[big])[:, None]
    return out
