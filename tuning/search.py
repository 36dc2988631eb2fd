"""Cross-validated KerasTuner search: :class:`CVRandomSearch` and the :class:`BestModel` it retrains.

:class:`CVRandomSearch` is KerasTuner's ``RandomSearch`` whose trial score is the
k-fold mean (its ``run_trial`` overridden, as KerasTuner's maintainers suggest in
keras-team/keras-tuner#139); fold scores and std stay with each trial. The oracle
that makes it resumable and distributable is :mod:`tuning._oracle`.
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

from . import _compat, _oracle, cv as cv_lib, results as results_lib, statefiles
from .cv import DEFAULT_OBJECTIVE, CVResult, derive_seed
from .folds import DEFAULT_FOLDS, DEFAULT_TRAIN, ArrayFolds, TFDSFolds, make_folds, make_splitter, transform_features
from .hypermodels import ZooHyperModel

CONFIG_JSON = "search_config.json"  # what a search directory was started with (checked on resume)
TENSORBOARD_DIR = "tensorboard"


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
        max_trials = checks.positive_int("max_trials", max_trials)
        seed = checks.positive_int("seed", seed, minimum=0)
        worker_timeout = checks.positive("worker_timeout", worker_timeout)
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
        directory = files.ensure_writable_dir(directory or ".", argument="directory")

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
        if reported:  # the compiled metrics, and for a classifier those computed from predictions (zoo.metrics)
            classes = self._reference_classes if self._reference_classes and self._reference_classes >= 2 else None
            held_out = [f"val_{m}" for m in zoo_metrics.PREDICTION_METRICS] if classes else []
            allowed = [*reported, *(f"val_{m}" for m in reported),
                       *(m for m in held_out if m in zoo_metrics.objectives(classes))]
            zoo_metrics.check_objective(name, classes, allowed=allowed)
        if isinstance(objective, keras_tuner.Objective):
            return objective
        if zoo_metrics.direction(name):  # the one table of directions
            return keras_tuner.Objective(name, zoo_metrics.direction(name))
        return _compat.create_objective(name)  # infers max/min; an unknown custom name raises

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
            epochs: per fold (default: the registry's for a zoo hypermodel, else ``DEFAULT_TRAIN``'s).
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
            batch_size = checks.positive_int("batch_size", batch_size)
        if epochs is None:
            epochs = self.hypermodel.epochs if isinstance(self.hypermodel, ZooHyperModel) else DEFAULT_TRAIN.epochs
        epochs = checks.positive_int("epochs", epochs)
        folds = make_folds(x, y, cv=self.splitter, seed=self.seed, preprocess=self.preprocess, groups=groups,
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
                per_fold.append(cv_lib.run_fold(
                    lambda: self.hypermodel.build(hp), lambda m, **kw: self.hypermodel.fit(hp, m, **kw), self._folds,
                    i, batch_size=batch_size, seed=derive_seed(self.seed, trial.trial_id, i), epochs=self._epochs,
                    callbacks=callbacks, validate_each_epoch=self.tensorboard, fit_kwargs=self._fit_kwargs))
            except FloatingPointError as exc:  # KerasTuner records the trial as FAILED (counted, not retried)
                raise keras_tuner.errors.FailedTrialError(f"trial {trial.trial_id}: {exc}") from None
        return per_fold

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
            xs, ys = checks.xy(x, y, num_classes=self._reference_classes, feature_shape=self._reference_shape)
            folds = ArrayFolds(xs, ys, [], self.preprocess)
        epochs = checks.positive_int("epochs", epochs if epochs is not None else getattr(self, "_epochs", DEFAULT_TRAIN.epochs))
        import keras

        hp = trial.hyperparameters
        seed = derive_seed(self.seed, trial.trial_id, "all")
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
