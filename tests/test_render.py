"""render.py against ControlNet's documented drawing (host-notes.md and the brief).

Every expected colour and position below is written from the documented table,
never read from render.py's constants:
* black canvas of canvas_width x canvas_height;
* per person: limbs are filled ellipses of half-width 4 in colour i, then the
  WHOLE canvas is multiplied by 0.6 (so limb pixels = int(colour * 0.6)), then
  joints are radius-4 circles in full colour i;
* hands: 2 px lines in HSV(i/20, 1, 1) * 255, joints radius-4 (0, 0, 255) dots;
* face: white radius-3 dots; hand/face points with x < 1 or y < 1 are not drawn.
"""
from __future__ import annotations

import colorsys
import math

import numpy as np
import pytest

from lib_skelext.pose import Person, PoseFrame, Source
from lib_skelext.render import render_frame, render_overlay, render_people

COLORS = [[255, 0, 0], [255, 85, 0], [255, 170, 0], [255, 255, 0], [170, 255, 0], [85, 255, 0], [0, 255, 0],
          [0, 255, 85], [0, 255, 170], [0, 255, 255], [0, 170, 255], [0, 85, 255], [0, 0, 255], [85, 0, 255],
          [170, 0, 255], [255, 0, 255], [255, 0, 170], [255, 0, 85]]
LIMBS_1BASED = [[2, 3], [2, 6], [3, 4], [4, 5], [6, 7], [7, 8], [2, 9], [9, 10], [10, 11], [2, 12], [12, 13],
                [13, 14], [2, 1], [1, 15], [15, 17], [1, 16], [16, 18]]
# OpenPose hand: wrist 0, then four points per finger.
HAND_EDGES = [[0, 1], [1, 2], [2, 3], [3, 4], [0, 5], [5, 6], [6, 7], [7, 8], [0, 9], [9, 10], [10, 11], [11, 12],
              [0, 13], [13, 14], [14, 15], [15, 16], [0, 17], [17, 18], [18, 19], [19, 20]]
BLACK = [0, 0, 0]
NECK, R_SHOULDER = 1, 2


def dim(color, times=1):
    out = list(color)
    for _ in range(times):
        out = [int(c * 0.6) for c in out]
    return out


def person_with(points, **parts):
    body = np.zeros((18, 3))
    for i, (x, y) in points.items():
        body[i] = [x, y, 1.0]
    return Person(body=body, **parts)


def render(people, width=120, height=100, **kw):
    return render_frame(PoseFrame(people=people, canvas_width=width, canvas_height=height), **kw)


def px(image, x, y):
    return image[y, x].tolist()


# ------------------------------------------------------------------ canvas
@pytest.mark.parametrize("width, height", [(37, 53), (200, 10), (1, 1)])
def test_canvas_is_black_and_sized_width_by_height(width, height):
    image = render([], width, height)
    assert image.shape == (height, width, 3)
    assert image.dtype == np.uint8
    assert not image.any()


def test_huge_canvas_is_refused_not_allocated():
    from lib_skelext.errors import SkelextError

    # 100000 x 100000 is a valid size in a file but would need ~30 GB to draw
    with pytest.raises(SkelextError, match="too large"):
        render([person_with({NECK: (10, 10)})], 100_000, 100_000)


def test_person_without_points_draws_nothing():
    assert not render([Person(body=np.zeros((18, 3)))]).any()


# ------------------------------------------------------------------ the brief's example
def test_neck_and_right_shoulder_example():
    image = render([person_with({NECK: (60, 50), R_SHOULDER: (30, 50)})])
    assert px(image, 45, 50) == dim(COLORS[0])          # limb middle: (153, 0, 0)
    assert px(image, 45, 50) == [153, 0, 0]
    assert px(image, 60, 50) == COLORS[NECK]            # neck joint centre: (255, 85, 0)
    assert px(image, 30, 50) == COLORS[R_SHOULDER]      # shoulder joint centre
    assert px(image, 45, 50 + 7) == BLACK               # just outside the ellipse (half-width 4)
    assert px(image, 45, 50 - 7) == BLACK
    assert px(image, 45, 50 + 3) == dim(COLORS[0])      # inside the half-width
    assert px(image, 60 + 4, 50 - 0) == COLORS[NECK]    # joint radius 4
    assert px(image, 60, 50 + 4) == COLORS[NECK]
    assert px(image, 60, 50 - 6) == BLACK
    assert px(image, 60 + 6, 50) == BLACK               # the limb ends at the joint
    assert px(image, 15, 50) == BLACK


