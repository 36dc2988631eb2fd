"""What fold pruning saves, and what Bayesian optimisation gains over random search, in cross-validated searches.

``prune`` mode: the same random search (same seed: the same configurations and
the same fold seeds) run twice, without and with ``prune=True``
(:func:`tuning.options.median_rule`). Reported: fold fits of each, the fraction
saved (target >= 40 %), and whether the pruned search's best trial is the
unpruned search's best, or scores (in the unpruned search) within the best's
fold standard deviation of it.

``compare`` mode: random search against Bayesian optimisation on the same
model, seeds and number of trials (so the same number of fold fits): the best
k-fold mean after each trial, per seed and averaged. KerasTuner's Bayesian
oracle starts with ``3 x (number of hyperparameters)`` random trials by default,
which for a zoo model is more than a short search holds; ``--initial-points``
sets how many.

Fold-fit counts are exact; wall-clock times are of this (possibly shared) machine.

Usage:
    python bench/tune_prune.py prune                          # small_cnn on digits, 20 trials, 5 folds
    ZOO_DATA_DIR=/work/shared/data python bench/tune_prune.py prune --model reuters_mlp --epochs 2
    python bench/tune_prune.py compare --trials 10 --folds 3 --seeds 0 1 2
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

from tuning import CVTuner, hypermodel  # noqa: E402
from tuning.__main__ import load_training_data  # noqa: E402
from zoo import files, registry  # noqa: E402


def _data(model: str, seed: int):
    data = registry.get_entry(model).dataset
    (x, y), _, preprocess = load_training_data(data, seed=seed)
    overrides = registry.fit_to_data(model, x.shape[1:], int(y.max()) + 1, {})
    return data, x, y, preprocess, overrides


def _search(model, x, y, preprocess, overrides, *, algorithm, trials, folds, epochs, seed, prune=False,
            initial_points=None, directory):
    extra = {"num_initial_points": initial_points} if algorithm == "bayesian" and initial_points else {}
    tuner = CVTuner(hypermodel(model, **overrides), algorithm=algorithm, max_trials=trials, cv=folds, seed=seed,
                    prune=prune, preprocess=preprocess, directory=directory, project_name=f"{algorithm}-{prune}-{seed}",
                    overwrite=True, **extra)
    start = time.perf_counter()
    tuner.search(x, y, epochs=epochs, verbose=0)
    seconds = time.perf_counter() - start
    rows = {r["trial_id"]: r for r in tuner.results()}
    order = list(tuner.oracle.start_order)
    return {"rows": rows, "order": order, "seconds": round(seconds, 1),
            "fits": sum(len(r["folds"]) for r in rows.values()), "best": tuner.results()[0]["trial_id"]}


def prune_mode(args) -> dict:
    data, x, y, preprocess, overrides = _data(args.model, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        common = dict(algorithm="random", trials=args.trials, folds=args.folds, epochs=args.epochs, seed=args.seed,
                      directory=tmp)
        full = _search(args.model, x, y, preprocess, overrides, **common)
        pruned = _search(args.model, x, y, preprocess, overrides, prune=True, **common)
    best, chosen = full["rows"][full["best"]], full["rows"][pruned["best"]]
    same_configs = all(full["rows"][t]["hyperparameters"] == pruned["rows"][t]["hyperparameters"] for t in full["order"])
    ranked = sorted(full["rows"].values(), key=lambda r: -r["score"])
    result = {
        "mode": "prune", "model": args.model, "data": data, "trials": args.trials, "folds": args.folds,
        "epochs": args.epochs, "seed": args.seed,
        "fold_fits_unpruned": full["fits"], "fold_fits_pruned": pruned["fits"],
        "saved_fraction": round(1 - pruned["fits"] / full["fits"], 4),
        "trials_pruned": sum(r["status"] == "PRUNED" for r in pruned["rows"].values()),
        "best_unpruned": {"trial": full["best"], "score": best["score"], "std": best["std"]},
        "best_pruned": {"trial": pruned["best"], "score_unpruned": chosen["score"],
                        "rank_in_unpruned": 1 + [r["trial_id"] for r in ranked].index(pruned["best"])},
        "same_best": pruned["best"] == full["best"],
        "within_best_std": best["score"] - chosen["score"] <= best["std"],
        "same_configurations": same_configs,
        "seconds_unpruned": full["seconds"], "seconds_pruned": pruned["seconds"],
    }
    print(f"{args.model} on {data}: {args.trials} trials, {args.folds} folds, {args.epochs} epochs, seed {args.seed}")
    print(f"  fold fits: {full['fits']} unpruned, {pruned['fits']} pruned ({result['trials_pruned']} trials pruned): "
          f"{100 * result['saved_fraction']:.0f} % saved (target >= 40 %)")
    print(f"  best unpruned: trial {full['best']} {best['score']:.4f} ± {best['std']:.4f}; best pruned: trial "
          f"{pruned['best']} ({chosen['score']:.4f} unpruned, rank {result['best_pruned']['rank_in_unpruned']}): "
          f"{'the same trial' if result['same_best'] else 'within the best fold std' if result['within_best_std'] else 'WORSE than the best by more than its fold std'}")
    print(f"  wall: {full['seconds']:.0f} s unpruned, {pruned['seconds']:.0f} s pruned (this machine, possibly shared)")
    return result


def compare_mode(args) -> dict:
    data, x, y, preprocess, overrides = _data(args.model, 0)
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            for algorithm in ("random", "bayesian"):
                run = _search(args.model, x, y, preprocess, overrides, algorithm=algorithm, trials=args.trials,
                              folds=args.folds, epochs=args.epochs, seed=seed, initial_points=args.initial_points,
                              directory=tmp)
                curve, best = [], None
                for t in run["order"]:
                    score = run["rows"][t]["score"] if run["rows"][t]["status"] == "COMPLETED" else None
                    best = score if best is None or (score is not None and score > best) else best
                    curve.append(best)
                runs.append({"seed": seed, "algorithm": algorithm, "best_after_trial": curve, "fits": run["fits"],
                             "seconds": run["seconds"]})
                print(f"  seed {seed} {algorithm:8s}: best after each trial "
                      + " ".join(f"{v:.3f}" if v is not None else "-" for v in curve)
                      + f" ({run['fits']} fold fits, {run['seconds']:.0f} s)", flush=True)
    summary = {}
    for algorithm in ("random", "bayesian"):
        finals = [r["best_after_trial"][-1] for r in runs if r["algorithm"] == algorithm]
        summary[algorithm] = {"mean_best": round(statistics.mean(finals), 4), "per_seed": finals}
    print(f"{args.model} on {data}, {args.trials} trials x {args.folds} folds ({args.trials * args.folds} fold fits "
          f"each), {args.epochs} epochs, Bayesian initial points {args.initial_points}:")
    for algorithm, s in summary.items():
        print(f"  {algorithm:8s}: best k-fold mean {s['mean_best']:.4f} (seeds: "
              + ", ".join(f"{v:.4f}" for v in s["per_seed"]) + ")")
    return {"mode": "compare", "model": args.model, "data": data, "trials": args.trials, "folds": args.folds,
            "epochs": args.epochs, "initial_points": args.initial_points, "runs": runs, "summary": summary}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=("prune", "compare"))
    parser.add_argument("--model", default="small_cnn")
    parser.add_argument("--trials", type=int)
    parser.add_argument("--folds", type=int)
    parser.add_argument("--epochs", type=int, default=3, help="per fold (default 3: minutes, not hours)")
    parser.add_argument("--seed", type=int, default=0, help="prune mode")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="compare mode")
    parser.add_argument("--initial-points", type=int, default=3, help="compare mode: Bayesian's random start")
    parser.add_argument("--json", help="also write the result here")
    args = parser.parse_args(argv)
    if args.mode == "prune":
        args.trials, args.folds = args.trials or 20, args.folds or 5
        result = prune_mode(args)
    else:
        args.trials, args.folds = args.trials or 10, args.folds or 3
        result = compare_mode(args)
    if args.json:
        files.write_json(Path(args.json), result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
