"""The "skelext" Gradio tab: inspect and edit completed skeletons (gradio 3.41 and 4.x).

The only module that imports gradio (inside the functions). The state lives in
Python (``edit_session.EditSession`` in a ``gr.State``); the browser script
``javascript/skelext.js`` makes the editor SVG (``editor_svg``) draggable and
reports drags and clicks as JSON ``{"action": "move", "person", "point", "x",
"y"}`` / ``{"action": "select", "person", "point"}`` written into the hidden
textbox ``#skelext_event`` followed by a click on the hidden button
``#skelext_event_btn`` (ControlNet's openpose-editor bridge). The elem_ids
below are the contract with that script and with the browser tests.

* WebUI: ``on_ui_tabs()`` returns ``[(blocks, "skelext", "skelext")]``; the
  WebUI injects ``javascript/skelext.js`` and ``style.css``.
Modules: ``view`` (outputs from a session), ``handlers`` (events), ``layout`` (Blocks, launch).

* Standalone: ``launch(host, port)`` (``python -m lib_skelext ui``) serves the
  same Blocks and injects the script and stylesheet itself.
"""
from __future__ import annotations

from .handlers import (
    MAX_JSON_BYTES, on_alternative, on_canvas_mode, on_event, on_recomplete, on_redo, on_reset, on_run,
    on_select_person, on_select_point, on_toggle_hidden, on_toggle_locked, on_undo, parse_event, point_index,
    read_pose_file, start_session, _guarded,
)
from .layout import (
    ENV_UI_AUTH, SCRIPT_PATH, STYLE_PATH, TAB_ID, TAB_TITLE, build_ui, launch, on_ui_tabs, standalone_js,
)
from .view import POINT_CHOICES, alternative_label, downloads_html, status_text, view

__all__ = ["build_ui", "launch", "on_ui_tabs", "start_session", "view", "status_text", "parse_event",
           "point_index", "read_pose_file", "alternative_label", "downloads_html", "standalone_js",
           "POINT_CHOICES", "MAX_JSON_BYTES", "SCRIPT_PATH", "STYLE_PATH", "TAB_ID", "TAB_TITLE", "ENV_UI_AUTH",
           "on_run", "on_event", "on_select_point", "on_select_person", "on_toggle_hidden", "on_toggle_locked",
           "on_recomplete", "on_undo", "on_redo", "on_reset", "on_alternative", "on_canvas_mode", "_guarded"]
