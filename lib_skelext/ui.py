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
* Standalone: ``launch(host, port)`` (``python -m lib_skelext ui``) serves the
  same Blocks and injects the script and stylesheet itself.
"""
from __future__ import annotations

import base64
import json
import logging
import os
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, List, Optional, Tuple

import numpy as np

from .edit_session import EditSession
from .errors import SkelextError
from .pose import BODY_NAMES, N_BODY
from .settings import CANVAS_MODES, DETECTORS, MAX_ALTERNATIVES

if TYPE_CHECKING:  # pragma: no cover
    import gradio as gr

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
SCRIPT_PATH = ROOT / "javascript" / "skelext.js"
STYLE_PATH = ROOT / "style.css"
TAB_TITLE = "skelext"
TAB_ID = "skelext"
#: Most bytes of pose JSON read from an upload.
MAX_JSON_BYTES = 20 * 1024 * 1024
POINT_CHOICES = [f"{i}: {name.replace('_', ' ')}" for i, name in enumerate(BODY_NAMES)]


# ------------------------------------------------------------------ helpers
def gradio_major() -> int:
    import gradio as gr

    return int(str(gr.__version__).split(".")[0])


def _warn(message: str) -> None:
    import gradio as gr

    warning = getattr(gr, "Warning", None)
    if warning is not None:
        try:
            warning(message)
        except Exception:  # outside an event (tests) gradio may refuse
            pass
    logger.warning("skelext: %s", message)


def _file_path(value: Any) -> Optional[str]:
    """gr.File's value on gradio 3 (tempfile wrapper / dict) and 4 (path str)."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("path") or value.get("name")
    return getattr(value, "name", value) if value is not None else None


def read_pose_file(value: Any) -> str:
    path = _file_path(value)
    if not path:
        raise SkelextError("no pose JSON uploaded")
    size = os.path.getsize(path)
    if size > MAX_JSON_BYTES:
        raise SkelextError(f"pose JSON too large ({size} bytes; at most {MAX_JSON_BYTES})")
    with open(path, "rb") as handle:
        return handle.read().decode("utf-8", errors="replace")


def _fit_image(image: Optional[np.ndarray], width: int, height: int) -> Optional[np.ndarray]:
    if image is None:
        return None
    from .resize import to_rgb_uint8

    rgb = to_rgb_uint8(image)
    if rgb.shape[:2] != (height, width):
        import cv2

        rgb = cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA)
    return rgb


#: Returns the ``detectors.DetectorLocation`` the tab's Run detects with; the WebUI sets it to
#: its settings' folders (``on_ui_tabs``), so the tab finds the weights the preprocessor finds.
detector_location: Callable[[], Any] = lambda: None


def start_session(photo: Optional[np.ndarray], pose_json: Optional[str], *, detector: str = "dwpose",
                  canvas_mode: str = "keep", alternatives: int = 1) -> Tuple[EditSession, str]:
    """A new session from a pose JSON (photo as background, if any) or from a photo (detect + complete).
    Returns (session, status message). Both paths go through the core, as every other surface."""
    from .core import complete_pose, process_image
    from .settings import PipelineSettings

    settings = PipelineSettings(detector=detector, canvas="keep", alternatives=int(alternatives))
    if pose_json:
        from .openpose_json import loads_frame

        frame = loads_frame(pose_json)
        result = complete_pose(frame, settings)
        image = _fit_image(photo, frame.canvas_width, frame.canvas_height)
        message = "pose JSON loaded" + (" over the photo (remove the JSON to detect in the photo)"
                                        if image is not None else "")
    elif photo is not None:
        result = process_image(np.asarray(photo), settings, location=detector_location())
        image = result.image
        message = f"{len(result.frame.people)} people detected"
    else:
        raise SkelextError("upload a photo or a pose JSON first")
    if result.completion_failed:
        message += "; completion failed (see the log), showing the plain pose"
    session = EditSession.start(result.frame, image, canvas_mode=canvas_mode, alternatives=int(alternatives))
    return session, message


def parse_event(text: str) -> dict:
    """The browser's event JSON -> dict with a known action. Raises SkelextError."""
    try:
        event = json.loads(text or "")
    except ValueError:
        raise SkelextError("bad editor event (not JSON)") from None
    if not isinstance(event, dict) or event.get("action") not in ("move", "select"):
        raise SkelextError("bad editor event (unknown action)")
    for key in ("person", "point"):
        if isinstance(event.get(key), bool) or not isinstance(event.get(key), int):
            raise SkelextError(f"bad editor event ({key} must be an integer)")
    if event["action"] == "move":
        for key in ("x", "y"):
            if isinstance(event.get(key), bool) or not isinstance(event.get(key), (int, float)):
                raise SkelextError(f"bad editor event ({key} must be a number)")
    return event


