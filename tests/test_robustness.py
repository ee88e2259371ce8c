"""Issue #9: every bad input, through every door, gets a clear error and loses nothing.

A matrix: each bad photo through the library (``load_image`` + ``process_image``),
the CLI's ``detect`` and REST ``detect``; each bad pose JSON through the library
(``loads_frame`` + ``complete_frame``), the CLI's ``complete`` and REST ``complete``
and ``render``. The library raises ``SkelextError``, the CLI exits 2 with one
``skelext:`` line on stderr (and leaves an earlier output file as it was), REST
answers 4xx with a ``detail``. Odd but valid photos (16-bit, grayscale, RGBA,
palette, 1x40000) work everywhere. Batches report bad files and finish good ones.

The detector is the real BlazePose (mediapipe, offline; DWPose's weights are not
here), shared by the tests; completion is the shipped model. CLI runs are
in-process (``cli.main``) except a few subprocess runs that check what a user sees.
Runs in .venv only (mediapipe).
"""
from __future__ import annotations

import base64
import io
import json
import struct
import subprocess
import sys
import zlib
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("mediapipe")

from api_client import Client  # noqa: E402
from hosts import detector_registered  # noqa: E402
from conftest import REPO_ROOT  # noqa: E402
import lib_skelext.cli.detect as cli_detect  # noqa: E402
from lib_skelext.api import create_app  # noqa: E402
from lib_skelext.cli import main  # noqa: E402
from lib_skelext.complete import complete_frame  # noqa: E402
from lib_skelext.errors import SkelextError  # noqa: E402
from lib_skelext.image_io import load_image  # noqa: E402
from lib_skelext.openpose_json import loads_frame  # noqa: E402
from lib_skelext.core import process_image  # noqa: E402
from lib_skelext.settings import PipelineSettings  # noqa: E402

PHOTO = REPO_ROOT / "examples" / "coco_000000000785_crop_hipsup.jpg"
EXAMPLE = (REPO_ROOT / "examples" / "waist_up.json").read_text()
SETTINGS = PipelineSettings(detector="blazepose", resolution=256)


@pytest.fixture(scope="module")
def detector():
    from lib_skelext.blazepose import BlazePoseDetector

    det = BlazePoseDetector().load()
    yield det
    det.close()


@pytest.fixture
def cli_detector(monkeypatch, detector):
    """The CLI's ``detect`` with the shared (real) BlazePose instead of a new one per run."""
    monkeypatch.setattr(cli_detect, "make_detector", lambda name, weights_dir=None: detector)


@pytest.fixture(scope="module")
def client(detector):
    with detector_registered("blazepose", detector):
        yield Client(create_app(auth="u:p"))


def post(client, route, body=None, **kw):
    if body is not None:
        kw["json"] = body
    return client.post(f"/skelext/v1/{route}", auth=("u", "p"), **kw)


def run_main(capsys, *argv):
    """cli.main in-process: (exit code, stderr lines)."""
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err
    return code, [line for line in err.splitlines() if line.strip()]


def assert_one_line(code, lines):
    assert code == 2, lines
    assert len(lines) == 1 and lines[0].startswith("skelext: "), lines
    assert "Traceback" not in lines[0]
    return lines[0]


# ------------------------------------------------------------------- images
def encode(im: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buffer = io.BytesIO()
    im.save(buffer, format=fmt, **kw)
    return buffer.getvalue()


def _chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)


def png_raw(width: int, height: int, bit_depth: int, color_type: int, rows) -> bytes:
    """A PNG written by hand (PIL refuses to write some of these)."""
    comp = zlib.compressobj(9)
    data = b"".join(comp.compress(row) for row in rows) + comp.flush()
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0))
            + _chunk(b"IDAT", data) + _chunk(b"IEND", b""))


