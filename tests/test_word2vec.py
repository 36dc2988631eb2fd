"""Word2Vec (zoo.word2vec): gensim's settings, vocabulary and updates; exports; the cross-check.

The default tests run on gensim's Lee corpus (60k words) or slices of it; the slow
tests train on the Reuters newswires and hold the issue's bars against gensim.
"""

from __future__ import annotations

import inspect
import json

import numpy as np
import pytest

import zoo
from zoo import datasets, word2vec
from zoo.word2vec import compare as compare_mod
from zoo.word2vec import engine, pipeline, settings as settings_mod, vocab as vocab_mod
from zoo.word2vec.__main__ import main as w2v_main

from .conftest import needs_reuters


@pytest.fixture(scope="module")
def lee():
    return list(datasets.corpus("lee"))


# ---------------------------------------------------------------- settings and vocabulary


def test_defaults_are_gensims():
    from gensim.models import Word2Vec

    gensim_defaults = {k: p.default for k, p in inspect.signature(Word2Vec.__init__).parameters.items()}
    for name, value in word2vec.GENSIM_DEFAULTS.items():
        assert gensim_defaults[name] == value, name


def test_engine_defaults_per_mode_and_explicit_values_win():
    for sg, want in settings_mod.MODE_DEFAULTS.items():
        s = word2vec.check_settings({"sg": sg})
        assert {name: s[name] for name in want} == want
    assert settings_mod.MODE_DEFAULTS[0] != settings_mod.MODE_DEFAULTS[1]  # CBOW has its own
    s = word2vec.check_settings({"sg": 0, "chunk_words": 256, "block_size": 8})
    assert (s["chunk_words"], s["block_size"]) == (256, 8)


@pytest.mark.parametrize("extra", [{}, {"max_vocab_size": 800}, {"max_final_vocab": 300}, {"min_count": 2, "sample": 1e-4},
                                   {"ns_exponent": 0.5}])
def test_vocabulary_equals_gensims(lee, extra):
    from gensim.models import Word2Vec

    g = Word2Vec(**extra)
    g.build_vocab(lee)
    s = word2vec.check_settings(extra)
    v = vocab_mod.build(lee, min_count=s["min_count"], max_vocab_size=s["max_vocab_size"],
                        max_final_vocab=s["max_final_vocab"], sample=s["sample"], ns_exponent=s["ns_exponent"])
    assert v.words == g.wv.index_to_key
    assert v.total_words == g.corpus_total_words and v.documents == g.corpus_count
    np.testing.assert_array_equal(v.counts, g.wv.expandos["count"])
    np.testing.assert_allclose(v.keep_probability, g.wv.expandos["sample_int"] / (2**32 - 1), atol=1e-6)
    np.testing.assert_allclose(v.noise_cdf, g.cum_table / g.cum_table[-1], atol=1e-8)


def test_initial_vectors_are_gensims(lee):
    from gensim.models import Word2Vec

    g = Word2Vec(seed=7)
    g.build_vocab(lee)
    model = zoo.create_model("word2vec_skipgram", vocab_size=len(g.wv), vector_size=100, seed=7, compile=False)
    np.testing.assert_array_equal(np.asarray(model.get_layer("input_vectors").embeddings), g.wv.vectors)
    assert not np.asarray(model.get_layer("output_vectors").embeddings).any()  # gensim's syn1neg starts at 0


# ---------------------------------------------------------------- the pipeline


def _stream(docs, **overrides):
    s = word2vec.check_settings({"min_count": 1, "seed": 3, **overrides})
    v = vocab_mod.build(docs, min_count=s["min_count"], max_vocab_size=None, max_final_vocab=None,
                        sample=s["sample"], ns_exponent=s["ns_exponent"])
    return pipeline.Stream(docs, v, s, parts=s["parts"]), v, s


