"""The options of a cross-validated search that need no TensorFlow: algorithm, budget, pruning.

Both ``CVTuner`` and ``python -m tuning search`` check their arguments here, so
a mistake gives the same one-line error from either, and the CLI answers it
before TensorFlow starts. The pruning rule (:func:`median_rule`) lives here too:
it is plain arithmetic on fold scores.
"""

from __future__ import annotations

import math
import numbers
import re
import statistics

from zoo import checks

#: The search algorithms, each KerasTuner's own oracle (tuning._oracle).
ALGORITHMS = ("random", "grid", "bayesian", "hyperband")
#: Options that only one algorithm takes (KerasTuner's oracle arguments).
ALGORITHM_OPTIONS = {"max_epochs": "hyperband", "factor": "hyperband", "hyperband_iterations": "hyperband",
                     "num_initial_points": "bayesian", "alpha": "bayesian", "beta": "bayesian"}
#: The metric a pruned trial reports (1.0); its other metrics cover the folds it ran.
PRUNED_METRIC = "pruned"
#: Completed trials needed before a trial may be pruned (Optuna's MedianPruner uses 5 too):
#: with fewer, the median of the others' running means is too noisy to judge by.
PRUNE_WARMUP = 5

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*(secs|sec|s|mins|min|m|hrs|hr|h|d)?", re.IGNORECASE)


def parse_duration(name: str, value) -> float | None:
    """Seconds from ``value``: a number of seconds, or a string such as ``"90"``, ``"20m"``, ``"1h30m"``, ``"2.5h"``.

    Returns:
        The duration in seconds (> 0), or None for None.

    Raises:
        ValueError, TypeError: not a positive duration (names ``name`` and the forms allowed).

    Example:
        >>> parse_duration("max_time", "1h30m")
        5400.0
    """
    if value is None:
        return None
    allowed = "a positive number of seconds or a duration such as '90s', '20m', '1h30m', '2h'"
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, str)):
        raise TypeError(f"{name} must be {allowed}, got {value!r}")
    if isinstance(value, numbers.Real):
        seconds = float(value)
    else:
        text = value.strip().replace(" ", "")
        parts = list(_DURATION.finditer(text))
        if not text or "".join(p.group(0) for p in parts) != text or (len(parts) > 1 and not all(p.group(2) for p in parts)):
            raise ValueError(f"{name} must be {allowed}, got {value!r}")
        seconds = sum(float(p.group(1)) * _UNITS[(p.group(2) or "s")[0].lower()] for p in parts)
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return seconds


def check_algorithm(algorithm: str, **options) -> str:
    """``algorithm`` checked, and every algorithm-specific option given (not None) belongs to it.

    Raises:
        ValueError: unknown algorithm, or e.g. ``max_epochs`` with an algorithm other than hyperband.
    """
    if not isinstance(algorithm, str):
        raise TypeError(f"algorithm must be one of {', '.join(map(repr, ALGORITHMS))}, got {algorithm!r}")
    checks.choice("algorithm", algorithm, ALGORITHMS)
    for option, value in options.items():
        if option not in ALGORITHM_OPTIONS:
            raise TypeError(f"{option}: not an option of the search; algorithm options: "
                            f"{', '.join(f'{o} ({a})' for o, a in ALGORITHM_OPTIONS.items())}")
        if value is not None and ALGORITHM_OPTIONS[option] != algorithm:
            raise ValueError(f"{option}: only for algorithm={ALGORITHM_OPTIONS[option]!r} "
                             f"(got algorithm={algorithm!r})")
    if options.get("max_epochs") is not None:
        checks.positive_int("max_epochs", options["max_epochs"])
    if options.get("factor") is not None:
        checks.positive_int("factor", options["factor"], minimum=2)
    if options.get("hyperband_iterations") is not None:
        checks.positive_int("hyperband_iterations", options["hyperband_iterations"])
    if options.get("num_initial_points") is not None:
        checks.positive_int("num_initial_points", options["num_initial_points"])
    return algorithm


def check_prune(prune, folds: int | None, *, warmup=PRUNE_WARMUP) -> bool:
    """``prune`` as a bool; pruning after each fold needs at least two folds.

    Args:
        prune: True to prune.
        folds: the number of validation folds (None when not known yet).
        warmup: completed trials before pruning starts (>= 1).

    Raises:
        ValueError, TypeError: ``prune`` not a bool, or pruning with one fold.
    """
    if not isinstance(prune, bool):
        raise TypeError(f"prune must be True or False, got {prune!r}")
    checks.positive_int("prune_warmup", warmup)
    if prune and folds is not None and folds < 2:
        raise ValueError(f"prune: pruning stops a trial between folds, so it needs k-fold cross-validation with "
                         f"k >= 2; got {folds} fold (a holdout split or --folds 1)")
    return prune


def median_rule(running: float, others: list[float], direction: str, *, completed: int,
                warmup: int = PRUNE_WARMUP) -> bool:
    """Whether to prune a trial after fold ``i``: the median stopping rule over folds.

    The rule (Golovin et al. 2017, Google Vizier's "median stopping rule"; Optuna's
    ``MedianPruner``), applied to folds instead of epochs: after its fold ``i``, a
    trial stops when the running mean of its objective over folds ``1..i`` is
    worse than the median of the running means, at the same fold ``i``, of every
    earlier trial that got that far (completed or pruned, trained for the same
    epochs), once at least ``warmup`` trials have completed. A trial whose first
    folds score below what half the earlier trials scored on the same folds is
    unlikely to end up the best; the folds it does not train are the saving.
    The same folds are compared (every trial uses the same split), so a hard
    fold does not prune a trial that merely met it first.

    Args:
        running: the trial's mean objective over its folds so far.
        others: the running means at the same fold of the earlier trials that reached it.
        direction: ``"max"`` or ``"min"`` (the objective's).
        completed: how many trials have completed.
        warmup: completed trials needed before any trial is pruned.

    Returns:
        True to stop the trial. Never True during the warm-up or with no other trial to compare.

    Example:
        >>> median_rule(0.70, [0.80, 0.90, 0.60], "max", completed=3, warmup=3)
        True
        >>> median_rule(0.85, [0.80, 0.90, 0.60], "max", completed=3, warmup=3)
        False
    """
    if direction not in ("max", "min"):
        raise ValueError(f"direction must be 'max' or 'min', got {direction!r}")
    others = [v for v in others if v is not None and math.isfinite(v)]
    if completed < warmup or not others or running is None or not math.isfinite(running):
        return False
    median = statistics.median(others)
    return running < median if direction == "max" else running > median
