"""Reuters MLP: the textbook Keras script against ``zoo`` (target: ours <= 1/3 of its time).

The plain side is the notes' script as a user would type it: the Keras Reuters
split with ``num_words=10000`` as multi-hot float32 NumPy vectors (our loader
gives exactly ``reuters.load_data`` plus the textbook ``vectorize_sequences``),
``Dense(256, relu) -> Dropout(.5) -> Dense(128, relu) -> Dropout(.5) ->
Dense(46, softmax)``, Adam, batch 128, 10 epochs, ``validation_split=0.1``.

Ours is what ``python -m zoo train reuters_mlp`` runs: :func:`zoo.training.train`
with the registry defaults (the same model and parameter count, 10 epochs,
a 10% validation split), timed by its own clock around the epoch loop.

Usage::

    ZOO_DATA_DIR=/work/shared/data python bench/reuters_mlp.py --reps 3
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness  # noqa: E402

# The target: our training time <= 1/3 of the plain script's. "reuters_mlp" is ours
# with the registry's defaults (batch 256); "reuters_mlp_batch128" is ours forced to the
# textbook's batch 128, to show what the batch size alone is worth.
CASES = {"reuters_mlp": 1 / 3, "reuters_mlp_batch128": 1 / 3}


def plain(seed: int) -> dict:
    """The notes' script, verbatim in spirit: Sequential, fit on NumPy, evaluate."""
    import keras

    import zoo

    (x_train, y_train), (x_test, y_test) = zoo.datasets.load("reuters")  # = reuters.load_data + multi-hot
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([
        keras.Input(shape=(10000,)),
        keras.layers.Dense(256, activation="relu"),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(46, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(x_train, y_train, epochs=10, batch_size=128, validation_split=0.1, verbose=0)
    seconds = time.perf_counter() - start
    _, acc = model.evaluate(x_test, y_test, verbose=0)
    return {"train_seconds": round(seconds, 3), "test_accuracy": float(acc), "params": int(model.count_params())}


def ours(seed: int, batch_size: int | None = None) -> dict:
    """``python -m zoo train reuters_mlp --seed SEED [--batch-size N]`` (in-process: the same code path)."""
    from zoo import platform, training

    platform.configure_threads("reuters_mlp")  # as `python -m zoo train` does (none registered: TF's default)
    with tempfile.TemporaryDirectory() as out:
        m = training.train("reuters_mlp", out=out, seed=seed, batch_size=batch_size, verbose=0)
    return {"train_seconds": m["train_seconds"], "test_accuracy": m["test_accuracy"], "params": m["params"],
            "epochs": m["epochs"], "batch_size": m["batch_size"]}


def worker(side: str, case: str, seed: int) -> dict:
    if side == "plain":
        return plain(seed)
    return ours(seed, batch_size=128 if case == "reuters_mlp_batch128" else None)


if __name__ == "__main__":
    sys.exit(_harness.main(__file__, CASES, worker, __doc__.splitlines()[0]))
