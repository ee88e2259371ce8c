"""skelext as a real package: a wheel built from this tree, installed into a fresh venv, runs the
README's first command from another folder (model, script and stylesheet ship as package data)."""
from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from conftest import REPO_ROOT


def run(*args, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=300, **kwargs)
    assert result.returncode == 0, f"{args}\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
    return result


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory) -> Path:
    """A new venv holding only the wheel; the runtime dependencies (numpy, onnxruntime...) are seen
    through a .pth line naming this test environment's site-packages, so nothing is downloaded.
    (Folders named in a .pth are plain path entries: the editable install of this tree, made by
    .pth files inside that folder, is not active there.)"""
    base = tmp_path_factory.mktemp("package")
    wheels = base / "wheels"
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", wheels, REPO_ROOT,
        cwd=base)
    (wheel,) = wheels.glob("skelext-*.whl")
    venv = base / "venv"
    run(sys.executable, "-m", "venv", venv)
    python = venv / "bin" / "python"
    site = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip())
    (site / "zz_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run(python, "-m", "pip", "install", "-q", "--no-deps", "--no-index", wheel)
    return venv


def test_wheel_runs_the_readme_command_from_another_folder(fresh_venv, tmp_path):
    python = fresh_venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SKELEXT_COMPLETION_MODEL")}
    where = run(python, "-c", "import lib_skelext, lib_skelext.completion_model as cm, lib_skelext.ui.layout as ui;"
                              "print(lib_skelext.__file__); print(cm.DEFAULT_MODEL_PATH); print(ui.SCRIPT_PATH);"
                              "print(ui.STYLE_PATH)", cwd=tmp_path, env=env).stdout.split()
    assert all(str(fresh_venv) in p for p in where), where  # the installed copy, not this tree
    assert all(Path(p).is_file() for p in where[1:])
    example = REPO_ROOT / "examples" / "waist_up.json"
    result = run(python, "-m", "lib_skelext", "complete", example, "-o", "out/waist_up.json", "--render",
                 "out/waist_up.png", "--canvas", "expand", cwd=tmp_path, env=env)
    assert "out/waist_up.json" in result.stderr and "out/waist_up.png" in result.stderr
    assert (tmp_path / "out" / "waist_up.json").stat().st_size > 0
    assert (tmp_path / "out" / "waist_up.png").stat().st_size > 0
    script = fresh_venv / "bin" / "skelext"
    assert "skelext" in run(script, "--version", cwd=tmp_path, env=env).stdout
