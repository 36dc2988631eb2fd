"""Accuracy on real data: the table of the foundation issue (slow; CI runs them)."""

import pytest

from zoo import training

from .conftest import needs_reuters

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    "name,bar",
    [
        ("dense_classifier", 0.93),  # iris, stratified split
        ("small_cnn", 0.97),  # digits, stratified split
        pytest.param("reuters_mlp", 0.80, marks=needs_reuters),  # Keras split, 10 epochs
    ],
)
def test_default_training_reaches_the_bar(tmp_path, name, bar):
    metrics = training.train(name, out=tmp_path, seed=0, verbose=0)
    assert metrics["epochs"] <= (10 if name == "reuters_mlp" else 1000)
    assert metrics["test_accuracy"] >= bar, metrics
