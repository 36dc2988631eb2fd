"""CVTuner: every KerasTuner algorithm with k-fold cross-validation, fold pruning and a time budget.

The searches run on iris with one epoch per fold (what is checked is the
bookkeeping: scores, trial 0, resume, pruning, the stop on time, Hyperband's
continued folds); the slow test holds each algorithm to an accuracy bar on digits.
"""

from __future__ import annotations

import csv
import json
import types

import keras
import keras_tuner
import numpy as np
import pytest

import zoo
from tests.test_fast_commands import run_command
from tuning import CVTuner, hypermodel, options
from tuning import _oracle, search as search_mod
from tuning.search import grid_size


@pytest.fixture(scope="module")
def iris():
    (x, y), _ = zoo.datasets.load("iris")
    return x, y


# --------------------------------------------------------------------------- memory of long searches
def _gradient_functions() -> int:
    from tensorflow.python.framework import ops

    return sum(name.startswith("CustomGradient-") for name in ops._gradient_registry._registry)


def test_finished_folds_leave_no_traced_step_behind(iris, tmp_path):
    # Each fold's traced training step registered a gradient function (holding the whole step graph) in
    # TensorFlow's process-wide registry, never removed: ~13 MB a trial (issue 27; bench/search_memory.py).
    x, y = iris
    before = _gradient_functions()
    tuner = CVTuner(hypermodel("dense_classifier"), max_trials=2, cv=2, seed=0, directory=tmp_path, project_name="m")
    tuner.search(x, y, epochs=1, verbose=0)
    from tuning import cross_validate

    cross_validate("dense_classifier", x, y, cv=2, epochs=1, seed=0)
    assert [r["status"] for r in tuner.results()] == ["COMPLETED", "COMPLETED"]
    assert _gradient_functions() == before, "a finished fold's step graph is still registered"


# --------------------------------------------------------------------------- the pruning rule
def test_median_rule_prunes_a_trial_worse_than_the_median_of_the_others_at_the_same_fold():
    others = [0.80, 0.90, 0.60, 0.85, 0.70]  # median 0.80
    assert options.median_rule(0.75, others, "max", completed=5, warmup=5)
    assert not options.median_rule(0.80, others, "max", completed=5, warmup=5)   # equal to the median: kept
    assert not options.median_rule(0.81, others, "max", completed=5, warmup=5)
    assert not options.median_rule(0.10, others, "max", completed=4, warmup=5)   # still warming up
    assert not options.median_rule(0.10, [], "max", completed=9, warmup=5)       # nothing to compare with
    losses = [0.3, 0.5, 0.4]                                                     # median 0.4; lower is better
    assert options.median_rule(0.45, losses, "min", completed=3, warmup=1)
    assert not options.median_rule(0.35, losses, "min", completed=3, warmup=1)
    assert options.median_rule(0.5, [0.6, float("nan"), 0.7], "max", completed=2, warmup=1)  # NaN ignored
    with pytest.raises(ValueError, match="direction must be 'max' or 'min'"):
        options.median_rule(0.5, others, "up", completed=5)


@pytest.mark.parametrize("value,seconds", [("90", 90), (45, 45), (2.5, 2.5), ("20m", 1200), ("1h30m", 5400),
                                           ("2h", 7200), ("1.5h", 5400), ("90s", 90), ("1d", 86400), ("10 min", 600)])
def test_parse_duration(value, seconds):
    assert options.parse_duration("max_time", value) == seconds


@pytest.mark.parametrize("value", ["soon", "", "-5", "0", "5x", "m", "1h30", 0, -1, float("inf"), True])
def test_parse_duration_refuses_what_is_not_a_duration(value):
    with pytest.raises((ValueError, TypeError), match="max_time must be a positive number of seconds or a duration"):
        options.parse_duration("max_time", value)


