"""``python -m zoo list | info NAME | train NAME | evaluate DIR``."""

from __future__ import annotations

import argparse
import json
import sys

from . import _cli


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
    ev = sub.add_parser("evaluate", help="reload a run directory and report test metrics")
    ev.add_argument("run_dir")
    ev.add_argument("--data-path")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    import zoo
    from zoo import training

    if args.command == "list":
        print(f"{'name':<20} {'dataset':<9} {'params':>10}  task")
        for name in zoo.list_models():
            info = zoo.model_info(name)
            print(f"{name:<20} {str(info['dataset']):<9} {info['params']:>10,}  {info['task']}")
    elif args.command == "info":
        print(json.dumps(zoo.model_info(args.name), indent=2, default=str))
    elif args.command == "train":
        training.configure_threads(args.name)  # before anything runs: TensorFlow fixes its threads then
        metrics = training.train(
            args.name, out=args.out, data=args.data, data_path=args.data_path, epochs=args.epochs,
            batch_size=args.batch_size, seed=args.seed, verbose=0 if args.quiet else "auto", overwrite=args.overwrite,
            **_cli.parse_overrides(args.set),
        )
        print(json.dumps(metrics, indent=2))
    elif args.command == "evaluate":
        print(json.dumps(training.evaluate(args.run_dir, data_path=args.data_path), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(_cli.run_cli(main))