def test_pipeline_windows_documents_and_learning_rate(lee):
    stream, v, s = _stream(lee, sample=0, epochs=2, chunk_words=256, block_size=16, parts=2)
    batches = list(stream.batches(0))
    width = 256 // 2 + 2 * s["window"]
    assert all(b.tok.shape[1:] == (2, width) for b in batches)
    # Without subsampling every known word is a centre once, in corpus order.
    centres = np.concatenate([b.tok[:, :, s["window"]:-s["window"]].reshape(-1) for b in batches])
    valid = np.concatenate([b.doc[:, :, s["window"]:-s["window"]].reshape(-1) for b in batches]) >= 0
    expected = [v.index[w] for doc in lee for w in doc]
    np.testing.assert_array_equal(centres[valid], expected)
    assert sum(b.raw_words for b in batches) == pytest.approx(v.total_words, rel=1e-3)
    # Shrunken windows are uniform on 1..window.
    reduced = np.concatenate([b.reduced.reshape(-1) for b in batches])[: len(expected)]
    assert set(np.unique(reduced)) == set(range(1, s["window"] + 1))
    # gensim's linear decay: alpha at the start, halfway after one of two epochs.
    lr = np.concatenate([b.lr for b in batches])
    assert lr[0] == pytest.approx(s["alpha"]) and np.all(np.diff(lr) < 0)
    assert lr[-1] == pytest.approx((s["alpha"] + s["min_alpha"]) / 2, rel=0.02)


def test_subsampling_keeps_gensims_share(lee):
    stream, v, s = _stream(lee, sample=1e-3)
    kept = sum(b.centre_words for b in stream.batches(0))
    ids = np.array([v.index[w] for doc in lee for w in doc])
    expected = v.keep_probability[ids].sum()
    assert abs(kept - expected) < 4 * np.sqrt(expected)
    assert kept < 0.8 * len(ids)  # frequent words were dropped


def test_noise_lookup_table_gives_searchsorteds_words(lee):
    stream, v, _ = _stream(lee)
    B = pipeline.NOISE_BUCKETS
    # Random draws, draws on bucket edges, and draws equal to the cdf's steps (the ties).
    u = np.concatenate([np.random.default_rng(0).random(100_000), np.arange(0, B, 7) / B, v.noise_cdf[:-1]])
    noise = stream._noise(u)
    assert noise.dtype == np.int32
    np.testing.assert_array_equal(noise, np.minimum(np.searchsorted(v.noise_cdf, u), len(v) - 1))


def test_pipeline_is_repeatable_and_seeded(lee):
    a, _, _ = _stream(lee)
    b, _, _ = _stream(lee)
    c, _, _ = _stream(lee, seed=4)
    first = [x.noise for x in a.batches(0)]
    np.testing.assert_array_equal(np.concatenate(first), np.concatenate([x.noise for x in b.batches(0)]))
    assert not np.array_equal(first[0], next(c.batches(0)).noise)
    np.testing.assert_array_equal(np.concatenate(first), np.concatenate([x.noise for x in a.batches(0)]))  # cached ids


# ---------------------------------------------------------------- the engine against a per-pair reference


def _reference_step(w_in, w_out, batch, *, sg, window, block_size, negative, shared, cbow_mean, cap):
    """gensim's updates for one step, pair by pair in NumPy, all reading the tables at the step's start."""
    d_in, d_out = np.zeros_like(w_in), np.zeros_like(w_out)
    weight = negative / shared
    sigmoid = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    lr = float(batch["lr"])
    rows_in, rows_out = [], []
    for tok, doc, reduced, noise in zip(batch["tok"], batch["doc"], batch["reduced"], batch["noise"]):
        rows_in += list(tok)
        part_words = len(reduced)
        for i in range(part_words):
            pos, block = window + i, i // block_size
            rows_out.append(tok[pos])
            if i % block_size == 0:
                rows_out += list(noise[block])
            if doc[pos] < 0:
                continue
            ctx = [j for j in range(pos - reduced[i], pos + reduced[i] + 1) if j != pos and doc[j] == doc[pos]]
            targets = [(tok[pos], 1.0, 1.0)] + [(k, 0.0, weight) for k in noise[block] if k != tok[pos]]
            if sg:
                for j in ctx:
                    x = w_in[tok[j]]
                    for t, label, wt in targets:
                        f = x @ w_out[t]
                        g = 0.0 if abs(f) >= 6 else (label - sigmoid(f)) * lr * wt
                        d_in[tok[j]] += g * w_out[t]
                        d_out[t] += g * x
            elif ctx:
                h = w_in[tok[ctx]].sum(0) / (len(ctx) if cbow_mean else 1)
                work = np.zeros(w_in.shape[1])
                for t, label, wt in targets:
                    f = h @ w_out[t]
                    g = 0.0 if abs(f) >= 6 else (label - sigmoid(f)) * lr * wt
                    work += g * w_out[t]
                    d_out[t] += g * h
                for j in ctx:
                    d_in[tok[j]] += work if cbow_mean else work / len(ctx)
    for rows, delta in ((rows_in, d_in), (rows_out, d_out)):
        if cap:
            counts = np.bincount(rows, minlength=len(delta))
            delta *= np.minimum(1.0, cap / (lr * np.maximum(counts, 1)))[:, None]
    return w_in + d_in, w_out + d_out


