"""Retargeting (issue #25): bones keep the driving's direction and take the reference's length; a
waist-up reference gets legs from the completion; hands and face follow; bad input is one clear error;
the same on the CLI, REST and ComfyUI."""
from __future__ import annotations

import json

import numpy as np
import pytest

from lib_skelext.completion_model import load_model
from lib_skelext.errors import SkelextError
from lib_skelext.openpose_json import dumps_frame, frames_to_json
from lib_skelext.pose import (L_ANKLE, L_HIP, L_KNEE, L_WRIST, LIMBS, NECK, NOSE, R_ANKLE, R_HIP, R_KNEE, R_WRIST,
                              Person, PoseFrame)
from lib_skelext.retarget import bone_lengths, retarget_poses
from lib_skelext.settings import PipelineSettings

W, H = 600, 700
LEG_BONES = [LIMBS.index(b) for b in ((R_HIP, R_KNEE), (R_KNEE, R_ANKLE), (L_HIP, L_KNEE), (L_KNEE, L_ANKLE))]


@pytest.fixture(scope="module")
def mean_pose():
    return load_model().mean_pose


def body(pose_xy: np.ndarray, centre=(300.0, 200.0), scale=60.0, visible=None) -> np.ndarray:
    out = np.zeros((18, 3))
    out[:, :2] = pose_xy * scale + np.asarray(centre)
    out[:, 2] = 1.0
    if visible is not None:
        out[~visible] = 0.0
    return out


def character(mean_pose) -> np.ndarray:
    """A reference with other proportions than the mean pose: long legs, short arms, wide shoulders."""
    xy = mean_pose.copy()
    for hip, knee, ankle in ((R_HIP, R_KNEE, R_ANKLE), (L_HIP, L_KNEE, L_ANKLE)):
        xy[knee] = xy[hip] + 1.3 * (xy[knee] - xy[hip])
        xy[ankle] = xy[knee] + 1.3 * (mean_pose[ankle] - mean_pose[knee])
    for sh in (2, 5):
        xy[sh] = xy[NECK] + 1.4 * (mean_pose[sh] - mean_pose[NECK])
    for a, b in ((2, 3), (3, 4), (5, 6), (6, 7)):
        xy[b] = xy[a] + 0.8 * (mean_pose[b] - mean_pose[a])
    return xy


def driving_clip(mean_pose, n=20):
    """A person waving the right forearm and stepping sideways (all points visible)."""
    frames = []
    for t in range(n):
        xy = mean_pose.copy()
        angle = 0.5 * np.sin(t / 3)
        rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        xy[R_WRIST] = xy[3] + (mean_pose[R_WRIST] - mean_pose[3]) @ rot.T
        b = body(xy, centre=(250.0 + 2 * t, 180.0), scale=50.0)
        hand = np.column_stack([b[R_WRIST, 0] + np.linspace(-5, 5, 21), b[R_WRIST, 1] + np.linspace(2, 12, 21),
                                np.ones(21)])
        face = np.column_stack([b[NOSE, 0] + np.linspace(-8, 8, 70), b[NOSE, 1] + np.zeros(70), np.ones(70)])
        frames.append(PoseFrame([Person(body=b, hand_right=hand, face=face)], W, H))
    return frames


def angles(out_body, drv_body):
    """Per bone, the angle (degrees) between the retargeted and the driving bone."""
    res = []
    for p, c in LIMBS:
        a, b = out_body[c, :2] - out_body[p, :2], drv_body[c, :2] - drv_body[p, :2]
        cos = np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b))
        res.append(np.degrees(np.arccos(np.clip(cos, -1, 1))))
    return np.array(res)


def test_full_body_reference_directions_from_driving_lengths_from_reference(mean_pose):
    ref_body = body(character(mean_pose), centre=(300.0, 250.0), scale=70.0)
    reference = PoseFrame([Person(body=ref_body)], W, H)
    clip = driving_clip(mean_pose)
    results = retarget_poses([f.copy() for f in clip], reference, PipelineSettings(sequence_mode="offline"))
    assert len(results) == len(clip)
    ref_len = bone_lengths(ref_body)
    first_len = bone_lengths(clip[0].people[0].body)
    for result, drv in zip(results, clip):
        out = result.frame.people[0].body
        assert (out[:, 2] > 0).all()
        assert angles(out, drv.people[0].body).max() < 1e-4  # every bone keeps the driving's direction (degrees)
        # lengths: the reference's, scaled as the driving bone changed since its first frame (here: not)
        np.testing.assert_allclose(bone_lengths(out), ref_len * bone_lengths(drv.people[0].body) / first_len,
                                   rtol=1e-9)
    # the figure stands where the reference stands, then moves with the driving neck x the size ratio
    np.testing.assert_allclose(results[0].frame.people[0].body[NECK, :2], ref_body[NECK, :2])
    step = results[-1].frame.people[0].body[NECK, :2] - results[0].frame.people[0].body[NECK, :2]
    ratio = 70.0 / 50.0  # torso lengths
    np.testing.assert_allclose(step, ratio * (clip[-1].people[0].body[NECK, :2] - clip[0].people[0].body[NECK, :2]))
    assert (results[0].frame.canvas_width, results[0].frame.canvas_height) == (W, H)


