"""The tab's view: every output value drawn from an ``EditSession`` (status, editor, images, JSON)."""
from __future__ import annotations

import base64
import logging
from typing import Any, List, Optional

import numpy as np

from ..edit_session import EditSession
from ..pose import BODY_NAMES, N_BODY

logger = logging.getLogger(__name__)

POINT_CHOICES = [f"{i}: {name.replace('_', ' ')}" for i, name in enumerate(BODY_NAMES)]


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


def alternative_label(index: int, score: float) -> str:
    return f"#{index + 1}{' (best)' if index == 0 else ''}: p={score:.2f}"


def downloads_html(json_text: str, png: np.ndarray) -> str:
    from ..editor_svg import image_data_url

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

    from ..editor_svg import editor_html, image_data_url
    from ..openpose_json import dumps_frame
    from ..result import PoseResult

    if session is None:
        return [None, editor_html(None), None, None, "", "", status_text(None, message),
                gr.update(choices=[], value=None), gr.update(), gr.update(choices=[], value=None)]
    out_frame = session.output_frame()
    drawn = PoseResult(frame=out_frame, detected=out_frame, settings=session.settings, image=session.image)
    control = drawn.control_image  # with the run's draw options, as ControlNet gets it
    overlay = drawn.overlay()
    json_text = dumps_frame(out_frame, indent=1)
    if session.image is None:
        image_url = None
    elif session.image_url_cache is not None and session.image_url_cache[0] is session.image:
        image_url = session.image_url_cache[1]
    else:
        image_url = image_data_url(session.image)
        session.image_url_cache = (session.image, image_url)
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
