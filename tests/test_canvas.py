"""canvas.py: keep / fit / expand move the photo and the poses together."""
from __future__ import annotations

import json
import itertools

import cv2
import numpy as np
import pytest

from lib_skelext.canvas import apply_canvas_mode, apply_transform, canvas_transform
from lib_skelext.errors import SkelextError
from lib_skelext.openpose_json import dumps_frame, loads_frame
from lib_skelext.pose import Person, PoseFrame

W, H = 200, 100


def make_frame(body_points, hand_points=(), face_points=(), width=W, height=H):
    body = np.zeros((18, 3))
    for i, (x, y) in enumerate(body_points):
        body[i] = [x, y, 1.0]
    hand = None
    if hand_points:
        hand = np.zeros((21, 3))
        for i, (x, y) in enumerate(hand_points):
            hand[i] = [x, y, 1.0]
    face = np.array([[x, y, 1.0] for x, y in face_points]) if face_points else None
    return PoseFrame(people=[Person(body=body, hand_left=hand, face=face)], canvas_width=width, canvas_height=height)


def present_points(frame):
    chunks = []
    for p in frame.people:
        for part in (p.body, p.face, p.hand_left, p.hand_right):
            if part is not None:
                chunks.append(part[part[:, 2] > 0, :2])
    return np.concatenate(chunks)


INSIDE = [(20, 20), (150, 80), (100, 50), (60, 10)]
OUTSIDE_FRAME = dict(body_points=INSIDE + [(250, -30)], hand_points=[(100, 50), (110, 55)], face_points=[(-10, 90)])


def blob_image(x, y, width=W, height=H, radius=4):
    image = np.zeros((height, width, 3), np.uint8)
    cv2.circle(image, (x, y), radius, (255, 255, 255), thickness=-1)
    return image


def centroid(image):
    weights = image[..., 0].astype(np.float64)
    assert weights.sum() > 0, "the dot left the image"
    ys, xs = np.indices(weights.shape)
    return (xs * weights).sum() / weights.sum(), (ys * weights).sum() / weights.sum()


# ------------------------------------------------------------------ keep
def test_keep_is_identity_even_with_points_outside():
    frame = make_frame(**OUTSIDE_FRAME)
    out, t = apply_canvas_mode(frame, "keep")
    assert t.is_identity and (t.width, t.height) == (W, H)
    assert (out.canvas_width, out.canvas_height) == (W, H)
    np.testing.assert_array_equal(present_points(out), present_points(frame))
    image = np.random.default_rng(0).integers(0, 255, (H, W, 3), dtype=np.uint8)
    np.testing.assert_array_equal(t.apply_to_image(image), image)


# ------------------------------------------------------------------ nothing outside
@pytest.mark.parametrize("mode", ["fit", "expand"])
def test_nothing_outside_means_identity(mode):
    frame = make_frame(INSIDE + [(0, 0), (W - 1, H - 1)], hand_points=[(5, 5)], face_points=[(190, 90)])
    out, t = apply_canvas_mode(frame, mode)
    assert t.is_identity and (t.width, t.height) == (W, H)
    assert (out.canvas_width, out.canvas_height) == (W, H)
    np.testing.assert_array_equal(out.people[0].body, frame.people[0].body)
    np.testing.assert_array_equal(out.people[0].hand_left, frame.people[0].hand_left)


@pytest.mark.parametrize("mode", ["keep", "fit", "expand"])
def test_empty_frame_is_identity(mode):
    frame = PoseFrame(people=[], canvas_width=W, canvas_height=H)
    out, t = apply_canvas_mode(frame, mode)
    assert t.is_identity and (out.canvas_width, out.canvas_height) == (W, H)
    frame = PoseFrame(people=[Person(body=np.zeros((18, 3)))], canvas_width=W, canvas_height=H)
    assert apply_canvas_mode(frame, mode)[1].is_identity


@pytest.mark.parametrize("mode", ["fit", "expand"])
def test_missing_points_do_not_count_and_stay_missing(mode):
    frame = make_frame(INSIDE)
    frame.people[0].body[10] = [-500, 900, 0.0]   # missing, with leftover coordinates
    out, t = apply_canvas_mode(frame, mode)
    assert t.is_identity
    frame.people[0].body[11] = [300, 50, 1.0]     # now something is outside
    out, t = apply_canvas_mode(frame, mode)
    assert not t.is_identity or (t.width, t.height) != (W, H)
    assert (out.people[0].body[:, 0] <= out.canvas_width - 1).all()
    assert out.people[0].body[10, 2] == 0
    assert (out.people[0].body[12:, 2] == 0).all()


