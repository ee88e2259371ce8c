"""Issue #24: what the docs say the code has, the code has.

Each check here caught a real drift once:

* ``lib_skelext/api/__init__.py`` documented ``build_router(detectors=...)``, a parameter that
  never existed, and listed neither ``POST retarget`` nor most of ``complete``'s fields;
  ``docs/webui-and-api.md`` had the same hook and route table;
* the module map in ``lib_skelext/__init__.py`` put ``edit_session`` and ``editor_svg`` under
  ``ui/`` (they are top-level modules); ``tests/test_layout.py`` checks that the map names every
  module somewhere, this file that each entry exists where the map says, and that every module
  is an entry (outside another entry's brackets);
* ``docs/webui-and-api.md`` showed the start-up line of version 0.1.0;
* ``host.mount_api`` mounted the API twice on FastAPI 0.137+ (its "already mounted" check read
  ``app.routes`` paths, which those releases no longer list for an included router).

Runs under both pydantic majors and any FastAPI (0.94, 0.112, 0.137.0, 0.165 checked).
"""
from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path
from typing import Dict, List, Set, Tuple

import pytest

import lib_skelext
from conftest import REPO_ROOT

PACKAGE = REPO_ROOT / "lib_skelext"
WEBUI_DOC = REPO_ROOT / "docs" / "webui-and-api.md"
IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
TICKS = re.compile(r"``([^`]+)``")


# ------------------------------------------------------------ the api package's docstring
def api_doc() -> str:
    import lib_skelext.api as api

    return api.__doc__ or ""


def keyword_names(text: str) -> List[str]:
    """``name=`` in text (not ``==``, ``!=``, ``<=``, ``>=``)."""
    return re.findall(r"(?<![\w=!<>*])([a-z_][a-z0-9_]*)=(?!=)", text)


def build_router_parameters() -> Set[str]:
    from lib_skelext.api import build_router

    return set(inspect.signature(build_router).parameters)


def test_api_docstring_parameters_are_build_routers():
    """Every ``name=`` in the docstring is a parameter of build_router, and each parameter is documented."""
    documented = set(keyword_names(api_doc()))
    params = build_router_parameters()
    assert documented, "the api docstring documents no build_router parameter"
    assert not documented - params, f"documented but not build_router parameters: {sorted(documented - params)}"
    assert not params - documented, f"build_router parameters the docstring omits: {sorted(params - documented)}"


def test_webui_doc_build_router_call_uses_real_parameters():
    calls = re.findall(r"build_router\(([^)]*)\)", WEBUI_DOC.read_text(encoding="utf-8"))
    assert calls, "docs/webui-and-api.md no longer shows build_router(...)"
    params = build_router_parameters()
    for args in calls:
        unknown = set(keyword_names(args)) - params
        assert not unknown, f"docs/webui-and-api.md: build_router({args}) has no parameter {sorted(unknown)}"


def app_routes() -> Dict[Tuple[str, str], Dict]:
    """(METHOD, name) -> the request schema (or {}) of every /skelext/v1 route, from the OpenAPI document."""
    from lib_skelext.api import PREFIX, create_app

    spec = create_app().openapi()
    components = spec.get("components", {}).get("schemas", {})
    found = {}
    for path, operations in spec["paths"].items():
        if not path.startswith(PREFIX + "/"):
            continue
        for method, op in operations.items():
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            found[(method.upper(), path[len(PREFIX) + 1:])] = resolve(body, components)
    assert found, "the app has no /skelext/v1 route"
    return found


def resolve(schema: Dict, components: Dict) -> Dict:
    """A schema with its ``$ref`` (also inside allOf, as pydantic 2 writes some) followed."""
    if "$ref" in schema:
        return resolve(components[schema["$ref"].rsplit("/", 1)[-1]], components)
    for key in ("allOf", "anyOf"):
        if len(schema.get(key, ())) == 1:
            return resolve(schema[key][0], components)
    return schema


def enum_values(schema: Dict, components: Dict) -> Set[str]:
    found: Set[str] = set()
    stack = [schema]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if "$ref" in item:
                stack.append(components[item["$ref"].rsplit("/", 1)[-1]])
            found.update(str(v) for v in item.get("enum", ()))
            if "const" in item:
                found.add(str(item["const"]))
            stack.extend(v for k, v in item.items() if k != "$ref")
        elif isinstance(item, list):
            stack.extend(item)
    return found


def docstring_routes() -> Dict[Tuple[str, str], Set[str]]:
    """(METHOD, name) -> the fields listed after "Fields:" in the docstring's route bullets."""
    routes = {}
    for bullet in re.finditer(r"^\* ``(GET|POST) (\w+)``(.*?)(?=^\* |\n\n|\Z)", api_doc(), re.M | re.S):
        fields = re.search(r"Fields: ([^.]*)\.", bullet.group(3))
        routes[(bullet.group(1), bullet.group(2))] = (
            {f.strip() for f in fields.group(1).replace("\n", " ").split(",")} if fields else set())
    return routes


