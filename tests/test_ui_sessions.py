"""Issue #24: the tab's events lock per session. Events of one session (one user's editor) still run
one at a time, as they change it in place; different users' sessions, and Run (a detection that
makes a new session), do not wait for each other."""
from __future__ import annotations

import gc
import threading
from typing import List

import pytest

pytest.importorskip("gradio")

from conftest import REPO_ROOT  # noqa: E402
from lib_skelext.edit_session import EditSession  # noqa: E402
from lib_skelext.openpose_json import loads_frame  # noqa: E402
from lib_skelext.ui import handlers  # noqa: E402

#: Waits for something that must happen; never reached when the code is right.
PATIENCE_S = 10.0


def new_session() -> EditSession:
    return EditSession.start(loads_frame((REPO_ROOT / "examples" / "waist_up.json").read_text()))


def call(fn, *args) -> threading.Thread:
    thread = threading.Thread(target=fn, args=args, daemon=True)
    thread.start()
    return thread


def test_two_sessions_events_run_at_once():
    """Each handler waits at a 2-party barrier: both must be inside at the same time."""
    meet = threading.Barrier(2, timeout=PATIENCE_S)
    met: List[bool] = []

    def on_meet(session, selected):
        meet.wait()
        met.append(True)

    handler = handlers._guarded(on_meet)
    a, b = new_session(), new_session()
    threads = [call(handler, a, None), call(handler, b, None)]
    for t in threads:
        t.join(PATIENCE_S * 2)
    assert met == [True, True], "one user's event waited for another user's"


def test_one_sessions_events_run_one_at_a_time():
    inside, release = threading.Event(), threading.Event()
    entered: List[int] = []

    def on_hold(session, selected, n):
        entered.append(n)
        inside.set()
        assert release.wait(PATIENCE_S)

    handler = handlers._guarded(on_hold)
    session = new_session()
    first = call(handler, session, None, 1)
    assert inside.wait(PATIENCE_S)
    second = call(handler, session, None, 2)
    second.join(0.3)  # give it a chance to get in (it must not)
    assert entered == [1]
    release.set()
    first.join(PATIENCE_S)
    second.join(PATIENCE_S)
    assert entered == [1, 2]


def test_run_takes_no_lock(monkeypatch):
    """Run (detection, a new session) goes ahead while the old session's event is still running."""
    inside, release = threading.Event(), threading.Event()
    session, fresh = new_session(), new_session()

    def on_hold(session, selected):
        inside.set()
        assert release.wait(PATIENCE_S)

    monkeypatch.setattr(handlers, "start_session", lambda *a, **k: (fresh, "1 people detected"))
    held = call(handlers._guarded(on_hold), session, None)
    try:
        assert inside.wait(PATIENCE_S)
        out: list = []
        run = call(lambda: out.append(handlers._guarded(handlers.on_run)(session, None, None, None, "dwpose",
                                                                          "keep", 1)))
        run.join(PATIENCE_S)
        assert out and out[0][0] is fresh, "Run waited for another event"
    finally:
        release.set()
    held.join(PATIENCE_S)


def test_session_locks_go_with_their_sessions():
    session = new_session()
    handlers._guarded(lambda session, selected: None)(session, None)
    key = id(session)
    assert key in handlers._SESSION_LOCKS
    del session
    gc.collect()
    assert key not in handlers._SESSION_LOCKS