# ------------------------------------------------------------------ fit
@pytest.mark.parametrize("margin", [0.0, 0.05, 0.2])
def test_fit_keeps_size_puts_every_point_inside_with_margin(margin):
    frame = make_frame(**OUTSIDE_FRAME)
    out, t = apply_canvas_mode(frame, "fit", margin=margin)
    assert (out.canvas_width, out.canvas_height) == (W, H) == (t.width, t.height)
    pts = present_points(out)
    assert len(pts) == len(present_points(frame))
    tol = 1e-6
    assert (pts[:, 0] >= margin * W - tol).all() and (pts[:, 0] <= W - 1 - margin * W + tol).all()
    assert (pts[:, 1] >= margin * H - tol).all() and (pts[:, 1] <= H - 1 - margin * H + tol).all()


def test_fit_is_a_uniform_scale_and_shift():
    frame = make_frame(**OUTSIDE_FRAME)
    out, t = apply_canvas_mode(frame, "fit")
    old, new = present_points(frame), present_points(out)
    # one scale for both axes, from the points themselves
    sx = (new[:, 0].max() - new[:, 0].min()) / (old[:, 0].max() - old[:, 0].min())
    sy = (new[:, 1].max() - new[:, 1].min()) / (old[:, 1].max() - old[:, 1].min())
    assert sx == pytest.approx(sy, rel=1e-9)
    assert 0 < sx < 1
    offset = new - old * sx
    np.testing.assert_allclose(offset, np.broadcast_to(offset[0], offset.shape), atol=1e-9)
    # every pairwise distance shrinks by the same factor: the aspect is preserved
    for i, j in itertools.combinations(range(len(old)), 2):
        assert np.linalg.norm(new[i] - new[j]) == pytest.approx(sx * np.linalg.norm(old[i] - old[j]), abs=1e-9)


@pytest.mark.parametrize("point", [(150, 80), (20, 20)])
def test_fit_moves_image_and_points_together(point):
    frame = make_frame(**OUTSIDE_FRAME)
    out, t = apply_canvas_mode(frame, "fit")
    index = INSIDE.index(point)
    moved = out.people[0].body[index, :2]
    warped = t.apply_to_image(blob_image(*point))
    assert warped.shape == (H, W, 3)
    cx, cy = centroid(warped)
    assert cx == pytest.approx(moved[0], abs=1.0) and cy == pytest.approx(moved[1], abs=1.0)


def test_fit_with_a_tall_pose_on_a_wide_canvas():
    frame = make_frame([(100, -400), (100, 500), (90, 50)])
    out, _ = apply_canvas_mode(frame, "fit")
    pts = present_points(out)
    assert (pts[:, 1] >= 0).all() and (pts[:, 1] <= H - 1).all()
    # the points were on one vertical line; they still are
    assert pts[0, 0] == pytest.approx(pts[1, 0])


# ------------------------------------------------------------------ expand
EXPAND_FRAME = dict(body_points=INSIDE + [(-30, 40), (100, 130)], hand_points=[(230.5, 20)])


def test_expand_grows_the_canvas_to_hold_every_point():
    frame = make_frame(**EXPAND_FRAME)
    out, t = apply_canvas_mode(frame, "expand")
    assert out.canvas_width >= W + 30 + 30 and out.canvas_height >= H + 30
    assert (out.canvas_width, out.canvas_height) == (t.width, t.height)
    pts = present_points(out)
    assert (pts >= 0).all()
    assert (pts[:, 0] <= out.canvas_width - 1).all() and (pts[:, 1] <= out.canvas_height - 1).all()
    # with some margin from the new edges
    assert pts[:, 0].min() >= 0.05 * H - 1e-9
    assert pts[:, 1].max() <= out.canvas_height - 1 - 0.05 * H + 1e-9


def test_expand_only_shifts_by_a_whole_pixel_offset():
    frame = make_frame(**EXPAND_FRAME)
    out, t = apply_canvas_mode(frame, "expand")
    assert t.scale == 1.0
    shift = present_points(out) - present_points(frame)
    np.testing.assert_array_equal(shift, np.broadcast_to([t.offset_x, t.offset_y], shift.shape))
    assert t.offset_x >= 30 and t.offset_y == 0   # grown to the left, not at the top
    assert float(t.offset_x).is_integer()


