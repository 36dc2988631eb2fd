"""``python -m zoo.word2vec train | compare``: Word2Vec from the command line.

Examples:
    python -m zoo.word2vec train --corpus reuters --sg 1 --out runs/w2v
    python -m zoo.word2vec train --corpus texts/ --tokenizer whitespace --out runs/w2v   # a folder of .txt files
    python -m zoo.word2vec compare --corpus reuters --sg 1 --epochs 5

Every gensim setting is a flag with gensim's name (``--vector-size``, ``--window``,
``--negative``, ``--sample``, ``--min-count``...); a flag left out takes gensim's
default. Engine settings go through ``--set NAME=VALUE``. Errors print one line
and exit with status 2; nothing is written before the settings and the corpus have
been checked, and once training has run its results are written before anything
optional (the benchmark evaluations, the probe words' neighbours) can fail.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .. import cli
from .settings import GENSIM_DEFAULTS

_TYPES = {"alpha": float, "min_alpha": float, "ns_exponent": float, "sample": float}


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes"):
        return True
    if value in ("0", "false", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def _add_settings(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("gensim settings (default: gensim's)")
    for name, default in GENSIM_DEFAULTS.items():
        kind = _bool if name == "shrink_windows" else _TYPES.get(name, int)
        group.add_argument(f"--{name.replace('_', '-')}", dest=name, type=kind, default=None, metavar=name.upper(),
                           help=f"gensim's {name} (default {default})")
    parser.add_argument("--set", action="append", metavar="NAME=VALUE",
                        help="engine setting, e.g. --set chunk_words=4096 (see zoo.word2vec.ENGINE_DEFAULTS)")
    parser.add_argument("--corpus", default="reuters",
                        help="reuters, lee, a UTF-8 text file (one document per line), or a folder of them "
                             "(*.txt, *.text, *.cor, searched recursively)")
    parser.add_argument("--tokenizer", default="simple",
                        help="for text files: simple = gensim's simple_preprocess (lower-cased words, default); "
                             "whitespace = line.split(), as gensim's LineSentence")
    parser.add_argument("--data-path", help="file or folder to look in first for the Reuters files")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m zoo.word2vec",
                                     description="Word2Vec on Keras Embedding tables, cross-checked against gensim.")
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="train and write vectors (word2vec text/binary, projector TSVs), metrics")
    train.add_argument("--out", required=True, help="folder to write")
    train.add_argument("--probes", help="comma-separated words whose nearest neighbours to print")
    train.add_argument("--overwrite", action="store_true",
                       help="start over instead of resuming the unfinished run checkpointed in OUT/checkpoint")
    _add_settings(train)
    compare = sub.add_parser("compare", help="train gensim and ours with the same settings; print and save the table")
    compare.add_argument("--out", help="folder for compare.json and compare.md (default: runs/word2vec_compare_CORPUS_sgN)")
    compare.add_argument("--probes", help="comma-separated probe words for the neighbour overlap")
    _add_settings(compare)
    return parser


def _settings(args) -> dict:
    settings = {k: getattr(args, k) for k in GENSIM_DEFAULTS if getattr(args, k) is not None}
    settings.update(cli.parse_overrides(args.set))
    return settings


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    from .. import files
    from . import compare as compare_mod
    from .corpora import check_tokenizer
    from .settings import check_settings
    from .trainer import resolve_corpus, train

    settings = _settings(args)
    check_settings(settings)  # before TensorFlow starts: a bad setting answers at once
    check_tokenizer(args.tokenizer)
    if args.command == "train":
        corpus = resolve_corpus(args.corpus, data_path=args.data_path, tokenizer=args.tokenizer)
        out = files.ensure_writable_dir(args.out, argument="out")
        files.refuse_symlink(out / "checkpoint", argument="out")  # training would write and delete where it points
        cli.import_tensorflow()
        # Each epoch is checkpointed in OUT/checkpoint; the same command after a kill resumes there.
        result = train(corpus, progress=not args.quiet, tokenizer=args.tokenizer, checkpoint_dir=out / "checkpoint",
                       overwrite=args.overwrite, **settings)
        if result.resumed_from_epoch:
            print(f"resumed from the checkpoint of epoch {result.resumed_from_epoch}", file=sys.stderr)
        name = getattr(corpus, "name", args.corpus)
        # What training produced is written first: nothing optional after it can lose it.
        metrics = {**result.summary(), "corpus": name}
        result.save_word2vec_format(out / "vectors.txt")
        result.save_word2vec_format(out / "vectors.bin", binary=True)
        result.save_projector(out)
        files.save_model(result.model, out / "model.keras")
        files.write_json(out / "settings.json", result.settings)
        files.write_json(out / "metrics.json", metrics)
        import shutil

        shutil.rmtree(out / "checkpoint", ignore_errors=True)  # the results are saved: the checkpoint is done
        from .applicable import evaluate as evaluate_if_applicable

        metrics.update(evaluate_if_applicable(result.wv))  # "not applicable (...)" where no benchmark word is known
        files.write_json(out / "metrics.json", metrics)
        print(json.dumps({k: v for k, v in metrics.items() if k != "analogy_sections"}, indent=2))
        try:  # after the results are saved: a probe word the corpus lacks must not lose them
            probes = compare_mod.check_probes(args.probes, set(result.vocab.words), name) if args.probes else \
                [p for p in compare_mod.default_probes(name, result.vocab.words) if p in result.vocab.index][:5]
        except ValueError as exc:
            print(f"warning: {exc}; no neighbours printed", file=sys.stderr)
            probes = []
        for word in probes:
            print(f"{word}: " + ", ".join(f"{w} ({s:.2f})" for w, s in result.wv.most_similar(word, topn=8)))
        print(f"wrote {out}: vectors.txt, vectors.bin, vectors.tsv, metadata.tsv, projector_config.pbtxt, "
              "model.keras, settings.json, metrics.json")
    else:
        if args.out:
            files.ensure_writable_dir(args.out, argument="out")
        cli.import_tensorflow()
        report = compare_mod.compare(args.corpus, probes=args.probes, progress=not args.quiet,
                                     data_path=args.data_path, tokenizer=args.tokenizer, **settings)
        default = f"runs/word2vec_compare_{Path(report['corpus']).stem}_sg{report['settings']['sg']}"
        out = files.ensure_writable_dir(args.out or default, argument="out")
        table = compare_mod.format_table(report)
        files.write_json(out / "compare.json", report)
        files.write_text(out / "compare.md", table)
        print(table)
        print(f"wrote {out / 'compare.json'} and {out / 'compare.md'}")
    return 0


if __name__ == "__main__":
    cli.exit_process(cli.run_cli(main))
