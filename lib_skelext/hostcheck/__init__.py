"""Checks run against a host that is already running (WebUI/Forge, ComfyUI).

``python -m lib_skelext check-host --webui URL`` / ``--comfyui URL``. They only talk
to the host over HTTP (and, with ``--browser``, drive its page in headless
Chromium); they never install, start or build one.

Modules: ``report`` (``Check`` results, printing), ``http`` (small JSON client),
``webui`` (A1111 + sd-webui-controlnet, Forge), ``comfyui``, ``browser``.
"""
from __future__ import annotations

from .report import Check, print_report

__all__ = ["Check", "print_report"]
