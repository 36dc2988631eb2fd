"""Small models: the textbook Keras scripts against ``zoo`` (target: ours <= 0.5 of their time).

* ``dense_classifier`` on iris: the notes' ``Sequential`` 4 -> 8 -> 8 -> 3
  (139 parameters), Adam, 150 epochs of batch 8, ``validation_split=0.1``.
* ``small_cnn`` on digits: Conv2D(32, 3, same) -> MaxPool -> Conv2D(64, 3, same)
  -> MaxPool -> Flatten -> Dropout(0.5) -> Dense(10, softmax), Adam, 40 epochs
  of batch 32, ``validation_split=0.1``.

Both plain scripts get the same arrays as ours (``zoo.datasets.load``: the
stratified 80/20 split, standardised iris, digits scaled to [0, 1]) and the
registry's epochs and batch sizes. Here the work per step is tiny, so the time
is framework overhead per step and per epoch: this is what it measures.

Usage::

    python bench/dense_and_cnn.py --reps 3
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness  # noqa: E402

CASES = {"dense_classifier": 0.5, "small_cnn": 0.5}  # the target for small models


def _plain_model(case: str):
    import keras

    if case == "dense_classifier":
        return keras.Sequential([
            keras.Input(shape=(4,)),
            keras.layers.Dense(8, activation="relu"),
            keras.layers.Dense(8, activation="relu"),
            keras.layers.Dense(3, activation="softmax"),
        ])
    return keras.Sequential([
        keras.Input(shape=(8, 8, 1)),
        keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(64, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(10, activation="softmax"),
    ])


def plain(case: str, seed: int) -> dict:
    import keras

    import zoo

    entry = zoo.registry.get_entry(case)
    (x_train, y_train), (x_test, y_test) = zoo.datasets.load(entry.dataset, seed=seed)
    keras.utils.set_random_seed(seed)
    model = _plain_model(case)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(x_train, y_train, epochs=entry.train.epochs, batch_size=entry.train.batch_size,
              validation_split=0.1, verbose=0)
    seconds = time.perf_counter() - start
    _, acc = model.evaluate(x_test, y_test, verbose=0)
    return {"train_seconds": round(seconds, 3), "test_accuracy": float(acc), "params": int(model.count_params())}


def ours(case: str, seed: int) -> dict:
    from zoo import platform, training

    platform.configure_threads(case)  # as `python -m zoo train` does, before anything runs
    with tempfile.TemporaryDirectory() as out:
        m = training.train(case, out=out, seed=seed, verbose=0)
    return {"train_seconds": m["train_seconds"], "test_accuracy": m["test_accuracy"], "params": m["params"],
            "epochs": m["epochs"], "batch_size": m["batch_size"]}


def worker(side: str, case: str, seed: int) -> dict:
    return (plain if side == "plain" else ours)(case, seed)


if __name__ == "__main__":
    sys.exit(_harness.main(__file__, CASES, worker, __doc__.splitlines()[0]))
