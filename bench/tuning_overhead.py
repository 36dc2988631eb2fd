"""Overhead of ``tuning`` against its anchors, measured in one run.

1. **Search vs bare fits.** Seconds per trial of a ``CVRandomSearch`` on one
   stratified validation split (``cv=holdout(...)``: one fit per trial), against
   the same configurations trained by hand: ``zoo.create_model(...)`` +
   ``model.fit`` + ``model.evaluate`` on the same split. Everything the search
   does beyond that (KerasTuner's oracle, its state files, our results files,
   seeding, the tuner's construction) is overhead. Target: <= 10 %.
2. **k-fold CV vs k single fits.** ``cross_validate(..., cv=k)`` against one
   bare build + fit + evaluate on one fold's split. Target: <= 1.1 x k.
3. (``--stock``) KerasTuner's stock ``RandomSearch`` with the same hypermodel and
   its default per-epoch best-weights checkpoint, for context (it also validates
   every epoch, as its ``run_trial`` needs).

The project and its anchor alternate, several repetitions; medians and their
ratio are printed and written as JSON. The machine is shared, so single
timings are noisy: read the medians.

Usage:
    python bench/tuning_overhead.py                      # iris, 8 trials x 5 repetitions
    python bench/tuning_overhead.py --trials 10 --reps 7 --epochs 20 --json runs/bench/tuning_overhead.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras  # noqa: E402
import keras_tuner  # noqa: E402

import zoo  # noqa: E402
from tuning import CVRandomSearch, cross_validate, holdout, hypermodel  # noqa: E402
from zoo import _io  # noqa: E402

MODEL = "dense_classifier"
HOLDOUT = 0.2  # validation fraction of the search's single split


def bare_fit(kwargs, batch_size, epochs, x_tr, y_tr, x_va, y_va, seed):
    """The anchor: what a hand-written loop does for one configuration."""
    model = zoo.create_model(MODEL, seed=seed, **kwargs)
    model.fit(x_tr, y_tr, batch_size=batch_size, epochs=epochs, shuffle=True, verbose=0)
    return model.evaluate(x_va, y_va, batch_size=256, verbose=0, return_dict=True)


def time_search(x, y, *, trials, epochs, seed, directory):
    start = time.perf_counter()
    tuner = CVRandomSearch(hypermodel(MODEL), max_trials=trials, cv=holdout(HOLDOUT, seed=seed), seed=seed,
                           directory=directory, project_name="search", overwrite=True)
    tuner.search(x, y, epochs=epochs, verbose=0)
    seconds = time.perf_counter() - start
    return seconds, tuner


def time_bare(configs, x, y, splits, *, epochs, seed):
    (tr, va), = splits
    start = time.perf_counter()
    for i, (kwargs, batch_size) in enumerate(configs):
        bare_fit(kwargs, batch_size, epochs, x[tr], y[tr], x[va], y[va], seed + i)
    return time.perf_counter() - start


def time_stock(x, y, splits, *, trials, epochs, seed, directory):
    (tr, va), = splits
    start = time.perf_counter()
    tuner = keras_tuner.RandomSearch(hypermodel(MODEL), objective="val_accuracy", max_trials=trials, seed=seed + 1,
                                     directory=directory, project_name="stock", overwrite=True)
    tuner.search(x[tr], y[tr], validation_data=(x[va], y[va]), epochs=epochs, verbose=0)
    return time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--stock", action="store_true", help="also time KerasTuner's stock RandomSearch")
    parser.add_argument("--json", default="runs/bench/tuning_overhead.json")
    args = parser.parse_args(argv)

    (x, y), _ = zoo.datasets.load("iris")
    split = list(holdout(HOLDOUT, seed=args.seed).split(x, y))
    # Warm up TensorFlow (first-call costs belong to neither side).
    bare_fit({}, 8, 1, x, y, x, y, 0)

    search_s, bare_s, stock_s, cv_s, single_s = [], [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        configs = None
        for rep in range(args.reps):
            # 1. a search, then the same configurations by hand (alternating, every repetition)
            seconds, tuner = time_search(x, y, trials=args.trials, epochs=args.epochs, seed=args.seed, directory=tmp)
            search_s.append(seconds / args.trials)
            if configs is None:
                hm = tuner.hypermodel
                trials = [tuner.oracle.trials[t] for t in tuner.oracle.start_order]
                configs = [hm.declare(t.hyperparameters.copy()) for t in trials]
            bare_s.append(time_bare(configs, x, y, split, epochs=args.epochs, seed=args.seed) / args.trials)
            if args.stock:
                stock_s.append(time_stock(x, y, split, trials=args.trials, epochs=args.epochs, seed=args.seed,
                                          directory=tmp) / args.trials)
            # 2. k-fold cross-validation, then one bare fit on one fold's split
            start = time.perf_counter()
            cross_validate(MODEL, x, y, cv=args.folds, epochs=args.epochs, seed=args.seed)
            cv_s.append(time.perf_counter() - start)
            from tuning.cv import check_splits, make_splitter

            tr, va = check_splits(make_splitter(args.folds, seed=args.seed), x, y)[0]
            start = time.perf_counter()
            bare_fit({}, zoo.registry.get_entry(MODEL).train["batch_size"], args.epochs, x[tr], y[tr], x[va], y[va],
                     args.seed)
            single_s.append(time.perf_counter() - start)
            keras.backend.clear_session()
            print(f"rep {rep + 1}/{args.reps}: search {search_s[-1]:.3f} s/trial, bare {bare_s[-1]:.3f} s/fit"
                  + (f", stock KerasTuner {stock_s[-1]:.3f} s/trial" if args.stock else "")
                  + f"; {args.folds}-fold CV {cv_s[-1]:.2f} s, single fit {single_s[-1]:.3f} s", flush=True)

    med = statistics.median
    search_ratio = med(search_s) / med(bare_s)
    cv_ratio = med(cv_s) / med(single_s)
    result = {
        "model": MODEL, "data": "iris (120 training samples)", "epochs": args.epochs, "trials": args.trials,
        "reps": args.reps, "folds": args.folds,
        "search_seconds_per_trial": search_s, "bare_seconds_per_fit": bare_s,
        "median_search_seconds_per_trial": med(search_s), "median_bare_seconds_per_fit": med(bare_s),
        "search_overhead_ratio": search_ratio, "search_overhead_target": 1.10,
        "cv_seconds": cv_s, "single_fit_seconds": single_s,
        "median_cv_seconds": med(cv_s), "median_single_fit_seconds": med(single_s),
        "cv_over_single_fit": cv_ratio, "cv_over_single_fit_target": 1.1 * args.folds,
        "cv_over_k_single_fits": cv_ratio / args.folds,
    }
    if args.stock:
        result.update({"stock_keras_tuner_seconds_per_trial": stock_s,
                       "median_stock_seconds_per_trial": med(stock_s),
                       "stock_over_bare": med(stock_s) / med(bare_s)})
    print(f"\nsearch: {med(search_s):.3f} s/trial vs bare build+fit {med(bare_s):.3f} s -> ratio {search_ratio:.3f} "
          f"(target <= 1.10: {'met' if search_ratio <= 1.10 else 'NOT met'})")
    print(f"{args.folds}-fold CV: {med(cv_s):.2f} s vs one fit {med(single_s):.3f} s -> {cv_ratio:.2f} x "
          f"(target <= {1.1 * args.folds:.1f}: {'met' if cv_ratio <= 1.1 * args.folds else 'NOT met'}); "
          f"per fold {cv_ratio / args.folds:.3f} x a single fit")
    if args.stock:
        print(f"stock KerasTuner RandomSearch: {med(stock_s):.3f} s/trial -> {med(stock_s) / med(bare_s):.3f} x bare "
              "(validates every epoch and checkpoints the best epoch's weights)")
    _io.write_json(args.json, result)
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