def point_index(choice: Any) -> Optional[int]:
    match = re.match(r"\s*(\d+)", str(choice or ""))
    if not match or not 0 <= int(match.group(1)) < N_BODY:
        return None
    return int(match.group(1))


def alternative_label(index: int, score: float) -> str:
    return f"#{index + 1}{' (best)' if index == 0 else ''}: p={score:.2f}"


def downloads_html(json_text: str, png: np.ndarray) -> str:
    from .editor_svg import image_data_url

    json_url = "data:application/json;base64," + base64.b64encode(json_text.encode("utf-8")).decode("ascii")
    return ('<div class="skelext-downloads">'
            f'<a class="skelext-download-json" download="skelext_pose.json" href="{json_url}">Download JSON</a>'
            f'<a class="skelext-download-png" download="skelext_pose.png" href="{image_data_url(png, "PNG")}">'
            "Download PNG</a></div>")


def status_text(session: Optional[EditSession], message: str = "") -> str:
    if session is None:
        return message or "No pose yet."
    p = session.selected_person
    parts = [message] if message else []
    if session.frame.people:
        person = session.frame.people[p]
        present = int((person.body[:, 2] > 0).sum())
        parts.append(f"person {p + 1} of {len(session.frame.people)}: {present} of {N_BODY} body points, "
                     f"{int(person.completed.sum())} completed, {int(session.edited(p).sum())} edited, "
                     f"{int(session.locked[p].sum())} locked, {int(session.hidden[p].sum())} hidden")
    else:
        parts.append("no people")
    parts.append(f"canvas {session.frame.canvas_width}x{session.frame.canvas_height} ({session.canvas_mode}); "
                 f"undo {len(session.undo_stack)}, redo {len(session.redo_stack)}")
    return " · ".join(parts)


def view(session: Optional[EditSession], message: str = "", selected_point: Optional[int] = None) -> List[Any]:
    """Values for VIEW_OUTPUTS: state, editor, overlay, control, json, downloads, status, person, point, alts."""
    import gradio as gr

    from .editor_svg import editor_html, image_data_url
    from .openpose_json import dumps_frame
    from .render import render_frame, render_overlay

    if session is None:
        return [None, editor_html(None), None, None, "", "", status_text(None, message),
                gr.update(choices=[], value=None), gr.update(), gr.update(choices=[], value=None)]
    out_frame = session.output_frame()
    control = render_frame(out_frame)
    base = session.image if session.image is not None else np.zeros_like(control)
    overlay = render_overlay(base, out_frame)
    json_text = dumps_frame(out_frame, indent=1)
    cache = getattr(session, "_image_url", None)
    if session.image is None:
        image_url = None
    elif cache is not None and cache[0] is session.image:
        image_url = cache[1]
    else:
        image_url = image_data_url(session.image)
        session._image_url = (session.image, image_url)  # type: ignore[attr-defined]
    people = [f"Person {i + 1}" for i in range(len(session.frame.people))]
    alts = [alternative_label(i, s) for i, s in session.alternative_choices()]
    chosen = session.chosen_alternative()
    return [
        session,
        editor_html(session, selected_point, image_url),
        overlay,
        control,
        json_text,
        downloads_html(dumps_frame(out_frame), control),
        status_text(session, message),
        gr.update(choices=people, value=people[session.selected_person] if people else None),
        gr.update(value=POINT_CHOICES[selected_point] if selected_point is not None else None),
        gr.update(choices=alts, value=alts[chosen] if alts else None),
    ]


# ------------------------------------------------------------------ handlers
#: Handlers mutate the session in place; gradio 4 may run different listeners at once.
_EDIT_LOCK = threading.RLock()


def _guarded(fn):
    """Run a handler (one at a time); a SkelextError becomes a warning and leaves the view as it was."""
    def wrapper(session, point_choice, *args):
        selected = point_index(point_choice)
        logger.debug("ui event %s", fn.__name__)
        with _EDIT_LOCK:
            try:
                return fn(session, selected, *args)
            except SkelextError as exc:
                _warn(str(exc))
                return view(session, f"⚠ {exc}", selected)
    wrapper.__name__ = fn.__name__
    return wrapper


def on_run(session, selected, photo, pose_file, detector, canvas_mode, alternatives):
    pose_json = read_pose_file(pose_file) if _file_path(pose_file) else None
    session, message = start_session(photo, pose_json, detector=detector, canvas_mode=canvas_mode,
                                     alternatives=int(alternatives))
    return view(session, message, None)