def test_grid_size_counts_what_kerastuners_grid_search_visits(tmp_path):
    """The count (conditional branches included) equals the trials GridSearchOracle itself creates."""
    hp = keras_tuner.HyperParameters()
    layers = hp.Int("layers", 1, 2)
    for i in range(2):
        with hp.conditional_scope("layers", list(range(i + 1, 3))):
            hp.Choice(f"units_{i}", [4, 8, 16], default=8)
    hp.Choice("activation", ["relu", "tanh"])
    hp.Float("dropout", 0.0, 0.2, step=0.1)
    use = hp.Boolean("use_l2")
    with hp.conditional_scope("use_l2", [True]):
        hp.Choice("l2", [1e-4, 1e-3])
    del layers, use
    expected = (3 + 3 * 3) * 2 * 3 * (1 + 2)  # layers 1: 3 widths, 2: 3x3; activation; dropout; l2 off, or on x 2
    oracle = keras_tuner.oracles.GridSearchOracle(objective="val_accuracy", max_trials=10_000, hyperparameters=hp)
    oracle._set_project_dir(tmp_path, "grid")
    seen = 0
    while True:
        trial = oracle.create_trial("t")
        if trial.status != "RUNNING":
            break
        seen += 1
        trial.status = "COMPLETED"
        oracle.update_trial(trial.trial_id, {"val_accuracy": 0.5})
        oracle.end_trial(trial)
    assert seen == expected
    assert grid_size(hp) == expected


# --------------------------------------------------------------------------- every algorithm, end to end
class _Fits(keras.callbacks.Callback):
    """Records every fit (a class-level list: the tuner deep-copies its callbacks for each fold);
    the ``stop_after``-th fit advances the test's clock past the time budget."""

    log: list = []
    stop_after = None
    clock = None

    def on_train_begin(self, logs=None):
        self._first_epoch = None
        self._start = [w.copy() for w in self.model.get_weights()]
        self._step = int(self.model.optimizer.iterations.numpy())

    def on_epoch_begin(self, epoch, logs=None):
        if self._first_epoch is None:
            self._first_epoch = epoch

    def on_train_end(self, logs=None):
        type(self).log.append({"first_epoch": self._first_epoch, "start": self._start,
                               "end": [w.copy() for w in self.model.get_weights()],
                               "optimizer_start": self._step,
                               "optimizer_end": int(self.model.optimizer.iterations.numpy())})
        if len(type(self).log) == type(self).stop_after:
            type(self).clock.now += 1e6  # the budget is spent while this fold finishes


class _Clock:
    """``time.monotonic`` for the tuner and oracle, moved on by the test instead of the wall clock."""

    def __init__(self):
        import time

        self.now = 0.0
        self.module = types.SimpleNamespace(monotonic=lambda: self.now, perf_counter=time.perf_counter,
                                            sleep=time.sleep, strftime=time.strftime)


CASES = {
    # algorithm: (tuner arguments, trials, the fit after which the budget is spent)
    "random": ({"max_trials": 3}, 3, 1),         # spent after fold 1 of trial 0: the fold check stops it
    "grid": ({}, 3, 1),                          # the grid of activations: 3 points
    "bayesian": ({"max_trials": 3, "num_initial_points": 2}, 3, 3),  # after trial 0: no new trial starts
    "hyperband": ({"max_epochs": 3, "max_trials": 4}, 4, 3),         # 3 trials of 1 epoch, then one continued to 3
}


