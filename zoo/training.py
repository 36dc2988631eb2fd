"""Train and evaluate a registered model on its dataset, writing a run directory.

A run directory holds ``model.keras``, ``history.csv``, ``history.json``,
``metrics.json``, ``config.json`` (the settings, and under ``"preprocessing"`` how raw
inputs are prepared: :func:`zoo.datasets.preprocessing`) and ``curves.png``, each written atomically,
and ``run.json``, the manifest of their sizes and hashes, written last: the final
files are staged and swapped in (:mod:`zoo.rundir`), so a directory is the old
run, the new run, or marked incomplete, and ``evaluate`` refuses one that does
not match its manifest. A finished run is replaced only with ``overwrite=True``.
``python -m zoo train`` and ``python -m zoo evaluate`` are thin wrappers.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from pathlib import Path

import keras
import numpy as np

from . import checks, distribute, files, _keras_compat, datasets, mlp, platform, registry, rundir
from .checkpoint import CHECKPOINT_DIR, Checkpoint
from .metrics import ClassificationReport
from .pipeline import Batches, EpochOrders
from . import layers, optimizers  # noqa: F401  registers the custom layer and optimizer that evaluate() may load

VALIDATION_FRACTION = 0.1  # held out from the training split, stratified and shuffled
MAX_STEPS_PER_EXECUTION = 64  # training steps per compiled call; the progress bar moves once per call
# The per-epoch validation set is small (10% of the training split): gathered once, kept in memory
# as batches this large (one batch for Reuters' 899 rows and digits' 144), so each epoch's
# validation is one or two compiled steps.
VALIDATION_BATCH_SIZE = 1024


def validation_split(x, y, *, fraction: float = VALIDATION_FRACTION, seed: int = 0):
    """Split off the stratified, shuffled validation set :func:`train` holds out (:func:`zoo.datasets.stratified_split`)."""
    return datasets.stratified_split(x, y, fraction=fraction, seed=seed)


def train(name: str, *, out, data: str | None = None, epochs: int | None = None, batch_size: int | None = None,
          seed: int = 0, data_path=None, verbose: int | str = "auto", overwrite: bool = False, strategy=None,
          **overrides) -> dict:
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
        epochs, batch_size: default to the model's registered training settings; the
            factory's arguments and learning rate come from :func:`zoo.registry.resolve`
            (where the registry names a reference batch size, the learning rate follows
            ``batch_size`` unless ``learning_rate`` or another optimizer is given).
        seed: seeds the split, weights, dropout and shuffling.
        data_path: passed to the loader as ``path``.
        verbose: Keras progress-bar verbosity.
        overwrite: replace a finished run in ``out`` (kept until the new run's final save), or
            start over from an unfinished run with other settings; without it both are refused.
        strategy: None or ``"default"`` (one device), ``"mirrored"`` (every local device),
            ``"multi_worker"`` (the cluster of ``TF_CONFIG``; build it first thing in the process),
            or a ``tf.distribute.Strategy``. ``batch_size`` is then the global batch, split
            between the replicas, with the same learning rate, so the run takes the same steps
            as on one device (:mod:`zoo.distribute`). Only the chief writes ``out``; other
            workers write into a temporary directory that is removed.
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
    registry.resolve(name, batch_size=batch_size, epochs=epochs)  # a bad name or setting fails before any loading
    seed = checks.positive_int("seed", seed, minimum=0)
    data = data or entry.dataset
    if data is None:
        raise ValueError(f"{name} has no default dataset; pass data=... (one of {', '.join(datasets.DATASETS)} or an .npz file)")
    strategy = distribute.make_strategy(strategy)
    if not distribute.is_chief(strategy):
        # As TensorFlow's multi-worker guide recommends: every worker runs the same code, and
        # the others' files go to a temporary directory, removed at the end.
        with tempfile.TemporaryDirectory(prefix="zoo-worker-") as tmp:
            return _train(name, entry, out=Path(tmp) / "run", data=data, epochs=epochs, batch_size=batch_size,
                          seed=seed, data_path=data_path, verbose=0, overwrite=True, strategy=strategy,
                          overrides=overrides)
    return _train(name, entry, out=out, data=data, epochs=epochs, batch_size=batch_size, seed=seed,
                  data_path=data_path, verbose=verbose, overwrite=overwrite, strategy=strategy, overrides=overrides)


def _train(name, entry, *, out, data, epochs, batch_size, seed, data_path, verbose, overwrite, strategy,
           overrides) -> dict:
    out = files.ensure_writable_dir(out, argument="out")
    rundir.check_working_folders(out)
    rundir.check_reuse(out, overwrite=overwrite, resuming=(out / CHECKPOINT_DIR / "state.json").is_file())

    (x_train, y_train), (x_test, y_test) = datasets.load_data(data, data_path=data_path, seed=seed)
    x_train, y_train = checks.xy(x_train, y_train, x_name="x_train", y_name="y_train")
    x_test, y_test = checks.xy(x_test, y_test, x_name="x_test", y_name="y_test")
    resolved = registry.resolve(name, feature_shape=x_train.shape[1:], num_classes=int(np.max(y_train)) + 1,
                                overrides=overrides, batch_size=batch_size, epochs=epochs)
    epochs, batch_size = resolved.epochs, resolved.batch_size
    def scope():
        return strategy.scope() if strategy is not None else contextlib.nullcontext()

    with scope():  # weights and optimizer state become the strategy's (mirrored) variables
        model = registry.create_model(name, seed=seed, **resolved.factory_kwargs)
    num_classes = int(model.output_shape[-1])
    for x_, y_, xn, yn in ((x_train, y_train, "x_train", "y_train"), (x_test, y_test, "x_test", "y_test")):
        checks.xy(x_, y_, num_classes=num_classes, feature_shape=model.input_shape[1:], x_name=xn, y_name=yn)
    # The split as row numbers: the training rows are gathered batch by batch from x_train (no copy of
    # its 90%); the small validation part is copied once.
    train_rows, val_rows = datasets.stratified_split_rows(y_train, fraction=VALIDATION_FRACTION, seed=seed)
    training_data = Batches(x_train, y_train, batch_size, rows=train_rows)
    x_val, y_val = x_train[val_rows], y_train[val_rows]

    config = {"model": name, "data": str(data), "data_path": None if data_path is None else str(data_path),
              "epochs": epochs, "batch_size": batch_size, "seed": seed, "overrides": overrides}
    checkpoint = Checkpoint(out / CHECKPOINT_DIR, config)
    with scope():
        if strategy is not None:
            # Before the checkpoint is read: every worker creates its variables in the same order (a
            # multi-worker creation is a broadcast from the chief, paired by order), and only the chief
            # restores, which would build its optimizer first.
            distribute.prepare_fit(model, strategy, *training_data.take(np.arange(2)))
        try:
            start_epoch, hist = checkpoint.restore(model)
        except rundir.SettingsChanged:
            if not overwrite:
                raise
            checkpoint.clear()  # --overwrite: start over; the finished run (if any) stays until the final save
            start_epoch, hist = 0, {}
        if distribute.num_workers(strategy) > 1:
            start_epoch = _resume_from_chief(strategy, model, start_epoch)
    if verbose and strategy is not None:
        print(f"Training {name} on {distribute.describe(strategy)}; global batch {batch_size}")
    if start_epoch and verbose:
        print(f"Resuming {name} from {checkpoint.dir} after epoch {start_epoch}/{epochs}")

    start = time.perf_counter()
    if start_epoch < epochs:
        _fit_epochs(model, training_data, (x_val, y_val), checkpoint, hist, name=name, seed=seed,
                    batch_size=batch_size, start_epoch=start_epoch, epochs=epochs, verbose=verbose,
                    distributed=strategy is not None, chief=distribute.is_chief(strategy))
    train_seconds = time.perf_counter() - start
    test_loss, test_acc = model.evaluate(x_test, y_test, batch_size=resolved.eval_batch_size, verbose=0)

    metrics = {
        "model": name, "data": str(data), "epochs": epochs, "batch_size": batch_size, "seed": seed,
        "test_loss": float(test_loss), "test_accuracy": float(test_acc),
        "final_train_accuracy": hist["accuracy"][-1], "final_val_accuracy": hist["val_accuracy"][-1],
        "train_seconds": round(train_seconds, 3), "resumed_from_epoch": start_epoch, "params": int(model.count_params()),
        "learning_rate": float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)),
        "intra_op_threads": platform.intra_op_threads(),
        "wide_input_path": mlp.path_of(model),  # which of the wide MLP's paths ran (None: not a wide MLP)
        "strategy": distribute.strategy_name(strategy),
        "replicas": 1 if strategy is None else int(strategy.num_replicas_in_sync),
        "workers": distribute.num_workers(strategy),
    }
    final = rundir.FinalSave(out)  # staged, then swapped in: out is the old run, the new one, or marked incomplete
    final.write("model.keras", lambda p: files.save_model(model, p))
    # With how new inputs are prepared (zoo.load, python -m zoo predict), in the saved config only: the
    # checkpoint's config, which a resumed run must match, stays the settings alone.
    final.write("config.json", lambda p: files.write_json(p, {**config, **_preprocessing(data, seed)}))
    final.write("history.json", lambda p: files.write_json(p, hist))
    final.write("history.csv", lambda p: files.write_csv(p, [{"epoch": i + 1, **{k: v[i] for k, v in hist.items()}}
                                                           for i in range(len(hist["loss"]))]))
    rundir.optional(final, "curves.png", lambda p: plot_history(hist, p, title=f"{name} on {data}"))
    final.write("metrics.json", lambda p: files.write_json(p, metrics))
    final.commit()
    checkpoint.clear()
    return metrics


def _preprocessing(data, seed) -> dict:
    """``{"preprocessing": zoo.datasets.preprocessing(...)}``, or ``{}`` with a warning: never lose a run over it."""
    import sys

    try:
        return {"preprocessing": datasets.preprocessing(data, seed=seed)}
    except Exception as exc:  # noqa: BLE001 - zoo.load derives the same settings from the config when absent
        print(f"warning: preprocessing settings not saved ({type(exc).__name__}: {exc})", file=sys.stderr)
        return {}


def _resume_from_chief(strategy, model, start_epoch: int) -> int:
    """Every worker continues from the chief's checkpoint (only the chief has read one); returns its epoch."""
    import tensorflow as tf

    model.optimizer.build(model.trainable_variables)  # the slots exist on every worker before they are synced
    epoch = tf.Variable(float(start_epoch), trainable=False, dtype="float64")
    distribute.sync_from_chief(strategy, [*Checkpoint.variables(model), epoch])
    return int(epoch.numpy())