def test_foreshortening_is_kept(mean_pose):
    ref_body = body(mean_pose, scale=70.0)
    clip = driving_clip(mean_pose, n=2)
    second = clip[1].people[0].body
    second[3, :2] = second[2, :2] + 0.5 * (second[3, :2] - second[2, :2])  # the upper arm seen half as long
    second[R_WRIST, :2] = second[3, :2] + (clip[0].people[0].body[R_WRIST, :2] - clip[0].people[0].body[3, :2])
    results = retarget_poses(clip, PoseFrame([Person(body=ref_body)], W, H))
    k = LIMBS.index((2, 3))
    out0, out1 = (bone_lengths(r.frame.people[0].body)[k] for r in results)
    assert out1 == pytest.approx(0.5 * out0, rel=0.02)  # (the completion's smoothing moves points a little)


def test_waist_up_reference_gets_legs_from_the_completion(mean_pose):
    """The legs' lengths come from the model's completion of the reference, not a constant ratio:
    two waist-up references with different upper bodies get different leg/torso ratios."""
    clip = driving_clip(mean_pose, n=1)
    ratios = []
    for shoulders in (0.8, 1.5):
        xy = mean_pose.copy()
        for sh in (2, 5):
            xy[sh] = xy[NECK] + shoulders * (mean_pose[sh] - mean_pose[NECK])
        visible = np.ones(18, bool)
        visible[[R_KNEE, R_ANKLE, L_KNEE, L_ANKLE]] = False
        reference = PoseFrame([Person(body=body(xy, scale=70.0, visible=visible))], W, 280)
        (result,) = retarget_poses(clip, reference)
        person = result.frame.people[0]
        assert (person.body[:, 2] > 0).all()
        assert person.extra["skelext"]["reference_completed"] == [R_KNEE, R_ANKLE, L_KNEE, L_ANKLE]
        lengths = bone_lengths(person.body)
        torso = np.linalg.norm(person.body[NECK, :2] - (person.body[R_HIP, :2] + person.body[L_HIP, :2]) / 2)
        ratios.append(lengths[LEG_BONES].sum() / torso)
        assert all(2.0 < r < 6.0 for r in ratios[-1:])  # legs, of human proportions
    assert abs(ratios[0] - ratios[1]) > 0.01


def test_hands_and_face_follow_their_anchor(mean_pose):
    ref_body = body(character(mean_pose), scale=70.0)
    clip = driving_clip(mean_pose, n=3)
    results = retarget_poses(clip, PoseFrame([Person(body=ref_body)], W, H))
    for result, drv in zip(results, clip):
        out, d = result.frame.people[0], drv.people[0]
        # the hand hangs off the retargeted wrist, scaled by the forearm's length ratio
        k = LIMBS.index((3, R_WRIST))
        ratio = bone_lengths(out.body)[k] / bone_lengths(d.body)[k]
        np.testing.assert_allclose(out.hand_right[:, :2] - out.body[R_WRIST, :2],
                                   ratio * (d.hand_right[:, :2] - d.body[R_WRIST, :2]), atol=1e-6)
        assert out.face is not None and np.allclose(out.face[:, :2].mean(0) - out.body[NOSE, :2],
                                                    (d.face[:, :2].mean(0) - d.body[NOSE, :2])
                                                    * bone_lengths(out.body)[LIMBS.index((NECK, NOSE))]
                                                    / bone_lengths(d.body)[LIMBS.index((NECK, NOSE))])


def test_options_keep_the_driving_position_or_scale_or_only_scale(mean_pose):
    ref_body = body(character(mean_pose), centre=(300.0, 250.0), scale=70.0)
    reference = PoseFrame([Person(body=ref_body)], W, H)
    clip = driving_clip(mean_pose, n=2)
    drv = clip[0].people[0].body
    pos = retarget_poses(clip, reference, PipelineSettings(retarget_position="driving"))[0].frame.people[0].body
    np.testing.assert_allclose(pos[NECK, :2], drv[NECK, :2])
    size = retarget_poses(clip, reference, PipelineSettings(retarget_scale="driving"))[0].frame.people[0].body
    torso = lambda b: np.linalg.norm(b[NECK, :2] - (b[R_HIP, :2] + b[L_HIP, :2]) / 2)  # noqa: E731
    assert torso(size) == pytest.approx(torso(drv), rel=1e-6)
    scaled = retarget_poses(clip, reference, PipelineSettings(retarget_mode="scale"))[0].frame.people[0].body
    np.testing.assert_allclose(bone_lengths(scaled), bone_lengths(drv) * 70.0 / 50.0, rtol=1e-9)


def test_output_is_read_whole_by_the_hosts(mean_pose):
    from host_readers import controlnet_decode

    ref = PoseFrame([Person(body=body(character(mean_pose), scale=70.0))], W, H)
    results = retarget_poses(driving_clip(mean_pose, n=2), ref, PipelineSettings(canvas="expand"))
    doc = json.loads(dumps_frame(results[0].frame))
    decoded = controlnet_decode(doc)[0]
    assert all(k is not None for k in decoded["pose_keypoints_2d"])
    assert all(c in (0, 1.0) for c in doc["people"][0]["pose_keypoints_2d"][2::3])
    assert doc["people"][0]["skelext"]["retargeted"] == list(range(18))