@pytest.mark.parametrize("algorithm", list(CASES))
def test_every_algorithm_cross_validates_stops_on_time_and_resumes(iris, tmp_path, monkeypatch, algorithm):
    x, y = iris
    kwargs, trials, stop_after = CASES[algorithm]
    clock = _Clock()
    monkeypatch.setattr(search_mod, "time", clock.module)
    monkeypatch.setattr(_oracle, "time", clock.module)
    monkeypatch.setattr(_Fits, "log", [])
    monkeypatch.setattr(_Fits, "stop_after", stop_after)
    monkeypatch.setattr(_Fits, "clock", clock)
    tune = ("activation",) if algorithm == "grid" else None
    fit = {} if algorithm == "hyperband" else {"epochs": 1}

    def tuner(max_time=None):
        return CVTuner(hypermodel("dense_classifier", tune=tune), algorithm=algorithm, cv=3, seed=1, max_time=max_time,
                       directory=tmp_path, project_name="p", **kwargs)

    # 1. A budget spent by the `stop_after`-th fold: that fold finishes, nothing else starts.
    first = tuner(max_time="1h")
    first.search(x, y, callbacks=[_Fits()], verbose=0, **fit)
    doc = json.loads((tmp_path / "p" / "results.json").read_text())
    assert doc["stopped"]["reason"] == "max_time" and doc["algorithm"] == algorithm
    assert len(_Fits.log) == stop_after
    assert doc["trials_completed"] == (1 if stop_after == 3 else 0)

    # 2. The same search again, without a budget: it continues; finished folds are not trained again.
    second = tuner()
    second.search(x, y, callbacks=[_Fits()], verbose=0, **fit)
    second.write_results()
    rows = {r["trial_id"]: r for r in second.results()}
    assert len(rows) == trials and all(r["status"] == "COMPLETED" for r in rows.values())
    assert len(_Fits.log) == 3 * trials  # every fold of every trial trained once, across the two runs
    for r in rows.values():
        assert len(r["folds"]) == 3 and r["score"] == pytest.approx(np.mean(r["folds"]))  # score = k-fold mean
        assert r["std"] == pytest.approx(np.std(r["folds"]))
        assert [a["outcome"] for a in r["attempts"]][-1] == "completed"
    first_id = second.oracle.start_order[0]
    # Trial 0 is the zoo default configuration (a grid starts there too).
    defaults = second.oracle.default_values()
    assert {k: v for k, v in rows[first_id]["hyperparameters"].items() if not k.startswith("tuner/")} == defaults
    doc = json.loads((tmp_path / "p" / "results.json").read_text())
    assert doc["stopped"] is None and doc["best_trial"] == second.results()[0]["trial_id"]
    with open(tmp_path / "p" / "results.csv", newline="") as f:
        assert sorted(r["trial_id"] for r in csv.DictReader(f)) == sorted(rows)
    assert (tmp_path / "p" / "scores.png").stat().st_size > 0
    if algorithm == "grid":
        assert sorted(r["hyperparameters"]["activation"] for r in rows.values()) == ["leaky_relu", "relu", "tanh"]
    if algorithm == "hyperband":
        # The last trial continues the best 1-epoch trial: each fold starts from that fold's final
        # weights in the earlier trial (Keras counts on from epoch 1), and trains to epoch 3.
        cont = rows[second.oracle.start_order[-1]]["hyperparameters"]
        assert cont["tuner/epochs"] == 3 and cont["tuner/initial_epoch"] == 1
        parent = second.oracle.start_order.index(cont["tuner/trial_id"])
        for i in range(3):
            before, after = _Fits.log[3 * parent + i], _Fits.log[9 + i]
            assert after["first_epoch"] == 1
            assert all(np.array_equal(a, b) for a, b in zip(after["start"], before["end"]))
            assert after["optimizer_start"] == before["optimizer_end"] > 0  # the optimizer's step count goes on
        assert second.best_epochs(second.oracle.trials[cont["tuner/trial_id"]]) == 1


def test_pruned_trials_stop_early_are_recorded_and_never_best(iris, tmp_path):
    """Random search with pruning: trials worse than the median after a fold stop there."""
    x, y = iris
    tuner = CVTuner(hypermodel("dense_classifier"), max_trials=6, cv=3, seed=0, prune=True, prune_warmup=2,
                    directory=tmp_path, project_name="p")
    tuner.search(x, y, epochs=1, verbose=0)
    rows = tuner.results()
    pruned = [r for r in rows if r["status"] == "PRUNED"]
    assert pruned, tuner.results_table()
    assert rows[0]["status"] == "COMPLETED"
    for r in pruned:
        assert 1 <= len(r["folds"]) < 3 and r["score"] == pytest.approx(np.mean(r["folds"]))
        assert tuner.oracle.trials[r["trial_id"]].status == "STOPPED"  # KerasTuner's status; flagged pruned
        assert r["attempts"][-1]["outcome"] == "pruned"
    assert tuner.oracle.get_best_trials(1)[0].trial_id == rows[0]["trial_id"]
    assert "pruned" in tuner.results_table()
    doc = json.loads((tmp_path / "p" / "results.json").read_text())
    assert doc["trials_pruned"] == len(pruned) and doc["fold_fits"] == sum(len(r["folds"]) for r in rows) < 18


