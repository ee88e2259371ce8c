"""Installs skelext's runtime requirements that are missing, under either host:

* the AUTOMATIC1111 / Forge WebUI runs this file before the extension's scripts load,
  with its ``launch`` module importable: ``launch.is_installed`` / ``launch.run_pip`` are
  used and ``--skip-install`` is honoured;
* ComfyUI-Manager (and the Comfy Registry's installs) run ``requirements.txt`` and then this
  file with ComfyUI's Python, where there is no ``launch`` module: pip of that same
  interpreter (``sys.executable -m pip``) is used; ``SKELEXT_SKIP_INSTALL=1`` skips it.
  By hand: ``python install.py`` with ComfyUI's Python.

Installs only what is missing (numpy is pinned to the installed version so pip never
swaps it), never torch, gradio or fastapi (the host owns them), and never replaces a GPU
build of onnxruntime: onnxruntime is installed only when no onnxruntime distribution at
all is present. OpenCV is checked by import name, so any build (opencv-python, -headless,
-contrib) counts; when it is missing, the build chosen fits the numpy in place (below 4.12 under
numpy 1.x, which mediapipe 0.10.21 needs too). A failed install under ComfyUI prints one line and exits 0: the nodes
then say what is missing when they run.
"""
from __future__ import annotations

import importlib.util
import os
import shlex
import subprocess
import sys
from typing import Callable, Tuple

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

ENV_SKIP = "SKELEXT_SKIP_INSTALL"


def _webui_launch():
    """A1111/Forge's ``launch`` module, or None (ComfyUI, plain Python)."""
    try:
        import launch
    except ImportError:
        return None
    return launch


def _skip_install() -> bool:
    if os.environ.get(ENV_SKIP, "").strip() not in ("", "0"):
        return True
    launch = _webui_launch()
    try:
        return bool(getattr(getattr(launch, "args", None), "skip_install", False))
    except Exception:
        return False


def _has_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _dist_installed(name: str) -> bool:
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        distribution(name)
        return True
    except PackageNotFoundError:
        return False


def _pip_here(command: str, desc: str = "") -> None:
    """``python -m pip <command>`` with this interpreter (ComfyUI's), as the WebUI's run_pip does."""
    print(f"[skelext] installing {desc or command}", flush=True)
    subprocess.run([sys.executable, "-m", "pip", *shlex.split(command), "--prefer-binary"], check=True)


def host_tools() -> Tuple[Callable[[str], bool], Callable[..., None]]:
    """(is_installed(dist), run_pip(command, desc)) of the WebUI, else of this interpreter."""
    launch = _webui_launch()
    if launch is not None and hasattr(launch, "is_installed") and hasattr(launch, "run_pip"):
        return launch.is_installed, launch.run_pip
    return _dist_installed, _pip_here


def _has_onnxruntime(is_installed) -> bool:
    return _has_module("onnxruntime") or any(is_installed(dist) for dist in ONNXRUNTIME_DISTS)


def _keep_numpy() -> str:
    """A pin that stops pip from swapping the host's numpy (e.g. 1.26 -> 2.x,
    which new opencv/onnxruntime wheels would pull and which breaks the WebUI)."""
    try:
        from importlib.metadata import version

        return ' "numpy==%s"' % version("numpy")
    except Exception:
        return ""


def _numpy_major() -> int:
    try:
        from importlib.metadata import version

        return int(version("numpy").split(".")[0])
    except Exception:
        return 0


def requirement_for(requirement: str, numpy_major: int) -> str:
    """The build that fits the numpy in place: OpenCV 4.12+ wheels need numpy >= 2, so under numpy 1.x
    (the WebUI's, and what mediapipe 0.10.21 needs) OpenCV stays below 4.12 and pip never has to pick
    between breaking the host's numpy and a conflict."""
    if requirement.startswith("opencv") and 0 < numpy_major < 2:
        return f"{requirement}<4.12"
    return requirement


def install() -> None:
    is_installed, run_pip = host_tools()
    pin = _keep_numpy()
    numpy_major = _numpy_major()
    for module, requirement in RUNTIME:
        if not _has_module(module) and not is_installed(module):
            requirement = requirement_for(requirement, numpy_major)
            run_pip(f'install "{requirement}"{pin}', f"skelext requirement: {requirement}")
    if not _has_onnxruntime(is_installed):
        run_pip(f'install "onnxruntime"{pin}', "skelext requirement: onnxruntime (DWPose)")


def main() -> int:
    if _skip_install():
        return 0
    if _webui_launch() is not None:
        install()  # the WebUI reports failures itself
        return 0
    try:
        install()
    except (subprocess.CalledProcessError, OSError) as exc:
        print(f"[skelext] install.py: could not install a requirement ({exc}); install it with this "
              f"Python's pip: {sys.executable} -m pip install opencv-python-headless onnxruntime", file=sys.stderr)
    return 0


if __name__ == "__main__" or _webui_launch() is not None:  # run by a host, not imported by a test
    main()
