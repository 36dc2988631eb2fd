"""k-fold cross-validation of Keras models, and a KerasTuner random search scored by it.

The notes (004): with little data, one validation split gives a noisy choice;
k-fold cross-validation trains k models, each validated on a different fold,
and scores a configuration by the mean over the folds (the standard deviation
says how much to trust the difference between two configurations). The test
set is never touched: it is used once, at the end, on the retrained best model.

* :func:`cross_validate` -- any zoo model name or model-building function, any
  scikit-learn splitter; a fresh model per fold; per-fold metrics, mean, std.
* :class:`CVRandomSearch` -- KerasTuner's ``RandomSearch`` whose trial score is
  the k-fold mean (its ``run_trial`` overridden, as KerasTuner's maintainers
  suggest in keras-team/keras-tuner#139); fold scores and std stay with each trial.
* :class:`TFDSFolds` -- k-fold on a TensorFlow Datasets split through TFDS's
  split slicing (``train[:20%]+train[40%:]``), as the TFDS guide documents.

No leaks between folds: every fold builds a new model under its own seed
(weights, dropout and shuffling depend only on the seed and the fold), and a
``preprocess`` transformer (e.g. ``StandardScaler()``) is cloned and fitted on
the fold's training part only.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import inspect
import json
import os
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import keras_tuner
import numpy as np

import zoo
from zoo import _checks, _io, registry, training

from . import _oracle, results as results_lib, statefiles
from .hypermodels import DEFAULT_BATCH_SIZE, ZooHyperModel, fit_to_data

# --------------------------------------------------------------------------- defaults, in one place
DEFAULT_FOLDS = 5          # the notes' k; 5 or 10 is usual, 5 halves the cost
DEFAULT_EPOCHS = 10        # for a model-building function (a zoo name uses its registry's epochs)
DEFAULT_OBJECTIVE = "val_accuracy"
EVAL_BATCH_SIZE = 256      # evaluation batch: large is faster and does not change the metric
CONFIG_JSON = "search_config.json"  # what a search directory was started with (checked on resume)
TENSORBOARD_DIR = "tensorboard"
#: Datasets whose loader learns statistics from data (iris: standardisation). Cross-validation
#: loads them raw and refits this transformer on each fold's training part.
FITTED_PREPROCESSING = {"iris": "sklearn.preprocessing.StandardScaler"}


# =========================================================================== folds
def holdout(fraction: float = 0.1, *, seed: int = 0):
    """A single stratified, shuffled validation split, as a scikit-learn splitter.

    ``CVRandomSearch(cv=holdout(0.1))`` is a plain search on one validation split.

    Example:
        >>> holdout(0.2).get_n_splits()
        1
    """
    from sklearn.model_selection import StratifiedShuffleSplit

    fraction = _checks.number_in_range("fraction", fraction, low=0.0, high=1.0, low_inclusive=False,
                                       high_inclusive=False)
    return StratifiedShuffleSplit(n_splits=1, test_size=fraction, random_state=_checks.positive_int("seed", seed, minimum=0))


def make_splitter(cv, *, seed: int = 0):
    """``cv`` as a scikit-learn splitter: an int k >= 2 is stratified k-fold, shuffled and seeded.

    Raises:
        TypeError: ``cv`` is neither an integer nor an object with ``split`` and ``get_n_splits``.
        ValueError: an integer below 2.
    """
    from sklearn.model_selection import StratifiedKFold

    if isinstance(cv, (int, np.integer)) and not isinstance(cv, bool):
        if cv < 2:
            raise ValueError(f"cv must be a number of folds >= 2 or a scikit-learn splitter, got {cv!r} "
                             "(one fold leaves nothing to validate on; for one validation split use cv=holdout(0.1))")
        return StratifiedKFold(int(cv), shuffle=True, random_state=seed)
    if hasattr(cv, "split") and hasattr(cv, "get_n_splits"):
        return cv
    raise TypeError(f"cv must be a number of folds >= 2 or a scikit-learn splitter (KFold, StratifiedKFold, ...), "
                    f"got {cv!r} ({type(cv).__name__})")


def check_splits(splitter, x, y, groups=None) -> list[tuple[np.ndarray, np.ndarray]]:
    """The (train, validation) index pairs of ``splitter`` on ``(x, y)``, checked.

    Raises:
        ValueError: more folds than samples, a class with fewer samples than the
            folds of a stratified splitter, an empty part, or a validation fold of
            a single class when ``y`` has several (an unshuffled split of sorted data).
    """
    from sklearn.model_selection import RepeatedStratifiedKFold, StratifiedKFold

    n = len(y)
    k = splitter.get_n_splits(x, y, groups)
    n_folds = getattr(splitter, "n_splits", k)
    if isinstance(n_folds, int) and n_folds > n and "ShuffleSplit" not in type(splitter).__name__:
        raise ValueError(f"cv: {n_folds} folds but only {n} samples; use at most {n} folds")
    if isinstance(splitter, (StratifiedKFold, RepeatedStratifiedKFold)):
        classes, counts = np.unique(y, return_counts=True)
        small = [(int(c), int(m)) for c, m in zip(classes, counts) if m < n_folds]
        if small:
            c, m = small[0]
            raise ValueError(f"y: class {c} has {m} sample(s), fewer than the {n_folds} folds of stratified "
                             f"cross-validation (every fold needs each class); use cv={max(2, min(counts))} "
                             "or fewer folds, or collect more samples of that class")
    try:
        splits = [(np.asarray(tr), np.asarray(va)) for tr, va in splitter.split(x, y, groups)]
    except ValueError as exc:
        raise ValueError(f"cv: {splitter!r} cannot split {n} samples: {exc}") from None
    n_classes = len(np.unique(y))
    for i, (tr, va) in enumerate(splits, start=1):
        if len(tr) == 0 or len(va) == 0:
            raise ValueError(f"cv: fold {i} of {splitter!r} has an empty {'training' if len(tr) == 0 else 'validation'} part")
        if n_classes > 1 and len(np.unique(y[va])) == 1:
            raise ValueError(
                f"cv: validation fold {i} of {splitter!r} holds a single class ({int(y[va][0])}) although y has "
                f"{n_classes}; the data look sorted by class and the splitter takes contiguous rows. Use "
                "StratifiedKFold(shuffle=True) (cv=k does) or KFold(shuffle=True)")
    return splits


def _transform(preprocess, x):
    """Apply a fitted scikit-learn transformer to samples of any shape (it sees them flattened)."""
    return preprocess.transform(x.reshape(len(x), -1)).reshape(x.shape).astype("float32")


def _fit_preprocess(preprocess, x):
    from sklearn.base import clone

    return clone(preprocess).fit(x.reshape(len(x), -1))


class ArrayFolds:
    """k folds of NumPy data: ``fold(i)`` gives the arguments of ``fit`` and ``evaluate``.

    Args:
        x, y: checked arrays.
        splits: ``(train_indices, validation_indices)`` pairs (see :func:`check_splits`).
        preprocess: an unfitted scikit-learn transformer, refitted on each training part.
    """

    def __init__(self, x, y, splits, preprocess=None):
        self.x, self.y, self.splits, self.preprocess = x, y, splits, preprocess

    def __len__(self):
        return len(self.splits)

    @property
    def feature_shape(self):
        return tuple(self.x.shape[1:])

    @property
    def num_classes(self):
        return int(self.y.max()) + 1

    def fold(self, i: int, *, batch_size: int | None, seed: int):
        tr, va = self.splits[i]
        x_tr, x_va = self.x[tr], self.x[va]
        if self.preprocess is not None:
            fitted = _fit_preprocess(self.preprocess, x_tr)  # statistics of this training part only
            x_tr, x_va = _transform(fitted, x_tr), _transform(fitted, x_va)
        fit = {"x": x_tr, "y": self.y[tr], "shuffle": True}
        if batch_size:
            fit["batch_size"] = batch_size
        return fit, {"x": x_va, "y": self.y[va], "batch_size": EVAL_BATCH_SIZE}

    def full(self, *, batch_size: int | None, seed: int):
        """Fit arguments for the whole training data (and the fitted preprocessing, or None)."""
        fitted = _fit_preprocess(self.preprocess, self.x) if self.preprocess is not None else None
        x = _transform(fitted, self.x) if fitted is not None else self.x
        fit = {"x": x, "y": self.y, "shuffle": True}
        if batch_size:
            fit["batch_size"] = batch_size
        return fit, fitted

    def fingerprint(self) -> dict:
        rows = np.linspace(0, len(self.x) - 1, num=min(len(self.x), 1000)).astype(int)
        h = hashlib.sha1(np.ascontiguousarray(self.x[rows]).tobytes())
        h.update(np.ascontiguousarray(self.y).tobytes())
        return {"shape": list(self.x.shape), "sha1": h.hexdigest(), "folds": len(self),
                "preprocess": repr(self.preprocess)}


class TFDSFolds:
    """k-fold cross-validation over a TensorFlow Datasets split, by TFDS split slicing.

    Fold ``i`` validates on ``train[a%:b%]`` and trains on ``train[:a%]+train[b%:]``,
    the k-fold recipe of the TFDS "Splits and slicing" guide. TFDS writes a
    dataset's examples in a hashed (pseudo-random) order when it prepares it,
    so a contiguous slice is a random sample, not one class; the training part
    is also shuffled every epoch.

    Args:
        name: a TFDS dataset name, e.g. ``"mnist"`` (with ``(input, label)`` supervised keys).
        folds: k, from 2 to 100 (slices are whole percents).
        split: the split to cross-validate (the test split stays untouched).
        data_dir: TFDS data directory (default: ``$ZOO_DATA_DIR/tensorflow_datasets`` or TFDS's own).
        preprocess: ``fn(x, y) -> (x, y)`` applied to each example; default: images
            cast to float32 and scaled to [0, 1], as ``zoo.datasets`` does.
        shuffle_buffer: buffer of the per-epoch shuffle of the training part.

    Example:
        >>> folds = TFDSFolds("mnist", folds=5)          # doctest: +SKIP
        >>> folds.splits[1]
        ('train[:20%]+train[40%:]', 'train[20%:40%]')
    """

    def __init__(self, name: str, folds: int = DEFAULT_FOLDS, *, split: str = "train", data_dir=None,
                 preprocess=None, shuffle_buffer: int = 10_000):
        folds = _checks.positive_int("folds", folds)
        if folds < 2 or folds > 100:
            raise ValueError(f"folds must be an integer in [2, 100] (TFDS slices are whole percents), got {folds}")
        if not isinstance(split, str) or not split.isidentifier():
            raise ValueError(f"split must be a TFDS split name such as 'train' (no slicing), got {split!r}")
        self.name, self.k, self.split = name, folds, split
        if data_dir is None and os.environ.get(zoo.datasets.DATA_DIR_ENV):
            data_dir = Path(os.environ[zoo.datasets.DATA_DIR_ENV]) / "tensorflow_datasets"
        self.data_dir = None if data_dir is None else str(data_dir)
        self.preprocess = preprocess or _scale_images
        self.shuffle_buffer = _checks.positive_int("shuffle_buffer", shuffle_buffer)
        edges = [round(100 * i / folds) for i in range(folds + 1)]
        self.splits = []
        for a, b in zip(edges[:-1], edges[1:]):
            train = "+".join(([f"{split}[:{a}%]"] if a > 0 else []) + ([f"{split}[{b}%:]"] if b < 100 else []))
            self.splits.append((train, f"{split}[{a}%:{b}%]"))
        info = self._builder().info
        keys = info.supervised_keys
        if not keys:
            raise ValueError(f"{name}: TFDS dataset has no (input, label) supervised keys; cross-validation needs them")
        self._input_key, self._label_key = keys[0], keys[1]
        n = info.splits[split].num_examples if split in info.splits else 0
        if n and n < folds:
            raise ValueError(f"folds: {folds} folds but {name}'s {split!r} split has only {n} examples")

    def _builder(self):
        import tensorflow_datasets as tfds

        return tfds.builder(self.name, data_dir=self.data_dir)

    def __len__(self):
        return self.k

    @property
    def feature_shape(self):
        return tuple(int(d) for d in self._builder().info.features[self._input_key].shape)

    @property
    def num_classes(self):
        return int(self._builder().info.features[self._label_key].num_classes)

    def load(self, i: int):
        """``(train, validation)`` ``tf.data`` datasets of fold ``i`` (unbatched, preprocessed)."""
        import tensorflow_datasets as tfds

        offline = os.environ.get(zoo.datasets.OFFLINE_ENV, "") not in ("", "0")
        train, val = tfds.load(self.name, split=list(self.splits[i]), as_supervised=True, data_dir=self.data_dir,
                               download=not offline)
        return train.map(self.preprocess), val.map(self.preprocess)

    def fold(self, i: int, *, batch_size: int | None, seed: int):
        import tensorflow as tf

        train, val = self.load(i)
        bs = batch_size or DEFAULT_BATCH_SIZE
        train = train.shuffle(self.shuffle_buffer, seed=seed, reshuffle_each_iteration=True).batch(bs)
        # shuffle=False: the dataset shuffles itself (Keras cannot shuffle a tf.data pipeline)
        return {"x": train.prefetch(tf.data.AUTOTUNE), "shuffle": False}, {"x": val.batch(EVAL_BATCH_SIZE)}

    def full(self, *, batch_size: int | None, seed: int):
        import tensorflow as tf
        import tensorflow_datasets as tfds

        offline = os.environ.get(zoo.datasets.OFFLINE_ENV, "") not in ("", "0")
        ds = tfds.load(self.name, split=self.split, as_supervised=True, data_dir=self.data_dir, download=not offline)
        ds = ds.map(self.preprocess).shuffle(self.shuffle_buffer, seed=seed).batch(batch_size or DEFAULT_BATCH_SIZE)
        return {"x": ds.prefetch(tf.data.AUTOTUNE), "shuffle": False}, None

    def fingerprint(self) -> dict:
        return {"tfds": self.name, "split": self.split, "folds": self.k, "data_dir": self.data_dir}


def _scale_images(x, y):
    import tensorflow as tf

    if x.dtype == tf.uint8:
        x = tf.cast(x, tf.float32) / 255.0
    return x, y


def _derive_seed(*parts) -> int:
    """A seed in [0, 2**31) that depends only on ``parts`` (the user's seed, the trial, the fold)."""
    words = [p if isinstance(p, int) else zlib.crc32(str(p).encode()) for p in parts]
    return int(np.random.SeedSequence(words).generate_state(1)[0] % (2**31))


def _run_fold(build, fit, folds, i, *, batch_size, seed, epochs, callbacks=(), validate_each_epoch=False,
              verbose=0, fit_kwargs=None) -> dict:
    """Train a fresh model on fold ``i``'s training part; return its metrics (validation ones prefixed ``val_``).

    Training metrics are those of the last epoch; validation metrics come from one
    ``evaluate`` of the final model on the held-out fold.
    """
    import keras

    keras.backend.clear_session(free_memory=False)  # fresh layer names; the Python GC is too slow to run per fold
    keras.utils.set_random_seed(seed)               # weights, dropout and shuffling: a function of the seed only
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
    return metrics


# =========================================================================== cross_validate
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
        head = "fold  " + "  ".join(f"{n:>14}" for n in names)
        rows = [f"{i:>4}  " + "  ".join(f"{f[n]:>14.4f}" for n in names) for i, f in enumerate(self.folds, start=1)]
        return "\n".join([head, *rows, "mean  " + "  ".join(f"{self.mean[n]:>14.4f}" for n in names),
                          " std  " + "  ".join(f"{self.std[n]:>14.4f}" for n in names)])

    def to_dict(self) -> dict:
        return {"folds": self.folds, "mean": self.mean, "std": self.std, "seconds": self.seconds, "config": self.config}


def cross_validate(model, x, y=None, *, cv=DEFAULT_FOLDS, epochs: int | None = None, batch_size: int | None = None,
                   seed: int = 0, preprocess=None, groups=None, callbacks=None, verbose: int = 0,
                   fit_kwargs: dict | None = None, **overrides) -> CVResult:
    """k-fold cross-validation: a fresh model trained and validated on each fold.

    Args:
        model: a zoo model name (built with ``zoo.create_model``, fitted to the data's
            shape and classes) or a function returning a compiled ``keras.Model``
            (it may take a ``seed`` keyword).
        x: features, or a :class:`TFDSFolds` (then ``y`` is None and ``cv`` is ignored).
        y: integer class labels.
        cv: number of folds (stratified, shuffled, seeded by ``seed``) or any
            scikit-learn splitter (``KFold(5, shuffle=True)``, ``GroupKFold``...).
        epochs, batch_size: default to the registry's training settings for a zoo
            name, else ``DEFAULT_EPOCHS`` and ``DEFAULT_BATCH_SIZE``.
        seed: seeds the folds and each fold's model (weights, dropout, shuffling).
        preprocess: a scikit-learn transformer (e.g. ``StandardScaler()``) refitted on
            each fold's training part, so no statistics leak from the validation fold.
        groups: group labels for group splitters.
        callbacks: Keras callbacks (deep-copied for each fold).
        verbose: 0 silent, 1 a progress bar over the folds, 2 also Keras's per-epoch bars.
        fit_kwargs: more ``model.fit`` arguments (``class_weight``...).
        **overrides: factory arguments for a zoo name (``dropout=0.2``...).

    Returns:
        :class:`CVResult` with per-fold metrics (``loss``, ``accuracy``, ``val_loss``,
        ``val_accuracy``...), their mean and std.

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
    seed = _checks.positive_int("seed", seed, minimum=0)
    build, epochs, batch_size, folds, config = _prepare_cv(model, x, y, cv=cv, epochs=epochs, batch_size=batch_size,
                                                           seed=seed, preprocess=preprocess, groups=groups,
                                                           overrides=overrides)
    from tqdm.auto import tqdm

    start = time.perf_counter()
    per_fold = []
    for i in tqdm(range(len(folds)), desc="folds", unit="fold", disable=verbose < 1):
        fold_seed = _derive_seed(seed, "fold", i)
        per_fold.append(_run_fold(lambda: build(fold_seed), lambda m, **kw: m.fit(**kw), folds, i,
                                  batch_size=batch_size, seed=fold_seed, epochs=epochs,
                                  callbacks=copy.deepcopy(list(callbacks or [])), verbose=max(0, verbose - 1),
                                  fit_kwargs=fit_kwargs))
    return CVResult.from_folds(per_fold, seconds=round(time.perf_counter() - start, 3), config=config)


def _prepare_cv(model, x, y, *, cv, epochs, batch_size, seed, preprocess, groups, overrides):
    """Check everything before any training; return ``(build(seed), epochs, batch_size, folds, config)``."""
    if isinstance(model, str):
        entry = registry.get_entry(model)
        name = model
        epochs = epochs if epochs is not None else entry.train.get("epochs", DEFAULT_EPOCHS)
        batch_size = batch_size if batch_size is not None else entry.train.get("batch_size", DEFAULT_BATCH_SIZE)
    elif callable(model):
        if overrides:
            raise TypeError(f"factory arguments ({', '.join(overrides)}) apply to a zoo model name, not to a "
                            "building function; set them inside the function")
        name = getattr(model, "__name__", "model")
        epochs = DEFAULT_EPOCHS if epochs is None else epochs
        batch_size = DEFAULT_BATCH_SIZE if batch_size is None else batch_size
    else:
        raise TypeError(f"model must be a zoo model name or a function returning a keras.Model, got {model!r}")
    epochs = _checks.positive_int("epochs", epochs)
    batch_size = _checks.positive_int("batch_size", batch_size)

    folds = _make_folds(x, y, cv=cv, seed=seed, preprocess=preprocess, groups=groups)
    if isinstance(model, str):
        kwargs = fit_to_data(name, folds.feature_shape, folds.num_classes, overrides)
        learning_rate = training.scaled_learning_rate(name, batch_size, overrides)  # as `python -m zoo train`
        if learning_rate is not None:
            kwargs["learning_rate"] = learning_rate

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
        _checks.xy(folds.x, folds.y, num_classes=classes, feature_shape=shape)
    elif tuple(folds.feature_shape) != shape:
        raise ValueError(f"x: {folds.name} examples have shape {folds.feature_shape}, the model takes {shape}")


def _make_folds(x, y, *, cv, seed, preprocess, groups, num_classes=None, feature_shape=None):
    if isinstance(x, TFDSFolds):
        if y is not None:
            raise ValueError("y must be None when x is a TFDSFolds (the labels come from the dataset)")
        return x
    x, y = _checks.xy(x, y, num_classes=num_classes, feature_shape=feature_shape)
    splitter = make_splitter(cv, seed=seed)
    if preprocess is not None and not (hasattr(preprocess, "fit") and hasattr(preprocess, "transform")):
        raise TypeError(f"preprocess must be a scikit-learn transformer (with fit and transform), got {preprocess!r}")
    return ArrayFolds(x, y, check_splits(splitter, x, y, groups), preprocess)


# =========================================================================== CVRandomSearch
@dataclass
class BestModel:
    """The best configuration retrained on all the training data.

    Attributes:
        model: the trained ``keras.Model``.
        preprocess: the transformer fitted on all the training data (None if none).
        trial_id, hyperparameters: which trial it is.
    """

    model: object
    preprocess: object
    trial_id: str
    hyperparameters: dict

    def _x(self, x):
        return _transform(self.preprocess, np.asarray(x, dtype="float32")) if self.preprocess is not None else x

    def evaluate(self, x, y=None) -> dict:
        """Metrics on ``(x, y)`` (a test set: use it once)."""
        kwargs = {"x": self._x(x), "y": y, "batch_size": EVAL_BATCH_SIZE} if y is not None else {"x": x}
        return {k: float(v) for k, v in self.model.evaluate(**kwargs, verbose=0, return_dict=True).items()}

    def predict(self, x):
        return self.model.predict(self._x(x), batch_size=EVAL_BATCH_SIZE, verbose=0)


@contextlib.contextmanager
def _ctrl_c_seen():
    """Note each Ctrl-C (SIGINT) that arrives while the block runs; yields the list of them.

    Python raises ``KeyboardInterrupt`` wherever the main thread is when Ctrl-C
    arrives; inside TensorFlow's tracing it can come out as another error (seen:
    ``RuntimeError: Exiting variable_creator_scope without proper nesting``),
    which KerasTuner would record as a failed trial before going on with the
    search. :meth:`CVRandomSearch.run_trial` turns an error that follows a Ctrl-C
    back into ``KeyboardInterrupt``. The handler still raises as Python's does;
    outside the main thread, or where SIGINT is ignored or not Python's, nothing
    is installed.
    """
    import signal
    import threading

    seen = []
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or not callable(previous):
        yield seen
        return

    def note(signum, frame):
        seen.append(signum)
        previous(signum, frame)

    signal.signal(signal.SIGINT, note)
    try:
        yield seen
    finally:
        signal.signal(signal.SIGINT, previous)


class CVRandomSearch(keras_tuner.RandomSearch):
    """KerasTuner random search whose trial score is the k-fold cross-validation mean.

    Each trial builds the hypermodel's model for every fold, trains it on the
    fold's training part and evaluates it on the held-out fold; the oracle gets
    the mean of every metric, its standard deviation (``<metric>_std``) and the
    objective on each fold (``<objective>_fold<i>``), so all of it is stored with
    the trial in KerasTuner's own ``trial.json``. Per-epoch checkpoints are not
    written (about 1 s a trial on iris): the best configuration is retrained on
    all the training data instead (:meth:`retrain_best`).

    Resume: a tuner created again on the same ``directory``/``project_name`` with
    ``overwrite=False`` reloads the search; a trial interrupted by Ctrl-C or a
    killed process runs again (same seeds) and every trial is counted once.
    Distributed: KerasTuner's chief/worker mode, set by the environment variables
    ``KERASTUNER_TUNER_ID``, ``KERASTUNER_ORACLE_IP``, ``KERASTUNER_ORACLE_PORT``.

    Args:
        hypermodel: a ``keras_tuner.HyperModel`` (see :func:`tuning.hypermodel`), a
            build function ``fn(hp) -> keras.Model``, or a zoo model name.
        objective: a metric the model reports, ``val_`` prefixed for the held-out
            folds (default ``"val_accuracy"``), or a ``keras_tuner.Objective``.
        max_trials: number of configurations to try (>= 1).
        cv: number of folds (stratified, shuffled, seeded) or a scikit-learn
            splitter; :func:`holdout` for a single validation split.
        seed: makes the search repeatable: the sampled configurations, the folds,
            and every model's weights, dropout and shuffling.
        preprocess: scikit-learn transformer refitted on each fold's training part.
        directory, project_name: where KerasTuner's state and the results files go.
        overwrite: start anew instead of resuming.
        tensorboard: write TensorBoard logs with the HParams dashboard to
            ``<project>/tensorboard`` (per fold, and each trial's k-fold mean).
        worker_timeout: distributed mode: seconds of silence after which a worker's
            trial is given to another worker.
        default_first: the first trial is the hypermodel's default configuration (the
            zoo model as the textbook sets it), a baseline; then random samples.
        **kwargs: passed to ``keras_tuner.Tuner`` (``max_consecutive_failed_trials``...).

    A trial whose training diverges (loss NaN or infinite: ``TerminateOnNaN`` stops
    the fold) is recorded as FAILED with that message, counted once and not retried;
    the search goes on (KerasTuner stops it after ``max_consecutive_failed_trials``,
    default 3, failures in a row).

    Raises:
        ValueError, TypeError: bad argument (max_trials < 1, folds < 2, an objective the
            model does not report, unknown model, a chief port already in use...).

    Example:
        >>> from tuning import CVRandomSearch, hypermodel
        >>> tuner = CVRandomSearch(hypermodel("dense_classifier"), max_trials=10, cv=5,
        ...                        directory="runs/tune", project_name="iris")       # doctest: +SKIP
        >>> tuner.search(x, y, epochs=30)                                           # doctest: +SKIP
        >>> tuner.results()[0]["score"]                                             # doctest: +SKIP
    """

    def __init__(self, hypermodel, objective=DEFAULT_OBJECTIVE, max_trials: int = 10, *, cv=DEFAULT_FOLDS,
                 seed: int = 0, preprocess=None, directory=None, project_name=None, overwrite: bool = False,
                 tensorboard: bool = False, worker_timeout: float = _oracle.DEFAULT_WORKER_TIMEOUT,
                 default_first: bool = True, max_consecutive_failed_trials: int = 3, **kwargs):
        # Every check runs before the directory is touched, so a bad argument changes nothing there.
        max_trials = _checks.positive_int("max_trials", max_trials)
        seed = _checks.positive_int("seed", seed, minimum=0)
        worker_timeout = _checks.positive("worker_timeout", worker_timeout)
        if isinstance(hypermodel, str):
            hypermodel = ZooHyperModel(hypermodel)
        if not (isinstance(hypermodel, keras_tuner.HyperModel) or callable(hypermodel)):
            raise TypeError(f"hypermodel must be a keras_tuner.HyperModel, a build function or a zoo model name, "
                            f"got {hypermodel!r}")
        self.splitter = make_splitter(cv, seed=seed)
        if preprocess is not None and not (hasattr(preprocess, "fit") and hasattr(preprocess, "transform")):
            raise TypeError(f"preprocess must be a scikit-learn transformer (with fit and transform), got {preprocess!r}")
        objective = self._check_objective(hypermodel, objective)
        role = _oracle.distributed_role()
        if role == "chief":
            _oracle.check_port_free(*_oracle.oracle_address())
        if overwrite and role == "worker":
            raise ValueError("overwrite: only the chief may start a search anew; a worker with overwrite=True would "
                             "delete the shared directory")
        directory = _io.ensure_writable_dir(directory or ".", argument="directory")

        self.preprocess = preprocess
        self.tensorboard = bool(tensorboard)
        self.worker_timeout = worker_timeout
        self._folds = None
        oracle = _oracle.ZooOracle(
            objective=objective, max_trials=max_trials,
            seed=seed + 1,  # KerasTuner treats seed 0 as "no seed" and draws a random one
            max_consecutive_failed_trials=max_consecutive_failed_trials, worker_timeout=worker_timeout,
            default_first=default_first,
            on_trial_end=lambda o: results_lib.write_results(o, self.project_dir),
        )
        if not overwrite:  # a damaged state file is named before KerasTuner reloads it
            statefiles.check(directory / (project_name or "untitled_project"), check_config=role != "worker")
        # RandomSearch.__init__ would build its own oracle; go to Tuner's with ours.
        keras_tuner.Tuner.__init__(self, oracle, hypermodel, directory=str(directory), project_name=project_name,
                                   overwrite=overwrite, **kwargs)
        self.seed = seed

    # ------------------------------------------------------------------ checks
    def _check_objective(self, hypermodel, objective):
        """The objective must be a metric the model reports (checked on the default model)."""
        import keras

        name = objective.name if isinstance(objective, keras_tuner.Objective) else objective
        if not isinstance(name, str):
            raise TypeError(f"objective must be a metric name such as 'val_accuracy' or a keras_tuner.Objective, "
                            f"got {objective!r}")
        model = hypermodel.build(keras_tuner.HyperParameters()) if isinstance(hypermodel, keras_tuner.HyperModel) \
            else hypermodel(keras_tuner.HyperParameters())
        self._reference_shape = tuple(model.input_shape[1:]) if not isinstance(model.input_shape, list) else None
        self._reference_classes = int(model.output_shape[-1]) if not isinstance(model.output_shape, list) else None
        reported = reported_metrics(model)
        keras.backend.clear_session(free_memory=False)
        allowed = [*reported, *(f"val_{m}" for m in reported)]
        if reported and name not in allowed:
            raise ValueError(f"objective {name!r} is not reported by the model; it reports: {', '.join(allowed)} "
                             "(val_ = on the held-out folds)")
        if isinstance(objective, keras_tuner.Objective):
            return objective
        from keras_tuner.src.engine import objective as objective_lib

        return objective_lib.create_objective(name)  # infers max/min; an unknown custom name raises

    def _search_config(self, folds, epochs, fit_kwargs) -> dict:
        hm = self.hypermodel
        return {
            "hypermodel": hm.get_config() if isinstance(hm, ZooHyperModel) else _describe(hm),
            "objective": self.oracle.objective.name, "direction": self.oracle.objective.direction,
            "cv": repr(self.splitter) if isinstance(folds, ArrayFolds) else "tfds slices",
            "seed": self.seed, "epochs": epochs, "data": folds.fingerprint(),
            "fit": {k: repr(v) for k, v in sorted((fit_kwargs or {}).items())},
        }

    def _check_config(self, config: dict) -> None:
        """A resumed directory must hold the same search; otherwise say so and change nothing."""
        path = Path(self.project_dir) / CONFIG_JSON
        if path.is_file():
            saved = json.loads(path.read_text(encoding="utf-8"))
            if json.dumps(saved, sort_keys=True) != json.dumps(config, sort_keys=True, default=str):
                changed = [k for k in config if json.dumps(saved.get(k), sort_keys=True, default=str)
                           != json.dumps(config[k], sort_keys=True, default=str)]
                raise ValueError(f"directory: {self.project_dir} holds a search with other settings "
                                 f"({', '.join(changed)} differ); resume it with the same settings, pass "
                                 "overwrite=True (--overwrite) to start anew, or use another project_name/--dir")
        elif self._is_worker():
            return  # a worker on another machine may not share the directory
        if not self._is_worker():
            _io.write_json(path, json.loads(json.dumps(config, default=str)))

    # ------------------------------------------------------------------ KerasTuner overrides
    def _populate_initial_space(self):
        # Our hypermodels declare their whole space (conditional scopes included)
        # without building a model; KerasTuner's default builds one per scope.
        if isinstance(self.hypermodel, ZooHyperModel):
            hp = self.oracle.get_space()
            self.hypermodel.declare(hp)
            self.oracle.update_space(hp)
        else:
            super()._populate_initial_space()

    def save(self):
        """KerasTuner's state files, written atomically."""
        if not self._is_worker():
            self.oracle.save()
        _io.write_json(self._get_tuner_fname(), self.get_state())

    def search(self, x, y=None, *, epochs: int | None = None, groups=None, callbacks=None, verbose=1, **fit_kwargs):
        """Run (or resume) the search on training data ``(x, y)``.

        Args:
            x: features, or a :class:`TFDSFolds` (then ``y`` is None).
            y: integer class labels.
            epochs: per fold (default: the registry's for a zoo hypermodel, else ``DEFAULT_EPOCHS``).
            groups: group labels for group splitters.
            callbacks: Keras callbacks for every fit (deep-copied).
            verbose: 1 prints KerasTuner's trial summaries, 0 nothing.
            **fit_kwargs: more ``model.fit`` arguments (``class_weight``...); ``batch_size``
                only for a hypermodel that does not search it (a zoo hypermodel does).

        Raises:
            ValueError, TypeError: bad data or arguments; a directory holding another search.
        """
        for bad, why in (("validation_data", "cross-validation makes the validation folds: set cv=..."),
                         ("validation_split", "cross-validation makes the validation folds: set cv=...")):
            if bad in fit_kwargs:
                raise ValueError(f"{bad}: not accepted by CVRandomSearch.search; {why}")
        batch_size = fit_kwargs.pop("batch_size", None)
        if batch_size is not None:
            if isinstance(self.hypermodel, ZooHyperModel):
                raise ValueError("batch_size: not accepted by CVRandomSearch.search; it is a hyperparameter of the "
                                 "search: fix it with hypermodel(name, batch_size=N)")
            batch_size = _checks.positive_int("batch_size", batch_size)
        if epochs is None:
            epochs = (registry.get_entry(self.hypermodel.model_name).train.get("epochs", DEFAULT_EPOCHS)
                      if isinstance(self.hypermodel, ZooHyperModel) else DEFAULT_EPOCHS)
        epochs = _checks.positive_int("epochs", epochs)
        folds = _make_folds(x, y, cv=self.splitter, seed=self.seed, preprocess=self.preprocess, groups=groups,
                            num_classes=self._reference_classes, feature_shape=self._reference_shape)
        self._check_config(self._search_config(folds, epochs, {**fit_kwargs, "batch_size": batch_size}))
        self._folds, self._epochs, self._fit_kwargs, self._batch_size = folds, epochs, fit_kwargs, batch_size
        self._callbacks = list(callbacks or [])
        self.oracle.verbose = verbose
        role = _oracle.distributed_role()
        if role == "chief":
            self.save()
            _oracle.serve_chief(self.oracle, *_oracle.oracle_address())
        else:
            self.save()  # so that a process killed during its first trial resumes (KerasTuner reloads from this file)
            super().search(verbose=verbose)
        if role != "worker":
            results_lib.write_results(self.oracle, self.project_dir)  # the plot: write_results()

    def pre_create_trial(self):
        # While other workers finish, the oracle answers IDLE; ask again once a second, not in a busy loop.
        if getattr(self, "_asked_without_trial", False):
            time.sleep(_oracle.IDLE_POLL_SECONDS)
        self._asked_without_trial = True

    def on_trial_begin(self, trial):
        self._asked_without_trial = False
        super().on_trial_begin(trial)

    def on_trial_end(self, trial):
        # The oracle saves its own state at every change, and this tuner's file (written
        # when the search starts) never changes: KerasTuner's save of both here is redundant.
        self.oracle.end_trial(trial)

    def run_trial(self, trial, **kwargs):
        """Cross-validate one configuration; return the mean, std and per-fold value of every metric."""
        batch_size = self._trial_batch_size(trial.hyperparameters)
        heartbeat = None
        if self._is_worker():
            heartbeat = _oracle.Heartbeat(self.oracle, trial.trial_id,
                                          self.worker_timeout * _oracle.HEARTBEAT_FRACTION)
        start = time.perf_counter()
        with _ctrl_c_seen() as ctrl_c:
            try:
                per_fold = self._run_folds(trial, batch_size, heartbeat)
            except Exception as exc:
                if ctrl_c:  # an error that came out of a Ctrl-C is an interruption, not a failed trial
                    raise KeyboardInterrupt(f"trial {trial.trial_id} interrupted") from exc
                raise
        seconds = time.perf_counter() - start
        cv = CVResult.from_folds(per_fold)
        objective = self.oracle.objective.name
        if objective not in cv.mean:
            raise keras_tuner.errors.FatalValueError(
                f"objective {objective!r} is not among the metrics the model reported: {', '.join(cv.mean)}")
        report = {**cv.mean, **{f"{k}_std": v for k, v in cv.std.items()},
                  **{f"{objective}_fold{i}": f[objective] for i, f in enumerate(per_fold, start=1)},
                  "seconds": seconds}
        if self.tensorboard:
            self._write_hparams_summary(trial, cv.mean[objective], cv.std[objective])
        return report

    def _run_folds(self, trial, batch_size, heartbeat) -> list:
        """Each fold's metrics for the trial's configuration, fold after fold."""
        import keras

        hp = trial.hyperparameters
        per_fold = []
        for i in range(len(self._folds)):
            callbacks = self._deepcopy_callbacks(self._callbacks)
            if self.tensorboard:
                callbacks.append(keras.callbacks.TensorBoard(log_dir=os.path.join(self.project_dir, TENSORBOARD_DIR)))
                self._configure_tensorboard_dir(callbacks, trial, execution=i)  # per fold, with HParams
            if heartbeat is not None:
                heartbeat.beat(force=True)
                callbacks.append(heartbeat)
            try:
                per_fold.append(_run_fold(
                    lambda: self.hypermodel.build(hp), lambda m, **kw: self.hypermodel.fit(hp, m, **kw), self._folds,
                    i, batch_size=batch_size, seed=_derive_seed(self.seed, trial.trial_id, i), epochs=self._epochs,
                    callbacks=callbacks, validate_each_epoch=self.tensorboard, fit_kwargs=self._fit_kwargs))
            except FloatingPointError as exc:  # KerasTuner records the trial as FAILED (counted, not retried)
                raise keras_tuner.errors.FailedTrialError(f"trial {trial.trial_id}: {exc}") from None
        return per_fold

    def _write_hparams_summary(self, trial, mean, std):
        """One HParams session per trial with its k-fold mean, for TensorBoard's HParams dashboard."""
        import tensorflow as tf
        from keras_tuner.src.engine import tuner_utils
        from tensorboard.plugins.hparams import api as hparams_api

        name = self.oracle.objective.name
        logdir = os.path.join(self.project_dir, TENSORBOARD_DIR, str(trial.trial_id), "cv")
        with tf.summary.create_file_writer(logdir).as_default():
            hparams_api.hparams(tuner_utils.convert_hyperparams_to_hparams(trial.hyperparameters, hparams_api),
                                trial_id=str(trial.trial_id))
            tf.summary.scalar(f"cv_{name}_mean", mean, step=0)
            tf.summary.scalar(f"cv_{name}_std", std, step=0)

    def _trial_batch_size(self, hp):
        """The zoo hypermodel's (searched or fixed) batch size, else the one given to search(), else Keras's."""
        if isinstance(self.hypermodel, ZooHyperModel):
            return self.hypermodel.batch_size(hp)
        return getattr(self, "_batch_size", None)

    def load_model(self, trial):
        raise NotImplementedError("CVRandomSearch keeps no per-trial weights (it trains k models a trial); "
                                  "use tuner.retrain_best(x, y) to train the best configuration on all the data")

    # ------------------------------------------------------------------ results
    def results(self) -> list[dict]:
        """Every trial, best first: hyperparameters, fold scores, mean, std (see :func:`tuning.results.trial_rows`)."""
        return results_lib.best_first(results_lib.trial_rows(self.oracle), self.oracle.objective.direction)

    def results_table(self, limit: int | None = None) -> str:
        o = self.oracle.objective
        return results_lib.format_table(results_lib.trial_rows(self.oracle), o.name, o.direction, limit=limit)

    def write_results(self) -> dict:
        """Write ``results.csv``, ``results.json``, ``best_hyperparameters.json`` and ``scores.png``."""
        return results_lib.write_results(self.oracle, self.project_dir, plot=True)

    def retrain_best(self, x, y=None, *, epochs: int | None = None, verbose=0) -> BestModel:
        """Train the best configuration on all of ``(x, y)`` (the whole training set).

        Returns:
            :class:`BestModel`; evaluate it once on the test set.

        Raises:
            ValueError: no completed trial yet.
        """
        best = self.oracle.get_best_trials(1)
        if not best or best[0].status != "COMPLETED":
            raise ValueError(f"no completed trial in {self.project_dir}; run search() first")
        trial = best[0]
        if isinstance(x, TFDSFolds):
            folds = x
        else:
            xs, ys = _checks.xy(x, y, num_classes=self._reference_classes, feature_shape=self._reference_shape)
            folds = ArrayFolds(xs, ys, [], self.preprocess)
        epochs = _checks.positive_int("epochs", epochs if epochs is not None else getattr(self, "_epochs", DEFAULT_EPOCHS))
        import keras

        hp = trial.hyperparameters
        seed = _derive_seed(self.seed, trial.trial_id, "all")
        keras.backend.clear_session(free_memory=False)
        keras.utils.set_random_seed(seed)
        model = self.hypermodel.build(hp)
        fit_args, fitted = folds.full(batch_size=self._trial_batch_size(hp), seed=seed)
        self.hypermodel.fit(hp, model, **fit_args, **getattr(self, "_fit_kwargs", {}), epochs=epochs, verbose=verbose)
        return BestModel(model, fitted, str(trial.trial_id), dict(hp.values))


def _describe(hypermodel) -> str:
    """A name for a hypermodel that stays the same from run to run (no memory addresses)."""
    build = getattr(hypermodel, "build", None)
    if type(hypermodel).__name__ == "DefaultHyperModel" and build is not None:  # a plain build function
        return f"{getattr(build, '__module__', '')}.{getattr(build, '__qualname__', type(build).__name__)}"
    return f"{type(hypermodel).__module__}.{type(hypermodel).__qualname__}:{getattr(hypermodel, 'name', None)}"


def reported_metrics(model) -> list[str]:
    """Names of the metrics ``model.fit`` will report (``loss`` and the compiled metrics), from its compile config.

    Returns an empty list when the model is not compiled or its metrics cannot be named.
    """
    try:
        config = model.get_compile_config() or {}
    except Exception:  # not compiled
        return []
    names = ["loss"]
    metrics = config.get("metrics") or []
    if isinstance(metrics, dict):
        return []  # per-output metrics: names depend on outputs; let the run check it
    for m in metrics:
        if isinstance(m, str):
            names.append(m)
        elif isinstance(m, dict) and isinstance(m.get("config"), dict) and m["config"].get("name"):
            names.append(m["config"]["name"])
        else:
            return []
    return names
