"""The Gradio tab built but never launched (gradio 3.41 in .venv, 4.x in .venv-forge), its handlers
called directly, the editor SVG, and the contract (elem_ids, classes) with javascript/skelext.js."""
from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

gr = pytest.importorskip("gradio")

from lib_skelext import ui  # noqa: E402
from lib_skelext.edit_session import EditSession  # noqa: E402
from lib_skelext.editor_svg import editor_html, view_box  # noqa: E402
from lib_skelext.errors import SkelextError  # noqa: E402
from lib_skelext.openpose_json import loads_frame  # noqa: E402
from lib_skelext.pose import R_ANKLE, R_KNEE, Person, PoseFrame, Source  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
WAIST_UP = ROOT / "examples" / "waist_up.json"
CONTRACT_IDS = {"skelext_event", "skelext_event_btn", "skelext_editor", "skelext_pose_file", "skelext_recomplete",
                "skelext_undo", "skelext_redo", "skelext_reset", "skelext_hide", "skelext_lock",
                "skelext_downloads", "skelext_alternative", "skelext_canvas_mode", "skelext_send_txt2img",
                "skelext_send_img2img", "skelext_send_unit", "skelext_status", "skelext_point", "skelext_person"}
(VIEW_STATE, VIEW_EDITOR, VIEW_OVERLAY, VIEW_CONTROL, VIEW_JSON, VIEW_DOWNLOADS, VIEW_STATUS, VIEW_PERSON,
 VIEW_POINT, VIEW_ALTS) = range(10)


def fake_complete(person: Person, width: float, height: float, *, alternatives: int = 1, fixed=None) -> Person:
    """Missing points go 50 px below the neck, spread by index; ankles 40 px below their knee."""
    out = person.copy()
    given = out.body[:, 2] > 0
    if fixed is not None:
        given |= np.asarray(fixed, bool)
    for i in np.flatnonzero(~given):
        out.body[i] = [out.body[1, 0] + 3 * i, out.body[1, 1] + 50 + 4 * i, 1.0]
    for knee, ankle in ((9, 10), (12, 13)):
        if not given[ankle]:
            out.body[ankle] = [out.body[knee, 0], out.body[knee, 1] + 40, 1.0]
    src = out.source.copy()
    src[~given] = Source.COMPLETED
    out.source = src
    out.completion_confidence = np.where(given, 1.0, 0.3)
    out.alternatives = [out.body + np.array([4.0, 0, 0]) * (~given)[:, None] for _ in range(alternatives - 1)]
    out.alternative_scores = [0.7] + [0.1] * (alternatives - 1)
    return out


@pytest.fixture
def fake_model(monkeypatch):
    import lib_skelext.complete as complete

    def complete_frames(frames, alternatives=1):
        return [PoseFrame([fake_complete(p, f.canvas_width, f.canvas_height, alternatives=alternatives)
                           for p in f.people], f.canvas_width, f.canvas_height, normalized=f.normalized)
                for f in frames]

    monkeypatch.setattr(complete, "complete_frames", complete_frames)
    monkeypatch.setattr(complete, "complete_person", fake_complete)


def elem_ids(demo) -> set:
    return {getattr(block, "elem_id", None) for block in demo.blocks.values()} - {None}


def test_build_ui_standalone_has_the_contract_elem_ids():
    demo = ui.build_ui(standalone=True)
    assert isinstance(demo, gr.Blocks)
    assert CONTRACT_IDS <= elem_ids(demo)
    hidden = [b for b in demo.blocks.values() if getattr(b, "elem_id", None) in ("skelext_event", "skelext_event_btn")]
    assert all("skelext-hidden" in (b.elem_classes or []) for b in hidden)


def test_on_ui_tabs_returns_one_webui_tab():
    tabs = ui.on_ui_tabs()
    assert len(tabs) == 1
    blocks, title, elem_id = tabs[0]
    assert isinstance(blocks, gr.Blocks) and title == "skelext" and elem_id == "skelext"
    send_row = [b for b in blocks.blocks.values() if getattr(b, "elem_id", None) == "skelext_send_row"][0]
    assert send_row.visible is not False


