"""Fake legacy sd-webui-controlnet ``scripts/processor.py``: slider configs keyed by module name."""
flag_preprocessor_resolution = "Preprocessor Resolution"
model_free_preprocessors = ["reference_only"]

preprocessor_sliders_config = {
    "none": [],
    "canny": [
        {"name": flag_preprocessor_resolution, "value": 512, "min": 64, "max": 2048},
        {"name": "Canny Low Threshold", "value": 100, "min": 1, "max": 255},
        {"name": "Canny High Threshold", "value": 200, "min": 1, "max": 255},
    ],
}


def canny(img, res=512, thr_a=100, thr_b=200, **kwargs):
    return img, True
