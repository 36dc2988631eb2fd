"""Optional extras (``setup.cfg``'s ``[options.extras_require]``): checked before the work that needs them.

``python -m zoo export --format onnx`` needs the ``export`` extra, ``python -m recipes
notebook`` the ``notebook`` extra. Without them the command would run (an export
takes seconds) and then end in a long traceback from deep inside a converter; a
:class:`MissingExtra` instead says, in one line, what is missing and the exact pip
command. It is a user error: a command line prints it and exits 2.

Example:
    >>> require("export", ("json",), "format: onnx")  # installed: nothing happens
    >>> print(missing_error("export", ["tf2onnx"], "format: onnx"))
    format: onnx needs tf2onnx, which is not installed: pip install "keras-recipes-zoo[export]"
"""

from __future__ import annotations

import importlib.util
import sys

#: The distribution name (setup.cfg's ``name``): what pip installs.
DISTRIBUTION = "keras-recipes-zoo"


class MissingExtra(ImportError):
    """A module of an optional extra is not installed; the message names it and the pip command."""


def pip_command(extra: str) -> str:
    """``pip install "keras-recipes-zoo[EXTRA]"``."""
    return f'pip install "{DISTRIBUTION}[{extra}]"'


def installed(module: str) -> bool:
    """Whether ``module`` can be imported, without importing it (``sys.modules[name] = None`` counts as missing)."""
    if module in sys.modules:
        return sys.modules[module] is not None
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package missing, or a blocked module
        return False


def require(extra: str, modules, what: str) -> None:
    """Raise :class:`MissingExtra` unless every one of ``modules`` can be imported.

    Args:
        extra: the extra that installs them (``"export"``, ``"notebook"``).
        modules: top-level module names.
        what: what needs them, for the message (``"format: onnx"``).
    """
    missing = [m for m in modules if not installed(m)]
    if missing:
        raise missing_error(extra, missing, what)


def missing_error(extra: str, missing, what: str) -> MissingExtra:
    """The one-line error for ``missing`` modules of ``extra``."""
    names = ", ".join(missing)
    verb = "is" if len(missing) == 1 else "are"
    return MissingExtra(f"{what} needs {names}, which {verb} not installed: {pip_command(extra)}")
