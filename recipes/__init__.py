"""recipes: one runnable file per textbook topic of the study notes.

Each module ``recipes/<topic>.py`` reproduces an example, checks its numbers and
draws its figure; :func:`available` finds them, ordered by their ``ORDER``.
The list and the titles are read from the files' text (``ast``), without
importing a recipe, so that ``python -m recipes list`` does not start TensorFlow.

Example:
    >>> import recipes
    >>> recipes.available()[:2]
    ['dense_layers', 'backprop']
    >>> recipes.titles()["backprop"]
    'Forward and backward propagation by hand (순전파, 역전파)'
"""

from __future__ import annotations

import ast
import functools
import importlib
import pkgutil
from pathlib import Path


@functools.lru_cache(maxsize=None)
def _headers() -> dict[str, dict]:
    """``{name: {"ORDER": ..., "TITLE": ...}}`` for every module that defines ``run``."""
    found = {}
    for module in pkgutil.iter_modules(__path__):
        if module.name.startswith("_"):
            continue
        path = Path(__path__[0]) / f"{module.name}.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        header, has_run = {}, False
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name == "run":
                has_run = True
            elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                key = node.targets[0].id
                if key in ("ORDER", "TITLE"):
                    try:
                        header[key] = ast.literal_eval(node.value)
                    except ValueError:
                        raise ValueError(f"recipes/{module.name}.py: {key} must be a literal") from None
        if has_run:
            if "ORDER" not in header or "TITLE" not in header:
                raise ValueError(f"recipes/{module.name}.py defines run() but not ORDER and TITLE")
            found[module.name] = header
    return found


def available() -> list[str]:
    """Names of every recipe module, in report order (``ORDER``, then name)."""
    headers = _headers()
    return sorted(headers, key=lambda n: (headers[n]["ORDER"], n))


def titles() -> dict[str, str]:
    """``{name: TITLE}`` of every recipe, in report order, read without importing them."""
    headers = _headers()
    return {n: headers[n]["TITLE"] for n in available()}


def check_name(name: str) -> str:
    """Return ``name`` if it is a recipe.

    Raises:
        ValueError: unknown name; the message lists close matches.
    """
    from zoo import checks

    names = available()
    if name not in names:
        hint = checks.did_you_mean(name, names)
        raise ValueError(f"unknown recipe {name!r}; {hint}known recipes: {', '.join(names)}")
    return name


def load(name: str):
    """The recipe module ``name``.

    Raises:
        ValueError: unknown name; the message lists close matches.
    """
    return importlib.import_module(f"{__name__}.{check_name(name)}")
