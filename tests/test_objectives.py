"""Objectives beyond accuracy: macro-F1, top-5 accuracy, the per-class table and confusion matrix (zoo.metrics),
in every cross-validation fold, as a search objective with the right direction, and in ``python -m zoo evaluate``."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from zoo import metrics

# Seven examples, seven classes (top-5 is defined above five). Each row's scores rank the
# classes; the true class's rank decides top-5, the first one is the prediction.
Y_TRUE = np.array([0, 0, 1, 2, 3, 4, 6])
RANKS = [  # classes best first
    [0, 1, 2, 3, 4, 5, 6],  # true 0, predicted 0
    [1, 0, 2, 3, 4, 5, 6],  # true 0, predicted 1, true class 2nd
    [1, 2, 3, 4, 5, 6, 0],  # true 1, predicted 1
    [3, 4, 5, 6, 0, 1, 2],  # true 2, predicted 3, true class last: outside the top 5
    [3, 2, 1, 0, 4, 5, 6],  # true 3, predicted 3
    [5, 6, 0, 1, 2, 3, 4],  # true 4, predicted 5, true class 7th: outside the top 5
    [6, 5, 4, 3, 2, 1, 0],  # true 6, predicted 6
]


def _scores(ranks):
    out = np.zeros((len(ranks), len(ranks[0])))
    for i, order in enumerate(ranks):
        out[i, order] = np.arange(len(order), 0, -1)  # best first -> highest score
    return out


def test_scores_of_a_hand_made_prediction_matrix():
    y_score = _scores(RANKS)
    # Predictions 0, 1, 1, 3, 3, 5, 6. Per class (true, predicted, hits) -> F1 = 2 hits / (true + predicted):
    # 0: (2, 1, 1) 2/3; 1: (1, 2, 1) 2/3; 2: (1, 0, 0) 0; 3: (1, 2, 1) 2/3; 4: (1, 0, 0) 0;
    # 5: (0, 1, 0) 0; 6: (1, 1, 1) 1; macro-F1 averages the 7 classes seen (true or predicted): 3/7.
    expected_f1 = (2 / 3 + 2 / 3 + 0 + 2 / 3 + 0 + 0 + 1) / 7
    scores = metrics.classification_scores(Y_TRUE, y_score)
    assert scores == {"macro_f1": pytest.approx(expected_f1), "top5_accuracy": pytest.approx(5 / 7)}
    # Only the order of the scores counts: logits give the same numbers.
    assert metrics.classification_scores(Y_TRUE, np.log(y_score)) == scores
    # Top-k needs more than k classes; three classes give macro-F1 only.
    assert set(metrics.classification_scores(np.array([0, 1, 2]), np.eye(3))) == {"macro_f1"}

    report = metrics.ClassificationReport.from_predictions(Y_TRUE, y_score, class_names=list("abcdefg"))
    assert report.scores["accuracy"] == pytest.approx(4 / 7)
    assert report.scores["macro_f1"] == pytest.approx(expected_f1)
    rows = {r["name"]: r for r in report.per_class}
    assert (rows["a"]["precision"], rows["a"]["recall"], rows["a"]["support"], rows["a"]["predicted"]) == (1.0, 0.5, 2, 1)
    assert (rows["b"]["precision"], rows["b"]["recall"], rows["b"]["f1"]) == (0.5, 1.0, pytest.approx(2 / 3))
    assert (rows["f"]["support"], rows["f"]["predicted"], rows["f"]["f1"]) == (0, 1, 0.0)
    assert report.confusion.shape == (7, 7) and report.confusion.sum() == 7
    assert report.confusion[0].tolist() == [1, 1, 0, 0, 0, 0, 0] and report.confusion[4, 5] == 1
    table = report.table().splitlines()
    assert table[0].split() == ["class", "name", "precision", "recall", "f1", "support", "predicted"]
    assert len(table) == 1 + 7 + 1 and table[-1].split()[:4] == ["macro", "avg", "0.429", "0.500"]
    assert float(table[-1].split()[4]) == pytest.approx(expected_f1, abs=5e-4)  # the same average as macro_f1

    with pytest.raises(ValueError, match=r"class_names: 2 names for 7 classes"):
        metrics.ClassificationReport.from_predictions(Y_TRUE, y_score, class_names=["a", "b"])
    with pytest.raises(ValueError, match=r"y_true must hold labels in \[0, 7\), got \[0, 9\]"):
        metrics.classification_scores(np.array([0, 0, 1, 2, 3, 4, 9]), y_score)
    with pytest.raises(ValueError, match=r"y_score must have shape \(n, classes\)"):
        metrics.classification_scores(Y_TRUE, y_score[:, 0])


def test_one_table_of_objectives_and_directions():
    assert [metrics.direction(n) for n in ("val_accuracy", "val_macro_f1", "val_top5_accuracy", "val_loss", "loss")] \
        == ["max", "max", "max", "min", "min"]
    assert metrics.direction("val_auc") is None
    assert set(metrics.OBJECTIVES) == {"loss", "accuracy", "val_loss", "val_accuracy", "val_macro_f1",
                                       "val_top5_accuracy"}
    assert "val_top5_accuracy" not in metrics.objectives(5) and "val_top5_accuracy" in metrics.objectives(6)
    with pytest.raises(ValueError, match=r"objective 'val_top5_accuracy' needs more than 5 classes; the model has 3"):
        metrics.check_objective("val_top5_accuracy", 3)
    with pytest.raises(ValueError, match=r"objective 'val_f1' is not reported by the model; it reports: loss, "):
        metrics.check_objective("val_f1")


def test_folds_report_the_objectives_and_a_search_ranks_by_them(tmp_path):
    import keras
    import tensorflow as tf

    from tuning import CVRandomSearch, cross_validate
    from tuning.cv import held_out_scores

    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, 4)).astype("float32")
    y = np.arange(48) % 6
    x[np.arange(48), y % 4] += 2.0  # something to learn
    # A fold's dict has every objective (six classes: top-5 is defined).
    cv = cross_validate("dense_classifier", x, y, cv=2, epochs=1, hidden_units=(4,))
    for fold in cv.folds:
        assert {"val_loss", "val_accuracy", "val_macro_f1", "val_top5_accuracy"} <= set(fold)
        assert 0.0 <= fold["val_macro_f1"] <= 1.0 and fold["val_accuracy"] <= fold["val_top5_accuracy"] <= 1.0
    assert "val_macro_f1" in cv.summary().splitlines()[0]

    # The held-out scores are those of the model's own predictions, whether the fold is
    # arrays (in batches, the last one short) or a tf.data pipeline of batches.
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(6, activation="softmax")])
    expected = metrics.classification_scores(y, model.predict(x, verbose=0))
    assert held_out_scores(model, {"x": x, "y": y, "batch_size": 20}) == pytest.approx(expected)
    batches = tf.data.Dataset.from_tensor_slices((x, y)).batch(20)
    assert held_out_scores(model, {"x": batches}) == pytest.approx(expected)

    # A search by macro-F1 maximises it; by validation loss minimises it.
    tuner = CVRandomSearch("dense_classifier", objective="val_macro_f1", max_trials=1, cv=2,
                           directory=tmp_path, project_name="f1")
    assert tuner.oracle.objective.direction == "max"
    tuner.search(x[:30, :], np.arange(30) % 3, epochs=1, verbose=0)
    row = tuner.results()[0]
    assert row["status"] == "COMPLETED" and len(row["folds"]) == 2
    assert row["score"] == pytest.approx(np.mean(row["folds"])) == pytest.approx(row["metrics"]["val_macro_f1"])
    assert CVRandomSearch("dense_classifier", objective="val_loss", max_trials=1, cv=2, directory=tmp_path,
                          project_name="loss").oracle.objective.direction == "min"
    with pytest.raises(ValueError, match=r"objective 'val_top5_accuracy' needs more than 5 classes; the model has 3"):
        CVRandomSearch("dense_classifier", objective="val_top5_accuracy", directory=tmp_path, project_name="top5")


def test_zoo_evaluate_reports_per_class_and_writes_the_confusion_figure(run_cli, tmp_path):
    from zoo import __main__ as zoo_command

    run, out = tmp_path / "run", tmp_path / "eval"
    code, _, err = run_cli(zoo_command.main, "train", "dense_classifier", "--epochs", 2, "--out", run, "--quiet")
    assert code == 0, err
    code, stdout, err = run_cli(zoo_command.main, "evaluate", run, "--out", out)
    assert code == 0, err
    result = json.loads(stdout)  # stdout stays one JSON document
    train_metrics = json.loads((run / "metrics.json").read_text())
    assert result["test_accuracy"] == pytest.approx(train_metrics["test_accuracy"])
    assert 0.0 <= result["test_macro_f1"] <= 1.0 and "test_top5_accuracy" not in result  # iris: 3 classes
    # The per-class table, with iris's species names, on stderr.
    lines = err.splitlines()
    head = next(i for i, line in enumerate(lines) if line.split()[:2] == ["class", "name"])
    assert [line.split()[1] for line in lines[head + 1:head + 4]] == ["setosa", "versicolor", "virginica"]
    assert [int(line.split()[5]) for line in lines[head + 1:head + 4]] == [10, 10, 10]  # support
    # The files, each complete; the figure is a PNG.
    assert (out / "confusion_matrix.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = list(csv.DictReader((out / "per_class.csv").open()))
    assert [r["name"] for r in rows] == ["setosa", "versicolor", "virginica"]
    saved = json.loads((out / "evaluation.json").read_text())
    assert np.array(saved["confusion_matrix"]).sum(axis=1).tolist() == [10, 10, 10]
    seen = [float(r["f1"]) for r in rows if int(r["support"]) or int(r["predicted"])]
    assert saved["test_macro_f1"] == pytest.approx(np.mean(seen))
    assert not [p for p in out.iterdir() if p.name.startswith(".")], "temporary files left behind"
