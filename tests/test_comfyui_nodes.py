"""The ComfyUI nodes without ComfyUI: inputs and outputs exactly as ComfyUI passes them
(``IMAGE`` = B x H x W x 3 float32 torch tensors in 0..1, ``POSE_KEYPOINT`` = a list of
OpenPose dicts), against the core's own answers; the unit rule against comfyui_controlnet_aux's
``is_normalized``; bad input -> one SkelextError line. ComfyUI's ``comfy.utils`` and
``folder_paths`` are the fakes in tests/fake_hosts/comfyui (interfaces of ComfyUI v0.3.64)."""
from __future__ import annotations

import copy
import json
import math
import os
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from comfyui_fakes import comfy_host  # noqa: E402,F401  (fixture)
from pose_docs import normalized  # noqa: E402
from lib_skelext.comfyui.nodes import (  # noqa: E402
    NODE_CLASS_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS, SkelextCompletePose, SkelextDetectPose, SkelextLoadPose,
    SkelextRenderPose, SkelextSavePose,
)
from lib_skelext.core import complete_poses, process_image  # noqa: E402
from lib_skelext.errors import SkelextError  # noqa: E402
from lib_skelext.openpose_json import frame_from_dict, frame_to_dict  # noqa: E402
from lib_skelext.settings import OPTIONS, PipelineSettings  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
WAIST_UP = json.loads((REPO / "examples" / "waist_up.json").read_text())
FULL_BODY = json.loads((REPO / "examples" / "full_body.json").read_text())
LEGS = (9, 10, 12, 13)


def shifted(doc, dx):
    out = copy.deepcopy(doc)
    body = out["people"][0]["pose_keypoints_2d"]
    for i in range(0, len(body), 3):
        if body[i + 2] > 0:
            body[i] += dx
    return out


def scaled(doc, factor):
    """The body scaled about the canvas origin (hands and face dropped: only the body is compared)."""
    out = copy.deepcopy(doc)
    person = out["people"][0]
    body = person["pose_keypoints_2d"]
    for i in range(0, len(body), 3):
        if body[i + 2] > 0:
            body[i], body[i + 1] = body[i] * factor, body[i + 1] * factor
    for key in ("hand_left_keypoints_2d", "hand_right_keypoints_2d", "face_keypoints_2d"):
        person.pop(key, None)
    return out


def image_tensor(*arrays):
    """uint8 (H, W, 3) arrays -> IMAGE as ComfyUI's LoadImage makes it (float32 / 255)."""
    return torch.from_numpy(np.stack([a.astype(np.float32) / 255.0 for a in arrays]))


# comfyui_controlnet_aux (src/custom_controlnet_aux/dwpose): decode_json_as_poses turns every point
# with c < 1.0 into None, and is_normalized reads a pose as 0..1 only if every remaining point has
# |x| <= 1 and |y| <= 1. Re-implemented from that documented rule, not copied.
def aux_keypoints(doc):
    body = doc["people"][0]["pose_keypoints_2d"]
    return [None if body[i + 2] < 1.0 else (body[i], body[i + 1]) for i in range(0, len(body), 3)]


def aux_is_normalized(keypoints):
    present = [k for k in keypoints if k is not None]
    return bool(present) and all(0 <= abs(x) <= 1 and 0 <= abs(y) <= 1 for x, y in present)


def aux_pixels(doc):
    """Where comfyui_controlnet_aux draws each body point of doc (pixels), or None."""
    w, h = doc["canvas_width"], doc["canvas_height"]
    kps = aux_keypoints(doc)
    scale = (w, h) if aux_is_normalized(kps) else (1, 1)
    return [None if k is None else (k[0] * scale[0], k[1] * scale[1]) for k in kps]


# ------------------------------------------------------------------ registration
def test_every_node_is_registered_with_category_tooltips_and_display_name():
    assert set(NODE_CLASS_MAPPINGS) == {"SkelextCompletePose", "SkelextDetectPose", "SkelextRenderPose",
                                        "SkelextLoadPose", "SkelextSavePose", "SkelextRetargetPose"}
    assert set(NODE_DISPLAY_NAME_MAPPINGS) == set(NODE_CLASS_MAPPINGS)
    for name, cls in NODE_CLASS_MAPPINGS.items():
        assert cls.CATEGORY == "skelext" and callable(getattr(cls(), cls.FUNCTION)), name
        assert cls.DESCRIPTION
        inputs = cls.INPUT_TYPES()
        for section in inputs.values():
            for key, spec in section.items():
                assert spec[1].get("tooltip"), f"{name}.{key} has no tooltip"
        if cls.RETURN_TYPES:
            assert len(cls.OUTPUT_TOOLTIPS) == len(cls.RETURN_TYPES) == len(cls.RETURN_NAMES)
    assert SkelextSavePose.OUTPUT_NODE is True