@pytest.mark.parametrize("sg,cbow_mean,cap", [(1, 1, None), (0, 1, None), (0, 0, None), (1, 1, 0.05), (0, 1, 0.05)])
def test_engine_step_equals_gensims_pairwise_updates(sg, cbow_mean, cap):
    import tensorflow as tf

    rng = np.random.default_rng(0)
    vocab_size, dim, window, block, shared, negative, part_words, parts = 30, 6, 3, 4, 3, 2, 8, 2
    docs = [[f"w{i}" for i in rng.integers(0, vocab_size, n)] for n in (5, 9, 1, 7)]
    s = word2vec.check_settings({"min_count": 1, "sample": 0, "window": window, "block_size": block,
                                 "shared_negatives": shared, "negative": negative, "chunk_words": part_words * parts,
                                 "parts": parts, "seed": 5})
    v = vocab_mod.build(docs, min_count=1, max_vocab_size=None, max_final_vocab=None, sample=0, ns_exponent=0.75)
    batch = next(pipeline.Stream(docs, v, s, parts=parts).batches(0))
    w_in = rng.normal(scale=0.5, size=(len(v), dim)).astype(np.float32)
    w_out = rng.normal(scale=0.5, size=(len(v), dim)).astype(np.float32)
    table_in, table_out = tf.Variable(w_in), tf.Variable(w_out)
    step = engine.build_train_function(table_in, table_out, sg=sg, window=window, block_size=block,
                                       part_words=part_words, parts=parts, negative=negative, shared_negatives=shared,
                                       cbow_mean=cbow_mean, max_row_step=cap)
    lr = np.full(len(batch.lr), 0.5, np.float32)  # large, so that the updates are far from zero
    step(batch.tok[:1], batch.doc[:1], batch.reduced[:1], batch.noise[:1], lr[:1])
    want_in, want_out = _reference_step(
        w_in.astype(np.float64), w_out.astype(np.float64),
        {"tok": batch.tok[0], "doc": batch.doc[0], "reduced": batch.reduced[0], "noise": batch.noise[0], "lr": 0.5},
        sg=sg, window=window, block_size=block, negative=negative, shared=shared, cbow_mean=cbow_mean, cap=cap)
    assert np.abs(want_in - w_in).max() > 1e-2  # the step did something
    np.testing.assert_allclose(table_in.numpy(), want_in, atol=2e-5)
    np.testing.assert_allclose(table_out.numpy(), want_out, atol=2e-5)


# ---------------------------------------------------------------- the Keras models


def test_keras_models_score_with_the_two_tables():
    model = zoo.create_model("word2vec_skipgram", vocab_size=20, vector_size=4, negative=2, seed=0)
    inputs, outputs = (np.asarray(model.get_layer(n).embeddings) for n in ("input_vectors", "output_vectors"))
    outputs = np.random.default_rng(0).normal(size=outputs.shape).astype("float32")
    model.get_layer("output_vectors").embeddings.assign(outputs)
    word, targets = np.array([3, 7]), np.array([[1, 2, 3], [4, 5, 6]])
    np.testing.assert_allclose(model.predict([word, targets], verbose=0),
                               np.einsum("bd,bkd->bk", inputs[word], outputs[targets]), rtol=1e-5)

    cbow = zoo.create_model("word2vec_cbow", vocab_size=20, vector_size=4, window=2, negative=1, seed=0)
    cbow.get_layer("output_vectors").embeddings.assign(outputs)
    context = np.array([[1, 2, -1, -1]])  # two context words and padding
    h = np.asarray(cbow.get_layer("input_vectors").embeddings)[[1, 2]].mean(0)
    np.testing.assert_allclose(cbow.predict([context, np.array([[3, 4]])], verbose=0), [[h @ outputs[3], h @ outputs[4]]],
                               rtol=1e-5)


def test_zoo_train_points_to_the_word2vec_command(run_cli, tmp_path):
    from zoo import __main__ as zoo_command
    zoo_main = zoo_command.main

    code, _, err = run_cli(zoo_main, "train", "word2vec_cbow", "--out", tmp_path / "run")
    assert code == 2 and err.count("\n") == 1
    assert "use `python -m zoo.word2vec train --corpus reuters --sg 0" in err
    assert not (tmp_path / "run").exists()


# ---------------------------------------------------------------- train(), exports, determinism


@pytest.fixture(scope="module")
def lee_result(lee):
    return word2vec.train(lee[:150], sg=1, epochs=2, seed=3, progress=False)


