"""Benchmark: retargeting onto a character seen only in part (issue #25), against the peers' rules.

Pairs of held-out TEST people (never trained on; upright, neck..ankles labelled): A drives, B is the
reference, given full-body or cut (waist-up, knees-up, one side: ``train.simulate_crops.scenario_sample``).
For each output bone: its length against B's true (uncut) length, and its direction against A's.

* skelext: ``retarget.retarget_poses`` (the reference and the driving completed first);
* MusePose's rule (``pose_align.py``, re-implemented from its description): one scale per body part
  (shoulders, upper arms, forearms, torso, thighs, shins) from the reference's visible bones over the
  driving's; a part the reference does not show takes the torso's scale;
* UniAnimate's rule (``run_align_pose.py``, from its description): one scale for the body (torso and
  shoulders), one for the arms, one for the legs, from the visible bones; a part not shown takes the
  body's scale.

Both peers keep every driving bone's direction and scale its length, so a leg the reference does not
show gets the driver's leg proportions (a constant ratio). Also: a 1,000-frame clip's retargeting time,
and the real clip (the man of ../shared/videos/sports2d_demo.mp4, BSD-3-Clause, retargeted onto the
waist-up astronaut photo) drawn, with its ankle tracks.

Run: ``.venv/bin/python bench/bench_retarget.py`` -> bench/retarget_results.json, docs/images/retarget_*.png.
Prints; asserts nothing.
"""
from __future__ import annotations

import json
import os
import sys
import time
from typing import Dict, List

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [ROOT, HERE]

from lib_skelext.pose import LIMBS, NECK, Person, PoseFrame  # noqa: E402
from lib_skelext.retarget import bone_lengths, retarget_poses  # noqa: E402

RESULTS = os.path.join(HERE, "retarget_results.json")
CUTS = ("full_body", "waist_up", "knees_up", "side_cut")
#: the body's bones (head bones left out: MPII has no face points)
BODY_BONES = [k for k, (p, c) in enumerate(LIMBS) if p <= 13 and c <= 13 and 0 not in (p, c)]
LEG_BONES = [LIMBS.index(b) for b in ((8, 9), (9, 10), (11, 12), (12, 13))]
MUSEPOSE_PARTS = {"shoulders": [(1, 2), (1, 5)], "upper_arms": [(2, 3), (5, 6)], "forearms": [(3, 4), (6, 7)],
                  "torso": [(1, 8), (1, 11)], "thighs": [(8, 9), (11, 12)], "shins": [(9, 10), (12, 13)]}
UNIANIMATE_PARTS = {"body": [(1, 2), (1, 5), (1, 8), (1, 11)],
                    "arms": [(2, 3), (5, 6), (3, 4), (6, 7)],
                    "legs": [(8, 9), (11, 12), (9, 10), (12, 13)]}


def _people():
    from train.evaluate import test_people, upright
    from train.prepare import load_people

    data = load_people()
    idx = test_people(data)
    xy, label = data["xy"][idx].astype(np.float64), data["label"][idx]
    keep = label[:, 1:14].all(1) & upright(xy)
    return xy[keep], label[keep]


def _frame(xy: np.ndarray, visible: np.ndarray, rect: np.ndarray) -> PoseFrame:
    body = np.zeros((18, 3))
    body[visible, :2] = xy[visible] - rect[:2]
    body[visible, 2] = 1.0
    w, h = max(1, int(np.ceil(rect[2] - rect[0]))), max(1, int(np.ceil(rect[3] - rect[1])))
    return PoseFrame([Person(body=body)], w, h)


def _around(xy: np.ndarray, label: np.ndarray, margin: float = 0.3) -> np.ndarray:
    pts = xy[label]
    torso = np.linalg.norm(xy[1] - (xy[8] + xy[11]) / 2)
    return np.array([*(pts.min(0) - margin * torso), *(pts.max(0) + margin * torso)])


