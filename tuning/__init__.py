"""tuning: KerasTuner search (random, grid, Bayesian, Hyperband) for every zoo classifier, with k-fold cross-validation.

Example (not run by the doctests: a search takes minutes; tests/test_cvtuner.py runs small ones):
    >>> from tuning import cross_validate, CVTuner, hypermodel            # doctest: +SKIP
    >>> cv = cross_validate("dense_classifier", x, y, cv=5, epochs=50)     # doctest: +SKIP
    >>> tuner = CVTuner(hypermodel("dense_classifier"), algorithm="bayesian", max_trials=10, cv=5,
    ...                 prune=True, max_time="20m", directory="runs/tune", project_name="iris")  # doctest: +SKIP
    >>> tuner.search(x, y, epochs=30)                                     # doctest: +SKIP
    >>> tuner.results()[0]                                                # doctest: +SKIP
"""

import importlib as _importlib
import os as _os

_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# Names load from their modules on first use (PEP 562): KerasTuner and TensorFlow
# start only when a tuner or a cross-validation is used, not for `python -m tuning --help`.
_LAZY = {
    "CVResult": ".cv", "cross_validate": ".cv",
    "TFDSFolds": ".folds", "holdout": ".folds", "make_splitter": ".folds",
    "BestModel": ".search", "CVRandomSearch": ".search", "CVTuner": ".search", "grid_size": ".search",
    "ALGORITHMS": ".options", "median_rule": ".options", "parse_duration": ".options",
    "ZooHyperModel": ".hypermodels", "classifiers": ".hypermodels", "hypermodel": ".hypermodels",
    "NestedCVResult": ".nested", "nested_cv": ".nested",
}

__all__ = ["ALGORITHMS", "BestModel", "CVRandomSearch", "CVResult", "CVTuner", "NestedCVResult", "TFDSFolds",
           "ZooHyperModel", "classifiers", "cross_validate", "grid_size", "holdout", "hypermodel", "make_splitter",
           "median_rule", "nested_cv", "parse_duration"]


def __getattr__(name):
    if name in _LAZY:
        value = getattr(_importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
