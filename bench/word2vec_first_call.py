"""Benchmark: where the Word2Vec engine's first call goes (tracing, then compiling or loading the XLA step).

The fixed cost that a short run cannot hide (bench/README.md, "Word2Vec on files"):
for each mode, three fresh processes share one empty XLA cache directory; the first
compiles the step (cold), the next two load it (warm). Each builds the Keras model
for a vocabulary of ``--vocab`` words, traces the step
(``get_concrete_function``), then makes one call that trains nothing
(``engine.empty_inputs``) and a second one.

Usage:
    python bench/word2vec_first_call.py                  # both modes, vocabulary 20,000
    python bench/word2vec_first_call.py --modes 0 --vocab 12088

Prints one JSON line per process: seconds to build the model (importing TensorFlow
included), to trace, of the first call and of the second call. No gensim side: gensim compiles nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time

from _harness import run_json


def measure(sg: int, vocab: int) -> dict:
    """One process's first call (the cache directory comes from ``ZOO_XLA_CACHE``)."""
    from zoo.word2vec import engine, settings, trainer

    s = settings.check_settings({"sg": sg})
    start = time.perf_counter()
    engine.use_compilation_cache()  # before the model: building it makes TensorFlow read its XLA flags
    model = trainer._create_model(s, vocab)
    built = time.perf_counter()
    parts = s["parts"]
    shape = dict(part_words=s["chunk_words"] // parts, window=s["window"], block_size=s["block_size"],
                 shared_negatives=s["shared_negatives"])
    step = engine.build_train_function(
        model.get_layer("input_vectors").embeddings.value, model.get_layer("output_vectors").embeddings.value,
        sg=sg, parts=parts, negative=s["negative"], cbow_mean=s["cbow_mean"], max_row_step=s["max_row_step"],
        **shape)
    step.get_concrete_function()
    traced = time.perf_counter()
    inputs = engine.empty_inputs(parts=parts, **shape)
    step(*inputs)
    first = time.perf_counter()
    step(*inputs)
    second = time.perf_counter()
    return {"sg": sg, "vocab": vocab, "model_s": round(built - start, 3), "trace_s": round(traced - built, 3),
            "first_call_s": round(first - traced, 3), "second_call_s": round(second - first, 4)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python bench/word2vec_first_call.py", description=__doc__.splitlines()[0])
    parser.add_argument("--modes", default="0,1", help="sg values: 0 CBOW, 1 skip-gram (default 0,1)")
    parser.add_argument("--vocab", type=int, default=20000, help="vocabulary size (default 20000)")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker is not None:
        print(json.dumps(measure(args.worker, args.vocab)), flush=True)
        return 0
    for sg in (int(x) for x in args.modes.split(",")):
        with tempfile.TemporaryDirectory(prefix="word2vec-first-call-") as cache:
            for cache_state in ("cold", "warm", "warm"):
                row = run_json([sys.executable, __file__, "--worker", str(sg), "--vocab", str(args.vocab)],
                               f"sg={sg} run", ZOO_XLA_CACHE=cache)
                print(json.dumps({"cache": cache_state, **row}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
