"""tuning: hypermodels, cross_validate, CVRandomSearch, TFDS folds and ``python -m tuning``, on tiny data.

The slow tests (the real iris search, killed processes, distributed workers)
are in tests/test_tuning_processes.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import keras
import keras_tuner
import numpy as np
import pytest
from sklearn.model_selection import GroupKFold, KFold, StratifiedKFold

import zoo
from tuning import CVRandomSearch, TFDSFolds, classifiers, cross_validate, holdout, hypermodel
from tuning.__main__ import main as tuning_main
from tuning.cv import derive_seed
from tuning.folds import check_splits, make_splitter

IRIS = zoo.datasets.load("iris")
(X, Y), (XT, YT) = IRIS


def _values(hp_space):
    return {p.name: p for p in hp_space}


# =========================================================================== hypermodels
@pytest.mark.parametrize("name", classifiers())
def test_default_point_of_the_space_is_the_zoo_model(name):
    """Every hyperparameter's default is the zoo default: the default point builds the model `zoo train` builds."""
    hm = hypermodel(name)
    hp = keras_tuner.HyperParameters()
    model = hm.build(hp)
    resolved = zoo.registry.resolve(name)
    reference = zoo.create_model(name, **resolved.factory_kwargs)
    assert model.count_params() == reference.count_params()
    assert json.dumps(model.get_config(), default=str) == json.dumps(reference.get_config(), default=str)
    assert model.optimizer.get_config()["learning_rate"] == pytest.approx(reference.optimizer.get_config()["learning_rate"])
    assert type(model.optimizer) is type(reference.optimizer)
    entry = zoo.registry.get_entry(name)
    defaults = entry.defaults
    space = _values(hp.space)
    # Each hyperparameter's declared default, one by one, against the registry.
    assert space["batch_size"].default == entry.train.batch_size == resolved.batch_size
    for arg in ("activation", "optimizer", "kernel_initializer"):
        assert space[arg].default == defaults[arg], arg
    assert space["learning_rate"].default == resolved.learning_rate  # the square-root rule's, where one applies
    assert space["dropout"].default == defaults["dropout"]
    assert space["use_l2"].default is (defaults["l2"] > 0)
    widths = defaults.get("hidden_units") or defaults.get("filters")
    depth = space.get("num_layers") or space.get("num_stages")
    assert depth.default == len(widths)
    prefix = "units" if "hidden_units" in defaults else "filters"
    assert [space[f"{prefix}_{i + 1}"].default for i in range(len(widths))] == list(widths)


def test_search_space_follows_the_notes():
    space = _values(_space("dense_classifier"))
    assert space["activation"].values == ["relu", "tanh", "leaky_relu"]
    assert space["optimizer"].values == ["sgd", "momentum", "adagrad", "rmsprop", "adam"]
    assert space["kernel_initializer"].values == ["glorot_uniform", "he_normal"]
    assert space["learning_rate"].sampling == "log" and space["learning_rate"].min_value == 1e-4
    assert space["l2"].sampling == "log" and space["l2"].conditions  # only when use_l2 is on
    assert (space["num_layers"].min_value, space["num_layers"].max_value) == (1, 3)
    assert space["units_3"].conditions and space["units_1"].values == [2, 4, 8, 16]
    assert space["batch_size"].values == [4, 8, 16, 32]
    assert (space["dropout"].min_value, space["dropout"].max_value) == (0.0, 0.5)
    cnn = _values(_space("small_cnn"))
    assert cnn["num_stages"].max_value == 3  # 8x8 'same' convolutions survive three 2x2 poolings
    assert cnn["filters_2"].values == [16, 32, 64, 128]


def _space(name, **kwargs):
    hp = keras_tuner.HyperParameters()
    hypermodel(name, **kwargs).declare(hp)
    return hp.space