def test_inputs_follow_the_options_schema():
    detect = SkelextDetectPose.INPUT_TYPES()["required"]
    assert detect["canvas"][0] == list(OPTIONS["canvas"].choices)
    assert detect["detector"][0] == list(OPTIONS["detector"].choices)
    res = detect["resolution"][1]
    assert (res["min"], res["max"], res["default"]) == (OPTIONS["resolution"].minimum, OPTIONS["resolution"].maximum,
                                                        OPTIONS["resolution"].default)
    thr = detect["detection_threshold"][1]
    assert thr["default"] == OPTIONS["detection_threshold"].default and thr["tooltip"] == OPTIONS[
        "detection_threshold"].help
    assert detect["complete"][0] == "BOOLEAN"
    alt = SkelextCompletePose.INPUT_TYPES()["required"]["alternative"][1]
    assert alt["min"] == 0 and alt["max"] == OPTIONS["alternatives"].maximum - 1


# ------------------------------------------------------------------ complete
def test_complete_batch_is_the_core_answer_in_pixels_with_progress(comfy_host):
    import comfy.utils

    batch = [WAIST_UP, normalized(WAIST_UP), shifted(WAIST_UP, 20)]
    out = SkelextCompletePose().complete(batch, canvas="keep", alternative=0, draw_hands=True, draw_face=False)
    poses, images = out["result"]
    assert isinstance(poses, list) and len(poses) == 3
    assert images.dtype == torch.float32 and tuple(images.shape) == (3, 205, 270, 3)
    assert float(images.min()) >= 0.0 and float(images.max()) <= 1.0

    frames = [frame_from_dict(d) for d in batch]
    expected = complete_poses(frames, PipelineSettings(draw_face=False))
    for pose, image, result in zip(poses, images, expected):
        assert pose == frame_to_dict(result.frame, normalized=False)
        assert np.array_equal((image.numpy() * 255).round().astype(np.uint8), result.control_image)
        assert sorted(pose["people"][0]["skelext"]["completed"]) == list(LEGS)
    # a 0..1 input comes back in pixels, on the same spots as the pixel input
    assert np.allclose(poses[1]["people"][0]["pose_keypoints_2d"], poses[0]["people"][0]["pose_keypoints_2d"])
    assert json.loads(out["ui"]["openpose_json"][0]) == poses
    bar = comfy.utils.BARS[-1]
    assert bar.total == 4 and bar.current == 4 and len(bar.updates) == 4  # completion, then each drawing


def test_unit_rule_no_reader_misreads_completed_off_canvas_points():
    """A 0..1 pose whose completed legs fall below the frame (keep): written as 0..1 it would be taken
    for pixels by comfyui_controlnet_aux; skelext writes pixels, which it draws where they belong."""
    given = normalized(WAIST_UP)
    w, h = given["canvas_width"], given["canvas_height"]
    assert aux_is_normalized(aux_keypoints(given))  # the input is read as 0..1

    poses, _ = SkelextCompletePose().complete([given], canvas="keep")["result"]
    out = poses[0]
    legs_y = [out["people"][0]["pose_keypoints_2d"][3 * i + 1] for i in LEGS]
    assert max(legs_y) > h  # completed points below the frame: the case the rule is for

    # Had it been written in 0..1, the reader would take every point for pixels (the whole pose
    # drawn in the top-left pixel):
    as_norm = copy.deepcopy(out)
    body_px = out["people"][0]["pose_keypoints_2d"]
    as_norm["people"][0]["pose_keypoints_2d"] = [v / (w if i % 3 == 0 else h) if i % 3 < 2 else v
                                                 for i, v in enumerate(body_px)]
    assert not aux_is_normalized(aux_keypoints(as_norm))
    with pytest.raises(SkelextError, match="outside"):  # so every skelext writer refuses 0..1 here (#24)
        frame_to_dict(frame_from_dict(out), normalized=True)
    assert all(p is None or (abs(p[0]) <= 2 and abs(p[1]) <= 3) for p in aux_pixels(as_norm))

    # Pixels: read as pixels, given points exactly where the 0..1 input put them.
    assert not aux_is_normalized(aux_keypoints(out))
    drawn = aux_pixels(out)
    body = given["people"][0]["pose_keypoints_2d"]
    for i in range(18):
        if body[3 * i + 2] >= 1:
            assert drawn[i] == pytest.approx((body[3 * i] * w, body[3 * i + 1] * h))
    assert all(drawn[i] is not None for i in LEGS)


