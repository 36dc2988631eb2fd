"""Bad input, as a table: each entry point, each bad input, the one error it must give.

Add a row to extend. Every error names the argument or file, the value, and what
is allowed; CLIs print it on one line and exit 2; nothing is left half written.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import zoo
from zoo import datasets, training
from zoo.__main__ import main as zoo_main

# ---------------------------------------------------------------- factories
# (model, overrides, error type, message regex)
FACTORY_CASES = [
    ("dense_classifier", {"hidden_units": "8,8"}, TypeError, r"hidden_units must be a sequence of positive integers"),
    ("dense_classifier", {"hidden_units": (8, -1)}, ValueError, r"hidden_units must be a sequence of positive integers, got \(8, -1\)"),
    ("dense_classifier", {"dropout": float("nan")}, ValueError, r"dropout must be a finite number in \[0.0, 1.0\), got nan"),
    ("dense_classifier", {"dropout": "0.5"}, TypeError, r"dropout must be a number, got '0.5'"),
    ("dense_classifier", {"num_classes": 1}, ValueError, r"num_classes must be an integer >= 2, got 1"),
    ("dense_classifier", {"seed": -1}, ValueError, r"seed must be an integer >= 0, got -1"),
    ("dense_classifier", {"max_norm": 0}, ValueError, r"max_norm must be a finite number in \(0.0, inf\), got 0.0"),
    ("dense_classifier", {"batch_norm": "yes"}, TypeError, r"batch_norm must be True or False, got 'yes'"),
    ("reuters_mlp", {"input_dim": 0}, ValueError, r"input_dim must be an integer >= 1, got 0"),
    ("reuters_mlp", {"learning_rate": float("inf")}, ValueError, r"learning_rate must be a finite number"),
    ("small_cnn", {"input_shape": (0, 8, 1)}, ValueError, r"input_shape must be a tuple of positive integers, got \(0, 8, 1\)"),
    ("small_cnn", {"filters": ()}, ValueError, r"filters must hold at least one positive integer"),
    ("small_cnn", {"kernel_size": 0}, ValueError, r"kernel_size must be an integer >= 1, got 0"),
    ("no_such_model", {}, ValueError, r"unknown model 'no_such_model'; known models: "),
]


@pytest.mark.parametrize("name,kwargs,error,message", FACTORY_CASES)
def test_factory_bad_input(name, kwargs, error, message):
    with pytest.raises(error, match=message):
        zoo.create_model(name, **kwargs)


# ---------------------------------------------------------------- zoo.datasets.load
LOAD_CASES = [
    ({"name": "cifar"}, ValueError, r"name must be one of 'iris', .* got 'cifar'"),
    ({"name": "iris", "test_size": 1.5}, ValueError, r"test_size must be a finite number in \(0.0, 1.0\), got 1.5"),
    ({"name": "iris", "seed": -3}, ValueError, r"seed must be an integer >= 0, got -3"),
    ({"name": "reuters", "num_words": 2}, ValueError, r"num_words must be an integer >= 4, got 2"),
    ({"name": "reuters", "path": "/nonexistent/reuters.npz"}, FileNotFoundError, r"path: '/nonexistent/reuters.npz' does not exist"),
]


@pytest.mark.parametrize("kwargs,error,message", LOAD_CASES)
def test_load_bad_input(kwargs, error, message):
    kwargs = dict(kwargs)
    with pytest.raises(error, match=message):
        datasets.load(kwargs.pop("name"), **kwargs)


# ---------------------------------------------------------------- training data (x, y)
X = np.random.default_rng(0).normal(size=(20, 4)).astype("float32")
Y = np.arange(20) % 3


def _nan_x():
    x = X.copy()
    x[7, 2] = np.nan
    return x


DATA_CASES = [
    ("wrong rank", lambda: (X[:, :, None], Y), r"x_train must have shape \(n, 4\) for this model, got \(20, 4, 1\)"),
    # The model is fitted to x_train's width, so the test split is the one that disagrees.
    ("wrong width", lambda: (X[:, :3], Y), r"x_test must have shape \(n, 3\) for this model, got \(20, 4\)"),
    ("strings", lambda: (X.astype(str), Y), r"x_train must hold numbers, got dtype <U"),
    ("NaN feature", lambda: (_nan_x(), Y), r"x_train must be finite, got NaN or infinite values in 1 sample\(s\), first at row 7"),
    ("infinite feature", lambda: (np.where(X > 2, np.inf, X), Y), r"x_train must be finite"),
    # With --set num_classes=3 (without it the class count is taken from the labels).
    ("label out of range", lambda: (X, np.where(Y == 2, 3, Y)), r"y_train labels must lie in \[0, 3\), got \[3"),
    ("negative label", lambda: (X, Y - 1), r"y_train labels must lie in"),
    ("one-hot labels", lambda: (X, np.eye(3)[Y]), r"y_train looks one-hot encoded \(shape \(20, 3\)\); .* pass y_train.argmax\(axis=1\)"),
    ("float labels", lambda: (X, Y + 0.5), r"y_train must be integer class labels, got non-integer values"),
    ("empty", lambda: (X[:0], Y[:0]), r"x_train must hold at least one sample, got an array of shape \(0, 4\)"),
    ("length mismatch", lambda: (X, Y[:-1]), r"x_train and y_train must have the same length, got 20 and 19"),
]


@pytest.mark.parametrize("case,make,message", DATA_CASES, ids=[c[0] for c in DATA_CASES])
def test_zoo_train_bad_data_from_npz(run_cli, tmp_path, case, make, message):
    x, y = make()
    data = tmp_path / "data.npz"
    np.savez(data, x_train=x, y_train=y, x_test=X, y_test=Y)
    out = tmp_path / "run"
    code, _, err = run_cli(zoo_main, "train", "dense_classifier", "--data", data, "--epochs", 1, "--out", out, "--quiet",
                           "--set", "num_classes=3")
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: "), err
    assert __import__("re").search(message, err), err
    assert not any(p.is_file() and not p.name.startswith(".write-check") for p in out.rglob("*")), "output written"


# ---------------------------------------------------------------- python -m zoo
CLI_CASES = [
    (["train", "dense_classifer", "--out", "{out}"], r"error: unknown model 'dense_classifer'; did you mean 'dense_classifier'\?"),
    (["train", "dense_classifier", "--out", "{out}", "--batch-size", "0"], r"error: batch_size must be an integer >= 1, got 0"),
    (["train", "dense_classifier", "--out", "{out}", "--seed", "-1"], r"error: seed must be an integer >= 0, got -1"),
    (["train", "dense_classifier", "--out", "{out}", "--data", "{tmp}/missing.npz"], r"error: data: no such file '.*missing.npz'"),
    (["train", "dense_classifier", "--out", "{out}", "--data", "{tmp}/bad.npz"], r"error: data: .*bad.npz is not a readable .npz file"),
    (["train", "dense_classifier", "--out", "{out}", "--data", "{tmp}/partial.npz"], r"error: data: .*partial.npz lacks array\(s\) x_test, y_test"),
    (["train", "dense_classifier", "--out", "{out}", "--set", "dropout=1"], r"error: dropout must be a finite number in \[0.0, 1.0\), got 1.0"),
    (["train", "dense_classifier", "--out", "{out}", "--set", "colour=3"], r"error: dense_classifier: unknown argument\(s\) colour"),
    (["train", "dense_classifier", "--out", "{out}", "--data", "imagenet"], r"error: name must be one of 'iris'"),
    (["train", "dense_classifier", "--out", "{readonly}/run"], r"error: out: cannot write to directory"),
    (["evaluate", "{tmp}/not_a_run"], r"error: run_dir: .*model.keras not found"),
]


def _cli_argv(args, tmp_path, *, a_file):
    """``args`` with ``{out}``, ``{tmp}`` and ``{readonly}`` (an unwritable folder) filled in.

    Root ignores permissions: then ``{readonly}`` is ``a_file``, so that a path under it cannot be made.
    """
    readonly = tmp_path / "readonly"
    readonly.mkdir()
    os.chmod(readonly, 0o500)
    if os.access(readonly, os.W_OK):
        readonly = a_file
    mapping = {"{out}": str(tmp_path / "out"), "{tmp}": str(tmp_path), "{readonly}": str(readonly)}
    argv = []
    for a in args:
        for k, v in mapping.items():
            a = a.replace(k, v)
        argv.append(a)
    return argv


@pytest.mark.parametrize("args,message", CLI_CASES, ids=[" ".join(c[0][:2]) + f"-{i}" for i, c in enumerate(CLI_CASES)])
def test_zoo_cli_bad_input(run_cli, tmp_path, args, message):
    (tmp_path / "bad.npz").write_bytes(b"this is not a zip file")
    np.savez(tmp_path / "partial.npz", x_train=X, y_train=Y)
    code, _, err = run_cli(zoo_main, *_cli_argv(args, tmp_path, a_file=tmp_path / "bad.npz"))
    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert __import__("re").search(message, err), err
    assert not (tmp_path / "out" / "metrics.json").exists()


def test_train_function_rejects_bad_numbers(tmp_path):
    with pytest.raises(ValueError, match=r"epochs must be an integer >= 1, got 0"):
        training.train("dense_classifier", out=tmp_path, epochs=0)


# ---------------------------------------------------------------- zoo.word2vec.train
# (case, corpus: a value or fn(tmp_path) -> value, settings, error type, message regex)
def _latin1_file(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("caf\xe9 au lait\n".encode("latin-1"))
    return str(path)


def _one_shot(tmp_path):
    return (doc for doc in [["a", "b"]] * 10)


WORD2VEC_TRAIN_CASES = [
    ("empty corpus", [], {}, ValueError, r"corpus: list is empty \(0 documents, 0 words\)"),
    ("only empty documents", [[], []], {}, ValueError, r"corpus: list is empty \(2 documents, 0 words\)"),
    ("no word reaches min_count", [["rare", "words", "only"]] * 2, {}, ValueError,
     r"min_count: no word of corpus list occurs at least 5 times \(the most frequent, 'rare', occurs 2 times\)"),
    ("non-UTF-8 file", _latin1_file, {}, ValueError, r"corpus: .*latin1.txt is not UTF-8 text \(invalid byte at offset 3\)"),
    ("missing file", "/nonexistent/corpus.txt", {}, FileNotFoundError, r"corpus: no such file '/nonexistent/corpus.txt'"),
    ("unknown corpus name", "wikipedia", {}, ValueError, r"corpus must be one of 'reuters', 'lee' or an existing text file; got 'wikipedia'"),
    ("strings, not token lists", ["the cat sat", "on the mat"], {}, TypeError, r"corpus: each document must be a list of string tokens, got str"),
    ("one-shot generator", _one_shot, {}, TypeError, r"corpus must be restartable .* got a one-shot generator"),
    ("window < 1", "lee", {"window": 0}, ValueError, r"window must be an integer >= 1, got 0"),
    ("negative < 0", "lee", {"negative": -1}, ValueError, r"negative must be an integer >= 1 \(noise words per positive example\), got -1"),
    ("negative = 0 (hs)", "lee", {"negative": 0}, ValueError, r"negative must be an integer >= 1 .*hierarchical softmax .* is not implemented"),
    ("vector_size < 1", "lee", {"vector_size": 0}, ValueError, r"vector_size must be an integer >= 1, got 0"),
    ("sg not 0/1", "lee", {"sg": 2}, ValueError, r"sg must be 0 or 1, got 2"),
    ("alpha <= 0", "lee", {"alpha": 0.0}, ValueError, r"alpha must be a finite number in \(0.0, inf\), got 0.0"),
    ("sample < 0", "lee", {"sample": -1e-3}, ValueError, r"sample must be a finite number in \[0.0, inf\), got -0.001"),
    ("epochs = 0", "lee", {"epochs": 0}, ValueError, r"epochs must be an integer >= 1, got 0"),
    ("float window", "lee", {"window": 2.5}, TypeError, r"window must be an integer >= 1, got 2.5 \(float\)"),
    ("hs=1", "lee", {"hs": 1}, ValueError, r"hs must be 0: hierarchical softmax is not implemented"),
    ("misspelt setting", "lee", {"windw": 3}, ValueError, r"unknown Word2Vec setting\(s\) 'windw' \(did you mean 'window'\?\); allowed: sg, "),
    ("engine setting", "lee", {"chunk_words": 1000}, ValueError, r"chunk_words must be a multiple of block_size \* parts \(16 \* 2\), got 1000"),
]


@pytest.mark.parametrize("case,corpus,settings,error,message", WORD2VEC_TRAIN_CASES, ids=[c[0] for c in WORD2VEC_TRAIN_CASES])
def test_word2vec_train_bad_input(tmp_path, case, corpus, settings, error, message):
    from zoo import word2vec

    if callable(corpus):
        corpus = corpus(tmp_path)
    before = set(tmp_path.iterdir())
    with pytest.raises(error, match=message):
        word2vec.train(corpus, progress=False, **settings)
    assert set(tmp_path.iterdir()) == before, "something was written"


# ---------------------------------------------------------------- python -m zoo.word2vec
WORD2VEC_CLI_CASES = [
    (["train", "--corpus", "{tmp}/latin1.txt", "--out", "{out}"], r"error: corpus: .*latin1.txt is not UTF-8 text"),
    (["train", "--corpus", "{tmp}/missing.txt", "--out", "{out}"], r"error: corpus: no such file '.*missing.txt'"),
    (["train", "--corpus", "{tmp}/empty.txt", "--out", "{out}"], r"error: corpus: .*empty.txt is empty \(0 documents, 0 words\)"),
    (["train", "--corpus", "lee", "--window", "0", "--out", "{out}"], r"error: window must be an integer >= 1, got 0"),
    (["train", "--corpus", "lee", "--negative", "-2", "--out", "{out}"], r"error: negative must be an integer >= 1"),
    (["train", "--corpus", "lee", "--vector-size", "0", "--out", "{out}"], r"error: vector_size must be an integer >= 1, got 0"),
    (["train", "--corpus", "lee", "--min-count", "100000", "--out", "{out}"], r"error: min_count: no word of corpus lee occurs at least 100000 times"),
    (["train", "--corpus", "lee", "--set", "chunk_word=8", "--out", "{out}"], r"error: unknown Word2Vec setting\(s\) 'chunk_word' \(did you mean 'chunk_words'\?\)"),
    (["train", "--corpus", "lee", "--out", "{readonly}/run"], r"error: out: cannot write to directory"),
    (["compare", "--corpus", "lee", "--probes", "police,xyzzy", "--out", "{out}"], r"error: probes: not in the vocabulary of corpus lee: 'xyzzy'"),
    (["compare", "--corpus", "lee", "--probes", "polise", "--out", "{out}"], r"error: probes: .* 'polise' \(close: police"),
    (["compare", "--corpus", "lee", "--sg", "3", "--out", "{out}"], r"error: sg must be 0 or 1, got 3"),
]


@pytest.mark.parametrize("args,message", WORD2VEC_CLI_CASES, ids=[f"{c[0][0]}-{i}" for i, c in enumerate(WORD2VEC_CLI_CASES)])
def test_word2vec_cli_bad_input(run_cli, tmp_path, args, message):
    from zoo.word2vec.__main__ import main as w2v_main

    _latin1_file(tmp_path)
    (tmp_path / "empty.txt").write_text("\n\n", encoding="utf-8")
    code, _, err = run_cli(w2v_main, *_cli_argv(args, tmp_path, a_file=tmp_path / "empty.txt"))
    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert __import__("re").search(message, err), err
    assert not any(p.is_file() for p in (tmp_path / "out").rglob("*")), "output written"
