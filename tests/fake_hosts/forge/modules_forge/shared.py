"""Fake Forge ``modules_forge/shared.py``: the registry is a dict keyed by name; adding overwrites."""
import os
import tempfile

preprocessor_dir = os.path.join(tempfile.gettempdir(), "skelext-fake-forge", "ControlNetPreprocessor")
supported_preprocessors = {}


def add_supported_preprocessor(preprocessor):
    supported_preprocessors[preprocessor.name] = preprocessor
