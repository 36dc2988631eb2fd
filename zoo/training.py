"""Train and evaluate a registered model on its dataset, writing a run directory.

A run directory holds ``model.keras``, ``history.csv``, ``history.json``,
``metrics.json``, ``config.json`` and ``curves.png``, each written atomically,
and ``run.json``, the manifest of their sizes and hashes, written last: the final
files are staged and swapped in (:mod:`zoo.rundir`), so a directory is the old
run, the new run, or marked incomplete, and ``evaluate`` refuses one that does
not match its manifest. A finished run is replaced only with ``overwrite=True``.
``python -m zoo train`` and ``python -m zoo evaluate`` are thin wrappers.
"""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path

import keras
import numpy as np

from . import _checks, _io, datasets, registry, rundir

VALIDATION_FRACTION = 0.1  # held out from the training split, stratified and shuffled
MAX_STEPS_PER_EXECUTION = 64  # training steps per compiled call; the progress bar moves once per call
EVAL_BATCH_SIZE = 256  # evaluation has no gradients to average: larger batches are just fewer steps
# The per-epoch validation set is small (10% of the training split): gathered once, kept in memory
# as batches this large (one batch for Reuters' 899 rows and digits' 144), so each epoch's
# validation is one or two compiled steps (Reuters: 38 -> 15 ms, digits: 12 -> 5 ms per epoch).
VALIDATION_BATCH_SIZE = 1024


def validation_split(x, y, *, fraction: float = VALIDATION_FRACTION, seed: int = 0):
    """Split off a stratified, shuffled validation set.

    Keras's ``validation_split`` takes the last rows, which for class-sorted data
    (iris) is a single class; this never does.
    """
    from sklearn.model_selection import train_test_split

    stratify = y if np.min(np.bincount(y)) >= 2 else None
    x_tr, x_val, y_tr, y_val = train_test_split(x, y, test_size=fraction, stratify=stratify, random_state=seed)
    return (x_tr, y_tr), (x_val, y_val)


CHECKPOINT_DIR = "checkpoint"  # inside the run directory while training is unfinished


def load_data(data: str, *, data_path=None, seed: int = 0):
    """A dataset name for :func:`zoo.datasets.load`, or the path of an ``.npz`` holding
    ``x_train``, ``y_train``, ``x_test``, ``y_test`` (the user's own data)."""
    if str(data).endswith(".npz"):
        path = Path(data)
        if not path.is_file():
            raise FileNotFoundError(f"data: no such file {str(path)!r}")
        keys = ("x_train", "y_train", "x_test", "y_test")
        import zipfile

        if not zipfile.is_zipfile(path):
            raise ValueError(f"data: {path} is not a .npz file (not a zip archive); save one with "
                             f"np.savez(path, x_train=..., y_train=..., x_test=..., y_test=...)")
        try:
            with np.load(path, allow_pickle=False) as f:
                missing = [k for k in keys if k not in f]
                arrays = {k: f[k] for k in keys if k in f}
        except Exception as exc:  # not a zip, pickled objects, truncated...
            raise ValueError(f"data: {path} is not a readable .npz file ({type(exc).__name__}: {exc})") from None
        if missing:
            raise ValueError(f"data: {path} lacks array(s) {', '.join(missing)}; it must hold {', '.join(keys)}")
        return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])
    return datasets.load(data, path=data_path, seed=seed)


def scaled_learning_rate(name: str, batch_size: int, overrides: dict | None = None) -> float | None:
    """The learning rate :func:`train` gives ``name`` at ``batch_size``, or None for the factory's own.

    A registry entry may name the batch size its factory's default learning
    rate belongs to (``train={"reference_batch_size": 128}``: the textbook's
    Adam at 1e-3 with batches of 128). Trained with other batches and neither
    ``learning_rate`` nor ``optimizer`` given, the rate follows the square-root
    rule for Adam (Malladi et al., 2022): ``lr * sqrt(batch_size / reference)``,
    so ``--batch-size 128`` is exactly the textbook, and Reuters' batch 512
    gets 2e-3 (bench/README.md: test accuracy 0.800-0.807 over seeds 0-4, in
    half the steps of batch 256).
    """
    import math

    entry = registry.get_entry(name)
    reference = entry.train.get("reference_batch_size")
    overrides = overrides or {}
    if reference is None or batch_size == reference or "learning_rate" in overrides or "optimizer" in overrides:
        return None
    return entry.defaults["learning_rate"] * math.sqrt(batch_size / reference)