def test_a_sampled_point_builds_the_model_it_names():
    hm = hypermodel("dense_classifier")
    hp = keras_tuner.HyperParameters()
    hm.declare(hp)
    hp.values.update({"num_layers": 3, "units_1": 16, "units_2": 4, "units_3": 2, "activation": "tanh",
                      "dropout": 0.3, "use_l2": True, "l2": 1e-3, "learning_rate": 0.05, "optimizer": "momentum",
                      "kernel_initializer": "he_normal", "batch_size": 32})
    model = hm.build(hp)
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert [d.units for d in dense] == [16, 4, 2, 3]
    assert all(d.activation.__name__ == "tanh" for d in dense[:-1])
    assert all(isinstance(d.kernel_initializer, keras.initializers.HeNormal) for d in dense)
    assert dense[0].kernel_regularizer.get_config()["l2"] == pytest.approx(1e-3)
    assert [layer.rate for layer in model.layers if isinstance(layer, keras.layers.Dropout)] == [0.3] * 3
    assert isinstance(model.optimizer, keras.optimizers.SGD) and model.optimizer.momentum == 0.9
    assert float(model.optimizer.learning_rate) == pytest.approx(0.05)
    assert hm.batch_size(hp) == 32


def test_fixed_arguments_and_a_subset_of_the_space():
    hm = hypermodel("dense_classifier", tune=("learning_rate", "l2"), dropout=0.2, input_dim=64, num_classes=10)
    assert {p.name for p in _space("dense_classifier", tune=("learning_rate", "l2"))} == {"learning_rate", "use_l2", "l2"}
    model = hm.build(keras_tuner.HyperParameters())
    assert model.input_shape == (None, 64) and model.output_shape == (None, 10)
    assert [layer.rate for layer in model.layers if isinstance(layer, keras.layers.Dropout)] == [0.2, 0.2]
    assert "dropout" not in {p.name for p in _space("dense_classifier", dropout=0.2)}
    with pytest.raises(ValueError, match=r"tune: dense_classifier cannot search 'dropout'"):
        hypermodel("dense_classifier", tune=("dropout",), dropout=0.2)


# =========================================================================== folds and cross_validate
def test_validation_folds_are_stratified_even_on_class_sorted_data():
    (x, y), _ = zoo.datasets.load("iris", preprocess=False)
    order = np.argsort(y, kind="stable")  # sorted by class, as sklearn ships iris
    x, y = x[order], y[order]
    for tr, va in check_splits(make_splitter(5, seed=0), x, y):
        assert np.bincount(y[va]).tolist() == [8, 8, 8] and len(set(tr) & set(va)) == 0
    (tr, va), = check_splits(holdout(0.2, seed=0), x, y)
    assert np.bincount(y[va]).tolist() == [8, 8, 8]
    # Keras's validation_split (the last rows) or an unshuffled KFold would validate on one class: refused.
    with pytest.raises(ValueError, match=r"validation fold 1 of KFold.* holds a single class \(0\)"):
        check_splits(KFold(5), x, y)


def test_cross_validate_reports_each_fold_mean_and_std():
    cv = cross_validate("dense_classifier", X, Y, cv=2, epochs=1, seed=0)
    assert len(cv.folds) == 2
    assert set(cv.mean) == {"loss", "accuracy", "val_loss", "val_accuracy", "val_macro_f1"}  # top-5: > 5 classes only
    scores = cv.scores("val_accuracy")
    assert cv.mean["val_accuracy"] == pytest.approx(np.mean(scores)) and cv.std["val_accuracy"] == pytest.approx(np.std(scores))
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert "mean" in cv.summary() and cv.config["epochs"] == 1
    again = cross_validate("dense_classifier", X, Y, cv=2, epochs=1, seed=0)
    assert again.folds == cv.folds  # bit-identical with the same seed


class _Recorder:
    """A scikit-learn transformer that remembers the rows it was fitted on."""

    fitted_on: list = []

    def fit(self, x, y=None):
        _Recorder.fitted_on.append(x.copy())
        self.mean_ = x.mean(axis=0)
        return self

    def transform(self, x):
        return x - self.mean_

    def get_params(self, deep=True):
        return {}

    def set_params(self, **params):
        return self