def test_train_returns_keyedvectors_and_statistics(lee_result):
    r = lee_result
    assert r.model.name == "word2vec_skipgram" and len(r.wv) == len(r.vocab) > 300
    assert r.wv.index_to_key == r.vocab.words
    assert r.wv.get_vecattr(r.vocab.words[0], "count") == r.vocab.counts[0]
    np.testing.assert_array_equal(r.wv.vectors, np.asarray(r.model.get_layer("input_vectors").embeddings))
    summary = r.summary()
    assert summary["words_per_second"] == pytest.approx(r.vocab.total_words * 2 / r.train_seconds, rel=1e-3)
    assert 0 < summary["compile_seconds"] <= summary["train_seconds"]
    assert 0 < summary["centre_words_trained"] < 2 * r.vocab.total_words


def test_same_seed_is_bit_identical_and_another_seed_differs(lee):
    docs = lee[:60]
    a, b = (word2vec.train(docs, sg=0, epochs=1, seed=11, progress=False).vectors for _ in range(2))
    c = word2vec.train(docs, sg=0, epochs=1, seed=12, progress=False).vectors
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_exports_projector_and_word2vec_formats(lee_result, tmp_path):
    from gensim.models import KeyedVectors

    r = lee_result
    r.save_projector(tmp_path / "proj")
    rows = (tmp_path / "proj" / "vectors.tsv").read_text().splitlines()
    words = (tmp_path / "proj" / "metadata.tsv").read_text().splitlines()
    assert len(rows) == len(words) == len(r.vocab) and words == r.vocab.words
    np.testing.assert_allclose(np.array([row.split("\t") for row in rows], dtype=float), r.vectors, rtol=1e-5, atol=1e-6)
    assert 'tensor_path: "vectors.tsv"' in (tmp_path / "proj" / "projector_config.pbtxt").read_text()
    for binary in (False, True):
        path = r.save_word2vec_format(tmp_path / f"v.{'bin' if binary else 'txt'}", binary=binary)
        back = KeyedVectors.load_word2vec_format(str(path), binary=binary)
        assert back.index_to_key == r.vocab.words
        np.testing.assert_allclose(back.vectors, r.vectors, atol=1e-5)
    assert not [p for p in tmp_path.rglob(".*tmp*")], "temporary files left behind"


def test_an_iterable_corpus_is_read_once_in_pieces_and_trains_as_a_list(lee, monkeypatch):
    reads = []

    class Counting:
        name = "counting"

        def __iter__(self):
            reads.append(1)
            return iter(lee[:80])

    monkeypatch.setattr(pipeline, "PIECE_WORDS", 1000)
    streamed = word2vec.train(Counting(), epochs=2, seed=1, progress=False)
    # One iter() to check that it is restartable, one pass for the vocabulary and the token-id
    # cache; the epochs read the cache.
    assert len(reads) == 2
    cached = word2vec.train(lee[:80], epochs=2, seed=1, progress=False)
    np.testing.assert_array_equal(streamed.vectors, cached.vectors)


def _long_document(words=25_000):
    rng = np.random.default_rng(0)
    return [f"w{i}" for i in rng.integers(0, 50, words)]


@pytest.mark.parametrize("form", ["one-line file", "folder", "list of token lists"])
def test_a_document_longer_than_gensims_limit_is_trained_whole_in_pieces(tmp_path, form):
    # gensim trains at most 10,000 words of a document; a 25,000-word line was counted whole
    # (corpus_words, words/second) but trained 10,000. It is read as 3 pieces, as gensim's LineSentence does.
    doc = _long_document()
    if form == "list of token lists":
        corpus = [doc]
    else:
        (tmp_path / "corpus").mkdir()
        (tmp_path / "corpus" / "one.txt").write_text(" ".join(doc) + "\n")
        corpus = tmp_path / "corpus" / ("one.txt" if form == "one-line file" else "")
    summary = word2vec.train(corpus, epochs=1, min_count=1, sample=0, seed=0, progress=False).summary()
    assert summary["corpus_words"] == summary["centre_words_trained"] == len(doc), summary
    assert summary["documents"] == 3, summary
    assert vocab_mod.scan([doc], max_vocab_size=None)[1:] == (len(doc), 3)


# ---------------------------------------------------------------- the cross-check, fast: Lee


