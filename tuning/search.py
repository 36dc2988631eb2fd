"""Cross-validated KerasTuner search: :class:`CVTuner` (random, grid, Bayesian, Hyperband) and :class:`BestModel`.

:class:`CVTuner` is a KerasTuner ``Tuner`` whose trial score is the k-fold mean
(its ``run_trial`` overridden, as KerasTuner's maintainers suggest in
keras-team/keras-tuner#139); fold scores and std stay with each trial. The
algorithm is KerasTuner's own oracle for it, with the additions of
:mod:`tuning._oracle` that make it resumable and distributable. On top: fold
pruning (:func:`tuning.options.median_rule`), a time budget, and for Hyperband
each fold continued from its own checkpoint. :class:`CVRandomSearch` is
``CVTuner(algorithm="random")``.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import keras_tuner
import numpy as np

from zoo import checks, files, registry
from zoo import metrics as zoo_metrics

from . import _compat, _oracle, cv as cv_lib, options, results as results_lib, statefiles
from .cv import DEFAULT_OBJECTIVE, CVResult, derive_seed
from .folds import DEFAULT_FOLDS, DEFAULT_TRAIN, ArrayFolds, TFDSFolds, make_folds, make_splitter, transform_features
from .hypermodels import ZooHyperModel

CONFIG_JSON = "search_config.json"  # what a search directory was started with (checked on resume)
TENSORBOARD_DIR = "tensorboard"
DEFAULT_MAX_TRIALS = 10  # random and Bayesian; a grid runs whole, Hyperband as its brackets say
# A whole model's grid has millions of points (dense_classifier: 6,652,800); run whole by default it
# would never end, so above this size the grid needs an explicit max_trials or a narrower space.
GRID_LIMIT = 10_000
FOLD_FILE = "fold_{i}.json"  # a finished fold's metrics, in its trial's folder: a resumed trial skips it
FOLD_WEIGHTS = "fold_{i}.weights.h5"  # Hyperband: a fold's weights, for the trial that continues it


class BudgetSpent(BaseException):
    """The time budget ran out between two folds of a trial (a BaseException: KerasTuner must not record
    it as the trial's failure; the trial stays running and a resumed search finishes it)."""


class StateNotSaved(keras_tuner.errors.FatalError):
    """A file of the search's state could not be written during a trial (a full disk).

    KerasTuner would record the trial as failed (for good) and go on; the search stops
    instead, the trial still running in ``oracle.json``, so that the next run re-runs it
    (its folds already saved are kept). :meth:`CVTuner.search` raises the ``WriteFailed``.
    """


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
        return transform_features(self.preprocess, np.asarray(x, dtype="float32")) if self.preprocess is not None else x

    def evaluate(self, x, y=None) -> dict:
        """Metrics on ``(x, y)`` (a test set: use it once)."""
        kwargs = {"x": self._x(x), "y": y, "batch_size": registry.EVAL_BATCH_SIZE} if y is not None else {"x": x}
        return {k: float(v) for k, v in self.model.evaluate(**kwargs, verbose=0, return_dict=True).items()}

    def predict(self, x):
        return self.model.predict(self._x(x), batch_size=registry.EVAL_BATCH_SIZE, verbose=0)


@contextlib.contextmanager
def _ctrl_c_seen():
    """Note each Ctrl-C (SIGINT) that arrives while the block runs; yields the list of them.

    Python raises ``KeyboardInterrupt`` wherever the main thread is when Ctrl-C
    arrives; inside TensorFlow's tracing it can come out as another error (seen:
    ``RuntimeError: Exiting variable_creator_scope without proper nesting``),
    which KerasTuner would record as a failed trial before going on with the
    search. :meth:`CVTuner.run_trial` turns an error that follows a Ctrl-C
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


class CVTuner(keras_tuner.Tuner):
    """KerasTuner search (random, grid, Bayesian or Hyperband) whose trial score is the k-fold cross-validation mean.

    Each trial builds the hypermodel's model for every fold, trains it on the
    fold's training part and evaluates it on the held-out fold; the oracle gets
    the mean of every metric, its standard deviation (``<metric>_std``) and the
    objective on each fold (``<objective>_fold<i>``), so all of it is stored with
    the trial in KerasTuner's own ``trial.json``. The best configuration is
    retrained on all the training data (:meth:`retrain_best`).

    Algorithms, each KerasTuner's own oracle: ``"random"``; ``"grid"`` (every
    combination, the defaults first; ``max_trials`` defaults to the grid's size and
    may not be smaller); ``"bayesian"`` (Gaussian-process optimisation of the k-fold
    mean); ``"hyperband"`` (its budget is epochs per fold, up to ``max_epochs``: a
    trial Hyperband continues trains each fold further from that fold's weights and
    optimizer state, saved in the earlier trial's folder). Trial 0 is the hypermodel's default configuration
    (the zoo model as the textbook sets it) for all four.

    Pruning (``prune=True``): after each fold a trial is compared with the earlier
    trials on the same folds (:func:`tuning.options.median_rule`) and stops if it is
    worse than their median; it is recorded as pruned (KerasTuner's STOPPED with a
    ``pruned`` metric) with the folds it ran, and is never the best.

    Time budget (``max_time``): once it is spent no trial and no fold starts; the
    fold running finishes, the search stops and the results say so
    (``results.json["stopped"]``). The same search run again continues: the trial
    stopped between folds keeps its finished folds.

    Resume: a tuner created again on the same ``directory``/``project_name`` with
    ``overwrite=False`` reloads the search; a trial interrupted by Ctrl-C or a
    killed process runs again (same seeds; folds it had finished are kept) and
    every trial is counted once. Distributed: KerasTuner's chief/worker mode, set by
    the environment variables ``KERASTUNER_TUNER_ID``, ``KERASTUNER_ORACLE_IP``,
    ``KERASTUNER_ORACLE_PORT`` (there the chief's ``max_time`` stops new trials).

    Args:
        hypermodel: a ``keras_tuner.HyperModel`` (see :func:`tuning.hypermodel`), a
            build function ``fn(hp) -> keras.Model``, or a zoo model name.
        algorithm: one of :data:`tuning.options.ALGORITHMS`.
        objective: a metric of each fold, ``val_`` prefixed for the held-out folds
            (default ``"val_accuracy"``), or a ``keras_tuner.Objective``; its direction
            comes from :func:`tuning._compat.objective_direction`.
        max_trials: configurations to try at most (default 10 for random and Bayesian,
            the grid's size for grid, Hyperband's schedule for hyperband).
        cv: number of folds (stratified, shuffled, seeded) or a scikit-learn
            splitter; :func:`holdout` for a single validation split.
        seed: makes the search repeatable: the sampled configurations, the folds,
            and every model's weights, dropout and shuffling.
        prune: stop hopeless trials between folds (needs >= 2 folds).
        prune_warmup: completed trials before any trial is pruned.
        max_time: time budget of one run of :meth:`search`: seconds, or ``"20m"``, ``"1h30m"``...
        preprocess: scikit-learn transformer refitted on each fold's training part.
        directory, project_name: where KerasTuner's state and the results files go.
        overwrite: start anew instead of resuming.
        tensorboard: write TensorBoard logs with the HParams dashboard to
            ``<project>/tensorboard`` (per fold, and each trial's k-fold mean).
        worker_timeout: distributed mode: seconds of silence after which a worker's
            trial is given to another worker.
        default_first: the first trial is the hypermodel's default configuration (a
            grid always starts there).
        max_epochs, factor, hyperband_iterations: Hyperband's (``max_epochs`` defaults to
            the zoo model's training epochs).
        num_initial_points, alpha, beta: Bayesian optimisation's.
        **kwargs: passed to ``keras_tuner.Tuner`` (``max_consecutive_failed_trials``...).

    A trial whose training diverges (loss NaN or infinite: ``TerminateOnNaN`` stops
    the fold) is recorded as FAILED with that message, counted once and not retried;
    the search goes on (KerasTuner stops it after ``max_consecutive_failed_trials``,
    default 3, failures in a row).

    Raises:
        ValueError, TypeError: bad argument (unknown algorithm, an option of another
            algorithm, a grid larger than max_trials, pruning with one fold, a budget that
            is not a duration, an objective the model does not report, unknown model, a
            chief port already in use...).

    Example:
        >>> from tuning import CVTuner, hypermodel
        >>> tuner = CVTuner(hypermodel("dense_classifier"), algorithm="bayesian", max_trials=10, cv=5,
        ...                 prune=True, max_time="20m", directory="runs/tune", project_name="iris")  # doctest: +SKIP
        >>> tuner.search(x, y, epochs=30)                                                         # doctest: +SKIP
        >>> tuner.results()[0]["score"]                                                           # doctest: +SKIP
    """

    def __init__(self, hypermodel, algorithm: str = "random", objective=DEFAULT_OBJECTIVE, max_trials: int | None = None,
                 *, cv=DEFAULT_FOLDS, seed: int = 0, prune: bool = False, prune_warmup: int = options.PRUNE_WARMUP,
                 max_time=None, preprocess=None, directory=None, project_name=None, overwrite: bool = False,
                 tensorboard: bool = False, worker_timeout: float = _oracle.DEFAULT_WORKER_TIMEOUT,
                 default_first: bool = True, max_consecutive_failed_trials: int = 3, max_epochs: int | None = None,
                 factor: int | None = None, hyperband_iterations: int | None = None,
                 num_initial_points: int | None = None, alpha: float | None = None, beta: float | None = None,
                 **kwargs):
        # Every check runs before the directory is touched, so a bad argument changes nothing there.
        algorithm_options = {"max_epochs": max_epochs, "factor": factor, "hyperband_iterations": hyperband_iterations,
                             "num_initial_points": num_initial_points, "alpha": alpha, "beta": beta}
        self.algorithm = options.check_algorithm(algorithm, **algorithm_options)
        if max_trials is not None:
            max_trials = checks.positive_int("max_trials", max_trials)
        seed = checks.positive_int("seed", seed, minimum=0)
        worker_timeout = checks.positive("worker_timeout", worker_timeout)
        self.max_time = options.parse_duration("max_time", max_time)
        if isinstance(hypermodel, str):
            hypermodel = ZooHyperModel(hypermodel)
        if not (isinstance(hypermodel, keras_tuner.HyperModel) or callable(hypermodel)):
            raise TypeError(f"hypermodel must be a keras_tuner.HyperModel, a build function or a zoo model name, "
                            f"got {hypermodel!r}")
        self.splitter = make_splitter(cv, seed=seed)
        self.prune = options.check_prune(prune, getattr(self.splitter, "n_splits", None), warmup=prune_warmup)
        self.prune_warmup = int(prune_warmup)
        if preprocess is not None and not (hasattr(preprocess, "fit") and hasattr(preprocess, "transform")):
            raise TypeError(f"preprocess must be a scikit-learn transformer (with fit and transform), got {preprocess!r}")
        objective = self._check_objective(hypermodel, objective)
        default_epochs = hypermodel.epochs if isinstance(hypermodel, ZooHyperModel) else DEFAULT_TRAIN.epochs
        extra = {k: v for k, v in algorithm_options.items() if v is not None}
        if self.algorithm == "hyperband":
            extra["max_epochs"] = max_epochs or default_epochs
        elif self.algorithm == "grid":
            size = grid_size(self._space(hypermodel))
            if max_trials is not None and max_trials < size:
                raise ValueError(f"max_trials: the grid has {size} points, more than max_trials={max_trials}; raise "
                                 f"max_trials to {size} or search fewer hyperparameters (hypermodel(name, tune=...), "
                                 "--tune)")
            if max_trials is None and size > GRID_LIMIT:
                raise ValueError(f"algorithm='grid': the grid has {size:,} points (more than {GRID_LIMIT:,}); search "
                                 "fewer hyperparameters (hypermodel(name, tune=...), --tune) or pass "
                                 f"max_trials={size} to run it all")
            max_trials = max_trials or size
        elif max_trials is None:
            max_trials = DEFAULT_MAX_TRIALS
        self.max_epochs = extra.get("max_epochs")
        role = _oracle.distributed_role()
        if role == "chief":
            _oracle.check_port_free(*_oracle.oracle_address())
        if overwrite and role == "worker":
            raise ValueError("overwrite: only the chief may start a search anew; a worker with overwrite=True would "
                             "delete the shared directory")
        directory = files.ensure_writable_dir(directory or ".", argument="directory")

        self.preprocess = preprocess
        self.tensorboard = bool(tensorboard)
        self.worker_timeout = worker_timeout
        self._folds = None
        self._deadline = None
        oracle = _oracle.ORACLES[self.algorithm](
            objective=objective, max_trials=max_trials,
            seed=seed + 1,  # KerasTuner treats seed 0 as "no seed" and draws a random one
            max_consecutive_failed_trials=max_consecutive_failed_trials, worker_timeout=worker_timeout,
            default_first=default_first,
            on_trial_end=lambda o: results_lib.write_results(o, self.project_dir),
            **extra,
        )
        if not overwrite:  # a damaged state file is named before KerasTuner reloads it
            statefiles.check(directory / (project_name or "untitled_project"), check_config=role != "worker")
        super().__init__(oracle, hypermodel, directory=str(directory), project_name=project_name,
                         overwrite=overwrite, **kwargs)
        self.seed = seed

    # ------------------------------------------------------------------ checks
    def _check_objective(self, hypermodel, objective):
        """The objective must be a metric each fold reports (checked on the default model)."""
        import keras

        name = objective.name if isinstance(objective, keras_tuner.Objective) else objective
        if not isinstance(name, str):
            raise TypeError(f"objective must be a metric name such as 'val_accuracy' or a keras_tuner.Objective, "
                            f"got {objective!r}")
        hp = keras_tuner.HyperParameters()
        model = hypermodel.build(hp) if isinstance(hypermodel, keras_tuner.HyperModel) else hypermodel(hp)
        self._default_space = hp  # the space a build at the defaults declared
        self._reference_shape = tuple(model.input_shape[1:]) if not isinstance(model.input_shape, list) else None
        self._reference_classes = int(model.output_shape[-1]) if not isinstance(model.output_shape, list) else None
        reported = reported_metrics(model)
        keras.backend.clear_session(free_memory=False)
        if reported:  # the compiled metrics, and for a classifier those computed from predictions (zoo.metrics)
            classes = self._reference_classes if self._reference_classes and self._reference_classes >= 2 else None
            held_out = [f"val_{m}" for m in zoo_metrics.PREDICTION_METRICS] if classes else []
            allowed = [*reported, *(f"val_{m}" for m in reported),
                       *(m for m in held_out if m in zoo_metrics.objectives(classes))]
            zoo_metrics.check_objective(name, classes, allowed=allowed)
        if isinstance(objective, keras_tuner.Objective):
            return objective
        return _compat.create_objective(name)  # the direction, from one place; an unknown custom name raises

    def _space(self, hypermodel) -> keras_tuner.HyperParameters:
        """The whole search space (every conditional branch for a zoo hypermodel)."""
        if isinstance(hypermodel, ZooHyperModel):
            hp = keras_tuner.HyperParameters()
            hypermodel.declare(hp)
            return hp
        return self._default_space

    def _search_config(self, folds, epochs, fit_kwargs) -> dict:
        hm = self.hypermodel
        config = {
            "algorithm": self.algorithm,
            "hypermodel": hm.get_config() if isinstance(hm, ZooHyperModel) else _describe(hm),
            "objective": self.oracle.objective.name, "direction": self.oracle.objective.direction,
            "cv": repr(self.splitter) if isinstance(folds, ArrayFolds) else "tfds slices",
            "seed": self.seed, "epochs": epochs, "data": folds.fingerprint(),
            "fit": {k: repr(v) for k, v in sorted((fit_kwargs or {}).items())},
        }
        if self.algorithm == "hyperband":
            config["hyperband"] = {k: getattr(self.oracle, k, None) for k in ("max_epochs", "factor",
                                                                                "hyperband_iterations")}
        return config

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
            files.write_json(path, json.loads(json.dumps(config, default=str)))

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
        files.write_json(self._get_tuner_fname(), self.get_state())

    def search(self, x, y=None, *, epochs: int | None = None, groups=None, callbacks=None, verbose=1, **fit_kwargs):
        """Run (or resume) the search on training data ``(x, y)``.

        Args:
            x: features, or a :class:`TFDSFolds` (then ``y`` is None).
            y: integer class labels.
            epochs: per fold (default: the registry's for a zoo hypermodel, else ``DEFAULT_TRAIN``'s);
                not for Hyperband, which gives each trial its epochs (up to ``max_epochs``).
            groups: group labels for group splitters.
            callbacks: Keras callbacks for every fit (deep-copied).
            verbose: 1 prints KerasTuner's trial summaries, 0 nothing.
            **fit_kwargs: more ``model.fit`` arguments (``class_weight``...); ``batch_size``
                only for a hypermodel that does not search it (a zoo hypermodel does).

        Raises:
            ValueError, TypeError: bad data or arguments; a directory holding another search.
        """
        name = type(self).__name__
        for bad, why in (("validation_data", "cross-validation makes the validation folds: set cv=..."),
                         ("validation_split", "cross-validation makes the validation folds: set cv=..."),
                         ("initial_epoch", "Hyperband sets it when it continues a trial")):
            if bad in fit_kwargs:
                raise ValueError(f"{bad}: not accepted by {name}.search; {why}")
        batch_size = fit_kwargs.pop("batch_size", None)
        if batch_size is not None:
            if isinstance(self.hypermodel, ZooHyperModel):
                raise ValueError(f"batch_size: not accepted by {name}.search; it is a hyperparameter of the "
                                 "search: fix it with hypermodel(name, batch_size=N)")
            batch_size = checks.positive_int("batch_size", batch_size)
        if self.algorithm == "hyperband":
            if epochs is not None:
                raise ValueError(f"epochs: not accepted with algorithm='hyperband', which trains each trial for its "
                                 f"own number of epochs per fold, up to max_epochs={self.max_epochs}")
            epochs = self.max_epochs
        if epochs is None:
            epochs = self.hypermodel.epochs if isinstance(self.hypermodel, ZooHyperModel) else DEFAULT_TRAIN.epochs
        epochs = checks.positive_int("epochs", epochs)
        folds = make_folds(x, y, cv=self.splitter, seed=self.seed, preprocess=self.preprocess, groups=groups,
                           num_classes=self._reference_classes, feature_shape=self._reference_shape)
        options.check_prune(self.prune, len(folds), warmup=self.prune_warmup)
        self._check_config(self._search_config(folds, epochs, {**fit_kwargs, "batch_size": batch_size}))
        self._folds, self._epochs, self._fit_kwargs, self._batch_size = folds, epochs, fit_kwargs, batch_size
        self._callbacks = list(callbacks or [])
        self.oracle.verbose = verbose
        role = _oracle.distributed_role()
        # The budget of this run: the oracle starts no trial after it (on the chief for the
        # workers too); this process starts no fold after it (a worker's folds run to the end).
        self._deadline = time.monotonic() + self.max_time if self.max_time else None
        if role != "worker":
            self.oracle.begin_run(self._deadline)
        else:
            self._deadline = None
        if role == "chief":
            self.save()
            _oracle.serve_chief(self.oracle, *_oracle.oracle_address())
        else:
            self.save()  # so that a process killed during its first trial resumes (KerasTuner reloads from this file)
            try:
                super().search(verbose=verbose)
            except StateNotSaved as failed:
                raise failed.args[0] from None  # the one-line disk error (zoo.files.WriteFailed)
            except BudgetSpent as spent:
                trial_id, folds_done = spent.args
                history = self.oracle.attempts.get(trial_id) or [{}]
                history[-1]["outcome"] = "max_time"  # it stays running: a resumed search finishes it
                self.oracle.note_stop("max_time", trial=trial_id, folds_done=folds_done)
        if role != "worker":
            if verbose and self.oracle.stop:
                print(f"Search stopped: the time budget (max_time={self.max_time:g} s) is spent; run it again to "
                      "continue.", flush=True)
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

    def _run_and_update_trial(self, trial, *fit_args, **fit_kwargs):
        try:
            return super()._run_and_update_trial(trial, *fit_args, **fit_kwargs)
        except files.WriteFailed as exc:  # a fold file or trial.json: the disk's fault, not the trial's
            raise StateNotSaved(exc) from exc

    def run_trial(self, trial, **kwargs):
        """Cross-validate one configuration; return the mean, std and per-fold value of every metric.

        A pruned trial reports the same over the folds it ran, and ``pruned`` = 1.
        """
        batch_size = self._trial_batch_size(trial.hyperparameters)
        heartbeat = None
        if self._is_worker():
            heartbeat = _oracle.Heartbeat(self.oracle, trial.trial_id,
                                          self.worker_timeout * _oracle.HEARTBEAT_FRACTION)
        with _ctrl_c_seen() as ctrl_c:
            try:
                per_fold, seconds, pruned = self._run_folds(trial, batch_size, heartbeat)
            except Exception as exc:
                if ctrl_c:  # an error that came out of a Ctrl-C is an interruption, not a failed trial
                    raise KeyboardInterrupt(f"trial {trial.trial_id} interrupted") from exc
                raise
        cv = CVResult.from_folds(per_fold)
        objective = self.oracle.objective.name
        if objective not in cv.mean:
            raise keras_tuner.errors.FatalValueError(
                f"objective {objective!r} is not among the metrics the model reported: {', '.join(cv.mean)}")
        report = {**cv.mean, **{f"{k}_std": v for k, v in cv.std.items()},
                  **{f"{objective}_fold{i}": f[objective] for i, f in enumerate(per_fold, start=1)},
                  "seconds": seconds}
        if pruned:
            report[options.PRUNED_METRIC] = 1.0
            if self.oracle.verbose:
                print(f"Trial {trial.trial_id} pruned after fold {len(per_fold)} of {len(self._folds)}: "
                      f"{objective} {cv.mean[objective]:.4f} so far, worse than the median of the earlier trials "
                      "on the same folds", flush=True)
        if self.tensorboard:
            self._write_hparams_summary(trial, cv.mean[objective], cv.std[objective])
        return report

    def _run_folds(self, trial, batch_size, heartbeat) -> tuple[list, float, bool]:
        """Each fold's metrics for the trial's configuration, fold after fold.

        Returns:
            ``(per_fold, seconds, pruned)``: the metrics of the folds run (all unless
            pruned), their training seconds, and whether the trial was pruned.

        Raises:
            BudgetSpent: the time budget ran out before a fold.
        """
        hp = trial.hyperparameters
        epochs = int(hp.values.get("tuner/epochs", self._epochs))
        initial_epoch = int(hp.values.get("tuner/initial_epoch", 0))
        parent = hp.values.get("tuner/trial_id")  # Hyperband continues that trial
        # Hyperband continues a trial only from a round below max_epochs: only then are the weights needed.
        keep_weights = self.algorithm == "hyperband" and epochs < self.max_epochs
        trial_dir = Path(self.get_trial_dir(trial.trial_id))
        parent_dir = Path(self.get_trial_dir(parent)) if parent is not None else None
        per_fold, seconds, ran = [], 0.0, 0
        k = len(self._folds)
        for i in range(k):
            seed = derive_seed(self.seed, trial.trial_id, i)
            stamp = {"seed": seed, "epochs": epochs, "initial_epoch": initial_epoch}
            done = _read_fold(trial_dir / FOLD_FILE.format(i=i), stamp)
            if done is None:
                if ran and self._deadline is not None and time.monotonic() >= self._deadline:
                    raise BudgetSpent(trial.trial_id, i)
                done = self._train_fold(trial, i, seed, batch_size, heartbeat, epochs=epochs,
                                        initial_epoch=initial_epoch, parent_dir=parent_dir,
                                        save_to=trial_dir if keep_weights else None)
                files.write_json(trial_dir / FOLD_FILE.format(i=i), {**stamp, **done})
                ran += 1
            per_fold.append(done["metrics"])
            seconds += done["seconds"]
            if self.prune and i < k - 1 and self._should_prune(trial, per_fold):
                return per_fold, seconds, True
        return per_fold, seconds, False

    def _train_fold(self, trial, i, seed, batch_size, heartbeat, *, epochs, initial_epoch, parent_dir, save_to) -> dict:
        """Train and evaluate fold ``i`` (from the parent trial's weights for Hyperband); its metrics and seconds."""
        import keras

        hp = trial.hyperparameters
        callbacks = self._deepcopy_callbacks(self._callbacks)
        if self.tensorboard:
            callbacks.append(keras.callbacks.TensorBoard(log_dir=os.path.join(self.project_dir, TENSORBOARD_DIR)))
            self._configure_tensorboard_dir(callbacks, trial, execution=i)  # per fold, with HParams
        if heartbeat is not None:
            heartbeat.beat(force=True)
            callbacks.append(heartbeat)
        weights = parent_dir / FOLD_WEIGHTS.format(i=i) if parent_dir is not None else None
        if weights is not None and not weights.is_file():
            raise keras_tuner.errors.FailedTrialError(
                f"trial {trial.trial_id}: Hyperband continues trial {hp.values['tuner/trial_id']}, but its fold "
                f"{i + 1} weights {weights} are missing (distributed workers need a shared --dir)")

        def build():
            model = self.hypermodel.build(hp)
            if weights is not None:
                # Hyperband: this fold goes on from where the earlier trial stopped, its optimizer
                # too (moments, step count: the file holds them once the optimizer has its variables).
                if getattr(model, "optimizer", None) is not None:
                    model.optimizer.build(model.trainable_variables)
                model.load_weights(str(weights))
            return model

        def fit(model, **kw):
            history = self.hypermodel.fit(hp, model, **kw)
            if save_to is not None:
                _save_weights(model, save_to / FOLD_WEIGHTS.format(i=i))
            return history

        fit_kwargs = dict(self._fit_kwargs)
        if weights is not None:
            fit_kwargs["initial_epoch"] = initial_epoch
        start = time.perf_counter()
        try:
            metrics = cv_lib.run_fold(build, fit, self._folds, i, batch_size=batch_size, seed=seed, epochs=epochs,
                                      callbacks=callbacks, validate_each_epoch=self.tensorboard, fit_kwargs=fit_kwargs)
        except FloatingPointError as exc:  # KerasTuner records the trial as FAILED (counted, not retried)
            raise keras_tuner.errors.FailedTrialError(f"trial {trial.trial_id}: {exc}") from None
        return {"metrics": metrics, "seconds": time.perf_counter() - start}

    def _should_prune(self, trial, per_fold) -> bool:
        """The median rule (:func:`tuning.options.median_rule`) against the earlier trials on the same folds."""
        objective, direction = self.oracle.objective.name, self.oracle.objective.direction
        i = len(per_fold)
        running = float(np.mean([f[objective] for f in per_fold]))
        budget = trial.hyperparameters.values.get("tuner/epochs")  # Hyperband: compare trials trained as long
        # A worker's oracle is the chief's proxy: get_best_trials is how it sees every trial.
        trials = self.oracle.trials.values() if not self._is_worker() else self.oracle.get_best_trials(2**31 - 1)
        others, completed = [], 0
        for other in trials:
            if other.trial_id == trial.trial_id or other.hyperparameters.values.get("tuner/epochs") != budget:
                continue
            if other.status == _compat.TrialStatus.COMPLETED:
                completed += 1
            elif not _oracle.is_pruned(other):
                continue
            scores = [other.metrics.get_last_value(f"{objective}_fold{j}") if other.metrics.exists(
                f"{objective}_fold{j}") else None for j in range(1, i + 1)]
            if all(s is not None for s in scores):
                others.append(float(np.mean(scores)))
        return options.median_rule(running, others, direction, completed=completed, warmup=self.prune_warmup)

    def _write_hparams_summary(self, trial, mean, std):
        """One HParams session per trial with its k-fold mean, for TensorBoard's HParams dashboard."""
        import tensorflow as tf
        from tensorboard.plugins.hparams import api as hparams_api

        name = self.oracle.objective.name
        logdir = os.path.join(self.project_dir, TENSORBOARD_DIR, str(trial.trial_id), "cv")
        with tf.summary.create_file_writer(logdir).as_default():
            hparams_api.hparams(_compat.hparams_of(trial.hyperparameters, hparams_api),
                                trial_id=str(trial.trial_id))
            tf.summary.scalar(f"cv_{name}_mean", mean, step=0)
            tf.summary.scalar(f"cv_{name}_std", std, step=0)

    def _trial_batch_size(self, hp):
        """The zoo hypermodel's (searched or fixed) batch size, else the one given to search(), else Keras's."""
        if isinstance(self.hypermodel, ZooHyperModel):
            return self.hypermodel.batch_size(hp)
        return getattr(self, "_batch_size", None)

    def load_model(self, trial):
        raise NotImplementedError(f"{type(self).__name__} keeps no per-trial model (it trains k models a trial); "
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

    def best_epochs(self, trial=None) -> int:
        """Epochs the best trial (or ``trial``) trained each fold for: Hyperband's ``tuner/epochs``, else search's."""
        if trial is None:
            best = self.oracle.get_best_trials(1)
            trial = best[0] if best else None
        values = trial.hyperparameters.values if trial is not None else {}
        return int(values.get("tuner/epochs", getattr(self, "_epochs", None) or DEFAULT_TRAIN.epochs))

    def retrain_best(self, x, y=None, *, epochs: int | None = None, verbose=0) -> BestModel:
        """Train the best configuration on all of ``(x, y)`` (the whole training set).

        Args:
            epochs: default :meth:`best_epochs` (for Hyperband, the epochs its best trial trained).

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
            xs, ys = checks.xy(x, y, num_classes=self._reference_classes, feature_shape=self._reference_shape)
            folds = ArrayFolds(xs, ys, [], self.preprocess)
        epochs = checks.positive_int("epochs", epochs if epochs is not None else self.best_epochs(trial))
        import keras

        hp = trial.hyperparameters
        seed = derive_seed(self.seed, trial.trial_id, "all")
        keras.backend.clear_session(free_memory=False)
        keras.utils.set_random_seed(seed)
        model = self.hypermodel.build(hp)
        fit_args, fitted = folds.full(batch_size=self._trial_batch_size(hp), seed=seed)
        self.hypermodel.fit(hp, model, **fit_args, **getattr(self, "_fit_kwargs", {}), epochs=epochs, verbose=verbose)
        return BestModel(model, fitted, str(trial.trial_id), dict(hp.values))


class CVRandomSearch(CVTuner):
    """KerasTuner random search whose trial score is the k-fold mean: ``CVTuner(algorithm="random")``.

    Args:
        hypermodel, objective, max_trials, **kwargs: as for :class:`CVTuner` (``max_trials`` default 10).
    """

    def __init__(self, hypermodel, objective=DEFAULT_OBJECTIVE, max_trials: int = DEFAULT_MAX_TRIALS, **kwargs):
        if "algorithm" in kwargs:
            raise TypeError("algorithm: CVRandomSearch is random search; use CVTuner(algorithm=...) for another")
        super().__init__(hypermodel, "random", objective, max_trials, **kwargs)


def grid_size(hyperparameters) -> int:
    """How many points KerasTuner's grid search visits in ``hyperparameters``' space.

    Each hyperparameter contributes its values (a float without a step: ten, as
    KerasTuner takes them) plus its default where that is not among them; a
    conditional one counts only where its parent's value makes it active.
    Counted branch by branch, without listing the points.
    """
    space = hyperparameters.space
    parents = {c.name for hp in space for c in hp.conditions}
    states = {(): 1}  # the values of the parents chosen so far -> how many points share them
    for hp in space:
        values = list(dict.fromkeys([hp.default, *hp.values]))
        grown: dict = {}
        for key, count in states.items():
            chosen = dict(key)
            if not all(c.is_active(chosen) for c in hp.conditions):
                grown[key] = grown.get(key, 0) + count
            elif hp.name in parents:
                for v in values:
                    k = tuple(sorted({**chosen, hp.name: v}.items(), key=lambda kv: kv[0]))
                    grown[k] = grown.get(k, 0) + count
            else:
                grown[key] = grown.get(key, 0) + count * len(values)
        states = grown
    return sum(states.values())


def _read_fold(path: Path, stamp: dict) -> dict | None:
    """A finished fold's record if it was trained as ``stamp`` says (same seed and epochs), else None."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or any(record.get(k) != v for k, v in stamp.items()):
        return None
    metrics = record.get("metrics")
    # Only finite numbers are a fold's result (run_fold writes nothing else: a diverged fold raises). A damaged
    # record ("NaN", a string) would make the trial's mean NaN and KerasTuner fail the trial for good: the fold
    # is trained again instead.
    if not isinstance(metrics, dict) or not metrics or not all(_finite(v) for v in metrics.values()):
        return None
    if not _finite(record.get("seconds")):
        return None
    return record


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and bool(np.isfinite(value))


def _save_weights(model, path: Path) -> None:
    """``model.save_weights`` under a temporary name, then renamed (a killed process leaves no torn file)."""
    tmp = path.with_name(f".{os.getpid()}-{path.name}")  # Keras wants the .weights.h5 ending
    model.save_weights(str(tmp))
    os.replace(tmp, path)


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
