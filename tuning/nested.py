"""Nested cross-validation: an unbiased estimate of a whole tuning procedure (:func:`nested_cv`).

The best trial's cross-validated score is optimistic: the search picked it
*because* it scored well on those very folds, so part of its lead is luck. Nested
cross-validation (Cawley & Talbot, JMLR 2010; scikit-learn's "Nested versus
non-nested cross-validation") puts the whole search inside an outer loop:

* the data are split into ``outer`` stratified folds;
* for each outer fold, a cross-validated search with ``inner`` folds runs on the
  outer-training part only and chooses a configuration;
* that configuration is retrained on the whole outer-training part and scored
  **once** on the outer test fold, which the search never saw.

The mean of the outer scores estimates how well "run this search, then retrain
its choice" does on new data; their spread, and how often the outer folds chose
the same configuration, say how stable the procedure is. Every outer fold's
search draws the same candidate configurations (the same seed): where the
choices differ, the data made them differ, not the luck of the draw.

Importing this module does not start TensorFlow: the command line checks its
arguments first.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from zoo import checks, files, platform, registry
from zoo import metrics as zoo_metrics

from . import options
from .cv import DEFAULT_OBJECTIVE, held_out_scores
from .folds import check_splits, make_splitter, transform_features

DEFAULT_OUTER, DEFAULT_INNER = 5, 3   # 5 outer folds score the procedure; 3 inner ones keep each search cheap
RESULT_JSON = "nested_cv.json"


def _inner_tuner(algorithm: str, hypermodel, **kwargs):
    """The tuner of one inner search: the one place :func:`nested_cv` chooses it."""
    from .search import CVTuner

    return CVTuner(hypermodel, algorithm=algorithm, **kwargs)


def held_out_objectives(num_classes: int | None = None) -> list[str]:
    """The objectives nested CV can score an outer fold by: those measured on held-out data (``val_``)."""
    return [o for o in zoo_metrics.objectives(num_classes) if o.startswith("val_")]


def check_objective(objective, num_classes: int | None = None) -> str:
    """Return ``objective`` if nested CV can rank inner trials and score outer folds by it; else raise.

    Raises:
        TypeError: not a string.
        ValueError: not one of :func:`held_out_objectives` (named, with what is allowed).
    """
    allowed = held_out_objectives(num_classes)
    if isinstance(objective, str) and objective in zoo_metrics.OBJECTIVES and not objective.startswith("val_"):
        raise ValueError(f"objective {objective!r} is measured on the training part; nested cross-validation ranks "
                         f"and scores on held-out data: use one of {', '.join(allowed)}")
    return zoo_metrics.check_objective(objective, num_classes, allowed=allowed)


@dataclass
class NestedCVResult:
    """The outer folds of a nested cross-validation: what each inner search chose and how it scored.

    Attributes:
        objective: the inner searches' objective (e.g. ``"val_accuracy"``); the outer
            score is the same metric on the outer test fold (``"accuracy"``).
        direction: ``"max"`` or ``"min"``.
        folds: one dict per outer fold: ``fold`` (1-based), ``train_samples``,
            ``test_samples``, ``trial_id`` and ``hyperparameters`` (the choice),
            ``inner_score`` and ``inner_std`` (its inner cross-validation mean and std),
            ``score`` (the objective's metric on the outer test fold) and ``test``
            (every metric there: ``loss``, ``accuracy``, ``macro_f1``...).
        config: the settings (model, algorithm, outer, inner, max_trials, epochs, seed...).
        seconds: wall-clock time of the whole procedure.
        complete: False while outer folds are missing (a partial result file).
    """

    objective: str
    direction: str
    folds: list[dict] = field(default_factory=list)
    config: dict = field(default_factory=dict)
    seconds: float = 0.0
    complete: bool = True

    @property
    def metric(self) -> str:
        """The outer score's metric: the objective without ``val_``."""
        return self.objective[4:] if self.objective.startswith("val_") else self.objective

    @property
    def scores(self) -> list[float]:
        """The outer test score of each outer fold."""
        return [f["score"] for f in self.folds]

    @property
    def mean(self) -> float:
        return float(np.mean(self.scores)) if self.folds else float("nan")

    @property
    def std(self) -> float:
        """Population standard deviation over the outer folds (``ddof=0``, as :class:`tuning.CVResult`)."""
        return float(np.std(self.scores)) if self.folds else float("nan")

    @property
    def inner_mean(self) -> float:
        """Mean of the chosen configurations' inner scores: the optimistic, non-nested estimate."""
        return float(np.mean([f["inner_score"] for f in self.folds])) if self.folds else float("nan")

    def agreement(self) -> dict:
        """How often the outer folds chose the same configuration.

        Returns:
            ``modal_hyperparameters`` (the configuration chosen most often; the earliest
            on a tie), ``modal_folds`` (which outer folds chose it), ``modal_share``
            (their fraction), ``distinct`` (how many configurations were chosen) and
            ``per_hyperparameter``: for each hyperparameter, its most chosen value and
            the fraction of outer folds that chose it.
        """
        if not self.folds:
            return {"modal_hyperparameters": None, "modal_folds": [], "modal_share": float("nan"), "distinct": 0,
                    "per_hyperparameter": {}}
        keys = [json.dumps(f["hyperparameters"], sort_keys=True) for f in self.folds]
        counts = Counter(keys)  # most_common keeps first-seen order among equal counts
        modal, n = counts.most_common(1)[0]
        names = list(dict.fromkeys(k for f in self.folds for k in f["hyperparameters"]))
        per_hp = {}
        for name in names:
            values = Counter(json.dumps(f["hyperparameters"].get(name)) for f in self.folds)
            value, m = values.most_common(1)[0]
            per_hp[name] = {"value": json.loads(value), "share": m / len(self.folds)}
        return {"modal_hyperparameters": json.loads(modal),
                "modal_folds": [f["fold"] for f, k in zip(self.folds, keys) if k == modal],
                "modal_share": n / len(self.folds), "distinct": len(counts), "per_hyperparameter": per_hp}

    def summary(self) -> str:
        """A table of the outer folds (choice, inner score, outer score), the estimate and the agreement."""
        if not self.folds:
            return "nested cross-validation: no outer fold finished yet"
        a = self.agreement()
        names = list(a["per_hyperparameter"])
        head = ["outer", f"inner {self.objective}", f"test {self.metric}", "trial", *names]
        body = [[str(f["fold"]), f"{f['inner_score']:.4f} ± {f['inner_std']:.4f}", f"{f['score']:.4f}",
                 str(f["trial_id"]), *(_short(f["hyperparameters"].get(n, "-")) for n in names)] for f in self.folds]
        widths = [max(len(h), *(len(r[i]) for r in body)) for i, h in enumerate(head)]
        line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
        c = self.config
        done = "" if self.complete else f" (partial: {len(self.folds)} of {c.get('outer')} outer folds)"
        lines = [
            f"Nested cross-validation of {c.get('model')}: {c.get('outer')} outer x {c.get('inner')} inner folds, "
            f"{c.get('algorithm')} search of {c.get('max_trials')} trials by {self.objective}, epochs per fit: "
            f"{c.get('epochs')}{done}",
            "", line(head), line(["-" * w for w in widths]), *map(line, body), "",
            f"outer test {self.metric}: {self.mean:.4f} ± {self.std:.4f} (mean ± std over {len(self.folds)} outer "
            f"folds; the inner best scores average {self.inner_mean:.4f})",
            f"agreement: the most chosen configuration won {len(a['modal_folds'])} of {len(self.folds)} outer folds "
            f"({a['modal_share']:.0%}; outer folds {', '.join(map(str, a['modal_folds']))}); "
            f"{a['distinct']} distinct configuration(s)",
        ]
        if names:
            lines.append("per hyperparameter, the most chosen value and its share: " + ", ".join(
                f"{n}={_short(v['value'])} ({v['share']:.0%})" for n, v in a["per_hyperparameter"].items()))
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"objective": self.objective, "direction": self.direction, "metric": self.metric,
                "mean": self.mean, "std": self.std, "scores": self.scores, "inner_mean": self.inner_mean,
                "agreement": self.agreement(), "folds": self.folds, "config": self.config,
                "seconds": self.seconds, "complete": self.complete}