def test_script_and_stylesheet_match_the_contract():
    script = ui.SCRIPT_PATH.read_text()
    for name in ("skelext_event", "skelext_event_btn", "skelext-joint", "skelext-limb", "skelext-follow",
                 "data-person", "data-point", "data-anchor", "skelext_send_txt2img", ".cnet-unit-tab",
                 ".cnet-upload-pose input"):
        assert name in script, name
    assert "window.skelextEditor" in script
    assert ui.standalone_js().startswith("() => {")
    css = ui.STYLE_PATH.read_text()
    assert ".skelext-hidden" in css and "display: none" in css


def test_import_does_not_load_gradio():
    code = ("import sys, lib_skelext.ui, lib_skelext.edit_session, lib_skelext.editor_svg; "
            "print([m for m in ('gradio', 'torch', 'cv2', 'fastapi') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_cli_has_the_ui_command():
    from lib_skelext.cli import build_parser

    args = build_parser().parse_args(["ui", "--port", "7999"])
    assert args.command == "ui" and args.port == 7999 and args.host == "127.0.0.1"


@pytest.mark.parametrize("value", [str(WAIST_UP), SimpleNamespace(name=str(WAIST_UP)), {"path": str(WAIST_UP)},
                                   [str(WAIST_UP)]])
def test_read_pose_file_on_gradio_3_and_4_values(value):
    assert json.loads(ui.read_pose_file(value))["canvas_width"] == 270


def test_parse_event():
    assert ui.parse_event('{"action": "move", "person": 0, "point": 9, "x": 1.5, "y": 2}')["x"] == 1.5
    assert ui.parse_event('{"action": "select", "person": 1, "point": 3, "seq": 4}')["point"] == 3
    for bad in ("", "nope", "[]", '{"action": "drop", "person": 0, "point": 0}',
                '{"action": "move", "person": 0, "point": 1, "x": "1", "y": 2}',
                '{"action": "select", "person": true, "point": 1}', '{"action": "select", "person": 0}'):
        with pytest.raises(SkelextError):
            ui.parse_event(bad)


def test_run_drag_recomplete_undo_through_the_handlers(fake_model):
    run = ui._guarded(ui.on_run)
    out = run(None, None, None, str(WAIST_UP), "dwpose", "keep", 2)
    session = out[VIEW_STATE]
    assert isinstance(session, EditSession)
    assert 'data-point="9"' in out[VIEW_EDITOR] and "skelext-lowconf" in out[VIEW_EDITOR]  # confidence 0.3
    assert out[VIEW_CONTROL].shape == (205, 270, 3) and out[VIEW_OVERLAY].shape == (205, 270, 3)
    assert json.loads(out[VIEW_JSON])["canvas_width"] == 270
    assert "person 1 of 1" in out[VIEW_STATUS]
    knee = session.frame.people[0].body[R_KNEE].copy()

    event = json.dumps({"action": "move", "person": 0, "point": R_KNEE, "x": knee[0] - 20, "y": knee[1], "seq": 1})
    out = ui._guarded(ui.on_event)(session, None, event, False)
    assert "skelext-edited" in out[VIEW_EDITOR] and "moved right knee" in out[VIEW_STATUS]
    assert out[VIEW_POINT]["value"] == ui.POINT_CHOICES[R_KNEE]

    out = ui._guarded(ui.on_recomplete)(session, ui.POINT_CHOICES[R_KNEE], 2)
    session = out[VIEW_STATE]
    np.testing.assert_allclose(session.frame.people[0].body[R_ANKLE, :2], [knee[0] - 20, knee[1] + 40])
    href = re.search(r'class="skelext-download-json" download="skelext_pose.json" href="([^"]+)"',
                     out[VIEW_DOWNLOADS]).group(1)
    doc = json.loads(base64.b64decode(href.split(",", 1)[1]))
    assert doc["people"][0]["pose_keypoints_2d"][27:30] == [knee[0] - 20, knee[1], 1.0]
    assert 'class="skelext-download-png"' in out[VIEW_DOWNLOADS]

    out = ui._guarded(ui.on_undo)(session, None)
    assert "undone" in out[VIEW_STATUS]
    out = ui._guarded(ui.on_alternative)(session, None, ui.alternative_label(1, 0.1))
    assert "alternative 2 chosen" in out[VIEW_STATUS]
    assert out[VIEW_ALTS]["value"] == ui.alternative_label(1, 0.1)


@pytest.mark.filterwarnings("ignore::UserWarning")  # gr.Warning outside an event: a Python warning
def test_hide_lock_need_a_selected_point_and_errors_become_warnings(fake_model):
    session = ui.on_run(None, None, None, str(WAIST_UP), "dwpose", "keep", 1)[VIEW_STATE]
    out = ui._guarded(ui.on_toggle_hidden)(session, None)
    assert "select a body point first" in out[VIEW_STATUS]
    out = ui._guarded(ui.on_toggle_hidden)(session, ui.POINT_CHOICES[R_KNEE])
    assert "right knee hidden" in out[VIEW_STATUS] and "skelext-hidden" in out[VIEW_EDITOR]
    out = ui._guarded(ui.on_toggle_locked)(session, ui.POINT_CHOICES[R_KNEE])
    assert "right knee locked" in out[VIEW_STATUS] and "skelext-locked" in out[VIEW_EDITOR]
    out = ui._guarded(ui.on_event)(session, None, "not json", False)
    assert "bad editor event" in out[VIEW_STATUS]
    out = ui._guarded(ui.on_recomplete)(None, None, 1)
    assert "no pose to edit" in out[VIEW_STATUS]
    out = ui._guarded(ui.on_run)(None, None, None, None, "dwpose", "keep", 1)
    assert "upload a photo or a pose JSON" in out[VIEW_STATUS]


def test_canvas_mode_handler_and_photo_background(fake_model):
    photo = np.full((410, 540, 3), 90, np.uint8)  # twice the canvas: resized to it
    out = ui.on_run(None, None, photo, str(WAIST_UP), "dwpose", "keep", 1)
    session = out[VIEW_STATE]
    assert session.image.shape == (205, 270, 3)
    assert "<image href=\"data:image/jpeg;base64," in out[VIEW_EDITOR]
    out = ui._guarded(ui.on_canvas_mode)(session, None, "expand")
    assert out[VIEW_CONTROL].shape[0] > 205 and "canvas mode expand" in out[VIEW_STATUS]


def test_editor_svg_covers_points_beyond_the_canvas():
    frame = loads_frame(WAIST_UP.read_text())
    people = [fake_complete(p, 270, 205) for p in frame.people]
    people[0].body[R_ANKLE] = [150, 330, 1]  # below the 205 px canvas
    session = EditSession.start(PoseFrame(people, 270, 205))
    x, y, w, h = view_box(session)
    assert y + h > 330 and x <= 0 and y <= 0 and x + w >= 270
    html = editor_html(session, selected_point=R_KNEE)
    assert html.count('class="skelext-joint') == 18
    assert 'data-point="10"' in html and 'data-y="330"' in html
    assert "skelext-selected" in html and "skelext-legend" in html
    assert 'g class="skelext-follow skelext-face" data-person="0" data-anchor="0"' in html
    assert re.search(r'data-rev="\d+"', html)
    assert "skelext-empty" in editor_html(None)


def test_auto_recomplete_and_person_selection(fake_model, tmp_path):
    doc = json.loads(WAIST_UP.read_text())
    doc["people"].append(json.loads(json.dumps(doc["people"][0])))
    path = tmp_path / "two.json"
    path.write_text(json.dumps(doc))
    out = ui.on_run(None, None, None, str(path), "dwpose", "keep", 1)
    session = out[VIEW_STATE]
    assert out[VIEW_PERSON]["choices"] == ["Person 1", "Person 2"] and out[VIEW_PERSON]["value"] == "Person 1"
    out = ui._guarded(ui.on_select_person)(session, None, "Person 2")
    assert session.selected_person == 1 and "person 2 of 2" in out[VIEW_STATUS]
    knee = session.frame.people[0].body[R_KNEE]
    event = json.dumps({"action": "move", "person": 0, "point": R_KNEE, "x": float(knee[0] + 9), "y": float(knee[1])})
    out = ui._guarded(ui.on_event)(session, None, event, True)  # re-complete after the drag
    assert "and re-completed" in out[VIEW_STATUS] and session.selected_person == 0  # dragging selects
    np.testing.assert_allclose(session.frame.people[0].body[R_ANKLE, :2], [knee[0] + 9, knee[1] + 40])
    assert len(session.undo_stack) == 2
