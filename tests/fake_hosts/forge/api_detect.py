"""What Forge's ``POST /controlnet/detect`` does (host-notes): lookup by name, the same
"openpose" gate and callback assert; defaults resolution 512, thresholds 64/64."""
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
