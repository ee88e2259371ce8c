"""Holes in a track: frames where a tracked person was not detected get a pose, up to a limit.

A pose-driven video model turns every frame without a skeleton into a flash, and a detector loses a
person for a frame or a few (motion blur, an arm across the face, the frame's edge). For each track:

* offline: a hole of at most ``max_frames`` frames between two frames where the person was seen is
  filled by interpolating every point present on both sides (linear in time); a longer hole stays
  empty, and nothing is added before the track's first frame or after its last;
* causal (frame t uses frames <= t): after the last frame the person was seen, the pose is held and
  moved on with the body's last velocity (slowing down), for at most ``max_frames`` frames; if the
  person comes back within the limit the bridge simply ends there, otherwise the track ends after the
  limit, or as soon as no point of the held body is left in the picture. A causal bridge cannot know that the
  person left for good: it then shows them for up to the limit after they left.

Only tracks seen in at least ``MIN_TRACK_FRAMES`` frames, and poses with at least ``MIN_POINTS`` body
points, are bridged (a detection flashing up on sun flare is no person to hold).

Bridged people carry ``skelext.bridged = {"gap": frames of the hole (causal: so far), "confidence":
1 at the seen frames, falling linearly to 1 / (max_frames + 1) at the limit}`` beside their
``track_id``; their body is interpolated or held (hands and face are not bridged), every point counted
as completed, so that where the person is seen again each point glides to its new position
(``continuity.blend_switches`` runs after this). They are drawn like every other person.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..pose import Person, PoseFrame, Source

BRIDGED_KEY = "bridged"
#: causal: the held pose keeps this share of its velocity from one bridged frame to the next (real-video
#: benchmark, causal knee/ankle jumps: 0.9 -> 1.03%, 0.7 -> 1.06%, 0 (a plain hold) -> 1.13%; but 0.9 lets a
#: person walking out of the picture drift up to 9 frames' motion on, in a real ComfyUI run off the canvas)
VELOCITY_DECAY = 0.7
#: only tracks seen in at least this many frames are bridged (a detection that flashes up for a frame or
#: two, e.g. on sun flare, is no person to hold), and only poses with at least this many body points
MIN_TRACK_FRAMES = 3
MIN_POINTS = 5


def max_bridge_frames(seconds: float, fps: float) -> int:
    """Frames of a hole bridged at most: ``seconds`` of video at ``fps`` (rounded)."""
    return max(0, int(round(seconds * fps)))


def _seen(frames: Sequence[PoseFrame], ids: Sequence[Sequence[int]]) -> Dict[int, List[Tuple[int, Person]]]:
    """track id -> [(frame index, person)] in time order."""
    tracks: Dict[int, List[Tuple[int, Person]]] = {}
    for f, (frame, frame_ids) in enumerate(zip(frames, ids)):
        for person, tid in zip(frame.people, frame_ids):
            if tid >= 0:
                tracks.setdefault(tid, []).append((f, person))
    return tracks


def _bridged(body: np.ndarray, source: np.ndarray, tid: int, gap: int, confidence: float,
             track_key: str) -> Person:
    # every point shown is invented here: completed, so that where the person is seen again each point
    # changes source and glides to where they are (``continuity.blend_switches``)
    source = np.where(body[:, 2] > 0, Source.COMPLETED, Source.MISSING).astype(np.uint8)
    return Person(body=body, source=source,
                  extra={"skelext": {track_key: int(tid), BRIDGED_KEY: {"gap": int(gap),
                                                                       "confidence": round(float(confidence), 4)}}})


def bridge_gaps(frames: Sequence[PoseFrame], ids: Sequence[Sequence[int]], *, offline: bool, max_frames: int,
                track_key: str = "track_id") -> Tuple[List[PoseFrame], List[List[int]], int]:
    """(frames with bridged people appended, their track ids, frames bridged). Frames are changed in
    place (people appended); ids are new lists."""
    out_ids = [list(i) for i in ids]
    if max_frames <= 0:
        return list(frames), out_ids, 0
    added = 0
    for tid, seen in _seen(frames, ids).items():
        if len(seen) < MIN_TRACK_FRAMES:
            continue
        for k, (f0, p0) in enumerate(seen):
            if (p0.body[:, 2] > 0).sum() < MIN_POINTS:
                continue
            f1: Optional[int] = seen[k + 1][0] if k + 1 < len(seen) else None
            hole = (f1 - f0 - 1) if f1 is not None else None
            if offline:
                if hole is None or hole < 1 or hole > max_frames:
                    continue
                p1 = seen[k + 1][1]
                both = (p0.body[:, 2] > 0) & (p1.body[:, 2] > 0)
                if not both.any():
                    continue
                for j in range(1, hole + 1):
                    t = j / (hole + 1)
                    body = np.zeros_like(p0.body)
                    body[both, :2] = (1 - t) * p0.body[both, :2] + t * p1.body[both, :2]
                    body[both, 2] = 1.0
                    near = min(j, hole + 1 - j)
                    person = _bridged(body, p0.source if t <= 0.5 else p1.source, tid, hole,
                                      1.0 - near / (max_frames + 1), track_key)
                    frames[f0 + j].people.append(person)
                    out_ids[f0 + j].append(tid)
                    added += 1
            else:
                last = len(frames) - 1 if f1 is None else f1 - 1
                steps = min(max_frames, last - f0)
                if steps < 1:
                    continue
                velocity = np.zeros(2)
                if k > 0 and seen[k - 1][0] == f0 - 1:  # the body's motion over its last seen step
                    prev = seen[k - 1][1]
                    both = (p0.body[:, 2] > 0) & (prev.body[:, 2] > 0)
                    if both.any():
                        velocity = (p0.body[both, :2] - prev.body[both, :2]).mean(0)
                present = p0.body[:, 2] > 0
                shift = np.zeros(2)
                width, height = frames[f0].canvas_width, frames[f0].canvas_height
                for j in range(1, steps + 1):
                    velocity = velocity * VELOCITY_DECAY
                    shift = shift + velocity
                    body = p0.body.copy()
                    body[present, :2] += shift
                    body[present, 2] = 1.0
                    xy = body[present, :2]
                    if not ((xy[:, 0] >= 0) & (xy[:, 0] <= width) & (xy[:, 1] >= 0) & (xy[:, 1] <= height)).any():
                        break  # walked out of the picture (nothing of them left in it): the track ends here
                    frames[f0 + j].people.append(_bridged(body, p0.source, tid, j, 1.0 - j / (max_frames + 1),
                                                          track_key))
                    out_ids[f0 + j].append(tid)
                    added += 1
    return list(frames), out_ids, added
