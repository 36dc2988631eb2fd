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


@needs_reuters
@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("path", ["bfloat16_dense", "sparse_input_dense", "float32_dense"])
def test_every_wide_input_path_reaches_the_reuters_bar(tmp_path, monkeypatch, path, seed):
    """Whichever path a CPU kind gets (zoo.platform.WIDE_INPUT_PATHS, or the probe's answer), 0.80 on every seed."""
    from zoo import platform

    monkeypatch.setattr(platform, "wide_input_path", lambda: path)
    metrics = training.train("reuters_mlp", out=tmp_path, seed=seed, verbose=0)
    assert metrics["wide_input_path"] == path
    assert metrics["test_accuracy"] >= 0.80, metrics