def _fit_epochs(model, batches, val_xy, checkpoint, hist, *, name, seed, batch_size, start_epoch, epochs, verbose,
                distributed=False, chief=True):
    """Epochs ``start_epoch..epochs-1`` in one ``model.fit`` call, checkpointing after each.

    One call instead of one per epoch: every ``fit`` call builds its callbacks,
    iterators and progress bar anew (~0.1 s), which for small models is more
    than an epoch's work. Epoch ``e`` sees the rows in the order
    ``default_rng([seed, e]).permutation(n)`` and dropout seeded from
    ``(seed, e)`` (:func:`_reseed`), whatever epoch the run started from.
    """
    x_val, y_val = val_xy
    orders = EpochOrders(seed, range(start_epoch, epochs), len(batches))  # built one epoch at a time, as needed
    validation = Batches(x_val, y_val, max(batch_size, VALIDATION_BATCH_SIZE)).dataset().cache()
    guard = _EpochCheckpoint(checkpoint, hist, seed, last_epoch=epochs - 1)
    steps = -(-len(batches) // batch_size)
    if distributed:
        # Keras 3.15's multi-step loop fails under a tf.distribute strategy ("You must feed a
        # value for placeholder tensor" in multi_step_on_iterator): one step per call there.
        if verbose:
            distribute.note("one training step per compiled call under a strategy (Keras's several-steps loop "
                            "fails under tf.distribute); the progress bar moves every step")
    elif model.steps_per_execution == 1 and model.train_function is None:
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
    except BaseException as exc:
        with contextlib.suppress(Exception):  # the training error is the one to report
            checkpoint.wait()
        import tensorflow as tf

        if distributed and isinstance(exc, tf.errors.UnavailableError):
            # A non-chief's checkpoint is in its temporary folder, removed at exit: the chief's is the one to name.
            raise distribute.worker_lost(exc, checkpoint.dir if chief else None) from None
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
    collections that walk every object of TensorFlow and Keras as well; with
    them frozen (``gc.freeze``) the first epoch is markedly faster
    (bench/README.md). Young garbage is still collected; at the end the frozen
    objects are handed back to the collector. Left alone where the caller froze
    objects already.
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
    the same (one large write fewer).
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


def _reseed(model, seed: int, epoch: int) -> None:
    """Make this epoch's random draws (dropout masks) a function of ``(seed, epoch)`` only.

    Keras keeps each layer's dropout randomness in a seed-generator state
    variable that ``save_weights`` does not restore; setting it per epoch is what
    lets a resumed run repeat an uninterrupted one exactly.
    """
    states = _keras_compat.seed_generator_states(model)
    for i, var in enumerate(states):
        var.assign(np.array([seed * 1_000_003 + epoch, i], dtype=var.dtype))


#: What ``evaluate(out=...)`` writes for a classifier.
EVALUATION_JSON, PER_CLASS_CSV, CONFUSION_PNG = "evaluation.json", "per_class.csv", "confusion_matrix.png"


def evaluate(run_dir, *, data_path=None, out=None) -> dict:
    """Reload ``run_dir/model.keras`` and evaluate it on the test split it was trained for.

    For a classifier, besides loss and accuracy: macro-F1, top-5 accuracy (above
    5 classes) and a per-class table (precision, recall, F1, support) from the
    model's predictions (:class:`zoo.metrics.ClassificationReport`).

    Args:
        run_dir: a finished ``python -m zoo train`` run directory.
        data_path: where to look for the data first (default: the run's).
        out: a folder to write ``evaluation.json``, ``per_class.csv`` and
            ``confusion_matrix.png`` into (each atomically); None writes nothing.

    Returns:
        ``model``, ``data``, ``test_loss``, ``test_accuracy``, ``test_samples`` and, for a
        classifier, ``test_macro_f1``, ``test_top5_accuracy`` (above 5 classes),
        ``per_class`` (the table's rows) and ``confusion_matrix``; with ``out``, ``files``.

    Raises:
        FileNotFoundError: ``run_dir`` is not a finished run (names the missing file).
        ValueError: a damaged run directory: ``config.json`` unreadable or lacking a key, a file
            that differs from the manifest ``run.json`` (names the file and what is wrong).
    """
    run_dir = rundir.check_finished(run_dir)
    config = rundir.read_config(run_dir)
    rundir.verify(run_dir)  # a torn, interrupted or damaged run directory is refused, naming the file
    if out is not None:
        out = files.ensure_writable_dir(out, argument="out")
    _, (x_test, y_test) = datasets.load_data(config["data"], data_path=data_path or rundir.recorded_data_path(config),
                                          seed=config["seed"])
    model = rundir.load_model(run_dir / "model.keras")
    batch = registry.eval_batch_size(config["batch_size"])
    loss, acc = model.evaluate(x_test, y_test, batch_size=batch, verbose=0)
    result = {"model": config["model"], "data": config["data"], "test_loss": float(loss), "test_accuracy": float(acc),
              "test_samples": int(len(y_test))}
    shape = model.output_shape
    if isinstance(shape, list) or len(shape) != 2 or not shape[-1] or shape[-1] < 2:
        return result  # not a single-output classifier: loss and the compiled metric are all there is
    report = ClassificationReport.from_predictions(
        y_test, model.predict(x_test, batch_size=batch, verbose=0), class_names=_class_names(config["data"], shape[-1]))
    result.update({f"test_{k}": v for k, v in report.scores.items() if k != "accuracy"})
    result.update(per_class=report.per_class, confusion_matrix=report.confusion.tolist())
    if out is not None:
        written = {"evaluation": out / EVALUATION_JSON, "per_class": out / PER_CLASS_CSV,
                   "confusion_matrix": out / CONFUSION_PNG}
        report.plot_confusion(written["confusion_matrix"], title=f"{config['model']} on {config['data']}: "
                                                                 f"{len(y_test)} test examples")
        files.write_csv(written["per_class"], report.per_class)
        result["files"] = {k: str(v) for k, v in written.items()}
        files.write_json(written["evaluation"], {**result, "class_names": report.class_names})
    return result


def _class_names(data: str, num_classes: int) -> list[str] | None:
    """The dataset's class names (:func:`zoo.datasets.class_names`) where they fit the model's classes, else None."""
    names = datasets.class_names(data) if data in datasets.DATASETS or str(data).endswith(".npz") else None
    return names if names is not None and len(names) == num_classes else None


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
    return files.save_figure(fig, path, dpi=110)
