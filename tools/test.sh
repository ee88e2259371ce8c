#!/usr/bin/env bash
# Set up everything the tests need (tools/setup.sh test), then run them:
# the whole suite in the A1111-like .venv, then the host/API/UI tests again in
# the Forge-like .venv-forge (gradio 4, pydantic 2), and the REST tests in .venv-api (the current FastAPI).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh test
status=0
echo "== pytest in .venv (gradio 3.41.2, fastapi 0.94, pydantic 1) =="
.venv/bin/python -m pytest -q -p no:cacheprovider "$@" tests || status=$?
FORGE_TESTS=$(cat tests/FORGE_TESTS 2>/dev/null | grep -v '^#' | xargs -r -I{} echo tests/{} || true)
if [ -n "$FORGE_TESTS" ]; then
  echo "== pytest in .venv-forge (gradio 4.40, fastapi 0.112, pydantic 2) =="
  .venv-forge/bin/python -m pytest -q -p no:cacheprovider $FORGE_TESTS || status=$?
fi
API_TESTS=$(cat tests/API_TESTS 2>/dev/null | grep -v '^#' | xargs -r -I{} echo tests/{} || true)
if [ -n "$API_TESTS" ]; then
  echo "== pytest in .venv-api (fastapi 0.165, pydantic 2, numpy 2) =="
  .venv-api/bin/python -m pytest -q -p no:cacheprovider $API_TESTS || status=$?
fi
exit $status
