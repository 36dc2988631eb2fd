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
as its last line of output (or a bench names the user's own command line for a
side, whose ``metrics.json`` is read). Two times per run: training time, the
time spent in training only (``model.fit`` for the plain script; the epoch loop
of :func:`zoo.training.train` for ours, which *includes* its per-epoch
checkpoints), and the whole process, start to exit (imports, data loading,
model building, evaluation, saving, plotting, and the interpreter's exit).
``--isa`` runs both sides under ``ONEDNN_MAX_CPU_ISA`` to stand in for a CPU of
that kind; the JSON says which kind, real or by restriction.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
DEFAULT_REPS = 3  # alternating pairs; 3 is the least that gives a median, each pair costs ~30 s for Reuters


#: The CPU flags that decide the zoo's path for the wide MLP and oneDNN's kernels (zoo.platform.isa_class).
ISA_FLAGS = ("amx_bf16", "amx_tile", "avx512_bf16", "avx512f", "avx2")


def machine() -> dict:
    """CPU model, core count, ISA flags, oneDNN's ISA, memory and library versions: what the numbers depend on.

    ``cpu_kind`` is the kind the zoo chooses its path by (:func:`zoo.platform.isa_class`: the CPU's flags
    capped by ``ONEDNN_MAX_CPU_ISA``); ``cpu_kind_by_restriction`` says whether that cap made it lower than
    the CPU's own kind (a measurement standing in for another CPU); ``onednn_isa`` is what oneDNN itself
    reports (``ONEDNN_VERBOSE``) under the same environment as the workers.
    """
    from zoo import platform as zplatform

    info = {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count()}
    model, flags = zplatform.cpu_info()
    info["cpu"] = model
    info["amx"] = sorted(f for f in flags if f.startswith("amx"))
    info["isa_flags"] = [f for f in ISA_FLAGS if f in flags]
    info["onednn_max_cpu_isa"] = next((os.environ[k] for k in zplatform.ONEDNN_ISA_ENVS if os.environ.get(k)), None)
    info["cpu_kind"] = zplatform.isa_class()
    info["cpu_kind_by_restriction"] = info["cpu_kind"] != zplatform.isa_class(environ={})
    info["onednn_isa"] = onednn_isa()
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


def onednn_isa() -> str | None:
    """The ISA oneDNN reports it dispatches to here (its ``cpu,isa:`` verbose line), from one small float32
    and one bfloat16 product in a fresh TensorFlow process with this environment; None if it printed none."""
    code = ("import tensorflow as tf; a = tf.ones((64, 64)); tf.matmul(a, a); "
            "b = tf.cast(a, tf.bfloat16); tf.matmul(b, b)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "ONEDNN_VERBOSE": "1", "TF_CPP_MIN_LOG_LEVEL": "3"})
    for line in (proc.stdout + proc.stderr).splitlines():
        if ",cpu,isa:" in line:
            return line.split(",cpu,isa:", 1)[1].strip()
    return None


def worker_env(**env) -> dict:
    """This environment with this checkout first on ``PYTHONPATH``, TensorFlow quiet and ``env`` added."""
    return {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
            "TF_CPP_MIN_LOG_LEVEL": "3", "MPLBACKEND": "Agg", **env}


def run_json(command: list, what: str, **env) -> dict:
    """Run ``command`` in a fresh interpreter (this checkout first on ``PYTHONPATH``, TensorFlow quiet,
    ``env`` added) and return the JSON document on its last line of output."""
    proc = subprocess.run(command, env=worker_env(**env), capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{what} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_worker(script: Path, case: str, side: str, seed: int, command=None) -> dict:
    """Run one worker in a fresh interpreter and return its result, with ``process_seconds``: the
    whole process, start to exit.

    ``command(side, case, seed, out)`` may name the command line to run instead (e.g. ``python -m zoo
    train``, exactly as a user types it); its result is then the ``metrics.json`` it writes into ``out``.
    """
    with tempfile.TemporaryDirectory() as out:
        argv = command(side, case, seed, out) if command is not None else None
        start = time.perf_counter()
        if argv is None:
            result = run_json([sys.executable, str(script), "--worker", side, "--case", case, "--seed", str(seed)],
                              f"worker {side} {case}")
        else:
            proc = subprocess.run(argv, env=worker_env(), capture_output=True, text=True)
            if proc.returncode != 0:
                raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
            result = None
        seconds = time.perf_counter() - start
        if result is None:
            result = json.loads((Path(out) / "metrics.json").read_text())
    result["process_seconds"] = round(seconds, 3)
    return result


def compare(script: Path, case: str, reps: int, log=print, command=None) -> dict:
    """Alternate plain and ours ``reps`` times each (seed = repetition, the same for both sides);
    medians, ratios (training time, and whole process) and every run."""
    runs = {"plain": [], "ours": []}
    for rep in range(reps):
        order = ("plain", "ours") if rep % 2 == 0 else ("ours", "plain")
        for side in order:
            load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
            r = run_worker(script, case, side, seed=rep, command=command)
            r["load_average_before"] = load
            runs[side].append(r)
            log(f"  {case} rep {rep + 1}/{reps} {side:5s}: train {r['train_seconds']:7.2f} s  process "
                f"{r['process_seconds']:7.2f} s  test accuracy {r['test_accuracy']:.4f}  load {load}"
                + (f"  path {r['wide_input_path']}" if r.get("wide_input_path") else ""), flush=True)
    summary = {"case": case, "reps": reps}
    for side, rs in runs.items():
        summary[side] = {
            "median_train_seconds": round(statistics.median(r["train_seconds"] for r in rs), 3),
            "median_process_seconds": round(statistics.median(r["process_seconds"] for r in rs), 3),
            "median_test_accuracy": round(statistics.median(r["test_accuracy"] for r in rs), 4),
            "min_test_accuracy": round(min(r["test_accuracy"] for r in rs), 4),
            "runs": rs,
        }
    summary["ratio"] = round(summary["ours"]["median_train_seconds"] / summary["plain"]["median_train_seconds"], 3)
    summary["process_ratio"] = round(
        summary["ours"]["median_process_seconds"] / summary["plain"]["median_process_seconds"], 3)
    paths = sorted({r["wide_input_path"] for r in runs["ours"] if r.get("wide_input_path")})
    summary["ours_path"] = ", ".join(paths) or None
    return summary


def main(script: str, cases: dict, worker, description: str, argv=None, *, command=None,
         process_targets: dict | None = None) -> int:
    """The command line shared by the bench scripts.

    Args:
        script: ``__file__`` of the bench script.
        cases: case name -> target ratio (ours / plain must be at most this).
        worker: ``worker(side, case, seed) -> dict`` run inside a worker process.
        description: one line for ``--help``.
        command: see :func:`run_worker` (None: both sides are workers).
        process_targets: case name -> target for the whole-process ratio, where there is one.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--reps", type=int, default=DEFAULT_REPS, help="alternating repetitions per side")
    parser.add_argument("--cases", nargs="+", choices=sorted(cases), default=list(cases))
    parser.add_argument("--out", default=None,
                        help="JSON file (default: bench/results/<script>.json, or <script>-<isa>.json with --isa)")
    parser.add_argument("--isa", help="ONEDNN_MAX_CPU_ISA for both sides (e.g. AVX512_CORE_BF16, AVX512_CORE, AVX2): "
                                      "this machine standing in for a CPU of that kind")
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

    if args.isa:
        os.environ["ONEDNN_MAX_CPU_ISA"] = args.isa  # inherited by every worker, plain and ours alike
    script = Path(script).resolve()
    suffix = f"-{args.isa.lower()}" if args.isa else ""
    out = Path(args.out) if args.out else RESULTS / f"{script.stem}{suffix}.json"
    info = machine()
    print(f"CPU {info['cpu']!r}, flags {' '.join(info['isa_flags'])}, kind {info['cpu_kind']}"
          + (f" (by ONEDNN_MAX_CPU_ISA={info['onednn_max_cpu_isa']})" if info["cpu_kind_by_restriction"] else "")
          + f"; oneDNN ISA: {info['onednn_isa']}", flush=True)
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    results = []
    for case in args.cases:
        s = compare(script, case, args.reps, command=command)
        s["target_ratio"] = cases[case]
        s["met"] = s["ratio"] <= cases[case]
        target = (process_targets or {}).get(case)
        s["process_target_ratio"] = target
        s["process_met"] = None if target is None else s["process_ratio"] <= target
        results.append(s)
        print(f"{case}: training plain {s['plain']['median_train_seconds']:.2f} s, ours "
              f"{s['ours']['median_train_seconds']:.2f} s, ratio {s['ratio']:.3f} (target <= {cases[case]:.2f}); "
              f"whole process plain {s['plain']['median_process_seconds']:.2f} s, ours "
              f"{s['ours']['median_process_seconds']:.2f} s, ratio {s['process_ratio']:.3f}"
              + (f" (target <= {target:.2f})" if target is not None else "")
              + f"; test accuracy plain {s['plain']['median_test_accuracy']:.4f} ours "
              f"{s['ours']['median_test_accuracy']:.4f}; our path {s['ours_path']}", flush=True)
    command_line = f"python bench/{script.name} --reps {args.reps}" + (f" --isa {args.isa}" if args.isa else "")
    report = {"benchmark": script.stem, "command": command_line, "started_utc": started,
              "load_average_at_start": load, "load_average_at_end": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
              "machine": info, "results": results}
    files.write_json(out, report)
    print(f"wrote {out}")
    return 0
