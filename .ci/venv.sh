# Sourced by the .ci/setup_*_env.sh scripts: make_venv DIR creates a venv there (python3.11 when
# present, else python3; $PYTHON overrides) unless one exists.
make_venv() {
    local py="${PYTHON:-python3.11}"
    command -v "$py" >/dev/null 2>&1 || py=python3
    [ -x "$1/bin/python" ] || "$py" -m venv "$1"
}
