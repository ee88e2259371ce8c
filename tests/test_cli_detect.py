"""`python -m lib_skelext detect`: outputs, bad files, batch behaviour, image loading."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

import lib_skelext.cli.detect as cli_detect
import lib_skelext.complete as complete_mod
from lib_skelext.cli import main
from lib_skelext.errors import SkelextError
from lib_skelext.image_io import load_image
from lib_skelext.pose import Person, PoseFrame, Source


class FakeDetector:
    def detect_people(self, image, threshold=0.3):
        h, w = image.shape[:2]
        body = np.zeros((18, 3))
        body[0], body[1], body[2], body[5] = [w / 2, h * .2, 1], [w / 2, h * .35, 1], [w * .4, h * .35, 1], [w * .6, h * .35, 1]
        return PoseFrame([Person(body=body)], w, h)


def fake_complete(frame, *, alternatives=1):
    out = frame.copy()
    for p in out.people:
        p.body[10] = [p.body[1, 0], frame.canvas_height * 1.4, 1.0]
        p.source[10] = Source.COMPLETED
    return out


@pytest.fixture
def fakes(monkeypatch):
    monkeypatch.setattr(cli_detect, "make_detector", lambda name, weights_dir=None: FakeDetector())
    monkeypatch.setattr(complete_mod, "complete_frames", lambda frames, **kw: [fake_complete(f, **kw) for f in frames])


def test_single_photo_writes_three_files(tmp_path, fakes):
    photo = tmp_path / "me.jpg"
    Image.fromarray(np.full((300, 200, 3), 90, np.uint8)).save(photo)
    assert main(["detect", str(photo), "-o", str(tmp_path / "out"), "--resolution", "256"]) == 0
    doc = json.loads((tmp_path / "out" / "me.json").read_text())
    control = np.asarray(Image.open(tmp_path / "out" / "me_control.png"))
    overlay = np.asarray(Image.open(tmp_path / "out" / "me_overlay.png"))
    assert control.shape == overlay.shape == (384, 256, 3)
    assert (doc["canvas_width"], doc["canvas_height"]) == (256, 384)
    assert doc["people"][0]["pose_keypoints_2d"][10 * 3 + 1] > 384   # completed below the frame


def test_bad_single_file_exits_2_with_one_line(tmp_path, capsys, fakes):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    assert main(["detect", str(bad), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "bad.png" in err and "Traceback" not in err
    assert main(["detect", str(tmp_path / "missing.jpg"), "-o", str(tmp_path / "out")]) == 2


def test_batch_reports_bad_files_and_finishes_good_ones(tmp_path, capsys, fakes):
    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(src / "a.png")
    Image.fromarray(np.zeros((80, 64), np.uint8)).save(src / "c.jpg")
    (src / "b.jpg").write_bytes(b"\xff\xd8broken")
    (src / "notes.txt").write_text("ignored")
    assert main(["detect", str(src), "-o", str(tmp_path / "out"), "--canvas", "expand"]) == 2
    err = capsys.readouterr().err
    assert "b.jpg" in err and "1 of 3 photos failed" in err
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["a.json", "a_control.png", "a_overlay.png", "c.json", "c_control.png", "c_overlay.png"]


def test_output_must_be_a_folder(tmp_path, fakes):
    photo = tmp_path / "p.png"
    Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(photo)
    (tmp_path / "file").write_text("x")
    assert main(["detect", str(photo), "-o", str(tmp_path / "file")]) == 2


@pytest.mark.parametrize("mode", ["L", "P", "RGBA", "LA", "I;16", "CMYK", "1"])
def test_load_image_modes(tmp_path, mode):
    base = Image.fromarray(np.tile(np.arange(0, 250, 10, dtype=np.uint8), (20, 1)))
    if mode == "I;16":
        img = Image.fromarray((np.asarray(base).astype(np.uint16) * 257))
        path = tmp_path / "x.png"
    else:
        img = base.convert(mode)
        path = tmp_path / ("x.tif" if mode == "CMYK" else "x.png")
    img.save(path)
    arr = load_image(path)
    assert arr.dtype == np.uint8 and arr.shape == (20, 25, 3)
    if mode in ("L", "I;16", "LA"):
        assert arr[0, 3, 0] == 30 and (arr[..., 0] == arr[..., 2]).all()


def test_load_image_transparent_is_white_and_pixel_limit(tmp_path):
    rgba = np.zeros((10, 10, 4), np.uint8)
    Image.fromarray(rgba).save(tmp_path / "t.png")
    assert (load_image(tmp_path / "t.png") == 255).all()
    with pytest.raises(SkelextError, match="too large"):
        load_image(tmp_path / "t.png", max_pixels=99)
    with pytest.raises(SkelextError, match="not a readable image"):
        load_image(b"GIF89a garbage")


def test_a_video_without_sequence_names_the_flag(tmp_path, capsys, fakes):
    """`detect CLIP.mp4 -o OUT` answered "not a readable image"; it says to add --sequence."""
    from lib_skelext.cli import main

    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"\x00\x00\x00\x18ftypmp42")
    assert main(["detect", str(clip), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--sequence" in err[0] and "is a video" in err[0]
    assert not (tmp_path / "out").exists()
