"""``check-host --browser`` plumbing: SKIP lines when node, Chromium or playwright-core are
missing, and how the page script's JSON result becomes check lines. (The page script itself
runs against the real WebUI and Forge: see docs/hostcheck.md.)"""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from lib_skelext.hostcheck import browser


def test_missing_node_skips_every_page_check(monkeypatch):
    monkeypatch.setattr(browser.shutil, "which", lambda name: None)
    checks = browser.run_page_checks("http://127.0.0.1:9")
    assert [c.name for c in checks] == [f"browser: {n}" for n in browser.PAGE_CHECKS]
    assert all(c.skipped and "node is not installed" in c.detail for c in checks)


def test_missing_chromium_skips(monkeypatch, tmp_path):
    monkeypatch.setenv("SKELEXT_CHROMIUM", str(tmp_path / "no-chromium"))
    monkeypatch.setattr(browser.shutil, "which", lambda name: "/usr/bin/node")
    reason = browser.skip_reason()
    assert reason.startswith("Chromium not found at") and str(tmp_path / "no-chromium") in reason


def fake_node(tmp_path: Path, stdout: str, rc: int = 0) -> Path:
    """An executable standing in for node: answers the playwright-core probe, prints ``stdout``."""
    script = tmp_path / "node"
    script.write_text("#!/bin/sh\n"
                      "if [ \"$1\" = \"-e\" ]; then exit 0; fi\n"
                      f"cat <<'JSON'\n{stdout}\nJSON\nexit {rc}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def test_page_results_become_check_lines(monkeypatch, tmp_path):
    chromium = tmp_path / "chromium"
    chromium.write_text("")
    monkeypatch.setenv("SKELEXT_CHROMIUM", str(chromium))
    result = {"checks": [{"name": "page loads", "passed": True, "detail": "Stable Diffusion"},
                         {"name": "Settings has the skelext section", "passed": False, "detail": "timeout"}],
              "screenshots": [{"file": str(tmp_path / "01_txt2img.png"), "what": "the txt2img tab"}]}
    node = fake_node(tmp_path, "[browser] noise\n" + json.dumps(result))
    monkeypatch.setattr(browser.shutil, "which", lambda name: str(node))
    checks = browser.run_page_checks("http://127.0.0.1:9", screenshots=str(tmp_path / "shots"), timeout=5)
    assert [(c.name, c.passed) for c in checks] == [
        ("browser: page loads", True), ("browser: Settings has the skelext section", False),
        ("browser: screenshots", True)]
    assert "01_txt2img.png (the txt2img tab)" in checks[-1].detail
    assert str((tmp_path / "shots").resolve()) in checks[-1].detail


def test_script_without_result_is_one_failed_line(monkeypatch, tmp_path):
    chromium = tmp_path / "chromium"
    chromium.write_text("")
    monkeypatch.setenv("SKELEXT_CHROMIUM", str(chromium))
    node = fake_node(tmp_path, "Error: Cannot find module 'playwright-core'", rc=1)
    monkeypatch.setattr(browser.shutil, "which", lambda name: str(node))
    checks = browser.run_page_checks("http://127.0.0.1:9", timeout=5)
    assert len(checks) == 1 and not checks[0].passed
    assert "exited 1 without a result" in checks[0].detail and "playwright-core" in checks[0].detail


def test_page_script_ships_beside_the_module():
    assert browser.SCRIPT.is_file() and "playwright-core" in browser.SCRIPT.read_text()
    assert os.path.basename(browser.SCRIPT) == "webui_page.js"