def _need(session: Optional[EditSession]) -> EditSession:
    if session is None or not session.frame.people:
        raise SkelextError("no pose to edit: run a photo or load a pose JSON first")
    return session


def on_event(session, selected, event_text, auto_recomplete):
    session = _need(session)
    event = parse_event(event_text)
    person, point = event["person"], event["point"]
    if event["action"] == "select":
        session.select_person(person)
        return view(session, "", point)
    session.move_point(person, point, float(event["x"]), float(event["y"]))
    message = f"moved {BODY_NAMES[point].replace('_', ' ')}"
    if auto_recomplete:
        session.recomplete(person)
        message += " and re-completed"
    return view(session, message, point)


def on_select_point(session, selected):
    return view(session, "", selected) if session is not None else view(None)


def on_select_person(session, selected, person_choice):
    if session is not None and person_choice:
        match = re.search(r"(\d+)", str(person_choice))
        if match:
            session.select_person(int(match.group(1)) - 1)
    return view(session, "", selected)


def _selected_point(selected: Optional[int]) -> int:
    if selected is None:
        raise SkelextError("select a body point first (click it in the editor or pick it in the list)")
    return selected


def on_toggle_hidden(session, selected):
    session = _need(session)
    point = _selected_point(selected)
    hidden = session.toggle_hidden(session.selected_person, point)
    return view(session, f"{BODY_NAMES[point].replace('_', ' ')} {'hidden' if hidden else 'shown'}", selected)


def on_toggle_locked(session, selected):
    session = _need(session)
    point = _selected_point(selected)
    locked = session.toggle_locked(session.selected_person, point)
    return view(session, f"{BODY_NAMES[point].replace('_', ' ')} {'locked' if locked else 'unlocked'}", selected)


def on_recomplete(session, selected, alternatives):
    session = _need(session)
    session.alternatives = int(alternatives)
    session.recomplete()
    return view(session, "re-completed from the detected, edited and locked points", selected)


def on_undo(session, selected):
    session = _need(session)
    return view(session, "undone" if session.undo() else "nothing to undo", selected)


def on_redo(session, selected):
    session = _need(session)
    return view(session, "redone" if session.redo() else "nothing to redo", selected)


def on_reset(session, selected):
    session = _need(session)
    session.reset()
    return view(session, "reset to the loaded pose", selected)


def on_alternative(session, selected, choice):
    if session is None or not choice:
        return view(session, "", selected)
    match = re.match(r"#(\d+)", str(choice))
    if match and session.choose_alternative(int(match.group(1)) - 1):
        return view(session, f"alternative {match.group(1)} chosen", selected)
    return view(session, "", selected)


def on_canvas_mode(session, selected, mode):
    if session is None:
        return view(None)
    changed = session.set_canvas_mode(mode)
    return view(session, f"canvas mode {mode}" if changed else "", selected)


# ------------------------------------------------------------------ layout
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
                detector = gr.Dropdown(list(DETECTORS), value=DETECTORS[0], label="Detector",
                                       elem_id="skelext_detector")
                canvas_mode = gr.Radio(list(CANVAS_MODES), value="keep", label="Canvas",
                                       info="keep: off-frame points stay outside; fit: scale in; expand: grow",
                                       elem_id="skelext_canvas_mode")
                alternatives = gr.Slider(1, MAX_ALTERNATIVES, value=3, step=1, label="Alternatives",
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
    from .editor_svg import editor_html

    return editor_html(None)


def on_ui_tabs(location: Optional[Callable[[], Any]] = None) -> list:
    """WebUI ``script_callbacks.on_ui_tabs`` callback: ``[(blocks, "skelext", "skelext")]``.

    location: the WebUI's ``DetectorLocation`` provider (the preprocessor's folders and device)."""
    global detector_location
    if location is not None:
        detector_location = location
    return [(build_ui(standalone=False), TAB_TITLE, TAB_ID)]


ENV_UI_AUTH = "SKELEXT_UI_AUTH"


def launch(host: str = "127.0.0.1", port: int = 7861, auth: Optional[str] = None) -> None:
    """Serve the standalone UI (blocks until interrupted). auth: "user:pass[,user:pass]" asks for a login."""
    from .api.auth import parse_credentials

    credentials = parse_credentials(auth)  # SkelextError for a malformed value, before anything starts
    if not credentials and host not in ("127.0.0.1", "localhost", "::1"):
        logger.warning("serving the UI on %s without --auth: anyone who can reach this port can use it", host)
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    demo = build_ui(standalone=True)
    demo.queue()
    logger.info("skelext UI on http://%s:%d", host, port)
    demo.launch(server_name=host, server_port=int(port), share=False, inbrowser=False, show_api=False,
                auth=list(credentials.items()) or None)
