"""Overhead of ``tuning`` against its anchors, measured in one run.

1. **Search vs bare fits.** Seconds per trial of a ``CVRandomSearch`` on one
   stratified validation split (``cv=holdout(...)``: one fit per trial), against
   the same configurations trained by hand on the same split:
   ``zoo.create_model(...)`` + ``model.fit`` + ``model.evaluate``. Everything
   the search does beyond that (building the tuner, KerasTuner's oracle and its
   state files, our results files, seeding) is overhead. Target: <= 10 %.
2. **k-fold CV vs k single fits.** ``cross_validate(..., cv=k)`` against the
   same k folds trained by hand (build + fit + evaluate each). Target: the CV
   takes <= 1.1 x k single fits.
3. (``--stock``) KerasTuner's stock ``RandomSearch`` with the same hypermodel,
   its default ``run_trial`` (validation every epoch, a checkpoint of the best
   epoch's weights), for context.

The machine may be shared, so each repetition measures the project and its
anchor back to back (alternating which goes first), wall-clock and CPU time
(``time.process_time``, all threads of this process: much less sensitive to
other processes). The ratio reported is the median over repetitions of the
paired ratios; the search's bookkeeping time (search time minus the time of
its trials, measured inside the same run) is reported as well.

Usage:
    python bench/tuning_overhead.py                      # iris, 8 trials x 7 repetitions, 10 epochs
    python bench/tuning_overhead.py --trials 10 --reps 9 --stock --json runs/bench/tuning_overhead.json
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras_tuner  # noqa: E402

import zoo  # noqa: E402
from tuning import CVRandomSearch, cross_validate, holdout, hypermodel  # noqa: E402
from tuning.folds import check_splits, make_splitter  # noqa: E402
from zoo import files  # noqa: E402

MODEL = "dense_classifier"
HOLDOUT = 0.2  # validation fraction of the search's single split


class Clock:
    """Wall-clock and CPU seconds of a block."""

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu


def bare_fit(kwargs, batch_size, epochs, x_tr, y_tr, x_va, y_va, seed):
    """The anchor: what a hand-written loop does for one configuration."""
    model = zoo.create_model(MODEL, seed=seed, **kwargs)
    model.fit(x_tr, y_tr, batch_size=batch_size, epochs=epochs, shuffle=True, verbose=0)
    return model.evaluate(x_va, y_va, batch_size=256, verbose=0, return_dict=True)


def run_search(x, y, *, trials, epochs, seed, directory):
    with Clock() as clock:
        tuner = CVRandomSearch(hypermodel(MODEL), max_trials=trials, cv=holdout(HOLDOUT, seed=seed), seed=seed,
                               directory=directory, project_name="search", overwrite=True)
        tuner.search(x, y, epochs=epochs, verbose=0)
    in_trials = sum(tuner.oracle.trials[t].metrics.get_last_value("seconds") for t in tuner.oracle.start_order)
    return clock, tuner, clock.wall - in_trials


def run_bare(configs, x, y, split, *, epochs, seed):
    tr, va = split
    with Clock() as clock:
        for i, (kwargs, batch_size) in enumerate(configs):
            bare_fit(kwargs, batch_size, epochs, x[tr], y[tr], x[va], y[va], seed + i)
    return clock


def run_stock(x, y, split, *, trials, epochs, seed, directory):
    tr, va = split
    with Clock() as clock:
        tuner = keras_tuner.RandomSearch(hypermodel(MODEL), objective="val_accuracy", max_trials=trials, seed=seed + 1,
                                         directory=directory, project_name="stock", overwrite=True)
        tuner.search(x[tr], y[tr], validation_data=(x[va], y[va]), epochs=epochs, verbose=0)
    return clock


def run_cv(x, y, *, folds, epochs, seed):
    with Clock() as clock:
        cross_validate(MODEL, x, y, cv=folds, epochs=epochs, seed=seed)
    return clock


def run_k_bare(x, y, splits, *, batch_size, epochs, seed):
    with Clock() as clock:
        for i, (tr, va) in enumerate(splits):
            bare_fit({}, batch_size, epochs, x[tr], y[tr], x[va], y[va], seed + i)
    return clock


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--stock", action="store_true", help="also time KerasTuner's stock RandomSearch")
    parser.add_argument("--json", default="runs/bench/tuning_overhead.json")
    args = parser.parse_args(argv)

    (x, y), _ = zoo.datasets.load("iris")
    split = check_splits(holdout(HOLDOUT, seed=args.seed), x, y)[0]
    folds = check_splits(make_splitter(args.folds, seed=args.seed), x, y)
    batch_size = zoo.registry.get_entry(MODEL).train.batch_size
    bare_fit({}, 8, 1, x, y, x, y, 0)  # warm TensorFlow up: first-call costs belong to neither side

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        # The configurations the search samples (same seed every repetition), for the anchor.
        _, tuner, _ = run_search(x, y, trials=args.trials, epochs=1, seed=args.seed, directory=tmp)
        configs = [tuner.hypermodel.declare(tuner.oracle.trials[t].hyperparameters.copy())
                   for t in tuner.oracle.start_order]
        for rep in range(args.reps):
            row = {}
            order = ("search", "bare") if rep % 2 == 0 else ("bare", "search")
            for side in order:
                if side == "search":
                    clock, _, bookkeeping = run_search(x, y, trials=args.trials, epochs=args.epochs, seed=args.seed,
                                                       directory=tmp)
                    row.update(search_wall=clock.wall, search_cpu=clock.cpu, bookkeeping=bookkeeping)
                else:
                    clock = run_bare(configs, x, y, split, epochs=args.epochs, seed=args.seed)
                    row.update(bare_wall=clock.wall, bare_cpu=clock.cpu)
            for side in (("cv", "kbare") if rep % 2 == 0 else ("kbare", "cv")):
                if side == "cv":
                    clock = run_cv(x, y, folds=args.folds, epochs=args.epochs, seed=args.seed)
                    row.update(cv_wall=clock.wall, cv_cpu=clock.cpu)
                else:
                    clock = run_k_bare(x, y, folds, batch_size=batch_size, epochs=args.epochs, seed=args.seed)
                    row.update(kbare_wall=clock.wall, kbare_cpu=clock.cpu)
            if args.stock:
                clock = run_stock(x, y, split, trials=args.trials, epochs=args.epochs, seed=args.seed, directory=tmp)
                row.update(stock_wall=clock.wall, stock_cpu=clock.cpu)
            rows.append(row)
            n = args.trials
            print(f"rep {rep + 1}/{args.reps}: search {row['search_wall'] / n:.3f} s/trial "
                  f"(cpu {row['search_cpu'] / n:.3f}), bare {row['bare_wall'] / n:.3f} s/fit "
                  f"(cpu {row['bare_cpu'] / n:.3f}), bookkeeping {row['bookkeeping'] / n * 1000:.0f} ms/trial; "
                  f"{args.folds}-fold CV {row['cv_wall']:.2f} s (cpu {row['cv_cpu']:.2f}) vs {args.folds} bare fits "
                  f"{row['kbare_wall']:.2f} s (cpu {row['kbare_cpu']:.2f})"
                  + (f"; stock KerasTuner {row['stock_wall'] / n:.3f} s/trial" if args.stock else ""), flush=True)

    med = statistics.median
    ratio = lambda a, b: med(r[a] / r[b] for r in rows)  # noqa: E731  (median of paired ratios)
    n, k = args.trials, args.folds
    result = {
        "model": MODEL, "data": "iris, 120 training samples (search: one stratified 80/20 split)",
        "epochs": args.epochs, "trials": n, "reps": args.reps, "folds": k, "repetitions": rows,
        "median_search_seconds_per_trial": med(r["search_wall"] for r in rows) / n,
        "median_bare_seconds_per_fit": med(r["bare_wall"] for r in rows) / n,
        "search_over_bare_wall": ratio("search_wall", "bare_wall"),
        "search_over_bare_cpu": ratio("search_cpu", "bare_cpu"),
        "search_bookkeeping_seconds_per_trial": med(r["bookkeeping"] for r in rows) / n,
        "search_overhead_target": 1.10,
        "median_cv_seconds": med(r["cv_wall"] for r in rows),
        "median_k_bare_fits_seconds": med(r["kbare_wall"] for r in rows),
        "cv_over_k_bare_fits_wall": ratio("cv_wall", "kbare_wall"),
        "cv_over_k_bare_fits_cpu": ratio("cv_cpu", "kbare_cpu"),
        "cv_over_single_fit_wall": ratio("cv_wall", "kbare_wall") * k,
        "cv_target": f"<= 1.1 x {k} single fits",
    }
    if args.stock:
        result.update({"median_stock_seconds_per_trial": med(r["stock_wall"] for r in rows) / n,
                       "stock_over_bare_wall": ratio("stock_wall", "bare_wall"),
                       "stock_over_bare_cpu": ratio("stock_cpu", "bare_cpu")})
    verdict = lambda v, t: "met" if v <= t else "NOT met"  # noqa: E731
    sw, sc = result["search_over_bare_wall"], result["search_over_bare_cpu"]
    cw, cc = result["cv_over_k_bare_fits_wall"], result["cv_over_k_bare_fits_cpu"]
    print(f"\nsearch vs bare build+fit+evaluate: {result['median_search_seconds_per_trial']:.3f} vs "
          f"{result['median_bare_seconds_per_fit']:.3f} s/trial; paired ratio wall {sw:.3f}, cpu {sc:.3f} "
          f"(target <= 1.10: wall {verdict(sw, 1.10)}, cpu {verdict(sc, 1.10)}); bookkeeping "
          f"{result['search_bookkeeping_seconds_per_trial'] * 1000:.0f} ms/trial")
    print(f"{k}-fold CV vs {k} bare fits: {result['median_cv_seconds']:.2f} vs {result['median_k_bare_fits_seconds']:.2f} s; "
          f"paired ratio wall {cw:.3f}, cpu {cc:.3f} = {cw * k:.2f} x a single fit "
          f"(target <= {1.1 * k:.1f}: wall {verdict(cw, 1.1)}, cpu {verdict(cc, 1.1)})")
    if args.stock:
        print(f"stock KerasTuner RandomSearch: {result['median_stock_seconds_per_trial']:.3f} s/trial, "
              f"{result['stock_over_bare_wall']:.2f} x bare (wall), {result['stock_over_bare_cpu']:.2f} x (cpu)")
    files.write_json(args.json, result)
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