def peer_rule(ref: np.ndarray, ref_visible: np.ndarray, drv: np.ndarray, parts: Dict[str, list],
              fallback: str) -> np.ndarray:
    """A peer's per-part scaling: (18, 3) driving body with each bone scaled by its part's ratio."""
    ref_len, drv_len = bone_lengths(np.column_stack([ref, ref_visible])), bone_lengths(drv)
    ratio = {}
    for part, bones in parts.items():
        ks = [LIMBS.index(b) for b in bones if np.isfinite(ref_len[LIMBS.index(b)])]
        if ks:
            ratio[part] = float(np.mean(ref_len[ks]) / np.mean(drv_len[ks]))
    base = ratio.get(fallback) or (float(np.mean(list(ratio.values()))) if ratio else 1.0)
    part_of = {b: part for part, bones in parts.items() for b in bones}
    out = np.zeros((18, 3))
    out[NECK] = drv[NECK]
    for p, c in LIMBS:
        if out[p, 2] > 0 and drv[c, 2] > 0:
            s = ratio.get(part_of.get((p, c), ""), base)
            out[c, :2] = out[p, :2] + s * (drv[c, :2] - drv[p, :2])
            out[c, 2] = 1.0
    return out


def _angles(out: np.ndarray, drv: np.ndarray, bones: List[int]) -> np.ndarray:
    res = []
    for k in bones:
        p, c = LIMBS[k]
        a, b = out[c, :2] - out[p, :2], drv[c, :2] - drv[p, :2]
        cos = np.dot(a, b) / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-12)
        res.append(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))
    return np.array(res)


def run_pairs(n_pairs: int = 600, seed: int = 0) -> Dict[str, Dict[str, Dict[str, float]]]:
    from train.simulate_crops import scenario_sample

    xy, label = _people()
    rng = np.random.default_rng(seed)
    a_idx = rng.integers(0, len(xy), n_pairs)
    b_idx = (a_idx + rng.integers(1, len(xy), n_pairs)) % len(xy)
    out: Dict[str, Dict[str, Dict[str, float]]] = {}
    for cut in CUTS:
        if cut == "full_body":
            visible = label[b_idx]
            rects = np.stack([_around(xy[b], label[b]) for b in b_idx])
        else:
            sample = scenario_sample(xy[b_idx], label[b_idx], cut, np.random.default_rng(seed + 1))
            visible, rects = sample.visible, sample.rect
        errs = {m: {"seen": [], "legs": [], "other_unseen": [], "angle": []} for m in ("skelext", "musepose", "unianimate")}
        answered = {m: 0 for m in errs}
        for i, (a, b) in enumerate(zip(a_idx, b_idx)):
            truth_len = bone_lengths(np.column_stack([xy[b], label[b]]))
            drv_frame = _frame(xy[a], label[a], _around(xy[a], label[a]))
            ref_frame = _frame(xy[b], visible[i], rects[i])
            drv_body = drv_frame.people[0].body
            seen = np.isfinite(bone_lengths(ref_frame.people[0].body))
            outs = {}
            try:
                outs["skelext"] = retarget_poses([drv_frame], ref_frame)[0].frame.people[0].body
            except Exception as exc:  # counted as not answered
                print("skelext failed:", exc)
            ref_px, ref_vis = ref_frame.people[0].body[:, :2], ref_frame.people[0].body[:, 2] > 0
            outs["musepose"] = peer_rule(ref_px, ref_vis, drv_body, MUSEPOSE_PARTS, "torso")
            outs["unianimate"] = peer_rule(ref_px, ref_vis, drv_body, UNIANIMATE_PARTS, "body")
            for method, body in outs.items():
                if not (body[:, 2] > 0).any():
                    continue
                answered[method] += 1
                length = bone_lengths(body)
                for k in BODY_BONES:
                    if not np.isfinite(truth_len[k]) or not np.isfinite(length[k]):
                        continue
                    rel = abs(length[k] - truth_len[k]) / truth_len[k]
                    group = "seen" if seen[k] else ("legs" if k in LEG_BONES else "other_unseen")
                    errs[method][group].append(rel)
                errs[method]["angle"] += list(_angles(body, drv_body, [k for k in BODY_BONES
                                                                      if np.isfinite(length[k])]))
        out[cut] = {m: {"seen_median": _median(e["seen"]), "legs_median": _median(e["legs"]),
                        "other_unseen_median": _median(e["other_unseen"]), "angle_median_deg": _median(e["angle"]),
                        "seen_bones": len(e["seen"]), "leg_bones": len(e["legs"]),
                        "answered": answered[m] / n_pairs}
                    for m, e in errs.items()}
        print(cut, json.dumps(out[cut]), flush=True)
    return out


def _median(values: List[float]) -> float:
    return float(np.median(values)) if values else float("nan")


