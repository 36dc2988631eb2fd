"""Argument checks shared by every public entry point.

Each check raises ``ValueError`` or ``TypeError`` with one message naming the
argument, the value received and what is allowed, so a CLI can print it on one
line. Checks return the (normalised) value so they can be used inline.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Sequence

import numpy as np


def did_you_mean(text: str, choices) -> str:
    """``"did you mean 'a' or 'b'? "`` for the close matches of ``text`` among ``choices``, else ``""``:
    the hint every unknown-name error of the package gives (models, presets, recipes).

    Example:
        >>> did_you_mean("reuter_mlp", ["reuters_mlp", "small_cnn"])
        "did you mean 'reuters_mlp'? "
    """
    import difflib

    close = difflib.get_close_matches(text, list(choices), n=3, cutoff=0.5)
    return f"did you mean {' or '.join(map(repr, close))}? " if close else ""


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def positive_int(name: str, value, *, minimum: int = 1) -> int:
    """Return ``value`` as an int, or raise if it is not an integer >= ``minimum``."""
    if not _is_int(value):
        raise TypeError(f"{name} must be an integer >= {minimum}, got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def number_in_range(
    name: str,
    value,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> float:
    """Return ``value`` as a float, or raise if it is not a finite number in the range."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    value = float(value)
    lo = f"{'[' if low_inclusive else '('}{low}" if low is not None else "(-inf"
    hi = f"{high}{']' if high_inclusive else ')'}" if high is not None else "inf)"
    allowed = f"{lo}, {hi}"
    ok = np.isfinite(value)
    if ok and low is not None:
        ok = value >= low if low_inclusive else value > low
    if ok and high is not None:
        ok = value <= high if high_inclusive else value < high
    if not ok:
        raise ValueError(f"{name} must be a finite number in {allowed}, got {value!r}")
    return value


def fraction(name: str, value) -> float:
    """A rate such as dropout: a number in [0, 1)."""
    return number_in_range(name, value, low=0.0, high=1.0, high_inclusive=False)


def non_negative(name: str, value) -> float:
    return number_in_range(name, value, low=0.0)


def positive(name: str, value) -> float:
    return number_in_range(name, value, low=0.0, low_inclusive=False)


def choice(name: str, value, allowed: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``allowed`` (case-sensitive strings)."""
    allowed = list(allowed)
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {value!r}")
    return value


def int_sequence(name: str, value, *, allow_empty: bool = True) -> tuple[int, ...]:
    """A sequence of positive integers, e.g. hidden layer sizes."""
    if _is_int(value):
        value = (value,)
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise TypeError(f"{name} must be a sequence of positive integers, got {value!r}")
    if not value and not allow_empty:
        raise ValueError(f"{name} must hold at least one positive integer, got {value!r}")
    for item in value:
        if not _is_int(item) or item < 1:
            raise ValueError(f"{name} must be a sequence of positive integers, got {tuple(value)!r}")
    return tuple(int(v) for v in value)


def shape(name: str, value, *, rank: int | None = None) -> tuple[int, ...]:
    """A tensor shape without the batch axis: positive integers, of the given rank."""
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise TypeError(f"{name} must be a tuple of positive integers, got {value!r}")
    if rank is not None and len(value) != rank:
        raise ValueError(f"{name} must have {rank} dimensions, got {tuple(value)!r} ({len(value)} dimensions)")
    for item in value:
        if not _is_int(item) or item < 1:
            raise ValueError(f"{name} must be a tuple of positive integers, got {tuple(value)!r}")
    return tuple(int(v) for v in value)


def xy(x, y, *, num_classes: int | None = None, feature_shape: tuple | None = None,
       x_name: str = "x", y_name: str = "y"):
    """Check training data: arrays of matching length, finite features, integer labels in range.

    Args:
        x: features, shape ``(n, *feature_shape)``.
        y: integer class labels, shape ``(n,)``.
        num_classes: labels must lie in ``[0, num_classes)`` when given.
        feature_shape: the model's input shape without the batch axis, when known.

    Returns:
        ``(x, y)`` as NumPy arrays (``x`` float32, ``y`` int64).

    Raises:
        ValueError, TypeError: naming ``x`` or ``y``, what was received and what is allowed.
    """
    try:
        x = np.asarray(x)
        y = np.asarray(y)
    except (ValueError, TypeError) as exc:
        raise TypeError(f"{x_name}/{y_name} must be array-like numbers ({exc})") from None
    if x.ndim == 0 or len(x) == 0:
        raise ValueError(f"{x_name} must hold at least one sample, got an array of shape {x.shape}")
    if not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
        raise TypeError(f"{x_name} must hold numbers, got dtype {x.dtype}")
    if np.iscomplexobj(x):  # a cast to float32 would drop the imaginary part with only a NumPy warning
        raise TypeError(f"{x_name} must hold real numbers, got complex dtype {x.dtype}; pass x.real, np.abs(x), "
                        "or the real and imaginary parts as separate features")
    if feature_shape is not None and tuple(x.shape[1:]) != tuple(feature_shape):
        raise ValueError(f"{x_name} must have shape (n, {', '.join(map(str, feature_shape))}) for this model, got {x.shape}")
    if y.ndim == 2 and y.shape[1] > 1 and np.isin(y, (0, 1)).all() and (y.sum(axis=1) == 1).all():
        raise ValueError(
            f"{y_name} looks one-hot encoded (shape {y.shape}); integer class labels of shape (n,) are "
            f"expected: pass {y_name}.argmax(axis=1)"
        )
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"{y_name} must be integer class labels of shape (n,), got shape {y.shape}")
    if len(x) != len(y):
        raise ValueError(f"{x_name} and {y_name} must have the same length, got {len(x)} and {len(y)}")
    if np.issubdtype(y.dtype, np.floating):
        if not np.all(np.isfinite(y)) or not np.all(y == np.round(y)):
            raise ValueError(f"{y_name} must be integer class labels, got non-integer values such as {y[y != np.round(y)][:3]}")
    elif not np.issubdtype(y.dtype, np.integer):
        raise TypeError(f"{y_name} must be integer class labels, got dtype {y.dtype}")
    y = y.astype("int64")
    if y.min() < 0 or (num_classes is not None and y.max() >= num_classes):
        allowed = f"lie in [0, {num_classes})" if num_classes is not None else "be >= 0"
        bad = y[(y < 0) | ((y >= num_classes) if num_classes is not None else False)]
        raise ValueError(f"{y_name} labels must {allowed}, got {bad[:3].tolist()}")
    wide = x
    # A value beyond float32 is named below, not warned about. A finite sum means every value is finite
    # (a NaN or an infinity makes it NaN or infinite): one pass without a mask as large as x (Reuters:
    # 360 MB of features). Only where the sum is not finite (a bad value, or finite values that
    # overflow) is each value looked at.
    with np.errstate(over="ignore", invalid="ignore"):
        x = x.astype("float32", copy=False)
        total_finite = np.isfinite(x.sum())
    if not total_finite and not (finite := np.isfinite(x)).all():
        rows = np.flatnonzero(~finite.reshape(len(x), -1).all(axis=1))
        if np.isfinite(wide.reshape(len(x), -1)[rows]).all():
            raise ValueError(f"{x_name} must be finite in float32, got values beyond its range (|x| > "
                             f"{np.finfo('float32').max:.3g}) in {len(rows)} sample(s), first at row {rows[0]}")
        raise ValueError(f"{x_name} must be finite, got NaN or infinite values in {len(rows)} sample(s), first at row {rows[0]}")
    return x, y
