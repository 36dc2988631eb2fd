"""Helpers shared by the package command lines (zoo, tuning, recipes)."""

from __future__ import annotations

import ast
import sys

from . import _io

# The errors a user can cause; a CLI prints them on one line and exits 2.
USER_ERRORS = (ValueError, TypeError, FileNotFoundError, NotADirectoryError, PermissionError, FloatingPointError,
               _io.WriteFailed)


def parse_overrides(items: list[str] | None) -> dict:
    """``["dropout=0.3", "hidden_units=(16, 16)"]`` -> ``{"dropout": 0.3, "hidden_units": (16, 16)}``."""
    out = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        if not sep or not key.isidentifier():
            raise ValueError(f"--set: expected NAME=VALUE, got {item!r}")
        try:
            out[key] = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            out[key] = raw  # a bare word such as relu or he_normal
        except (RecursionError, MemoryError):  # thousands of nested brackets or unary minus signs
            raise ValueError(f"--set: {key}: the value ({len(raw)} characters) is nested too deeply to parse; "
                             "give a number, a string or a short tuple/list") from None
        except TypeError as exc:  # e.g. a set of lists: {[]}
            raise ValueError(f"--set: {key}: {raw[:40]!r} is not a valid value ({exc}); give a number, a string "
                             "or a tuple/list") from None
    return out


def run_cli(main, argv=None) -> int:
    """Call ``main(argv)``; print user errors as one line on stderr and return 2."""
    try:
        return main(argv) or 0
    except USER_ERRORS as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
