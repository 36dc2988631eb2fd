"""Benchmark: training words/second of ``zoo.word2vec.train`` against gensim ``Word2Vec``, same run.

Both train on the same corpus (the Reuters newswires by default) with the same
settings (gensim's defaults, ``sg`` as asked), gensim with ``workers`` equal to the
cores this process may use. Each repetition trains both, alternating which goes
first (ours, gensim, gensim, ours, ...), so that the noise of a shared machine falls
on both; the report gives the medians and their ratio, and the quality of every run
(WordSim-353, SimLex-999, analogies) so that the speed is seen at the quality bars.

Words/second means the same for both: raw corpus words x epochs / wall-clock
training seconds (vocabulary building excluded; for ours, tracing and XLA
compilation included).

Usage:
    ZOO_DATA_DIR=/work/shared/data python bench/word2vec_vs_gensim.py             # skip-gram and CBOW, 3 repeats
    python bench/word2vec_vs_gensim.py --sg 1 --repeats 5 --json runs/bench/w2v.json
    python bench/word2vec_vs_gensim.py --corpus lee --epochs 20

Prints one line per run and a summary with the ratio ours / gensim; writes the
whole report as JSON (default ``runs/bench/word2vec_vs_gensim.json``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path


def _parse(argv):
    parser = argparse.ArgumentParser(prog="python bench/word2vec_vs_gensim.py", description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="reuters", help="reuters, lee, or a UTF-8 text file (default reuters)")
    parser.add_argument("--sg", type=int, choices=(0, 1), action="append",
                        help="1 skip-gram, 0 CBOW; repeat for both (default: both)")
    parser.add_argument("--epochs", type=int, default=5, help="epochs (gensim's default 5)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each library per mode (default 3)")
    parser.add_argument("--seed", type=int, default=1, help="seed of both (gensim's default 1)")
    parser.add_argument("--set", action="append", metavar="NAME=VALUE", help="engine setting for ours")
    parser.add_argument("--json", default="runs/bench/word2vec_vs_gensim.json", help="where to write the report")
    return parser.parse_args(argv)


def _quality(wv) -> dict:
    from zoo.word2vec.compare import evaluate

    m = evaluate(wv)
    return {"wordsim353": round(m["wordsim353_spearman"], 4), "simlex999": round(m["simlex999_spearman"], 4),
            "analogy": round(m["analogy_accuracy"], 4)}


def bench_mode(docs, name: str, sg: int, args, engine_settings: dict) -> dict:
    """Alternate gensim and ours ``args.repeats`` times each; return the runs and medians."""
    from zoo import word2vec
    from zoo.word2vec.compare import cpu_count, train_gensim

    settings = {"sg": sg, "epochs": args.epochs, "seed": args.seed, "workers": cpu_count()}
    runs = {"gensim": [], "ours": []}

    def run_gensim():
        model, seconds = train_gensim(docs, settings)
        words = model.corpus_total_words * args.epochs
        runs["gensim"].append({"seconds": round(seconds, 3), "words_per_second": round(words / seconds),
                               **_quality(model.wv)})

    def run_ours():
        result = word2vec.train(docs, progress=False, **settings, **engine_settings)
        runs["ours"].append({"seconds": round(result.train_seconds, 3),
                             "compile_seconds": round(result.compile_seconds, 3),
                             "words_per_second": round(result.words_per_second), **_quality(result.wv)})

    for repeat in range(args.repeats):
        order = (run_ours, run_gensim) if repeat % 2 == 0 else (run_gensim, run_ours)
        for fn in order:
            fn()
            who = "ours" if fn is run_ours else "gensim"
            print(f"sg={sg} repeat {repeat + 1}/{args.repeats} {who:6s} {json.dumps(runs[who][-1])}", flush=True)

    median = {who: {key: statistics.median(r[key] for r in rs) for key in ("words_per_second", "wordsim353",
                                                                          "simlex999", "analogy")}
              for who, rs in runs.items()}
    ratio = median["ours"]["words_per_second"] / median["gensim"]["words_per_second"]
    return {"corpus": name, "sg": sg, "settings": settings, "engine_settings": engine_settings, "runs": runs,
            "median": median, "ratio": ratio}


def main(argv=None) -> int:
    args = _parse(argv)
    from zoo import cli, files
    from zoo.word2vec import WORDS_PER_SECOND, check_settings
    from zoo.word2vec.compare import cpu_count
    from zoo.word2vec.trainer import resolve_corpus

    engine_settings = cli.parse_overrides(args.set)
    check_settings({"epochs": args.epochs, "seed": args.seed, **engine_settings})
    corpus = resolve_corpus(args.corpus)
    name = getattr(corpus, "name", args.corpus)
    docs = list(corpus)  # both libraries read the same in-memory lists
    started = time.time()
    modes = [bench_mode(docs, name, sg, args, engine_settings) for sg in (args.sg or [1, 0])]
    report = {"benchmark": "zoo.word2vec.train vs gensim.models.Word2Vec", "words_per_second_means": WORDS_PER_SECOND,
              "corpus_words": sum(map(len, docs)), "cpu_cores": cpu_count(), "repeats": args.repeats,
              "wall_seconds": round(time.time() - started, 1), "modes": modes,
              "command": "python bench/word2vec_vs_gensim.py " + " ".join(argv if argv is not None else sys.argv[1:])}
    print()
    for m in modes:
        g, o = m["median"]["gensim"], m["median"]["ours"]
        print(f"{'skip-gram' if m['sg'] else 'CBOW':9s} on {name}: gensim {g['words_per_second']:,.0f} words/s "
              f"(WS353 {g['wordsim353']:.3f}, analogy {100 * g['analogy']:.1f}%), ours {o['words_per_second']:,.0f} "
              f"words/s (WS353 {o['wordsim353']:.3f}, analogy {100 * o['analogy']:.1f}%): "
              f"ratio ours/gensim {m['ratio']:.2f} (medians of {args.repeats})")
    path = Path(args.json)
    files.ensure_writable_dir(path.parent, argument="json")
    files.write_json(path, report)
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    from zoo.cli import run_cli

    sys.exit(run_cli(main))
