"""`complete --sequence`, `detect --sequence` and REST `"sequence": true`: outputs and one-line errors."""
from __future__ import annotations

import json

import numpy as np
import pytest

import lib_skelext.cli.detect as cli_detect
from lib_skelext.cli import main
from lib_skelext.completion_model import load_model
from lib_skelext.pose import Person, PoseFrame

TORSO = 60.0


def pose_doc(t: int, width=300, height=160, jitter=0.0, seed=0):
    """A waist-up person (canvas cut below the hips) drifting right by 1 px per frame."""
    rng = np.random.default_rng(seed + t)
    xy = load_model().mean_pose * TORSO + [100 + t, 50] + rng.normal(0, jitter * TORSO, (18, 2))
    body = np.zeros((18, 3))
    vis = xy[:, 1] < height
    body[vis, :2], body[vis, 2] = xy[vis], 1.0
    return {"people": [{"pose_keypoints_2d": body.ravel().tolist()}], "canvas_width": width, "canvas_height": height}


def write_frames(folder, n=12, **kw):
    folder.mkdir()
    for t in range(n):  # names whose plain sort differs from natural order
        (folder / f"f{t}.json").write_text(json.dumps(pose_doc(t, **kw)))
    return folder


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("skelext: ") and "Traceback" not in err, err
    return err


def test_complete_sequence_folder_keeps_names_and_writes_track_ids(tmp_path):
    src = write_frames(tmp_path / "in", jitter=0.02)
    assert main(["-q", "complete", str(src), "-o", str(tmp_path / "out"), "--sequence"]) == 0
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == sorted(f"f{t}.json" for t in range(12))
    for t in range(12):
        given = pose_doc(t, jitter=0.02)["people"][0]["pose_keypoints_2d"]
        person = json.loads((tmp_path / "out" / f"f{t}.json").read_text())["people"][0]
        assert person["skelext"]["track_id"] == 0 and person["skelext"]["completed"]
        out = np.array(person["pose_keypoints_2d"]).reshape(18, 3)
        vis = np.array(given).reshape(18, 3)[:, 2] > 0
        assert np.array_equal(out[vis], np.array(given).reshape(18, 3)[vis])  # detected points unchanged


def test_frame_order_is_natural_not_alphabetical(tmp_path):
    """f2 comes before f10: with the order swapped the clip would jump back and forth (causal output differs)."""
    src = write_frames(tmp_path / "in", jitter=0.02)
    assert main(["-q", "complete", str(src), "-o", str(tmp_path / "a"), "--sequence"]) == 0
    ankles = [json.loads((tmp_path / "a" / f"f{t}.json").read_text())["people"][0]["pose_keypoints_2d"][30]
              for t in range(12)]
    assert np.all(np.diff(ankles) > -0.5)  # moves right with the body, frame after frame


def test_complete_sequence_list_file_and_rest_agree(tmp_path):
    from api_client import Client
    from lib_skelext.api import create_app

    frames = [pose_doc(t) for t in range(6)]
    (tmp_path / "clip.json").write_text(json.dumps(frames))
    assert main(["-q", "complete", str(tmp_path / "clip.json"), "-o", str(tmp_path / "out.json"), "--sequence",
                 "--sequence-mode", "offline"]) == 0
    cli = json.loads((tmp_path / "out.json").read_text())
    r = Client(create_app()).post("/skelext/v1/complete", json={"pose": frames, "sequence": True,
                                                                "sequence_mode": "offline"})
    assert r.status_code == 200, r.text
    assert r.json()["pose"] == cli and len(cli) == 6
    assert {p["skelext"]["track_id"] for f in cli for p in f["people"]} == {0}


def test_rest_sequence_bad_input_is_400(tmp_path):
    from api_client import Client
    from lib_skelext.api import create_app

    frames = [pose_doc(0), pose_doc(1, width=301)]
    r = Client(create_app()).post("/skelext/v1/complete", json={"pose": frames, "sequence": True})
    assert r.status_code == 400 and "share one canvas size" in r.json()["detail"]
    r = Client(create_app()).post("/skelext/v1/complete", json={"pose": [], "sequence": True})
    assert r.status_code == 400 and "empty" in r.json()["detail"]
    r = Client(create_app()).post("/skelext/v1/complete", json={"pose": frames, "sequence_mode": "sideways"})
    assert r.status_code == 422


