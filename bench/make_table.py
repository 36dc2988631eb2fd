"""Regenerate the results table of ``bench/README.md`` from ``bench/results/*.json``.

The table sits between the ``<!-- results -->`` and ``<!-- /results -->``
markers of the README and is rewritten in place (atomically); nothing else in
the file changes. Every number comes from the JSON the bench scripts wrote.

Usage::

    python bench/make_table.py            # rewrite bench/README.md
    python bench/make_table.py --print    # print the table only
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
README = ROOT / "bench" / "README.md"
START, END = "<!-- results -->", "<!-- /results -->"


def table(results_dir: Path = RESULTS) -> str:
    """Markdown: one row per benchmark case, then the machine each file ran on."""
    files = sorted(results_dir.glob("*.json"))
    if not files:
        raise FileNotFoundError(f"no results in {results_dir}; run a bench script first")
    rows = ["| benchmark | case | plain s (median) | ours s (median) | ours / plain | target | met | "
            "test acc. plain | test acc. ours (min) | reps |",
            "|---|---|---:|---:|---:|---:|:-:|---:|---:|---:|"]
    machines = []
    for path in files:
        report = json.loads(path.read_text(encoding="utf-8"))
        for r in report["results"]:
            p, o = r["plain"], r["ours"]
            rows.append(
                f"| `{report['benchmark']}` | {r['case']} | {p['median_train_seconds']:.2f} | "
                f"{o['median_train_seconds']:.2f} | **{r['ratio']:.2f}** | <= {r['target_ratio']:.2f} | "
                f"{'yes' if r['met'] else 'no'} | {p['median_test_accuracy']:.4f} | "
                f"{o['median_test_accuracy']:.4f} ({o['min_test_accuracy']:.4f}) | {r['reps']} |")
        m = report["machine"]
        load = report.get("load_average_at_start")
        machines.append(
            f"- `{report['benchmark']}`: `{report['command']}`, started {report['started_utc']}; "
            f"{m.get('cpu', '?')}, {m.get('cpus', '?')} logical CPUs, AMX: {', '.join(m.get('amx', [])) or 'none'}, "
            f"{m.get('memory_gib', '?')} GiB, TensorFlow {m.get('tensorflow', m.get('tensorflow-cpu', '?'))}, "
            f"Keras {m.get('keras', '?')}, Python {m.get('python', '?')}"
            + (f"; load average {load:.1f} at start (shared machine)" if load is not None else ""))
    return "\n".join(rows) + "\n\nMachines:\n\n" + "\n".join(machines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--print", action="store_true", help="print the table instead of rewriting the README")
    args = parser.parse_args(argv)
    text = table()
    if args.print:
        print(text)
        return 0
    readme = README.read_text(encoding="utf-8")
    if START not in readme or END not in readme:
        raise SystemExit(f"{README} lacks the {START} ... {END} markers")
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    sys.path.insert(0, str(ROOT))
    from zoo import files

    files.write_text(README, f"{head}{START}\n{text}{END}{tail}")
    print(f"wrote {README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