def configure_threads(name: str) -> int | None:
    """Give TensorFlow the intra-op thread count registered for ``name``, if it can still be set.

    A small model's operations are too small to split between threads: on the
    2-core machine ``small_cnn``'s epoch took 0.057 s with one intra-op thread
    against 0.086 s with TensorFlow's default (the threads spent the time
    handing work over), while Reuters' wide layer needs both (0.43 s against
    0.36 s); so the registry says which models want one thread
    (``train={"intra_op_threads": 1}``). TensorFlow fixes its thread pools when
    it starts, for the whole process: ``python -m zoo train`` (one model per
    process) calls this before anything runs; :func:`train` does not, so that
    training one model never slows the next one in the same process.

    Returns:
        The thread count now in effect for ``name``, or None where the registry
        has none for it or TensorFlow already started with another (nothing changes then).
    """
    threads = registry.get_entry(name).train.get("intra_op_threads")
    if threads is None:
        return None
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
    except RuntimeError:  # TensorFlow already started: its thread pools are fixed for this process
        return None
    return threads


def train(name: str, *, out, data: str | None = None, epochs: int | None = None, batch_size: int | None = None,
          seed: int = 0, data_path=None, verbose: int | str = "auto", overwrite: bool = False, **overrides) -> dict:
    """Train registry model ``name`` on its default (or ``data``) dataset; resumable.

    Each epoch sees a shuffle order and dropout seeds that depend only on
    ``(seed, epoch)``, and after each epoch the weights, optimizer state and
    history are checkpointed atomically into ``out/checkpoint``. Started again
    with the same ``out`` after an interruption (Ctrl-C, SIGKILL), training
    resumes after the last finished epoch and ends with the same metrics as an
    uninterrupted run. A loss that turns NaN or infinite stops training with an
    error; the checkpoint keeps the last good epoch.

    Args:
        name: a registered model.
        out: run directory (created; must be writable).
        data: a dataset name (default: the model's) or an ``.npz`` with
            ``x_train, y_train, x_test, y_test``.
        epochs, batch_size: default to the model's registered training settings; where the
            registry names a reference batch size, the learning rate follows ``batch_size``
            (:func:`scaled_learning_rate`) unless ``learning_rate`` or ``optimizer`` is given.
        seed: seeds the split, weights, dropout and shuffling.
        data_path: passed to the loader as ``path``.
        verbose: Keras progress-bar verbosity.
        overwrite: replace a finished run in ``out`` (kept until the new run's final save), or
            start over from an unfinished run with other settings; without it both are refused.
        **overrides: factory arguments (``dropout=0.3``...).

    Returns:
        The final metrics (also written to ``out/metrics.json``).

    Raises:
        ValueError, TypeError: bad argument or data (named in the message).
        FloatingPointError: the loss diverged.

    Example:
        >>> from zoo import training
        >>> training.train("dense_classifier", out="runs/iris", epochs=5)  # doctest: +SKIP
    """
    entry = registry.get_entry(name)
    if "command" in entry.train:  # e.g. the Word2Vec models train on a corpus with their own command
        raise ValueError(f"{name} is not trained by `python -m zoo train`; use `{entry.train['command']}`")
    settings = dict(entry.train)
    epochs = _checks.positive_int("epochs", epochs if epochs is not None else settings.get("epochs", 10))
    batch_size = _checks.positive_int("batch_size", batch_size if batch_size is not None else settings.get("batch_size", 32))
    seed = _checks.positive_int("seed", seed, minimum=0)
    data = data or entry.dataset
    if data is None:
        raise ValueError(f"{name} has no default dataset; pass data=... (one of {', '.join(datasets.DATASETS)} or an .npz file)")
    out = _io.ensure_writable_dir(out, argument="out")
    rundir.check_reuse(out, overwrite=overwrite, resuming=(out / CHECKPOINT_DIR / "state.json").is_file())

    (x_train, y_train), (x_test, y_test) = load_data(data, data_path=data_path, seed=seed)
    x_train, y_train = _checks.xy(x_train, y_train, x_name="x_train", y_name="y_train")
    x_test, y_test = _checks.xy(x_test, y_test, x_name="x_test", y_name="y_test")
    fitted = _shape_overrides(name, x_train, y_train, overrides)
    learning_rate = scaled_learning_rate(name, batch_size, overrides)
    if learning_rate is not None:
        fitted["learning_rate"] = learning_rate
    model = registry.create_model(name, seed=seed, **fitted)
    num_classes = int(model.output_shape[-1])
    for x_, y_, xn, yn in ((x_train, y_train, "x_train", "y_train"), (x_test, y_test, "x_test", "y_test")):
        _checks.xy(x_, y_, num_classes=num_classes, feature_shape=model.input_shape[1:], x_name=xn, y_name=yn)
    (x_tr, y_tr), (x_val, y_val) = validation_split(x_train, y_train, seed=seed)

    config = {"model": name, "data": str(data), "data_path": None if data_path is None else str(data_path),
              "epochs": epochs, "batch_size": batch_size, "seed": seed, "overrides": overrides}
    checkpoint = _Checkpoint(out / CHECKPOINT_DIR, config)
    try:
        start_epoch, hist = checkpoint.restore(model)
    except rundir.SettingsChanged:
        if not overwrite:
            raise
        checkpoint.clear()  # --overwrite: start over; the finished run (if any) stays until the final save
        start_epoch, hist = 0, {}
    if start_epoch and verbose:
        print(f"Resuming {name} from {checkpoint.dir} after epoch {start_epoch}/{epochs}")

    start = time.perf_counter()
    if start_epoch < epochs:
        _fit_epochs(model, (x_tr, y_tr), (x_val, y_val), checkpoint, hist, name=name, seed=seed,
                    batch_size=batch_size, start_epoch=start_epoch, epochs=epochs, verbose=verbose)
    train_seconds = time.perf_counter() - start
    test_loss, test_acc = model.evaluate(x_test, y_test, batch_size=max(batch_size, EVAL_BATCH_SIZE), verbose=0)

    metrics = {
        "model": name, "data": str(data), "epochs": len(hist["loss"]), "batch_size": batch_size, "seed": seed,
        "test_loss": float(test_loss), "test_accuracy": float(test_acc),
        "final_train_accuracy": hist["accuracy"][-1], "final_val_accuracy": hist["val_accuracy"][-1],
        "train_seconds": round(train_seconds, 3), "resumed_from_epoch": start_epoch, "params": int(model.count_params()),
        "learning_rate": float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)),
        "intra_op_threads": _intra_op_threads(),
    }
    final = rundir.FinalSave(out)  # staged, then swapped in: out is the old run, the new one, or marked incomplete
    final.write("model.keras", lambda p: _io.save_model(model, p))
    final.write("config.json", lambda p: _io.write_json(p, config))
    final.write("history.json", lambda p: _io.write_json(p, hist))
    final.write("history.csv", lambda p: _io.write_csv(p, [{"epoch": i + 1, **{k: v[i] for k, v in hist.items()}}
                                                           for i in range(len(hist["loss"]))]))
    rundir.optional(final, "curves.png", lambda p: plot_history(hist, p, title=f"{name} on {data}"))
    final.write("metrics.json", lambda p: _io.write_json(p, metrics))
    final.commit()
    checkpoint.clear()
    return metrics