def test_cli_search_stops_on_time_then_the_same_command_finishes(run_cli, tmp_path):
    """``--max-time`` spent before the first trial: nothing trains, the stop is reported; the same command
    without the budget runs the search (Bayesian, pruned) to its end and retrains the best."""
    from tuning.__main__ import main as tuning_main

    args = ["search", "dense_classifier", "--algorithm", "bayesian", "--prune", "--folds", 2, "--epochs", 1,
            "--max-trials", 2, "--dir", tmp_path, "--quiet"]
    code, out, err = run_cli(tuning_main, *args, "--max-time", "0.001s")
    assert code == 0, err
    assert "Stopped on time (--max-time 0.001s)" in out and "the same command continues" in out
    doc = json.loads((tmp_path / "dense_classifier" / "results.json").read_text())
    # The budget can run out before the first trial is handed out or just after (then that trial is put back,
    # outcome max_time, to run on resume): either way no fold trained.
    assert doc["stopped"]["reason"] == "max_time"
    assert all(t["folds"] == [] and t["status"] != "COMPLETED" for t in doc["trials"]), doc["trials"]
    code, out, err = run_cli(tuning_main, *args)
    assert code == 0, err
    assert "Bayesian search of dense_classifier" in out and "Best: trial" in out
    doc = json.loads((tmp_path / "dense_classifier" / "results.json").read_text())
    assert doc["stopped"] is None and doc["algorithm"] == "bayesian" and doc["trials_completed"] == 2
    assert (tmp_path / "dense_classifier" / "final.json").is_file()


# --------------------------------------------------------------------------- bad input (API)
@pytest.mark.parametrize("kwargs,error,message", [
    ({"algorithm": "annealing"}, ValueError, r"algorithm must be one of 'random', 'grid', 'bayesian', 'hyperband'; got 'annealing'"),
    ({"max_epochs": 5}, ValueError, r"max_epochs: only for algorithm='hyperband' \(got algorithm='random'\)"),
    ({"algorithm": "grid", "max_trials": 2}, ValueError, r"max_trials: the grid has 3 points, more than max_trials=2"),
    ({"prune": True, "cv": 1}, ValueError, r"cv must be a number of folds >= 2"),
    ({"prune": True, "cv": "holdout"}, ValueError, r"prune: pruning stops a trial between folds, so it needs k-fold"),
    ({"max_time": "soon"}, ValueError, r"max_time must be a positive number of seconds or a duration"),
    ({"prune": "yes"}, TypeError, r"prune must be True or False"),
])
def test_cvtuner_bad_input_writes_nothing(tmp_path, kwargs, error, message):
    from tuning import holdout

    kwargs = {"cv": 2, **kwargs}
    if kwargs["cv"] == "holdout":
        kwargs["cv"] = holdout(0.2)
    with pytest.raises(error, match=message):
        CVTuner(hypermodel("dense_classifier", tune=("activation",)), directory=tmp_path / "tune", project_name="p",
                **kwargs)
    assert not (tmp_path / "tune" / "p").exists()


def test_a_whole_model_grid_needs_max_trials_or_a_narrower_space(tmp_path):
    # Run whole by default, dense_classifier's full grid (millions of points) would never end.
    with pytest.raises(ValueError, match=r"algorithm='grid': the grid has 6,652,800 points \(more than 10,000\); "
                                         r"search fewer hyperparameters"):
        CVTuner(hypermodel("dense_classifier"), algorithm="grid", cv=2, directory=tmp_path / "tune", project_name="p")
    assert not (tmp_path / "tune" / "p").exists()


