"""The tab's layout: the Blocks, its elem_ids (the contract with ``javascript/skelext.js`` and the
browser tests) and its wiring to the handlers; the WebUI tab and the standalone launch."""
from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any, Callable, Dict, Optional

from ..assets import asset_path
from ..settings import OPTIONS
from . import handlers
from .handlers import (
    _guarded, on_alternative, on_canvas_mode, on_event, on_recomplete, on_redo, on_reset, on_run,
    on_select_person, on_select_point, on_toggle_hidden, on_toggle_locked, on_undo,
)
from .view import POINT_CHOICES, gradio_major

if TYPE_CHECKING:  # pragma: no cover
    import gradio as gr

logger = logging.getLogger(__name__)

SCRIPT_PATH = asset_path("javascript/skelext.js")
STYLE_PATH = asset_path("style.css")
TAB_TITLE = "skelext"
TAB_ID = "skelext"


def _event_kwargs(js: str) -> dict:
    return {"_js": js} if gradio_major() < 4 else {"js": js}


def standalone_js() -> str:
    """The browser script as a gradio load-event function (standalone mode only)."""
    return "() => {\n" + SCRIPT_PATH.read_text(encoding="utf-8") + "\n}"


def build_ui(standalone: bool = False) -> "gr.Blocks":
    """Build the skelext Blocks (not launched). standalone=True adds the script and stylesheet,
    which the WebUI injects by itself, and hides the WebUI-only "send to ControlNet" row."""
    import gradio as gr

    css = STYLE_PATH.read_text(encoding="utf-8") if standalone and STYLE_PATH.is_file() else None
    with gr.Blocks(analytics_enabled=False, css=css, title="skelext") as demo:
        session = gr.State(None)
        with gr.Row(elem_id="skelext_main"):
            with gr.Column(scale=1, min_width=280):
                photo = gr.Image(label="Photo", type="numpy", elem_id="skelext_photo")
                pose_file = gr.File(label="…or a pose JSON (OpenPose / ControlNet)", file_types=[".json"],
                                    elem_id="skelext_pose_file")
                det, canvas, alts = OPTIONS["detector"], OPTIONS["canvas"], OPTIONS["alternatives"]
                detector = gr.Dropdown(list(det.choices), value=det.default, label=det.label,
                                       elem_id="skelext_detector")
                canvas_mode = gr.Radio(list(canvas.choices), value=canvas.default, label=canvas.label,
                                       info=canvas.help, elem_id="skelext_canvas_mode")
                # the tab starts at 3 (it is there to compare alternatives); range and step from the schema
                alternatives = gr.Slider(alts.minimum, alts.maximum, value=3, step=alts.step, label=alts.label,
                                         elem_id="skelext_alternatives")
                run = gr.Button("Run", variant="primary", elem_id="skelext_run")
            with gr.Column(scale=2):
                editor = gr.HTML(value=_empty_editor(), elem_id="skelext_editor")
                status = gr.Markdown("No pose yet.", elem_id="skelext_status")
                with gr.Row():
                    person = gr.Dropdown([], label="Person", elem_id="skelext_person")
                    point = gr.Dropdown(POINT_CHOICES, label="Body point", elem_id="skelext_point")
                with gr.Row():
                    hide = gr.Button("Hide / show point", elem_id="skelext_hide")
                    lock = gr.Button("Lock / unlock point", elem_id="skelext_lock")
                    recomplete = gr.Button("Re-complete", variant="primary", elem_id="skelext_recomplete")
                    auto = gr.Checkbox(False, label="Re-complete after each drag", elem_id="skelext_auto")
                with gr.Row():
                    undo = gr.Button("Undo", elem_id="skelext_undo")
                    redo = gr.Button("Redo", elem_id="skelext_redo")
                    reset = gr.Button("Reset", elem_id="skelext_reset")
                alternative = gr.Radio([], label="Alternatives from the model", elem_id="skelext_alternative")
                downloads = gr.HTML("", elem_id="skelext_downloads")
                with gr.Row(visible=not standalone, elem_id="skelext_send_row"):
                    gr.Number(0, label="ControlNet unit", precision=0, elem_id="skelext_send_unit")
                    gr.Button("Send to txt2img ControlNet", elem_id="skelext_send_txt2img")
                    gr.Button("Send to img2img ControlNet", elem_id="skelext_send_img2img")
        with gr.Row():
            overlay = gr.Image(label="Photo with skeleton", interactive=False, elem_id="skelext_overlay")
            control = gr.Image(label="Control image (as ControlNet gets it)", interactive=False,
                               elem_id="skelext_control")
        with gr.Accordion("Pose JSON", open=False, elem_id="skelext_json_accordion"):
            json_code = gr.Code(label="Pose JSON", language="json", elem_id="skelext_json")
        event_box = gr.Textbox(label="editor event", elem_id="skelext_event", elem_classes=["skelext-hidden"])
        event_button = gr.Button("apply editor event", elem_id="skelext_event_btn",
                                 elem_classes=["skelext-hidden"])

        # api_name=False: these are UI events, not an API (and gradio 4 cannot describe gr.State
        # under recent pydantic 2 releases).
        outputs = [session, editor, overlay, control, json_code, downloads, status, person, point, alternative]
        base = [session, point]
        run_inputs = base + [photo, pose_file, detector, canvas_mode, alternatives]
        for listener, handler, inputs in (
                (run.click, on_run, run_inputs),
                (pose_file.upload, on_run, run_inputs),
                (event_button.click, on_event, base + [event_box, auto]),
                (point.input, on_select_point, base),
                (person.input, on_select_person, base + [person]),
                (hide.click, on_toggle_hidden, base),
                (lock.click, on_toggle_locked, base),
                (recomplete.click, on_recomplete, base + [alternatives]),
                (undo.click, on_undo, base),
                (redo.click, on_redo, base),
                (reset.click, on_reset, base),
                (alternative.input, on_alternative, base + [alternative]),
                (canvas_mode.input, on_canvas_mode, base + [canvas_mode])):
            # .input, not .change/.select: gradio 4 fires those on programmatic updates too.
            listener(_guarded(handler), inputs, outputs, api_name=False)
        if standalone:
            demo.load(None, None, None, **_event_kwargs(standalone_js()))
    return demo


