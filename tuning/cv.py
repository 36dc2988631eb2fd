"""k-fold cross-validation of Keras models: :func:`cross_validate` and its :class:`CVResult`.

The notes (004): with little data, one validation split gives a noisy choice;
k-fold cross-validation trains k models, each validated on a different fold,
and scores a configuration by the mean over the folds (the standard deviation
says how much to trust the difference between two configurations). The test
set is never touched: it is used once, at the end, on the retrained best model.

No leaks between folds: every fold builds a new model under its own seed
(weights, dropout and shuffling depend only on the seed and the fold), and a
``preprocess`` transformer is fitted on the fold's training part only
(:mod:`tuning.folds`). A zoo model is built and trained as ``python -m zoo
train`` would (:func:`zoo.registry.resolve`).
"""

from __future__ import annotations

import copy
import inspect
import time
import zlib
from dataclasses import dataclass, field

import numpy as np

import zoo
from zoo import checks, platform, registry
from zoo import metrics as zoo_metrics

from .folds import DEFAULT_FOLDS, DEFAULT_TRAIN, ArrayFolds, TFDSFolds, make_folds

DEFAULT_OBJECTIVE = "val_accuracy"


def derive_seed(*parts) -> int:
    """A seed in [0, 2**31) that depends only on ``parts`` (the user's seed, the trial, the fold)."""
    words = [p if isinstance(p, int) else zlib.crc32(str(p).encode()) for p in parts]
    return int(np.random.SeedSequence(words).generate_state(1)[0] % (2**31))


def run_fold(build, fit, folds, i, *, batch_size, seed, epochs, callbacks=(), validate_each_epoch=False,
             verbose=0, fit_kwargs=None) -> dict:
    """Train a fresh model on fold ``i``'s training part; return its metrics (validation ones prefixed ``val_``).

    Training metrics are those of the last epoch; validation metrics come from one
    ``evaluate`` of the final model on the held-out fold.
    """
    import keras

    keras.backend.clear_session(free_memory=False)  # fresh layer names; the Python GC is too slow to run per fold
    keras.utils.set_random_seed(seed)               # weights, dropout and shuffling: a function of the seed only
    with platform.released_gradients():  # the fold's model is thrown away: without this its step graph never is
        model = build()
        if not isinstance(model, keras.Model):
            raise TypeError(f"model: the building function must return a keras.Model, got {type(model).__name__}")
        fit_args, eval_args = folds.fold(i, batch_size=batch_size, seed=seed)
        if validate_each_epoch:  # for TensorBoard curves; the fold's score still comes from evaluate() below
            fit_args["validation_data"] = eval_args["x"] if "y" not in eval_args else (eval_args["x"], eval_args["y"])
        # A diverging configuration (too large a learning rate) stops at once instead of
        # training on NaN for the remaining epochs, and gets a clear message, not a NaN score.
        history = fit(model, **fit_args, **(fit_kwargs or {}), epochs=epochs, verbose=verbose,
                      callbacks=[*callbacks, keras.callbacks.TerminateOnNaN()]).history
        losses = history.get("loss", [])
        if not losses or not np.all(np.isfinite(losses)):
            raise FloatingPointError(f"fold {i + 1}: training diverged at epoch {len(losses)} (loss became NaN or "
                                     "infinite); lower the learning rate")
        metrics = {k: float(v[-1]) for k, v in history.items() if not k.startswith("val_") and len(v)}
        scores = model.evaluate(**eval_args, verbose=0, return_dict=True)
        metrics.update({f"val_{k}": float(v) for k, v in scores.items()})
        metrics.update({f"val_{k}": v for k, v in held_out_scores(model, eval_args).items()})
        return metrics


def held_out_scores(model, eval_args) -> dict:
    """Macro-F1 and top-k accuracy (:mod:`zoo.metrics`) of a classifier on the held-out data in ``eval_args``.

    Empty for a model that is not a single-output classifier. The predictions are
    direct calls of the model, batch by batch: ``model.predict`` would trace a
    new function for every fold's new model.
    """
    import keras

    shape = model.output_shape
    if isinstance(shape, list) or len(shape) != 2 or not shape[-1] or shape[-1] < 2:
        return {}
    if "y" in eval_args:  # arrays
        x, y_true, batch = eval_args["x"], np.asarray(eval_args["y"]), eval_args.get("batch_size") or len(eval_args["x"])
        parts = [model(x[i:i + batch], training=False) for i in range(0, len(x), batch)]
    else:  # a tf.data pipeline of (x, y) batches
        parts, labels = [], []
        for xb, yb in eval_args["x"]:
            parts.append(model(xb, training=False))
            labels.append(np.asarray(yb))
        y_true = np.concatenate(labels)
    if y_true.ndim != 1 or not np.issubdtype(y_true.dtype, np.integer):
        return {}  # one-hot or other targets: the compiled metrics are all there is
    y_score = np.concatenate([keras.ops.convert_to_numpy(p) for p in parts])
    return zoo_metrics.classification_scores(y_true, y_score)