def test_hyperband_search_refuses_epochs(iris, tmp_path):
    tuner = CVTuner("dense_classifier", algorithm="hyperband", max_epochs=2, cv=2, directory=tmp_path, project_name="p")
    with pytest.raises(ValueError, match=r"epochs: not accepted with algorithm='hyperband'.*max_epochs=2"):
        tuner.search(*iris, epochs=3, verbose=0)


# --------------------------------------------------------------------------- bad input (CLI), before TensorFlow
FAST_ERRORS = [
    (["--algorithm", "annealing"], "error: algorithm must be one of 'random', 'grid', 'bayesian', 'hyperband'; got 'annealing'"),
    (["--max-epochs", "5"], "error: max_epochs: only for algorithm='hyperband' (got algorithm='random')"),
    (["--algorithm", "grid", "--max-epochs", "5"], "error: max_epochs: only for algorithm='hyperband'"),
    (["--prune", "--folds", "1"], "error: prune: pruning stops a trial between folds, so it needs k-fold cross-validation with k >= 2; got 1 fold"),
    (["--prune", "--holdout", "0.2"], "error: --prune: pruning stops a trial between folds"),
    (["--max-time", "soon"], "error: --max-time must be a positive number of seconds or a duration such as"),
    (["--max-time=-5m"], "error: --max-time must be a positive number of seconds"),
    (["--algorithm", "hyperband", "--epochs", "3"], "error: --epochs: not accepted with --algorithm hyperband"),
    (["--algorithm", "hyperband", "--max-epochs", "0"], "error: max_epochs must be an integer >= 1, got 0"),
]


@pytest.mark.parametrize("args,message", FAST_ERRORS, ids=[" ".join(a) for a, _ in FAST_ERRORS])
def test_search_option_errors_answer_without_tensorflow(tmp_path, args, message):
    code, out, err, imported = run_command("tuning", ["search", "dense_classifier", "--dir", "{tmp}/tune", *args],
                                           tmp_path)
    assert code == 2 and message in err and err.count("\n") <= 1 and "Traceback" not in err, err
    assert not imported, imported
    assert not (tmp_path / "tune").exists()


# --------------------------------------------------------------------------- slow: digits, each algorithm
@pytest.mark.slow
@pytest.mark.parametrize("algorithm", ["random", "grid", "bayesian", "hyperband"])
def test_every_algorithm_finds_a_good_digits_classifier(tmp_path, algorithm):
    """small_cnn on digits, 3 folds, short trials: the best k-fold mean accuracy >= 0.8 (chance: 0.1).

    Trial 0 is the zoo default, so the bar holds the search to at least the default trained as long
    (3 epochs of the registry's 40). Hyperband: three 1-epoch trials, then the best continued to 3 epochs.
    """
    (x, y), _ = zoo.datasets.load("digits")
    tune = ("kernel_initializer",) if algorithm == "grid" else ("learning_rate", "optimizer")
    extra = {"grid": {}, "hyperband": {"max_epochs": 3, "max_trials": 4},
             "bayesian": {"max_trials": 2, "num_initial_points": 1}, "random": {"max_trials": 2}}[algorithm]
    tuner = CVTuner(hypermodel("small_cnn", tune=tune), algorithm=algorithm, cv=3, seed=0, directory=tmp_path,
                    project_name="digits", **extra)
    tuner.search(x, y, verbose=0, **({} if algorithm == "hyperband" else {"epochs": 3}))
    best = tuner.results()[0]
    assert best["status"] == "COMPLETED" and len(best["folds"]) == 3
    assert best["score"] >= 0.8, tuner.results_table()
    if algorithm == "hyperband":
        assert best["hyperparameters"]["tuner/epochs"] == 3 and tuner.best_epochs() == 3