def _short(value) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def nested_cv(model, x, y, *, outer=DEFAULT_OUTER, inner=DEFAULT_INNER, algorithm: str = "random",
              max_trials: int = 10, objective: str = DEFAULT_OBJECTIVE, epochs: int | None = None, seed: int = 0,
              preprocess=None, directory=None, overwrite: bool = False, tune=None, verbose: int = 0,
              **fixed) -> NestedCVResult:
    """Nested cross-validation of a search: inner searches choose, outer folds score each choice once.

    Args:
        model: a zoo classifier's name (its hypermodel, :class:`tuning.ZooHyperModel`,
            fitted to the data's shape and classes) or a ``keras_tuner.HyperModel``.
        x, y: features and integer class labels (all the data the estimate may use;
            keep a test set apart if you want one more, final check).
        outer: outer folds (an int >= 2: stratified, shuffled, seeded by ``seed``), or a
            scikit-learn splitter.
        inner: folds of each inner search (an int >= 2), or a scikit-learn splitter.
        algorithm: the inner search's algorithm (one of :data:`tuning.options.ALGORITHMS`).
        max_trials: configurations each inner search tries (>= 1; the first is the zoo default).
        objective: what the inner searches rank by, measured on held-out data
            (:func:`held_out_objectives`: ``val_accuracy``, ``val_loss``, ``val_macro_f1``,
            ``val_top5_accuracy``); the outer folds report the same metric.
        epochs: per fit (default: the registry's for a zoo model).
        seed: seeds the outer folds and every search (the same candidates in each outer fold).
        preprocess: a scikit-learn transformer refitted on every training part (inner and outer).
        directory: where the inner searches keep their state (``outer<i>/``) and where
            ``nested_cv.json`` is written (atomically, after each outer fold); a run
            started again on it resumes. None: a temporary directory, removed afterwards.
        overwrite: start the inner searches in ``directory`` anew instead of resuming.
        tune: for a zoo name, the hyperparameter groups to search (default all).
        verbose: 1 prints a line per outer fold, 0 nothing.
        **fixed: for a zoo name, factory arguments held fixed (``dropout=0.2``).

    Returns:
        :class:`NestedCVResult`.

    Raises:
        ValueError, TypeError: outer or inner folds < 2, max_trials < 1, an unknown
            algorithm or objective, data too small for the folds (checked for every
            outer fold before any training), a directory holding other settings.

    Example:
        >>> import zoo
        >>> from sklearn.preprocessing import StandardScaler
        >>> from tuning import nested_cv
        >>> (x, y), _ = zoo.datasets.load("iris", preprocess=False)   # raw: scaled inside every fold
        >>> result = nested_cv("dense_classifier", x, y, outer=5, inner=3, max_trials=10,
        ...                    preprocess=StandardScaler())                 # doctest: +SKIP
        >>> print(result.summary())                                         # doctest: +SKIP
    """
    checks.choice("algorithm", algorithm, options.ALGORITHMS)
    max_trials = checks.positive_int("max_trials", max_trials)
    seed = checks.positive_int("seed", seed, minimum=0)
    if epochs is not None:
        epochs = checks.positive_int("epochs", epochs)
    outer_splitter = _splitter("outer", outer, seed)
    inner_splitter = _splitter("inner", inner, seed)
    x, y = checks.xy(x, y)
    num_classes = int(y.max()) + 1
    check_objective(objective, num_classes)
    hypermodel, name = _hypermodel(model, x, num_classes, tune, fixed)
    if epochs is None:  # as the inner searches decide it, so that the result says what was run
        from .folds import DEFAULT_TRAIN

        epochs = getattr(hypermodel, "epochs", None) or DEFAULT_TRAIN.epochs
    # Every split, outer and inner, is checked before anything trains or is written.
    splits = check_splits(outer_splitter, x, y)
    for tr, _ in splits:
        check_splits(inner_splitter, x[tr], y[tr])
    if directory is not None:
        directory = files.ensure_writable_dir(directory, argument="directory")

    result = NestedCVResult(objective, zoo_metrics.direction(objective) or "max", complete=False, config={
        "model": name, "algorithm": algorithm, "outer": len(splits), "inner": _describe(inner),
        "max_trials": max_trials, "objective": objective, "epochs": epochs, "seed": seed,
        "samples": int(len(y)), "preprocess": repr(preprocess), "fixed": {k: repr(v) for k, v in fixed.items()},
        "tune": None if tune is None else list(tune)})
    start = time.perf_counter()
    with contextlib.ExitStack() as stack:
        root = Path(directory) if directory is not None else Path(stack.enter_context(
            tempfile.TemporaryDirectory(prefix="nested_cv_")))
        for i, (tr, te) in enumerate(splits, start=1):
            result.folds.append(_outer_fold(i, hypermodel, x, y, tr, te, algorithm=algorithm, objective=objective,
                                            max_trials=max_trials, inner=inner_splitter, epochs=epochs, seed=seed,
                                            preprocess=preprocess, root=root, overwrite=overwrite))
            result.seconds = round(time.perf_counter() - start, 3)
            result.complete = i == len(splits)
            if directory is not None:
                files.write_json(root / RESULT_JSON, result.to_dict())
            if verbose:
                f = result.folds[-1]
                print(f"outer fold {i}/{len(splits)}: trial {f['trial_id']} chosen (inner {objective} "
                      f"{f['inner_score']:.4f} ± {f['inner_std']:.4f}); outer test {result.metric} {f['score']:.4f}",
                      flush=True)
    return result


