"""The core's steps on poses: points beyond the canvas are missing, points on its edge are kept."""
from __future__ import annotations

import numpy as np

from hosts import WAIST_UP_NORM
from lib_skelext.core import complete_pose, complete_poses
from lib_skelext.pose import L_ANKLE, N_BODY, R_ANKLE, R_WRIST, Person, PoseFrame, Source
from lib_skelext.settings import PipelineSettings

W, H = 400, 300


def waist_up() -> Person:
    body = np.zeros((N_BODY, 3))
    for index, (x, y) in WAIST_UP_NORM.items():
        body[index] = (x * W, y * H, 1.0)
    return Person(body=body)


def test_points_on_the_edge_stay_points_beyond_it_are_completed():
    person = waist_up()
    person.body[R_WRIST] = (W, 0.77 * H, 1.0)  # exactly on the right edge: visible (a 0..1 pose's 1.0)
    person.body[R_ANKLE] = (0.5 * W, H + 0.5, 1.0)  # just beyond the bottom edge: treated as missing
    result = complete_pose(PoseFrame([person], W, H))
    out = result.frame.people[0]
    np.testing.assert_array_equal(out.body[R_WRIST], person.body[R_WRIST])
    assert out.source[R_WRIST] == Source.DETECTED
    assert out.source[R_ANKLE] == Source.COMPLETED and out.source[L_ANKLE] == Source.COMPLETED
    plain = complete_pose(PoseFrame([person], W, H), PipelineSettings(complete=False))
    np.testing.assert_array_equal(plain.frame.people[0].body, person.body)  # plain: exactly as given


def test_batch_equals_one_by_one():
    frames = [PoseFrame([waist_up()], W, H), PoseFrame([], W, H), PoseFrame([waist_up(), waist_up()], 640, 480)]
    batch = complete_poses(frames)
    for frame, result in zip(frames, batch):
        single = complete_pose(frame)
        assert len(result.frame.people) == len(frame.people)
        for a, b in zip(result.frame.people, single.frame.people):
            np.testing.assert_allclose(a.body, b.body, atol=1e-3)  # BLAS batch vs one row: float noise
