#!/usr/bin/env bash
# Build .venv-api: the current FastAPI / Starlette / pydantic 2 / numpy 2 (no gradio, no torch) for
# running the REST tests against today's releases, beside the WebUI's pinned fastapi 0.94 (.venv) and
# Forge's 0.112 (.venv-forge). FastAPI 0.137 changed how included routers are listed (app.routes),
# which only this environment exercises. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/venv.sh
VENV="${SKELEXT_API_VENV:-.venv-api}"
make_venv "$VENV"
"$VENV/bin/python" -m pip install --disable-pip-version-check -q fastapi==0.165.0 uvicorn httpx pytest hypothesis \
    numpy pillow opencv-python-headless onnxruntime safetensors tqdm
"$VENV/bin/python" - <<'PY'
import fastapi, numpy, pydantic, starlette
print("api env:", "fastapi", fastapi.__version__, "starlette", starlette.__version__, "pydantic", pydantic.VERSION,
      "numpy", numpy.__version__)
PY