@pytest.mark.parametrize("breakage, message", [
    ("size", "share one canvas size: frame 0 is 300x160, frame 3 is 301x160"),
    ("empty_file", "f3.json: invalid JSON"),
    ("list_file", "f3.json: holds a list of frames"),
])
def test_complete_sequence_bad_frames_are_one_line(tmp_path, capsys, breakage, message):
    src = write_frames(tmp_path / "in", n=6)
    if breakage == "size":
        (src / "f3.json").write_text(json.dumps(pose_doc(3, width=301)))
    elif breakage == "empty_file":
        (src / "f3.json").write_text("")
    else:
        (src / "f3.json").write_text(json.dumps([pose_doc(3)]))
    assert main(["complete", str(src), "-o", str(tmp_path / "out"), "--sequence"]) == 2
    assert message in one_error_line(capsys)


def test_complete_sequence_empty_folder_is_one_line(tmp_path, capsys):
    (tmp_path / "in").mkdir()
    assert main(["complete", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--sequence"]) == 2
    assert "no *.json files" in one_error_line(capsys)


class WalkingDetector:
    """One waist-up person walking right 2 px per frame; which frame is read from the image's red level."""

    def detect_people(self, image, threshold=0.3):
        h, w = image.shape[:2]
        t = int(image[h // 2, w // 2, 0]) // 8
        xy = load_model().mean_pose * (h / 3) + [w / 3 + 2 * t, h / 3]  # ankles below the frame
        body = np.zeros((18, 3))
        vis = xy[:, 1] < h
        body[vis, :2], body[vis, 2] = xy[vis], 0.9
        return PoseFrame([Person(body=body)], w, h)


def write_video(path, n=10, size=(160, 128)):
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 24.0, size)
    for t in range(n):
        writer.write(np.full((size[1], size[0], 3), [0, 0, 8 * t + 4], np.uint8))  # BGR: red = 8t + 4
    writer.release()


def test_detect_sequence_video_writes_frames_and_an_mp4(tmp_path, monkeypatch):
    import cv2

    monkeypatch.setattr(cli_detect, "make_detector", lambda name, weights_dir=None: WalkingDetector())
    write_video(tmp_path / "clip.mp4")
    assert main(["-q", "detect", str(tmp_path / "clip.mp4"), "-o", str(tmp_path / "out"), "--sequence",
                 "--resolution", "128"]) == 0
    docs = [json.loads((tmp_path / "out" / f"clip_{t:05d}.json").read_text()) for t in range(10)]
    assert all(d["people"][0]["skelext"]["track_id"] == 0 and d["people"][0]["skelext"]["completed"] for d in docs)
    assert (tmp_path / "out" / "clip_00009_control.png").is_file()
    cap = cv2.VideoCapture(str(tmp_path / "out" / "control.mp4"))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 10 and abs(cap.get(cv2.CAP_PROP_FPS) - 24.0) < 0.01
    cap.release()


def test_detect_sequence_unreadable_video_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli_detect, "make_detector", lambda name, weights_dir=None: WalkingDetector())
    (tmp_path / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 definitely not a video")
    assert main(["detect", str(tmp_path / "broken.mp4"), "-o", str(tmp_path / "out"), "--sequence"]) == 2
    assert "broken.mp4: not a readable video" in one_error_line(capsys)


def test_detect_sequence_frame_folder(tmp_path, monkeypatch):
    from PIL import Image

    monkeypatch.setattr(cli_detect, "make_detector", lambda name, weights_dir=None: WalkingDetector())
    (tmp_path / "frames").mkdir()
    for t in range(5):
        Image.fromarray(np.full((128, 160, 3), [8 * t + 4, 0, 0], np.uint8)).save(tmp_path / "frames" / f"img{t}.png")
    assert main(["-q", "detect", str(tmp_path / "frames"), "-o", str(tmp_path / "out"), "--sequence",
                 "--resolution", "128", "--fps", "12"]) == 0
    assert all((tmp_path / "out" / f"img{t}.json").is_file() for t in range(5))
    assert (tmp_path / "out" / "control.mp4").stat().st_size > 0


def test_write_video_pads_odd_sizes_and_counts_frames(tmp_path):
    """An expanded canvas can be odd-sized; MPEG-4 needs even sizes: padded, every frame kept."""
    import cv2

    from lib_skelext.sequence.video_io import write_video

    frames = (np.full((17, 31, 3), 40 * i, np.uint8) for i in range(3))
    assert write_video(tmp_path / "odd.mp4", frames, 10.0) == 3
    cap = cv2.VideoCapture(str(tmp_path / "odd.mp4"))
    sizes = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        sizes.append(frame.shape[:2])
    cap.release()
    assert sizes == [(18, 32)] * 3
