"""Where the folds come from: scikit-learn splitters over arrays, and TFDS split slices.

* :func:`make_splitter` -- ``cv=k`` as a stratified, shuffled, seeded ``StratifiedKFold``;
  any scikit-learn splitter passes through (the zoo writes no index arithmetic of its own).
* :func:`check_splits` -- the splits, refused with a clear message where they cannot
  train or validate (more folds than samples, a class in too few rows, a one-class fold).
* :class:`ArrayFolds` -- k folds of NumPy data; a ``preprocess`` transformer (e.g.
  ``StandardScaler()``) is cloned and fitted on each fold's training part only.
* :class:`TFDSFolds` -- k-fold on a TensorFlow Datasets split through TFDS's
  split slicing (``train[:20%]+train[40%:]``), as the TFDS guide documents.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

import zoo
from zoo import checks, registry

DEFAULT_FOLDS = 5          # the notes' k; 5 or 10 is usual, 5 halves the cost
#: Epochs and batch size of a model-building function's fits (a zoo name uses its registry's).
DEFAULT_TRAIN = registry.TrainSpec()
#: Datasets whose loader learns statistics from data (iris: standardisation). Cross-validation
#: loads them raw and refits this transformer on each fold's training part.
FITTED_PREPROCESSING = {"iris": "sklearn.preprocessing.StandardScaler"}


def holdout(fraction: float = 0.1, *, seed: int = 0):
    """A single stratified, shuffled validation split, as a scikit-learn splitter.

    ``CVRandomSearch(cv=holdout(0.1))`` is a plain search on one validation split.

    Example:
        >>> holdout(0.2).get_n_splits()
        1
    """
    from sklearn.model_selection import StratifiedShuffleSplit

    fraction = checks.number_in_range("fraction", fraction, low=0.0, high=1.0, low_inclusive=False,
                                       high_inclusive=False)
    return StratifiedShuffleSplit(n_splits=1, test_size=fraction, random_state=checks.positive_int("seed", seed, minimum=0))


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


def transform_features(preprocess, x):
    """Apply a fitted scikit-learn transformer to samples of any shape (it sees them flattened)."""
    return preprocess.transform(x.reshape(len(x), -1)).reshape(x.shape).astype("float32")


def fit_preprocess(preprocess, x):
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
            fitted = fit_preprocess(self.preprocess, x_tr)  # statistics of this training part only
            x_tr, x_va = transform_features(fitted, x_tr), transform_features(fitted, x_va)
        fit = {"x": x_tr, "y": self.y[tr], "shuffle": True}
        if batch_size:
            fit["batch_size"] = batch_size
        return fit, {"x": x_va, "y": self.y[va],
                     "batch_size": registry.eval_batch_size(batch_size or DEFAULT_TRAIN.batch_size)}

    def full(self, *, batch_size: int | None, seed: int):
        """Fit arguments for the whole training data (and the fitted preprocessing, or None)."""
        fitted = fit_preprocess(self.preprocess, self.x) if self.preprocess is not None else None
        x = transform_features(fitted, self.x) if fitted is not None else self.x
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

    Example (not run by the doctests: MNIST is a download):
        >>> folds = TFDSFolds("mnist", folds=5)          # doctest: +SKIP
        >>> folds.splits[1]                                 # doctest: +SKIP
        ('train[:20%]+train[40%:]', 'train[20%:40%]')
    """

    def __init__(self, name: str, folds: int = DEFAULT_FOLDS, *, split: str = "train", data_dir=None,
                 preprocess=None, shuffle_buffer: int = 10_000):
        folds = checks.positive_int("folds", folds)
        if folds < 2 or folds > 100:
            raise ValueError(f"folds must be an integer in [2, 100] (TFDS slices are whole percents), got {folds}")
        if not isinstance(split, str) or not split.isidentifier():
            raise ValueError(f"split must be a TFDS split name such as 'train' (no slicing), got {split!r}")
        self.name, self.k, self.split = name, folds, split
        if data_dir is None and os.environ.get(zoo.datasets.DATA_DIR_ENV):
            data_dir = Path(os.environ[zoo.datasets.DATA_DIR_ENV]) / "tensorflow_datasets"
        self.data_dir = None if data_dir is None else str(data_dir)
        self.preprocess = preprocess or scale_images
        self.shuffle_buffer = checks.positive_int("shuffle_buffer", shuffle_buffer)
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
        bs = batch_size or DEFAULT_TRAIN.batch_size
        train = train.shuffle(self.shuffle_buffer, seed=seed, reshuffle_each_iteration=True).batch(bs)
        # shuffle=False: the dataset shuffles itself (Keras cannot shuffle a tf.data pipeline)
        return {"x": train.prefetch(tf.data.AUTOTUNE), "shuffle": False}, {"x": val.batch(registry.eval_batch_size(bs))}

    def full(self, *, batch_size: int | None, seed: int):
        import tensorflow as tf
        import tensorflow_datasets as tfds

        offline = os.environ.get(zoo.datasets.OFFLINE_ENV, "") not in ("", "0")
        ds = tfds.load(self.name, split=self.split, as_supervised=True, data_dir=self.data_dir, download=not offline)
        ds = ds.map(self.preprocess).shuffle(self.shuffle_buffer, seed=seed).batch(batch_size or DEFAULT_TRAIN.batch_size)
        return {"x": ds.prefetch(tf.data.AUTOTUNE), "shuffle": False}, None

    def fingerprint(self) -> dict:
        return {"tfds": self.name, "split": self.split, "folds": self.k, "data_dir": self.data_dir}


def scale_images(x, y):
    import tensorflow as tf

    if x.dtype == tf.uint8:
        x = tf.cast(x, tf.float32) / 255.0
    return x, y


def make_folds(x, y, *, cv, seed, preprocess, groups, num_classes=None, feature_shape=None):
    """The fold source for ``(x, y)``: ``x`` itself when it is a :class:`TFDSFolds`, else checked
    :class:`ArrayFolds` from the splitter ``cv`` makes (:func:`make_splitter`, :func:`check_splits`)."""
    if isinstance(x, TFDSFolds):
        if y is not None:
            raise ValueError("y must be None when x is a TFDSFolds (the labels come from the dataset)")
        return x
    x, y = checks.xy(x, y, num_classes=num_classes, feature_shape=feature_shape)
    splitter = make_splitter(cv, seed=seed)
    if preprocess is not None and not (hasattr(preprocess, "fit") and hasattr(preprocess, "transform")):
        raise TypeError(f"preprocess must be a scikit-learn transformer (with fit and transform), got {preprocess!r}")
    return ArrayFolds(x, y, check_splits(splitter, x, y, groups), preprocess)