def test_api_docstring_lists_every_route_and_its_fields():
    documented = docstring_routes()
    actual = app_routes()
    assert set(documented) == set(actual), (
        f"routes documented but missing: {sorted(set(documented) - set(actual))}; "
        f"routes not documented: {sorted(set(actual) - set(documented))}")
    for route, schema in actual.items():
        fields = set(schema.get("properties", {}))
        assert documented[route] == fields, (route, "documented, not fields:", sorted(documented[route] - fields),
                                             "fields, not documented:", sorted(fields - documented[route]))


def webui_doc_table() -> Dict[Tuple[str, str], str]:
    """(METHOD, name) -> the body column of docs/webui-and-api.md's route table."""
    rows = re.findall(r"^\| `(GET|POST) (\w+)` \| (.*?) \| .* \|$", WEBUI_DOC.read_text(encoding="utf-8"), re.M)
    return {(method, name): body for method, name, body in rows}


def test_webui_doc_route_table_matches_the_router():
    from lib_skelext.api import create_app

    components = create_app().openapi().get("components", {}).get("schemas", {})
    table = webui_doc_table()
    actual = app_routes()
    assert set(table) == set(actual), (
        f"table rows without a route: {sorted(set(table) - set(actual))}; "
        f"routes without a row: {sorted(set(actual) - set(table))}")
    for route, schema in actual.items():
        fields = set(schema.get("properties", {}))
        named = {t for t in re.findall(r"`([^`]+)`", table[route]) if IDENT.match(t)}
        assert fields <= named, (route, "fields the table omits:", sorted(fields - named))
        allowed = fields | enum_values(schema, components)
        assert named <= allowed, (route, "neither fields nor choices:", sorted(named - allowed))


def test_detector_field_takes_only_the_builtin_names():
    """As documented: a factory registered under a new name is not reachable over REST (422)."""
    from api_client import Client
    from lib_skelext import detectors
    from lib_skelext.api import PREFIX, create_app

    previous = detectors.register_factory("elsewhere", lambda *args: object())
    try:
        r = Client(create_app()).post(f"{PREFIX}/detect", json={"image": "x", "detector": "elsewhere"})
    finally:
        detectors.register_factory("elsewhere", previous)
    assert r.status_code == 422, r.text[:200]


# ------------------------------------------------------------------ the start-up line
def normalised(text: str) -> str:
    return " ".join(text.split())


def test_webui_doc_start_up_lines_are_what_the_code_prints():
    from lib_skelext.host import startup_line

    doc = WEBUI_DOC.read_text(encoding="utf-8")
    versions = re.findall(r"skelext (\d+\.\d+\.\d+\S*):", doc)
    assert versions, "docs/webui-and-api.md shows no start-up line"
    assert set(versions) == {lib_skelext.__version__}, (versions, lib_skelext.__version__)
    for done in ({"controlnet": True}, {"controlnet": False, "forge": False}):
        line = startup_line(done, False)
        assert normalised(line) in normalised(doc), f"docs/webui-and-api.md lacks the line {line!r}"


# ----------------------------------------------------------------------- the module map
def module_map_bullets() -> List[str]:
    doc = lib_skelext.__doc__ or ""
    section = doc[doc.index("Module map"):]
    section = section[section.index("\n* "):]
    section = section.split("\n\n")[0]
    return [b.replace("\n", " ") for b in re.split(r"\n\* ", "\n" + section.strip())[1:]]


def split_by_depth(text: str) -> Tuple[List[str], List[str]]:
    """(``names`` outside brackets, ``names`` inside brackets) of one bullet."""
    outside, inside, depth = [], [], 0
    for match in re.finditer(r"``([^`]+)``|[()]", text):
        token = match.group(0)
        if token == "(":
            depth += 1
        elif token == ")":
            depth = max(depth - 1, 0)
        else:
            (inside if depth else outside).append(match.group(1))
    return outside, inside


def top_level_modules() -> Set[str]:
    """lib_skelext's own modules (``name``) and packages (``name/``), private ones left out."""
    found = set()
    for path in PACKAGE.iterdir():
        if path.name.startswith("_") or path.name == "__pycache__":
            continue
        if path.suffix == ".py":
            found.add(path.stem)
        elif path.is_dir() and (path / "__init__.py").is_file():
            found.add(path.name + "/")
    return found


def map_entry_exists(entry: str) -> bool:
    """``name/``: a package; ``name``: a module (or a package written without the slash)."""
    package = (PACKAGE / entry.rstrip("/") / "__init__.py").is_file()
    return package if entry.endswith("/") else package or (PACKAGE / f"{entry}.py").is_file()


