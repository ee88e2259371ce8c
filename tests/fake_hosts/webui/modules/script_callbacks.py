"""Fake ``modules.script_callbacks`` (AUTOMATIC1111 1.10): callback lists and their runners."""
import dataclasses


@dataclasses.dataclass
class ScriptCallback:
    script: str
    callback: object
    name: str = None


callback_map = dict(
    callbacks_app_started=[],
    callbacks_ui_tabs=[],
    callbacks_ui_settings=[],
    callbacks_script_unloaded=[],
    callbacks_before_ui=[],
    callbacks_on_reload=[],
)
errors = []  # exceptions the WebUI would report and swallow


def clear_callbacks():
    for callback_list in callback_map.values():
        callback_list.clear()


def _add(key, fn, name=None):
    callback_map[key].append(ScriptCallback("fake", fn, name))


def on_app_started(callback, *, name=None):
    _add("callbacks_app_started", callback, name)


def on_ui_tabs(callback, *, name=None):
    _add("callbacks_ui_tabs", callback, name)


def on_ui_settings(callback, *, name=None):
    _add("callbacks_ui_settings", callback, name)


def on_script_unloaded(callback, *, name=None):
    _add("callbacks_script_unloaded", callback, name)


def on_before_ui(callback, *, name=None):
    _add("callbacks_before_ui", callback, name)


def on_before_reload(callback, *, name=None):
    _add("callbacks_on_reload", callback, name)


def _run(key, *args):
    for c in callback_map[key]:
        try:
            c.callback(*args)
        except Exception as exc:  # the WebUI reports and goes on
            errors.append(exc)


def app_started_callback(demo, app):
    _run("callbacks_app_started", demo, app)


def ui_settings_callback():
    _run("callbacks_ui_settings")


def before_ui_callback():
    for c in reversed(callback_map["callbacks_before_ui"]):
        try:
            c.callback()
        except Exception as exc:
            errors.append(exc)