@dataclass
class CVResult:
    """Per-fold metrics of a cross-validation, with their mean and standard deviation.

    ``std`` is the population standard deviation over the folds (``ddof=0``, as
    scikit-learn's ``cv_results_`` reports it).
    """

    folds: list[dict]
    mean: dict = field(default_factory=dict)
    std: dict = field(default_factory=dict)
    seconds: float = 0.0
    config: dict = field(default_factory=dict)

    @classmethod
    def from_folds(cls, folds: list[dict], **kwargs) -> "CVResult":
        names = list(dict.fromkeys(k for f in folds for k in f))
        mean = {k: float(np.mean([f[k] for f in folds])) for k in names}
        std = {k: float(np.std([f[k] for f in folds])) for k in names}
        return cls(folds=folds, mean=mean, std=std, **kwargs)

    def scores(self, metric: str = DEFAULT_OBJECTIVE) -> list[float]:
        """The value of ``metric`` on each fold."""
        if metric not in self.mean:
            raise ValueError(f"metric must be one of {', '.join(map(repr, self.mean))}; got {metric!r}")
        return [f[metric] for f in self.folds]

    def summary(self) -> str:
        """A table: one row per fold, then the mean and std."""
        names = list(self.mean)
        w = {n: max(14, len(n)) for n in names}
        head = "fold  " + "  ".join(f"{n:>{w[n]}}" for n in names)
        rows = [f"{i:>4}  " + "  ".join(f"{f[n]:>{w[n]}.4f}" for n in names) for i, f in enumerate(self.folds, start=1)]
        return "\n".join([head, *rows, "mean  " + "  ".join(f"{self.mean[n]:>{w[n]}.4f}" for n in names),
                          " std  " + "  ".join(f"{self.std[n]:>{w[n]}.4f}" for n in names)])

    def to_dict(self) -> dict:
        return {"folds": self.folds, "mean": self.mean, "std": self.std, "seconds": self.seconds, "config": self.config}


def cross_validate(model, x, y=None, *, cv=DEFAULT_FOLDS, epochs: int | None = None, batch_size: int | None = None,
                   seed: int = 0, preprocess=None, groups=None, callbacks=None, verbose: int = 0,
                   fit_kwargs: dict | None = None, strategy=None, **overrides) -> CVResult:
    """k-fold cross-validation: a fresh model trained and validated on each fold.

    Args:
        model: a zoo model name (built with ``zoo.create_model``, fitted to the data's
            shape and classes) or a function returning a compiled ``keras.Model``
            (it may take a ``seed`` keyword).
        x: features, or a :class:`TFDSFolds` (then ``y`` is None and ``cv`` is ignored).
        y: integer class labels.
        cv: number of folds (stratified, shuffled, seeded by ``seed``) or any
            scikit-learn splitter (``KFold(5, shuffle=True)``, ``GroupKFold``...).
        epochs, batch_size: for a zoo name, as :func:`zoo.registry.resolve` decides (the
            registry's training settings, and the learning rate that goes with the batch
            size, as ``python -m zoo train``); for a function, ``DEFAULT_TRAIN``'s.
        seed: seeds the folds and each fold's model (weights, dropout, shuffling).
        preprocess: a scikit-learn transformer (e.g. ``StandardScaler()``) refitted on
            each fold's training part, so no statistics leak from the validation fold.
        groups: group labels for group splitters.
        callbacks: Keras callbacks (deep-copied for each fold).
        verbose: 0 silent, 1 a progress bar over the folds, 2 also Keras's per-epoch bars.
        fit_kwargs: more ``model.fit`` arguments (``class_weight``...).
        strategy: None or ``"default"`` (one device), ``"mirrored"`` (every local device) or a
            ``tf.distribute.Strategy`` on one machine; each fold's model is built in its scope, and
            ``batch_size`` is the global batch, as in :func:`zoo.training.train` (:mod:`zoo.distribute`).
            ``"multi_worker"`` is refused: the folds run in one process.
        **overrides: factory arguments for a zoo name (``dropout=0.2``...).

    Returns:
        :class:`CVResult` with per-fold metrics (``loss``, ``accuracy``, ``val_loss``,
        ``val_accuracy``, and for a classifier ``val_macro_f1`` and, above 5 classes,
        ``val_top5_accuracy``: :mod:`zoo.metrics`), their mean and std.

    Raises:
        ValueError, TypeError: bad data, folds < 2, more folds than samples, a class
            with fewer samples than stratified folds, unknown model or argument.
        FloatingPointError: a fold's training diverged (its loss became NaN or
            infinite; ``TerminateOnNaN`` stopped it).

    Example:
        >>> import zoo
        >>> from tuning import cross_validate
        >>> (x, y), _ = zoo.datasets.load("iris")
        >>> cv = cross_validate("dense_classifier", x, y, cv=5, epochs=50)   # doctest: +SKIP
        >>> cv.mean["val_accuracy"], cv.std["val_accuracy"]                   # doctest: +SKIP
        (0.96, 0.03)
    """
    seed = checks.positive_int("seed", seed, minimum=0)
    strategy = _cv_strategy(strategy)
    build, epochs, batch_size, folds, config = _prepare_cv(model, x, y, cv=cv, epochs=epochs, batch_size=batch_size,
                                                           seed=seed, preprocess=preprocess, groups=groups,
                                                           overrides=overrides)
    from tqdm.auto import tqdm

    start = time.perf_counter()
    per_fold = []
    for i in tqdm(range(len(folds)), desc="folds", unit="fold", disable=verbose < 1):
        fold_seed = derive_seed(seed, "fold", i)
        per_fold.append(run_fold(lambda: _built_in(strategy, build, fold_seed), lambda m, **kw: m.fit(**kw), folds, i,
                                 batch_size=batch_size, seed=fold_seed, epochs=epochs,
                                 callbacks=copy.deepcopy(list(callbacks or [])), verbose=max(0, verbose - 1),
                                 fit_kwargs=fit_kwargs))
    return CVResult.from_folds(per_fold, seconds=round(time.perf_counter() - start, 3), config=config)