def test_only_documented_colours_appear():
    image = render([person_with({NECK: (60, 50), R_SHOULDER: (30, 50)})])
    colours = {tuple(c) for c in image.reshape(-1, 3)}
    assert colours <= {tuple(BLACK), tuple(dim(COLORS[0])), tuple(COLORS[NECK]), tuple(COLORS[R_SHOULDER])}
    assert len(colours) == 4


def test_diagonal_limb_follows_its_direction():
    image = render([person_with({NECK: (30, 20), R_SHOULDER: (80, 70)})])
    limb = dim(COLORS[0])
    assert px(image, 55, 45) == limb                        # centre
    assert px(image, 65, 55) == limb                        # along the limb
    assert px(image, 45, 35) == limb
    # 8 px across the limb (direction (1, -1) / sqrt 2) is outside the half-width 4
    assert px(image, 55 + 6, 45 - 6) == BLACK
    assert px(image, 55 - 6, 45 + 6) == BLACK
    # a limb drawn along the other diagonal would light these
    assert px(image, 65, 35) == BLACK and px(image, 45, 55) == BLACK


@pytest.mark.parametrize("limb", range(17))
def test_each_limb_has_its_documented_colour(limb):
    a, b = LIMBS_1BASED[limb]
    image = render([person_with({a - 1: (20, 20), b - 1: (100, 80)})])
    assert px(image, 60, 50) == dim(COLORS[limb])
    assert px(image, 20, 20) == COLORS[a - 1]
    assert px(image, 100, 80) == COLORS[b - 1]


@pytest.mark.parametrize("joint", range(18))
def test_each_joint_has_its_documented_colour_and_radius(joint):
    image = render([person_with({joint: (50, 40)})])
    assert px(image, 50, 40) == COLORS[joint]
    for dx, dy in ((4, 0), (-4, 0), (0, 4), (0, -4), (2, 2)):
        assert px(image, 50 + dx, 40 + dy) == COLORS[joint]
    for dx, dy in ((6, 0), (-6, 0), (0, 6), (0, -6), (4, 4)):
        assert px(image, 50 + dx, 40 + dy) == BLACK
    assert np.count_nonzero(image.any(axis=2)) < 70   # a disc of radius 4 is ~49 px


def test_missing_point_draws_neither_joint_nor_limb():
    body = np.zeros((18, 3))
    body[NECK] = [60, 50, 1.0]
    body[R_SHOULDER] = [30, 50, 0.0]   # confidence 0: missing, its position ignored
    image = render([Person(body=body)])
    assert px(image, 45, 50) == BLACK
    assert px(image, 30, 50) == BLACK
    assert px(image, 60, 50) == COLORS[NECK]


def test_completed_points_render_like_detected_ones():
    body = np.zeros((18, 3))
    body[NECK] = [60, 50, 1.0]
    body[R_SHOULDER] = [30, 50, 0.2]   # a completed point with low model confidence
    source = np.zeros(18, np.uint8)
    source[NECK], source[R_SHOULDER] = Source.DETECTED, Source.COMPLETED
    image = render([Person(body=body, source=source)])
    assert px(image, 45, 50) == dim(COLORS[0])
    assert px(image, 30, 50) == COLORS[R_SHOULDER]


def test_joint_position_truncates_like_controlnet():
    # ControlNet draws at int(x), int(y)
    image = render([person_with({NECK: (50.9, 40.9)})])
    assert px(image, 50 - 4, 40) == COLORS[NECK]
    assert px(image, 50 + 5, 40) == BLACK


# ------------------------------------------------------------------ several people
def test_second_person_leaves_the_first_persons_drawing_as_it_was():
    """sd-webui-controlnet v1.1.455 annotator/openpose/util.py (and comfyui_controlnet_aux v1.1.5
    dwpose/util.py) fill each limb with its colour x 0.6 and never dim the canvas: a second person
    does not dim the first (an older ControlNet dimmed the whole canvas per person)."""
    first = person_with({NECK: (60, 30), R_SHOULDER: (30, 30)})
    second = person_with({NECK: (60, 75), R_SHOULDER: (30, 75)})
    image = render([first, second])
    assert px(image, 60, 30) == COLORS[NECK]
    assert px(image, 30, 30) == COLORS[R_SHOULDER]
    assert px(image, 45, 30) == dim(COLORS[0])
    assert px(image, 45, 30) == [153, 0, 0]
    # person 2 as if alone
    assert px(image, 60, 75) == COLORS[NECK]
    assert px(image, 45, 75) == dim(COLORS[0])


