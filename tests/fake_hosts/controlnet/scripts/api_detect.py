"""What sd-webui-controlnet's ``POST /controlnet/detect`` does with a preprocessor (host-notes).

Looks the module up by label or name (422 if unknown), calls ``cached_call`` with
``json_pose_callback`` and ``low_vram``, and, when the string the client sent
contains "openpose", asserts that the callback was called (else HTTP 500).

Checked against sd-webui-controlnet v1.1.455 (56cec5b2), where it differed before:
the values go through a ``ControlNetUnit`` whose validator replaces a resolution or
threshold outside its slider's range (the -1 a client leaves out) by the slider's
default (``internal_controlnet/args.py`` ``bound_check_params``), so the preprocessor
never sees -1; and the UI's preview (``controlnet_ui_group.py`` ``run_annotator``,
``preview_json`` below) also passes ``model=`` and a callback only for "openpose"
modules, and stores ``json.dumps`` of what the callback got (the Edit/JSON buttons
show when that string is non-empty).
"""
import json

from scripts.supported_preprocessor import Preprocessor


def unit_values(preprocessor, processor_res, threshold_a, threshold_b):
    """``ControlNetUnit.bound_check_params``: out-of-range values -> the slider's default."""
    out = []
    for value, slider in ((processor_res, preprocessor.slider_resolution), (threshold_a, preprocessor.slider_1),
                          (threshold_b, preprocessor.slider_2)):
        out.append(slider.value if value < slider.minimum or value > slider.maximum else value)
    return out


class HTTPError(Exception):
    def __init__(self, status, detail):
        super().__init__(f"{status}: {detail}")
        self.status = status


def detect(controlnet_module, images, processor_res=512, threshold_a=-1, threshold_b=-1):
    preprocessor = Preprocessor.get_preprocessor(controlnet_module)
    if preprocessor is None:
        raise HTTPError(422, "Module not available")
    processor_res, threshold_a, threshold_b = unit_values(preprocessor, processor_res, threshold_a, threshold_b)
    out_images, poses = [], []
    for img in images:
        class JsonAcceptor:
            def __init__(self):
                self.value = None

            def accept(self, json_dict):
                self.value = json_dict

        acceptor = JsonAcceptor()
        result = preprocessor.cached_call(img, resolution=processor_res, slider_1=threshold_a, slider_2=threshold_b,
                                          json_pose_callback=acceptor.accept, low_vram=False)
        out_images.append(result.display_images[0])
        if "openpose" in controlnet_module:
            if acceptor.value is None:  # the real API: assert -> HTTP 500
                raise HTTPError(500, "AssertionError")
            poses.append(acceptor.value)
    preprocessor.unload()
    res = {"info": "Success", "images": out_images}
    if poses:
        res["poses"] = poses
    return res


def preview_json(module, img, resolution=512, slider_1=None, slider_2=None, model="None"):
    """The UI's preview (``run_annotator``): -> (display image, JSON string, "" when no pose)."""
    preprocessor = Preprocessor.get_preprocessor(module)
    holder = {"value": ""}

    def accept(json_dict):
        holder["value"] = json.dumps(json_dict)

    result = preprocessor.cached_call(img, resolution=resolution, slider_1=slider_1, slider_2=slider_2,
                                      low_vram=False, json_pose_callback=accept if "openpose" in module else None,
                                      model=model)
    return result.display_images[0], holder["value"]
