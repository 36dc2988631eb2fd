"""``python -m zoo list | info NAME | train NAME | evaluate DIR | export DIR | predict DIR | presets``.

``evaluate`` prints the test metrics as JSON (for a classifier also macro-F1,
top-5 accuracy and a per-class table, on stderr) and writes ``evaluation.json``,
``per_class.csv`` and ``confusion_matrix.png`` into the run directory or ``--out``.

``list``, ``info``, ``--help`` and argument errors answer from the registry's
static metadata without starting TensorFlow; ``train`` and ``evaluate`` start it
once their arguments have been checked.
"""

from __future__ import annotations

import argparse
import json
import sys

from . import cli, serving_cli


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m zoo", description="Keras model zoo: list, train and evaluate models.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="table of registered models")
    info = sub.add_parser("info", help="everything the registry knows about one model, as JSON")
    info.add_argument("name")
    train = sub.add_parser("train", help="train a model on its default dataset and write a run directory")
    train.add_argument("name")
    train.add_argument("--out", required=True, help="run directory to write (model.keras, history, metrics, curves.png)")
    train.add_argument("--data", help="dataset name (default: the model's)")
    train.add_argument("--data-path", help="file or folder to look in first for the data")
    train.add_argument("--epochs", type=int)
    train.add_argument("--batch-size", type=int)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--set", action="append", metavar="NAME=VALUE", help="factory argument, e.g. --set dropout=0.3")
    train.add_argument("--quiet", action="store_true", help="no progress bars")
    train.add_argument("--overwrite", action="store_true",
                       help="replace a finished run in --out (kept until the new one is saved), or start over "
                            "from an unfinished run with other settings")
    dist = train.add_argument_group(
        "tf.distribute", "--batch-size is the global batch, split between the replicas, with the single-device "
        "learning rate; only the chief (worker 0) writes --out (see zoo/distribute.py)")
    dist.add_argument("--strategy", default="default",
                      help="default (one device), mirrored (every local GPU, or the --cpu-devices), or multi_worker "
                           "(one process per machine; cluster from --workers/--task-index or TF_CONFIG)")
    dist.add_argument("--workers", metavar="HOST:PORT,...", help="multi_worker: every worker's address, the same list "
                                                                 "on every machine (instead of TF_CONFIG)")
    dist.add_argument("--task-index", type=int, help="multi_worker: this machine's position in --workers (0 is the chief)")
    dist.add_argument("--worker-timeout", type=float, default=None,
                      help="multi_worker: seconds to wait for every worker to answer, and then for TensorFlow "
                           "to form the cluster (default 60 each); then one line naming the worker, exit 2")
    dist.add_argument("--cpu-devices", type=int,
                      help="split the CPU into N logical devices (mirrored replicas without accelerators, for testing)")
    ev = sub.add_parser("evaluate", help="reload a run directory and report test metrics",
                        description="Test metrics of a finished run as JSON on stdout (loss, accuracy and, for a "
                                    "classifier, macro-F1 and top-5 accuracy above 5 classes); the per-class table "
                                    "on stderr; evaluation.json, per_class.csv and confusion_matrix.png in --out.")
    ev.add_argument("run_dir")
    ev.add_argument("--data-path")
    ev.add_argument("--out", help="folder for evaluation.json, per_class.csv and confusion_matrix.png "
                                  "(default: the run directory)")
    ev.add_argument("--quiet", action="store_true", help="no per-class table on stderr")
    serving_cli.add_parsers(sub)  # export, predict
    pre = sub.add_parser("presets", help="the pretrained presets: table (default), or build [NAME...]",
                         description="Without arguments: a table of the presets (name, data, metric, bytes, "
                                     "storage, whether every file matches its record). `build [NAME...]` trains, "
                                     "evaluates and writes presets (all when no name is given).")
    pre.add_argument("action", nargs="?", default="list", choices=("list", "build"))
    pre.add_argument("names", nargs="*", metavar="NAME", help="presets to build, e.g. reuters_mlp:reuters")
    pre.add_argument("--out", help="build: folder of preset folders to write (default: $ZOO_PRESETS_DIR if set, "
                                   "else the package's own store, zoo/presets/store)")
    pre.add_argument("--data-path", help="build: file or folder to look in first for the Reuters files")
    pre.add_argument("--quiet", action="store_true", help="build: no progress bars")
    return parser


def check_train_args(args) -> dict:
    """Every check of ``train``'s arguments that needs no data and no TensorFlow; returns the ``--set`` overrides."""
    from . import checks, datasets, distribute, files, registry

    entry = registry.get_entry(args.name)
    if entry.train.command is not None:  # e.g. the Word2Vec models train on a corpus with their own command
        raise ValueError(f"{args.name} is not trained by `python -m zoo train`; use `{entry.train.command}`")
    if args.epochs is not None:
        checks.positive_int("epochs", args.epochs)
    if args.batch_size is not None:
        checks.positive_int("batch_size", args.batch_size)
    checks.positive_int("seed", args.seed, minimum=0)
    overrides = cli.parse_overrides(args.set)
    registry.check_arguments(args.name, overrides)
    data = args.data or entry.dataset
    if data is not None and not str(data).endswith(".npz"):
        checks.choice("name", data, datasets.DATASETS)
    args.cluster = check_strategy_args(args)
    if args.cluster is None or distribute.is_chief_config(args.cluster):  # other workers write into a temporary folder
        files.ensure_writable_dir(args.out, argument="out")
    return overrides


