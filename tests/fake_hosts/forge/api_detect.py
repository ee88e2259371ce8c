"""What Forge's ``POST /controlnet/detect`` does (host-notes): lookup by name, the same
"openpose" gate and callback assert; defaults resolution 512, thresholds 64/64.

Checked against Forge dfdcbab6 (``extensions-builtin/sd_forge_controlnet/lib_controlnet``):
the route calls the preprocessor directly (no cache, values passed as sent), and, unlike
host-notes said, Forge does pass ``json_pose_callback``: here and in the UI's preview
(``controlnet_ui_group.py`` ``run_annotator``, ``preview_json`` below), which calls with
keywords only (``input_image=``, ``input_mask=``) and a callback only for "openpose" names.
"""
import json

from modules_forge.shared import supported_preprocessors


class HTTPError(Exception):
    def __init__(self, status, detail):
        super().__init__(f"{status}: {detail}")
        self.status = status


def detect(controlnet_module, images, processor_res=512, threshold_a=64, threshold_b=64):
    processor = supported_preprocessors.get(controlnet_module)
    if processor is None:
        raise HTTPError(422, "Module not available")
    results, poses = [], []
    for img in images:
        holder = {"value": None}
        results.append(processor(img, resolution=processor_res, slider_1=threshold_a, slider_2=threshold_b,
                                 json_pose_callback=lambda d: holder.__setitem__("value", d)))
        if "openpose" in controlnet_module:
            if holder["value"] is None:
                raise HTTPError(500, "AssertionError")
            poses.append(holder["value"])
    res = {"images": results, "info": "Success"}
    if poses:
        res["poses"] = poses
    return res


def preview_json(module, img, resolution=512, slider_1=None, slider_2=None):
    """Forge's preview: keyword call with ``input_mask``; -> (result, JSON string or "")."""
    preprocessor = supported_preprocessors[module]
    holder = {"value": ""}

    def accept(json_dict):
        holder["value"] = json.dumps(json_dict)

    result = preprocessor(input_image=img, resolution=resolution, slider_1=slider_1, slider_2=slider_2,
                          input_mask=None, json_pose_callback=accept if "openpose" in module else None)
    return result, holder["value"]
