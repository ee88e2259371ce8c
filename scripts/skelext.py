"""skelext for the AUTOMATIC1111 / Forge WebUI: the ``dwpose_full`` ControlNet
preprocessor, the "skelext" settings section and the ``/skelext/v1/`` REST API.

All logic lives in ``lib_skelext.host``; this file only wires it to the WebUI.
"""
from modules import script_callbacks

from lib_skelext import host

host.register_preprocessors()  # ControlNet loaded before us (metadata.ini: After)
script_callbacks.on_before_ui(host.on_before_ui)  # ControlNet loaded after us, or UI reload
script_callbacks.on_ui_settings(host.on_ui_settings)
script_callbacks.on_app_started(host.on_app_started)  # REST API (+ a last registration try)


script_callbacks.on_ui_tabs(host.on_ui_tabs)  # gradio is imported only when the WebUI builds its tabs
