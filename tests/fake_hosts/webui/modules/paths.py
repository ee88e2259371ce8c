"""Fake ``modules.paths``; tests point these at a temporary folder."""
import os
import tempfile

script_path = os.path.join(tempfile.gettempdir(), "skelext-fake-webui")
data_path = script_path
models_path = os.path.join(script_path, "models")