def test_alternative_index_picks_the_ranked_alternative():
    best = SkelextCompletePose().complete([WAIST_UP], canvas="keep", alternative=0)["result"][0][0]
    second = SkelextCompletePose().complete([WAIST_UP], canvas="keep", alternative=1)["result"][0][0]
    b, s = best["people"][0], second["people"][0]
    given = [i for i in range(18) if i not in LEGS]
    for i in given:  # detected points never move
        assert s["pose_keypoints_2d"][3 * i:3 * i + 3] == b["pose_keypoints_2d"][3 * i:3 * i + 3]
    # alternative 1 is the model's second-ranked completion; the best is kept as its alternative
    ranked = complete_poses([frame_from_dict(WAIST_UP)], PipelineSettings(alternatives=2))[0].frame.people[0]
    for i in LEGS:
        assert s["pose_keypoints_2d"][3 * i:3 * i + 2] == pytest.approx(list(ranked.alternatives[0][i, :2]))
        assert s["skelext"]["alternatives"][0]["pose_keypoints_2d"][3 * i:3 * i + 2] == pytest.approx(
            b["pose_keypoints_2d"][3 * i:3 * i + 2])
    assert s["skelext"]["best_score"] == pytest.approx(ranked.alternative_scores[1], abs=1e-4)
    assert s["pose_keypoints_2d"] != b["pose_keypoints_2d"]


def test_core_refuses_an_alternative_the_model_did_not_record():
    frame = frame_from_dict(WAIST_UP)
    with pytest.raises(SkelextError, match="alternative 2 needs alternatives >= 3"):
        complete_poses([frame], PipelineSettings(alternatives=2), alternative=2)


def test_expand_pads_a_batch_to_one_image_size_and_keeps_poses_consistent():
    small = normalized(WAIST_UP)
    big = shifted(WAIST_UP, -100)  # points further left: expand grows that canvas more
    poses, images = SkelextCompletePose().complete([WAIST_UP, big, small], canvas="expand")["result"]
    assert images.shape[0] == 3
    height, width = images.shape[1], images.shape[2]
    for pose, image in zip(poses, images):
        assert (pose["canvas_width"], pose["canvas_height"]) == (width, height)
        xs = [v for i, v in enumerate(pose["people"][0]["pose_keypoints_2d"]) if i % 3 == 0]
        assert min(xs) >= 0 and max(xs) <= width
    assert width > WAIST_UP["canvas_width"] or height > WAIST_UP["canvas_height"]


# ------------------------------------------------------------------ detect
class StubDetector:
    """Stands in for a detector: one waist-up person on any image (pixels of the padded image)."""

    def __init__(self):
        self.calls = []

    def load(self):
        return self

    def unload(self):
        pass

    def detect_people(self, image, threshold=0.3):
        self.calls.append((image.shape, threshold))
        frame = frame_from_dict(normalized(WAIST_UP))
        scale = np.array([image.shape[1] / frame.canvas_width, image.shape[0] / frame.canvas_height, 1.0])
        for person in frame.people:
            person.body = person.body * scale
            person.face = person.hand_left = person.hand_right = None
        frame.canvas_width, frame.canvas_height = image.shape[1], image.shape[0]
        return frame


