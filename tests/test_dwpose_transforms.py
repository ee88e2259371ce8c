"""DWPose pre/post-processing, checked against hand-computed values."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from lib_skelext.dwpose import transforms as T


def test_letterbox_top_left_pad_114():
    img = np.full((100, 200, 3), 7, dtype=np.uint8)
    blob, ratio = T.letterbox(img)
    assert blob.shape == (3, 640, 640) and blob.dtype == np.float32
    assert ratio == pytest.approx(3.2)
    # resized to 640 x 320 at the top-left, raw 0..255 values, rest is 114
    assert (blob[:, :320, :] == 7).all()
    assert (blob[:, 320:, :] == 114).all()


def test_letterbox_keeps_channel_order_and_int_truncation():
    img = np.zeros((300, 7, 3), dtype=np.uint8)
    img[..., 0], img[..., 1], img[..., 2] = 10, 20, 30
    blob, ratio = T.letterbox(img)
    assert ratio == pytest.approx(640 / 300)
    w = int(7 * ratio)  # 14 columns (truncated, not rounded)
    assert list(blob[:, 0, 0]) == [10, 20, 30]
    assert (blob[:, :, w:] == 114).all() and (blob[:, :, w - 1] != 114).all()


def test_yolox_grids_layout():
    grid, stride = T.yolox_grids()
    assert grid.shape == (8400, 2) and stride.shape == (8400, 1)
    assert tuple(grid[1]) == (1, 0) and tuple(grid[80]) == (0, 1) and stride[0, 0] == 8
    assert tuple(grid[6400]) == (0, 0) and stride[6400, 0] == 16
    assert tuple(grid[-1]) == (19, 19) and stride[-1, 0] == 32


def test_yolox_decode_one_anchor():
    raw = np.zeros((1, 8400, 85), dtype=np.float32)
    idx = 6400 + 3 * 40 + 5  # stride 16, cell (5, 3)
    raw[0, idx, :5] = [0.5, 0.25, np.log(2.0), np.log(4.0), 0.8]
    raw[0, idx, 5] = 0.5
    boxes, scores = T.yolox_decode(raw)
    cx, cy, w, h = 5.5 * 16, 3.25 * 16, 32, 64
    np.testing.assert_allclose(boxes[idx], [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], atol=1e-5)
    assert scores[idx, 0] == pytest.approx(0.4)
    assert scores.shape == (8400, 80)


def test_nms_uses_plus_one_areas():
    # IoU with +1 areas: 100 / 220 = 0.4545 > 0.45 -> suppressed;
    # without the +1 it would be 81 / 189 = 0.43 and kept.
    boxes = np.array([[0, 0, 9, 9], [0, 0, 9, 21]], dtype=np.float64)
    assert T.nms(boxes, np.array([0.9, 0.8])) == [0]
    # best score first regardless of input order
    assert T.nms(boxes, np.array([0.7, 0.8])) == [1]
    far = np.array([[0, 0, 9, 9], [50, 50, 60, 60]], dtype=np.float64)
    assert T.nms(far, np.array([0.5, 0.9])) == [1, 0]


def test_multiclass_nms_and_person_filter():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [0, 0, 10, 10], [20, 20, 30, 30]], dtype=np.float64)
    scores = np.zeros((4, 80))
    scores[0, 0], scores[1, 0] = 0.9, 0.8   # overlapping people: one kept
    scores[2, 2] = 0.95                      # a car at the same place: kept in its class
    scores[3, 0] = 0.25                      # weak person: kept by NMS (> 0.1), dropped later (< 0.3)
    dets = T.multiclass_nms(boxes, scores)
    assert [(int(d[5]), round(d[4], 2)) for d in dets] == [(0, 0.9), (0, 0.25), (2, 0.95)]
    keep = (dets[:, 4] > 0.3) & (dets[:, 5] == 0)
    np.testing.assert_array_equal(dets[keep, :4], [[0, 0, 10, 10]])
    assert T.multiclass_nms(boxes, np.zeros((4, 80))).shape == (0, 6)


def test_box_center_scale_and_aspect():
    c, s = T.box_center_scale(np.array([[10, 20, 50, 100]]))
    np.testing.assert_allclose(c, [[30, 60]])
    np.testing.assert_allclose(s, [[50, 100]])
    # tall box: width grows to h * 0.75
    np.testing.assert_allclose(T.fix_aspect_ratio(s, 288 / 384), [[75, 100]])
    # wide box: height grows to w / 0.75
    np.testing.assert_allclose(T.fix_aspect_ratio(np.array([[300, 100]]), 0.75), [[300, 400]])


def _three_point_matrix(center, scale, out_wh):
    """The mmpose construction (centre, a point above it, a third at 90 degrees)."""
    def third(a, b):
        d = a - b
        return b + np.array([-d[1], d[0]])
    src = np.zeros((3, 2), np.float32)
    dst = np.zeros((3, 2), np.float32)
    src[0] = center
    src[1] = center + np.array([0.0, -scale[0] * 0.5])
    src[2] = third(src[0], src[1])
    dst[0] = [out_wh[0] * 0.5, out_wh[1] * 0.5]
    dst[1] = dst[0] + np.array([0.0, -out_wh[0] * 0.5])
    dst[2] = third(dst[0], dst[1])
    return cv2.getAffineTransform(src, dst)


@pytest.mark.parametrize("center,scale", [((140.0, 120.0), (150.0, 200.0)), ((33.3, 401.7), (612.0, 816.0))])
def test_crop_matrix_matches_three_point_affine(center, scale):
    m = T.crop_matrix(np.array(center), np.array(scale), (288, 384))
    np.testing.assert_allclose(m, _three_point_matrix(np.array(center), np.array(scale), (288, 384)), atol=1e-3)


def test_crop_person_moves_a_dot_where_expected():
    img = np.zeros((500, 600, 3), dtype=np.uint8)
    img[250, 300] = 255
    # scale 2x: crop 288x384 covers 144x192 image pixels around (300, 250)
    crop = T.crop_person(img, np.array([300.0, 250.0]), np.array([144.0, 192.0]))
    assert crop.shape == (384, 288, 3) and crop.dtype == np.uint8
    ys, xs = np.nonzero(crop[..., 0] == crop[..., 0].max())
    # image (300, 250) -> crop centre (144, 192); bilinear spreads the dot over 2x2 pixels
    assert 143 <= xs.min() and xs.max() <= 145 and 191 <= ys.min() and ys.max() <= 193


def test_normalize_crops():
    crop = np.zeros((384, 288, 3), dtype=np.uint8)
    crop[..., 1] = 255
    out = T.normalize_crops([crop, crop])
    assert out.shape == (2, 3, 384, 288) and out.dtype == np.float32
    assert out[0, 0, 0, 0] == pytest.approx(-123.675 / 58.395, rel=1e-6)
    assert out[1, 1, 5, 5] == pytest.approx((255 - 116.28) / 57.12, rel=1e-6)


def test_simcc_decode():
    sx = np.zeros((2, 3, 576), np.float32)
    sy = np.zeros((2, 3, 768), np.float32)
    sx[0, 0, 101], sy[0, 0, 50] = 0.9, 0.6   # score = min = 0.6
    sx[0, 1, 0], sy[0, 1, 767] = 0.2, 0.8
    sx[1, 2, 575], sy[1, 2, 1] = 1.5, 1.5
    locs, scores = T.simcc_decode(sx, sy)
    np.testing.assert_allclose(locs[0, 0], [50.5, 25.0])
    np.testing.assert_allclose(locs[0, 1], [0.0, 383.5])
    np.testing.assert_allclose(locs[1, 2], [287.5, 0.5])
    np.testing.assert_allclose(scores[0, :2], [0.6, 0.2], rtol=1e-6)
    # all-zero rows: score 0 -> location -1 (divided by the split ratio, as the reference)
    np.testing.assert_allclose(locs[0, 2], [-0.5, -0.5])
    assert scores[0, 2] == 0


def test_simcc_to_image():
    locs = np.array([[[0.0, 0.0], [144.0, 192.0], [288.0, 384.0]]])
    xy = T.simcc_to_image(locs, np.array([[100.0, 200.0]]), np.array([[150.0, 200.0]]))
    np.testing.assert_allclose(xy[0], [[25, 100], [100, 200], [175, 300]])


def test_pose_inputs_shapes():
    img = np.zeros((480, 640, 3), np.uint8)
    batch, c, s = T.pose_inputs(img, np.array([[10, 10, 110, 210], [300, 100, 400, 150]]))
    assert batch.shape == (2, 3, 384, 288)
    np.testing.assert_allclose(c, [[60, 110], [350, 125]])
    np.testing.assert_allclose(s, [[187.5, 250], [125, 125 / 0.75]])


def test_person_boxes_none_vs_empty():
    raw = np.zeros((8400, 85), np.float32)
    assert T.person_boxes(raw, 1.0) is None                  # nothing at all
    raw[8000, :5] = [0.5, 0.5, 0.0, 0.0, 0.9]
    raw[8000, 5 + 2] = 0.9                                   # a car only
    boxes = T.person_boxes(raw, 0.5)
    assert boxes is not None and boxes.shape == (0, 4)
    raw[8001, :5] = [0.5, 0.5, np.log(2), np.log(3), 0.9]
    raw[8001, 5] = 0.9                                       # a person, cell (1, 0) of stride 32
    boxes = T.person_boxes(raw, 0.5)
    # centre (48, 16), size 64 x 96 in letterbox pixels -> divided by the ratio 0.5
    np.testing.assert_allclose(boxes, [[32, -64, 160, 128]], atol=1e-4)
