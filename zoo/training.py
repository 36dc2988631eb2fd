"""Train and evaluate a registered model on its dataset, writing a run directory.

A run directory holds ``model.keras``, ``history.csv``, ``history.json``,
``metrics.json``, ``config.json`` and ``curves.png``, each written atomically.
``python -m zoo train`` and ``python -m zoo evaluate`` are thin wrappers.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from . import _checks, _io, datasets, registry

VALIDATION_FRACTION = 0.1  # held out from the training split, stratified and shuffled


def validation_split(x, y, *, fraction: float = VALIDATION_FRACTION, seed: int = 0):
    """Split off a stratified, shuffled validation set.

    Keras's ``validation_split`` takes the last rows, which for class-sorted data
    (iris) is a single class; this never does.
    """
    from sklearn.model_selection import train_test_split

    stratify = y if np.min(np.bincount(y)) >= 2 else None
    x_tr, x_val, y_tr, y_val = train_test_split(x, y, test_size=fraction, stratify=stratify, random_state=seed)
    return (x_tr, y_tr), (x_val, y_val)


def train(name: str, *, out, data: str | None = None, epochs: int | None = None, batch_size: int | None = None,
          seed: int = 0, data_path=None, verbose: int | str = "auto", **overrides) -> dict:
    """Train registry model ``name`` on its default (or ``data``) dataset.

    Args:
        name: a registered model.
        out: run directory (created; must be writable).
        data: dataset name for :func:`zoo.datasets.load` (default: the model's).
        epochs, batch_size: default to the model's registered training settings.
        seed: seeds the split, weights, dropout and shuffling: the same seed gives
            the same metrics.
        data_path: passed to the loader as ``path``.
        verbose: Keras progress-bar verbosity.
        **overrides: factory arguments (``dropout=0.3``...).

    Returns:
        The final metrics (also written to ``out/metrics.json``).

    Example:
        >>> from zoo import training
        >>> training.train("dense_classifier", out="runs/iris", epochs=5)  # doctest: +SKIP
    """
    import keras

    entry = registry.get_entry(name)
    settings = dict(entry.train)
    epochs = _checks.positive_int("epochs", epochs if epochs is not None else settings.get("epochs", 10))
    batch_size = _checks.positive_int("batch_size", batch_size if batch_size is not None else settings.get("batch_size", 32))
    seed = _checks.positive_int("seed", seed, minimum=0)
    data = data or entry.dataset
    if data is None:
        raise ValueError(f"{name} has no default dataset; pass data=... (one of {', '.join(datasets.DATASETS)})")
    out = _io.ensure_writable_dir(out, argument="out")

    (x_train, y_train), (x_test, y_test) = datasets.load(data, path=data_path, seed=seed)
    (x_tr, y_tr), (x_val, y_val) = validation_split(x_train, y_train, seed=seed)

    model = registry.create_model(name, seed=seed, **_shape_overrides(name, x_train, y_train, overrides))
    start = time.perf_counter()
    history = model.fit(
        x_tr, y_tr, validation_data=(x_val, y_val), epochs=epochs, batch_size=batch_size,
        verbose=verbose, callbacks=[keras.callbacks.TerminateOnNaN()],
    )
    train_seconds = time.perf_counter() - start
    test_loss, test_acc = model.evaluate(x_test, y_test, batch_size=max(batch_size, 256), verbose=0)

    hist = {k: [float(v) for v in vals] for k, vals in history.history.items()}
    if not np.all(np.isfinite(hist.get("loss", [0.0]))):
        raise FloatingPointError(
            f"training {name} diverged (loss became NaN or infinite); lower the learning rate. "
            f"Nothing was saved to {out}."
        )
    metrics = {
        "model": name, "data": data, "epochs": len(hist["loss"]), "batch_size": batch_size, "seed": seed,
        "test_loss": float(test_loss), "test_accuracy": float(test_acc),
        "final_train_accuracy": hist["accuracy"][-1], "final_val_accuracy": hist["val_accuracy"][-1],
        "train_seconds": round(train_seconds, 3), "params": int(model.count_params()),
    }
    config = {"model": name, "data": data, "data_path": None if data_path is None else str(data_path),
              "epochs": epochs, "batch_size": batch_size, "seed": seed, "overrides": overrides}
    _io.save_model(model, out / "model.keras")
    _io.write_json(out / "config.json", config)
    _io.write_json(out / "history.json", hist)
    _io.write_csv(out / "history.csv", [{"epoch": i + 1, **{k: v[i] for k, v in hist.items()}}
                                         for i in range(len(hist["loss"]))])
    plot_history(hist, out / "curves.png", title=f"{name} on {data}")
    _io.write_json(out / "metrics.json", metrics)
    return metrics


def evaluate(run_dir, *, data_path=None) -> dict:
    """Reload ``run_dir/model.keras`` and evaluate it on the test split it was trained for.

    Raises:
        FileNotFoundError: ``run_dir`` is not a finished run (names the missing file).
    """
    import keras

    run_dir = Path(run_dir)
    for required in ("model.keras", "config.json"):
        if not (run_dir / required).is_file():
            raise FileNotFoundError(f"run_dir: {run_dir / required} not found; is {str(run_dir)!r} a finished `zoo train` run?")
    config = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
    _, (x_test, y_test) = datasets.load(config["data"], path=data_path or config.get("data_path"), seed=config["seed"])
    model = keras.models.load_model(run_dir / "model.keras")
    loss, acc = model.evaluate(x_test, y_test, batch_size=256, verbose=0)
    return {"model": config["model"], "data": config["data"], "test_loss": float(loss), "test_accuracy": float(acc),
            "test_samples": int(len(y_test))}


def plot_history(hist: dict, path, *, title: str = ""):
    """Loss and accuracy against epoch, training and validation, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    epochs = np.arange(1, len(hist["loss"]) + 1)
    for ax, key in zip(axes, ("loss", "accuracy")):
        ax.plot(epochs, hist[key], label="train")
        if f"val_{key}" in hist:
            ax.plot(epochs, hist[f"val_{key}"], label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    return _io.save_figure(fig, path, dpi=110)


def _shape_overrides(name, x, y, overrides):
    """Fit the factory's input and class count to the data unless the user set them."""
    defaults = registry.get_entry(name).defaults
    fitted = dict(overrides)
    n_classes = int(np.max(y)) + 1
    if "num_classes" in defaults and "num_classes" not in fitted:
        fitted["num_classes"] = n_classes
    if "input_dim" in defaults and "input_dim" not in fitted and x.ndim == 2:
        fitted["input_dim"] = int(x.shape[1])
    if "input_shape" in defaults and "input_shape" not in fitted and x.ndim == 4:
        fitted["input_shape"] = tuple(int(d) for d in x.shape[1:])
    return fitted
