"""Every recipe as a notebook: cut from its own source (no drift), executed on a fresh kernel.

The cheap tests convert all recipes without running them and compare each notebook's code
with the recipe file, statement by statement (``ast``), independently of how the converter
cuts the text. One test executes three notebooks in quick mode in fresh ``python3`` kernels:
backprop (draws a figure), gradient_check (the zoo's dense_classifier against finite
differences) and losses (trains the zoo's dense_classifier on iris).
"""

from __future__ import annotations

import ast
import base64
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import recipes
from recipes.__main__ import main

nbformat = pytest.importorskip("nbformat", reason="the notebook extra: pip install -e '.[notebook]'")
pytest.importorskip("nbclient", reason="the notebook extra: pip install -e '.[notebook]'")
pytest.importorskip("ipykernel", reason="the notebook extra: pip install -e '.[notebook]'")

from recipes import notebook  # noqa: E402  (after the skips: it needs the extra)

ROOT = Path(__file__).resolve().parents[1]
EXECUTED = ("backprop", "gradient_check", "losses")


def _dump(statements) -> list[str]:
    return [ast.dump(s, include_attributes=False) for s in statements]


def _recipe_statements(name: str) -> list[str]:
    """What the notebook must run, read from the file: the module (its docstring, ``main`` and the
    ``__main__`` guard left out), then ``run``'s body with ``return X`` as ``result = X``."""
    tree = ast.parse((ROOT / "recipes" / f"{name}.py").read_text(encoding="utf-8"))
    module, run = [], None
    for node in tree.body[1:]:
        if isinstance(node, ast.FunctionDef) and node.name == "run":
            run = node
        elif not (isinstance(node, ast.FunctionDef) and node.name == "main") and not (
                isinstance(node, ast.If) and ast.unparse(node.test) == "__name__ == '__main__'"):
            module.append(node)
    *body, last = run.body
    assign = ast.Assign(targets=[ast.Name("result", ast.Store())], value=last.value)
    return _dump(module + body + [assign])


def _unescape(markdown: str) -> str:
    return markdown.replace("\\*", "*").replace("&lt;", "<").replace("**", "")


def _tagged(nb, tag):
    return [c for c in nb.cells if tag in c.metadata.get("tags", [])]


def test_every_recipe_converts_with_its_code_unchanged(tmp_path, run_cli):
    code, out, err = run_cli(main, "notebook", "--all", "--out", tmp_path)
    assert code == 0, err
    names = recipes.available()
    assert sorted(p.stem for p in tmp_path.glob("*.ipynb")) == sorted(names)
    for name in names:
        nb = nbformat.read(tmp_path / f"{name}.ipynb", as_version=4)
        nbformat.validate(nb)
        assert nb.metadata.kernelspec.name == "python3"
        # The title with its Korean terms is the heading; the header and the install cell come first.
        assert nb.cells[0].cell_type == "markdown"
        assert nb.cells[0].source.splitlines()[0] == f"# {recipes.titles()[name]}"
        assert [c.metadata.tags for c in nb.cells[1:3]] == [["install"], ["parameters"]]
        assert f"out_dir = {name!r}\nquick = False" in nb.cells[2].source
        assert "show_result(result, out_dir)" in nb.cells[-1].source
        assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code")
        # No drift: the recipe cells run exactly the recipe file's statements, in order.
        code_cells = _tagged(nb, "recipe")
        assert all(c.cell_type == "code" for c in code_cells)
        assert _dump(ast.parse("\n\n".join(c.source for c in code_cells)).body) == _recipe_statements(name), name
        # ... and every comment of the file is in the notebook, as code comment or as prose.
        text = _unescape("\n".join(c.source for c in nb.cells))
        source = (ROOT / "recipes" / f"{name}.py").read_text(encoding="utf-8")
        for line in source.splitlines():
            comment = line.strip()
            if comment.startswith("#") and not re.fullmatch(r"#\s?-+", comment):
                assert comment.lstrip("# ") in text, (name, comment)
        assert len(_tagged(nb, "prose")) == len(re.findall(r"^\s*# ?-{10,}\s*$", source, re.M)) // 2


