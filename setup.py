"""Build hook only (metadata lives in pyproject.toml): ship the files that sit at the repository root
for the hosts (the model weights in ``models/``, ``javascript/skelext.js``, ``style.css``: the WebUI
loads the last two from the extension root) inside the wheel as ``lib_skelext/_assets/``, where
``lib_skelext.assets`` finds them through ``importlib.resources``."""
from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
#: (source glob under the repository root, folder under lib_skelext/_assets)
ASSETS = (("models/*.safetensors", "models"), ("javascript/*.js", "javascript"), ("style.css", "."))


class BuildWithAssets(build_py):
    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "lib_skelext" / "_assets"
        for pattern, folder in ASSETS:
            for source in sorted(ROOT.glob(pattern)):
                (target / folder).mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target / folder / source.name)


setup(cmdclass={"build_py": BuildWithAssets})