def test_detect_node_runs_the_pipeline_per_image_with_comfyui_locations(comfy_host, monkeypatch):
    import comfy.utils
    from lib_skelext import detectors

    stub = StubDetector()
    seen = []

    def get_detector(name, location=None, **kw):
        seen.append((name, location))
        return stub

    monkeypatch.setattr(detectors, "get_detector", get_detector)
    rng = np.random.default_rng(0)
    photos = [rng.integers(0, 255, (300, 400, 3), dtype=np.uint8) for _ in range(2)]
    out = SkelextDetectPose().detect(image_tensor(*photos), detector="dwpose", resolution=256, canvas="keep",
                                     detection_threshold=0.4, complete=True, draw_hands=True, draw_face=True)
    images, poses, placed = out["result"]
    assert tuple(images.shape) == (2, 256, 341, 3) and len(poses) == 2
    assert tuple(placed.shape) == (2, 256, 341, 3)  # canvas keep: the resized photos as they are
    settings = PipelineSettings(resolution=256, detection_threshold=0.4)
    expected = process_image(photos[0], settings, detector=stub)
    assert poses[0] == frame_to_dict(expected.frame, normalized=False)
    assert np.array_equal((images[0].numpy() * 255).round().astype(np.uint8), expected.control_image)
    assert all(t == 0.4 for _, t in stub.calls)
    name, location = seen[0]
    assert name == "dwpose"
    assert location.weights_dir == os.path.join(comfy_host.models_dir, "skelext", "dwpose")
    assert any(d.endswith(os.path.join("comfyui_controlnet_aux", "ckpts", "yzd-v", "DWPose"))
               for d in location.search_dirs)
    assert comfy.utils.BARS[-1].current == 2


def test_detect_node_blazepose_on_the_astronaut_photo():
    pytest.importorskip("mediapipe")
    from PIL import Image

    photo = np.array(Image.open(REPO / "examples" / "skimage_astronaut.png").convert("RGB"))
    images, poses, _ = SkelextDetectPose().detect(image_tensor(photo), detector="blazepose", resolution=512,
                                                  canvas="keep")["result"]
    assert tuple(images.shape) == (1, 512, 512, 3)
    person = poses[0]["people"][0]
    assert any(i in person["skelext"]["completed"] for i in LEGS)
    assert not aux_is_normalized(aux_keypoints(poses[0]))


def test_detect_node_expand_photo_output_lies_under_the_pose(comfy_host, monkeypatch):
    """Canvas expand grows the canvas below the photo for the completed legs: the third output is the
    photo on that canvas, so Render Pose can draw the pose over it (it refused the plain photo)."""
    from lib_skelext import detectors

    stub = StubDetector()
    monkeypatch.setattr(detectors, "get_detector", lambda name, location=None, **kw: stub)
    photo = np.full((300, 400, 3), 200, np.uint8)
    images, poses, placed = SkelextDetectPose().detect(image_tensor(photo), detector="dwpose", resolution=256,
                                                       canvas="expand")["result"]
    assert tuple(placed.shape) == tuple(images.shape)
    height = poses[0]["canvas_height"]
    assert height > 256  # grown for the legs
    (over,) = SkelextRenderPose().render(poses, image=placed)
    assert tuple(over.shape) == tuple(images.shape)
    grey = (placed[0].numpy() * 255).round().astype(np.uint8)
    assert (grey[:, :, 0] > 150).sum() > 0.5 * 256 * 341 * 0.8  # the photo is there, not black


def test_complete_node_fits_a_batch_with_one_transform():
    """Sequence off, canvas fit: one transform for the whole batch (no zooming from frame to frame)."""
    big = scaled(WAIST_UP, 1.6)
    (poses, _) = SkelextCompletePose().complete([WAIST_UP, big], canvas="fit")["result"]

    def neck_to_shoulder(doc):
        b = doc["people"][0]["pose_keypoints_2d"]
        return math.hypot(b[3] - b[6], b[4] - b[7])

    ratios = [neck_to_shoulder(out) / neck_to_shoulder(src) for out, src in zip(poses, [WAIST_UP, big])]
    assert ratios[0] == pytest.approx(ratios[1], rel=1e-6)


# ------------------------------------------------------------------ render
def test_render_node_draws_as_the_core_and_over_images():
    from lib_skelext.render import render_frame, render_overlay

    poses = [WAIST_UP, shifted(WAIST_UP, 10)]
    (drawn,) = SkelextRenderPose().render(poses, draw_body=True, draw_hands=False, draw_face=True)
    assert tuple(drawn.shape) == (2, 205, 270, 3)
    for pose, image in zip(poses, drawn):
        expected = render_frame(frame_from_dict(pose), draw_hands=False)
        assert np.array_equal((image.numpy() * 255).round().astype(np.uint8), expected)
    photo = np.full((205, 270, 3), 90, np.uint8)
    (over,) = SkelextRenderPose().render(poses, image=image_tensor(photo))
    expected = render_overlay(photo, frame_from_dict(poses[1]))
    assert np.array_equal((over[1].numpy() * 255).round().astype(np.uint8), expected)