def check_strategy_args(args) -> dict | None:
    """``train``'s tf.distribute arguments, checked without TensorFlow; the multi-worker cluster, or None."""
    from . import distribute

    strategy = distribute.check_strategy(args.strategy)
    distribute.check_cpu_devices(args.cpu_devices)
    if strategy != "multi_worker":
        for flag, value in (("--workers", args.workers), ("--task-index", args.task_index),
                            ("--worker-timeout", args.worker_timeout)):
            if value is not None:
                raise ValueError(f"{flag} applies to --strategy multi_worker only (got --strategy {strategy})")
        return None
    if args.worker_timeout is not None:
        distribute.check_worker_timeout(args.worker_timeout)
    return distribute.cluster_config(workers=args.workers, task_index=args.task_index)


def presets_command(args) -> int:
    """``python -m zoo presets [list]`` (no TensorFlow) and ``python -m zoo presets build [NAME...]``."""
    import os

    from zoo import files, presets

    if args.action == "list":
        if args.names or args.out or args.data_path:
            raise ValueError("presets: NAME, --out and --data-path go with `presets build`")
        rows = presets.table()
        print(f"{'name':<27} {'data':<8} {'metric':<29} {'bytes':>11}  {'stored':<8} verified")
        for row in rows:
            print(f"{row['name']:<27} {row['data']:<8} {row['metric']:<29} {row['bytes']:>11,}  {row['dtype']:<8} "
                  f"{row['verified']}")
        return 0
    unknown = [n for n in args.names if n not in presets.PLANS]
    if unknown:
        from zoo import checks

        hint = checks.did_you_mean(unknown[0], presets.PLANS)
        raise ValueError(f"presets build: unknown preset {unknown[0]!r}; {hint}buildable: {', '.join(sorted(presets.PLANS))}")
    out = args.out or os.environ.get(presets.PRESETS_DIR_ENV) or None
    if out is not None:
        files.ensure_writable_dir(out, argument="out")
    cli.import_tensorflow()
    from zoo.presets import build

    return build.main(args.names, out=out, data_path=args.data_path, verbose=0 if args.quiet else 1)


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if args.command in serving_cli.COMMANDS:
        return serving_cli.main(args)
    import zoo

    if args.command == "presets":
        return presets_command(args)
    if args.command == "list":
        print(f"{'name':<20} {'dataset':<9} {'params':>10}  task")
        from zoo import registry

        for name in zoo.list_models():
            info = registry.model_info(name)  # the listing needs no preset records
            print(f"{name:<20} {str(info['dataset']):<9} {info['params']:>10,}  {info['task']}")
    elif args.command == "info":
        print(json.dumps(zoo.model_info(args.name), indent=2, default=str))
    elif args.command == "train":
        overrides = check_train_args(args)
        if args.cluster is not None:
            from zoo import distribute

            # In a child process that this one bounds and interrupts (TensorFlow's cluster start can hang in C++).
            return distribute.supervise(lambda: cli.run_cli(lambda _: _train(args, overrides)), args.cluster,
                                        timeout=args.worker_timeout or distribute.DEFAULT_WORKER_TIMEOUT)
        _train(args, overrides)
    elif args.command == "evaluate":
        from zoo import rundir

        from zoo import files, metrics

        rundir.check_finished(args.run_dir)  # before TensorFlow starts
        out = files.ensure_writable_dir(args.out or args.run_dir, argument="out")
        cli.import_tensorflow()
        from zoo import training

        result = training.evaluate(args.run_dir, data_path=args.data_path, out=out)
        per_class = result.pop("per_class", None)
        result.pop("confusion_matrix", None)  # in evaluation.json and the figure
        if per_class and not args.quiet:  # stdout stays one JSON document (scripts read it)
            print(f"{result['model']} on {result['data']}, {result['test_samples']} test examples, per class:\n"
                  f"{metrics.format_per_class(per_class)}\n", file=sys.stderr)
        print(json.dumps(result, indent=2))
    return 0


def _train(args, overrides) -> int:
    """``train`` after its checks: start TensorFlow, train, print the metrics."""
    cli.import_tensorflow()
    from zoo import distribute, platform, training

    # Both before anything runs: TensorFlow fixes its devices and threads then.
    distribute.split_cpu(args.cpu_devices)
    platform.configure_threads(args.name)
    strategy = distribute.make_strategy(args.strategy, config=args.cluster,
                                        worker_timeout=args.worker_timeout or distribute.DEFAULT_WORKER_TIMEOUT)
    metrics = training.train(
        args.name, out=args.out, data=args.data, data_path=args.data_path, epochs=args.epochs,
        batch_size=args.batch_size, seed=args.seed, verbose=0 if args.quiet else "auto", overwrite=args.overwrite,
        strategy=strategy, **overrides,
    )
    print(json.dumps(metrics, indent=2))
    return 0


if __name__ == "__main__":
    cli.exit_process(cli.run_cli(main))