class _InitialWeights(keras.callbacks.Callback):
    seen: list = []

    def on_train_begin(self, logs=None):
        _InitialWeights.seen.append([w.copy() for w in self.model.get_weights()])


def test_no_weights_or_statistics_leak_between_folds():
    _Recorder.fitted_on.clear()
    _InitialWeights.seen.clear()
    splitter = StratifiedKFold(3, shuffle=True, random_state=0)
    cross_validate("dense_classifier", X, Y, cv=splitter, epochs=1, seed=5, preprocess=_Recorder(),
                   callbacks=[_InitialWeights()])
    splits = list(splitter.split(X, Y))
    for i, (tr, va) in enumerate(splits):
        # The preprocessing saw exactly this fold's training rows, never its validation rows.
        np.testing.assert_array_equal(_Recorder.fitted_on[i], X[tr])
        # Each fold starts from a fresh model, initialised from the fold's own seed only.
        fresh = zoo.create_model("dense_classifier", seed=derive_seed(5, "fold", i)).get_weights()
        for got, want in zip(_InitialWeights.seen[i], fresh):
            np.testing.assert_array_equal(got, want)
    assert not np.array_equal(_InitialWeights.seen[0][0], _InitialWeights.seen[1][0])


def test_cross_validate_takes_any_splitter_and_a_build_function():
    calls = []

    def build(seed):
        calls.append(seed)
        return zoo.create_model("dense_classifier", hidden_units=(4,), seed=seed)

    groups = np.arange(len(Y)) % 4
    cv = cross_validate(build, X, Y, cv=GroupKFold(2), groups=groups, epochs=1)
    assert len(cv.folds) == 2 and len(set(calls[-2:])) == 2  # one model per fold, each with its own seed
    cv = cross_validate("dense_classifier", X, Y, cv=KFold(2, shuffle=True, random_state=0), epochs=1,
                        hidden_units=(4,))
    assert len(cv.folds) == 2


def _mock_mnist(n=40):
    """A ``mock_data`` dataset function that honours TFDS split slicing (``train[20%:40%]``...).

    Example ``i`` has label ``i % 10`` and its index in pixel (0, 0), so a test can
    see which examples each fold holds.
    """
    import tensorflow as tf
    import tensorflow_datasets as tfds
    from tensorflow_datasets.core import splits as splits_lib

    def as_dataset(self, split, decoders=None, read_config=None, shuffle_files=False, **kwargs):
        spec = tfds.core.ReadInstruction.from_spec(str(split))
        absolute = spec.to_absolute({"train": splits_lib.SplitInfo(name="train", shard_lengths=[n], num_bytes=0)})
        rows = np.concatenate([np.arange(n)[a.from_:a.to] for a in absolute])
        images = np.zeros((n, 28, 28, 1), np.uint8)
        images[:, 0, 0, 0] = np.arange(n)
        return tf.data.Dataset.from_tensor_slices({"image": images[rows], "label": (np.arange(n) % 10)[rows]})

    return tfds.testing.mock_data(as_dataset_fn=as_dataset)


def test_tfds_kfold_by_split_slicing():
    with _mock_mnist(n=40):
        folds = TFDSFolds("mnist", folds=4)
        assert folds.splits[1] == ("train[:25%]+train[50%:]", "train[25%:50%]")
        assert folds.feature_shape == (28, 28, 1) and folds.num_classes == 10
        seen = []
        for i in range(4):
            train, val = folds.load(i)
            val_ids = [int(round(float(x[0, 0, 0]) * 255)) for x, _ in val]
            train_ids = [int(round(float(x[0, 0, 0]) * 255)) for x, _ in train]
            assert len(val_ids) == 10 and sorted(train_ids + val_ids) == list(range(40))
            seen += val_ids
        assert sorted(seen) == list(range(40))  # the validation folds partition the split
        cv = cross_validate("small_cnn", TFDSFolds("mnist", folds=2), epochs=1, filters=(2,), batch_size=16)
        assert len(cv.folds) == 2 and 0.0 <= cv.mean["val_accuracy"] <= 1.0


