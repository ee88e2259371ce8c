"""A fake WebUI over HTTP, for ``check-host --webui`` tests: a FastAPI app with ControlNet's
routes (run over the fake registries that ``tests/hosts.py`` installs) plus skelext's
``/skelext/v1/`` mounted by ``host.on_app_started``, as the real WebUI mounts it.

Checked against the real hosts' sources and runs (2026-12-01):

* ``a1111``: sd-webui-controlnet v1.1.455 (56cec5b2) ``scripts/api.py``:
  ``/controlnet/version``; ``/controlnet/module_list?alias_names=`` with ``module_detail``
  (sliders as ``{name, value, min, max, step}``, the resolution slider first);
  ``/controlnet/version`` answers 3;
  ``/controlnet/detect`` defaults -1 for resolution and thresholds (replaced by the
  sliders' defaults when out of range, as ``ControlNetUnit`` does), decodes each image
  to an array (RGBA when the PNG has alpha), calls ``cached_call`` (the fake registry's
  ``cached_call`` caches by array content, as ControlNet's ``ndarray_lru_cache``), asserts
  the pose callback for modules containing "openpose" (HTTP 500 otherwise) and returns
  base64 PNGs; ``/controlnet/render_openpose_json`` draws each pose with ControlNet's own reader
  (``tests/host_readers.py``). ControlNet's routes ignore ``--api-auth`` (they stay open).
* ``forge``: Forge dfdcbab6 ``extensions-builtin/sd_forge_controlnet/lib_controlnet/api.py``:
  no ``/controlnet/version`` (404); ``module_list`` has no ``alias_names`` and no
  ``module_detail``; ``detect`` defaults 512 / 64 / 64 and calls the preprocessor directly.

``dw_openpose_full`` is ControlNet's own DWPose module here: it runs the detector
registered as skelext's "dwpose" (the same fake detector) and writes 0..1 coordinates,
as ControlNet's pose encoder does, so the side-by-side check compares like with like.
"""
from __future__ import annotations

import base64
import io
import sys
from typing import Any, List, Optional

import numpy as np


def _b64_to_array(text: str) -> np.ndarray:
    from PIL import Image

    if text.startswith("data:"):
        text = text.split(",", 1)[1]
    with Image.open(io.BytesIO(base64.b64decode(text))) as im:
        return np.array(im).astype("uint8")


def _array_to_b64(image: np.ndarray) -> str:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.asarray(image)).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def dw_openpose_full(image: np.ndarray, resolution: int, json_pose_callback=None) -> np.ndarray:
    """ControlNet's ``dw_openpose_full`` stand-in: the registry's "dwpose" detector on the image
    resized as ControlNet resizes it, poses in 0..1 (ControlNet's encoder)."""
    from lib_skelext.detectors import get_detector
    from lib_skelext.resize import resize_image_with_pad, to_rgb_uint8

    padded, remove_pad = resize_image_with_pad(to_rgb_uint8(image, coerce_dtype=True), resolution)
    h, w = remove_pad(padded).shape[:2]
    frame = get_detector("dwpose").detect_people(padded, threshold=0.3)
    people = []
    for person in frame.people:
        flat: List[float] = []
        for x, y, c in person.body:
            flat += [float(x) / w, float(y) / h, 1.0] if c > 0 else [0.0, 0.0, 0.0]
        people.append({"pose_keypoints_2d": flat, "face_keypoints_2d": None, "hand_left_keypoints_2d": None,
                       "hand_right_keypoints_2d": None})
    if json_pose_callback is not None:
        json_pose_callback({"people": people, "animals": [], "canvas_height": h, "canvas_width": w})
    return np.zeros((h, w, 3), np.uint8)


