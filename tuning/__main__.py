"""``python -m tuning search NAME ...``, ``python -m tuning cv NAME ...`` and ``python -m tuning nested NAME ...``.

``search`` runs (or resumes) a cross-validated search (random, grid, Bayesian
or Hyperband; ``--prune``, ``--max-time``) of a zoo classifier on its dataset, prints the trials best first, writes
``results.csv``, ``results.json``, ``best_hyperparameters.json`` and
``scores.png`` into ``DIR/PROJECT``, then retrains the best configuration on
the whole training set and evaluates it once on the test set (``final.json``,
``best_model.keras``). The same command on the same directory resumes;
``--overwrite`` starts anew. ``--role chief|worker`` runs it distributed.

``cv`` cross-validates one configuration (the zoo default, or ``--set`` values).

``nested`` runs nested cross-validation (:mod:`tuning.nested`): an inner search
in each outer fold chooses a configuration, scored once on that outer fold.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
from pathlib import Path

from zoo import cli
from zoo.metrics import OBJECTIVES, TOP_K

DEFAULT_DIR = "runs/tune"

SEARCH_HELP = """\
algorithms (KerasTuner's own oracles; the trial score is the k-fold mean in each):
  random     random samples; trial 0 is the zoo default
  grid       every combination, the zoo default first (use --tune to keep the grid small)
  bayesian   Gaussian-process optimisation; trial 0 is the zoo default
  hyperband  budget = epochs per fold up to --max-epochs; a continued trial trains each
             fold further from that fold's saved weights (do not pass --epochs)
  --prune: after each fold, a trial whose running mean is worse than the median of the
  earlier trials' running means on the same folds stops (after 5 completed trials).
"""

DISTRIBUTED_HELP = """\
distributed search across machines (KerasTuner's chief/worker mode):
  give every process the same arguments and a --dir on a shared filesystem;
  start the chief first, then one worker per machine (or per core), each with its own --tuner-id:
    python -m tuning search NAME --dir /shared/tune --role chief --oracle-ip 0.0.0.0 --oracle-port 8000
    python -m tuning search NAME --dir /shared/tune --role worker --tuner-id worker0 \\
        --oracle-ip CHIEF_HOST --oracle-port 8000
  workers exit when no trial is left; the chief then writes the results. A worker that dies
  mid-trial is noticed after --worker-timeout seconds of silence and its trial is re-run, with
  the same seeds, by the next worker that asks for work (folds already finished are kept).
  --max-time on the chief: no trial is handed out after it; running trials finish.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tuning",
                                     description="Cross-validated KerasTuner search (random, grid, Bayesian, Hyperband) "
                                                 "and k-fold cross-validation of zoo models.")
    sub = parser.add_subparsers(dest="command", required=True)

    def data_options(p):
        p.add_argument("name", help="a zoo classifier (python -m zoo list)")
        p.add_argument("--data", help="dataset name or an .npz with x_train, y_train, x_test, y_test (default: the model's)")
        p.add_argument("--data-path", help="file or folder to look in first for the data")
        p.add_argument("--epochs", type=int, help="epochs per fit (default: the model's registered training epochs)")
        p.add_argument("--seed", type=int, default=0, help="makes the run repeatable (default 0)")
        p.add_argument("--set", action="append", metavar="NAME=VALUE",
                       help="fixed factory argument, e.g. --set dropout=0.3 (not searched)")
        p.add_argument("--quiet", action="store_true", help="no progress output")

    s = sub.add_parser("search", help="cross-validated search (random, grid, Bayesian, Hyperband); resumable and "
                                      "distributable", formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog=SEARCH_HELP + "\n" + DISTRIBUTED_HELP)
    data_options(s)
    s.add_argument("--algorithm", default="random", help="random (default), grid, bayesian or hyperband")
    s.add_argument("--max-trials", type=int, help="configurations to try at most (default 10; grid: the whole grid; "
                                                  "hyperband: as many as its brackets hold)")
    s.add_argument("--max-epochs", type=int, help="hyperband only: the most epochs a trial trains each fold for "
                                                  "(default: the model's training epochs)")
    s.add_argument("--prune", action="store_true", help="stop a trial after a fold when its running mean is worse "
                                                        "than the median of the earlier trials on the same folds")
    s.add_argument("--max-time", metavar="DURATION", help="time budget of this run, e.g. 90s, 20m, 1h30m (seconds if "
                                                          "no unit): no trial or fold starts after it; run again to "
                                                          "continue")
    how = s.add_mutually_exclusive_group()
    how.add_argument("--folds", type=int, default=5, help="k of stratified k-fold cross-validation (default 5)")
    how.add_argument("--holdout", type=float, metavar="FRACTION",
                     help="instead of k-fold: one stratified validation split of this fraction")
    s.add_argument("--objective", default="val_accuracy",
                   help=f"metric to rank trials by: {', '.join(OBJECTIVES)} (val_ = on the held-out folds; "
                        f"top-{TOP_K} above {TOP_K} classes; loss is minimised, the others maximised; "
                        "default val_accuracy)")
    s.add_argument("--tune", help="comma-separated subset of: layers, activation, dropout, l2, learning_rate, "
                                  "optimizer, kernel_initializer, batch_size (default: all)")
    s.add_argument("--batch-size", type=int, help="fix the batch size instead of searching it")
    s.add_argument("--dir", default=DEFAULT_DIR, help=f"tuning directory (default {DEFAULT_DIR})")
    s.add_argument("--project", help="project name inside --dir (default: the model name)")
    s.add_argument("--overwrite", action="store_true", help="start anew instead of resuming")
    s.add_argument("--tensorboard", action="store_true", help="TensorBoard logs with the HParams dashboard")
    s.add_argument("--final-epochs", type=int, help="epochs of the final retraining (default: --epochs)")
    dist = s.add_argument_group("distributed (KerasTuner chief/worker; also read from KERASTUNER_* variables)")
    dist.add_argument("--role", choices=("chief", "worker"), help="run as the chief (oracle server) or a worker")
    dist.add_argument("--tuner-id", help="worker name, unique per worker (sets KERASTUNER_TUNER_ID)")
    dist.add_argument("--oracle-ip", help="chief address; on the chief, the address to listen on "
                                          "(sets KERASTUNER_ORACLE_IP; default 127.0.0.1)")
    dist.add_argument("--oracle-port", type=int, help="chief port (sets KERASTUNER_ORACLE_PORT)")
    dist.add_argument("--worker-timeout", type=float, default=None,
                      help="seconds without a sign of life before a worker's trial goes to another worker (default 300)")

    c = sub.add_parser("cv", help="k-fold cross-validation of one configuration")
    data_options(c)
    c.add_argument("--folds", type=int, default=5)
    c.add_argument("--batch-size", type=int)
    c.add_argument("--out", help="folder for cv.json and cv.csv")

    n = sub.add_parser("nested", help="nested cross-validation: inner searches choose, outer folds score the choice")
    data_options(n)
    n.add_argument("--outer", type=int, default=5, help="outer folds, each scoring one inner search's choice (default 5)")
    n.add_argument("--inner", type=int, default=3, help="folds of each inner search (default 3)")
    n.add_argument("--max-trials", type=int, default=10, help="configurations per inner search (default 10)")
    n.add_argument("--algorithm", default="random", help="the inner searches' algorithm (default random)")
    n.add_argument("--objective", default="val_accuracy",
                   help=f"what the inner searches rank by and the outer folds report: "
                        f"{', '.join(o for o in OBJECTIVES if o.startswith('val_'))} (default val_accuracy)")
    n.add_argument("--out", help="folder for the inner searches' state and nested_cv.json (a rerun resumes; "
                                 "default: a temporary folder)")
    n.add_argument("--overwrite", action="store_true", help="start the inner searches in --out anew")
    return parser


def load_training_data(data: str, *, data_path=None, seed: int = 0):
    """``(x_train, y_train), (x_test, y_test), preprocess`` for a dataset name or an ``.npz``.

    A dataset whose textbook preprocessing is fitted to data (iris: standardisation)
    is loaded raw, and ``preprocess`` is the transformer to refit on each fold's
    training part; otherwise ``preprocess`` is None.
    """
    import importlib

    import zoo
    from zoo import checks

    from .folds import FITTED_PREPROCESSING

    if data in FITTED_PREPROCESSING:
        (x, y), (xt, yt) = zoo.datasets.load(data, path=data_path, seed=seed, preprocess=False)
        module, _, cls = FITTED_PREPROCESSING[data].rpartition(".")
        preprocess = getattr(importlib.import_module(module), cls)()
    else:
        (x, y), (xt, yt) = zoo.datasets.load_data(data, data_path=data_path, seed=seed)
        preprocess = None
    x, y = checks.xy(x, y, x_name="x_train", y_name="y_train")
    xt, yt = checks.xy(xt, yt, x_name="x_test", y_name="y_test", feature_shape=x.shape[1:])
    return (x, y), (xt, yt), preprocess


_DIST_VARS = ("KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT")


@contextlib.contextmanager
def distributed_env(args):
    """CLI options -> KerasTuner's documented environment variables, for the duration of the command.

    KerasTuner reads them while it searches; they are restored afterwards so that
    an in-process caller (a test, a notebook) is not left in distributed mode.
    """
    saved = {v: os.environ.get(v) for v in _DIST_VARS}
    try:
        _set_distributed_env(args)
        yield
    finally:
        for var, value in saved.items():
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value


def _set_distributed_env(args) -> None:
    if args.role is None:
        if args.tuner_id or args.oracle_ip or args.oracle_port:
            raise ValueError("--tuner-id/--oracle-ip/--oracle-port need --role chief or --role worker")
        return
    if args.role == "chief":
        if args.tuner_id and "chief" not in args.tuner_id:
            raise ValueError(f"--tuner-id: the chief's id must contain 'chief' (KerasTuner's rule), got {args.tuner_id!r}")
        tuner_id = args.tuner_id or "chief"
    else:
        tuner_id = args.tuner_id or os.environ.get("KERASTUNER_TUNER_ID")
        if not tuner_id or "chief" in tuner_id:
            raise ValueError(f"--tuner-id: a worker needs a unique name without 'chief', such as worker0; got {tuner_id!r}")
    port = args.oracle_port if args.oracle_port is not None else os.environ.get("KERASTUNER_ORACLE_PORT")
    if port is None:
        raise ValueError("--oracle-port: required with --role (the chief's port)")
    os.environ["KERASTUNER_TUNER_ID"] = tuner_id
    os.environ["KERASTUNER_ORACLE_IP"] = args.oracle_ip or os.environ.get("KERASTUNER_ORACLE_IP", "127.0.0.1")
    os.environ["KERASTUNER_ORACLE_PORT"] = str(port)


def check_args(args) -> None:
    """The checks of ``search``/``cv`` arguments that need no data and no TensorFlow, so a mistake answers at once."""
    from zoo import checks, datasets, registry

    entry = registry.get_entry(args.name)
    if getattr(args, "max_trials", None) is not None:
        checks.positive_int("max_trials", args.max_trials)
    if args.command == "search":
        _check_search_options(args)
    for option in ("epochs", "batch_size", "final_epochs"):
        if getattr(args, option, None) is not None:
            checks.positive_int(option, getattr(args, option))
    checks.positive_int("seed", args.seed, minimum=0)
    registry.check_arguments(args.name, cli.parse_overrides(args.set))
    data = args.data or entry.dataset
    if data is not None and not str(data).endswith(".npz"):
        checks.choice("name", data, datasets.DATASETS)
    if args.command == "search":
        from zoo import metrics

        metrics.check_objective(args.objective)


def check_nested_args(args) -> None:
    """``nested``'s own checks (folds, trials, algorithm), before any data or TensorFlow."""
    from zoo import checks

    from .nested import check_objective
    from .options import ALGORITHMS

    checks.positive_int("outer", args.outer, minimum=2)
    checks.positive_int("inner", args.inner, minimum=2)
    checks.choice("algorithm", args.algorithm, ALGORITHMS)
    check_objective(args.objective)


def _check_search_options(args) -> None:
    """--algorithm, --max-epochs, --prune, --max-time: checked before TensorFlow starts, as CVTuner checks them."""
    from . import options

    options.check_algorithm(args.algorithm, max_epochs=args.max_epochs)
    if args.algorithm == "hyperband" and args.epochs is not None:
        raise ValueError(f"--epochs: not accepted with --algorithm hyperband, which trains each trial for its own "
                         f"number of epochs; set --max-epochs (the most a trial trains), got --epochs {args.epochs}")
    if args.prune:
        if args.holdout is not None:
            raise ValueError("--prune: pruning stops a trial between folds, so it needs k-fold cross-validation "
                             "(--folds >= 2), not --holdout's single split")
        options.check_prune(True, args.folds)
    options.parse_duration("--max-time", args.max_time)


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    check_args(args)
    if args.command == "nested":
        check_nested_args(args)
        cli.import_tensorflow()
        return nested(args)
    if args.command == "search":
        with distributed_env(args):
            cli.import_tensorflow()
            return search(args)
    cli.import_tensorflow()
    return cross_validation(args)


def _prepare(args):
    from zoo import platform, registry

    entry = registry.get_entry(args.name)
    platform.configure_threads(args.name)  # as `python -m zoo train`, before TensorFlow starts and fixes its threads
    data = args.data or entry.dataset
    if data is None:
        raise ValueError(f"{args.name} has no default dataset; pass --data")
    (x, y), (xt, yt), preprocess = load_training_data(data, data_path=args.data_path, seed=args.seed)
    overrides = registry.fit_to_data(args.name, x.shape[1:], int(max(y.max(), yt.max())) + 1,
                                     cli.parse_overrides(args.set))
    return data, (x, y), (xt, yt), preprocess, overrides


def search(args) -> int:
    from zoo import checks

    from . import _oracle
    from .folds import holdout
    from .hypermodels import ZooHyperModel
    from .lock import search_lock

    if args.max_trials is not None:
        checks.positive_int("max_trials", args.max_trials)  # before any data is loaded
    data, (x, y), (xt, yt), preprocess, overrides = _prepare(args)
    tune = [t.strip() for t in args.tune.split(",") if t.strip()] if args.tune else None
    hm = ZooHyperModel(args.name, tune=tune, batch_size=args.batch_size, **overrides)
    cv = holdout(args.holdout, seed=args.seed) if args.holdout is not None else args.folds
    timeout = args.worker_timeout if args.worker_timeout is not None else _oracle.DEFAULT_WORKER_TIMEOUT
    with contextlib.ExitStack() as held:
        if _oracle.distributed_role() != "worker":  # workers share the directory by design
            held.enter_context(search_lock(args.dir, args.project or args.name))
        return _search(args, data, (x, y), (xt, yt), preprocess, hm, cv, timeout)


def _search(args, data, xy, test_xy, preprocess, hm, cv, timeout) -> int:
    """The search itself, while this process holds the directory's lock."""
    from zoo import files

    from . import _oracle
    from .search import CVTuner

    (x, y), (xt, yt) = xy, test_xy
    tuner = CVTuner(hm, algorithm=args.algorithm, objective=args.objective, max_trials=args.max_trials, cv=cv,
                    seed=args.seed, prune=args.prune, max_time=args.max_time, max_epochs=args.max_epochs,
                    preprocess=preprocess, directory=args.dir, project_name=args.project or args.name,
                    overwrite=args.overwrite, tensorboard=args.tensorboard, worker_timeout=timeout)
    verbose = 0 if args.quiet else 1
    tuner.search(x, y, epochs=args.epochs, verbose=verbose)
    project = Path(tuner.project_dir)
    if _oracle.distributed_role() == "worker":
        print(f"{os.environ['KERASTUNER_TUNER_ID']}: no trial left; the chief writes the results into {project}")
        return 0

    print(f"\n{args.algorithm.capitalize()} search of {args.name} on {data}: {tuner.oracle.objective.name}, "
          f"{'holdout ' + str(args.holdout) if args.holdout is not None else str(args.folds) + '-fold'} "
          f"cross-validation{', pruned' if args.prune else ''}, best first\n")
    print(tuner.results_table())
    doc = tuner.write_results()  # with the plot
    if doc["trials_pruned"]:
        print(f"\n{doc['trials_pruned']} trial(s) pruned; {doc['fold_fits']} fold fits in all")
    if doc["stopped"]:
        # The search is not over: the best so far is in the results; the final retraining waits for the end.
        print(f"\nStopped on time (--max-time {args.max_time}) at {doc['stopped']['at']}: the same command "
              f"continues the search. Results so far: {project}/results.csv, results.json")
        return 0
    best = tuner.results()[0] if tuner.results() else None
    if best is None or best["status"] != "COMPLETED":
        raise ValueError(f"no trial completed in {project}; see the messages in results.json")

    final_path = project / "final.json"
    epochs = args.final_epochs or tuner.best_epochs()
    wanted = {"trial_id": best["trial_id"], "hyperparameters": best["hyperparameters"], "epochs": epochs}
    final = json.loads(final_path.read_text(encoding="utf-8")) if final_path.is_file() else None
    if not final or {k: final.get(k) for k in wanted} != json.loads(json.dumps(wanted)):
        # The best configuration, retrained on the whole training set, meets the test set once.
        model = tuner.retrain_best(x, y, epochs=epochs)
        test = model.evaluate(xt, yt)
        files.save_model(model.model, project / "best_model.keras")
        final = {**wanted, "cv_score": best["score"], "cv_std": best["std"], "objective": tuner.oracle.objective.name,
                 "train_samples": int(len(y)), "test_samples": int(len(yt)),
                 **{f"test_{k}": v for k, v in test.items()}}
        files.write_json(final_path, final)
    print(f"\nBest: trial {best['trial_id']}, {tuner.oracle.objective.name} {best['score']:.4f} ± {best['std']:.4f} "
          f"over the folds; retrained on all {final['train_samples']} training samples for {final['epochs']} epochs:")
    print("  test " + ", ".join(f"{k[5:]} {v:.4f}" for k, v in final.items() if k.startswith("test_") and k != "test_samples")
          + f" ({final['test_samples']} samples, evaluated once)")
    print(f"Results: {project}/results.csv, results.json, best_hyperparameters.json, scores.png, final.json")
    return 0


def cross_validation(args) -> int:
    from zoo import files

    from .cv import cross_validate

    out = files.ensure_writable_dir(args.out, argument="--out") if args.out else None  # before any training
    data, (x, y), _, preprocess, overrides = _prepare(args)
    result = cross_validate(args.name, x, y, cv=args.folds, epochs=args.epochs, batch_size=args.batch_size,
                            seed=args.seed, preprocess=preprocess, verbose=0 if args.quiet else 1, **overrides)
    print(f"{args.name} on {data}, {args.folds}-fold stratified cross-validation "
          f"({result.config['epochs']} epochs, batch {result.config['batch_size']}, seed {args.seed}):\n")
    print(result.summary())
    acc, sd = result.mean.get("val_accuracy"), result.std.get("val_accuracy")
    if acc is not None:
        print(f"\nval_accuracy {acc:.4f} ± {sd:.4f} (mean ± std over {len(result.folds)} folds)")
    if out is not None:
        files.write_json(out / "cv.json", {**result.to_dict(), "data": data})
        files.write_csv(out / "cv.csv", [{"fold": i, **f} for i, f in enumerate(result.folds, start=1)])
        print(f"Wrote {out / 'cv.json'} and {out / 'cv.csv'}")
    return 0


def nested(args) -> int:
    """``python -m tuning nested``: nested cross-validation of a zoo classifier's search on its training split."""
    from zoo import files

    from .lock import search_lock
    from .nested import nested_cv

    out = files.ensure_writable_dir(args.out, argument="--out") if args.out else None  # before any training
    data, (x, y), _, preprocess, overrides = _prepare(args)
    with search_lock(out, "nested") if out is not None else contextlib.nullcontext():
        result = nested_cv(args.name, x, y, outer=args.outer, inner=args.inner, algorithm=args.algorithm,
                           max_trials=args.max_trials, objective=args.objective, epochs=args.epochs, seed=args.seed,
                           preprocess=preprocess, directory=out, overwrite=args.overwrite,
                           verbose=0 if args.quiet else 1, **overrides)
    print(f"\n{args.name} on {data} (the {len(y)} training samples; the test split is not used)\n")
    print(result.summary())
    if out is not None:
        print(f"\nWrote {out / 'nested_cv.json'}")
    return 0


if __name__ == "__main__":
    cli.exit_process(cli.run_cli(main))
