"""What sd-webui-controlnet's ``POST /controlnet/detect`` does with a preprocessor (host-notes).

Looks the module up by label or name (422 if unknown), calls ``cached_call`` with
``json_pose_callback`` and ``low_vram``, and, when the string the client sent
contains "openpose", asserts that the callback was called (else HTTP 500).
"""
from scripts.supported_preprocessor import Preprocessor


class HTTPError(Exception):
    def __init__(self, status, detail):
        super().__init__(f"{status}: {detail}")
        self.status = status


def detect(controlnet_module, images, processor_res=512, threshold_a=-1, threshold_b=-1):
    preprocessor = Preprocessor.get_preprocessor(controlnet_module)
    if preprocessor is None:
        raise HTTPError(422, "Module not available")
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
