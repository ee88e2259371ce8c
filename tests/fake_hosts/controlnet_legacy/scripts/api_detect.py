"""What legacy sd-webui-controlnet's ``POST /controlnet/detect`` does (host-notes).

Maps the sent string through ``reverse_preprocessor_aliases`` to a dict key, calls
the function with ``json_pose_callback``, and when that key contains "openpose"
asserts the callback was called. The UI's preview does the same reduction and
passes the callback only for "openpose" keys.
"""
from scripts import global_state


class HTTPError(Exception):
    def __init__(self, status, detail):
        super().__init__(f"{status}: {detail}")
        self.status = status


def detect(controlnet_module, images, processor_res=512, threshold_a=64, threshold_b=64):
    controlnet_module = global_state.reverse_preprocessor_aliases.get(controlnet_module, controlnet_module)
    if controlnet_module not in global_state.cn_preprocessor_modules:
        raise HTTPError(422, "Module not available")
    fn = global_state.cn_preprocessor_modules[controlnet_module]
    results, poses = [], []
    for img in images:
        class JsonAcceptor:
            def __init__(self):
                self.value = None

            def accept(self, json_dict):
                self.value = json_dict

        acceptor = JsonAcceptor()
        results.append(fn(img, res=processor_res, thr_a=threshold_a, thr_b=threshold_b,
                          json_pose_callback=acceptor.accept, low_vram=False)[0])
        if "openpose" in controlnet_module:
            if acceptor.value is None:
                raise HTTPError(500, "AssertionError")
            poses.append(acceptor.value)
    res = {"images": results, "info": "Success"}
    if poses:
        res["poses"] = poses
    return res


def preview_json(module, img):
    """The UI's run_annotator: callback only for "openpose" keys; the Edit button needs a JSON string."""
    module = global_state.get_module_basename(module)
    fn = global_state.cn_preprocessor_modules[module]
    holder = {"value": ""}
    callback = (lambda payload: holder.__setitem__("value", payload)) if "openpose" in module else None
    fn(img, res=512, thr_a=None, thr_b=None, json_pose_callback=callback)
    return holder["value"]
