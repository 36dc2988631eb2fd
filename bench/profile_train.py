"""Where the time of ``python -m zoo train NAME`` goes, epoch by epoch (one run, no comparison).

Wraps :func:`zoo.training.train` with timers and prints one JSON line:

* ``train_seconds``: the time the bench scripts report (the epoch loop);
* ``first_call_s``: from the start of ``fit`` to the end of the first compiled
  training call (tracing plus the first ``steps_per_execution`` steps);
* ``epoch_s``: each epoch from its start to its end, validation included,
  the checkpoint not;
* ``train_calls_s``: the compiled training calls (one per ``steps_per_execution``
  steps; the first includes tracing), summed;
* ``validation_s``: the per-epoch validation, summed (the first includes tracing);
* ``checkpoint_s``: the time training waits for the per-epoch checkpoint, summed
  (snapshot of the variables, plus waiting for the previous background write);
* ``gather_s``: the NumPy gathers of the training batches, summed (they run
  in ``tf.data``'s thread, beside the training steps).

The numbers are for finding what to work on; compare ours against the plain
script with the alternating bench scripts, not with this.

Usage::

    ZOO_DATA_DIR=/work/shared/data python bench/profile_train.py reuters_mlp
    python bench/profile_train.py small_cnn --seed 0
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def profile(name: str, seed: int = 0) -> dict:
    import keras
    import numpy as np

    from zoo import platform, training
    from zoo.checkpoint import Checkpoint
    from zoo.pipeline import Batches

    timings = {"checkpoint": [], "validation": [], "epoch": [], "train_calls": [], "gather": [], "first_call": None}

    save = Checkpoint.save

    def timed_save(self, *args, **kwargs):
        start = time.perf_counter()
        save(self, *args, **kwargs)
        timings["checkpoint"].append(time.perf_counter() - start)

    class Timer(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.fit_start = time.perf_counter()

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch_start = time.perf_counter()

        def on_train_batch_begin(self, batch, logs=None):
            self.call_start = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            now = time.perf_counter()
            timings["train_calls"].append(now - self.call_start)
            if timings["first_call"] is None:
                timings["first_call"] = now - self.fit_start

        def on_test_begin(self, logs=None):
            self.test_start = time.perf_counter()

        def on_test_end(self, logs=None):
            timings["validation"].append(time.perf_counter() - self.test_start)

        def on_epoch_end(self, epoch, logs=None):  # runs before the checkpointing callback
            timings["epoch"].append(time.perf_counter() - self.epoch_start)

    fit = keras.Model.fit

    def timed_fit(self, *args, callbacks=None, **kwargs):
        return fit(self, *args, callbacks=[Timer(), *(callbacks or [])], **kwargs)

    take = Batches._take

    def timed_take(self, i):
        start = time.perf_counter()
        out = take(self, i)
        timings["gather"].append(time.perf_counter() - start)
        return out

    platform.configure_threads(name)  # as `python -m zoo train` does, before anything runs
    Checkpoint.save = timed_save
    keras.Model.fit = timed_fit
    Batches._take = timed_take
    with tempfile.TemporaryDirectory() as out:
        metrics = training.train(name, out=out, seed=seed, verbose=0)

    def total(key):
        return round(float(sum(timings[key])), 3)

    return {
        "model": name, "seed": seed, "train_seconds": metrics["train_seconds"],
        "test_accuracy": round(metrics["test_accuracy"], 4),
        "first_call_s": round(timings["first_call"], 3),
        "epoch_s": [round(t, 3) for t in timings["epoch"]],
        "train_calls_s": total("train_calls"), "train_calls": len(timings["train_calls"]),
        "validation_s": total("validation"), "checkpoint_s": total("checkpoint"),
        "gather_s": total("gather"), "gather_ms_median": round(1000 * float(np.median(timings["gather"])), 2),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", help="a registered model trained by `python -m zoo train`")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print(json.dumps(profile(args.name, args.seed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