def test_expand_places_the_image_at_the_same_offset():
    frame = make_frame(**EXPAND_FRAME)
    out, t = apply_canvas_mode(frame, "expand")
    image = np.random.default_rng(1).integers(1, 255, (H, W, 3), dtype=np.uint8)
    grown = t.apply_to_image(image)
    assert grown.shape == (out.canvas_height, out.canvas_width, 3)
    ox, oy = int(t.offset_x), int(t.offset_y)
    np.testing.assert_array_equal(grown[oy:oy + H, ox:ox + W], image)
    mask = np.ones(grown.shape[:2], bool)
    mask[oy:oy + H, ox:ox + W] = False
    assert not grown[mask].any()   # new area is black


@pytest.mark.parametrize("point", [(150, 80), (60, 10)])
def test_expand_dot_lands_on_the_moved_point(point):
    frame = make_frame(**EXPAND_FRAME)
    out, t = apply_canvas_mode(frame, "expand")
    cx, cy = centroid(t.apply_to_image(blob_image(*point)))
    moved = out.people[0].body[INSIDE.index(point), :2]
    assert (cx, cy) == (pytest.approx(moved[0], abs=1e-6), pytest.approx(moved[1], abs=1e-6))


def test_expand_json_written_with_new_canvas_and_moved_points():
    doc = {"people": [{"pose_keypoints_2d": [v for x, y in INSIDE + [(-30, 40)] for v in (x, y, 1)] + [0] * 3 * 13}],
           "canvas_width": W, "canvas_height": H}
    frame = loads_frame(json.dumps(doc))
    out, t = apply_canvas_mode(frame, "expand")
    written = json.loads(dumps_frame(out))
    assert (written["canvas_width"], written["canvas_height"]) == (t.width, t.height)
    pts = written["people"][0]["pose_keypoints_2d"]
    for i, (x, y) in enumerate(INSIDE + [(-30, 40)]):
        assert pts[3 * i:3 * i + 3] == [x + t.offset_x, y + t.offset_y, 1]
    assert pts[3 * 6:] == [0] * 3 * 12


def test_fit_json_written_in_normalized_units_stays_in_range():
    pts = [(0.1, 0.1), (0.9, 0.8), (0.5, 1.4), (-0.2, 0.5)]
    doc = {"people": [{"pose_keypoints_2d": [v for x, y in pts for v in (x, y, 1.0)] + [0] * 3 * 14}],
           "canvas_width": W, "canvas_height": H}
    frame = loads_frame(json.dumps(doc))
    assert frame.normalized
    out, _ = apply_canvas_mode(frame, "fit")
    written = json.loads(dumps_frame(out))["people"][0]["pose_keypoints_2d"]
    xs, ys = written[0:12:3], written[1:12:3]
    assert all(0 <= v <= 1 for v in xs + ys)


def test_expand_is_capped_for_wild_points():
    frame = make_frame(INSIDE + [(1e7, -1e7)])
    out, t = apply_canvas_mode(frame, "expand")
    assert W < out.canvas_width <= 4 * W and H < out.canvas_height <= 4 * H


# ------------------------------------------------------------------ general
@pytest.mark.parametrize("mode", ["fit", "expand"])
def test_modes_do_not_modify_their_input(mode):
    frame = make_frame(**OUTSIDE_FRAME)
    before = frame.copy()
    apply_canvas_mode(frame, mode)
    np.testing.assert_array_equal(frame.people[0].body, before.people[0].body)
    np.testing.assert_array_equal(frame.people[0].hand_left, before.people[0].hand_left)
    assert (frame.canvas_width, frame.canvas_height) == (W, H)


def test_alternatives_move_with_the_body():
    frame = make_frame(**EXPAND_FRAME)
    alt = frame.people[0].body.copy()
    alt[10] = [-30, 40, 1.0]
    frame.people[0].alternatives = [alt]
    out, t = apply_canvas_mode(frame, "expand")
    np.testing.assert_array_equal(out.people[0].alternatives[0][10], [-30 + t.offset_x, 40 + t.offset_y, 1.0])


def test_transform_matches_apply():
    frame = make_frame(**OUTSIDE_FRAME)
    t = canvas_transform(frame, "fit")
    out = apply_transform(frame, t)
    np.testing.assert_allclose(out.people[0].body, t.apply_to_points(frame.people[0].body))


def test_unknown_mode_is_refused():
    with pytest.raises(SkelextError, match="canvas mode"):
        apply_canvas_mode(make_frame(INSIDE), "stretch")
