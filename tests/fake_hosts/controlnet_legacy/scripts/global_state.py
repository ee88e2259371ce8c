"""Fake legacy sd-webui-controlnet (<= 1.1.443) ``scripts/global_state.py`` (host-notes).

Functions ``(img, res, thr_a, thr_b, json_pose_callback=None, low_vram=False, **kw) ->
(image, is_image)`` in ``cn_preprocessor_modules``; display names via
``preprocessor_aliases`` / ``reverse_preprocessor_aliases``; the dropdown lists
``ui_preprocessor_keys``; sliders come from ``preprocessor_sliders_config``
(star-imported from ``scripts.processor``, the same dict).
"""
from scripts.processor import *  # noqa: F401,F403

cn_preprocessor_modules = {
    "none": lambda x, *args, **kwargs: (x, True),
    "canny": canny,  # noqa: F405
    "lineart": canny,  # noqa: F405
    "invert": canny,  # noqa: F405
}
cn_preprocessor_unloadable = {}
preprocessor_aliases = {"invert": "invert (from white bg & black line)", "lineart": "lineart_realistic"}
ui_preprocessor_keys = ["none", preprocessor_aliases["invert"]]
ui_preprocessor_keys += sorted([preprocessor_aliases.get(k, k) for k in cn_preprocessor_modules.keys()
                                if preprocessor_aliases.get(k, k) not in ui_preprocessor_keys])
reverse_preprocessor_aliases = {preprocessor_aliases[k]: k for k in preprocessor_aliases.keys()}


def get_module_basename(module):
    if module is None:
        module = "none"
    return reverse_preprocessor_aliases.get(module, module)
