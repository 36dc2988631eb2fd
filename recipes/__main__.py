"""``python -m recipes list | run NAME | all --out DIR``: the textbook report.

``all`` runs every recipe and writes ``DIR/index.md`` and ``DIR/index.html``
(a summary table first, then each recipe's checks, tables and figures) plus
``DIR/results.json``. It exits with status 1 if any check failed.
"""

from __future__ import annotations

import argparse
import html
import json
import sys
import time
import traceback
from pathlib import Path

import recipes
from recipes._recipe import Result, print_result
from zoo import cli, files as _io


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
        _io.ensure_writable_dir(args.out, argument="--out")
        cli.import_tensorflow()
        module = recipes.load(args.name)
        result = module.run(Path(args.out) / args.name, quick=args.quick)
        print_result(result)
        return 0 if result.passed else 1

    names = args.only or recipes.available()
    for name in names:  # unknown names fail before any work
        recipes.check_name(name)
    out = _io.ensure_writable_dir(args.out, argument="--out")
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


def write_report(out: Path, results: list[Result], seconds: float, *, quick: bool) -> None:
    mode = "quick" if quick else "full"
    n_checks = sum(len(r.checks) for r in results)
    n_passed = sum(c.passed for r in results for c in r.checks)
    md = [f"# Textbook recipes report\n",
          f"{len(results)} recipes, {n_passed}/{n_checks} checks passed, {mode} mode, {seconds:.0f} s.\n",
          "| # | recipe | checks | time (s) |", "|---|---|---|---|"]
    for i, r in enumerate(results, start=1):
        ok = sum(c.passed for c in r.checks)
        md.append(f"| {i} | [{r.title}](#{r.name}) | {ok}/{len(r.checks)} {'pass' if r.passed else '**FAIL**'} | {r.seconds:.1f} |")
    for r in results:
        md += ["", f'<a id="{r.name}"></a>', f"## {r.title}", "", f"*{r.source}* — `python -m recipes run {r.name}`", ""]
        md += [n + "\n" for n in r.notes]
        if r.checks:
            md += ["| check | expected | measured | |", "|---|---|---|---|"]
            md += [f"| {c.name} | {c.expected} | {c.measured} | {'ok' if c.passed else '**FAIL**'} |" for c in r.checks]
        for t in r.tables:
            md += ["", f"**{t.title}**", "", t.markdown()]
        md += [f"![{f}]({r.name}/{f})" for f in r.figures]
    _io.write_text(out / "index.md", "\n".join(md) + "\n")
    _io.write_text(out / "index.html", _html(results, seconds, mode, n_passed, n_checks))
    _io.write_json(out / "results.json", {"mode": mode, "seconds": round(seconds, 1),
                                          "recipes": [r.to_dict() for r in results]})


def _html(results, seconds, mode, n_passed, n_checks) -> str:
    e = html.escape
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>Textbook recipes report</title>",
             "<style>body{font-family:sans-serif;max-width:1000px;margin:auto;padding:1em}"
             "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}"
             ".bad{color:#b00;font-weight:bold}img{max-width:100%}pre{background:#f4f4f4;padding:.5em;overflow:auto}</style>",
             "</head><body><h1>Textbook recipes report</h1>",
             f"<p>{len(results)} recipes, {n_passed}/{n_checks} checks passed, {mode} mode, {seconds:.0f} s.</p>",
             "<table><tr><th>#</th><th>recipe</th><th>checks</th><th>time (s)</th></tr>"]
    for i, r in enumerate(results, start=1):
        ok = sum(c.passed for c in r.checks)
        cls = "" if r.passed else " class='bad'"
        parts.append(f"<tr><td>{i}</td><td><a href='#{e(r.name)}'>{e(r.title)}</a></td>"
                     f"<td{cls}>{ok}/{len(r.checks)}</td><td>{r.seconds:.1f}</td></tr>")
    parts.append("</table>")
    for r in results:
        parts.append(f"<h2 id='{e(r.name)}'>{e(r.title)}</h2><p><i>{e(r.source)}</i> — "
                     f"<code>python -m recipes run {e(r.name)}</code></p>")
        parts += [f"<pre>{e(n)}</pre>" if "\n" in n else f"<p>{e(n)}</p>" for n in r.notes]
        if r.checks:
            parts.append("<table><tr><th>check</th><th>expected</th><th>measured</th><th></th></tr>")
            parts += [f"<tr><td>{e(c.name)}</td><td>{e(c.expected)}</td><td>{e(c.measured)}</td>"
                      f"<td{'' if c.passed else ' class=bad'}>{'ok' if c.passed else 'FAIL'}</td></tr>" for c in r.checks]
            parts.append("</table>")
        for t in r.tables:
            parts.append(f"<p><b>{e(t.title)}</b></p><table><tr>" + "".join(f"<th>{e(c)}</th>" for c in t.columns) + "</tr>")
            parts += ["<tr>" + "".join(f"<td>{e(_cell(v))}</td>" for v in row) + "</tr>" for row in t.rows]
            parts.append("</table>")
        parts += [f"<p><img src='{e(r.name)}/{e(f)}' alt='{e(f)}'></p>" for f in r.figures]
    parts.append("</body></html>")
    return "\n".join(parts)


def _cell(v):
    from recipes._recipe import _fmt

    return _fmt(v)


if __name__ == "__main__":
    sys.exit(cli.run_cli(main))