def _cv_strategy(strategy):
    """The ``tf.distribute`` strategy for the folds (None: one device); a multi-worker one is refused."""
    from zoo import distribute

    if isinstance(strategy, str) and distribute.check_strategy(strategy) == "multi_worker":
        raise ValueError("strategy: cross_validate trains its folds in one process; use 'mirrored' (every local "
                         "device) or 'default', or run python -m zoo train --strategy multi_worker per configuration")
    strategy = distribute.make_strategy(strategy)
    if distribute.num_workers(strategy) > 1:
        raise ValueError("strategy: cross_validate trains its folds in one process; a multi-worker strategy is not "
                         "supported, use 'mirrored' or 'default'")
    return strategy


def _built_in(strategy, build, seed):
    """``build(seed)`` in ``strategy``'s scope (its variables become the strategy's), or plainly."""
    if strategy is None:
        return build(seed)
    with strategy.scope():
        return build(seed)


def _prepare_cv(model, x, y, *, cv, epochs, batch_size, seed, preprocess, groups, overrides):
    """Check everything before any training; return ``(build(seed), epochs, batch_size, folds, config)``."""
    if isinstance(model, str):
        name = model
        # A bad name, epoch count or batch size fails before the data are split.
        registry.resolve(name, overrides=overrides, batch_size=batch_size, epochs=epochs)
    elif callable(model):
        if overrides:
            raise TypeError(f"factory arguments ({', '.join(overrides)}) apply to a zoo model name, not to a "
                            "building function; set them inside the function")
        name = getattr(model, "__name__", "model")
        epochs = checks.positive_int("epochs", DEFAULT_TRAIN.epochs if epochs is None else epochs)
        batch_size = checks.positive_int("batch_size", DEFAULT_TRAIN.batch_size if batch_size is None else batch_size)
    else:
        raise TypeError(f"model must be a zoo model name or a function returning a keras.Model, got {model!r}")

    folds = make_folds(x, y, cv=cv, seed=seed, preprocess=preprocess, groups=groups)
    if isinstance(model, str):
        resolved = registry.resolve(name, feature_shape=folds.feature_shape, num_classes=folds.num_classes,
                                    overrides=overrides, batch_size=batch_size, epochs=epochs)
        epochs, batch_size, kwargs = resolved.epochs, resolved.batch_size, resolved.factory_kwargs

        def build(s):
            return zoo.create_model(name, seed=s, **kwargs)
    else:
        takes_seed = "seed" in inspect.signature(model).parameters

        def build(s):
            return model(seed=s) if takes_seed else model()
    # Bad arguments, or data the model cannot take, fail here, before any training.
    probe = build(seed)
    _check_fits_model(folds, probe)
    config = {"model": name, "overrides": {k: repr(v) for k, v in overrides.items()}, "epochs": epochs,
              "batch_size": batch_size, "seed": seed, "cv": repr(cv) if not isinstance(x, TFDSFolds) else repr(x.splits),
              "preprocess": repr(preprocess)}
    return build, epochs, batch_size, folds, config


def _check_fits_model(folds, model) -> None:
    """Raise unless the model takes the folds' features and has an output for every class."""
    import keras

    if not isinstance(model, keras.Model):
        raise TypeError(f"model: the building function must return a keras.Model, got {type(model).__name__}")
    if isinstance(model.input_shape, list) or isinstance(model.output_shape, list):
        return  # several inputs or outputs: Keras checks them when it trains
    shape, classes = tuple(model.input_shape[1:]), int(model.output_shape[-1])
    if isinstance(folds, ArrayFolds):
        checks.xy(folds.x, folds.y, num_classes=classes, feature_shape=shape)
    elif tuple(folds.feature_shape) != shape:
        raise ValueError(f"x: {folds.name} examples have shape {folds.feature_shape}, the model takes {shape}")
