"""``python -m recipes notebook``: every recipe as a Jupyter notebook, generated from its own source.

A recipe file is literate: a docstring header (title, what it reproduces, its source),
module-level helpers, and ``run(out_dir, quick)`` whose steps are separated by prose
blocks, comments between two ruled lines::

    # -----------------------------------------------------------------------
    # Step 2. Backward propagation (역전파) by the chain rule ...
    # -----------------------------------------------------------------------

The notebook is cut from that text, so the two cannot drift apart:

1. a Markdown cell from the docstring (the ``TITLE``, Korean terms included, as its heading);
2. an install cell: ``import recipes, zoo``, and ``%pip install`` only where that fails
   (a fresh Colab kernel); where the package is importable it does nothing;
3. a parameters cell (tagged ``parameters``, as papermill expects): ``out_dir`` and
   ``quick``, the two arguments of ``run``;
4. the module's code (imports, constants, helpers; ``main`` and the ``__main__`` guard
   left out) and then the body of ``run`` at the top level, one code cell per step,
   each prose block a Markdown cell; the final ``return r.result()`` becomes
   ``result = r.result()``, the only line that differs from the file;
5. a last cell, :func:`show_result`: the checks and tables, the figures inline (PNG),
   and an exception if any check failed.

Running ``run``'s body at the top level is the same program only if the body neither
returns early nor rebinds a module-level name (a helper would then see the new value);
:func:`notebook_cells` refuses a recipe that does either. Nothing here imports
TensorFlow: only the kernel that executes a notebook does.

Example:
    >>> from recipes import notebook
    >>> cells = notebook.notebook_cells("backprop")
    >>> cells[0].text.splitlines()[0]
    '# Forward and backward propagation by hand (순전파, 역전파)'
    >>> [c.role for c in cells[:3]], cells[-1].role
    (['header', 'install', 'parameters'], 'checks')
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import io
import os
import re
import shlex
import sys
import tempfile
import time
import tokenize
from dataclasses import dataclass
from pathlib import Path

import recipes
from zoo import extras, files

#: What the install cell installs when ``recipes`` and ``zoo`` cannot be imported: this
#: project's distribution name (setup.cfg). ``--install`` gives another requirement, e.g.
#: ``"keras-recipes-zoo @ git+https://github.com/OWNER/REPO"`` for a copy on GitHub.
DEFAULT_INSTALL = "keras-recipes-zoo"
#: The extra that installs what writes (nbformat) and executes (nbclient, ipykernel) the notebooks.
EXTRA = "notebook"
#: The Jupyter kernel that executes the notebooks (ipykernel's default name).
KERNEL = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}

# A prose block opens and closes with a comment that is a ruled line: "# -----..." (column 0
# once the code around it is dedented).
_RULE = re.compile(r"^#\s?-{10,}\s*$")
_COMMENT = re.compile(r"^#")
# A Markdown code span (`x` or ``x``); escaping leaves its inside alone.
_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)
# "*" between two non-blank characters (g*g, 2*x): Markdown would read it as emphasis.
_INNER_STAR = re.compile(r"(?<=\S)\*(?=\S)")
_STEP = re.compile(r"^(Step \w+[.:])")


class NotConvertible(ValueError):
    """A recipe whose source cannot become a notebook that runs the same program."""


class NotebookFailed(RuntimeError):
    """Executing a notebook failed; the message names the notebook, the cell and the error."""


class RecipeChecksFailed(AssertionError):
    """Raised inside a notebook by :func:`show_result` when a recipe check did not pass."""


@dataclass
class Cell:
    """One notebook cell before it is handed to nbformat.

    Attributes:
        kind: ``"markdown"`` or ``"code"``.
        text: the cell's source.
        role: ``"header"``, ``"install"``, ``"parameters"``, ``"prose"``, ``"recipe"``
            (the recipe's own code) or ``"checks"``; written as the cell's tag.
    """

    kind: str
    text: str
    role: str


# ---------------------------------------------------------------------------------------------
# Cutting the source
# ---------------------------------------------------------------------------------------------
def recipe_path(name: str) -> Path:
    """The file of recipe ``name`` (checked: an unknown name raises ValueError listing the known ones)."""
    return Path(recipes.__file__).parent / f"{recipes.check_name(name)}.py"


def _string_rows(text: str) -> set[int]:
    """Line numbers (1-based) that continue a multi-line string: their leading spaces are content."""
    rows = set()
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.start[0] < tok.end[0] and tok.type in _STRING_TOKENS:
            rows.update(range(tok.start[0] + 1, tok.end[0] + 1))
    return rows


_STRING_TOKENS = {tokenize.STRING} | {getattr(tokenize, n) for n in ("FSTRING_MIDDLE", "FSTRING_END")
                                      if hasattr(tokenize, n)}


def _header_end(text: str, func: ast.FunctionDef) -> int:
    """The line of the ``:`` that ends ``def run(...)`` (the signature may span lines)."""
    lines = text.splitlines(keepends=True)
    depth, started = 0, False
    source = "".join(lines[func.lineno - 1:])
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.NAME and tok.string == "def":
            started = True
        elif started and tok.type == tokenize.OP:
            depth += tok.string in "([{"
            depth -= tok.string in ")]}"
            if tok.string == ":" and depth == 0:
                return func.lineno + tok.start[0] - 1
    raise NotConvertible(f"cannot find the end of 'def {func.name}' at line {func.lineno}")


def _bound_names(statements) -> set[str]:
    """Names that ``statements`` bind in their own scope (not inside functions, classes or comprehensions)."""
    names = set()

    def visit(node):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            for child in node.decorator_list:
                visit(child)
            return
        if isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            return
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            raise NotConvertible(f"line {node.lineno}: run() declares {type(node).__name__.lower()} names")
        for child in ast.iter_child_nodes(node):
            visit(child)

    for statement in statements:
        visit(statement)
    return names


def _top_level_returns(func: ast.FunctionDef) -> list[ast.Return]:
    """The ``return`` statements of ``func`` itself (not of functions defined inside it)."""
    found = []

    def visit(node):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                continue
            if isinstance(child, ast.Return):
                found.append(child)
            visit(child)

    visit(func)
    return found


def _is_main_guard(node) -> bool:
    return (isinstance(node, ast.If) and isinstance(node.test, ast.Compare)
            and isinstance(node.test.left, ast.Name) and node.test.left.id == "__name__")


def _split_prose(lines: list[str], role: str) -> list[Cell]:
    """Cut ``lines`` at ruled prose blocks: code chunks become code cells, the blocks Markdown."""
    cells, chunk, i = [], [], 0

    def flush():
        text = "\n".join(chunk).strip("\n")
        if text.strip():
            cells.append(Cell("code", text, role))
        chunk.clear()

    while i < len(lines):
        if _RULE.match(lines[i]):
            j = i + 1
            while j < len(lines) and _COMMENT.match(lines[j]) and not _RULE.match(lines[j]):
                j += 1
            if j < len(lines) and _RULE.match(lines[j]) and j > i + 1:
                flush()
                prose = [re.sub(r"^# ?", "", line) for line in lines[i + 1:j]]
                cells.append(Cell("markdown", _prose_markdown("\n".join(prose).strip()), "prose"))
                i = j + 1
                continue
        chunk.append(lines[i])
        i += 1
    flush()
    return cells


def _markdown(text: str) -> str:
    """Prose as Markdown: paragraphs indented by 4 spaces stay as they are (a preformatted
    block, in Markdown as in a docstring); in the others, code spans are kept and ``<`` and
    emphasis-like inner ``*`` (``g*g``) are escaped."""
    paragraphs = re.split(r"\n[ \t]*\n", text.strip("\n"))
    return "\n\n".join(p if all(line.startswith("    ") for line in p.splitlines() if line.strip())
                       else _markdown_escape(p.strip()) for p in paragraphs)


def _markdown_escape(text: str) -> str:
    out, last = [], 0
    for span in _CODE_SPAN.finditer(text):
        out.append(_escape_plain(text[last:span.start()]))
        out.append(span.group(0))
        last = span.end()
    out.append(_escape_plain(text[last:]))
    return "".join(out)


def _escape_plain(text: str) -> str:
    return _INNER_STAR.sub(r"\\*", text.replace("<", "&lt;"))


def _prose_markdown(text: str) -> str:
    return _STEP.sub(r"**\1**", _markdown(text))


def _header_markdown(name: str, docstring: str) -> str:
    """The docstring as the notebook's first cell: the recipe's TITLE as heading, then its text.

    "Reproduces:" and "Source:" open parts of the header; they become labels, each in its paragraph.
    """
    first, _, rest = docstring.partition("\n")  # the first line is the title
    text = _markdown(rest)
    text = re.sub(r"^(Reproduces|Sources?):", r"**\1:**", text, flags=re.M)
    text = re.sub(r"\n(?=\*\*(Reproduces|Sources?):\*\*)", "\n\n", text)
    made = (f"*This notebook is generated from `recipes/{name}.py` by `python -m recipes notebook {name}`: "
            f"change the recipe, not the notebook. The same recipe from a shell: `python -m recipes run {name}`.*")
    return "\n\n".join(p for p in [f"# {recipes.titles()[name]}", text, made] if p)


def notebook_cells(name: str, *, quick: bool = False, install: str = DEFAULT_INSTALL) -> list[Cell]:
    """The cells of recipe ``name``'s notebook, cut from its source file (nothing is imported).

    Args:
        name: a recipe (``python -m recipes list``).
        quick: the value of ``quick`` in the parameters cell (the recipe's fast mode).
        install: the pip requirement the install cell installs where ``recipes`` is missing.

    Returns:
        The cells in order: header, install, parameters, the recipe's code and prose, checks.

    Raises:
        ValueError: unknown recipe name.
        NotConvertible: ``run`` is not ``run(out_dir, quick)``, returns before its end,
            or rebinds a module-level name.
    """
    path = recipe_path(name)
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    tree = ast.parse(text, filename=str(path))
    where = f"recipes/{name}.py"

    docstring = ast.get_docstring(tree, clean=False)
    if not docstring:
        raise NotConvertible(f"{where}: no module docstring (the notebook's header)")
    runs = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "run"]
    if len(runs) != 1:
        raise NotConvertible(f"{where}: needs exactly one top-level 'def run'")
    run = runs[0]
    if [a.arg for a in run.args.args] != ["out_dir", "quick"] or run.args.vararg or run.args.kwarg \
            or run.args.kwonlyargs:
        raise NotConvertible(f"{where}: run must take (out_dir, quick), got {ast.unparse(run.args)!r}")
    returns = _top_level_returns(run)
    last = run.body[-1]
    if not (isinstance(last, ast.Return) and last.value is not None) or returns != [last]:
        raise NotConvertible(f"{where}: run must end in its only return (lines {[r.lineno for r in returns]})")
    others = [n for n in tree.body if n is not run]
    module_names = _bound_names([n for n in others if not _dropped(n)])
    clash = (_bound_names(run.body) & module_names) | (module_names & {"out_dir", "quick", "result"})
    if clash:
        raise NotConvertible(f"{where}: run binds module-level name(s) {', '.join(sorted(clash))}; in a notebook "
                             "its body runs at the top level and would change them: rename them in run")

    # Module lines: the docstring, run, main and the __main__ guard are taken out; the rest
    # (comments and blank lines included) stays, in order.
    skip = set(range(tree.body[0].lineno, tree.body[0].end_lineno + 1))  # the docstring
    for node in tree.body:
        if node is run or _dropped(node):
            first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
            skip.update(range(first, node.end_lineno + 1))
    module_lines = [line for number, line in enumerate(lines, start=1) if number not in skip]

    # run's body, dedented by its indentation (not inside multi-line strings), the return made an assignment.
    header_end = _header_end(text, run)
    indent = last.col_offset
    strings = _string_rows(text)
    body_lines = []
    for number in range(header_end + 1, run.end_lineno + 1):
        line = lines[number - 1]
        if number in strings:
            body_lines.append(line)
            continue
        cut = min(indent, len(line) - len(line.lstrip(" ")))
        line = line[cut:]
        if number == last.lineno:
            line = line[:last.col_offset - cut] + "result = " + line[last.col_offset - cut + len("return"):].lstrip()
        body_lines.append(line)

    cells = [Cell("markdown", _header_markdown(name, docstring), "header"),
             Cell("code", _install_cell(install), "install"),
             Cell("code", "# The arguments of run(out_dir, quick): the folder for the figures, and the fast (quick)\n"
                          f"# or the full mode (`python -m recipes run {name} --out . [--quick]`).\n"
                          f"out_dir = {name!r}\nquick = {bool(quick)!r}", "parameters")]
    cells += _split_prose(module_lines, "recipe")
    cells += _split_prose(body_lines, "recipe")
    cells.append(Cell("code", "# The recipe's checks and tables, its figures inline; this cell fails if a check failed.\n"
                              "from recipes.notebook import show_result\n\nshow_result(result, out_dir)", "checks"))
    return cells


def _dropped(node) -> bool:
    """``def main`` and the ``__main__`` guard: the command line of the file, not part of the notebook."""
    return (isinstance(node, ast.FunctionDef) and node.name == "main") or _is_main_guard(node)


def _install_cell(requirement: str) -> str:
    return ("# On a fresh kernel (Colab) this installs the package; where it is importable it installs nothing.\n"
            "try:\n"
            "    import recipes, zoo\n"
            "except ImportError:\n"
            f"    %pip install --quiet {shlex.quote(requirement)}\n"
            "    import recipes, zoo\n"
            "from zoo import cli\n"
            "\n"
            "# TensorFlow started as `python -m recipes` starts it: its start-up notices below\n"
            "# TF_CPP_MIN_LOG_LEVEL (2 unless set) are not shown.\n"
            "cli.import_tensorflow();")


# ---------------------------------------------------------------------------------------------
# Notebooks: build, execute, write
# ---------------------------------------------------------------------------------------------
def build(name: str, *, quick: bool = False, install: str = DEFAULT_INSTALL):
    """Recipe ``name`` as an ``nbformat`` notebook (version 4, not executed).

    Cell ids are ``cell-0``, ``cell-1``, ...: the same recipe gives the same file.

    Example:
        >>> nb = build("dense_layers", quick=True)
        >>> nb.metadata.kernelspec.name, nb.cells[2].metadata.tags
        ('python3', ['parameters'])
    """
    import nbformat
    from nbformat import v4

    made = []
    for i, cell in enumerate(notebook_cells(name, quick=quick, install=install)):
        new = v4.new_code_cell if cell.kind == "code" else v4.new_markdown_cell
        made.append(new(cell.text, id=f"cell-{i}", metadata={"tags": [cell.role]}))
    nb = v4.new_notebook(cells=made, metadata={
        "kernelspec": dict(KERNEL),
        "language_info": {"name": "python"},
        "recipes": {"name": name, "quick": bool(quick), "source": f"recipes/{name}.py"},
    })
    nbformat.validate(nb)
    return nb


def kernel_env() -> dict[str, str]:
    """The environment of the executing kernel: ours (``ZOO_DATA_DIR`` and the rest) with this
    checkout first on ``PYTHONPATH`` and this interpreter first on ``PATH``, so that the kernel
    imports the same ``recipes`` and ``zoo`` that wrote the notebook."""
    env = dict(os.environ)
    root = str(Path(recipes.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([root] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def execute(nb, workdir, *, label: str, timeout: float | None = None):
    """Run every cell of ``nb`` in a fresh ``python3`` kernel whose working directory is ``workdir``.

    The outputs are stored in ``nb`` itself.

    Args:
        nb: an nbformat notebook.
        workdir: the kernel's working directory (where ``out_dir`` is created).
        label: how error messages name the notebook.
        timeout: seconds one cell may run (None: no limit).

    Raises:
        NotebookFailed: a cell raised, timed out, or the kernel died; the message names
            ``label``, the cell (its number and first line) and the error.
    """
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    client = _client_class()(nb, timeout=timeout, kernel_name=KERNEL["name"], record_timing=False,
                             resources={"metadata": {"path": str(workdir)}})
    # The kernel process's own stderr (ipykernel's start-up warnings; what a crash prints) goes
    # to a temporary file, quoted when the kernel dies; what the cells write is in their outputs.
    with tempfile.TemporaryFile() as kernel_log:
        try:
            try:
                client.execute(env=kernel_env(), stderr=kernel_log)
            except (Exception, asyncio.CancelledError):  # cancelled: a signal while the kernel was starting
                if client.signalled:  # Ctrl-C (or SIGTERM): the kernel is shut down, an earlier file is kept
                    with contextlib.suppress(Exception):
                        client._cleanup_kernel()  # finishes the shutdown the signal began, if it did not end
                    raise KeyboardInterrupt from None
                raise
        except CellExecutionError as exc:
            raise NotebookFailed(f"{label}: {_failing_cell(nb)} raised {exc.ename}: {_one_line(exc.evalue)}") from None
        except CellTimeoutError:
            raise NotebookFailed(f"{label}: {_failing_cell(nb)} ran longer than --timeout {timeout:g} s") from None
        except DeadKernelError:
            kernel_log.seek(0)
            said = kernel_log.read().decode("utf-8", "replace").strip().splitlines()
            raise NotebookFailed(f"{label}: the kernel died in {_failing_cell(nb)}"
                                 + (f"; its last words: {_one_line(said[-1])}" if said else "")) from None
    return nb


def _client_class():
    """nbclient's ``NotebookClient``, telling apart a kernel shut down by a signal from one that died."""
    from nbclient import NotebookClient

    class Client(NotebookClient):
        @property
        def signalled(self) -> bool:
            # nbclient answers SIGINT and SIGTERM by shutting the kernel down (it keeps the future of that
            # cleanup); the running cell then fails with DeadKernelError.
            return getattr(self, "_async_cleanup_kernel_future", None) is not None

        async def _async_cleanup_kernel(self) -> None:
            if self.km is None:  # shut down already by the signal's cleanup: nbclient would assert here
                return
            await super()._async_cleanup_kernel()

    return Client


def _failing_cell(nb) -> str:
    """``cell N of M ('first line')``: the first code cell with an error output or never finished."""
    for i, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "code":
            continue
        errored = any(o.get("output_type") == "error" for o in cell.get("outputs", []))
        if errored or cell.get("execution_count") is None:
            first = next((line for line in cell.source.splitlines() if line.strip() and not line.startswith("#")), "")
            return f"cell {i} of {len(nb.cells)} ({first.strip()[:60]!r})"
    return "a cell"


def _one_line(value) -> str:
    return " ".join(str(value).split())[:300]


def write_notebooks(names, out, *, quick: bool = False, execute_them: bool = False, timeout: float | None = None,
                    install: str = DEFAULT_INSTALL, log=print) -> list[str]:
    """Write ``OUT/NAME.ipynb`` for each recipe, executed first if asked; each file is written atomically.

    A notebook that fails to execute is not written (an earlier file of that name is left as it
    was); the others still are.

    Args:
        names: recipe names (checked before anything is written).
        out: the folder for the notebooks (created; executed notebooks put their figures in ``OUT/NAME/``).
        quick: the recipes' fast mode in the parameters cell.
        execute_them: run each notebook in a fresh kernel and save it with its outputs.
        timeout: seconds one cell may run when executing (None: no limit).
        install: the pip requirement of the install cell.
        log: where progress lines go.

    Returns:
        One message per notebook that failed (empty when all were written).

    Raises:
        ValueError: an unknown recipe name, or ``out`` not a writable folder.
        zoo.extras.MissingExtra: the ``notebook`` extra is not installed (names the pip command).
    """
    needs = ("nbformat", "nbclient", "ipykernel") if execute_them else ("nbformat",)
    extras.require(EXTRA, needs, "python -m recipes notebook" + (" --execute" if execute_them else ""))
    import nbformat

    names = [recipes.check_name(n) for n in names]
    out = files.ensure_writable_dir(out, argument="--out")
    failures = []
    for i, name in enumerate(names, start=1):
        nb = build(name, quick=quick, install=install)
        path = out / f"{name}.ipynb"
        if execute_them:
            log(f"[{i}/{len(names)}] {name}: executing ({'quick' if quick else 'full'} mode) ...", flush=True)
            start = time.perf_counter()
            try:
                execute(nb, out, label=path.name, timeout=timeout)
            except NotebookFailed as exc:
                failures.append(str(exc))
                log(f"error: {exc}; {path} not written", file=sys.stderr, flush=True)
                continue
            files.write_text(path, nbformat.writes(nb))
            log(f"wrote {path} (executed in {time.perf_counter() - start:.0f} s)", flush=True)
        else:
            files.write_text(path, nbformat.writes(nb))
            log(f"wrote {path}", flush=True)
    return failures


# ---------------------------------------------------------------------------------------------
# Inside the notebook
# ---------------------------------------------------------------------------------------------
def show_result(result, out_dir) -> None:
    """The last cell of every recipe notebook: checks and tables (text), notes (Markdown),
    each figure as an inline PNG, and an exception if a check failed.

    Args:
        result: the recipe's ``Result`` (what ``run`` returns).
        out_dir: the folder the recipe saved its figures in.

    Raises:
        RecipeChecksFailed: one or more checks did not pass; the message lists them.
    """
    from IPython.display import Image, Markdown, display

    from recipes._recipe import print_result

    print_result(result)
    for note in result.notes:
        display(Markdown(note))
    for figure in result.figures:
        display(Image(filename=str(Path(out_dir) / figure)))
    failed = [c for c in result.checks if not c.passed]
    if failed or not result.checks:
        listed = "; ".join(f"{c.name}: measured {c.measured}, expected {c.expected}" for c in failed)
        raise RecipeChecksFailed(f"{len(failed)} of {len(result.checks)} checks of {result.name} failed: {listed}"
                                 if result.checks else f"{result.name} recorded no checks")
