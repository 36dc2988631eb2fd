"""recipes: one runnable file per textbook topic of the study notes.

Each module ``recipes/<topic>.py`` reproduces an example, checks its numbers and
draws its figure; :func:`available` finds them, ordered by their ``ORDER``.

Example:
    >>> import recipes
    >>> "backprop" in recipes.available()        # doctest: +SKIP
    True
"""

from __future__ import annotations

import importlib
import pkgutil


def available() -> list[str]:
    """Names of every recipe module, in report order."""
    names = [m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")]
    modules = {n: importlib.import_module(f"{__name__}.{n}") for n in names}
    return sorted((n for n in names if hasattr(modules[n], "run")), key=lambda n: (modules[n].ORDER, n))


def load(name: str):
    """The recipe module ``name``.

    Raises:
        ValueError: unknown name; the message lists close matches.
    """
    import difflib

    names = available()
    if name not in names:
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
        hint = f"did you mean {' or '.join(map(repr, close))}? " if close else ""
        raise ValueError(f"unknown recipe {name!r}; {hint}known recipes: {', '.join(names)}")
    return importlib.import_module(f"{__name__}.{name}")