def test_search_over_tfds_folds(tmp_path):
    with _mock_mnist(n=24):
        folds = TFDSFolds("mnist", folds=2)
        tuner = CVRandomSearch(hypermodel("small_cnn", input_shape=(28, 28, 1), filters=(2,), tune=("learning_rate",)),
                               max_trials=1, directory=tmp_path, project_name="tfds", seed=0)
        tuner.search(folds, epochs=1, verbose=0)
        (row,) = tuner.results()
        assert row["status"] == "COMPLETED" and len(row["folds"]) == 2


# =========================================================================== CVRandomSearch
def _search(directory, *, trials=2, seed=0, epochs=1, callbacks=None, **kwargs):
    tuner = CVRandomSearch(hypermodel("dense_classifier"), max_trials=trials, cv=2, seed=seed,
                           directory=directory, project_name="iris", **kwargs)
    tuner.search(X, Y, epochs=epochs, verbose=0, callbacks=callbacks)
    return tuner


@pytest.fixture(scope="module")
def finished_search(tmp_path_factory):
    """One small finished search, shared by the tests that only read it."""
    directory = tmp_path_factory.mktemp("search")
    tuner = _search(directory)
    tuner.write_results()
    return tuner, Path(tuner.project_dir)


def _trial_states(project: Path) -> dict:
    return {json.loads(p.read_text())["trial_id"]: json.loads(p.read_text()) for p in project.glob("trial_*/trial.json")}


def test_search_scores_each_trial_by_its_kfold_mean(finished_search):
    tuner, project = finished_search
    doc = json.loads((project / "results.json").read_text())
    assert doc["trials_completed"] == 2 and len(doc["trials"]) == 2
    for row in doc["trials"]:
        assert len(row["folds"]) == 2
        assert row["score"] == pytest.approx(np.mean(row["folds"])) and row["std"] == pytest.approx(np.std(row["folds"]))
    # Trial 0 is the zoo default, a baseline.
    first = doc["trials"][0]
    assert first["hyperparameters"] == {"num_layers": 2, "units_1": 8, "units_2": 8, "activation": "relu",
                                        "dropout": 0.0, "use_l2": False, "learning_rate": 0.001, "optimizer": "adam",
                                        "kernel_initializer": "glorot_uniform", "batch_size": 8}
    # Results agree with KerasTuner's own state, trial by trial.
    states = _trial_states(project)
    assert set(states) == {r["trial_id"] for r in doc["trials"]}
    for row in doc["trials"]:
        state = states[row["trial_id"]]
        assert state["status"] == row["status"] == "COMPLETED"
        assert state["score"] == pytest.approx(row["score"])
        assert state["hyperparameters"]["values"] == row["hyperparameters"]
    ranked = sorted(doc["trials"], key=lambda r: r["rank"])
    assert [r["score"] for r in ranked] == sorted((r["score"] for r in ranked), reverse=True)
    best = json.loads((project / "best_hyperparameters.json").read_text())
    assert best["trial_id"] == ranked[0]["trial_id"] == doc["best_trial"]
    csv = (project / "results.csv").read_text().splitlines()
    assert csv[0].startswith("rank,trial_id,status,val_accuracy_mean,val_accuracy_std,val_accuracy_fold1")
    assert len(csv) == 3
    assert (project / "scores.png").read_bytes()[:4] == b"\x89PNG"
    table = tuner.results_table().splitlines()
    assert table[0].startswith("rank  trial  val_accuracy mean") and table[2].startswith("1 ")


def test_same_seed_same_search_bit_for_bit(finished_search, tmp_path):
    tuner, project = finished_search
    again = _search(tmp_path)
    a = json.loads((project / "results.json").read_text())["trials"]
    b = json.loads((Path(again.project_dir) / "results.json").read_text())["trials"]
    strip = lambda rows: [{k: v for k, v in r.items() if k != "seconds"} for r in rows]  # noqa: E731
    assert strip(a) == strip(b)  # hyperparameters, every fold's metrics: identical on CPU


