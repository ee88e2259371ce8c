"""``check-host --browser``: the WebUI page in headless Chromium.

Runs ``webui_page.js`` with node and playwright-core (``npm install playwright-core``; no
browser download: it drives the system Chromium, ``/usr/bin/chromium`` or
``SKELEXT_CHROMIUM``). playwright-core is looked for in ``SKELEXT_NODE_MODULES``, then in
the repository's ``tests/browser/node_modules`` (``tools/setup.sh test`` installs it there),
then wherever node itself finds it. When something is missing every browser check is one
SKIP line saying what.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, List, Optional

from .report import Check

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "webui_page.js"
REPO_NODE_MODULES = HERE.parents[1] / "tests" / "browser" / "node_modules"
PAGE_CHECKS = ("page loads", "ControlNet panel lists the preprocessor with its sliders",
               "ControlNet preview draws a completed skeleton, Edit/JSON shown",
               "skelext tab runs and Send to ControlNet fills a unit; ControlNet's preview draws the pose",
               "Settings has the skelext section")


def _node_modules() -> List[str]:
    found = []
    for candidate in (os.environ.get("SKELEXT_NODE_MODULES"), str(REPO_NODE_MODULES)):
        if candidate and (Path(candidate) / "playwright-core").is_dir():
            found.append(candidate)
    return found


def skip_reason(node: Optional[str] = None) -> Optional[str]:
    """Why the browser checks cannot run here, or None."""
    node = node or shutil.which("node")
    if not SCRIPT.is_file():
        return f"{SCRIPT.name} is not installed beside {__name__} (run check-host from the extension's folder)"
    if node is None:
        return "node is not installed (needed to drive Chromium with playwright-core)"
    chromium = os.environ.get("SKELEXT_CHROMIUM", "/usr/bin/chromium")
    if not Path(chromium).exists():
        return f"Chromium not found at {chromium} (install it, or set SKELEXT_CHROMIUM)"
    env = dict(os.environ, NODE_PATH=os.pathsep.join(_node_modules()))
    probe = subprocess.run([node, "-e", "require.resolve('playwright-core')"], env=env, capture_output=True,
                           cwd=str(HERE))
    if probe.returncode != 0:
        return ("playwright-core not found: npm install playwright-core (no browser download) and set "
                "SKELEXT_NODE_MODULES to its node_modules folder")
    return None


def run_page_checks(url: str, *, auth: Any = None, screenshots: Optional[str] = None, timeout: float = 120.0,
                    photo: Optional[Path] = None, forge: bool = False) -> List[Check]:
    """The page checks, one ``Check`` each; screenshots (PNG) go to ``screenshots``."""
    reason = skip_reason()
    if reason is not None:
        return [Check(f"browser: {name}", False, reason, skipped=True) for name in PAGE_CHECKS]
    shots = Path(screenshots or "check-host-screenshots").resolve()
    env = dict(os.environ, NODE_PATH=os.pathsep.join(_node_modules()), SKELEXT_URL=url,
               SKELEXT_PHOTO=str(photo), SKELEXT_SHOTS=str(shots), SKELEXT_TIMEOUT_MS=str(int(timeout * 1000)),
               SKELEXT_FORGE="1" if forge else "0")
    try:
        proc = subprocess.run([shutil.which("node") or "node", str(SCRIPT)], env=env, capture_output=True,
                              text=True, timeout=timeout * 6 + 60, cwd=str(HERE))
    except subprocess.TimeoutExpired:
        return [Check("browser", False, f"the browser run took over {timeout * 6 + 60:.0f} s and was stopped")]
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    try:
        result = json.loads(lines[-1])
    except (IndexError, ValueError):
        tail = " ".join((proc.stderr or proc.stdout).split())[-300:]
        return [Check("browser", False, f"the browser script exited {proc.returncode} without a result: {tail}")]
    checks = [Check(f"browser: {c['name']}", bool(c["passed"]), c.get("detail", ""))
              for c in result.get("checks", [])]
    shots_taken = result.get("screenshots", [])
    if shots_taken:
        checks.append(Check("browser: screenshots", True,
                            f"{len(shots_taken)} in {shots}: " + "; ".join(
                                f"{Path(s['file']).name} ({s['what']})" for s in shots_taken)))
    return checks