def test_the_install_cell_installs_only_where_the_package_is_missing(tmp_path):
    from IPython.core.inputtransformer2 import TransformerManager

    nb = notebook.build("backprop", install="keras-recipes-zoo @ git+https://example.org/zoo.git")
    source = TransformerManager().transform_cell(nb.cells[1].source)
    tree = ast.parse(source)  # the %pip line is valid IPython
    handler = next(n for n in ast.walk(tree) if isinstance(n, ast.ExceptHandler))
    assert handler.type.id == "ImportError"
    pip = ast.unparse(handler.body[0])
    assert "run_line_magic('pip', \"install --quiet 'keras-recipes-zoo @ git+https://example.org/zoo.git'\")" in pip


def test_converting_starts_no_tensorflow_and_bad_input_is_one_line(tmp_path, run_cli):
    driver = ("import atexit, runpy, sys\n"
              "atexit.register(lambda: print('HEAVY=' + ','.join(m for m in ('tensorflow', 'keras') "
              "if m in sys.modules), file=sys.stderr))\n"
              "sys.argv = ['recipes'] + sys.argv[1:]\n"
              "runpy.run_module('recipes', run_name='__main__', alter_sys=True)\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", driver, "notebook", "optimizers", "word2vec", "--out", tmp_path / "nb"],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "HEAVY=\n" in done.stderr and (tmp_path / "nb" / "word2vec.ipynb").is_file()

    code, _, err = run_cli(main, "notebook", "backprp", "--out", tmp_path)
    assert code == 2 and "unknown recipe 'backprp'; did you mean 'backprop'?" in err and "known recipes: " in err
    assert len(err.strip().splitlines()) == 1
    (tmp_path / "file").write_text("x")
    code, _, err = run_cli(main, "notebook", "backprop", "--out", tmp_path / "file")
    assert code == 2 and err.startswith("error: --out: cannot write to directory") and len(err.splitlines()) == 1
    code, _, err = run_cli(main, "notebook", "--out", tmp_path)
    assert code == 2 and "give recipe names or --all" in err
    code, _, err = run_cli(main, "notebook", "backprop", "--all", "--out", tmp_path)
    assert code == 2 and "give recipe names or --all" in err
    code, _, err = run_cli(main, "notebook", "backprop", "--timeout", "5", "--out", tmp_path)
    assert code == 2 and "--timeout: applies to --execute only" in err
    assert not list(tmp_path.glob("*.ipynb"))


def test_show_result_fails_the_cell_when_a_check_failed(tmp_path, capsys):
    from recipes._recipe import Recipe

    r = Recipe("demo", tmp_path, title="Demo (데모)")
    r.check_close("one plus one", 1 + 1, 2)
    notebook.show_result(r.result(), tmp_path)  # all passed: no exception
    r.check_at_least("accuracy", 0.5, 0.9)
    with pytest.raises(notebook.RecipeChecksFailed, match=r"1 of 2 checks of demo failed: accuracy: measured 0.5"):
        notebook.show_result(r.result(), tmp_path)
    with pytest.raises(notebook.RecipeChecksFailed, match="recorded no checks"):
        notebook.show_result(Recipe("empty", tmp_path).result(), tmp_path)


def test_a_failing_notebook_is_named_with_its_cell_and_not_written(tmp_path, monkeypatch, capsys):
    from nbformat import v4

    def broken(name, **kwargs):
        return v4.new_notebook(cells=[v4.new_markdown_cell("# broken"), v4.new_code_cell("x = 1"),
                                      v4.new_code_cell("# the second step\nraise ValueError('no such data')")],
                               metadata={"kernelspec": dict(notebook.KERNEL)})

    monkeypatch.setattr(notebook, "build", broken)
    failures = notebook.write_notebooks(["backprop"], tmp_path, execute_them=True)
    assert failures == ["backprop.ipynb: cell 3 of 3 (\"raise ValueError('no such data')\") raised ValueError: "
                        "no such data"]
    assert not list(tmp_path.glob("*.ipynb")) and not list(tmp_path.glob(".*tmp*"))
    assert "not written" in capsys.readouterr().err


