"""What every recipe shares: its result (checks, figures, tables) and its ``main()``.

A recipe module defines ``TITLE``, ``ORDER`` (its place in the report), ``SOURCE``
(which note or book section it reproduces) and ``run(out_dir, quick=True)``,
which builds a :class:`Recipe`, records checks, figures and tables on it, and
returns ``recipe.result()``.

Example:
    >>> from recipes._recipe import Recipe
    >>> r = Recipe("demo", "/tmp/demo")
    >>> r.check_close("1 + 1", 2.0, 1.0 + 1.0)
    True
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from zoo import files


@dataclass
class Check:
    """One number (or fact) the recipe reproduces: what the book says against what we got."""

    name: str
    expected: str
    measured: str
    passed: bool


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list]

    def markdown(self, *, escape: bool = True) -> str:
        """The table in Markdown; each value formatted by :func:`_fmt` and escaped by :func:`md_text`
        (``escape=False``: cells as plain text on one line, for a terminal)."""
        cell = md_text if escape else (lambda v: " ".join(str(v).split()))
        head = "| " + " | ".join(cell(c) for c in self.columns) + " |\n|" + "---|" * len(self.columns) + "\n"
        return head + "".join("| " + " | ".join(cell(_fmt(v)) for v in row) + " |\n" for row in self.rows)

    def _repr_markdown_(self) -> str:
        """How a notebook shows a table that a cell returns (``r.table(...)`` last in a cell)."""
        return f"**{md_text(self.title)}**\n\n{self.markdown()}"


@dataclass
class Result:
    name: str
    title: str
    source: str
    quick: bool
    checks: list[Check] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)  # paths relative to out_dir
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    def to_dict(self) -> dict:
        return {**asdict(self), "passed": self.passed}


class Recipe:
    """Collects a recipe's checks, figures and tables while it runs.

    Args:
        name: the recipe's module name (``"backprop"``).
        out_dir: folder for figures; created if needed.
        title, source: copied into the report.
        quick: whether the recipe runs in its fast (test) mode.
    """

    def __init__(self, name: str, out_dir, *, title: str = "", source: str = "", quick: bool = True):
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._result = Result(name=name, title=title or name, source=source, quick=quick)
        self._start = time.perf_counter()

    # ---- checks -------------------------------------------------------------
    def check(self, name: str, passed: bool, *, expected: str, measured: str) -> bool:
        """Record a check whose pass/fail the recipe decided itself."""
        self._result.checks.append(Check(name, str(expected), str(measured), bool(passed)))
        return bool(passed)

    def check_close(self, name: str, measured, expected, *, atol: float = 1e-6, rtol: float = 0.0) -> bool:
        """``measured`` equals ``expected`` (scalars or arrays) within ``atol + rtol * |expected|``."""
        m, e = np.asarray(measured, dtype=float), np.asarray(expected, dtype=float)
        ok = m.shape == e.shape and bool(np.allclose(m, e, atol=atol, rtol=rtol))
        tol = f"atol {atol:g}" + (f", rtol {rtol:g}" if rtol else "")
        return self.check(name, ok, expected=f"{_fmt(expected)} ({tol})", measured=_fmt(measured))

    def check_at_least(self, name: str, measured, bound) -> bool:
        return self.check(name, float(measured) >= bound, expected=f">= {_fmt(bound)}", measured=_fmt(measured))

    def check_at_most(self, name: str, measured, bound) -> bool:
        return self.check(name, float(measured) <= bound, expected=f"<= {_fmt(bound)}", measured=_fmt(measured))

    # ---- outputs ------------------------------------------------------------
    def figure(self, fig, filename: str) -> Path:
        """Save a matplotlib figure (PNG) atomically into ``out_dir`` and list it in the report."""
        path = files.save_figure(fig, self.out_dir / filename, dpi=100)
        self._result.figures.append(filename)
        return path

    def table(self, title: str, columns: list[str], rows: list[list]) -> Table:
        table = Table(title, list(columns), [list(r) for r in rows])
        self._result.tables.append(table)
        return table

    def note(self, text: str) -> None:
        """A sentence of explanation for the report (what the numbers show)."""
        self._result.notes.append(text)

    def result(self) -> Result:
        self._result.seconds = round(time.perf_counter() - self._start, 2)
        return self._result


def _fmt(value) -> str:
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if v == 0 or math.isnan(v) or math.isinf(v):
            return repr(v)
        return f"{v:.6g}" if 1e-4 <= abs(v) < 1e6 else f"{v:.4e}"
    if isinstance(value, np.ndarray) and value.size <= 16:
        # One line, also for 2-D arrays: a value sits in one table cell and one console line.
        return " ".join(np.array2string(value, precision=6, separator=", ").split())
    if isinstance(value, (list, tuple)) and len(value) <= 16 and all(isinstance(v, (int, float, np.number)) for v in value):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return str(value)


# Markdown's inline syntax characters; a backslash makes each a literal character
# (CommonMark and Python-Markdown with its tables extension, which adds "|").
_MD_SPECIAL = re.compile(r"([\\`*_|])")


def md_text(value) -> str:
    """``value`` as literal text on one Markdown line, e.g. in a table cell: ``|``, ``*``, ``_``,
    backticks and backslashes escaped, ``<`` written ``&lt;`` (so it never opens an HTML tag), and
    every newline with the spaces around it folded into one space (a NumPy array's rows)."""
    text = re.sub(r"\s*\n\s*", " ", str(value).strip())
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return text.replace("<", "&lt;")


def print_result(result: Result, file=None) -> None:
    file = file or sys.stdout  # looked up at each call: sys.stdout may have been replaced since import
    status = "PASS" if result.passed else "FAIL"
    print(f"[{status}] {result.title}  ({result.seconds:.1f} s)", file=file)
    for c in result.checks:
        print(f"  {'ok ' if c.passed else 'BAD'} {c.name}: measured {c.measured}, expected {c.expected}", file=file)
    for t in result.tables:
        print(f"\n  {t.title}\n" + "\n".join("  " + line for line in t.markdown(escape=False).splitlines()), file=file)
    for f in result.figures:
        print(f"  figure: {f}", file=file)


def main_for(module_name: str, argv=None) -> int:
    """The ``main()`` of a recipe module: ``python -m recipes.NAME [--out DIR] [--full]``."""
    import importlib

    module = importlib.import_module(module_name)
    short = module_name.rsplit(".", 1)[-1]
    parser = argparse.ArgumentParser(prog=f"python -m {module_name}", description=module.TITLE)
    parser.add_argument("--out", default=f"report/{short}", help="folder for figures (default: report/%(default)s)")
    parser.add_argument("--full", action="store_true", help="full mode: more data and epochs (default: quick)")
    args = parser.parse_args(argv)
    result = module.run(args.out, quick=not args.full)
    print_result(result)
    return 0 if result.passed else 1
