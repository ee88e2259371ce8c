"""The real-video part of ``bench_sequence.py``: ../shared/videos/sports2d_demo.mp4 (BSD-3-Clause,
(c) 2022 perfanalytics / David Pagnon; see ../shared/videos/README.md).

Reference: BlazePose (mediapipe, one person per image) on the full-resolution frames, run in a window
that follows each of the two people (the man on the box, the woman walking past), so each person has
their own reference track. Inputs: the same frames cropped so that person is cut, BlazePose run on
the crop (the detector's own behaviour at the frame edge is part of the test):

* fixed crops (one rectangle for the whole clip, 6 torso lengths wide about the person's median
  position, so the walking woman enters, crosses and leaves it): waist_up, knees_up (bottom edge
  at the person's median hip / knee height);
* moving crops (the camera follows the person slowly: the rectangle's centre is an exponential
  average of the person's, 10% per frame): waist_up, knees_up, side (right edge at the neck).

Detections are cached in ``out/sequence_video_cache.npz`` (delete it to run BlazePose again).
"""
from __future__ import annotations

import os
from typing import Dict, List, Tuple

import numpy as np

from lib_skelext.pose import L_HIP, L_KNEE, NECK, R_HIP, R_KNEE

VIDEO = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "shared", "videos", "sports2d_demo.mp4"))
CACHE = os.path.join(os.path.dirname(__file__), "..", "out", "sequence_video_cache.npz")
#: person -> starting window centre (x, y) px in the 1768x994 frames
PEOPLE = {"man": (640, 250), "woman": (1600, 720)}
CROPS = ("fixed_waist_up", "fixed_knees_up", "moving_waist_up", "moving_knees_up", "moving_side")
EMA = 0.1


def _detector():
    from lib_skelext.detectors import get_detector

    return get_detector("blazepose")


def _detect(det, image: np.ndarray, x0: int, y0: int) -> np.ndarray:
    """(18, 3) body in full-frame pixels (zeros when nobody was found)."""
    frame = det.detect_people(np.ascontiguousarray(image), threshold=0.3)
    if not frame.people:
        return np.zeros((18, 3))
    b = frame.people[0].body.copy()
    b[b[:, 2] > 0, :2] += [x0, y0]
    return b


def _box(body: np.ndarray) -> Tuple[float, float, float, float]:
    p = body[body[:, 2] > 0, :2]
    return p[:, 0].min(), p[:, 1].min(), p[:, 0].max(), p[:, 1].max()


def references(frames: List[np.ndarray]) -> Dict[str, np.ndarray]:
    """person -> (T, 18, 3) reference bodies px (zeros where not found)."""
    det = _detector()
    h, w = frames[0].shape[:2]
    out = {}
    for name, centre in PEOPLE.items():
        cx, cy = centre
        half_w, half_h = 260.0, 260.0
        bodies = []
        for image in frames:
            x0, y0 = int(max(0, cx - half_w)), int(max(0, cy - half_h))
            x1, y1 = int(min(w, cx + half_w)), int(min(h, cy + half_h))
            body = _detect(det, image[y0:y1, x0:x1], x0, y0)
            if (body[:, 2] > 0).sum() >= 6:
                bx0, by0, bx1, by1 = _box(body)
                cx, cy = (bx0 + bx1) / 2, (by0 + by1) / 2
                half_w, half_h = max(0.75 * (bx1 - bx0), 140.0), max(0.65 * (by1 - by0), 160.0)
            else:
                body = np.zeros((18, 3))
            bodies.append(body)
        out[name] = np.stack(bodies)
    return out


def _level(ref: np.ndarray, joints) -> np.ndarray:
    """(T,) mean y of the given joints where present (NaN elsewhere)."""
    y = np.where(ref[:, joints, 2] > 0, ref[:, joints, 1], np.nan)
    with np.errstate(invalid="ignore"):
        return np.nanmean(np.where(np.isfinite(y), y, np.nan), 1)


def _ema(value, new: float):
    """One step of the crops' exponential average; NaN observations are skipped."""
    if value is None or not np.isfinite(value):
        return new
    return value + EMA * (new - value) if np.isfinite(new) else value


