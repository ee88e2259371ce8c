"""WebUI glue: the ``dwpose_full`` ControlNet preprocessor, skelext's settings and REST API.

``scripts/skelext.py`` calls these from the WebUI's ``script_callbacks``:

* ``register_preprocessors()`` at script load, again from ``on_before_ui`` and
  ``on_app_started`` (ControlNet may load after us: ``metadata.ini``'s ``After``
  only matches the folder name ``sd-webui-controlnet``); idempotent.
* ``on_ui_settings()``: the "skelext" settings section.
* ``on_app_started(demo, app)``: also mounts ``/skelext/v1/`` with the WebUI's
  ``--api-auth`` credentials.

What API clients send as ``controlnet_module`` to ``/controlnet/detect`` or in a
ControlNet unit: ``"dwpose_full (openpose completed)"`` (``LABEL``) on every
host; it contains "openpose", so ControlNet returns ``poses`` and shows the
JSON/Edit buttons. On sd-webui-controlnet ``"dwpose_full"`` also works (images;
poses only on the legacy registry, which maps it to the label).
"""
from __future__ import annotations

import logging
from typing import Any, Dict, Optional

from .preprocess import LABEL, NAME, TAGS, DWPoseFullRunner, HostOptions

logger = logging.getLogger(__name__)

_runner: Optional[DWPoseFullRunner] = None


def runner() -> DWPoseFullRunner:
    """The process-wide preprocessor runner (reads the WebUI settings on every call)."""
    global _runner
    if _runner is None:
        from .options import read_options

        _runner = DWPoseFullRunner(read_options)
    return _runner


def detector_location() -> Any:
    """The ``DetectorLocation`` of the current settings: the preprocessor, the REST routes and
    the tab all take their detectors from the registry at this key."""
    from .options import read_options

    return read_options().location


def draw_options() -> Dict[str, bool]:
    """The drawing options of the current settings (the preprocessor and the tab draw alike)."""
    from .options import read_options

    return read_options().draw_options


def on_ui_tabs() -> list:
    from .. import ui

    return ui.on_ui_tabs(detector_location, draw_options)


def register_preprocessors() -> Dict[str, bool]:
    """Register ``dwpose_full`` with every registry present; -> {registry: registered}."""
    from . import registry
    from .options import read_options

    default_canvas = read_options().canvas
    done: Dict[str, bool] = {}
    for key, register in (("controlnet", registry.register_controlnet),
                          ("forge", registry.register_forge)):
        try:
            done[key] = register(runner(), default_canvas)
        except Exception:  # a host we do not know must not stop the WebUI
            logger.exception("skelext: registering dwpose_full with %s failed", key)
            done[key] = False
    if not done["controlnet"]:
        try:
            done["controlnet_legacy"] = registry.register_controlnet_legacy(runner(), default_canvas)
        except Exception:
            logger.exception("skelext: registering dwpose_full with legacy ControlNet failed")
            done["controlnet_legacy"] = False
    return done


def on_before_ui() -> None:
    register_preprocessors()


def on_ui_settings() -> None:
    from . import registry
    from .options import add_settings

    def canvas_changed() -> None:
        from .options import read_options

        registry.set_canvas_default(read_options().canvas)

    add_settings(on_canvas_change=canvas_changed)


def mount_api(app: Any) -> bool:
    """Add ``/skelext/v1/`` to the WebUI's FastAPI app once (-> False if already there).

    "Already there": the app carries the mark this leaves (``skelext_api_mounted``), or a route
    under the prefix is found (a router someone else included). FastAPI before 0.137 (the WebUI's
    0.94, Forge's 0.112) copies an included router's routes into ``app.routes``; from 0.137 on
    ``app.routes`` holds one entry per included router, without a ``path``:
    ``fastapi.routing.iter_route_contexts`` (0.137.2+) lists the routes inside, and on 0.137.0 and
    0.137.1, which lack it, the entry's ``original_router`` holds them.
    """
    from ..api import PREFIX, build_router
    from .options import api_auth

    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # FastAPI < 0.137.2: app.routes is flat
        iter_route_contexts = None
    routes = list(getattr(app, "routes", ()))
    if iter_route_contexts is not None:
        routes = list(iter_route_contexts(routes))
    else:
        routes = [r for route in routes for r in getattr(getattr(route, "original_router", None), "routes", [route])]
    if getattr(app, "skelext_api_mounted", False) or any(
            str(getattr(route, "path", "") or "").startswith(PREFIX + "/") for route in routes):
        return False
    app.include_router(build_router(auth=api_auth(), detector_location=detector_location))
    try:
        app.skelext_api_mounted = True
    except (AttributeError, TypeError):  # an app that takes no attributes: the routes still tell
        pass
    logger.info("skelext: REST API at %s/ (auth %s)", PREFIX, "on" if api_auth() else "off")
    return True


#: Where each registry key's preprocessor shows up, for the start-up line.
HOST_NAMES = {"controlnet": "sd-webui-controlnet", "controlnet_legacy": "sd-webui-controlnet (legacy registry)",
              "forge": "Forge's ControlNet"}
_announced: Dict[str, bool] = {}


def startup_line(done: Dict[str, bool], auth: bool) -> str:
    """The one start-up line: the registered module and the REST prefix, or why nothing registered."""
    from .. import __version__
    from ..api import PREFIX

    api = f"REST API at {PREFIX}/ (api-auth {'on' if auth else 'off'})"
    hosts = [HOST_NAMES[k] for k, ok in done.items() if ok and k in HOST_NAMES]
    if hosts:
        return f"skelext {__version__}: preprocessor '{LABEL}' registered with {' and '.join(hosts)}; {api}"
    return (f"skelext {__version__}: sd-webui-controlnet not found, so the '{NAME}' preprocessor is not "
            f"registered (install sd-webui-controlnet, or use Forge); the skelext tab and the {api} work "
            f"without it")


def announce(done: Dict[str, bool], auth: bool) -> str:
    """Show the start-up line once per process, at the WebUI's default log level.

    The WebUI configures no log handler unless started with ``--loglevel`` (or
    ``SD_WEBUI_LOG_LEVEL``), so INFO records are invisible; then the line is printed to
    stdout, as ControlNet and most extensions print theirs. With logging set up at INFO
    it goes through the logger instead (no double line)."""
    line = startup_line(done, auth)
    if _announced.get("done"):
        return line
    _announced["done"] = True
    if logger.isEnabledFor(logging.INFO) and logger.hasHandlers():
        logger.info("%s", line)
    else:
        print(line, flush=True)
    return line


def on_app_started(demo: Any, app: Any) -> None:
    from .options import api_auth

    done = register_preprocessors()
    mount_api(app)
    announce(done, bool(api_auth()))


__all__ = ["LABEL", "NAME", "TAGS", "HostOptions", "runner", "register_preprocessors", "on_before_ui",
           "on_ui_settings", "on_app_started", "mount_api"]
