"""The repository as a ComfyUI node pack: the root ``__init__.py`` as ComfyUI imports it (light,
no sys.path change), the tree still collected by pytest and usable by the WebUI, ``install.py``
without A1111's ``launch`` (ComfyUI-Manager), registry metadata in ``pyproject.toml``, the
licence, and the example workflows against the nodes' real inputs."""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "cv2", "onnxruntime", "mediapipe", "gradio", "fastapi", "pydantic", "PIL")

# ComfyUI v0.3.64 nodes.load_custom_node: the module name is the folder path, the spec is
# spec_from_file_location(name, <folder>/__init__.py), registered in sys.modules, then executed.
LOAD_AS_COMFYUI = """
import importlib.util, json, os, sys
folder = sys.argv[1]
name = folder.replace(".", "_x_")
spec = importlib.util.spec_from_file_location(name, os.path.join(folder, "__init__.py"))
module = importlib.util.module_from_spec(spec)
sys.modules[name] = module
path_before = list(sys.path)
spec.loader.exec_module(module)
print(json.dumps({"nodes": sorted(module.NODE_CLASS_MAPPINGS), "names": module.NODE_DISPLAY_NAME_MAPPINGS,
                  "heavy": [m for m in %r if m in sys.modules], "path_changed": sys.path != path_before,
                  "lib": sys.modules["lib_skelext"].__file__}))
""" % (HEAVY,)


def test_root_init_loads_as_comfyui_does_without_heavy_imports(tmp_path):
    pack = tmp_path / "custom_nodes" / "skelext"
    pack.parent.mkdir()
    pack.symlink_to(REPO, target_is_directory=True)  # as a clone in custom_nodes/ (any folder name)
    out = subprocess.run([sys.executable, "-c", LOAD_AS_COMFYUI, str(pack)], cwd=tmp_path, capture_output=True,
                         text=True, check=True)
    doc = json.loads(out.stdout)
    assert doc["nodes"] == ["SkelextCompletePose", "SkelextDetectPose", "SkelextLoadPose", "SkelextRenderPose",
                            "SkelextRetargetPose", "SkelextSavePose"]
    assert set(doc["names"]) == set(doc["nodes"])
    assert doc["heavy"] == [] and doc["path_changed"] is False
    assert Path(doc["lib"]).resolve() == (REPO / "lib_skelext" / "__init__.py").resolve()


def test_pytest_collects_the_tree_with_a_root_init():
    """A root __init__.py makes the repository a package: the tests must still import as before."""
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--collect-only",
                          "tests/test_pose.py"], cwd=REPO, capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert "error" not in out.stdout.lower() and " collected" in out.stdout


