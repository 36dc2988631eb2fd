"""Side-by-side timing: the plain textbook script against ``python -m zoo train``.

Each benchmark script names two *workers* (``plain`` and ``ours``). A worker is
the script itself started again as ``python bench/X.py --worker SIDE``: a fresh
interpreter per run, so neither side inherits the other's warm caches, compiled
functions or memory. The two sides alternate (plain, ours, ours, plain, ...) so
that a slow minute on this shared machine hits both; we report medians and the
ratio ``ours / plain`` (below 1 means ours is faster), and write everything as
JSON under ``bench/results/``. ``bench/make_table.py`` turns the JSON into the
table of ``bench/README.md``.

A worker prints one JSON line ``{"train_seconds": ..., "test_accuracy": ...}``
as its last line of output. Training time is the time spent in training only
(``model.fit`` for the plain script; the epoch loop of :func:`zoo.training.train`
for ours, which *includes* its per-epoch checkpoints), not imports, data loading
or model building.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
DEFAULT_REPS = 3  # alternating pairs; 3 is the least that gives a median, each pair costs ~30 s for Reuters


def machine() -> dict:
    """CPU model, core count, AMX flags, memory and library versions: what the numbers depend on."""
    info = {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count()}
    try:
        text = Path("/proc/cpuinfo").read_text()
        model = next((line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("model name")), "")
        flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), [])
        info["cpu"] = model
        info["amx"] = sorted(f for f in flags if f.startswith("amx"))
    except OSError:
        pass
    try:
        mem = Path("/proc/meminfo").read_text().split()
        info["memory_gib"] = round(int(mem[mem.index("MemTotal:") + 1]) / 2**20, 1)
    except (OSError, ValueError):
        pass
    import importlib.metadata as md

    for pkg in ("tensorflow", "tensorflow-cpu", "keras"):
        try:
            info[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    return info


def run_json(command: list, what: str, **env) -> dict:
    """Run ``command`` in a fresh interpreter (this checkout first on ``PYTHONPATH``, TensorFlow quiet,
    ``env`` added) and return the JSON document on its last line of output."""
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "TF_CPP_MIN_LOG_LEVEL": "3", "MPLBACKEND": "Agg", **env}
    proc = subprocess.run(command, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{what} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_worker(script: Path, case: str, side: str, seed: int) -> dict:
    """Run one worker in a fresh interpreter and return its JSON line."""
    start = time.perf_counter()
    result = run_json([sys.executable, str(script), "--worker", side, "--case", case, "--seed", str(seed)],
                      f"worker {side} {case}")
    result["process_seconds"] = round(time.perf_counter() - start, 3)
    return result


def compare(script: Path, case: str, reps: int, log=print) -> dict:
    """Alternate plain and ours ``reps`` times each (seed = repetition, the same for both sides);
    medians, ratio and every run."""
    runs = {"plain": [], "ours": []}
    for rep in range(reps):
        order = ("plain", "ours") if rep % 2 == 0 else ("ours", "plain")
        for side in order:
            r = run_worker(script, case, side, seed=rep)
            runs[side].append(r)
            log(f"  {case} rep {rep + 1}/{reps} {side:5s}: {r['train_seconds']:7.2f} s  "
                f"test accuracy {r['test_accuracy']:.4f}")
    summary = {"case": case, "reps": reps}
    for side, rs in runs.items():
        summary[side] = {
            "median_train_seconds": round(statistics.median(r["train_seconds"] for r in rs), 3),
            "median_test_accuracy": round(statistics.median(r["test_accuracy"] for r in rs), 4),
            "min_test_accuracy": round(min(r["test_accuracy"] for r in rs), 4),
            "runs": rs,
        }
    summary["ratio"] = round(summary["ours"]["median_train_seconds"] / summary["plain"]["median_train_seconds"], 3)
    return summary


def main(script: str, cases: dict, worker, description: str, argv=None) -> int:
    """The command line shared by the bench scripts.

    Args:
        script: ``__file__`` of the bench script.
        cases: case name -> target ratio (ours / plain must be at most this).
        worker: ``worker(side, case, seed) -> dict`` run inside a worker process.
        description: one line for ``--help``.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--reps", type=int, default=DEFAULT_REPS, help="alternating repetitions per side")
    parser.add_argument("--cases", nargs="+", choices=sorted(cases), default=list(cases))
    parser.add_argument("--out", default=None, help="JSON file (default: bench/results/<script>.json)")
    parser.add_argument("--worker", choices=("plain", "ours"), help=argparse.SUPPRESS)
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.case, args.seed)))
        return 0
    if args.reps < 1:
        parser.error(f"--reps must be at least 1, got {args.reps}")
    sys.path.insert(0, str(ROOT))
    from zoo import files

    script = Path(script).resolve()
    out = Path(args.out) if args.out else RESULTS / f"{script.stem}.json"
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    results = []
    for case in args.cases:
        s = compare(script, case, args.reps)
        s["target_ratio"] = cases[case]
        s["met"] = s["ratio"] <= cases[case]
        results.append(s)
        print(f"{case}: plain {s['plain']['median_train_seconds']:.2f} s, ours {s['ours']['median_train_seconds']:.2f} s, "
              f"ratio {s['ratio']:.3f} (target <= {cases[case]}), test accuracy plain "
              f"{s['plain']['median_test_accuracy']:.4f} ours {s['ours']['median_test_accuracy']:.4f}", flush=True)
    report = {"benchmark": script.stem, "command": f"python bench/{script.name} --reps {args.reps}",
              "started_utc": started, "load_average_at_start": load, "machine": machine(), "results": results}
    files.write_json(out, report)
    print(f"wrote {out}")
    return 0
