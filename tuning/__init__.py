"""tuning: KerasTuner random search for every zoo classifier, with k-fold cross-validation.

Example:
    >>> from tuning import cross_validate, CVRandomSearch, hypermodel      # doctest: +SKIP
    >>> cv = cross_validate("dense_classifier", x, y, cv=5, epochs=50)     # doctest: +SKIP
    >>> tuner = CVRandomSearch(hypermodel("dense_classifier"), max_trials=10, cv=5,
    ...                        directory="runs/tune", project_name="iris")  # doctest: +SKIP
    >>> tuner.search(x, y, epochs=30)                                     # doctest: +SKIP
    >>> tuner.results()[0]                                                # doctest: +SKIP
"""

import os as _os

_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from .cv import CVResult, cross_validate  # noqa: E402
from .folds import TFDSFolds, holdout, make_splitter  # noqa: E402
from .search import BestModel, CVRandomSearch  # noqa: E402
from .hypermodels import ZooHyperModel, classifiers, hypermodel  # noqa: E402

__all__ = ["BestModel", "CVRandomSearch", "CVResult", "TFDSFolds", "ZooHyperModel", "classifiers",
           "cross_validate", "holdout", "hypermodel", "make_splitter"]