# ------------------------------------------------------------------ install.py
def load_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "launch", None)  # ComfyUI-Manager: `import launch` fails
    monkeypatch.delenv("SKELEXT_SKIP_INSTALL", raising=False)
    spec = importlib.util.spec_from_file_location("skelext_install_comfy", REPO / "install.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # importing runs nothing
    return module


def test_install_py_without_launch_uses_this_pythons_pip(monkeypatch):
    module = load_install(monkeypatch)
    calls = []
    monkeypatch.setattr(module.subprocess, "run", lambda cmd, check: calls.append(cmd))
    monkeypatch.setattr(module, "_has_module", lambda name: False)
    monkeypatch.setattr(module, "_dist_installed", lambda name: False)
    monkeypatch.setattr(module, "_numpy_major", lambda: 2)
    assert module.main() == 0
    assert calls and all(c[:3] == [sys.executable, "-m", "pip"] and c[3] == "install" for c in calls)
    wanted = [c[4] for c in calls]
    assert wanted == ["pillow", "opencv-python-headless", "safetensors", "tqdm", "onnxruntime"]
    assert all(any(a.startswith("numpy==") for a in c) for c in calls)
    assert not any(w in " ".join(map(str, calls)) for w in ("torch", "gradio", "fastapi"))

    calls.clear()  # a GPU onnxruntime is kept, present modules are not reinstalled
    monkeypatch.setattr(module, "_has_module", lambda name: name != "onnxruntime")
    monkeypatch.setattr(module, "_dist_installed", lambda name: name == "onnxruntime-gpu")
    module.main()
    assert calls == []


def test_install_py_picks_an_opencv_that_fits_numpy_1(monkeypatch):
    """Under numpy 1.x (the WebUI's; mediapipe 0.10.21's) OpenCV 4.12+ would need numpy 2: pip would
    either swap the host's numpy or report a conflict. The OpenCV asked for stays below 4.12."""
    module = load_install(monkeypatch)
    calls = []
    monkeypatch.setattr(module.subprocess, "run", lambda cmd, check: calls.append(cmd))
    monkeypatch.setattr(module, "_has_module", lambda name: name != "cv2")
    monkeypatch.setattr(module, "_dist_installed", lambda name: False)
    monkeypatch.setattr(module, "_numpy_major", lambda: 1)
    module.main()
    assert [c[4] for c in calls] == ["opencv-python-headless<4.12"]
    assert module.requirement_for("opencv-python-headless", 2) == "opencv-python-headless"
    assert module.requirement_for("tqdm", 1) == "tqdm"


def test_install_py_reports_a_failed_pip_in_one_line_and_exits_0(monkeypatch, capsys):
    module = load_install(monkeypatch)

    def fail(cmd, check):
        raise module.subprocess.CalledProcessError(1, cmd)

    monkeypatch.setattr(module.subprocess, "run", fail)
    monkeypatch.setattr(module, "_has_module", lambda name: name != "cv2")
    assert module.main() == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "could not install" in err[0] and sys.executable in err[0]


def test_install_py_runs_as_comfyui_manager_runs_it():
    """`python install.py` in the pack folder, no `launch` module: in this environment everything is
    present, so it installs nothing and exits 0 (before: ModuleNotFoundError: launch)."""
    env = {k: v for k, v in os.environ.items() if k != "SKELEXT_SKIP_INSTALL"}
    env["PYTHONPATH"] = ""
    out = subprocess.run([sys.executable, "install.py"], cwd=REPO, capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert "installing" not in out.stdout and "Traceback" not in out.stderr
    skipped = subprocess.run([sys.executable, "install.py"], cwd=REPO, capture_output=True, text=True,
                             env={**env, "SKELEXT_SKIP_INSTALL": "1"})
    assert skipped.returncode == 0 and skipped.stdout == "" and skipped.stderr == ""


def test_requirements_txt_never_lists_what_the_host_owns():
    lines = [ln.split("#")[0].strip().lower() for ln in (REPO / "requirements.txt").read_text().splitlines()]
    names = [ln for ln in lines if ln]
    assert names, "requirements.txt lists nothing"
    for owned in ("torch", "torchvision", "gradio", "fastapi", "numpy", "onnxruntime", "opencv"):
        assert not any(n.startswith(owned) for n in names), owned


# ------------------------------------------------------------------ registry metadata
def test_pyproject_has_what_the_comfy_registry_reads():
    tomllib = pytest.importorskip("tomllib")
    import lib_skelext

    doc = tomllib.loads((REPO / "pyproject.toml").read_text())
    project, comfy = doc["project"], doc["tool"]["comfy"]
    assert "comfyui" not in project["name"].lower()
    assert "version" not in project.get("dynamic", [])
    assert project["version"] == lib_skelext.__version__  # static, and the same as the package's
    assert [int(p) for p in project["version"].split(".")] and project["version"].count(".") == 2
    # an SPDX expression with its file (PEP 639): setuptools >= 77 warns about the older table form
    assert project["license"] == "MIT" and (REPO / "LICENSE").read_text().startswith("MIT License")
    assert all((REPO / f).is_file() for f in project["license-files"])
    assert project["urls"]["Repository"].startswith("https://")
    for key in ("PublisherId", "DisplayName", "Icon"):
        assert comfy[key], key
    assert (REPO / comfy["Icon"].split("/main/", 1)[1]).is_file()  # the icon the URL will serve
    assert all((REPO / p).exists() for p in comfy["includes"])
    for dep in project["dependencies"]:
        assert not dep.lower().startswith(("torch", "gradio", "fastapi"))


def test_licence_is_mit_and_names_the_data_terms():
    text = (REPO / "LICENSE").read_text()
    assert text.startswith("MIT License") and "MODEL_CARD.md" in text


# ------------------------------------------------------------------ example workflows
WORKFLOWS = sorted((REPO / "examples" / "comfyui").glob("*.json"))
CORE_NODES = {"LoadImage", "PreviewImage", "SaveImage"}


def widget_inputs(cls):
    """Inputs shown as widgets, in ComfyUI's order (links are not widgets)."""
    out = []
    for section in ("required", "optional"):
        for name, spec in cls.INPUT_TYPES().get(section, {}).items():
            kind = spec[0]
            if isinstance(kind, list) or kind in ("INT", "FLOAT", "STRING", "BOOLEAN"):
                out.append((name, spec))
    return out


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_example_workflow_uses_the_nodes_with_valid_values(path):
    from lib_skelext.comfyui.nodes import NODE_CLASS_MAPPINGS

    wf = json.loads(path.read_text())
    assert wf["nodes"] and wf["links"]
    ours = [n for n in wf["nodes"] if n["type"] in NODE_CLASS_MAPPINGS]
    assert ours and all(n["type"] in NODE_CLASS_MAPPINGS or n["type"] in CORE_NODES for n in wf["nodes"])
    for node in ours:
        widgets = widget_inputs(NODE_CLASS_MAPPINGS[node["type"]])
        values = node["widgets_values"]
        assert len(values) == len(widgets), node["type"]
        for (name, spec), value in zip(widgets, values):
            kind = spec[0]
            if isinstance(kind, list):
                assert value in kind, f"{node['type']}.{name}={value!r}"
            elif kind in ("INT", "FLOAT"):
                assert spec[1]["min"] <= value <= spec[1]["max"], f"{node['type']}.{name}"
            elif kind == "BOOLEAN":
                assert isinstance(value, bool)
    types_by_link = {link[0]: link[5] for link in wf["links"]}
    for node in ours:
        for inp in node.get("inputs", []):
            if inp.get("link") is not None:
                assert types_by_link[inp["link"]] == inp["type"]


def test_the_complete_example_runs_through_the_nodes():
    """The pasted pose of examples/comfyui/complete_pose.json, through load -> complete as wired."""
    pytest.importorskip("torch")
    from lib_skelext.comfyui.nodes import SkelextCompletePose, SkelextLoadPose

    wf = json.loads((REPO / "examples" / "comfyui" / "complete_pose.json").read_text())
    nodes = {n["type"]: n for n in wf["nodes"]}
    path, text = nodes["SkelextLoadPose"]["widgets_values"][:2]
    (poses,) = SkelextLoadPose().load(path=path, json_text=text)["result"]
    canvas, alternative, hands, face = nodes["SkelextCompletePose"]["widgets_values"][:4]
    completed, image = SkelextCompletePose().complete(poses, canvas=canvas, alternative=alternative,
                                                      draw_hands=hands, draw_face=face)["result"]
    assert sorted(completed[0]["people"][0]["skelext"]["completed"]) == [9, 10, 12, 13]
    assert image.shape[0] == 1


def test_workflows_stay_out_of_the_pose_examples_folder():
    """README's batch example completes every examples/*.json: only poses may sit there."""
    from lib_skelext.openpose_json import loads_frames

    for path in (REPO / "examples").glob("*.json"):
        frames, _ = loads_frames(path.read_bytes())
        assert frames, path