def test_three_people_are_drawn_alike():
    people = [person_with({NECK: (20 + 40 * k, 50)}) for k in range(3)]
    image = render(people, width=120)
    assert px(image, 20, 50) == px(image, 60, 50) == px(image, 100, 50) == COLORS[NECK]


def test_render_people_draws_on_a_copy_of_the_canvas():
    canvas = np.full((50, 60, 3), 200, np.uint8)
    out = render_people(canvas, [person_with({NECK: (30, 25)})])
    assert (canvas == 200).all()
    assert px(out, 30, 25) == COLORS[NECK]
    assert px(out, 5, 5) == [200, 200, 200]   # the background is left as it was


def test_multi_person_drawing_is_controlnets_own():
    """Two people with hands and a face: skelext's control image equals ControlNet's drawing of
    skelext's JSON (tests/host_readers.py, re-implemented from v1.1.455), pixel for pixel."""
    import json

    from host_readers import controlnet_draw
    from lib_skelext.openpose_json import dumps_frame

    hand = np.column_stack([np.linspace(20, 40, 21), np.linspace(60, 80, 21), np.ones(21)])
    face = np.column_stack([np.linspace(50, 70, 70), np.full(70, 20.0), np.ones(70)])
    first = person_with({NECK: (60, 30), R_SHOULDER: (30, 30)})
    first.hand_left, first.face = hand, face
    second = person_with({NECK: (65, 35), R_SHOULDER: (35, 70)})
    frame = PoseFrame([first, second], 120, 100)
    assert np.array_equal(render_frame(frame), controlnet_draw(json.loads(dumps_frame(frame))))


# ------------------------------------------------------------------ off canvas
@pytest.mark.parametrize("far", [-1e9, 1e12, -50.5, 5e5])
def test_off_canvas_points_do_not_crash(far):
    body = np.zeros((18, 3))
    body[:, 2] = 1.0
    body[:, 0] = np.linspace(-30, 150, 18)
    body[:, 1] = 40
    body[10] = [far, far, 1.0]
    body[13] = [60, far, 1.0]
    hand = np.tile([far, 50.0, 1.0], (21, 1))
    face = np.tile([50.0, far, 1.0], (70, 1))
    image = render([Person(body=body, hand_left=hand, hand_right=hand.copy(), face=face)], 120, 100)
    assert image.shape == (100, 120, 3)
    assert image.any()


def test_limb_partly_off_canvas_is_drawn_where_visible():
    image = render([person_with({NECK: (50, 50), R_SHOULDER: (-100, 50)})])
    assert px(image, 20, 50) == dim(COLORS[0])
    assert px(image, 0, 50) == dim(COLORS[0])
    assert px(image, 50, 50) == COLORS[NECK]


# ------------------------------------------------------------------ hands
def hand_with(points):
    hand = np.zeros((21, 3))
    for i, (x, y) in points.items():
        hand[i] = [x, y, 1.0]
    return hand


def expected_hand_edge_colour(edge):
    return [c * 255 for c in colorsys.hsv_to_rgb(edge / 20, 1.0, 1.0)]


@pytest.mark.parametrize("edge", range(20))
@pytest.mark.parametrize("side", ["hand_left", "hand_right"])
def test_hand_edge_colours_follow_hsv(edge, side):
    a, b = HAND_EDGES[edge]
    person = Person(body=np.zeros((18, 3)), **{side: hand_with({a: (20, 40), b: (100, 40)})})
    image = render([person])
    got = px(image, 60, 40)
    want = expected_hand_edge_colour(edge)
    assert max(abs(g - w) for g, w in zip(got, want)) <= 1, (got, want)
    # 2 px line: nothing 3 px away
    assert px(image, 60, 43) == BLACK and px(image, 60, 37) == BLACK
    # joints: radius-4 dots of (0, 0, 255)
    assert px(image, 20, 40) == [0, 0, 255]
    assert px(image, 100, 40 + 4) == [0, 0, 255]
    assert px(image, 100, 40 + 6) == BLACK


