"""The layout keeps its promises: short modules (or a reason at the top), no import cycle, and the
module map at the top of lib_skelext/__init__.py names every module."""
from __future__ import annotations

import ast
from pathlib import Path

import lib_skelext
from conftest import REPO_ROOT

PACKAGE = REPO_ROOT / "lib_skelext"
MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_long_modules_say_why():
    for path in MODULES:
        lines = path.read_text(encoding="utf-8").count("\n")
        if lines > 300:
            doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
            assert "Over 300 lines on purpose" in doc, f"{path.relative_to(REPO_ROOT)}: {lines} lines, no reason"


def imported_modules(path: Path) -> set:
    """lib_skelext modules this file imports, at module level or lazily inside functions."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("lib_skelext"):
                if node.module:  # "from . import x" names modules, not the package itself
                    found.add(target)
                found.update(f"{target}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("lib_skelext"))
    known = {module_name(p) for p in MODULES}
    own_packages = {".".join(name.split(".")[:i]) for i in range(1, len(name.split(".")))}
    return {t for t in found if t in known and t != name and t not in own_packages}


def test_no_import_cycles():
    graph = {module_name(p): imported_modules(p) for p in MODULES}

    for start in graph:
        stack, seen = [(start, (start,))], set()
        while stack:
            node, path = stack.pop()
            for nxt in graph.get(node, ()):
                if nxt == start:
                    raise AssertionError("import cycle: " + " -> ".join(path + (nxt,)))
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, path + (nxt,)))


def test_module_map_names_every_module():
    doc = lib_skelext.__doc__ or ""
    for path in PACKAGE.iterdir():
        if path.name.startswith("_") or path.name == "__pycache__":
            continue
        name = path.stem if path.suffix == ".py" else path.name if path.is_dir() else None
        if name:
            assert f"``{name}" in doc, f"lib_skelext/__init__.py's module map lacks {name}"