# ------------------------------------------------------------------ load / save
def test_load_node_reads_files_from_the_input_folder_and_pasted_text(comfy_host, tmp_path):
    in_dir = Path(comfy_host.get_input_directory())
    (in_dir / "poses").mkdir()
    path = in_dir / "poses" / "clip.json"
    path.write_text(json.dumps([normalized(WAIST_UP), WAIST_UP]))
    (poses,) = SkelextLoadPose().load(path="poses/clip.json", json_text="")["result"]
    assert len(poses) == 2  # 0..1 read, pixels written
    for key in ("pose_keypoints_2d", "face_keypoints_2d", "hand_right_keypoints_2d"):
        assert poses[0]["people"][0][key] == pytest.approx(poses[1]["people"][0][key])
    assert poses[1]["people"][0]["pose_keypoints_2d"] == WAIST_UP["people"][0]["pose_keypoints_2d"]
    (absolute,) = SkelextLoadPose().load(path=str(path))["result"]
    assert absolute == poses
    (pasted,) = SkelextLoadPose().load(path="poses/clip.json", json_text=json.dumps(FULL_BODY))["result"]
    assert len(pasted) == 1 and pasted[0]["canvas_width"] == FULL_BODY["canvas_width"]  # text wins
    before = SkelextLoadPose.IS_CHANGED(path="poses/clip.json", json_text="")
    path.write_text(json.dumps([WAIST_UP]))
    os.utime(path, ns=(1, 10**18))
    assert SkelextLoadPose.IS_CHANGED(path="poses/clip.json", json_text="") != before


def test_save_node_writes_numbered_files_the_cli_completes_back(comfy_host, capsys):
    from lib_skelext.cli import main

    node = SkelextSavePose()
    batch = [WAIST_UP, shifted(WAIST_UP, 5)]
    first = node.save(batch, filename_prefix="clips/walk")["ui"]["skelext_files"]
    second = node.save(batch, filename_prefix="clips/walk")["ui"]["skelext_files"]
    assert [f["filename"] for f in first + second] == ["walk_00001_.json", "walk_00002_.json"]
    assert first[0]["subfolder"] == "clips" and first[0]["type"] == "output"
    saved = Path(comfy_host.get_output_directory()) / "clips" / "walk_00001_.json"
    assert json.loads(saved.read_text()) == [frame_to_dict(frame_from_dict(d), normalized=False) for d in batch]

    per_frame = node.save(batch, filename_prefix="frames/f", layout="one file per frame", output_coords="norm")
    names = [f["filename"] for f in per_frame["ui"]["skelext_files"]]
    assert names == ["f_00001_00000.json", "f_00001_00001.json"]
    doc = json.loads((Path(comfy_host.get_output_directory()) / "frames" / names[1]).read_text())
    xs = [v for i, v in enumerate(doc["people"][0]["pose_keypoints_2d"]) if i % 3 == 0]
    assert max(xs) <= 1.0 and max(xs) > 0.5

    # a ComfyUI user completes the saved batch outside ComfyUI: the CLI takes the list of frames
    out = saved.with_name("done.json")
    assert main(["-q", "complete", str(saved), "-o", str(out)]) == 0
    done = json.loads(out.read_text())
    assert isinstance(done, list) and len(done) == 2
    assert all(sorted(d["people"][0]["skelext"]["completed"]) == list(LEGS) for d in done)


# ------------------------------------------------------------------ bad input
NAN_POSE = copy.deepcopy(WAIST_UP)
NAN_POSE["people"][0]["pose_keypoints_2d"][4] = math.nan