def build_app(kind: str = "a1111", api_auth: Optional[str] = None) -> Any:
    """The FastAPI app of a fake WebUI of ``kind`` ("a1111", "forge" or "no-controlnet"), skelext mounted.

    The fake hosts must already be installed (``Hosts.webui()`` + ``controlnet()`` or ``forge()``)."""
    from fastapi import Body, FastAPI, HTTPException

    from lib_skelext import host

    app = FastAPI()
    sys.modules["modules.shared"].cmd_opts.api_auth = api_auth

    if kind == "a1111":
        sp = sys.modules["scripts.supported_preprocessor"]
        Preprocessor = sp.Preprocessor

        class DWOpenposeFull(Preprocessor):
            def __init__(self):
                super().__init__(name="dw_openpose_full")
                self.tags = ["OpenPose"]
                self.slider_resolution = sp.PreprocessorParameter(label="Preprocessor Resolution", minimum=64,
                                                                  maximum=2048, value=512, step=8)

            def __call__(self, input_image, resolution, slider_1=None, slider_2=None, slider_3=None,
                         input_mask=None, json_pose_callback=None, **kwargs):
                return dw_openpose_full(input_image, resolution, json_pose_callback)

        if Preprocessor.get_preprocessor("dw_openpose_full") is None:
            Preprocessor.add_supported_preprocessor(DWOpenposeFull())

        @app.get("/controlnet/version")
        async def version():
            return {"version": 3}  # what v1.1.455 answers

        @app.get("/controlnet/module_list")
        async def module_list(alias_names: bool = False):
            procs = list(Preprocessor.all_processors.values())
            key = (lambda p: p.label) if alias_names else (lambda p: p.name)
            detail = {}
            for p in procs:
                sliders = []
                for s in (p.slider_resolution, p.slider_1, p.slider_2, p.slider_3):
                    if s.visible:
                        sliders.append({"name": s.label, "value": s.value, "min": s.minimum, "max": s.maximum,
                                        "step": s.step})
                detail[key(p)] = {"model_free": False, "sliders": sliders}
            return {"module_list": [key(p) for p in procs], "module_detail": detail}

        @app.post("/controlnet/render_openpose_json")
        def render_openpose_json(pose_data: List[dict] = Body([])):
            # scripts/api.py: draw_poses(*decode_json_as_poses(pose.dict())) per pose, base64 PNGs;
            # the reader and drawing are re-implemented in tests/host_readers.py (c < 1.0 is missing)
            from host_readers import controlnet_draw

            if not pose_data:
                return {"info": "No pose data detected."}
            return {"images": [_array_to_b64(controlnet_draw(pose)) for pose in pose_data], "info": "Success"}

        @app.post("/controlnet/detect")
        def detect(controlnet_module: str = Body("none"), controlnet_input_images: List[str] = Body([]),
                   controlnet_processor_res: int = Body(-1), controlnet_threshold_a: float = Body(-1),
                   controlnet_threshold_b: float = Body(-1), controlnet_masks: List[str] = Body([]),
                   low_vram: bool = Body(False)):
            preprocessor = Preprocessor.get_preprocessor(controlnet_module)
            if preprocessor is None:
                raise HTTPException(status_code=422, detail="Module not available")
            if not controlnet_input_images:
                raise HTTPException(status_code=422, detail="No image selected")
            unit_values = sys.modules["scripts.api_detect"].unit_values
            controlnet_processor_res, controlnet_threshold_a, controlnet_threshold_b = unit_values(
                preprocessor, controlnet_processor_res, controlnet_threshold_a, controlnet_threshold_b)
            images, poses = [], []
            for text in controlnet_input_images:
                holder = {}
                result = preprocessor.cached_call(
                    _b64_to_array(text), resolution=controlnet_processor_res, slider_1=controlnet_threshold_a,
                    slider_2=controlnet_threshold_b, json_pose_callback=lambda d: holder.__setitem__("v", d),
                    low_vram=low_vram)
                images.append(_array_to_b64(result.display_images[0]))
                if "openpose" in controlnet_module:
                    if "v" not in holder:  # the real route asserts: HTTP 500
                        raise HTTPException(status_code=500, detail="AssertionError")
                    poses.append(holder["v"])
            preprocessor.unload()
            res = {"info": "Success", "images": images}
            if poses:
                res["poses"] = poses
            return res

    elif kind == "forge":
        shared = sys.modules["modules_forge.shared"]
        supported = sys.modules["modules_forge.supported_preprocessor"]

        class ForgeDWOpenposeFull(supported.Preprocessor):
            def __init__(self):
                super().__init__()
                self.name = "dw_openpose_full"
                self.tags = ["OpenPose"]

            def __call__(self, input_image, resolution, slider_1=None, slider_2=None, slider_3=None, **kwargs):
                return dw_openpose_full(input_image, resolution, kwargs.get("json_pose_callback"))

        shared.add_supported_preprocessor(ForgeDWOpenposeFull())

        @app.get("/controlnet/module_list")
        async def forge_module_list():
            return {"module_list": list(shared.supported_preprocessors)}

        @app.post("/controlnet/detect")
        def forge_detect(controlnet_module: str = Body("none"), controlnet_input_images: List[str] = Body([]),
                         controlnet_processor_res: int = Body(512), controlnet_threshold_a: float = Body(64),
                         controlnet_threshold_b: float = Body(64)):
            processor = shared.supported_preprocessors.get(controlnet_module)
            if processor is None:
                raise HTTPException(status_code=422, detail="Module not available")
            if not controlnet_input_images:
                raise HTTPException(status_code=422, detail="No image selected")
            results, poses = [], []
            for text in controlnet_input_images:
                holder = {}
                results.append(processor(_b64_to_array(text), resolution=controlnet_processor_res,
                                         slider_1=controlnet_threshold_a, slider_2=controlnet_threshold_b,
                                         json_pose_callback=lambda d: holder.__setitem__("v", d)))
                if "openpose" in controlnet_module:
                    if "v" not in holder:
                        raise HTTPException(status_code=500, detail="AssertionError")
                    poses.append(holder["v"])
            res = {"images": [_array_to_b64(r) for r in results], "info": "Success"}
            if poses:
                res["poses"] = poses
            return res
    elif kind != "no-controlnet":  # A1111 without sd-webui-controlnet: skelext's routes only
        raise ValueError(f"unknown fake WebUI kind {kind!r}")

    host.on_app_started(None, app)
    return app