def test_hand_points_left_or_above_one_pixel_are_not_drawn():
    hand = hand_with({0: (0.5, 40), 1: (60, 40), 5: (60, 0.7), 6: (90, 80)})
    image = render([Person(body=np.zeros((18, 3)), hand_left=hand)])
    assert px(image, 30, 40) == BLACK        # edge 0 -> 1 has an end at x < 1
    assert px(image, 0, 40) == BLACK         # no dot at x < 1
    assert px(image, 60, 0) == BLACK         # no dot at y < 1
    assert px(image, 75, 40) == BLACK        # edge 5 -> 6 has an end at y < 1
    assert px(image, 60, 40) == [0, 0, 255]
    assert px(image, 90, 80) == [0, 0, 255]
    hand[0] = [1.0, 40, 1.0]                  # x = 1 is drawn
    image = render([Person(body=np.zeros((18, 3)), hand_left=hand)])
    assert px(image, 30, 40) != BLACK
    assert px(image, 1, 40) == [0, 0, 255]


def test_missing_hand_points_are_not_drawn():
    hand = hand_with({0: (20, 40), 1: (100, 40)})
    hand[1, 2] = 0.0
    image = render([Person(body=np.zeros((18, 3)), hand_right=hand)])
    assert px(image, 60, 40) == BLACK and px(image, 100, 40) == BLACK
    assert px(image, 20, 40) == [0, 0, 255]


def test_hands_are_not_dimmed_by_their_own_person():
    person = person_with({NECK: (60, 80)}, hand_left=hand_with({0: (20, 20), 1: (100, 20)}))
    image = render([person])
    assert px(image, 20, 20) == [0, 0, 255]
    assert max(abs(g - w) for g, w in zip(px(image, 60, 20), expected_hand_edge_colour(0))) <= 1


# ------------------------------------------------------------------ face
def test_face_points_are_white_radius_three_dots():
    face = np.zeros((70, 3))
    face[0] = [40, 40, 1.0]
    face[1] = [0.5, 20, 1.0]     # x < 1: not drawn
    face[2] = [80, 0.2, 1.0]     # y < 1: not drawn
    face[3] = [80, 60, 0.0]      # missing
    image = render([Person(body=np.zeros((18, 3)), face=face)])
    assert px(image, 40, 40) == [255, 255, 255]
    assert px(image, 43, 40) == [255, 255, 255] and px(image, 40, 37) == [255, 255, 255]
    assert px(image, 45, 40) == BLACK and px(image, 40, 45) == BLACK
    assert px(image, 0, 20) == BLACK and px(image, 80, 0) == BLACK and px(image, 80, 60) == BLACK
    assert np.count_nonzero(image.any(axis=2)) < 40   # one disc of radius 3 is ~29 px


def test_draw_flags():
    person = person_with({NECK: (60, 80)}, hand_left=hand_with({0: (20, 20), 1: (100, 20)}),
                         face=np.array([[40.0, 50.0, 1.0]] * 70))
    full = render([person])
    no_hands = render([person], draw_hands=False)
    no_face = render([person], draw_face=False)
    no_body = render([person], draw_body=False)
    assert px(no_hands, 20, 20) == BLACK and px(no_hands, 40, 50) == [255, 255, 255]
    assert px(no_face, 40, 50) == BLACK and px(no_face, 20, 20) == [0, 0, 255]
    assert px(no_body, 60, 80) == BLACK and px(no_body, 20, 20) == [0, 0, 255]
    assert px(full, 60, 80) == COLORS[NECK]


def test_render_does_not_modify_the_frame():
    person = person_with({NECK: (60, 50), R_SHOULDER: (30, 50)})
    frame = PoseFrame(people=[person], canvas_width=100, canvas_height=80)
    before = person.body.copy()
    render_frame(frame)
    np.testing.assert_array_equal(person.body, before)


# ------------------------------------------------------------------ preview overlay
def test_overlay_marks_completed_points_differently():
    image = np.full((100, 120, 3), 100, np.uint8)
    body = np.zeros((18, 3))
    body[NECK] = [40, 50, 1.0]
    body[R_SHOULDER] = [90, 50, 1.0]
    source = np.zeros(18, np.uint8)
    source[NECK], source[R_SHOULDER] = Source.DETECTED, Source.COMPLETED
    frame = PoseFrame(people=[Person(body=body, source=source)], canvas_width=120, canvas_height=100)
    out = render_overlay(image, frame)
    assert out.shape == image.shape and out.dtype == np.uint8
    assert px(out, 5, 5) == [65, 65, 65]                  # photo dimmed (alpha 0.65)
    assert px(out, 40, 50) == COLORS[NECK]                 # detected joint: solid dot
    ring = [out[50 + dy, 90 + dx].tolist() for dx, dy in ((5, 0), (-5, 0), (0, 5), (0, -5))]
    assert all(min(c) > 200 for c in ring)                 # completed joint: white ring
    assert px(out, 90, 50) != [255, 255, 255]              # hollow
