"""Nested cross-validation (tuning.nested): inner searches choose, outer folds score each choice once."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.test_fast_commands import run_command


def test_nested_cv_on_iris_chooses_per_outer_fold_and_resumes_identically(tmp_path):
    import zoo
    from sklearn.preprocessing import StandardScaler

    from tuning import nested_cv

    (x, y), _ = zoo.datasets.load("iris", preprocess=False)
    kwargs = dict(outer=3, inner=2, max_trials=2, epochs=2, seed=3, preprocess=StandardScaler())
    result = nested_cv("dense_classifier", x, y, directory=tmp_path / "nested", **kwargs)

    assert result.complete and [f["fold"] for f in result.folds] == [1, 2, 3]
    assert sum(f["test_samples"] for f in result.folds) == len(y)  # the outer test folds cover the data once
    for f in result.folds:
        assert f["train_samples"] + f["test_samples"] == len(y)
        assert f["trial_id"] in ("0", "1") and f["hyperparameters"]  # one of the two candidates, with its values
        assert f["score"] == f["test"]["accuracy"] and {"loss", "macro_f1"} <= set(f["test"])
        assert 0.0 <= f["inner_score"] <= 1.0 and f["inner_std"] >= 0.0
    assert result.mean == pytest.approx(np.mean(result.scores)) and result.std == pytest.approx(np.std(result.scores))
    agreement = result.agreement()
    chosen = [json.dumps(f["hyperparameters"], sort_keys=True) for f in result.folds]
    assert agreement["modal_share"] == pytest.approx(max(chosen.count(c) for c in chosen) / 3)
    assert agreement["distinct"] == len(set(chosen)) and set(agreement["per_hyperparameter"]) == \
        set(result.folds[0]["hyperparameters"])
    text = result.summary()
    assert f"outer test accuracy: {result.mean:.4f} ± {result.std:.4f}" in text and "agreement:" in text
    saved = json.loads((tmp_path / "nested" / "nested_cv.json").read_text())
    assert saved["complete"] and saved["scores"] == result.scores and saved["agreement"] == json.loads(
        json.dumps(agreement))
    assert sorted(p.name for p in (tmp_path / "nested").iterdir() if p.is_dir()) == ["outer1", "outer2", "outer3"]

    # Run again on the same directory: the inner searches resume (no trial retrained) and
    # the retrained choices score exactly as before.
    again = nested_cv("dense_classifier", x, y, directory=tmp_path / "nested", **kwargs)
    assert again.scores == result.scores and [f["trial_id"] for f in again.folds] == [f["trial_id"] for f in result.folds]


@pytest.mark.parametrize("kwargs,error,message", [
    ({"outer": 1}, ValueError, r"outer must be an integer >= 2, got 1"),
    ({"inner": 1}, ValueError, r"inner must be an integer >= 2, got 1"),
    ({"max_trials": 0}, ValueError, r"max_trials must be an integer >= 1, got 0"),
    ({"algorithm": "genetic"}, ValueError, r"algorithm must be one of 'random', 'grid', 'bayesian', 'hyperband'; got 'genetic'"),
    ({"objective": "val_top5_accuracy"}, ValueError, r"objective 'val_top5_accuracy' needs more than 5 classes"),
    ({"objective": "accuracy"}, ValueError, r"objective 'accuracy' is measured on the training part"),
    ({"outer": 2, "inner": 3, "rows": 10}, ValueError, r"y: class \d has 2 sample\(s\), fewer than the 3 folds"),
    ({"tune": ("dropout",), "model": "hm"}, TypeError, r"tune and factory arguments apply to a zoo model name"),
])
def test_nested_cv_bad_input_fails_before_anything_is_written(tmp_path, kwargs, error, message):
    import keras_tuner

    from tuning import hypermodel, nested_cv

    rows = kwargs.pop("rows", 30)
    model = hypermodel("dense_classifier") if kwargs.pop("model", None) == "hm" else "dense_classifier"
    assert isinstance(model, (str, keras_tuner.HyperModel))
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(rows, 4)).astype("float32"), np.arange(rows) % 3
    with pytest.raises(error, match=message):
        nested_cv(model, x, y, directory=tmp_path / "nested", **kwargs)
    assert not (tmp_path / "nested").exists()


def test_nested_command_end_to_end(run_cli, tmp_path):
    from tuning import __main__ as tuning_command

    out = tmp_path / "nested"
    code, stdout, err = run_cli(tuning_command.main, "nested", "dense_classifier", "--outer", 2, "--inner", 2,
                                "--max-trials", 1, "--epochs", 1, "--objective", "val_macro_f1", "--out", out)
    assert code == 0, err
    assert "outer test macro_f1:" in stdout and "outer fold 2/2: trial 0 chosen" in stdout
    assert "random search of 1 trials by val_macro_f1, epochs per fit: 1" in stdout
    saved = json.loads((out / "nested_cv.json").read_text())
    assert saved["config"]["outer"] == 2 and saved["metric"] == "macro_f1" and saved["direction"] == "max"
    assert saved["agreement"]["modal_share"] == 1.0  # one trial: both outer folds chose the zoo default
    assert not list(out.glob(".*.lock"))


@pytest.mark.parametrize("args,text", [
    (["--outer", "1"], "error: outer must be an integer >= 2, got 1"),
    (["--inner", "0"], "error: inner must be an integer >= 2, got 0"),
    (["--max-trials", "0"], "error: max_trials must be an integer >= 1, got 0"),
    (["--objective", "val_auc"], "error: objective 'val_auc' is not reported by the model; it reports: val_loss"),
    (["--algorithm", "genetic"], "error: algorithm must be one of 'random', 'grid', 'bayesian', 'hyperband'; got 'genetic'"),
])
def test_nested_command_bad_input_answers_without_tensorflow(tmp_path, args, text):
    code, out, err, imported = run_command("tuning", ["nested", "dense_classifier", *args, "--out", "{tmp}/w"], tmp_path)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith(text), err
    assert not imported, f"imported {sorted(imported)}"
    assert not (tmp_path / "w").exists()
