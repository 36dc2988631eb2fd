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


#: The CPU kinds in the order their tables appear (zoo.platform.ISA_CLASSES), with what each stands for.
KINDS = {
    "amx": "AMX-BF16 (Intel Xeon 4th generation and later)",
    "avx512_bf16": "AVX512-BF16 without AMX (AMD EPYC/Ryzen Zen 4 and later, Intel Cooper Lake)",
    "avx512": "AVX-512 without BF16 (Intel Skylake to Ice Lake servers)",
    "avx2": "AVX2 only (most laptops and desktops, older servers)",
    "other": "neither AVX2 nor AVX-512",
}


def _kind(report) -> tuple:
    """(kind, how it was measured) of a result file; files from before the kinds were recorded ran on AMX."""
    m = report["machine"]
    kind = m.get("cpu_kind") or ("amx" if m.get("amx") else "other")
    how = (f"by restriction: `ONEDNN_MAX_CPU_ISA={m['onednn_max_cpu_isa']}` on this machine"
           if m.get("cpu_kind_by_restriction") else "real")
    return kind, how


def _cell(value, fmt="{:.2f}"):
    return "" if value is None else fmt.format(value)


def table(results_dir: Path = RESULTS) -> str:
    """Markdown: one table per CPU kind (a row per benchmark case), then the machine each file ran on."""
    reports = [json.loads(path.read_text(encoding="utf-8")) for path in sorted(results_dir.glob("*.json"))]
    reports = [r for r in reports if "benchmark" in r and "results" in r]  # other JSON there is not a side-by-side run
    if not reports:
        raise FileNotFoundError(f"no results in {results_dir}; run a bench script first")
    header = ["| benchmark | case | our path | training s plain / ours | ratio | target | met | "
              "whole process s plain / ours | ratio | target | met | test acc. plain | test acc. ours (min) | reps |",
              "|---|---|---|---:|---:|---:|:-:|---:|---:|---:|:-:|---:|---:|---:|"]
    by_kind = {}
    for report in reports:
        by_kind.setdefault(_kind(report)[0], []).append(report)
    out = []
    for kind in sorted(by_kind, key=lambda k: list(KINDS).index(k) if k in KINDS else len(KINDS)):
        out += [f"**{kind}**: {KINDS.get(kind, kind)}", ""] + header
        machines = []
        for report in by_kind[kind]:
            for r in report["results"]:
                p, o = r["plain"], r["ours"]
                pr = r.get("process_ratio")
                target = r.get("process_target_ratio")
                process_met = r.get("process_met")
                out.append(
                    f"| `{report['benchmark']}` | {r['case']} | {r.get('ours_path') or ''} | "
                    f"{p['median_train_seconds']:.2f} / {o['median_train_seconds']:.2f} | **{r['ratio']:.2f}** | "
                    f"<= {r['target_ratio']:.2f} | {'yes' if r['met'] else 'no'} | "
                    + (f"{p['median_process_seconds']:.2f} / {o['median_process_seconds']:.2f} | **{pr:.2f}** | "
                       if pr is not None else "not measured | | ")
                    + f"{'<= ' + _cell(target) if target is not None else ''} | "
                    f"{'' if process_met is None else ('yes' if process_met else 'no')} | "
                    f"{p['median_test_accuracy']:.4f} | {o['median_test_accuracy']:.4f} ({o['min_test_accuracy']:.4f}) | "
                    f"{r['reps']} |")
            m = report["machine"]
            load, load_end = report.get("load_average_at_start"), report.get("load_average_at_end")
            flags = m.get("isa_flags") or m.get("amx", [])
            machines.append(
                f"- `{report['benchmark']}` ({_kind(report)[1]}): `{report['command']}`, started {report['started_utc']}; "
                f"{m.get('cpu', '?')}, {m.get('cpus', '?')} logical CPUs, flags {' '.join(flags) or 'none'}; "
                f"oneDNN ISA: {m.get('onednn_isa') or 'not recorded'}; {m.get('memory_gib', '?')} GiB, "
                f"TensorFlow {m.get('tensorflow', m.get('tensorflow-cpu', '?'))}, Keras {m.get('keras', '?')}, "
                f"Python {m.get('python', '?')}"
                + (f"; load average {load:.1f} at start" if load is not None else "")
                + (f", {load_end:.1f} at end" if load_end is not None else "") + " (shared machine)")
        out += ["", "Machines:", ""] + machines + [""]
    return "\n".join(out)


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