def defined_names() -> Set[str]:
    """Every module name and every name bound at module level anywhere in lib_skelext."""
    names = set()
    for path in PACKAGE.rglob("*.py"):
        names.add(path.stem)
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Assign):
                names.update(t.id for t in node.targets if isinstance(t, ast.Name))
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                names.add(node.target.id)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names.update((a.asname or a.name).split(".")[0] for a in node.names)
    for path in PACKAGE.rglob("__init__.py"):
        names.add(path.parent.name)
    return names


def test_module_map_entries_exist_where_it_says():
    entries = [e for bullet in module_map_bullets() for e in split_by_depth(bullet)[0]]
    assert len(entries) > 20, entries
    missing = [e for e in entries if not map_entry_exists(e)]
    assert not missing, f"lib_skelext/__init__.py's module map names modules that are not there: {missing}"


def test_module_map_lists_every_module_as_an_entry():
    """Extends test_layout.test_module_map_names_every_module: each module is an entry of its own,
    not only a word inside another entry's brackets (which reads as "part of that one")."""
    entries = {e for bullet in module_map_bullets() for e in split_by_depth(bullet)[0]}
    entries |= {e + "/" for e in entries if (PACKAGE / e).is_dir()}
    missing = sorted(m for m in top_level_modules() if m not in entries)
    assert not missing, (f"modules only inside another entry's brackets, or absent, in lib_skelext/__init__.py's "
                         f"module map: {missing}")


def test_module_map_names_in_brackets_exist():
    names = defined_names()
    unknown = sorted({n for bullet in module_map_bullets() for n in split_by_depth(bullet)[1]
                      if IDENT.match(n) and n not in names})
    assert not unknown, f"the module map names what lib_skelext does not define: {unknown}"


def test_data_flow_names_exist():
    doc = lib_skelext.__doc__ or ""
    flow = doc[:doc.index("Module map")]
    modules = {m.rstrip("/") for m in top_level_modules()}
    for module, attr in set(re.findall(r"\b([a-z_]+)\.([A-Za-z_]\w*)", flow)):
        if module not in modules:
            continue
        assert hasattr(importlib.import_module(f"lib_skelext.{module}"), attr), f"{module}.{attr}"


# ------------------------------------------------------------------- mounted once
def skelext_paths(app) -> List[str]:
    """Every /skelext/v1 route path of an app, on any FastAPI (0.137+ nests included routers)."""
    from lib_skelext.api import PREFIX

    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # before 0.137 flat; 0.137.0/0.137.1 nest without this function
        routes = [r for route in app.routes
                  for r in getattr(getattr(route, "original_router", None), "routes", [route])]
    else:
        routes = list(iter_route_contexts(app.routes))
    return [str(r.path) for r in routes if str(getattr(r, "path", "") or "").startswith(PREFIX + "/")]


@pytest.fixture
def no_api_auth(monkeypatch):
    from lib_skelext.host import options

    monkeypatch.setattr(options, "api_auth", lambda: None)


def test_mount_api_twice_mounts_once(no_api_auth):
    from fastapi import FastAPI

    from api_client import Client
    from lib_skelext import host

    app = FastAPI()
    assert host.mount_api(app) is True
    assert host.mount_api(app) is False
    paths = skelext_paths(app)
    assert "/skelext/v1/info" in paths and len(paths) == len(set(paths)), paths
    assert Client(app).get("/skelext/v1/info").status_code == 200


def test_mount_api_sees_a_router_mounted_by_someone_else(no_api_auth):
    """Another copy of the extension (or a program) included the router: no mark, found by its routes."""
    from fastapi import FastAPI

    from lib_skelext import host
    from lib_skelext.api import build_router

    app = FastAPI()
    app.include_router(build_router())
    assert host.mount_api(app) is False
    paths = skelext_paths(app)
    assert len(paths) == len(set(paths)), paths


def test_mounted_routes_all_ask_for_api_auth(monkeypatch):
    from fastapi import FastAPI

    from api_client import Client
    from lib_skelext import host
    from lib_skelext.host import options

    monkeypatch.setattr(options, "api_auth", lambda: "alice:s3cret")
    app = FastAPI()
    host.mount_api(app)
    client = Client(app)
    paths = skelext_paths(app)
    assert {"/skelext/v1/info", "/skelext/v1/complete", "/skelext/v1/detect", "/skelext/v1/render"} <= set(paths)
    for path in paths:
        method = "GET" if path.endswith("/info") else "POST"
        r = client.request(method, path, json={} if method == "POST" else None)
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Basic", (path, r.status_code)
    assert client.get("/skelext/v1/info", auth=("alice", "s3cret")).status_code == 200
