"""The tab's event handlers: each takes (session, selected point, inputs...), changes the session
through ``EditSession`` or the core, and returns ``view.view(...)``."""
from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import threading
import weakref
from typing import Any, Callable, Dict, Optional, Tuple

import numpy as np

from ..edit_session import EditSession
from ..errors import SkelextError
from ..settings import MAX_JSON_BYTES
from ..pose import BODY_NAMES, N_BODY
from .view import _warn, view

logger = logging.getLogger(__name__)



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
    from ..resize import to_rgb_uint8

    rgb = to_rgb_uint8(image)
    if rgb.shape[:2] != (height, width):
        import cv2

        rgb = cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA)
    return rgb


#: Returns the ``detectors.DetectorLocation`` the tab's Run detects with; the WebUI sets it to
#: its settings' folders (``on_ui_tabs``), so the tab finds the weights the preprocessor finds.
detector_location: Callable[[], Any] = lambda: None
#: Returns the drawing options (``settings.RENDER_OPTIONS``) the control image is drawn with; the
#: WebUI sets it to its settings' (``on_ui_tabs``), so the tab draws what the preprocessor draws.
draw_options: Callable[[], Dict[str, Any]] = dict


def start_session(photo: Optional[np.ndarray], pose_json: Optional[str], *, detector: str = "dwpose",
                  canvas_mode: str = "keep", alternatives: int = 1) -> Tuple[EditSession, str]:
    """A new session from a pose JSON (photo as background, if any) or from a photo (detect + complete).
    Returns (session, status message). Both paths go through the core, as every other surface."""
    from ..core import complete_pose, process_image
    from ..settings import PipelineSettings

    settings = PipelineSettings(detector=detector, canvas="keep", alternatives=int(alternatives), **draw_options())
    if pose_json:
        from ..openpose_json import loads_frame

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
    session = EditSession.start(result.frame, image, canvas_mode=canvas_mode, alternatives=int(alternatives),
                                settings=settings)
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


#: One lock per live session: handlers mutate their session in place and gradio 4 may run listeners
#: at once, but different users' sessions never wait for each other. Keyed by id(session) (an
#: EditSession compares by value, so it is unhashable); the entry goes when the session is collected.
_SESSION_LOCKS: Dict[int, threading.RLock] = {}
_SESSION_LOCKS_GUARD = threading.RLock()  # re-entrant: a finalizer may run inside it (GC)


def _session_lock(session: Any) -> Optional[threading.RLock]:
    """The lock of ``session``'s events; None for no session (nothing shared to guard)."""
    if session is None:
        return None
    key = id(session)
    with _SESSION_LOCKS_GUARD:
        lock = _SESSION_LOCKS.get(key)
        if lock is None:
            lock = _SESSION_LOCKS[key] = threading.RLock()
            weakref.finalize(session, _forget_session_lock, key)
    return lock


def _forget_session_lock(key: int) -> None:
    with _SESSION_LOCKS_GUARD:
        _SESSION_LOCKS.pop(key, None)


def _guarded(fn):
    """Run a handler (one at a time per session); a SkelextError becomes a warning and leaves the view
    as it was. ``on_run`` builds a new session (detection) and takes no lock: it reads no session."""
    def wrapper(session, point_choice, *args):
        selected = point_index(point_choice)
        logger.debug("ui event %s", fn.__name__)
        lock = None if fn is on_run else _session_lock(session)
        with lock if lock is not None else contextlib.nullcontext():
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