class _StopAfter(keras.callbacks.Callback):
    """Raise KeyboardInterrupt (Ctrl-C) in the middle of the n-th fit of the process."""

    fits = 0
    stop_at = 3

    def on_train_begin(self, logs=None):
        _StopAfter.fits += 1

    def on_epoch_end(self, epoch, logs=None):
        if _StopAfter.fits == _StopAfter.stop_at:
            raise KeyboardInterrupt


def test_interrupted_search_resumes_and_counts_every_trial_once(finished_search, tmp_path):
    _StopAfter.fits = 0
    with pytest.raises(KeyboardInterrupt):
        _search(tmp_path, callbacks=[_StopAfter()])  # stops during trial 1's first fold
    project = Path(tmp_path) / "iris"
    states = _trial_states(project)
    assert states["0"]["status"] == "COMPLETED" and states["1"]["status"] == "RUNNING"
    resumed = _search(tmp_path)  # the same call again
    doc = json.loads((project / "results.json").read_text())
    assert [r["trial_id"] for r in doc["trials"]] == ["0", "1"]
    assert all(r["status"] == "COMPLETED" for r in doc["trials"])
    assert [a["outcome"] for a in doc["trials"][1]["attempts"]] == ["interrupted", "completed"]
    # Same seeds for the re-run: the results equal those of the uninterrupted search.
    reference = json.loads((Path(finished_search[1]) / "results.json").read_text())["trials"]
    assert [r["folds"] for r in doc["trials"]] == [r["folds"] for r in reference]
    assert resumed.remaining_trials == 0


def test_resume_with_other_settings_is_refused_and_overwrite_starts_anew(finished_search, tmp_path):
    tuner = _search(tmp_path, trials=1)
    oracle_file = Path(tuner.project_dir) / "oracle.json"
    before = oracle_file.read_bytes()
    with pytest.raises(ValueError, match=r"holds a search with other settings \(epochs differ\).*overwrite=True"):
        _search(tmp_path, trials=1, epochs=2)
    assert oracle_file.read_bytes() == before
    CVRandomSearch(hypermodel("dense_classifier"), max_trials=1, cv=2, directory=tmp_path, project_name="iris",
                   overwrite=True)
    assert not oracle_file.exists() and not (Path(tuner.project_dir) / "trial_0").exists()


def test_retrain_best_and_holdout_search(tmp_path):
    tuner = CVRandomSearch("dense_classifier", max_trials=2, cv=holdout(0.2), directory=tmp_path, project_name="h")
    tuner.search(X, Y, epochs=1, verbose=0)
    assert all(len(r["folds"]) == 1 for r in tuner.results())
    best = tuner.retrain_best(X, Y, epochs=1)
    metrics = best.evaluate(XT, YT)
    assert set(metrics) == {"loss", "accuracy"} and best.predict(XT).shape == (30, 3)
    with pytest.raises(NotImplementedError, match="retrain_best"):
        tuner.get_best_models()


def test_tensorboard_logs_with_hparams(tmp_path):
    import tensorflow as tf

    tuner = _search(tmp_path, trials=1, tensorboard=True)
    logs = Path(tuner.project_dir) / "tensorboard" / "0"
    assert {p.name for p in logs.iterdir()} == {"execution0", "execution1", "cv"}
    tags, scalars = set(), {}
    for event_file in logs.rglob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(event_file)):
            for value in event.summary.value:
                tags.add(value.tag)
                if value.tag.startswith("cv_"):
                    scalars[value.tag] = float(tf.make_ndarray(value.tensor))
    assert "_hparams_/session_start_info" in tags  # the HParams dashboard's sessions
    assert scalars["cv_val_accuracy_mean"] == pytest.approx(tuner.results()[0]["score"], abs=1e-6)


