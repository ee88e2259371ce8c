"""Run by the WebUI (AUTOMATIC1111 / Forge) before the extension's scripts load.

Installs only what is missing (numpy is pinned to the installed version so
pip never swaps it), through the WebUI's own ``launch.is_installed``
and ``launch.run_pip``. Never installs torch, gradio or fastapi (the WebUI owns
them), and never replaces a GPU build of onnxruntime: onnxruntime is installed
only when no onnxruntime distribution at all is present. Honours
``--skip-install``.
"""
from __future__ import annotations

import importlib.util

#: (import name, pip requirement). Checked by import name, so any build
#: (opencv-python, -headless or -contrib; pillow or pillow-simd) counts.
RUNTIME = (
    ("PIL", "pillow"),
    ("cv2", "opencv-python-headless"),
    ("safetensors", "safetensors"),
    ("tqdm", "tqdm"),
)

#: Any of these distributions provides the ``onnxruntime`` module.
ONNXRUNTIME_DISTS = (
    "onnxruntime",
    "onnxruntime-gpu",
    "onnxruntime-directml",
    "onnxruntime-openvino",
    "onnxruntime-silicon",
    "onnxruntime-rocm",
    "onnxruntime-qnn",
)


def _skip_install() -> bool:
    try:
        import launch

        return bool(getattr(getattr(launch, "args", None), "skip_install", False))
    except Exception:
        return False


def _has_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _has_onnxruntime(is_installed) -> bool:
    return _has_module("onnxruntime") or any(is_installed(dist) for dist in ONNXRUNTIME_DISTS)


def _keep_numpy() -> str:
    """A pin that stops pip from swapping the WebUI's numpy (e.g. 1.26 -> 2.x,
    which new opencv/onnxruntime wheels would pull and which breaks the WebUI)."""
    try:
        from importlib.metadata import version

        return ' "numpy==%s"' % version("numpy")
    except Exception:
        return ""


def install() -> None:
    from launch import is_installed, run_pip

    pin = _keep_numpy()
    for module, requirement in RUNTIME:
        if not _has_module(module) and not is_installed(module):
            run_pip(f'install "{requirement}"{pin}', f"skelext requirement: {requirement}")
    if not _has_onnxruntime(is_installed):
        run_pip(f'install "onnxruntime"{pin}', "skelext requirement: onnxruntime (DWPose)")


if not _skip_install():
    install()