def _splitter(argument: str, value, seed: int):
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        checks.positive_int(argument, value, minimum=2)
    elif not (hasattr(value, "split") and hasattr(value, "get_n_splits")):
        raise TypeError(f"{argument} must be a number of folds >= 2 or a scikit-learn splitter, got {value!r}")
    return make_splitter(value, seed=seed)


def _describe(splitter) -> object:
    return splitter if isinstance(splitter, (int, np.integer)) else repr(splitter)


def _hypermodel(model, x, num_classes: int, tune, fixed: dict):
    """``(hypermodel, name)``: a zoo name's hypermodel fitted to the data, or the given HyperModel."""
    if isinstance(model, str):
        from .hypermodels import ZooHyperModel

        overrides = registry.fit_to_data(model, x.shape[1:], num_classes, fixed)
        return ZooHyperModel(model, tune=tune, **overrides), model
    if fixed or tune is not None:
        raise TypeError("tune and factory arguments apply to a zoo model name, not to a HyperModel; set them in it")
    import keras_tuner

    if not isinstance(model, keras_tuner.HyperModel):
        raise TypeError(f"model must be a zoo classifier's name or a keras_tuner.HyperModel, got {model!r}")
    return model, getattr(model, "name", None) or type(model).__name__


def _outer_fold(i, hypermodel, x, y, tr, te, *, algorithm, objective, max_trials, inner, epochs, seed, preprocess,
                root, overwrite) -> dict:
    """One outer fold: the inner search on the training part, its choice retrained there and scored on the test part."""
    tuner = _inner_tuner(algorithm, hypermodel, objective=objective, max_trials=max_trials, cv=inner, seed=seed,
                         preprocess=preprocess, directory=root, project_name=f"outer{i}", overwrite=overwrite)
    x_tr, y_tr, x_te, y_te = x[tr], y[tr], x[te], y[te]
    tuner.search(x_tr, y_tr, epochs=epochs, verbose=0)
    rows = tuner.results()
    if not rows or rows[0]["status"] != "COMPLETED":
        messages = "; ".join(r["message"] for r in rows if r.get("message"))
        raise ValueError(f"outer fold {i}: no trial of the inner search completed ({messages or 'no trials'}); "
                         f"see {tuner.project_dir}")
    best = rows[0]
    with platform.released_gradients():  # the retrained model is scored once and dropped (as a fold's model)
        chosen = tuner.retrain_best(x_tr, y_tr, epochs=epochs)
        test = chosen.evaluate(x_te, y_te)
        # Macro-F1 and top-k as the inner folds compute them (direct calls: predict() would trace anew per outer fold).
        x_eval = transform_features(chosen.preprocess, x_te) if chosen.preprocess is not None else x_te
        test.update(held_out_scores(chosen.model, {"x": x_eval, "y": y_te, "batch_size": registry.EVAL_BATCH_SIZE}))
    metric = objective[4:]
    return {"fold": i, "train_samples": int(len(tr)), "test_samples": int(len(te)), "trial_id": best["trial_id"],
            "hyperparameters": best["hyperparameters"], "inner_score": best["score"], "inner_std": best["std"],
            "score": test[metric], "test": test}