@lru_cache(maxsize=None)
def bad_image(name: str) -> bytes:
    photo = PHOTO.read_bytes()
    if name == "not an image":
        return b"GIF89a? no: just some text that is not an image at all"
    if name == "empty file":
        return b""
    if name == "truncated png":
        png = encode(Image.open(PHOTO))
        return png[: len(png) // 2]
    if name == "truncated jpeg":
        return photo[: len(photo) // 2]
    if name == "0x0":
        return png_raw(0, 0, 8, 2, [b""])
    if name == "bomb":  # 12000 x 12000 1-bit: 144 megapixels in ~20 kB
        row = b"\x00" + bytes(1500)
        return png_raw(12000, 12000, 1, 0, (row for _ in range(12000)))
    if name == "bomb 400 MP":  # beyond twice PIL's own limit: PIL refuses it while reading the header
        row = b"\x00" + bytes(2500)
        return png_raw(20000, 20000, 1, 0, (row for _ in range(20000)))
    raise KeyError(name)


BAD_IMAGES = ["not an image", "empty file", "truncated png", "truncated jpeg", "0x0", "bomb", "bomb 400 MP"]


@lru_cache(maxsize=None)
def odd_image(name: str) -> bytes:
    """Valid photos in unusual formats; all but the strips show the hips-up person."""
    rgb = Image.open(PHOTO).convert("RGB")
    if name == "16-bit gray":
        gray = np.asarray(rgb.convert("L"), dtype=np.uint16) * 257
        return encode(Image.fromarray(gray))
    if name == "grayscale":
        return encode(rgb.convert("L"))
    if name == "RGBA":
        rgba = rgb.convert("RGBA")
        rgba.putalpha(200)
        return encode(rgba)
    if name == "palette":
        return encode(rgb.convert("P", palette=Image.ADAPTIVE, colors=64))
    if name == "1x40000":
        return encode(Image.new("RGB", (1, 40000), (90, 120, 200)))
    if name == "40000x1":
        return encode(Image.new("RGB", (40000, 1), (90, 120, 200)))
    raise KeyError(name)


ODD_IMAGES = ["16-bit gray", "grayscale", "RGBA", "palette", "1x40000", "40000x1"]
SHOWS_PERSON = {"16-bit gray", "grayscale", "RGBA", "palette"}


def test_the_bad_images_are_what_they_claim():
    assert Image.open(io.BytesIO(odd_image("16-bit gray"))).mode.startswith("I")
    assert Image.open(io.BytesIO(odd_image("palette"))).mode == "P"
    with pytest.warns(Image.DecompressionBombWarning):
        assert Image.open(io.BytesIO(bad_image("bomb"))).size == (12000, 12000)
    with pytest.raises(Image.DecompressionBombError):
        Image.open(io.BytesIO(bad_image("bomb 400 MP")))
    assert len(bad_image("bomb")) < 100_000 and len(bad_image("bomb 400 MP")) < 200_000


@pytest.mark.parametrize("name", BAD_IMAGES)
def test_bad_image_library(name, detector):
    with pytest.raises(SkelextError) as info:
        process_image(load_image(bad_image(name)), SETTINGS, detector=detector)
    assert str(info.value).startswith("image: ") and "\n" not in str(info.value)


@pytest.mark.parametrize("name", BAD_IMAGES)
def test_bad_image_cli_detect(name, tmp_path, capsys, cli_detector):
    photo = tmp_path / "photo.png"
    photo.write_bytes(bad_image(name))
    out = tmp_path / "out"
    out.mkdir()
    (out / "photo.json").write_text("earlier result")
    line = assert_one_line(*run_main(capsys, "detect", photo, "-o", out, "--detector", "blazepose"))
    assert str(photo) in line
    assert sorted(p.name for p in out.iterdir()) == ["photo.json"]  # nothing new, nothing half-written
    assert (out / "photo.json").read_text() == "earlier result"


@pytest.mark.parametrize("name", BAD_IMAGES)
def test_bad_image_rest_detect(name, client):
    r = post(client, "detect", {"image": base64.b64encode(bad_image(name)).decode(), "detector": "blazepose"})
    assert r.status_code == (413 if name.startswith("bomb") else 400), r.text[:300]
    assert r.json()["detail"].startswith("image")


@pytest.mark.parametrize("name", ODD_IMAGES)
def test_odd_image_works_library(name, detector):
    image = load_image(odd_image(name))
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    result = process_image(image, SETTINGS, detector=detector)
    assert not result.completion_failed
    h, w = result.control_image.shape[:2]
    assert max(h, w) <= 16384 and min(h, w) >= 1
    if name in SHOWS_PERSON:
        assert len(result.frame.people) == 1


@pytest.mark.parametrize("name", ODD_IMAGES)
def test_odd_image_works_cli_detect(name, tmp_path, capsys, cli_detector):
    photo = tmp_path / "odd.png"
    photo.write_bytes(odd_image(name))
    code, lines = run_main(capsys, "detect", photo, "-o", tmp_path / "out", "--detector", "blazepose",
                           "--resolution", "256")
    assert code == 0, lines
    doc = json.loads((tmp_path / "out" / "odd.json").read_text())
    assert (Image.open(tmp_path / "out" / "odd_control.png").size
            == (doc["canvas_width"], doc["canvas_height"]))
    if name in SHOWS_PERSON:
        assert len(doc["people"]) == 1


@pytest.mark.parametrize("name", ODD_IMAGES)
def test_odd_image_works_rest_detect(name, client):
    r = post(client, "detect", {"image": base64.b64encode(odd_image(name)).decode(), "detector": "blazepose",
                                "resolution": 256})
    assert r.status_code == 200, r.text[:300]
    if name in SHOWS_PERSON:  # 16-bit PNGs once arrived saturated white: nobody found
        assert len(r.json()["pose"]["people"]) == 1


# ---------------------------------------------------------------- pose JSON
def _person(values):
    return {"pose_keypoints_2d": values}


def _doc(people=(), width=100, height=100, **extra):
    return json.dumps(dict({"people": list(people), "canvas_width": width, "canvas_height": height}, **extra))


GOOD_BODY = json.loads(EXAMPLE)["people"][0]["pose_keypoints_2d"]
BAD_POSES = {
    "malformed": '{"people": [{"pose_keypoints_2d": [1, 2,',
    "not json at all": "\x00\x01binary\xff",
    "not an object": "[1, 2, 3]",
    "NaN canvas": '{"people": [], "canvas_width": NaN, "canvas_height": 10}',
    "Infinity point": _doc([_person([1] * 53)]).replace("1]", "Infinity]"),
    "1e999 point": _doc([_person([1] * 53)]).replace("1]", "1e999]"),
    "wrong length": _doc([_person([1.0] * 53)]),
    "17 points": _doc([_person([1.0] * 51)]),
    "strings for numbers": _doc([_person(["1"] * 54)]),
    "booleans for numbers": _doc([_person([True] * 54)]),
    "string canvas": _doc(width="100"),
    "negative canvas": _doc(width=-100),
    "zero canvas": _doc(height=0),
    "fractional canvas": _doc(width=10.5),
    "missing canvas": '{"people": []}',
    "people not a list": '{"people": "x", "canvas_width": 9, "canvas_height": 9}',
    "person not an object": '{"people": [7], "canvas_width": 9, "canvas_height": 9}',
    "10,000 people": _doc([_person(GOOD_BODY)] * 10_000, width=270, height=205),
    "deep nesting inside": '{"people": [], "canvas_width": 9, "canvas_height": 9, "extra": ' + "[" * 200
                           + "]" * 200 + "}",
    "deep nesting everywhere": "[" * 100_000,
    "huge integer": '{"people": [], "canvas_width": 1' + "0" * 5000 + ', "canvas_height": 9}',
}
#: Over every size limit: the CLI refuses files over 50 MB, REST bodies over 20 MB (413).
FIFTY_MB = 50 * 1024 * 1024 + 1


@pytest.mark.parametrize("name", list(BAD_POSES))
def test_bad_pose_library(name):
    with pytest.raises(SkelextError) as info:
        complete_frame(loads_frame(BAD_POSES[name]))
    assert str(info.value) and "\n" not in str(info.value) and len(str(info.value)) < 300


@pytest.mark.parametrize("name", list(BAD_POSES))
def test_bad_pose_cli_complete(name, tmp_path, capsys):
    src = tmp_path / "pose.json"
    src.write_bytes(BAD_POSES[name].encode("utf-8", "surrogateescape"))
    dst = tmp_path / "out.json"
    dst.write_text("earlier result")
    line = assert_one_line(*run_main(capsys, "complete", src, "-o", dst, "--render", tmp_path / "out.png"))
    assert str(src) in line
    assert dst.read_text() == "earlier result" and not (tmp_path / "out.png").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json", "pose.json"]  # no temp files left


@pytest.mark.parametrize("route", ["complete", "render"])
@pytest.mark.parametrize("name", list(BAD_POSES))
def test_bad_pose_rest(name, route, client):
    text = BAD_POSES[name]
    # as a string inside the request, and (where it is JSON) as the raw request body
    r = post(client, route, {"pose": text})
    assert 400 <= r.status_code < 500 and r.json()["detail"], r.text[:300]
    raw = ('{"pose": ' + text + "}").encode("utf-8", "surrogateescape")
    r = post(client, route, content=raw, headers={"content-type": "application/json"})
    assert 400 <= r.status_code < 500 and r.json()["detail"], r.text[:300]


def test_fifty_megabytes(tmp_path, capsys, client):
    padding = " " * FIFTY_MB
    text = '{"people": [], "canvas_width": 9, "canvas_height": 9}' + padding
    src = tmp_path / "big.json"
    src.write_text(text)
    line = assert_one_line(*run_main(capsys, "complete", src, "-o", tmp_path / "out.json"))
    assert "too large" in line and not (tmp_path / "out.json").exists()
    for route in ("complete", "render", "detect"):
        r = post(client, route, content=b'{"pose": "' + b"x" * FIFTY_MB + b'"}',
                 headers={"content-type": "application/json"})
        assert r.status_code == 413 and "too large" in r.json()["detail"]
    # the library has no size limit of its own: a valid 50 MB document is read
    assert loads_frame(text).canvas_width == 9


def test_cli_bad_inputs_as_a_user_sees_them(tmp_path):
    """Subprocesses: exactly one stderr line, no traceback, even with mediapipe in the process."""
    bad_photo = tmp_path / "bad.jpg"
    bad_photo.write_bytes(bad_image("truncated jpeg"))
    bad_pose = tmp_path / "bad.json"
    bad_pose.write_text(BAD_POSES["10,000 people"])
    for argv in (["detect", bad_photo, "-o", tmp_path / "o1", "--detector", "blazepose"],
                 ["complete", bad_pose, "-o", tmp_path / "o2.json"]):
        r = subprocess.run([sys.executable, "-m", "lib_skelext", *map(str, argv)], cwd=REPO_ROOT,
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 2 and r.stdout == "", r.stderr
        assert len(r.stderr.strip().splitlines()) == 1 and r.stderr.startswith("skelext: "), r.stderr


# --------------------------------------------------------------------- batches
def test_cli_detect_batch_reports_bad_photos_and_finishes_good_ones(tmp_path):
    src = tmp_path / "photos"
    src.mkdir()
    for name in BAD_IMAGES:
        (src / f"bad {name}.png").write_bytes(bad_image(name))
    (src / "good.jpg").write_bytes(PHOTO.read_bytes())
    (src / "good gray.png").write_bytes(odd_image("grayscale"))
    (src / "strip.png").write_bytes(odd_image("1x40000"))
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, "-m", "lib_skelext", "detect", str(src), "-o", str(out), "--detector",
                        "blazepose", "--resolution", "256"], cwd=REPO_ROOT, capture_output=True, text=True,
                       timeout=180)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    ours = [line for line in r.stderr.splitlines() if line.startswith("skelext: ")]
    for name in BAD_IMAGES:
        assert sum(f"bad {name}.png" in line for line in ours) == 1, (name, ours)
    assert f"{len(BAD_IMAGES)} of {len(BAD_IMAGES) + 3} photos failed" in ours[-1]
    for stem in ("good", "good gray", "strip"):
        for suffix in (".json", "_control.png", "_overlay.png"):
            assert (out / f"{stem}{suffix}").is_file(), (stem, suffix)
    assert len(json.loads((out / "good.json").read_text())["people"]) == 1
    assert sorted(out.iterdir()) == sorted(p for p in out.iterdir() if not p.name.startswith("bad"))
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_cli_complete_batch_reports_every_bad_file_and_finishes_good_ones(tmp_path, capsys):
    src = tmp_path / "poses"
    src.mkdir()
    names = {}
    for i, (name, text) in enumerate(BAD_POSES.items()):
        names[f"bad{i:02d}.json"] = name
        (src / f"bad{i:02d}.json").write_bytes(text.encode("utf-8", "surrogateescape"))
    (src / "good1.json").write_text(EXAMPLE)
    (src / "good2.json").write_text(json.dumps(json.loads(EXAMPLE), indent=2))
    out = tmp_path / "out"
    code, lines = run_main(capsys, "complete", src, "-o", out, "--render")
    assert code == 2
    for file in names:
        assert sum(file in line for line in lines) == 1, (names[file], lines)
    assert f"{len(BAD_POSES)} of {len(BAD_POSES) + 2} files failed" in lines[-1]
    assert sorted(p.name for p in out.iterdir()) == ["good1.json", "good1.png", "good2.json", "good2.png"]
    people = json.loads((out / "good1.json").read_text())["people"]
    assert len(people[0]["skelext"]["completed"]) > 0
