"""What the extension adds to WebUI start-up: ``import lib_skelext`` + running ``scripts/skelext.py``.

    .venv/bin/python bench/bench_startup.py [--runs 15]

Each run is a fresh ``python`` process that installs the fake WebUI and ControlNet
modules of ``tests/fake_hosts`` (as the tests do), then times, with
``time.perf_counter``:

* ``import``: ``import lib_skelext``;
* ``script``: executing ``scripts/skelext.py`` as the WebUI does (``runpy.run_path``):
  registering ``dwpose_full`` with ControlNet and the three callbacks.

Two set-ups, median of ``--runs`` each:

* ``in WebUI``: numpy, PIL, fastapi, gradio and torch (those installed) are
  imported before the clock starts, as they are when the WebUI loads extensions;
  this is the time the extension adds (target < 100 ms);
* ``cold``: nothing pre-imported (numpy and PIL are then paid here too).

It also prints which heavy modules (torch, onnxruntime, cv2, mediapipe, gradio,
fastapi) the extension itself imported. Asserts nothing.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FAKES = REPO / "tests" / "fake_hosts"
HEAVY = ("torch", "onnxruntime", "cv2", "mediapipe", "gradio", "fastapi", "scipy", "safetensors")

CHILD = r"""
import importlib.util, json, runpy, sys, time, types
repo, fakes, preload = sys.argv[1], sys.argv[2], sys.argv[3].split(",") if sys.argv[3] else []
for name in preload:
    try:
        __import__(name)
    except ImportError:
        pass
sys.path.insert(0, repo)

def load(name, path, package=False):
    spec = importlib.util.spec_from_file_location(
        name, path, submodule_search_locations=[str(path.rsplit("/", 1)[0])] if package else None)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    if parent in sys.modules:
        setattr(sys.modules[parent], child, module)
    spec.loader.exec_module(module)
    return module

web = fakes + "/webui/modules"
load("modules", web + "/__init__.py", package=True)
for sub in ("script_callbacks", "shared", "paths"):
    load("modules." + sub, web + "/" + sub + ".py")
cn = fakes + "/controlnet/scripts"
scripts = types.ModuleType("scripts"); scripts.__path__ = [cn]; sys.modules["scripts"] = scripts
load("scripts.supported_preprocessor", cn + "/supported_preprocessor.py")
load("scripts.api_detect", cn + "/api_detect.py")
sys.modules["modules_forge"] = None  # AUTOMATIC1111: no Forge
before = set(sys.modules)
t0 = time.perf_counter()
import lib_skelext
t1 = time.perf_counter()
runpy.run_path(repo + "/scripts/skelext.py", run_name="skelext_script")
t2 = time.perf_counter()
new = set(sys.modules) - before
registered = sorted(sys.modules["scripts.supported_preprocessor"].Preprocessor.all_processors_by_name)
callbacks = {k: len(v) for k, v in sys.modules["modules.script_callbacks"].callback_map.items() if v}
print(json.dumps({"import_ms": (t1 - t0) * 1e3, "script_ms": (t2 - t1) * 1e3, "total_ms": (t2 - t0) * 1e3,
                  "new_modules": sorted(new), "registered": registered, "callbacks": callbacks}))
"""

PRELOAD_WEBUI = "numpy,PIL.Image,fastapi,pydantic,gradio,torch,safetensors"


def one_run(preload: str) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(REPO), str(FAKES), preload], capture_output=True,
                         text=True, timeout=300, env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    print(f"python {sys.version.split()[0]}; cpus={os.cpu_count()}; {args.runs} fresh processes per set-up; "
          f"median (min) ms")
    print(f"{'set-up':10s} {'import lib_skelext':>20s} {'scripts/skelext.py':>20s} {'total':>16s}  heavy modules "
          f"the extension imported")
    for label, preload in (("in WebUI", PRELOAD_WEBUI), ("cold", "")):
        runs = [one_run(preload) for _ in range(args.runs)]
        cols = []
        for key in ("import_ms", "script_ms", "total_ms"):
            values = [r[key] for r in runs]
            cols.append(f"{statistics.median(values):8.1f} ({min(values):6.1f})")
        heavy = sorted({m.split(".")[0] for r in runs for m in r["new_modules"] if m.split(".")[0] in HEAVY})
        print(f"{label:10s} {cols[0]:>20s} {cols[1]:>20s} {cols[2]:>16s}  {', '.join(heavy) or 'none'}")
    print(f"registered with the fake ControlNet: {', '.join(runs[-1]['registered'])}; "
          f"WebUI callbacks: {runs[-1]['callbacks']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