def speed(frames_n: int = 1000, repeats: int = 3) -> Dict[str, float]:
    """retarget_poses on a one-person clip of frames_n frames (sequence completion included), best of repeats."""
    xy, label = _people()
    rng = np.random.default_rng(3)
    base = xy[0]
    clip = []
    for t in range(frames_n):
        body = np.zeros((18, 3))
        body[:, :2] = base + 3 * np.sin(t / 10) + rng.normal(0, 0.5, (18, 2)) - base.min(0) + 50
        body[:, 2] = label[0]
        body[[9, 10, 12, 13], 2] = 0.0  # waist-up driving: its legs are completed too
        clip.append(PoseFrame([Person(body=body)], 640, 480))
    reference = _frame(xy[1], label[1], _around(xy[1], label[1]))
    walls = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        retarget_poses([f.copy() for f in clip], reference)
        walls.append(time.perf_counter() - t0)
    return {"frames": frames_n, "seconds": min(walls), "frames_per_s": frames_n / min(walls), "cores": os.cpu_count()}


def real_clip() -> Dict[str, float]:
    """The man of sports2d_demo.mp4 (BlazePose reference track of bench/sequence_video.py) driving the
    waist-up astronaut (examples/skimage_astronaut.png, BlazePose): drawings and ankle tracks."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lib_skelext.core import process_image
    from lib_skelext.detectors import get_detector
    from lib_skelext.image_io import load_image
    from lib_skelext.settings import PipelineSettings
    from sequence_video import load_or_run

    data = load_or_run()
    ref_track = data["man/reference"]
    frames = [PoseFrame([Person(body=b)] if (b[:, 2] > 0).sum() >= 6 else [], 1768, 994) for b in ref_track]
    photo = load_image(os.path.join(ROOT, "examples", "skimage_astronaut.png"))
    reference = process_image(photo, PipelineSettings(detector="blazepose", complete=False),
                              detector=get_detector("blazepose"), draw=False).frame
    results = retarget_poses(frames, reference, PipelineSettings(canvas="expand", sequence_mode="offline"))
    picks = [i for i in range(0, len(results), 20) if results[i].frame.people][:8]
    from PIL import Image

    def tight(image: np.ndarray, height: int = 320) -> np.ndarray:  # the skeleton's box, 20 px around it
        ys, xs = np.nonzero(image.max(axis=2))
        crop = image[max(0, ys.min() - 20):ys.max() + 21, max(0, xs.min() - 20):xs.max() + 21]
        width = max(1, round(crop.shape[1] * height / crop.shape[0]))
        return np.asarray(Image.fromarray(crop).resize((width, height), Image.LANCZOS))

    images = [tight(results[i].control_image) for i in picks]
    strip = np.concatenate([np.pad(im, ((0, 0), (0, 12), (0, 0))) for im in images], 1)
    Image.fromarray(strip).save(os.path.join(ROOT, "docs", "images", "retarget_clip.png"))
    t = np.arange(len(results))
    fig, ax = plt.subplots(figsize=(8, 3.2), dpi=100)
    for idx, name in ((10, "right ankle"), (13, "left ankle")):
        drv_y = np.array([r.detected.people[0].body[idx, 1] if r.detected.people and
                          r.detected.people[0].body[idx, 2] > 0 else np.nan for r in results])
        out_y = np.array([r.frame.people[0].body[idx, 1] if r.frame.people else np.nan for r in results])
        ax.plot(t, drv_y - np.nanmin(drv_y), "--", lw=1, label=f"driving {name} (video px)")
        ax.plot(t, out_y - np.nanmin(out_y), lw=1.5, label=f"retargeted {name} (character px)")
    ax.invert_yaxis()
    ax.set_xlabel("frame")
    ax.set_ylabel("height (px, relative)")
    ax.legend(fontsize=7, ncol=2)
    ax.set_title("sports2d man driving the waist-up astronaut: ankle tracks")
    fig.tight_layout()
    fig.savefig(os.path.join(ROOT, "docs", "images", "retarget_ankles.png"))
    shown = sum(1 for r in results if r.frame.people)
    return {"frames": len(results), "frames_with_person": shown, "picked_frames": picks,
            "reference_completed": results[picks[0]].frame.people[0].extra["skelext"]["reference_completed"]}


def main() -> None:
    results = {"pairs": run_pairs(), "speed": speed()}
    print("speed", results["speed"])
    results["real_clip"] = real_clip()
    print("real clip", results["real_clip"])
    with open(RESULTS, "w") as f:
        json.dump(results, f, indent=1, sort_keys=True)
    print("wrote", RESULTS)


if __name__ == "__main__":
    main()
