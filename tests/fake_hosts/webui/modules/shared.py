"""Fake ``modules.shared``: ``opts`` (``data``, ``add_option``), ``OptionInfo``, ``cmd_opts``."""
from types import SimpleNamespace


class OptionInfo:
    def __init__(self, default=None, label="", component=None, component_args=None, onchange=None,
                 section=None, refresh=None, comment_before="", comment_after="", infotext=None,
                 restrict_api=False, category_id=None):
        self.default = default
        self.label = label
        self.component = component
        self.component_args = component_args
        self.onchange = onchange
        self.section = section
        self.comment_after = comment_after

    def info(self, info):
        self.comment_after += f"<span class='info'>({info})</span>"
        return self


class Options:
    def __init__(self):
        self.data = {}
        self.data_labels = {}

    def add_option(self, key, info):
        self.data_labels[key] = info
        if key not in self.data:
            self.data[key] = info.default

    def set(self, key, value):
        old = self.data.get(key)
        self.data[key] = value
        info = self.data_labels.get(key)
        if info is not None and info.onchange is not None and old != value:
            info.onchange()


opts = Options()
cmd_opts = SimpleNamespace(api_auth=None, controlnet_annotator_models_path=None, skip_install=False)
