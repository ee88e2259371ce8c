"""EditSession: the editor's state, edits, re-completion and undo/redo, without gradio or a browser.

Re-completion runs with a fake completer (deterministic, records its input) so
these tests do not depend on the trained model; one test at the end uses the
real model when it is shipped.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lib_skelext.edit_session import EditSession
from lib_skelext.errors import SkelextError
from lib_skelext.openpose_json import loads_frame
from lib_skelext.pose import (L_ANKLE, L_KNEE, N_BODY, NECK, NOSE, R_ANKLE, R_HIP, R_KNEE, R_WRIST, Person,
                              PoseFrame, Source)

ROOT = Path(__file__).resolve().parents[1]
WAIST_UP = ROOT / "examples" / "waist_up.json"
LEGS = (R_KNEE, R_ANKLE, L_KNEE, L_ANKLE)


class FakeCompleter:
    """Fills each missing point at (its given hip-or-neck x + 10 * i, 300 + 5 * i); a missing ankle goes
    40 px below its knee when the knee is given, so a moved knee moves the ankle. Records its calls."""

    def __init__(self) -> None:
        self.calls = []

    def __call__(self, person: Person, width: float, height: float, *, alternatives: int = 1,
                 fixed=None) -> Person:
        self.calls.append({"body": person.body.copy(), "size": (width, height), "alternatives": alternatives,
                           "fixed": None if fixed is None else np.asarray(fixed).copy()})
        out = person.copy()
        given = out.body[:, 2] > 0
        if fixed is not None:
            given |= np.asarray(fixed, bool)
        anchor = out.body[NECK, 0] if given[NECK] else 100.0
        for i in np.flatnonzero(~given):
            out.body[i] = [anchor + 10 * i, 300 + 5 * i, 1.0]
        for knee, ankle in ((R_KNEE, R_ANKLE), (L_KNEE, L_ANKLE)):
            if not given[ankle]:
                out.body[ankle] = [out.body[knee, 0], out.body[knee, 1] + 40, 1.0]
        src = out.source.copy()
        src[~given] = Source.COMPLETED
        out.source = src
        out.completion_confidence = np.where(given, 1.0, 0.8)
        out.alternatives = [out.body + np.array([5.0 * (k + 1), 0.0, 0.0]) * (~given)[:, None]
                            for k in range(alternatives - 1)]
        out.alternative_scores = [0.6] + [0.2 / (k + 1) for k in range(alternatives - 1)]
        return out


def waist_up_session(alternatives: int = 3, canvas_mode: str = "keep", image=None):
    completer = FakeCompleter()
    frame = loads_frame(WAIST_UP.read_text())
    completed = PoseFrame([completer(p, frame.canvas_width, frame.canvas_height, alternatives=alternatives)
                           for p in frame.people], frame.canvas_width, frame.canvas_height)
    completer.calls.clear()
    session = EditSession.start(completed, image, canvas_mode=canvas_mode, alternatives=alternatives,
                                completer=completer)
    return session, completer


def body(session, p=0):
    return session.frame.people[p].body


def test_start_keeps_the_completed_frame_and_its_alternatives():
    session, _ = waist_up_session()
    assert session.summary()["people"] == 1
    person = session.frame.people[0]
    assert all(person.source[i] == Source.COMPLETED for i in LEGS)
    assert [i for i, _ in session.alternative_choices()] == [0, 1, 2]
    assert session.chosen_alternative() == 0
    assert not session.can_undo and not session.can_redo


def test_move_point_marks_edited_and_moves_the_hand_with_the_wrist():
    session, _ = waist_up_session()
    hand_before = session.frame.people[0].hand_right.copy()
    wrist = body(session)[R_WRIST].copy()
    assert session.move_point(0, R_WRIST, wrist[0] + 12, wrist[1] - 7)
    person = session.frame.people[0]
    assert person.source[R_WRIST] == Source.EDITED
    np.testing.assert_allclose(person.body[R_WRIST], [wrist[0] + 12, wrist[1] - 7, 1.0])
    present = hand_before[:, 2] > 0
    np.testing.assert_allclose(person.hand_right[present, :2], hand_before[present, :2] + [12, -7])
    assert session.edited(0)[R_WRIST] and session.fixed(0)[R_WRIST]


def test_moving_the_nose_moves_the_face_only():
    session, _ = waist_up_session()
    face = session.frame.people[0].face.copy()
    hand = session.frame.people[0].hand_left
    nose = body(session)[NOSE]
    session.move_point(0, NOSE, nose[0] - 3, nose[1] + 4)
    np.testing.assert_allclose(session.frame.people[0].face[:, :2], face[:, :2] + [-3, 4])
    if hand is not None:
        np.testing.assert_array_equal(session.frame.people[0].hand_left, hand)


def test_move_to_the_same_place_changes_nothing():
    session, _ = waist_up_session()
    x, y = body(session)[R_HIP, :2]
    assert not session.move_point(0, R_HIP, x, y)
    assert not session.can_undo


@pytest.mark.parametrize("args", [(1, 0, 1, 1), (0, 18, 1, 1), (0, -1, 1, 1), (0, True, 1, 1),
                                  (0, 0, float("nan"), 1), (0, 0, 1e9, 1), (0, 0, "a", 1)])
def test_bad_moves_raise_skelext_error(args):
    session, _ = waist_up_session()
    with pytest.raises(SkelextError):
        session.move_point(*args)
    assert not session.can_undo


def test_recomplete_uses_detected_edited_and_locked_points_as_input():
    session, completer = waist_up_session(alternatives=2)
    knee = body(session)[R_KNEE].copy()
    session.move_point(0, R_KNEE, knee[0] - 30, knee[1] - 10)
    session.toggle_locked(0, L_KNEE)
    session.recomplete()
    call = completer.calls[-1]
    assert call["size"] == (270, 205) and call["alternatives"] == 2
    given = call["body"][:, 2] > 0
    # Completed points that are neither edited nor locked are not given; edited/locked ones are.
    assert given[R_KNEE] and given[L_KNEE] and not given[R_ANKLE] and not given[L_ANKLE]
    assert call["fixed"][R_KNEE] and call["fixed"][L_KNEE] and not call["fixed"][NECK]
    person = session.frame.people[0]
    # The ankle followed the edited knee; the knee stays edited, the ankle completed.
    np.testing.assert_allclose(person.body[R_ANKLE, :2], [knee[0] - 30, knee[1] - 10 + 40])
    assert person.source[R_KNEE] == Source.EDITED and person.source[R_ANKLE] == Source.COMPLETED
    assert person.source[L_KNEE] == Source.COMPLETED and session.locked[0, L_KNEE]
    assert session.chosen_alternative() == 0 and len(session.alternative_choices()) == 2


def test_hidden_points_leave_input_and_output_and_come_back():
    session, completer = waist_up_session()
    neck = body(session)[NECK].copy()
    assert session.toggle_hidden(0, NECK) is True
    out = session.output_frame().people[0]
    assert out.body[NECK, 2] == 0 and out.source[NECK] == Source.MISSING
    assert '"pose_keypoints_2d"' in session.to_json()
    session.recomplete()
    assert completer.calls[-1]["body"][NECK, 2] == 0  # not given to the model
    assert session.hidden[0, NECK]
    assert session.toggle_hidden(0, NECK) is False
    assert session.output_frame().people[0].body[NECK, 2] > 0
    assert session.frame.people[0].source[NECK] == Source.COMPLETED  # the model's guess while it was hidden
    assert neck[2] > 0 and np.isfinite(body(session)[NECK]).all()


def test_hiding_a_missing_point_is_refused():
    frame = loads_frame(WAIST_UP.read_text())
    session = EditSession.start(frame, completer=FakeCompleter())  # not completed: legs missing
    with pytest.raises(SkelextError):
        session.toggle_hidden(0, R_ANKLE)


def test_undo_redo_and_reset():
    session, _ = waist_up_session()
    start = body(session).copy()
    session.move_point(0, R_KNEE, 10, 10)
    moved = body(session).copy()
    session.recomplete()
    recompleted = body(session).copy()
    assert session.undo() and np.array_equal(body(session), moved)
    assert session.undo() and np.array_equal(body(session), start)
    assert not session.undo()
    assert session.redo() and np.array_equal(body(session), moved)
    assert session.redo() and np.array_equal(body(session), recompleted)
    assert not session.redo()
    session.undo()
    session.toggle_locked(0, NOSE)  # a new edit clears redo
    assert not session.can_redo
    session.reset()
    assert np.array_equal(body(session), start) and not session.locked.any()
    assert session.undo() and session.locked[0, NOSE]  # reset itself is undoable


def test_choose_alternative_replaces_only_completed_unlocked_points():
    session, _ = waist_up_session(alternatives=3)
    session.toggle_locked(0, L_ANKLE)
    before = body(session).copy()
    assert session.choose_alternative(1)
    after = body(session)
    assert after[R_ANKLE, 0] == before[R_ANKLE, 0] + 5  # completed -> alternative 1
    assert np.array_equal(after[L_ANKLE], before[L_ANKLE])  # locked
    assert np.array_equal(after[NECK], before[NECK])  # detected
    assert not session.choose_alternative(1)  # already chosen: no new undo step
    with pytest.raises(SkelextError):
        session.choose_alternative(3)
    session.undo()
    assert np.array_equal(body(session), before) and session.chosen_alternative() == 0


def test_canvas_modes_keep_edits_and_warp_the_image():
    image = np.full((205, 270, 3), 200, np.uint8)
    session, completer = waist_up_session(image=image)
    session.move_point(0, R_KNEE, 150, 250)
    assert session.set_canvas_mode("expand")
    w, h = session.frame.canvas_width, session.frame.canvas_height
    assert h > 205 and session.image.shape == (h, w, 3)
    t = session.state.transform
    np.testing.assert_allclose(body(session)[R_KNEE, :2], [150 * t.scale + t.offset_x, 250 * t.scale + t.offset_y])
    assert session.frame.people[0].source[R_KNEE] == Source.EDITED
    # Re-completion works on the original canvas, whatever the mode.
    session.recomplete()
    assert completer.calls[-1]["size"] == (270, 205)
    np.testing.assert_allclose(completer.calls[-1]["body"][R_KNEE, :2], [150, 250], atol=1e-9)
    assert session.set_canvas_mode("fit") and (session.frame.canvas_width, session.frame.canvas_height) == (270, 205)
    assert not session.set_canvas_mode("fit")
    session.undo()
    session.undo()
    assert session.canvas_mode == "expand"
    with pytest.raises(SkelextError):
        session.set_canvas_mode("stretch")


def test_start_in_fit_mode_and_select_person():
    frame = loads_frame(WAIST_UP.read_text())
    two = PoseFrame([frame.people[0].copy(), frame.people[0].copy()], frame.canvas_width, frame.canvas_height)
    completer = FakeCompleter()
    two = PoseFrame([completer(p, 270, 205) for p in two.people], 270, 205)
    session = EditSession.start(two, canvas_mode="fit", completer=completer)
    assert session.canvas_mode == "fit" and session.image is None
    assert session.select_person(1) and session.selected_person == 1 and not session.can_undo
    session.recomplete()
    assert len(completer.calls) == 3  # only the selected person
    with pytest.raises(SkelextError):
        session.select_person(2)
    session.move_point(0, NOSE, 100, 50)
    assert session.selected_person == 0  # dragging selects the person


def test_output_json_holds_edits_in_the_input_units():
    session, _ = waist_up_session()
    session.move_point(0, R_KNEE, 111.5, 222.25)
    doc = loads_frame(session.to_json())
    np.testing.assert_allclose(doc.people[0].body[R_KNEE], [111.5, 222.25, 1.0])
    assert doc.canvas_width == 270 and not doc.normalized


def test_real_model_recomplete_follows_the_knee():
    import os

    models = list((ROOT / "models").glob("*.safetensors"))
    if not models and not os.environ.get("SKELEXT_COMPLETION_MODEL"):
        pytest.skip("no shipped completion model in models/ yet")
    from lib_skelext.complete import complete_frame

    frame = complete_frame(loads_frame(WAIST_UP.read_text()), alternatives=2)
    session = EditSession.start(frame, alternatives=2)
    knee, ankle = body(session)[R_KNEE].copy(), body(session)[R_ANKLE].copy()
    session.move_point(0, R_KNEE, knee[0] - 30, knee[1])
    session.recomplete()
    new_ankle = body(session)[R_ANKLE]
    assert new_ankle[0] < ankle[0]  # the ankle moved the same way as the knee
    assert body(session)[R_KNEE, 0] == knee[0] - 30
    assert all(session.frame.people[0].source[i] == Source.COMPLETED for i in (R_ANKLE, L_KNEE, L_ANKLE))
    assert N_BODY == 18
