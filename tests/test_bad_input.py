"""Bad input, as a table: each entry point, each bad input, the one error it must give.

Add a row to extend. Every error names the argument or file, the value, and what
is allowed; CLIs print it on one line and exit 2; nothing is left half written.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import zoo
from zoo import datasets, training
from zoo import __main__ as zoo_command
zoo_main = zoo_command.main

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
    ("beyond float32", lambda: (np.where(X > 2, 1e39, X.astype("float64")), Y),
     r"x_train must be finite in float32, got values beyond its range \(\|x\| > 3.4e\+38\) in \d+ sample\(s\)"),
    # With --set num_classes=3 (without it the class count is taken from the labels).
    ("label out of range", lambda: (X, np.where(Y == 2, 3, Y)), r"y_train labels must lie in \[0, 3\), got \[3"),
    ("negative label", lambda: (X, Y - 1), r"y_train labels must be >= 0, got \[-1"),
    ("one-hot labels", lambda: (X, np.eye(3)[Y]), r"y_train looks one-hot encoded \(shape \(20, 3\)\); .* pass y_train.argmax\(axis=1\)"),
    ("float labels", lambda: (X, Y + 0.5), r"y_train must be integer class labels, got non-integer values"),
    ("empty", lambda: (X[:0], Y[:0]), r"x_train must hold at least one sample, got an array of shape \(0, 4\)"),
    ("length mismatch", lambda: (X, Y[:-1]), r"x_train and y_train must have the same length, got 20 and 19"),
    ("complex features", lambda: (X + 1j, Y), r"x_train must hold real numbers, got complex dtype complex"),
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
    (["train", "dense_classifier", "--out", "{out}", "--data", "{tmp}/bad.npz"], r"error: data: .*bad.npz is not a \.npz file \(not a zip archive\); save one with np.savez"),
    (["train", "dense_classifier", "--out", "{out}", "--data", "{tmp}/partial.npz"], r"error: data: .*partial.npz lacks array\(s\) x_test, y_test"),
    (["train", "dense_classifier", "--out", "{out}", "--set", "dropout=1"], r"error: dropout must be a finite number in \[0.0, 1.0\), got 1.0"),
    (["train", "dense_classifier", "--out", "{out}", "--set", "colour=3"], r"error: dense_classifier: unknown argument\(s\) colour"),
    (["train", "dense_classifier", "--out", "{out}", "--data", "imagenet"], r"error: name must be one of 'iris'"),
    (["train", "dense_classifier", "--out", "{readonly}/run"], r"error: out: cannot write to directory"),
    (["evaluate", "{tmp}/not_a_run"], r"error: run_dir: .*model.keras not found"),
    (["train", "dense_classifier", "--out", "{out}", "--set", "dropout=" + "-" * 100_000 + "1"],
     r"error: --set: dropout: the value \(100001 characters\) is nested too deeply to parse"),  # MemoryError in ast
    (["train", "dense_classifier", "--out", "{out}", "--set", "dropout=" + "~" * 50_000 + "1"],
     r"error: --set: dropout: the value \(50001 characters\) is nested too deeply to parse"),  # RecursionError in ast
    (["train", "dense_classifier", "--out", "{out}", "--set", "dropout={[]}"], r"error: --set: dropout: '\{\[\]\}' is not a valid value"),
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


# ---------------------------------------------------------------- tuning.cross_validate
# (case, make_data() -> (x, y), keyword arguments, error type, message regex). Every error comes
# before any training.
def _iris_raw_sorted():
    (x, y), _ = datasets.load("iris", preprocess=False)
    order = np.argsort(y, kind="stable")
    return x[order], y[order]


def _rare_class():
    y = Y.copy()
    y[y == 2] = 0
    y[:3] = 2  # class 2: 3 samples
    return X, y


CV_CASES = [
    ("folds < 2", lambda: (X, Y), {"cv": 1}, ValueError, r"cv must be a number of folds >= 2 or a scikit-learn splitter, got 1"),
    ("folds not a number", lambda: (X, Y), {"cv": "five"}, TypeError, r"cv must be a number of folds >= 2 or a scikit-learn splitter .* got 'five' \(str\)"),
    ("more folds than samples", lambda: (X[:6], Y[:6]), {"cv": 10}, ValueError, r"cv: 10 folds but only 6 samples; use at most 6 folds"),
    ("class smaller than folds", _rare_class, {"cv": 5}, ValueError, r"y: class 2 has 3 sample\(s\), fewer than the 5 folds of stratified cross-validation.*use cv=3"),
    ("unshuffled folds of sorted data", _iris_raw_sorted, {"cv": __import__("sklearn.model_selection").model_selection.KFold(3)}, ValueError, r"cv: validation fold 1 of KFold.* holds a single class \(0\) although y has 3"),
    ("unknown model", lambda: (X, Y), {"model": "dense_clasifier"}, ValueError, r"unknown model 'dense_clasifier'; did you mean 'dense_classifier'\?"),
    ("invalid factory argument", lambda: (X, Y), {"dropout": 1.5}, ValueError, r"dropout must be a finite number in \[0.0, 1.0\), got 1.5"),
    ("unknown factory argument", lambda: (X, Y), {"colour": 3}, ValueError, r"dense_classifier: unknown argument\(s\) colour"),
    ("epochs 0", lambda: (X, Y), {"epochs": 0}, ValueError, r"epochs must be an integer >= 1, got 0"),
    ("NaN feature", lambda: (_nan_x(), Y), {}, ValueError, r"x must be finite, got NaN or infinite values in 1 sample\(s\), first at row 7"),
    ("one-hot labels", lambda: (X, np.eye(3)[Y]), {}, ValueError, r"y looks one-hot encoded \(shape \(20, 3\)\)"),
    ("length mismatch", lambda: (X, Y[:-1]), {}, ValueError, r"x and y must have the same length, got 20 and 19"),
    ("preprocess not a transformer", lambda: (X, Y), {"preprocess": "standardise"}, TypeError, r"preprocess must be a scikit-learn transformer"),
    ("arguments with a build function", lambda: (X, Y), {"model": lambda: None, "dropout": 0.1}, TypeError, r"factory arguments \(dropout\) apply to a zoo model name"),
    ("build function returns no model", lambda: (X, Y), {"model": lambda: None}, TypeError, r"model: the building function must return a keras.Model, got NoneType"),
    ("data the model cannot take", lambda: (X, Y), {"model": "small_cnn"}, ValueError, r"x must have shape \(n, 8, 8, 1\) for this model, got \(20, 4\)"),
    ("empty arrays", lambda: (X[:0], Y[:0]), {}, ValueError, r"x must hold at least one sample, got an array of shape \(0, 4\)"),
    ("features of the wrong rank", lambda: (X.reshape(20, 2, 2), Y), {}, ValueError, r"x must have shape \(n, 4\) for this model, got \(20, 2, 2\)"),
    ("string features", lambda: (X.astype(str), Y), {}, TypeError, r"x must hold numbers, got dtype <U"),
    ("infinite feature", lambda: (np.where(np.arange(20)[:, None] == 3, np.inf, X), Y), {}, ValueError, r"x must be finite, got NaN or infinite values in 1 sample\(s\), first at row 3"),
    ("negative labels", lambda: (X, Y - 1), {}, ValueError, r"y labels must be >= 0, got \[-1"),
    ("non-integer labels", lambda: (X, Y + 0.5), {}, ValueError, r"y must be integer class labels, got non-integer values"),
    ("complex features", lambda: (X * 1j, Y), {}, TypeError, r"x must hold real numbers, got complex dtype complex"),
    ("unknown strategy", lambda: (X, Y), {"strategy": "horovod"}, ValueError, r"strategy must be one of 'default', 'mirrored', 'multi_worker'; got 'horovod'"),
    ("multi-worker strategy", lambda: (X, Y), {"strategy": "multi_worker"}, ValueError, r"strategy: cross_validate trains its folds in one process; use 'mirrored'"),
]


@pytest.mark.parametrize("case,make,kwargs,error,message", CV_CASES, ids=[c[0] for c in CV_CASES])
def test_cross_validate_bad_input(case, make, kwargs, error, message):
    from tuning import cross_validate

    kwargs = dict(kwargs)
    x, y = make()
    with pytest.raises(error, match=message):
        cross_validate(kwargs.pop("model", "dense_classifier"), x, y, **{"epochs": 1, **kwargs})


# ---------------------------------------------------------------- the tuners (CVRandomSearch)
# (case, constructor keywords, search keywords or None, error type, message regex).
# "{busy}" is a port another socket listens on; "{readonly}" a directory nobody may write.
TUNER_CASES = [
    ("max_trials < 1", {"max_trials": 0}, None, ValueError, r"max_trials must be an integer >= 1, got 0"),
    ("folds < 2", {"cv": 1}, None, ValueError, r"cv must be a number of folds >= 2"),
    ("unknown model", {"hypermodel": "dense_clasifier"}, None, ValueError, r"unknown model 'dense_clasifier'; did you mean"),
    ("objective not reported", {"objective": "val_auc"}, None, ValueError,
     r"objective 'val_auc' is not reported by the model; it reports: loss, accuracy, val_loss, val_accuracy"),
    ("objective not a name", {"objective": 3}, None, TypeError, r"objective must be a metric name such as 'val_accuracy'"),
    ("hypermodel not a model", {"hypermodel": 42}, None, TypeError, r"hypermodel must be a keras_tuner.HyperModel"),
    ("chief port already in use", {"env": "chief:{busy}"}, None, ValueError,
     r"oracle_port: 127.0.0.1:\d+ is already in use; the chief needs a free port"),
    ("worker with overwrite", {"env": "worker0:1", "overwrite": True}, None, ValueError, r"overwrite: only the chief may start a search anew"),
    ("unwritable directory", {"directory": "{readonly}/tune"}, None, ValueError, r"directory: cannot write to directory"),
    ("more folds than samples", {"cv": 30}, {}, ValueError, r"cv: 30 folds but only 20 samples"),
    ("class smaller than folds", {"cv": 7}, {}, ValueError, r"y: class 2 has 6 sample\(s\), fewer than the 7 folds.*use cv=6 or fewer folds"),
    ("batch_size in search", {}, {"batch_size": 4}, ValueError, r"batch_size: not accepted by CVRandomSearch.search; it is a hyperparameter"),
    ("validation_data in search", {}, {"validation_data": (X, Y)}, ValueError, r"validation_data: not accepted .* set cv="),
    ("features of the wrong width", {}, {"x": X[:, :3]}, ValueError, r"x must have shape \(n, 4\) for this model, got \(20, 3\)"),
    ("labels out of range", {}, {"y": Y + 1}, ValueError, r"y labels must lie in \[0, 3\), got \[3"),
    ("epochs 0", {}, {"epochs": 0}, ValueError, r"epochs must be an integer >= 1, got 0"),
    # Data built when the test runs (lambdas: _nan_x is defined above).
    ("NaN feature", {}, {"x": lambda: _nan_x()}, ValueError, r"x must be finite, got NaN or infinite values in 1 sample\(s\), first at row 7"),
    ("one-hot labels", {}, {"y": lambda: np.eye(3)[Y]}, ValueError, r"y looks one-hot encoded \(shape \(20, 3\)\)"),
    ("empty arrays", {}, {"x": lambda: X[:0], "y": lambda: Y[:0]}, ValueError, r"x must hold at least one sample"),
    ("length mismatch", {}, {"y": lambda: Y[:-1]}, ValueError, r"x and y must have the same length, got 20 and 19"),
    ("string features", {}, {"x": lambda: X.astype(str)}, TypeError, r"x must hold numbers, got dtype <U"),
    ("complex features", {}, {"x": lambda: X.astype(complex)}, TypeError, r"x must hold real numbers, got complex dtype"),
]


def _busy_port():
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    return s


def _readonly_dir(tmp_path):
    readonly = tmp_path / "readonly"
    readonly.mkdir(exist_ok=True)
    os.chmod(readonly, 0o500)
    if os.access(readonly, os.W_OK):  # root ignores permissions: use a path under a file instead
        (tmp_path / "a_file").write_text("x")
        readonly = tmp_path / "a_file"
    return readonly


def _tuner_error(tmp_path, monkeypatch, ctor, search):
    from tuning import CVRandomSearch

    ctor = dict(ctor)
    busy = _busy_port()
    try:
        env = ctor.pop("env", None)
        if env:
            tuner_id, port = env.format(busy=busy.getsockname()[1]).split(":")
            monkeypatch.setenv("KERASTUNER_TUNER_ID", tuner_id)
            monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
            monkeypatch.setenv("KERASTUNER_ORACLE_PORT", port)
        directory = str(ctor.pop("directory", tmp_path / "tune")).replace("{readonly}", str(_readonly_dir(tmp_path)))
        tuner = CVRandomSearch(ctor.pop("hypermodel", "dense_classifier"), directory=directory, project_name="p",
                               **{"max_trials": 1, "cv": 2, **ctor})
        if search is not None:
            search = dict(search)
            x, y = (v() if callable(v) else v for v in (search.pop("x", X), search.pop("y", Y)))
            tuner.search(x, y, **{"epochs": 1, "verbose": 0, **search})
    finally:
        busy.close()


@pytest.mark.parametrize("case,ctor,search,error,message", TUNER_CASES, ids=[c[0] for c in TUNER_CASES])
def test_tuner_bad_input(tmp_path, monkeypatch, case, ctor, search, error, message):
    with pytest.raises(error, match=message):
        _tuner_error(tmp_path, monkeypatch, ctor, search)
    # Nothing of a search was written: no oracle state, no trial, no results.
    tune = tmp_path / "tune"
    assert not [p for p in tune.rglob("*") if p.is_file() and not p.name.startswith(".write-check")], list(tune.rglob("*"))


def test_tuning_directory_stays_usable_after_every_bad_input(tmp_path, monkeypatch):
    from tuning import CVRandomSearch

    for case, ctor, search, error, _ in TUNER_CASES:
        with monkeypatch.context() as m, pytest.raises(error):
            _tuner_error(tmp_path, m, ctor, search)
    tuner = CVRandomSearch("dense_classifier", max_trials=1, cv=2, directory=tmp_path / "tune", project_name="p")
    tuner.search(X, Y, epochs=1, verbose=0)
    assert [r["status"] for r in tuner.results()] == ["COMPLETED"]


# ---------------------------------------------------------------- python -m tuning
TUNING_CLI_CASES = [
    (["search", "dense_classifer"], r"error: unknown model 'dense_classifer'; did you mean 'dense_classifier'\?"),
    (["search", "dense_classifier", "--max-trials", "0"], r"error: max_trials must be an integer >= 1, got 0"),
    (["search", "dense_classifier", "--folds", "1"], r"error: cv must be a number of folds >= 2"),
    (["search", "dense_classifier", "--folds", "200"], r"error: cv: 200 folds but only 120 samples"),
    (["search", "dense_classifier", "--folds", "50"], r"error: y: class 0 has 40 sample\(s\), fewer than the 50 folds"),
    (["search", "dense_classifier", "--holdout", "1.5"], r"error: fraction must be a finite number in \(0.0, 1.0\), got 1.5"),
    (["search", "dense_classifier", "--objective", "val_auc"], r"error: objective 'val_auc' is not reported by the model"),
    (["search", "dense_classifier", "--tune", "colour"], r"error: tune must be one of 'layers', .* got 'colour'"),
    (["search", "dense_classifier", "--set", "dropout=2"], r"error: dropout must be a finite number in \[0.0, 1.0\), got 2.0"),
    (["search", "dense_classifier", "--data", "{tmp}/missing.npz"], r"error: data: no such file '.*missing.npz'"),
    (["search", "dense_classifier", "--role", "chief", "--oracle-port", "{busy}"], r"error: oracle_port: 127.0.0.1:\d+ is already in use"),
    (["search", "dense_classifier", "--role", "chief", "--oracle-port", "70000"], r"error: oracle_port must be an integer in \[1, 65535\], got '70000'"),
    (["search", "dense_classifier", "--role", "worker", "--oracle-port", "1"], r"error: --tuner-id: a worker needs a unique name"),
    (["search", "dense_classifier", "--role", "worker", "--tuner-id", "w0", "--oracle-port", "1", "--overwrite"], r"error: overwrite: only the chief"),
    (["search", "dense_classifier", "--oracle-port", "1"], r"error: --tuner-id/--oracle-ip/--oracle-port need --role"),
    (["cv", "dense_classifier", "--folds", "1"], r"error: cv must be a number of folds >= 2"),
    (["cv", "dense_classifier", "--epochs", "0"], r"error: epochs must be an integer >= 1, got 0"),
    (["cv", "small_cnn", "--data", "iris"], r"error: x must have shape \(n, 8, 8, 1\) for this model, got \(120, 4\)"),
    (["search", "dense_classifier", "--data", "{tmp}/truncated.npz"], r"error: data: .*truncated.npz is not a (readable )?\.npz file"),
    (["search", "dense_classifier", "--data", "{tmp}/keys.npz"], r"error: data: .*keys.npz lacks array\(s\) x_train, y_train, x_test, y_test"),
    (["search", "dense_classifier", "--dir", "{tmp}/a_file/tune"], r"error: directory: cannot write to directory '.*a_file/tune'"),
    (["cv", "dense_classifier", "--out", "{tmp}/a_file/out"], r"error: --out: cannot write to directory '.*a_file/out'"),
    (["search", "dense_classifier", "--set", "dropout=" + "-" * 100_000 + "1"], r"error: --set: dropout: the value \(100001 characters\) is nested too deeply"),
    (["cv", "dense_classifier", "--set", "dropout=" + "(" * 3000 + "1" + ")" * 3000], r"error: dropout must be a number, got '\(\(\("),
    (["search", "dense_classifier", "--data", "{tmp}/complex.npz"], r"error: x_train must hold real numbers, got complex dtype complex"),
    (["search", "dense_classifier", "--algorithm", "annealing"], r"error: algorithm must be one of 'random', 'grid', 'bayesian', 'hyperband'; got 'annealing'"),
    (["search", "dense_classifier", "--max-epochs", "5"], r"error: max_epochs: only for algorithm='hyperband' \(got algorithm='random'\)"),
    (["search", "dense_classifier", "--algorithm", "grid", "--max-trials", "5"], r"error: max_trials: the grid has \d+ points, more than max_trials=5; raise max_trials to \d+ or search fewer"),
    (["search", "dense_classifier", "--prune", "--folds", "1"], r"error: prune: pruning stops a trial between folds, so it needs k-fold cross-validation with k >= 2; got 1 fold"),
    (["search", "dense_classifier", "--max-time", "soon"], r"error: --max-time must be a positive number of seconds or a duration such as '90s', '20m', '1h30m', '2h', got 'soon'"),
    (["search", "dense_classifier", "--algorithm", "hyperband"], r"error: --epochs: not accepted with --algorithm hyperband"),
]


def _bad_files(tmp_path):
    """A truncated .npz, one without the expected arrays, and a file where a folder should be."""
    np.savez(tmp_path / "good.npz", x_train=X, y_train=Y, x_test=X, y_test=Y)
    data = (tmp_path / "good.npz").read_bytes()
    (tmp_path / "truncated.npz").write_bytes(data[: len(data) // 2])
    np.savez(tmp_path / "keys.npz", x=X)
    np.savez(tmp_path / "complex.npz", x_train=X + 1j, y_train=Y, x_test=X, y_test=Y)
    (tmp_path / "a_file").write_text("not a folder")


@pytest.mark.parametrize("args,message", TUNING_CLI_CASES, ids=[" ".join(c[0][:3]) + f"-{i}" for i, c in enumerate(TUNING_CLI_CASES)])
def test_tuning_cli_bad_input(run_cli, tmp_path, args, message):
    from tuning.__main__ import main as tuning_main

    busy = _busy_port()
    try:
        _bad_files(tmp_path)
        mapping = {"{tmp}": str(tmp_path), "{busy}": str(busy.getsockname()[1])}
        argv = [a.replace(k, v) for a in args for k, v in [next(((k, v) for k, v in mapping.items() if k in a), ("", ""))]]
        if args[0] == "search":
            argv += ([] if "--dir" in argv else ["--dir", str(tmp_path / "tune")]) + ["--epochs", "1", "--quiet"]
        code, _, err = run_cli(tuning_main, *argv)
    finally:
        busy.close()
    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert __import__("re").search(message, err), err
    assert not os.environ.get("KERASTUNER_ORACLE_IP"), "the CLI left distributed mode switched on"
    assert not [p for p in (tmp_path / "tune").rglob("*") if p.is_file() and not p.name.startswith(".write-check")]


# ---------------------------------------------------------------- zoo.word2vec.train
# (case, corpus: a value or fn(tmp_path) -> value, settings, error type, message regex)
def _latin1_file(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("caf\xe9 au lait\n".encode("latin-1"))
    return str(path)


def _one_shot(tmp_path):
    return (doc for doc in [["a", "b"]] * 10)


def _folder_without_text(tmp_path):
    folder = tmp_path / "texts"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "table.csv").write_text("a,b\n", encoding="utf-8")
    (folder / ".hidden.txt").write_text("hidden words\n", encoding="utf-8")
    return str(folder)


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
    ("engine setting", "lee", {"chunk_words": 1000}, ValueError, r"chunk_words must be a multiple of block_size \* parts \(64 \* 1\), got 1000"),
    ("folder without text files", _folder_without_text, {}, ValueError,
     r"corpus: folder '.*texts' has no text files \(a text file ends in \.txt, \.text, \.cor; searched recursively, "
     r"hidden ones skipped\)"),
    ("missing folder", "/nonexistent/corpus_dir/", {}, FileNotFoundError,
     r"corpus: no such file '/nonexistent/corpus_dir' \(give a text file, a folder of text files, 'reuters' or 'lee'\)"),
    ("unknown tokenizer", "lee", {"tokenizer": "words"}, ValueError, r"tokenizer must be one of 'simple', 'whitespace', got 'words'"),
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
    (["train", "--corpus", "lee", "--set", "chunk_words=" + "+" * 50_000 + "1", "--out", "{out}"],
     r"error: --set: chunk_words: the value \(50001 characters\) is nested too deeply to parse"),
    (["train", "--corpus", "{tmp}/readonly", "--out", "{out}"], r"error: corpus: folder '.*readonly' has no text files"),
    (["train", "--corpus", "{tmp}/missing_dir/", "--out", "{out}"], r"error: corpus: no such file '.*missing_dir'"),
    (["train", "--corpus", "lee", "--tokenizer", "words", "--out", "{out}"], r"error: tokenizer must be one of 'simple', 'whitespace', got 'words'"),
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


# ---------------------------------------------------------------- python -m zoo evaluate on a damaged run directory
# (case, damage(run_dir), message regex). The run is trained once; each row damages a copy.
def _truncate(name, keep=0.5):
    def damage(run):
        data = (run / name).read_bytes()
        (run / name).write_bytes(data[: int(len(data) * keep)])
    return damage


def _json_file(name, value):
    def damage(run):
        (run / name).write_text(__import__("json").dumps(value))
    return damage


def _config_without(key):
    def damage(run):
        import json

        config = json.loads((run / "config.json").read_text())
        del config[key]
        (run / "config.json").write_text(json.dumps(config))
    return damage


DAMAGED_RUN_CASES = [
    ("truncated model.keras", _truncate("model.keras"), r"error: run_dir: .*model.keras is damaged: \d+ bytes, run.json says \d+ \(truncated\)"),
    ("empty model.keras", _truncate("model.keras", 0), r"error: run_dir: .*model.keras is damaged: 0 bytes, run.json says \d+ \(empty\)"),
    ("config.json without a key", _config_without("seed"), r"error: run_dir: .*config.json lacks the key\(s\) 'seed'"),
    ("config.json not an object", _json_file("config.json", [1, 2]), r"error: run_dir: .*config.json must hold a JSON object, got a list"),
    ("truncated config.json", _truncate("config.json"), r"error: run_dir: .*config.json is not valid JSON, probably truncated"),
    ("no manifest", lambda run: (run / "run.json").unlink(), r"error: run_dir: .*run.json not found: it was written before run directories had manifests"),
    ("damaged manifest", _truncate("run.json"), r"error: run_dir: .*run.json is damaged \(JSONDecodeError"),
    ("listed file deleted", lambda run: (run / "history.json").unlink(), r"error: run_dir: .*history.json is missing \(listed in run.json\)"),
    ("model from another run", lambda run: (run / "model.keras").write_bytes((run / "model.keras").read_bytes()[::-1]),
     r"error: run_dir: .*model.keras is damaged: its content differs from what run.json records"),
]


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("finished") / "run"
    training.train("dense_classifier", out=out, epochs=1, verbose=0)
    return out


@pytest.mark.parametrize("case,damage,message", DAMAGED_RUN_CASES, ids=[c[0] for c in DAMAGED_RUN_CASES])
def test_zoo_evaluate_damaged_run(run_cli, tmp_path, finished_run, case, damage, message):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    damage(run)
    code, _, err = run_cli(zoo_main, "evaluate", run)
    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert __import__("re").search(message, err), err


# ---------------------------------------------------------------- python -m tuning search on damaged state files
# (case, damage(project_dir), message regex). One finished search, copied and damaged per row; the
# same command then names the file and changes nothing.
def _trial_json(project):
    return sorted(project.glob("trial_*/trial.json"))[0]


def _empty(find):
    return lambda project: find(project).write_text("")


def _cut(find):
    def damage(project):
        path = find(project)
        path.write_text(path.read_text()[:60])
    return damage


def _delete(find):
    return lambda project: find(project).unlink()


def _set(find, key, value):
    """Set ``key`` of the JSON object in the file to ``value`` (None: remove the key)."""
    def damage(project):
        path = find(project)
        doc = json.loads(path.read_text())
        doc.pop(key) if value is None else doc.__setitem__(key, value)
        path.write_text(json.dumps(doc))
    return damage


TUNING_STATE_CASES = [
    ("truncated oracle.json", _cut(lambda p: p / "oracle.json"), r"oracle.json is not valid JSON, probably truncated \(Expecting"),
    ("empty oracle.json", _empty(lambda p: p / "oracle.json"), r"oracle.json is empty \(a damaged tuning state file\)"),
    ("deleted oracle.json", _delete(lambda p: p / "oracle.json"), r"oracle.json is missing \(the search's state: which trials ran\)"),
    ("truncated trial.json", _cut(_trial_json), r"trial_\w+/trial.json is not valid JSON, probably truncated"),
    ("empty trial.json", _empty(_trial_json), r"trial_\w+/trial.json is empty"),
    ("deleted trial.json", _delete(_trial_json), r"trial_\w+/trial.json is missing \(oracle.json records trial \w+\)"),
    ("truncated search_config.json", _cut(lambda p: p / "search_config.json"), r"search_config.json is not valid JSON"),
    ("deleted search_config.json", _delete(lambda p: p / "search_config.json"), r"search_config.json is missing \(the settings a resumed search"),
    ("empty tuner0.json", _empty(lambda p: p / "tuner0.json"), r"tuner0.json is empty"),
    ("oracle.json not an object", lambda p: (p / "oracle.json").write_text("[]"), r"oracle.json must hold a JSON object, got a list"),
    # Keys of the right name but the wrong kind, or missing: each named with its file (issue 27).
    ("oracle.json ongoing_trials garbage", _set(lambda p: p / "oracle.json", "ongoing_trials", "garbage"),
     r"oracle.json: 'ongoing_trials' must be a JSON object of tuner id -> trial id, got \"garbage\""),
    ("oracle.json without tried_so_far", _set(lambda p: p / "oracle.json", "tried_so_far", None),
     r"oracle.json lacks the key\(s\) 'tried_so_far'"),
    ("oracle.json seed_state abc", _set(lambda p: p / "oracle.json", "seed_state", "abc"),
     r"oracle.json: 'seed_state' must be an integer, got \"abc\""),
    ("oracle.json ongoing trial without a file", _set(lambda p: p / "oracle.json", "ongoing_trials", {"tuner0": "7"}),
     r"trial_7/trial.json is missing \(oracle.json records trial 7\)"),
    ("trial.json score high", _set(_trial_json, "score", "high"), r"trial.json: 'score' must be a number or null, got \"high\""),
    ("trial.json status BOGUS", _set(_trial_json, "status", "BOGUS"),
     r"trial.json: 'status' must be one of RUNNING, IDLE, INVALID, STOPPED, COMPLETED, FAILED, got \"BOGUS\""),
    ("trial.json without metrics", _set(_trial_json, "metrics", None), r"trial.json lacks the key\(s\) 'metrics'"),
]
TUNING_STATE_ARGS = ["search", "dense_classifier", "--max-trials", "1", "--folds", "2", "--epochs", "1", "--quiet"]


@pytest.fixture(scope="module")
def finished_search(tmp_path_factory):
    from zoo import cli
    from tuning.__main__ import main as tuning_main

    tune = tmp_path_factory.mktemp("search") / "tune"
    assert cli.run_cli(tuning_main, [*TUNING_STATE_ARGS, "--dir", str(tune)]) == 0
    return tune


@pytest.mark.parametrize("case,damage,message", TUNING_STATE_CASES, ids=[c[0] for c in TUNING_STATE_CASES])
def test_tuning_search_damaged_state(run_cli, tmp_path, finished_search, case, damage, message):
    import shutil

    from tuning.__main__ import main as tuning_main

    tune = tmp_path / "tune"
    shutil.copytree(finished_search, tune)
    damage(tune / "dense_classifier")
    before = {p: p.read_bytes() for p in tune.rglob("*") if p.is_file()}
    code, _, err = run_cli(tuning_main, *TUNING_STATE_ARGS, "--dir", tune)
    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert __import__("re").search(r"error: directory: .*" + message + r".*; start the search anew with --overwrite", err), err
    assert {p: p.read_bytes() for p in tune.rglob("*") if p.is_file()} == before, "a refused resume changed the state"


# ---------------------------------------------------------------- python -m zoo train --strategy (tf.distribute)
def _closed_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# (args, TF_CONFIG or None, message). "{closed}" is a port nothing listens on.
DISTRIBUTE_CLI_CASES = [
    (["--strategy", "horovod"], None, r"error: strategy must be one of 'default', 'mirrored', 'multi_worker'; got 'horovod'"),
    (["--strategy", "multi_worker", "--workers", "10.0.0.1:2222,10.0.0.2", "--task-index", "0"], None,
     r"error: --workers: '10.0.0.2' is not a worker address; give host:port with a port in 1..65535"),
    (["--strategy", "multi_worker", "--workers", "a:1,a:1", "--task-index", "0"], None, r"error: --workers: a:1 appears more than once"),
    (["--strategy", "multi_worker", "--workers", "a:1,b:2", "--task-index", "2"], None,
     r"error: --task-index must be an integer in 0..1 \(this worker's position in --workers, 2 workers\), got 2"),
    (["--strategy", "multi_worker", "--workers", "a:1,b:2"], None, r"error: --workers needs --task-index"),
    (["--workers", "a:1,b:2", "--task-index", "0"], None, r"error: --workers applies to --strategy multi_worker only"),
    (["--strategy", "multi_worker"], None, r"error: TF_CONFIG is not set; --strategy multi_worker needs the cluster"),
    (["--strategy", "multi_worker"], '{"cluster": {"worker": ["a:1"]}', r"error: TF_CONFIG is not valid JSON \(Expecting"),
    (["--strategy", "multi_worker"], '{"task": {"type": "worker", "index": 0}}', r"error: TF_CONFIG has no 'cluster'"),
    (["--strategy", "multi_worker"], '{"cluster": {"worker": ["a:1"]}}', r"error: TF_CONFIG has no 'task'"),
    (["--strategy", "multi_worker"], '{"cluster": {"ps": ["a:1"]}, "task": {"type": "ps", "index": 0}}',
     r"error: TF_CONFIG: 'cluster' has no 'worker' or 'chief' job"),
    (["--strategy", "multi_worker"], '{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 1}}',
     r"error: TF_CONFIG: task index must be an integer in 0..0 for job 'worker', got 1"),
    (["--strategy", "mirrored", "--cpu-devices", "100000"], None,
     r"error: cpu_devices must be an integer in 1..64, got 100000: each logical device is a replica started one after "
     r"the other .* they add no speed$"),
    (["--strategy", "multi_worker", "--workers", "127.0.0.1:{free},127.0.0.1:{closed}", "--task-index", "0",
      "--worker-timeout", "0.5"], None,
     r"error: --workers: worker 127.0.0.1:\d+ did not answer within 0.5 s \(--worker-timeout\)"),
]


@pytest.mark.parametrize("args,tf_config,message", DISTRIBUTE_CLI_CASES, ids=[f"strategy-{i}" for i in range(len(DISTRIBUTE_CLI_CASES))])
def test_zoo_train_strategy_bad_input(run_cli, tmp_path, monkeypatch, args, tf_config, message):
    if tf_config is None:
        monkeypatch.delenv("TF_CONFIG", raising=False)
    else:
        monkeypatch.setenv("TF_CONFIG", tf_config)
    ports = {"{free}": str(_closed_port()), "{closed}": str(_closed_port())}
    for key, value in ports.items():
        args = [a.replace(key, value) for a in args]
    out = tmp_path / "out"
    code, _, err = run_cli(zoo_main, "train", "dense_classifier", "--out", out, *args)
    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert __import__("re").search(message, err), err
    assert not (out.exists() and any(out.iterdir())), "nothing written"