def test_three_notebooks_execute_in_quick_mode_with_checks_and_figures(tmp_path, run_cli):
    code, out, err = run_cli(main, "notebook", *EXECUTED, "--quick", "--execute", "--out", tmp_path)
    assert code == 0, err
    for name in EXECUTED:
        nb = nbformat.read(tmp_path / f"{name}.ipynb", as_version=4)
        code_cells = [c for c in nb.cells if c.cell_type == "code"]
        # Every code cell ran, in order, without an error.
        assert [c.execution_count for c in code_cells] == list(range(1, len(code_cells) + 1)), name
        assert not [o for c in code_cells for o in c.outputs if o.output_type == "error"], name
        # The last cell printed the recipe's checks, all passed (it raises otherwise).
        printed = "".join(o.get("text", "") for o in code_cells[-1].outputs if o.output_type == "stream")
        assert printed.startswith("[PASS]") and "\n  ok  " in printed and "BAD" not in printed, (name, printed)
        # Each figure the recipe saved is embedded as a PNG.
        figures = re.findall(r"^  figure: (\S+)$", printed, re.M)
        images = [base64.b64decode(o.data["image/png"]) for o in code_cells[-1].outputs
                  if o.output_type == "display_data" and "image/png" in o.get("data", {})]
        assert figures and len(images) == len(figures), name
        assert all(image[:8] == b"\x89PNG\r\n\x1a\n" for image in images)
        assert images == [(tmp_path / name / f).read_bytes() for f in figures]


# The optional extra missing (as if not installed: `import nbclient` raises): (arguments, hidden modules, error).
MISSING_EXTRA_CASES = [
    (["backprop"], ("nbformat",),
     'error: python -m recipes notebook needs nbformat, which is not installed: pip install "keras-recipes-zoo[notebook]"'),
    (["backprop", "--execute"], ("nbclient", "ipykernel"),
     "error: python -m recipes notebook --execute needs nbclient, ipykernel, which are not installed: "
     'pip install "keras-recipes-zoo[notebook]"'),
]


@pytest.mark.parametrize("args,hidden,message", MISSING_EXTRA_CASES, ids=[c[1][0] for c in MISSING_EXTRA_CASES])
def test_a_missing_notebook_extra_is_one_line_with_the_pip_command(tmp_path, run_cli, monkeypatch, args, hidden,
                                                                   message):
    for module in hidden:
        monkeypatch.setitem(sys.modules, module, None)
    code, out, err = run_cli(main, "notebook", *args, "--out", tmp_path)
    assert code == 2 and out == "" and err == message + "\n", err
    assert list(tmp_path.iterdir()) == []


# Executes a notebook whose second cell sleeps, in a process the test interrupts as Ctrl-C would.
SLEEPING_DRIVER = (
    "import sys\n"
    "from nbformat import v4\n"
    "from recipes import notebook\n"
    "from recipes.__main__ import main\n"
    "from zoo import cli\n"
    "notebook.build = lambda name, **kw: v4.new_notebook(cells=[v4.new_code_cell('x = 1'), v4.new_code_cell("
    "'open(\\'started\\', \\'w\\').close()\\nimport time\\ntime.sleep(600)')], metadata={'kernelspec': dict(notebook.KERNEL)})\n"
    "sys.exit(cli.run_cli(main, sys.argv[1:]))\n")


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="finds the kernel process through /proc (Linux)")
@pytest.mark.parametrize("when", ["kernel starting", "cell running"])
def test_ctrl_c_while_executing_is_one_line_exit_130_keeps_the_old_notebook_and_stops_the_kernel(tmp_path, when):
    import signal
    import time

    old = tmp_path / "backprop.ipynb"
    old.write_text("the notebook written before")
    proc = subprocess.Popen([sys.executable, "-c", SLEEPING_DRIVER, "notebook", "backprop", "--execute", "--out",
                             str(tmp_path)], env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300  # a bound for a loaded machine, not a timing assertion
    while time.monotonic() < deadline and proc.poll() is None and not _children(proc.pid):
        time.sleep(0.1)
    kernels = _children(proc.pid)
    assert kernels and proc.poll() is None, proc.communicate()
    while when == "cell running" and time.monotonic() < deadline and not (tmp_path / "started").exists():
        time.sleep(0.1)
    assert when == "kernel starting" or (tmp_path / "started").exists(), "the sleeping cell never started"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err
    assert err.splitlines()[-1] == "interrupted" and "Traceback" not in err, err
    assert old.read_text() == "the notebook written before" and not list(tmp_path.glob(".*tmp*"))
    for pid in kernels:  # the kernel is shut down, not left running
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and Path(f"/proc/{pid}").exists() and \
                Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z":
            time.sleep(0.1)
        assert not Path(f"/proc/{pid}").exists() or Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z", \
            f"kernel {pid} still running"