@pytest.mark.parametrize("reference, message", [
    (PoseFrame([], W, H), "no person in the reference"),
    ("two", "shows 2 people"),
])
def test_bad_references_are_one_clear_error(mean_pose, reference, message):
    if reference == "two":
        reference = PoseFrame([Person(body=body(mean_pose)), Person(body=body(mean_pose, centre=(100, 100)))], W, H)
    with pytest.raises(SkelextError, match=message):
        retarget_poses(driving_clip(mean_pose, n=1), reference)


def test_empty_clip_and_mixed_units_are_errors(mean_pose):
    reference = PoseFrame([Person(body=body(mean_pose))], W, H)
    with pytest.raises(SkelextError, match="empty driving clip"):
        retarget_poses([], reference)
    clip = driving_clip(mean_pose, n=2)
    clip[1].normalized = True
    with pytest.raises(SkelextError, match="mix 0..1 and pixel"):
        retarget_poses(clip, reference)


# ------------------------------------------------------------------ surfaces
def test_cli_list_folder_and_single_frame(tmp_path, mean_pose):
    from lib_skelext.cli import main

    clip = driving_clip(mean_pose, n=4)
    (tmp_path / "clip.json").write_text(json.dumps(frames_to_json(clip, True)))
    (tmp_path / "ref.json").write_text(dumps_frame(PoseFrame([Person(body=body(character(mean_pose)))], W, H)))
    assert main(["-q", "retarget", str(tmp_path / "clip.json"), "-o", str(tmp_path / "out.json"),
                 "--reference", str(tmp_path / "ref.json"), "--render"]) == 0
    out = json.loads((tmp_path / "out.json").read_text())
    assert isinstance(out, list) and len(out) == 4 and (tmp_path / "out_00003.png").is_file()
    frames_dir = tmp_path / "frames"
    frames_dir.mkdir()
    for i, f in enumerate(clip):
        (frames_dir / f"f{i}.json").write_text(dumps_frame(f))
    assert main(["-q", "retarget", str(frames_dir), "-o", str(tmp_path / "outdir"),
                 "--reference", str(tmp_path / "ref.json")]) == 0
    assert sorted(p.name for p in (tmp_path / "outdir").iterdir()) == [f"f{i}.json" for i in range(4)]
    single = json.loads((tmp_path / "outdir" / "f0.json").read_text())
    assert single["people"][0]["pose_keypoints_2d"] == out[0]["people"][0]["pose_keypoints_2d"]
    assert main(["-q", "retarget", str(frames_dir / "f0.json"), "-o", str(tmp_path / "one.json"),
                 "--reference", str(tmp_path / "ref.json")]) == 0
    assert isinstance(json.loads((tmp_path / "one.json").read_text()), dict)


def test_cli_bad_input_exits_2_with_one_line(tmp_path, mean_pose, capsys):
    from lib_skelext.cli import main

    (tmp_path / "empty.json").write_text(json.dumps({"people": [], "canvas_width": W, "canvas_height": H}))
    (tmp_path / "clip.json").write_text(dumps_frame(driving_clip(mean_pose, n=1)[0]))
    assert main(["retarget", str(tmp_path / "clip.json"), "-o", str(tmp_path / "o.json"),
                 "--reference", str(tmp_path / "empty.json")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no person in the reference" in err[0]
    (tmp_path / "none.json").write_text("[]")
    assert main(["retarget", str(tmp_path / "none.json"), "-o", str(tmp_path / "o.json"),
                 "--reference", str(tmp_path / "clip.json")]) == 2


def test_rest_and_comfyui_give_the_cli_answer(tmp_path, mean_pose, comfy_host):
    from api_client import Client
    from lib_skelext.api import create_app
    from lib_skelext.comfyui.nodes import NODE_CLASS_MAPPINGS

    clip = frames_to_json(driving_clip(mean_pose, n=3), True)
    ref = json.loads(dumps_frame(PoseFrame([Person(body=body(character(mean_pose)))], W, H)))
    r = Client(create_app()).post("/skelext/v1/retarget", json={"driving": clip, "reference": ref, "render": True})
    assert r.status_code == 200, r.text
    assert len(r.json()["pose"]) == 3 and len(r.json()["images"]) == 3
    node = NODE_CLASS_MAPPINGS["SkelextRetargetPose"]()
    poses, images = node.retarget(clip, reference_pose=[ref])["result"]
    assert poses == r.json()["pose"]
    assert tuple(images.shape)[:1] == (3,)
    bad = Client(create_app()).post("/skelext/v1/retarget", json={"driving": clip})
    assert bad.status_code == 400 and "reference" in bad.json()["detail"]
    with pytest.raises(SkelextError, match="reference_pose or as reference_image"):
        node.retarget(clip)


from comfyui_fakes import comfy_host  # noqa: E402,F401  (fixture)
