#!/usr/bin/env bash
# Set up skelext on a fresh machine (Python 3.10/3.11, pip, network to PyPI).
#   tools/setup.sh        runtime only: .venv with the library and its CLI
#   tools/setup.sh test   everything the tests need: .venv (A1111-like: gradio 3.41.2,
#                         fastapi 0.94, pydantic 1), .venv-forge (gradio 4.40, pydantic 2),
#                         Chromium for the browser tests
# Idempotent: a second run only checks. torch is installed only for tests/training,
# always as torch==2.13.0 (CPU wheel) so nothing pulls a CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE="${1:-runtime}"
PY="${PYTHON:-python3}"
PIP_QUIET="-q"
log() { echo "[setup] $*" >&2; }
# skelext itself, editable (setuptools' "Editable installation" notice silenced: it names no problem)
install_self() { PYTHONWARNINGS=ignore "$1/bin/python" -m pip install $PIP_QUIET --no-deps -e .; }

make_venv() {  # $1 = folder
  if [ ! -x "$1/bin/python" ]; then
    log "creating $1"
    "$PY" -m venv "$1"
    "$1/bin/python" -m pip install $PIP_QUIET --upgrade pip
  fi
}

RUNTIME_DEPS=(numpy pillow safetensors opencv-python-headless onnxruntime tqdm)

make_venv .venv
if [ "$MODE" = "runtime" ]; then
  log "installing runtime dependencies into .venv"
  .venv/bin/python -m pip install $PIP_QUIET "${RUNTIME_DEPS[@]}"
  install_self .venv
  log "done: .venv/bin/python -m lib_skelext --help"
  exit 0
fi
if [ "$MODE" != "test" ]; then
  echo "usage: tools/setup.sh [test]" >&2
  exit 2
fi

if [ ! -f .venv/.skelext-test-deps ]; then
  log "installing the A1111-like test environment into .venv"
  .venv/bin/python -m pip install $PIP_QUIET torch==2.13.0
  .venv/bin/python -m pip install $PIP_QUIET torch==2.13.0 gradio==3.41.2 fastapi==0.94.0 'pydantic<2' 'numpy<2' \
    opencv-python-headless onnxruntime safetensors uvicorn httpx pytest tqdm matplotlib scipy pillow
  .venv/bin/python -m pip install $PIP_QUIET torch==2.13.0 'numpy<2' mediapipe==0.10.21 onnx hypothesis schemathesis
  install_self .venv
  touch .venv/.skelext-test-deps
fi

if [ ! -f .venv-forge/.skelext-test-deps ]; then
  log "installing the Forge-like test environment into .venv-forge"
  bash .ci/setup_forge_env.sh
  install_self .venv-forge
  touch .venv-forge/.skelext-test-deps
fi

if [ ! -f .venv-api/.skelext-test-deps ]; then
  log "installing the current-FastAPI test environment into .venv-api"
  bash .ci/setup_api_env.sh
  install_self .venv-api
  touch .venv-api/.skelext-test-deps
fi

if ! command -v chromium >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    log "installing Debian chromium + chromium-driver for the browser tests"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver) >/dev/null \
      || log "could not install chromium: browser tests will be skipped"
  else
    log "chromium not found and cannot be installed here: browser tests will be skipped"
  fi
fi
if [ -f tests/browser/package.json ] && [ ! -d tests/browser/node_modules ] && command -v npm >/dev/null 2>&1; then
  log "installing playwright-core (no browser download)"
  (cd tests/browser && npm install --silent --no-audit --no-fund) \
    || log "could not install playwright-core: browser tests will be skipped"
fi
log "test environments ready"