def _intra_op_threads():
    """TensorFlow's intra-op thread count (``"default"``: its own choice, one per core)."""
    import tensorflow as tf

    return tf.config.threading.get_intra_op_parallelism_threads() or "default"


def _fit_epochs(model, train_xy, val_xy, checkpoint, hist, *, name, seed, batch_size, start_epoch, epochs, verbose):
    """Epochs ``start_epoch..epochs-1`` in one ``model.fit`` call, checkpointing after each.

    One call instead of one per epoch: every ``fit`` call builds its callbacks,
    iterators and progress bar anew (~0.1 s), which for small models is more
    than an epoch's work. Epoch ``e`` sees the rows in the order
    ``default_rng([seed, e]).permutation(n)`` and dropout seeded from
    ``(seed, e)`` (:func:`_reseed`), whatever epoch the run started from.
    """
    (x_tr, y_tr), (x_val, y_val) = train_xy, val_xy
    orders = _EpochOrders(seed, range(start_epoch, epochs), len(x_tr))  # built one epoch at a time, as needed
    batches = _Batches(x_tr, y_tr, batch_size)
    validation = _Batches(x_val, y_val, max(batch_size, VALIDATION_BATCH_SIZE)).dataset().cache()
    guard = _EpochCheckpoint(checkpoint, hist, seed, last_epoch=epochs - 1)
    steps = -(-len(x_tr) // batch_size)
    if model.steps_per_execution == 1 and model.train_function is None:
        # Several steps per call of the compiled function: a small model's step is
        # mostly Python and dispatch overhead. A divisor of the epoch's steps, so
        # that no call runs into the next epoch (whose order and dropout seeds differ).
        model.steps_per_execution = max(d for d in range(1, MAX_STEPS_PER_EXECUTION + 1) if steps % d == 0)
    try:
        with _gc_frozen():
            model.fit(batches.epochs(orders), steps_per_epoch=steps, validation_data=validation,
                      initial_epoch=start_epoch, epochs=epochs, verbose=verbose,
                      shuffle=False,  # the batches are already shuffled, seeded per epoch
                      callbacks=[keras.callbacks.TerminateOnNaN(), guard])
    except BaseException:
        with contextlib.suppress(Exception):  # the training error is the one to report
            checkpoint.wait()
        raise
    checkpoint.wait()  # the last epoch's checkpoint is on disk (or its error raised) before we go on
    if guard.diverged is not None:
        raise FloatingPointError(
            f"training {name} diverged at epoch {guard.diverged + 1} (loss became NaN or infinite); lower the "
            f"learning rate. No weights were saved over the last good epoch ({checkpoint.dir})."
        )


@contextlib.contextmanager
def _gc_frozen():
    """Python's garbage collector leaves the objects that exist now alone until the block ends.

    Tracing the training step creates many objects, which set off full
    collections that walk every object of TensorFlow and Keras as well: with
    them frozen (``gc.freeze``), Reuters' first epoch took 1.06-1.08 s instead
    of 1.27-1.40 s (3 runs each). Young garbage is still collected; at the end
    the frozen objects are handed back to the collector. Left alone where the
    caller froze objects already.
    """
    import gc

    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


class _EpochCheckpoint(keras.callbacks.Callback):
    """Reseed before each epoch; after it, check the loss and checkpoint (or stop, keeping the last good one).

    The last epoch is not checkpointed: :func:`train` saves the finished model
    next, and a run killed in between resumes from the epoch before and ends
    the same (saves Reuters a 31 MB write).
    """

    def __init__(self, checkpoint, hist: dict, seed: int, last_epoch: int):
        super().__init__()
        self.checkpoint, self.hist, self.seed, self.last_epoch = checkpoint, hist, seed, last_epoch
        self.diverged = None  # the first epoch whose loss was NaN or infinite

    def on_epoch_begin(self, epoch, logs=None):
        _reseed(self.model, self.seed, epoch)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if not np.isfinite(logs.get("loss", np.nan)):
            self.diverged = epoch
            self.model.stop_training = True
            return
        for key, value in logs.items():
            self.hist.setdefault(key, []).append(float(value))
        if epoch < self.last_epoch:
            self.checkpoint.save(self.model, epoch + 1, self.hist)


class _Batches:
    """Each epoch's batches, gathered from the training arrays as they are needed.

    ``model.fit`` on NumPy arrays copies the whole array into a new
    ``tf.data`` pipeline on every call; for Reuters that is 320 MB and about a
    third of the textbook script's time. Here an epoch is a dataset of the
    shuffled row indices, batched, whose rows NumPy gathers on the fly (in
    ``tf.data``'s background thread, one batch ahead): the same batches in the
    same order as ``x[order]``, but only the batch in flight is ever copied.
    """

    def __init__(self, x, y, batch_size: int):
        self.x, self.y = np.asarray(x), np.asarray(y)
        self.batch_size = batch_size

    def dataset(self, order=None):
        """Batches of ``(x[order], y[order])`` (all rows in their order when ``order`` is None)."""
        import tensorflow as tf

        if order is None:
            order = np.arange(len(self.x))
        return self._gathered(tf.data.Dataset.from_tensor_slices(order).batch(self.batch_size))

    def epochs(self, orders):
        """One epoch after another: the batches of ``x[orders[0]]``, then of ``x[orders[1]]``, ...

        Each epoch ends with its own (possibly smaller) last batch, exactly as
        separate ``fit`` calls on ``x[order]`` would batch it.
        """
        import tensorflow as tf

        size = self.batch_size
        if isinstance(orders, _EpochOrders):  # made as the pipeline reaches each epoch, never all at once
            orders = tf.data.Dataset.from_generator(
                orders.__iter__, output_signature=tf.TensorSpec(shape=(orders.rows,), dtype=tf.int64))
        else:
            orders = tf.data.Dataset.from_tensor_slices(orders)
        indices = orders.flat_map(
            lambda order: tf.data.Dataset.from_tensor_slices(order).batch(size))
        return self._gathered(indices)

    def _take(self, i):
        """The rows ``i`` of ``x`` and ``y`` (a NumPy gather, run in ``tf.data``'s thread)."""
        return self.x[i], self.y[i]

    def _gathered(self, indices):
        import tensorflow as tf

        x, y = self.x, self.y
        dtypes = (tf.as_dtype(x.dtype), tf.as_dtype(y.dtype))

        def gather(i):
            bx, by = tf.numpy_function(self._take, [i], dtypes, stateful=False)
            bx.set_shape((None, *x.shape[1:]))
            by.set_shape((None, *y.shape[1:]))
            return bx, by

        return indices.map(gather).prefetch(2).with_options(_pipeline_options())


class _EpochOrders:
    """The shuffle order of each epoch in ``epochs``, ``default_rng([seed, e]).permutation(rows)``, made lazily.

    Built up front, ``--epochs 3000000`` of iris took gigabytes and minutes before the first epoch.
    """

    def __init__(self, seed: int, epochs: range, rows: int):
        self.seed, self.epochs, self.rows = seed, epochs, rows

    def __len__(self):
        return len(self.epochs)

    def __iter__(self):
        for e in self.epochs:
            yield np.random.default_rng([self.seed, e]).permutation(self.rows)


def _pipeline_options():
    """``tf.data`` options for the zoo's input pipelines: autotuning off.

    The pipelines are fixed (one gather per batch, two batches prefetched), so
    autotuning has nothing to tune, and with it on, destroying the iterator at
    the end of ``fit`` sat idle for 1.4-2.0 s (no CPU samples under ``perf``) in
    about half the Reuters runs: up to a third of the training time we report.
    """
    import tensorflow as tf

    options = tf.data.Options()
    options.autotune.enabled = False
    return options


def _reseed(model, seed: int, epoch: int) -> None:
    """Make this epoch's random draws (dropout masks) a function of ``(seed, epoch)`` only.

    Keras keeps each layer's dropout randomness in a seed-generator state
    variable that ``save_weights`` does not restore; setting it per epoch is what
    lets a resumed run repeat an uninterrupted one exactly.
    """
    states = [v for v in model.non_trainable_variables if v.path.endswith("seed_generator_state")]
    for i, var in enumerate(states):
        var.assign(np.array([seed * 1_000_003 + epoch, i], dtype=var.dtype))


class _Checkpoint:
    """Weights + optimizer state + history after each finished epoch, written atomically.

    ``state.json`` names the weights file it belongs to and is replaced only
    after that file is complete, so a kill at any moment leaves a consistent
    pair (the previous epoch's, or the new one's).

    :meth:`save` copies the variables (a consistent snapshot: training is
    between epochs) and leaves the writing to a background thread, so the next
    epoch trains while the bytes go to disk; the next :meth:`save` and
    :meth:`wait` first finish the previous write (and raise its error, if any).
    """

    def __init__(self, directory: Path, config: dict):
        self.dir = Path(directory)
        self.config = config
        self._writer = None  # the thread writing the last snapshot
        self._error = None  # what it raised, re-raised by wait()

    def restore(self, model) -> tuple[int, dict]:
        state_path = self.dir / "state.json"
        if not state_path.is_file():
            return 0, {}
        state = json.loads(state_path.read_text(encoding="utf-8"))
        changed = rundir.settings_changed(state["config"], self.config)
        if changed:  # epochs too: a resume must never finish as a run of other settings than it says
            raise rundir.SettingsChanged(
                f"out: {self.dir.parent} holds an unfinished run with other settings ({'; '.join(changed)}); "
                f"rerun with the checkpoint's values to resume it, pass --overwrite (overwrite=True) to start "
                f"over, or use another --out"
            )
        model.optimizer.build(model.trainable_variables)
        variables = self._variables(model)
        with np.load(self.dir / state["weights"], allow_pickle=False) as saved_arrays:
            arrays = [saved_arrays[f"arr_{i}"] for i in range(len(saved_arrays.files))]
        if [a.shape for a in arrays] != [tuple(v.shape) for v in variables]:
            raise ValueError(f"out: the checkpoint in {self.dir} does not fit this model; delete it to start anew")
        for var, value in zip(variables, arrays):
            var.assign(value)
        return int(state["epoch"]), {k: list(v) for k, v in state["history"].items()}

    @staticmethod
    def _variables(model) -> list:
        """Weights, then optimizer state (step count, moments), in their fixed creation order."""
        return list(model.weights) + list(model.optimizer.variables)

    def save(self, model, epoch: int, hist: dict) -> None:
        """Snapshot the variables and ``hist`` now; write them in the background."""
        import threading

        self.wait()
        # Copies, taken while training is paused between epochs: the writer never sees later updates.
        arrays = [_owned_copy(v.numpy()) for v in self._variables(model)]
        state = {"epoch": epoch, "weights": f"epoch-{epoch:04d}.npz",
                 "history": {k: list(v) for k, v in hist.items()}, "config": self.config}
        self._writer = threading.Thread(target=self._write, args=(arrays, state), name="zoo-checkpoint")
        self._writer.start()

    def wait(self) -> None:
        """Finish the checkpoint being written; raise the error it met, if any."""
        if self._writer is not None:
            self._writer.join()
            self._writer = None
        error, self._error = self._error, None
        if error is not None:
            raise error

    def _write(self, arrays: list, state: dict) -> None:
        # A plain .npz of the variables: Keras's save_weights costs ~27 ms per call whatever
        # the model's size, 4 s of a 150-epoch iris run; this is the bytes only.
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            with _io.atomic_path(self.dir / state["weights"]) as tmp, open(tmp, "wb") as f:
                np.savez(f, *arrays)
            previous = {p.name for p in self.dir.glob("epoch-*.npz")} - {state["weights"]}
            try:
                _io.write_json(self.dir / "state.json", state)  # only now does the new pair count
            except BaseException:
                (self.dir / state["weights"]).unlink(missing_ok=True)  # unpublished: the previous pair stays alone
                raise
            for name in previous:
                (self.dir / name).unlink(missing_ok=True)
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread by wait()
            self._error = exc

    def clear(self) -> None:
        import shutil

        shutil.rmtree(self.dir, ignore_errors=True)


def _owned_copy(value) -> np.ndarray:
    """``value`` as an array that shares no memory with a variable (TensorFlow's ``numpy()`` already copies)."""
    array = np.asarray(value)
    return array if array.flags.owndata else array.copy()


def evaluate(run_dir, *, data_path=None) -> dict:
    """Reload ``run_dir/model.keras`` and evaluate it on the test split it was trained for.

    Raises:
        FileNotFoundError: ``run_dir`` is not a finished run (names the missing file).
        ValueError: a damaged run directory: ``config.json`` unreadable or lacking a key, a file
            that differs from the manifest ``run.json`` (names the file and what is wrong).
    """
    import keras

    run_dir = Path(run_dir)
    for required in ("model.keras", "config.json"):
        if not (run_dir / required).is_file():
            raise FileNotFoundError(f"run_dir: {run_dir / required} not found; is {str(run_dir)!r} a finished `zoo train` run?")
    config = rundir.read_config(run_dir)
    rundir.verify(run_dir)  # a torn, interrupted or damaged run directory is refused, naming the file
    _, (x_test, y_test) = load_data(config["data"], data_path=data_path or config.get("data_path"), seed=config["seed"])
    model = rundir.load_model(run_dir / "model.keras")
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
