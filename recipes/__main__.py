"""``python -m recipes list | run NAME | all --out DIR | notebook NAME... --out DIR``: the textbook report.

``all`` runs every recipe and writes ``DIR/index.md`` and ``DIR/index.html``
(a summary table first, then each recipe's checks, tables and figures) plus
``DIR/results.json``. It exits with status 1 if any check failed.

``notebook`` writes each recipe as ``DIR/NAME.ipynb``, cut from the recipe's own source
(:mod:`recipes.notebook`); ``--execute`` runs each in a fresh Jupyter kernel first and exits
with status 1 if any notebook failed (a failed one is not written).
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path

import recipes
from recipes._recipe import Result, print_result
from recipes.report import write_report
from zoo import cli, files


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m recipes", description="Textbook recipes and their report.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="every recipe with its title")
    run = sub.add_parser("run", help="run one recipe")
    run.add_argument("name")
    run.add_argument("--out", default="report")
    run.add_argument("--quick", action="store_true", help="fast mode (what the tests run)")
    every = sub.add_parser("all", help="run every recipe and write the report")
    every.add_argument("--out", default="report")
    every.add_argument("--quick", action="store_true", help="fast mode (what the tests run)")
    every.add_argument("--only", nargs="+", metavar="NAME", help="a subset of recipes")
    nb = sub.add_parser("notebook", help="write recipes as Jupyter notebooks, optionally executed",
                        description="Each recipe as OUT/NAME.ipynb, generated from the recipe's own source.")
    nb.add_argument("names", nargs="*", metavar="NAME", help="recipes to convert (or --all)")
    nb.add_argument("--all", action="store_true", help="every recipe")
    nb.add_argument("--out", default="notebooks", help="folder for the notebooks (default: %(default)s)")
    nb.add_argument("--quick", action="store_true", help="the notebooks run the recipes' fast mode")
    nb.add_argument("--execute", action="store_true",
                    help="run each notebook in a fresh python3 kernel and save it with its outputs and figures")
    nb.add_argument("--timeout", type=_seconds, default=None, metavar="SECONDS",
                    help="with --execute: the longest one cell may run (default: no limit)")
    nb.add_argument("--install", default=None, metavar="REQUIREMENT",
                    help="what the first cell pip-installs on a kernel without the package "
                         "(default: keras-recipes-zoo)")
    return parser


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number of seconds > 0, got {text!r}")
    return value


def _notebooks(args) -> int:
    """``python -m recipes notebook``: checks the arguments, then writes (and runs) the notebooks."""
    if args.all == bool(args.names):
        raise ValueError("notebook: give recipe names or --all (one of the two); known recipes: "
                         + ", ".join(recipes.available()))
    if args.timeout is not None and not args.execute:
        raise ValueError("--timeout: applies to --execute only")
    names = recipes.available() if args.all else [recipes.check_name(n) for n in args.names]
    from recipes import notebook

    start = time.perf_counter()
    failures = notebook.write_notebooks(names, args.out, quick=args.quick, execute_them=args.execute,
                                        timeout=args.timeout, install=args.install or notebook.DEFAULT_INSTALL)
    done = f"executed ({'quick' if args.quick else 'full'} mode) and " if args.execute else ""
    print(f"{len(names) - len(failures)}/{len(names)} notebooks {done}written to {args.out} in "
          f"{time.perf_counter() - start:.0f} s")
    if failures:
        print(f"\n{len(failures)} of {len(names)} notebooks failed:", *failures, sep="\n  ", file=sys.stderr)
        return 1
    return 0


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "list":
        for name, title in recipes.titles().items():  # read from the files: no recipe (or TensorFlow) is imported
            print(f"{name:<24} {title}")
        return 0
    if args.command == "notebook":
        return _notebooks(args)
    if args.command == "run":
        recipes.check_name(args.name)
        files.ensure_writable_dir(args.out, argument="--out")
        cli.import_tensorflow()
        module = recipes.load(args.name)
        result = module.run(Path(args.out) / args.name, quick=args.quick)
        print_result(result)
        return 0 if result.passed else 1

    names = args.only or recipes.available()
    for name in names:  # unknown names fail before any work
        recipes.check_name(name)
    out = files.ensure_writable_dir(args.out, argument="--out")
    cli.import_tensorflow()
    modules = [recipes.load(n) for n in names]
    results: list[Result] = []
    start = time.perf_counter()
    for i, (name, module) in enumerate(zip(names, modules), start=1):
        print(f"[{i}/{len(names)}] {name}: {module.TITLE}", flush=True)
        try:
            result = module.run(out / name, quick=args.quick)
        except files.WriteFailed:  # a full disk is the command's error, not the recipe's: the old report stays
            raise
        except Exception as exc:  # one broken recipe must not hide the others' report
            result = Result(name=name, title=module.TITLE, source=getattr(module, "SOURCE", ""), quick=args.quick)
            result.notes.append("The recipe raised an error:\n\n```\n" + traceback.format_exc() + "```")
            from recipes._recipe import Check

            result.checks.append(Check("recipe ran", "no error", f"{type(exc).__name__}: {exc}", False))
        print_result(result)
        results.append(result)
    total = time.perf_counter() - start
    write_report(out, results, total, quick=args.quick)
    failed = [r.name for r in results if not r.passed]
    print(f"\n{len(results) - len(failed)}/{len(results)} recipes passed every check in {total:.0f} s; "
          f"report: {out / 'index.md'} and {out / 'index.html'}")
    return 1 if failed else 0


if __name__ == "__main__":
    cli.exit_process(cli.run_cli(main))