@pytest.mark.parametrize("call, expected", [
    (lambda: SkelextLoadPose().load(json_text='{"people": ['), "json_text: invalid JSON"),
    (lambda: SkelextLoadPose().load(json_text='{"canvas_width": 5, "canvas_height": 5, "people": [{"pose_keypoints_2d": NaN}]}'),
     "invalid JSON: NaN is not allowed"),
    (lambda: SkelextLoadPose().load(json_text='{"hello": "world"}'), "missing 'canvas_width'"),
    (lambda: SkelextLoadPose().load(json_text="[]"), "empty batch"),
    (lambda: SkelextLoadPose().load(path="nowhere.json"), "nowhere.json: no such file"),
    (lambda: SkelextLoadPose().load(), "give a path"),
    (lambda: SkelextCompletePose().complete([]), "pose_keypoint: empty batch"),
    (lambda: SkelextCompletePose().complete([WAIST_UP, NAN_POSE]), "pose_keypoint: frame 1: "),
    (lambda: SkelextCompletePose().complete(["not a pose"]), "frame 0: expected a JSON object"),
    (lambda: SkelextCompletePose().complete(None), "pose_keypoint: nothing connected"),
    (lambda: SkelextRenderPose().render([WAIST_UP], image=torch.zeros((1, 100, 100, 3))),
     "image is 100x100 but pose frame 0 has a 270x205 canvas"),
    (lambda: SkelextRenderPose().render([WAIST_UP] * 3, image=torch.zeros((2, 205, 270, 3))),
     "2 images for 3 pose frames"),
    (lambda: SkelextDetectPose().detect(torch.zeros((0, 64, 64, 3))), "empty batch"),
    (lambda: SkelextDetectPose().detect(torch.zeros((1, 3, 64, 64))), "expected an IMAGE batch of shape"),
    (lambda: SkelextDetectPose().detect(torch.full((1, 64, 64, 3), float("nan"))), "NaN"),
    (lambda: SkelextDetectPose().detect(torch.zeros((1, 64, 64, 3)), detector="openpose"), "unknown detector"),
    (lambda: SkelextSavePose().save([WAIST_UP], filename_prefix="../../etc/x"), "must stay inside"),
    (lambda: SkelextSavePose().save([WAIST_UP], filename_prefix=""), "filename_prefix is empty"),
])
def test_bad_input_raises_one_clear_skelext_error(call, expected, comfy_host):
    with pytest.raises(SkelextError) as info:
        call()
    message = str(info.value)
    assert expected in message and "\n" not in message and "Traceback" not in message


def test_save_node_outside_comfyui_numbers_files_the_same_way(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no folder_paths: the current folder is the output folder
    names = [SkelextSavePose().save([WAIST_UP], filename_prefix="out/pose")["ui"]["skelext_files"][0]["filename"]
             for _ in range(3)]
    assert names == ["pose_00001_.json", "pose_00002_.json", "pose_00003_.json"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == names


def jittered_clip(frames=30, seed=0):
    """A still waist-up person over ``frames`` frames with 2-pixel detector jitter (POSE_KEYPOINT)."""
    rng = np.random.default_rng(seed)
    clip = []
    for _ in range(frames):
        doc = copy.deepcopy(WAIST_UP)
        body = doc["people"][0]["pose_keypoints_2d"]
        for i in range(0, len(body), 3):
            if body[i + 2] > 0:
                body[i] += float(rng.normal(0, 2))
                body[i + 1] += float(rng.normal(0, 2))
        clip.append(doc)
    return clip


def completed_track(poses, point):
    return np.array([p["people"][0]["pose_keypoints_2d"][3 * point:3 * point + 2] for p in poses])


def test_complete_pose_sequence_option_tracks_and_steadies_a_batch(comfy_host):
    """sequence causal/offline: the batch is one video; people get track ids and the completed ankle
    moves less from frame to frame than with every frame on its own; detected points stay as given."""
    clip = jittered_clip()
    node = SkelextCompletePose()
    off = node.complete(copy.deepcopy(clip))["result"][0]
    for mode in ("causal", "offline"):
        poses, images = node.complete(copy.deepcopy(clip), sequence=mode)["result"]
        assert images.shape[0] == len(clip)
        assert {p["people"][0]["skelext"]["track_id"] for p in poses} == {0}
        jitter = [np.abs(np.diff(completed_track(x, 10), 2, axis=0)).mean() for x in (off, poses)]
        assert jitter[1] < 0.5 * jitter[0], (mode, jitter)
        given = [i for i in range(18) if clip[0]["people"][0]["pose_keypoints_2d"][3 * i + 2] > 0]
        for sent, got in zip(clip, poses):
            for i in given:
                assert got["people"][0]["pose_keypoints_2d"][3 * i:3 * i + 2] == \
                    sent["people"][0]["pose_keypoints_2d"][3 * i:3 * i + 2]
    with pytest.raises(SkelextError, match="alternative applies to single images"):
        node.complete(copy.deepcopy(clip), alternative=1, sequence="causal")
    with pytest.raises(SkelextError, match="sequence .*choose one of off, causal, offline"):
        node.complete(copy.deepcopy(clip), sequence="sideways")
