"""The report of ``python -m recipes all``: ``index.md``, ``index.html`` and ``results.json``.

``index.md`` is written first; ``index.html`` is that same Markdown rendered by the
``markdown`` package (tables and fenced code), so the two always say the same thing.
Every value placed in a table cell goes through :func:`recipes._recipe.md_text`, which
escapes ``|`` and folds newlines, so each row keeps the header's number of cells.

Example (not run by the doctests: it needs the recipes' results; tests/test_recipes.py writes reports):
    >>> from recipes.report import write_report                 # doctest: +SKIP
    >>> write_report(Path("report"), results, 812.0, quick=False)  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

from recipes._recipe import Result, md_text
from zoo import files

#: The Korean fonts the page asks for, first installed wins: the titles carry the notes' Korean
#: terms, which a Latin-only sans-serif draws as boxes (Linux: fonts-noto-cjk; Windows: Malgun
#: Gothic; macOS: Apple SD Gothic Neo). See docs/recipes.md.
FONTS = '"Noto Sans CJK KR","Noto Sans KR","Malgun Gothic","Apple SD Gothic Neo","NanumGothic",sans-serif'
#: The page around the rendered Markdown: readable widths, bordered tables, failures in red.
_STYLE = ("body{font-family:" + FONTS + ";max-width:1100px;margin:auto;padding:1em;line-height:1.4}"
          "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;"
          "vertical-align:top}th{background:#f4f4f4}td strong{color:#b00}img{max-width:100%}"
          "pre{background:#f4f4f4;padding:.5em;overflow:auto}code{background:#f4f4f4}")


def report_markdown(results: list[Result], seconds: float, *, quick: bool) -> str:
    """The whole report as Markdown: a summary table, then each recipe's notes, checks, tables and figures."""
    mode = "quick" if quick else "full"
    n_checks = sum(len(r.checks) for r in results)
    n_passed = sum(c.passed for r in results for c in r.checks)
    md = ["# Textbook recipes report\n",
          f"{len(results)} recipes, {n_passed}/{n_checks} checks passed, {mode} mode, {seconds:.0f} s.\n",
          "| # | recipe | checks | time (s) |", "|---|---|---|---|"]
    for i, r in enumerate(results, start=1):
        ok = sum(c.passed for c in r.checks)
        md.append(f"| {i} | [{md_text(r.title)}](#{r.name}) | {ok}/{len(r.checks)} "
                  f"{'pass' if r.passed else '**FAIL**'} | {r.seconds:.1f} |")
    for r in results:
        md += ["", f'<a id="{r.name}"></a>', "", f"## {md_text(r.title)}", "",
               f"*{md_text(r.source)}* — `python -m recipes run {r.name}`", ""]
        md += [n + "\n" for n in r.notes]  # notes are Markdown already (a traceback comes fenced)
        if r.checks:
            md += ["| check | expected | measured | |", "|---|---|---|---|"]
            md += [f"| {md_text(c.name)} | {md_text(c.expected)} | {md_text(c.measured)} | "
                   f"{'ok' if c.passed else '**FAIL**'} |" for c in r.checks]
        for t in r.tables:
            md += ["", f"**{md_text(t.title)}**", "", t.markdown()]
        md += [f"![{f}]({r.name}/{f})\n" for f in r.figures]
    return "\n".join(md + coverage_markdown(results)) + "\n"


def coverage_markdown(results: list[Result]) -> list[str]:
    """The report's last section: what the notes say that the report does not reproduce (left out, with the
    reason; measured and found not to hold, from the checks named ``NOT REPRODUCED``), and where a note is
    factually wrong, with a source. The lists live in :mod:`recipes._coverage`."""
    from recipes import _coverage

    md = ["", '<a id="not-reproduced"></a>', "", "## What the notes say that this report does not reproduce, and why", "",
          "Measured, and found not to hold in the setting the recipe states (the check records the measurement):", ""]
    measured = [(r, c) for r in results for c in r.checks if c.name.startswith(_coverage.NOT_REPRODUCED)]
    md += [f"- [{md_text(r.title)}](#{r.name}): {md_text(c.name)} — measured {md_text(c.measured)}" for r, c in measured]
    md += ["- (none in this run)"] if not measured else []
    md += ["", "Left out on purpose:", "", "| note | what it says | why the report does not reproduce it |", "|---|---|---|"]
    md += [f"| {md_text(e['note'])} | {md_text(e['says'])} | {md_text(e['why'])} |" for e in _coverage.NOT_COVERED]
    md += ["", "Where a note is factually wrong:", "", "| note | what it says | what is right | source |", "|---|---|---|---|"]
    md += [f"| {md_text(e['note'])} | {md_text(e['says'])} | {md_text(e['fact'])} | {md_text(e['source'])} |"
           for e in _coverage.WRONG]
    return md


def render_html(markdown_text: str, *, title: str = "Textbook recipes report") -> str:
    """``markdown_text`` as a standalone HTML page (the ``markdown`` package, tables and fenced code)."""
    import html

    import markdown

    body = markdown.markdown(markdown_text, extensions=["tables", "fenced_code"], output_format="html")
    return (f"<!doctype html>\n<html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{_STYLE}</style></head>\n<body>\n{body}\n</body></html>\n")


def write_report(out: Path, results: list[Result], seconds: float, *, quick: bool) -> None:
    """Write ``out/index.md``, ``out/index.html`` and ``out/results.json``, the three or none.

    Raises:
        zoo.files.WriteFailed: a full disk; the earlier report is left whole.
    """
    out = Path(out)
    text = report_markdown(results, seconds, quick=quick)
    files.write_texts({out / "index.md": text, out / "index.html": render_html(text),
                       out / "results.json": files.json_text({"mode": "quick" if quick else "full",
                                                              "seconds": round(seconds, 1),
                                                              "recipes": [r.to_dict() for r in results]})})
