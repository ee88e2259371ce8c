#!/usr/bin/env bash
# Build .venv-forge: a Forge-like environment (gradio 4.40, fastapi 0.112, pydantic 2)
# for running the host/API tests under pydantic 2. Idempotent: re-running only
# installs what is missing. Pins are the ones verified in shared/host-notes.md.
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/venv.sh
VENV="${SKELEXT_FORGE_VENV:-.venv-forge}"
make_venv "$VENV"
PIP=("$VENV/bin/python" -m pip install --disable-pip-version-check -q)

# torch first (CPU wheel), then named again so nothing swaps it.
"${PIP[@]}" torch==2.13.0
"${PIP[@]}" torch==2.13.0 gradio==4.40.0 'huggingface_hub<1' fastapi==0.112.2 \
    numpy opencv-python-headless onnxruntime safetensors uvicorn httpx pytest tqdm pillow hypothesis
"$VENV/bin/python" - <<'PY'
import fastapi, gradio, pydantic, torch
print("forge env:", "fastapi", fastapi.__version__, "gradio", gradio.__version__,
      "pydantic", pydantic.VERSION, "torch", torch.__version__)
PY
