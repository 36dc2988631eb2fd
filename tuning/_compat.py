"""Every use of KerasTuner's internals, in one place, with a check that they are still there.

The cross-validated search and its oracle reach past KerasTuner's public API in
two ways: they import from ``keras_tuner.src`` (trial records, metric trackers,
objectives, the HParams conversion, the gRPC service of distributed mode), and
they override or call private methods and attributes of ``Tuner`` and
``RandomSearchOracle``. Both are listed here; :func:`check` fails with a message
naming the installed KerasTuner when one of them moves, and
``tests/test_compat.py`` runs it.
"""

from __future__ import annotations

import keras_tuner
from keras_tuner.src.engine import metrics_tracking as _metrics_tracking
from keras_tuner.src.engine import objective as _objective
from keras_tuner.src.engine import trial as _trial
from keras_tuner.src.engine import tuner_utils as _tuner_utils

from zoo import metrics as zoo_metrics

#: The KerasTuner releases these internals were checked on (setup.cfg's bounds).
TESTED = ">=1.4.8,<1.5"

Trial = _trial.Trial
TrialStatus = _trial.TrialStatus
MetricsTracker = _metrics_tracking.MetricsTracker

#: Private methods and attributes the zoo's tuner and oracle override, call or read.
TUNER_INTERNALS = ("_populate_initial_space", "_run_and_update_trial", "_get_tuner_fname", "_is_worker",
                   "_deepcopy_callbacks", "_configure_tensorboard_dir")
ORACLE_INTERNALS = ("_get_oracle_fname", "_get_trial_dir", "_save_trial", "populate_space", "_random_values",
                    "_duplicate")
#: The oracles the zoo's mixin goes over, and the private methods of each one it overrides.
ORACLE_CLASSES = {"random": "RandomSearchOracle", "grid": "GridSearchOracle", "bayesian": "BayesianOptimizationOracle",
                  "hyperband": "HyperbandOracle"}
ALGORITHM_INTERNALS = {"bayesian": ("_vectorize_trials",), "hyperband": ("_get_epochs",)}
#: The grid oracle's walk, saved so that a grid search resumes (KerasTuner does not save it).
GRID_STATE = ("_ordered_ids", "_populate_next")
#: Hyperband's hyperparameters (KerasTuner puts them among a trial's values).
HYPERBAND_KEYS = ("tuner/epochs", "tuner/initial_epoch", "tuner/bracket", "tuner/round", "tuner/trial_id")
ORACLE_STATE = ("_retry_queue", "ongoing_trials", "start_order", "end_order", "tuner_ids", "trials")


class KerasTunerInternalsChanged(RuntimeError):
    """The installed KerasTuner no longer has an internal the tuning package relies on."""


# Objectives KerasTuner cannot name a direction for (it asks Keras for the metric):
# words that say which way is better, checked in this order.
_MINIMISED = ("loss", "error", "crossentropy")
_MAXIMISED = ("accuracy", "f1", "auc", "precision", "recall")


def objective_direction(name: str) -> str:
    """``"max"`` or ``"min"`` for the metric ``name``: the one place a direction is decided.

    KerasTuner's inference first (Keras's own metrics); else a name holding ``loss``,
    ``error`` or ``crossentropy`` is minimised and one holding ``accuracy``, ``f1``,
    ``auc``, ``precision`` or ``recall`` (``val_macro_f1``, ``val_top5_accuracy``) maximised.

    Raises:
        ValueError: a name that says neither (pass a ``keras_tuner.Objective(name, direction)``).
    """
    known = zoo_metrics.direction(name)  # the zoo's own table first (zoo.metrics.DIRECTIONS)
    if known:
        return known
    try:
        return _objective.create_objective(name).direction
    except ValueError:
        pass
    base = name[4:] if name.startswith("val_") else name
    for words, direction in ((_MINIMISED, "min"), (_MAXIMISED, "max")):
        if any(w in base for w in words):
            return direction
    raise ValueError(f"objective: cannot tell whether {name!r} is to be maximised or minimised; pass "
                     f"keras_tuner.Objective({name!r}, 'max' or 'min')")