def _empty_editor() -> str:
    from ..editor_svg import editor_html

    return editor_html(None)


def on_ui_tabs(location: Optional[Callable[[], Any]] = None,
               draw_options: Optional[Callable[[], Dict[str, Any]]] = None) -> list:
    """WebUI ``script_callbacks.on_ui_tabs`` callback: ``[(blocks, "skelext", "skelext")]``.

    location: the WebUI's ``DetectorLocation`` provider (the preprocessor's folders and device);
    draw_options: its drawing options (``draw_hands``, ``draw_face``), read at each Run."""
    if location is not None:
        handlers.detector_location = location
    if draw_options is not None:
        handlers.draw_options = draw_options
    return [(build_ui(standalone=False), TAB_TITLE, TAB_ID)]


ENV_UI_AUTH = "SKELEXT_UI_AUTH"


def launch(host: str = "127.0.0.1", port: int = 7861, auth: Optional[str] = None) -> None:
    """Serve the standalone UI (blocks until interrupted). auth: "user:pass[,user:pass]" asks for a login."""
    from ..api.auth import parse_credentials

    credentials = parse_credentials(auth)  # SkelextError for a malformed value, before anything starts
    if not credentials and host not in ("127.0.0.1", "localhost", "::1"):
        logger.warning("serving the UI on %s without --auth: anyone who can reach this port can use it", host)
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    demo = build_ui(standalone=True)
    demo.queue()
    logger.info("skelext UI on http://%s:%d", host, port)
    demo.launch(server_name=host, server_port=int(port), share=False, inbrowser=False, show_api=False,
                auth=list(credentials.items()) or None)
