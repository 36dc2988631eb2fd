"""Whole-process wall time of the commands that should answer at once, before and after.

Runs each command ``--runs`` times (a fresh interpreter each time) in the current
tree and in a baseline git revision, checked out into a temporary ``git worktree``
and put first on ``PYTHONPATH``; prints the median seconds of each, the ratio
``after / before`` and whether the command imported TensorFlow (found by running
it once more under a hook that looks at ``sys.modules`` at exit).

    python bench/cli_latency.py                     # baseline 5006559, 5 runs each
    python bench/cli_latency.py --runs 3 --baseline HEAD~1
    python bench/cli_latency.py --baseline none     # the current tree only

The machine's load moves these numbers; compare the two columns of one run, not runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_BASELINE = "5006559"

# (python -m MODULE, arguments); {tmp} is a scratch folder. Argument errors exit 2, the rest 0.
COMMANDS = [
    ("zoo", ["--help"]),
    ("zoo", ["list"]),
    ("zoo", ["info", "reuters_mlp"]),
    ("zoo", ["train", "--help"]),
    ("zoo", ["train", "reuter_mlp", "--out", "{tmp}/run"]),
    ("zoo", ["train", "dense_classifier", "--epochs", "0", "--out", "{tmp}/run"]),
    ("zoo.word2vec", ["train", "--help"]),
    ("zoo.word2vec", ["train", "--corpus", "lee", "--window", "0", "--out", "{tmp}/w2v"]),
    ("tuning", ["--help"]),
    ("tuning", ["search", "--help"]),
    ("tuning", ["search", "dense_classifer"]),
    ("recipes", ["--help"]),
    ("recipes", ["list"]),
    ("recipes", ["run", "backprp"]),
]

HOOK = (
    "import atexit, runpy, sys\n"
    "atexit.register(lambda: print('TF=' + str('tensorflow' in sys.modules), file=sys.stderr))\n"
    "module, sys.argv = sys.argv[1], [sys.argv[1]] + sys.argv[2:]\n"
    "runpy.run_module(module, run_name='__main__', alter_sys=True)\n"
)


def _env(tree: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)  # each tree's own default
    return env


def measure(tree: Path, module: str, args: list[str], runs: int) -> tuple[float, bool, int]:
    """(median seconds, TensorFlow imported, exit code) of ``python -m module args`` run from ``tree``."""
    times, code = [], None
    with tempfile.TemporaryDirectory() as tmp:
        argv = [a.replace("{tmp}", tmp) for a in args]
        for _ in range(runs):
            start = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", module, *argv], cwd=tmp, env=_env(tree),
                                  capture_output=True, text=True)
            times.append(time.perf_counter() - start)
            code = proc.returncode
        proc = subprocess.run([sys.executable, "-c", HOOK, module, *argv], cwd=tmp, env=_env(tree),
                              capture_output=True, text=True)
        imported = "TF=True" in proc.stderr
    return statistics.median(times), imported, code


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per command and tree; the median is reported (default 5)")
    parser.add_argument("--baseline", default=DEFAULT_BASELINE,
                        help=f"git revision to compare with (default {DEFAULT_BASELINE}); 'none' for the current tree only")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error(f"--runs must be >= 1, got {args.runs}")

    with tempfile.TemporaryDirectory() as scratch:
        before_tree = None
        if args.baseline != "none":
            before_tree = Path(scratch) / "baseline"
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet", str(before_tree),
                            args.baseline], check=True)
        try:
            rows = []
            for module, cmd in COMMANDS:
                label = " ".join(["python -m", module, *(a.replace("{tmp}/", "") for a in cmd)])
                after = measure(ROOT, module, cmd, args.runs)
                before = measure(before_tree, module, cmd, args.runs) if before_tree else None
                rows.append((label, before, after))
                print(f"  measured: {label}", file=sys.stderr, flush=True)
        finally:
            if before_tree is not None:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(before_tree)], check=False)

    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    print(f"\nmedian of {args.runs} runs, whole process; baseline {args.baseline}; "
          f"load average at the end {load[0]:.1f} on {os.cpu_count()} cores\n" if load else "")
    print("| command | exit | before (s) | after (s) | after/before | TensorFlow before | TensorFlow after |")
    print("|---|---|---|---|---|---|---|")
    for label, before, after in rows:
        b = f"{before[0]:.2f}" if before else "-"
        ratio = f"{after[0] / before[0]:.2f}" if before else "-"
        tf_before = ("yes" if before[1] else "no") if before else "-"
        print(f"| `{label}` | {after[2]} | {b} | {after[0]:.2f} | {ratio} | {tf_before} | {'yes' if after[1] else 'no'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
