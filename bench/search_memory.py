"""Resident memory of a long cross-validated search: does it stay flat?

Each case runs in a fresh interpreter and prints the process's resident memory
(``VmRSS``, no garbage collection forced: what the user's machine sees) after
given trials (folds for ``cross_validate``, outer folds for ``nested``):

* ``dense``: ``CVTuner`` random search of dense_classifier on iris, 3 folds,
  after trials 5, 50 and 200 (target: growth from trial 5 to 200 under 10%);
* ``cnn``: small_cnn on digits, 3 folds, after trials 5 and 20;
* ``cv``: ``cross_validate`` of dense_classifier with 40 folds (iris: 40 training samples a class), after folds 5 and 40;
* ``nested``: ``nested_cv`` of dense_classifier, 5 outer folds of a 4-trial, 3-fold search,
  after outer folds 1 and 5;
* ``dense-unreleased`` (the anchor, ``--anchor``): ``dense`` with the fix switched off
  (:func:`zoo.platform.released_gradients` made a no-op), i.e. the search as it was, to 50 trials.

One epoch per fold (memory does not depend on it; tracing a new model's step per
fold, which is what leaked, does not either). The table goes into bench/README.md.

Usage:
    python bench/search_memory.py                 # every case but the anchor (~15-25 min on 2 busy cores)
    python bench/search_memory.py --anchor        # and the anchor
    python bench/search_memory.py --cases dense --marks dense=5,20,50   # a quicker look
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import _harness  # noqa: E402  (bench/, the script's own folder, is on sys.path)

TARGET_GROWTH = 0.10  # trial 5 -> last trial, dense case (the target)
CASES = ("dense", "cnn", "cv", "nested")
CHECKPOINTS = {"dense": (5, 50, 200), "cnn": (5, 20), "cv": (5, 40), "nested": (1, 5), "dense-unreleased": (5, 20, 50)}
MODELS = {"dense": ("dense_classifier", "iris"), "dense-unreleased": ("dense_classifier", "iris"),
          "cnn": ("small_cnn", "digits"), "cv": ("dense_classifier", "iris"), "nested": ("dense_classifier", "iris")}
FOLDS = 3


def rss_mb() -> float:
    """This process's resident memory now, in MB (Linux ``/proc``; else the peak from ``getrusage``)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)


def worker(case: str, checkpoints: tuple) -> dict:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from tuning.__main__ import load_training_data

    name, data = MODELS[case]
    (x, y), _, preprocess = load_training_data(data, seed=0)
    if case == "dense-unreleased":
        from zoo import platform

        platform.released_gradients = contextlib.nullcontext  # the search as it was before the fix
    marks, start = {}, time.perf_counter()

    def note(n):
        if n in checkpoints:
            marks[str(n)] = {"rss_mb": round(rss_mb(), 1), "seconds": round(time.perf_counter() - start, 1)}

    with tempfile.TemporaryDirectory() as tmp:
        if case == "cv":
            import tuning.cv as cv_lib

            run_fold = cv_lib.run_fold

            def counted(*args, **kwargs):  # a mark after each whole fold (its training and its evaluation)
                out = run_fold(*args, **kwargs)
                counted.done += 1
                note(counted.done)
                return out

            counted.done = 0
            cv_lib.run_fold = counted
            from tuning import cross_validate

            cross_validate(name, x, y, cv=max(checkpoints), epochs=1, seed=0, preprocess=preprocess, verbose=0)
        elif case == "nested":
            import tuning.nested as nested_lib

            outer_fold = nested_lib._outer_fold

            def counted(i, *args, **kwargs):
                out = outer_fold(i, *args, **kwargs)
                note(i)
                return out

            nested_lib._outer_fold = counted
            nested_lib.nested_cv(name, x, y, outer=max(checkpoints), inner=FOLDS, max_trials=4, epochs=1, seed=0,
                                 preprocess=preprocess, directory=Path(tmp) / "nested", verbose=0)
        else:
            from tuning import CVTuner, hypermodel

            class Measured(CVTuner):
                def on_trial_end(self, trial):
                    super().on_trial_end(trial)
                    note(len(self.oracle.end_order))

            tuner = Measured(hypermodel(name), algorithm="random", max_trials=max(checkpoints), cv=FOLDS, seed=0,
                             preprocess=preprocess, directory=tmp, project_name=case, overwrite=True)
            tuner.search(x, y, epochs=1, verbose=0)
    return {"case": case, "model": name, "data": data, "marks": marks}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--checkpoints", help=argparse.SUPPRESS)
    p.add_argument("--cases", default=",".join(CASES), help=f"comma-separated subset of {', '.join(CASES)}")
    p.add_argument("--anchor", action="store_true", help="also run dense-unreleased (the search before the fix)")
    p.add_argument("--marks", action="append", default=[], metavar="CASE=N,N",
                   help="other checkpoints for a case, e.g. dense=5,20,50 (a quicker look)")
    p.add_argument("--json", default=str(_harness.RESULTS / "search_memory.json"))
    args = p.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, tuple(int(c) for c in args.checkpoints.split(",")))))
        return
    cases = [c.strip() for c in args.cases.split(",") if c.strip()] + (["dense-unreleased"] if args.anchor else [])
    results = []
    for case in cases:
        marks = CHECKPOINTS[case]
        for override in args.marks:
            name, _, values = override.partition("=")
            if name == case:
                marks = tuple(int(v) for v in values.split(","))
        print(f"{case}: after {', '.join(map(str, marks))} ...", flush=True)
        r = _harness.run_json([sys.executable, __file__, "--worker", case, "--checkpoints", ",".join(map(str, marks))],
                              f"search_memory {case}")
        results.append(r)
        print("   ", r["marks"], flush=True)
    print()
    print(table(results))
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": _harness.machine(), "target_growth": TARGET_GROWTH, "results": results},
                              indent=2) + "\n")
    print(f"\nwrote {out}")


def table(results: list[dict]) -> str:
    unit = {"cv": "fold", "nested": "outer fold"}
    rows = ["| case | model (data) | resident MB after ... | growth first -> last mark | target | met |",
            "|---|---|---|---:|---:|:-:|"]
    for r in results:
        marks = r["marks"]
        keys = sorted(marks, key=int)
        first, last = marks[keys[0]]["rss_mb"], marks[keys[-1]]["rss_mb"]
        growth = last / first - 1
        has_target = r["case"] == "dense"
        cells = ", ".join(f"{unit.get(r['case'], 'trial')} {k}: {marks[k]['rss_mb']:.0f}" for k in keys)
        rows.append(f"| `{r['case']}` | {r['model']} ({r['data']}) | {cells} | {growth:+.1%} | "
                    f"{'< ' + format(TARGET_GROWTH, '.0%') if has_target else '-'} | "
                    f"{('yes' if growth < TARGET_GROWTH else 'no') if has_target else '-'} |")
    return "\n".join(rows)


if __name__ == "__main__":
    main()