def crop_rects(ref: np.ndarray, width: int, height: int) -> Dict[str, np.ndarray]:
    """crop name -> (T, 4) integer rectangles x0, y0, x1, y1 (fixed size within each crop)."""
    import warnings

    warnings.simplefilter("ignore", RuntimeWarning)
    seen = (ref[..., 2] > 0).sum(1) >= 6
    pts = ref[seen][ref[seen][..., 2] > 0]
    top = max(0, int(np.percentile(pts[:, 1], 2) - 60))
    hip, knee = _level(ref, [R_HIP, L_HIP]), _level(ref, [R_KNEE, L_KNEE])
    neck_y = np.where(ref[:, NECK, 2] > 0, ref[:, NECK, 1], np.nan)
    torso = np.nanmedian(hip - neck_y)
    mid_x = float(np.nanmedian(np.where(ref[..., 2] > 0, ref[..., 0], np.nan)[seen]))
    x0, x1 = int(mid_x - 3 * torso), int(mid_x + 3 * torso)  # a person crossing the frame leaves and re-enters
    rects = {"fixed_waist_up": np.tile([x0, top, x1, int(np.nanmedian(hip))], (len(ref), 1)),
             "fixed_knees_up": np.tile([x0, top, x1, int(np.nanmedian(knee))], (len(ref), 1))}
    cx = np.where(seen, np.nanmean(np.where(ref[..., 2] > 0, ref[..., 0], np.nan), 1), np.nan)
    ema_x, ema_hip, ema_knee, ema_neck = [], [], [], []
    ex = eh = ek = en = None
    for t in range(len(ref)):
        if seen[t]:
            nx = ref[t, NECK, 0] if ref[t, NECK, 2] > 0 else cx[t]
            ex = cx[t] if ex is None else ex + EMA * (cx[t] - ex)
            eh, ek = _ema(eh, hip[t]), _ema(ek, knee[t])
            en = nx if en is None else en + EMA * (nx - en)
        ema_x.append(ex), ema_hip.append(eh), ema_knee.append(ek), ema_neck.append(en)
    first = next(i for i in range(len(ref)) if seen[i])
    for arr in (ema_x, ema_hip, ema_knee, ema_neck):
        for i in range(first):
            arr[i] = arr[first]
    ex, eh, ek, en = (np.array(a, float) for a in (ema_x, ema_hip, ema_knee, ema_neck))
    half = int(2.0 * torso)
    span = int(2.2 * torso)

    def moving(bottom: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        r = np.stack([left, bottom - span, right, bottom], 1)
        return np.round(r).astype(int)

    rects["moving_waist_up"] = moving(eh, ex - half, ex + half)
    rects["moving_knees_up"] = moving(ek, ex - half, ex + half)
    rects["moving_side"] = np.round(np.stack([en - 2 * half, eh - span, en, eh + 2 * torso], 1)).astype(int)
    return rects


def load_or_run(video: str = VIDEO, cache: str = CACHE) -> Dict[str, np.ndarray]:
    """{'fps', '<person>/reference' (T, 18, 3), '<person>/<crop>/rect' (T, 4), '<person>/<crop>/body'
    (T, 18, 3) in crop pixels}: BlazePose results, cached."""
    if os.path.isfile(cache):
        with np.load(cache) as z:
            return {k: z[k] for k in z.files}
    from lib_skelext.sequence.video_io import probe_video, read_video

    fps, _, width, height = probe_video(video)
    frames = list(read_video(video))
    out: Dict[str, np.ndarray] = {"fps": np.array(fps)}
    det = _detector()
    for name, ref in references(frames).items():
        out[f"{name}/reference"] = ref
        for crop, rects in crop_rects(ref, width, height).items():
            bodies = []
            for image, (x0, y0, x1, y1) in zip(frames, rects):
                canvas = np.zeros((y1 - y0, x1 - x0, 3), np.uint8)  # parts beyond the video stay black
                sx0, sy0, sx1, sy1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
                canvas[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = image[sy0:sy1, sx0:sx1]
                bodies.append(_detect(det, canvas, 0, 0))
            out[f"{name}/{crop}/rect"], out[f"{name}/{crop}/body"] = rects, np.stack(bodies)
    os.makedirs(os.path.dirname(cache), exist_ok=True)
    np.savez_compressed(cache, **out)
    return out
