"""``python -m recipes list | run NAME | all --out DIR``: the textbook report.

``all`` runs every recipe and writes ``DIR/index.md`` and ``DIR/index.html``
(a summary table first, then each recipe's checks, tables and figures) plus
``DIR/results.json``. It exits with status 1 if any check failed.
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
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "list":
        for name, title in recipes.titles().items():  # read from the files: no recipe (or TensorFlow) is imported
            print(f"{name:<24} {title}")
        return 0
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
    sys.exit(cli.run_cli(main))
