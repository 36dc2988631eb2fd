"""One resolution path: every command that trains a zoo classifier builds the same model the same way.

``python -m zoo train``, ``python -m tuning cv`` (``cross_validate``) and trial 0
of ``python -m tuning search`` (the hypermodel's default point, which promises to
be the zoo default) must agree on the model, the optimizer and its settings, the
batch size and the epochs. Each command runs for real up to its first
``model.fit``, which records what it was asked to train and stops the command,
so the test trains nothing.
"""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

import zoo
from tuning.__main__ import main as tuning_main
from zoo import registry
from zoo import __main__ as zoo_command
zoo_main = zoo_command.main


def _trained_classifiers() -> list[str]:
    """Classifiers trained by `python -m zoo train` (not those with a command of their own)."""
    out = []
    for name in zoo.list_models():
        entry = registry.get_entry(name)
        if "num_classes" in entry.defaults and entry.train.command is None:
            out.append(name)
    return out


class _FitCalled(BaseException):
    """Raised by the patched ``fit`` with what it was asked to train (a BaseException: no command catches it)."""


def _without_names(config):
    """``config`` without names and seeds, which may differ between equal models."""
    if isinstance(config, dict):
        return {k: _without_names(v) for k, v in config.items() if k not in ("name", "seed")}
    if isinstance(config, (list, tuple)):
        return [_without_names(v) for v in config]
    return config


def _record_fit(self, x=None, y=None, batch_size=None, epochs=1, **kwargs):
    if batch_size is None:  # a tf.data pipeline (zoo train): its first batch is a full one here
        batch_size = int(next(iter(x))[0].shape[0])
    optimizer = self.optimizer
    raise _FitCalled({
        "model": json.dumps(_without_names(self.get_config()), sort_keys=True, default=str),
        "optimizer": type(optimizer).__name__,
        "optimizer_config": json.dumps(_without_names(optimizer.get_config()), sort_keys=True, default=str),
        "learning_rate": float(keras.ops.convert_to_numpy(optimizer.learning_rate)),
        "batch_size": int(batch_size),
        "epochs": int(epochs),
    })


def _tiny_data(name, path):
    """An .npz with few features but enough rows for the model's largest registered batch."""
    defaults = registry.get_entry(name).defaults
    feature_shape = (12,) if "input_dim" in defaults else tuple(defaults["input_shape"])
    n = 2 * registry.get_entry(name).train.batch_size + 64
    rng = np.random.default_rng(0)
    x = rng.random((n, *feature_shape)).astype("float32")
    y = np.arange(n) % 3
    np.savez(path, x_train=x[:-30], y_train=y[:-30], x_test=x[-30:], y_test=y[-30:])
    return str(path)


def _what_fit_got(command) -> dict:
    with pytest.raises(_FitCalled) as caught:
        command()
    return caught.value.args[0]


@pytest.mark.parametrize("name", _trained_classifiers())
def test_zoo_train_cross_validation_and_search_trial_0_train_the_same(name, tmp_path, monkeypatch):
    data = _tiny_data(name, tmp_path / "data.npz")
    monkeypatch.setattr(keras.Model, "fit", _record_fit)
    common = ["--data", data, "--quiet"]
    got = {
        "zoo train": _what_fit_got(lambda: zoo_main(["train", name, "--out", str(tmp_path / "run"), *common])),
        "tuning cv": _what_fit_got(lambda: tuning_main(["cv", name, "--folds", "2", *common])),
        "tuning search, trial 0": _what_fit_got(lambda: tuning_main(
            ["search", name, "--folds", "2", "--max-trials", "1", "--dir", str(tmp_path / "tune"), *common])),
    }
    reference = got.pop("zoo train")
    resolved = registry.resolve(name)
    assert (reference["batch_size"], reference["epochs"]) == (resolved.batch_size, resolved.epochs)
    assert reference["learning_rate"] == pytest.approx(resolved.learning_rate)
    for command, fit in got.items():
        for key in ("optimizer", "learning_rate", "batch_size", "epochs", "optimizer_config", "model"):
            assert fit[key] == reference[key], f"{name}: {command} trains with another {key} than `zoo train`"
