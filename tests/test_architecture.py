"""The shape of the packages: imports go one way (recipes -> tuning -> zoo), with no cycles.

The import graph is read from the source with ``ast`` (every ``import`` in a
module, at its top or inside a function), so a cycle that only shows when some
function runs is found too; each module is also imported for real.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("zoo", "tuning", "recipes")


def _modules() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


MODULES = _modules()


def _resolve(module: str, path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    base = package[: len(package) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(module: str, path: Path) -> set[str]:
    """The package modules ``module`` imports (``from a import b`` counts ``a.b`` when that is a module)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, path, node)
            names = [f"{target}.{alias.name}" if f"{target}.{alias.name}" in MODULES else target
                     for alias in node.names]
        else:
            continue
        for name in names:
            # the longest prefix that is one of our modules (``zoo.registry.resolve`` -> ``zoo.registry``)
            parts = name.split(".")
            for i in range(len(parts), 0, -1):
                if ".".join(parts[:i]) in MODULES:
                    if ".".join(parts[:i]) != module:
                        found.add(".".join(parts[:i]))
                    break
    return found


GRAPH = {module: _imports(module, path) for module, path in MODULES.items()}


def _is_within(module: str, other: str) -> bool:
    """A package's ``__init__`` importing its own submodules (and they it) is not a cycle of jobs."""
    return other.startswith(module + ".") or module.startswith(other + ".")


def test_no_import_cycles_between_modules():
    edges = {m: {d for d in deps if not _is_within(m, d)} for m, deps in GRAPH.items()}
    state, stack = {}, []

    def visit(m):
        state[m] = "open"
        stack.append(m)
        for d in sorted(edges[m]):
            if state.get(d) == "open":
                cycle = stack[stack.index(d):] + [d]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if d not in state:
                visit(d)
        stack.pop()
        state[m] = "done"

    for module in sorted(edges):
        if module not in state:
            visit(module)


@pytest.mark.parametrize("lower,upper", [("zoo", "tuning"), ("zoo", "recipes"), ("tuning", "recipes")])
def test_imports_only_go_down(lower, upper):
    climbing = sorted(f"{m} imports {d}" for m, deps in GRAPH.items() if m.split(".")[0] == lower
                      for d in deps if d.split(".")[0] == upper)
    assert not climbing, f"{lower} must not import {upper}: " + "; ".join(climbing)


def test_no_private_zoo_module_is_imported_from_outside_zoo():
    crossing = sorted(f"{m} imports {d}" for m, deps in GRAPH.items() if not m.startswith("zoo")
                      for d in deps if d.startswith("zoo.") and any(p.startswith("_") and not p.startswith("__")
                                                                   for p in d.split(".")))
    assert not crossing, "; ".join(crossing)


def _from_imports():
    """Every ``from OUR_MODULE import NAME`` (at the top or inside a function): (importer, module, name)."""
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                target = _resolve(module, path, node)
                if target in MODULES:
                    yield from ((module, target, alias.name) for alias in node.names if alias.name != "*")


def test_every_imported_name_exists():
    # An import inside a function runs only when the function does: a name that a rename left
    # behind (``from zoo import _io`` after ``_io`` became ``files``) is found here, not by a user.
    missing = sorted(f"{importer}: from {target} import {name}" for importer, target, name in _from_imports()
                     if f"{target}.{name}" not in MODULES
                     and not hasattr(importlib.import_module(target), name))
    assert not missing, "; ".join(missing)


def test_the_graph_sees_a_known_import():
    # The test above must be able to fail: the reader finds an import we know is there.
    assert "zoo.registry" in GRAPH["zoo.training"]
    assert "zoo.registry" in GRAPH["tuning.cv"]


@pytest.mark.parametrize("module", sorted(m for m in MODULES if not m.endswith("__main__")))
def test_every_module_imports(module):
    importlib.import_module(module)