def create_objective(name: str):
    """KerasTuner's objective for a metric name, its direction from :func:`objective_direction`."""
    return keras_tuner.Objective(name, objective_direction(name))


def hparams_of(hyperparameters, hparams_api):
    """The TensorBoard HParams of a trial's ``HyperParameters``."""
    return _tuner_utils.convert_hyperparams_to_hparams(hyperparameters, hparams_api)


def serve_oracle(oracle, server) -> None:
    """Register ``oracle`` as the gRPC ``Oracle`` service of ``server`` (KerasTuner's chief)."""
    from keras_tuner.src import protos
    from keras_tuner.src.distribute.oracle_chief import OracleServicer

    protos.get_service_grpc().add_OracleServicer_to_server(OracleServicer(oracle), server)


def check() -> None:
    """Raise :class:`KerasTunerInternalsChanged` unless the internals above still work."""
    problems = []
    classes = [(keras_tuner.Tuner, TUNER_INTERNALS)]
    for algorithm, cls_name in ORACLE_CLASSES.items():
        cls = getattr(keras_tuner.oracles, cls_name, None)
        if cls is None:
            problems.append(f"keras_tuner.oracles.{cls_name}")
            continue
        classes.append((cls, ORACLE_INTERNALS + ALGORITHM_INTERNALS.get(algorithm, ())))
    for cls, names in classes:
        problems += [f"{cls.__name__}.{n}" for n in names if not callable(getattr(cls, n, None))]
    oracle = keras_tuner.oracles.RandomSearchOracle(objective="val_accuracy", max_trials=1)
    problems += [f"RandomSearchOracle().{n}" for n in ORACLE_STATE if not hasattr(oracle, n)]
    grid = keras_tuner.oracles.GridSearchOracle(objective="val_accuracy", max_trials=1)
    problems += [f"GridSearchOracle().{n}" for n in GRID_STATE if not hasattr(grid, n)]
    linked = getattr(grid, "_ordered_ids", None)
    if linked is not None and not all(hasattr(linked, n) for n in ("_memory", "_next_index", "insert", "next")):
        problems.append("GridSearchOracle()._ordered_ids (LinkedList._memory/_next_index/insert/next)")
    space = keras_tuner.HyperParameters()
    space.Choice("units", [4, 8])
    hyperband = keras_tuner.oracles.HyperbandOracle(objective="val_accuracy", max_epochs=3, hyperparameters=space)
    proposal = hyperband.populate_space("0")  # what create_trial would record, without writing any file
    missing = [k for k in HYPERBAND_KEYS[:4] if k not in (proposal.get("values") or {})]
    if missing:
        problems.append(f"HyperbandOracle trial values lack {', '.join(missing)}")
    for status in ("RUNNING", "IDLE", "STOPPED", "COMPLETED", "FAILED"):
        if not hasattr(TrialStatus, status):
            problems.append(f"TrialStatus.{status}")
    try:
        if _objective.create_objective("val_accuracy").direction != "max" or \
                _objective.create_objective("val_loss").direction != "min":
            problems.append("create_objective no longer infers the direction")
        hp = keras_tuner.HyperParameters()
        hp.Float("learning_rate", 1e-4, 1e-1, sampling="log")
        from tensorboard.plugins.hparams import api as hparams_api

        if len(hparams_of(hp, hparams_api)) != 1:
            problems.append("convert_hyperparams_to_hparams")
        tracker = MetricsTracker()
        tracker.update("val_accuracy", 0.5)
        if tracker.get_last_value("val_accuracy") != 0.5:
            problems.append("MetricsTracker.update/get_last_value")
        from keras_tuner.src import protos
        from keras_tuner.src.distribute.oracle_chief import OracleServicer  # noqa: F401

        protos.get_service_grpc().add_OracleServicer_to_server  # noqa: B018
    except (AttributeError, ImportError, TypeError, ValueError) as exc:
        problems.append(f"{type(exc).__name__}: {exc}")
    if problems:
        raise KerasTunerInternalsChanged(
            f"keras-tuner {keras_tuner.__version__} changed internals the tuning package relies on (checked on "
            f"keras-tuner {TESTED}): {', '.join(problems)}. Update tuning/_compat.py or install a keras-tuner "
            "in that range.")
