"""Reuters MLP: the textbook Keras script against ``python -m zoo train reuters_mlp``.

Targets: ours <= 1/3 of the plain script's training time, and <= 0.35 of its
whole process (start to exit), on every CPU kind (``--isa`` stands in for the
kinds this machine is not; see bench/README.md).

The plain side is the notes' script as a user would type it and run as its own
process: ``keras.datasets.reuters.load_data(num_words=10000)`` (Keras's cache
pointed at ``$ZOO_DATA_DIR`` where set), the textbook's ``vectorize_sequences``
(multi-hot, float32), ``Dense(256, relu) -> Dropout(.5) -> Dense(128, relu) ->
Dropout(.5) -> Dense(46, softmax)``, Adam, batch 128, 10 epochs,
``validation_split=0.1``, then ``evaluate`` on the test split. It saves and plots
nothing (ours writes a run directory and a figure), so the whole-process anchor
is the least a plain script does.

Ours is the command a user types, ``python -m zoo train reuters_mlp --out DIR
--quiet --seed SEED``, in its own process: its training time is its
``metrics.json``'s ``train_seconds`` (the epoch loop), its whole process the
command from start to exit.

Usage::

    ZOO_DATA_DIR=/work/shared/data python bench/reuters_mlp.py --reps 3
    ZOO_DATA_DIR=/work/shared/data python bench/reuters_mlp.py --reps 3 --isa AVX2
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness  # noqa: E402

# The targets: our training time <= 1/3 of the plain script's, the whole process <= 0.35.
# "reuters_mlp" is ours with the registry's defaults (batch 512); "reuters_mlp_batch128" is ours
# forced to the textbook's batch 128, to show what the batch size alone is worth (no target).
CASES = {"reuters_mlp": 1 / 3, "reuters_mlp_batch128": 1 / 3}
PROCESS_TARGETS = {"reuters_mlp": 0.35}


def plain(seed: int) -> dict:
    """The notes' script, as a user runs it: Keras's loader, the textbook's vectorizer, Sequential, fit, evaluate."""
    data_dir = os.environ.get("ZOO_DATA_DIR")
    if data_dir:  # where the Keras file is on this machine; a user's copy sits in ~/.keras/datasets
        home = tempfile.mkdtemp()
        atexit.register(shutil.rmtree, home, True)
        os.makedirs(os.path.join(home, "datasets"))
        os.symlink(os.path.abspath(os.path.join(data_dir, "reuters.npz")), os.path.join(home, "datasets", "reuters.npz"))
        os.environ["KERAS_HOME"] = home
    import keras
    import numpy as np
    from keras.datasets import reuters

    (train_data, train_labels), (test_data, test_labels) = reuters.load_data(num_words=10000)

    def vectorize_sequences(sequences, dimension=10000):
        results = np.zeros((len(sequences), dimension), dtype="float32")
        for i, sequence in enumerate(sequences):
            results[i, sequence] = 1.0
        return results

    x_train, x_test = vectorize_sequences(train_data), vectorize_sequences(test_data)
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
    model.fit(x_train, train_labels, epochs=10, batch_size=128, validation_split=0.1, verbose=0)
    seconds = time.perf_counter() - start
    _, acc = model.evaluate(x_test, test_labels, verbose=0)
    return {"train_seconds": round(seconds, 3), "test_accuracy": float(acc), "params": int(model.count_params())}


def command(side: str, case: str, seed: int, out: str):
    """Ours: ``python -m zoo train reuters_mlp`` exactly as a user types it (the plain side is :func:`plain`)."""
    if side == "plain":
        return None
    argv = [sys.executable, "-m", "zoo", "train", "reuters_mlp", "--out", out, "--quiet", "--seed", str(seed)]
    return argv + (["--batch-size", "128"] if case == "reuters_mlp_batch128" else [])


def worker(side: str, case: str, seed: int) -> dict:
    return plain(seed)


if __name__ == "__main__":
    sys.exit(_harness.main(__file__, CASES, worker, __doc__.splitlines()[0], command=command,
                              process_targets=PROCESS_TARGETS))