# =========================================================================== python -m tuning
def test_cli_search_then_resume(run_cli, tmp_path):
    args = ["search", "dense_classifier", "--max-trials", 1, "--folds", 2, "--epochs", 1, "--dir", tmp_path, "--quiet"]
    code, out, err = run_cli(tuning_main, *args)
    assert code == 0, err
    project = tmp_path / "dense_classifier"
    assert re.search(r"^rank\s+trial\s+val_accuracy mean\s+std\s+folds", out, re.M)
    assert re.search(r"Best: trial \d, val_accuracy [\d.]+ ± [\d.]+ over the folds; retrained on all 120", out)
    final = json.loads((project / "final.json").read_text())
    assert final["test_samples"] == 30 and 0.0 <= final["test_accuracy"] <= 1.0
    for name in ("results.csv", "results.json", "best_hyperparameters.json", "scores.png", "best_model.keras"):
        assert (project / name).is_file(), name
    stamp = (project / "final.json").stat().st_mtime_ns
    code, out, err = run_cli(tuning_main, *args)  # same command, same directory: resumes, nothing left to do
    assert code == 0, err
    assert len(json.loads((project / "results.json").read_text())["trials"]) == 1
    assert (project / "final.json").stat().st_mtime_ns == stamp  # the test set was used once


def test_cli_cv(run_cli, tmp_path):
    code, out, err = run_cli(tuning_main, "cv", "dense_classifier", "--folds", 2, "--epochs", 1, "--out", tmp_path,
                             "--quiet")
    assert code == 0, err
    assert re.search(r"val_accuracy [\d.]+ ± [\d.]+ \(mean ± std over 2 folds\)", out)
    doc = json.loads((tmp_path / "cv.json").read_text())
    assert len(doc["folds"]) == 2 and doc["config"]["preprocess"] == "StandardScaler()"  # refitted per fold


# =========================================================================== diverging training
def _diverging(hp):
    """SGD at a learning rate of 1e6: the loss becomes NaN within two epochs."""
    lr = hp.Fixed("learning_rate", 1e6)
    return zoo.create_model("dense_classifier", optimizer="sgd", learning_rate=lr)


def test_a_diverging_fold_stops_with_a_clear_error():
    with pytest.raises(FloatingPointError, match=r"fold 1: training diverged at epoch \d+ \(loss became NaN or "
                                                 r"infinite\); lower the learning rate"):
        cross_validate(lambda: _diverging(keras_tuner.HyperParameters()), X, Y, cv=2, epochs=5)


def test_a_diverging_trial_is_recorded_as_failed_and_the_search_goes_on(tmp_path):
    tuner = CVRandomSearch(_diverging, max_trials=1, cv=2, directory=tmp_path, project_name="nan")
    tuner.search(X, Y, epochs=5, verbose=0)
    doc = tuner.write_results()
    (row,) = doc["trials"]
    assert row["status"] == "FAILED" and row["score"] is None and doc["best_trial"] is None
    assert re.search(r"trial 0: fold 1: training diverged at epoch \d+ \(loss became NaN", row["message"])
    assert tuner.remaining_trials == 0  # counted once, not retried


def test_ctrl_c_that_tensorflow_turns_into_another_error_still_interrupts_the_search(tmp_path, monkeypatch):
    # Seen in a real run: Ctrl-C during tracing came out of fit as "RuntimeError: Exiting
    # variable_creator_scope without proper nesting", and KerasTuner recorded a failed trial and went on.
    import signal

    import tuning.cv

    def interrupted_fold(*args, **kwargs):
        try:
            signal.raise_signal(signal.SIGINT)
        except KeyboardInterrupt:
            raise RuntimeError("Exiting variable_creator_scope without proper nesting.") from None

    monkeypatch.setattr(tuning.cv, "run_fold", interrupted_fold)
    # Python's own Ctrl-C handler, whatever this process inherited: started in the background by a
    # non-interactive shell, SIGINT is ignored and Ctrl-C could not interrupt anything.
    inherited = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt, match="trial 0 interrupted"):
            _search(tmp_path, trials=1)
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # Python's own handler is back
    finally:
        signal.signal(signal.SIGINT, inherited)
    assert _trial_states(Path(tmp_path) / "iris")["0"]["status"] == "RUNNING"  # resumable, not FAILED