def test_compare_on_lee_is_close_to_gensim(lee):
    # Lee is small: 20 epochs (gensim's Lee tutorial) so that the neighbours mean something.
    report = compare_mod.compare(lee, sg=1, epochs=20, seed=1, progress=False, probes=compare_mod.PROBES["lee"])
    g, o = report["metrics"]["gensim"], report["metrics"]["ours"]
    assert report["speed"]["ours"] > 0 and report["speed"]["gensim"] > 0
    assert abs(o["wordsim353_spearman"] - g["wordsim353_spearman"]) < 0.15
    assert report["overlap"]["fraction"] >= 0.5, report["overlap"]
    assert [row[0] for row in report["rows"]][:4] == ["training words/second", "WordSim-353 Spearman",
                                                     "SimLex-999 Spearman", "analogy accuracy (overall)"]


def test_cli_train_and_compare_write_their_files(run_cli, tmp_path):
    code, out, err = run_cli(w2v_main, "train", "--corpus", "lee", "--epochs", "1", "--sg", "1", "--quiet",
                             "--out", tmp_path / "t", "--probes", "police,fire")
    assert code == 0, err
    for name in ("vectors.txt", "vectors.bin", "vectors.tsv", "metadata.tsv", "model.keras", "metrics.json"):
        assert (tmp_path / "t" / name).is_file(), name
    metrics = json.loads((tmp_path / "t" / "metrics.json").read_text())
    assert metrics["model"] == "word2vec_skipgram" and metrics["epochs"] == 1 and "analogy_accuracy" in metrics
    assert out.count("police:") == 1

    code, out, err = run_cli(w2v_main, "compare", "--corpus", "lee", "--epochs", "1", "--quiet", "--out", tmp_path / "c")
    assert code == 0, err
    report = json.loads((tmp_path / "c" / "compare.json").read_text())
    assert report["settings"]["sg"] == 0 and report["settings"]["workers"] == compare_mod.cpu_count()
    assert "| training words/second |" in out and "ratio ours/gensim" in out and "words/second = raw corpus words" in out
    assert (tmp_path / "c" / "compare.md").read_text().startswith("Word2Vec cross-check on lee")


# ---------------------------------------------------------------- the cross-check, slow: Reuters and the bars


@pytest.fixture(scope="module", params=[1, 0], ids=["skipgram", "cbow"])
def reuters_report(request):
    """One cross-check per mode (gensim twice and ours once), shared by the bar tests."""
    if needs_reuters.args[0]:
        pytest.skip(needs_reuters.kwargs["reason"])
    return compare_mod.compare("reuters", sg=request.param, progress=False)


@pytest.mark.slow
def test_reuters_wordsim353_within_005_of_gensim(reuters_report):
    g, o = reuters_report["metrics"]["gensim"], reuters_report["metrics"]["ours"]
    assert abs(o["wordsim353_spearman"] - g["wordsim353_spearman"]) <= 0.05, (o["wordsim353_spearman"], g["wordsim353_spearman"])
    assert o["wordsim353_spearman"] > 0.25


@pytest.mark.slow
def test_reuters_analogies_within_15_points_of_gensim(reuters_report):
    g, o = reuters_report["metrics"]["gensim"], reuters_report["metrics"]["ours"]
    assert abs(o["analogy_accuracy"] - g["analogy_accuracy"]) <= 0.015, (o["analogy_accuracy"], g["analogy_accuracy"])


@pytest.mark.slow
def test_reuters_neighbours_overlap_at_least_80_percent_of_gensim_vs_gensim(reuters_report):
    assert reuters_report["overlap"]["fraction"] >= 0.8 - 1e-12, reuters_report["overlap"]  # 0.64 / 0.8 == 0.7999...
    assert all(bar["passed"] for bar in reuters_report["bars"])


# ---------------------------------------------------------------- the benchmark script


def test_benchmark_writes_ratio_and_quality_per_run(tmp_path, capsys):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "bench" / "word2vec_vs_gensim.py"
    spec = importlib.util.spec_from_file_location("word2vec_vs_gensim", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = tmp_path / "bench.json"
    assert bench.main(["--corpus", "lee", "--sg", "0", "--epochs", "1", "--repeats", "2", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    (mode,) = report["modes"]
    assert mode["sg"] == 0 and len(mode["runs"]["gensim"]) == len(mode["runs"]["ours"]) == 2
    assert mode["ratio"] == pytest.approx(mode["median"]["ours"]["words_per_second"]
                                          / mode["median"]["gensim"]["words_per_second"])
    assert all(-1 <= run["wordsim353"] <= 1 for runs in mode["runs"].values() for run in runs)
    assert "ratio ours/gensim" in capsys.readouterr().out
