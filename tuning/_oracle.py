"""KerasTuner's oracles (random, grid, Bayesian, Hyperband), made safe to kill and to run with workers that die.

:class:`ZooOracleMixin` goes before one of KerasTuner's own oracles (same
algorithm, same state files, same resume logic): :class:`ZooOracle` (random),
:class:`ZooGridOracle`, :class:`ZooBayesianOracle`, :class:`ZooHyperbandOracle`.
It makes eight changes, each small:

1. **Atomic state.** ``oracle.json`` and every ``trial.json`` are written under a
   temporary name and renamed (``zoo.files``), so a process killed while saving
   leaves the previous file, never a torn one that cannot be reloaded.
2. **A trial is counted once.** A trial re-run after an interruption replaces its
   metrics instead of being averaged with a half-reported earlier attempt, and a
   second report for a trial that already ended (a worker declared lost that
   comes back) is ignored.
3. **Lost workers.** In distributed mode each worker sends a sign of life while
   it trains (``get_trial`` calls, see :class:`Heartbeat`). When a worker holding
   a trial has been silent for ``worker_timeout`` seconds and another worker asks
   for work, the trial goes back to the queue and that worker re-runs it from
   scratch (same seeds, so the same result). KerasTuner alone would keep the
   trial "running" forever and its chief would never exit.
4. **A record of attempts.** ``attempts[trial_id]`` lists which tuner ran the
   trial and how each attempt ended (``completed``, ``failed``, ``interrupted``:
   the process was killed or restarted, ``lost``: the worker went silent).
5. **A hook** called after each ended trial, which writes the results files.
6. **The default first.** Trial 0 is the default point of the space (for a zoo
   hypermodel, the textbook model), a baseline; the algorithm's proposals follow
   (a grid starts at the defaults by itself; Hyperband's first bracket's first trial).
7. **Pruned trials.** A trial that reports the ``pruned`` metric is ended as
   KerasTuner's ``STOPPED`` (never scored, never the best, not a failure), its
   partial fold scores kept.
8. **A deadline.** After ``deadline`` no trial starts (:meth:`ZooOracleMixin.create_trial`),
   on one machine and on a distributed chief alike, and ``stop`` records why.

:func:`serve_chief` replaces ``keras_tuner``'s ``start_server``: the same gRPC
service, but a port that cannot be bound is a clear error, and the chief stops
as soon as the search is finished instead of polling every 20 seconds.
"""

from __future__ import annotations

import contextlib
import copy
import os
import socket
import time

import keras
import keras_tuner

from zoo import files

from . import _compat, options

Status = _compat.TrialStatus

# A worker holding a trial that has not been heard from for this long is declared lost.
# Workers send a sign of life at least every HEARTBEAT_FRACTION of it while training.
DEFAULT_WORKER_TIMEOUT = 300.0
HEARTBEAT_FRACTION = 0.2
IDLE_POLL_SECONDS = 1.0  # how often an idle worker asks again while others finish
CHIEF_POLL_SECONDS = 0.5  # how often the chief checks whether the search is finished


class ZooOracleMixin:
    """Atomic state, single counting, lost-worker recovery, a results hook, the default first, pruning, a deadline.

    Placed before one of KerasTuner's oracles (``class ZooGridOracle(ZooOracleMixin,
    GridSearchOracle)``): the algorithm is KerasTuner's, untouched; this adds what
    the module docstring lists.

    Args:
        max_trials: trials at most (None: as many as the algorithm proposes; Hyperband's
            brackets and a grid end by themselves).
        worker_timeout: seconds of silence after which a worker's trial is handed to another worker.
        on_trial_end: ``fn(oracle)`` called after each trial ends (on the chief in distributed mode).
        default_first: trial 0 is the default point of the space (random, Bayesian, Hyperband;
            a grid starts there anyway).
        *args, **kwargs: as for the KerasTuner oracle.
    """

    algorithm = None  # set by each oracle below (tuning.options.ALGORITHMS)

    def __init__(self, *args, max_trials=None, worker_timeout: float = DEFAULT_WORKER_TIMEOUT, on_trial_end=None,
                 default_first: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_trials = max_trials  # HyperbandOracle takes none; the base Oracle honours it for every algorithm
        self.default_first = bool(default_first)
        self.worker_timeout = float(worker_timeout)
        self.on_trial_end = on_trial_end
        self.attempts: dict[str, list[dict]] = {}
        #: Why the last run of the search stopped early (``{"reason": "max_time", ...}``), else None.
        self.stop = None
        #: ``time.monotonic()`` after which no trial starts (set by the tuner for one run; not saved).
        self.deadline = None
        self._heard: dict[str, float] = {}      # trial_id -> last sign of life (monotonic seconds)
        self._seen: dict[str, float] = {}       # tuner_id -> last request
        self._reported: dict[str, int] = {}     # trial_id -> attempt number whose metrics are stored
        self._stopped = False                   # the space is exhausted or max_trials reached

    # ------------------------------------------------------------------ state (atomic files)
    def get_state(self):
        return {**super().get_state(), "attempts": self.attempts, "stop": self.stop}

    def set_state(self, state):
        super().set_state(state)
        self.attempts = {k: list(v) for k, v in state.get("attempts", {}).items()}
        self.stop = state.get("stop")

    def save(self):
        files.write_json(self._get_oracle_fname(), self.get_state())

    def reload(self):
        super().reload()
        self._drop_unrecorded_trials()

    def _drop_unrecorded_trials(self) -> None:
        """Forget the trials whose creation ``oracle.json`` never recorded (its save failed: a full disk).

        KerasTuner writes a new trial's ``trial.json`` and then ``oracle.json``. When
        the second write fails the search stops, but the trial file stays; reloaded,
        it would count as a trial that is neither running, queued nor ended: held
        RUNNING forever, its number taken, and the same configuration drawn again
        under the next number (the random state in ``oracle.json`` did not move).
        ``oracle.json`` is the record: such a trial was never started (nothing
        trained), so its files go and its number is drawn again.
        """
        for trial_id in [t for t in self.trials if t not in self.start_order]:
            del self.trials[trial_id]
            trial_dir = os.path.join(os.path.dirname(self._get_oracle_fname()), f"trial_{trial_id}")
            if os.path.islink(trial_dir):
                continue  # a linked folder: its files are not this search's to delete
            for name in os.listdir(trial_dir):
                if name == "trial.json" or name.startswith("fold_"):  # this package's files of a trial only
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(os.path.join(trial_dir, name))

    def _save_trial(self, trial):
        files.write_json(os.path.join(self._get_trial_dir(trial.trial_id), "trial.json"), trial.get_state())

    # ------------------------------------------------------------------ trials
    def default_values(self) -> dict:
        """The default point of the space (for a zoo hypermodel: the textbook model), active values only."""
        hps = keras_tuner.HyperParameters()
        for hp in self.hyperparameters.space:
            hps.merge([hp])
            if hps.is_active(hp):
                hps.values[hp.name] = hp.default
        return hps.values

    def _random_values(self):
        # Random search, Bayesian optimisation's initial points and Hyperband's new
        # trials all draw here: the first trial is the default point, a baseline
        # every other trial is compared with.
        if self.default_first and not self.trials:
            values = self.default_values()
            if not self._duplicate(values):
                return values
        return super()._random_values()

    def begin_run(self, deadline: float | None) -> None:
        """A run of the search starts (or resumes): no trial starts after ``deadline`` (monotonic seconds)."""
        self.deadline = deadline
        self.stop = None
        self._stopped = False

    def note_stop(self, reason: str, **details) -> None:
        """Record why this run stopped early (kept in ``oracle.json`` and the results)."""
        self.stop = {"reason": reason, "at": time.strftime("%Y-%m-%d %H:%M:%S"), **details}
        self.save()

    @keras_tuner.synchronized
    def create_trial(self, tuner_id):
        now = time.monotonic()
        self._seen[tuner_id] = now
        self._requeue_lost(tuner_id, now)
        if tuner_id not in self.ongoing_trials and self.deadline is not None and now >= self.deadline:
            # The time budget is spent: no new trial starts (a retried one neither); those running finish.
            if self.stop is None:
                self.note_stop("max_time")
            self.tuner_ids.discard(tuner_id)
            self._stopped = True
            return _compat.Trial(self.get_space(), trial_id="stopped", status=Status.STOPPED)
        if (tuner_id not in self.ongoing_trials and not self._retry_queue and self.max_trials
                and len(self.trials) >= self.max_trials and self.ongoing_trials):
            # Every trial is handed out, but another worker still holds one: it may
            # yet be declared lost and need this worker, so wait instead of stopping.
            self.tuner_ids.add(tuner_id)
            return _compat.Trial(self.get_space(), trial_id="idle", status=Status.IDLE)
        trial = super().create_trial(tuner_id)
        if trial.status == Status.RUNNING:
            history = self.attempts.setdefault(trial.trial_id, [])
            if history and history[-1]["outcome"] == "running":
                history[-1]["outcome"] = "interrupted"  # its process was killed or restarted
            history.append({"tuner": tuner_id, "outcome": "running"})
            self._heard[trial.trial_id] = now
            self.save()
        elif trial.status == Status.STOPPED:
            self._stopped = True
        return trial

    def _requeue_lost(self, requester: str, now: float) -> None:
        for tuner_id, trial in list(self.ongoing_trials.items()):
            if tuner_id == requester:
                continue
            last = self._heard.setdefault(trial.trial_id, now)  # after a chief restart: start the clock
            if now - last <= self.worker_timeout:
                continue
            del self.ongoing_trials[tuner_id]
            self.tuner_ids.discard(tuner_id)
            self._retry_queue.append(trial.trial_id)
            history = self.attempts.setdefault(trial.trial_id, [{"tuner": tuner_id, "outcome": "running"}])
            history[-1]["outcome"] = "lost"
            print(f"Trial {trial.trial_id}: no sign of life from {tuner_id} for {now - last:.0f} s "
                  f"(worker_timeout {self.worker_timeout:g} s); it goes to the next worker.", flush=True)
            self.save()

    def get_trial(self, trial_id):
        # Workers call this while they train (Heartbeat): it is their sign of life.
        if trial_id in self._heard:
            self._heard[trial_id] = time.monotonic()
        return super().get_trial(trial_id)

    @keras_tuner.synchronized
    def update_trial(self, trial_id, metrics, step=0):
        trial = self.trials[trial_id]
        if trial_id in self.end_order:
            return trial  # already ended (a lost worker came back): counted once
        attempt = len(self.attempts.get(trial_id, []))
        if self._reported.get(trial_id) != attempt:
            trial.metrics = _compat.MetricsTracker()  # a re-run replaces, never averages
            self._reported[trial_id] = attempt
        return super().update_trial(trial_id, metrics, step=step)

    @keras_tuner.synchronized
    def end_trial(self, trial):
        if trial.trial_id in self.end_order:
            for tuner_id, ongoing in list(self.ongoing_trials.items()):
                if ongoing.trial_id == trial.trial_id:
                    del self.ongoing_trials[tuner_id]
            return
        if trial.status == Status.COMPLETED and is_pruned(self.trials[trial.trial_id]):
            # A pruned trial ran some folds only: KerasTuner's STOPPED (the one status a
            # worker can send that is neither scored nor retried nor counted as a failure),
            # with the PRUNED flag among its metrics.
            trial.status = Status.STOPPED
        super().end_trial(trial)
        stored = self.trials[trial.trial_id]
        history = self.attempts.setdefault(trial.trial_id, [{"tuner": "?", "outcome": "running"}])
        history[-1]["outcome"] = "pruned" if is_pruned(stored) else str(stored.status).lower()
        self._heard.pop(trial.trial_id, None)
        self.save()
        if self.on_trial_end is not None:
            self.on_trial_end(self)

    @keras_tuner.synchronized
    def finished(self, grace: float) -> bool:
        """Whether a distributed search is over: no trial left to run and no live worker waiting."""
        if self.ongoing_trials or (self._retry_queue and not self._stopped):
            return False
        if not (self._stopped or (self.max_trials and len(self.trials) >= self.max_trials)):
            return False
        now = time.monotonic()
        # A worker still registered but silent for `grace` seconds died between trials.
        return all(now - self._seen.get(t, 0.0) > grace for t in self.tuner_ids)


def is_pruned(trial) -> bool:
    """Whether ``trial`` reported that it was pruned (stopped after some of its folds)."""
    metrics = trial.metrics
    return bool(metrics.exists(options.PRUNED_METRIC) and metrics.get_last_value(options.PRUNED_METRIC))


class ZooOracle(ZooOracleMixin, keras_tuner.oracles.RandomSearchOracle):
    """KerasTuner's ``RandomSearchOracle`` with the zoo's additions (:class:`ZooOracleMixin`)."""

    algorithm = "random"


class ZooGridOracle(ZooOracleMixin, keras_tuner.oracles.GridSearchOracle):
    """KerasTuner's ``GridSearchOracle`` (its first point is the defaults) with the zoo's additions.

    KerasTuner 1.4 does not save where the grid walk stands (the order of the
    points visited, and which wait for their successor), so its own grid search
    cannot resume (``KeyError`` in ``LinkedList.next``); both are saved here.
    """

    algorithm = "grid"

    def get_state(self):
        ids, index = [], self._ordered_ids._next_index[None]
        while index is not None:
            ids.append(self._ordered_ids._memory[index])
            index = self._ordered_ids._next_index[index]
        return {**super().get_state(), "grid_order": ids, "grid_populate_next": list(self._populate_next)}

    def set_state(self, state):
        super().set_state(state)
        self._ordered_ids = type(self._ordered_ids)()
        for trial_id in state.get("grid_order", []):
            self._ordered_ids.insert(trial_id)
        self._populate_next = list(state.get("grid_populate_next", []))


class ZooBayesianOracle(ZooOracleMixin, keras_tuner.oracles.BayesianOptimizationOracle):
    """KerasTuner's ``BayesianOptimizationOracle`` with the zoo's additions.

    The Gaussian process is fitted to the completed trials and, at their partial
    k-fold mean, the pruned ones (they say where not to look); trials waiting to
    be re-run are left out (KerasTuner would give them a stale score).
    """

    algorithm = "bayesian"

    def populate_space(self, trial_id):
        import warnings

        import sklearn
        from threadpoolctl import threadpool_limits

        # KerasTuner maximises the acquisition with L-BFGS on numerical gradients:
        # thousands of one-row GaussianProcessRegressor.predict calls, each mostly
        # scikit-learn's input checks (skipped: the oracle's own vectors are finite)
        # and, after TensorFlow has trained in this process, a multi-threaded BLAS
        # waking its threads for a few dozen numbers (one thread here).
        with warnings.catch_warnings(), threadpool_limits(limits=1, user_api="blas"), \
                sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
            # scikit-learn's note that a length scale sits at its bound, once per
            # fit of the Gaussian process: about the optimiser, not the search.
            warnings.filterwarnings("ignore", message="The optimal value found for dimension")
            return super().populate_space(trial_id)

    def _vectorize_trials(self):
        saved, ongoing = self.trials, {id(t) for t in self.ongoing_trials.values()}
        view = {}
        for trial_id, trial in saved.items():
            if is_pruned(trial):
                stand_in = copy.copy(trial)
                stand_in.status = Status.COMPLETED
                stand_in.score = trial.metrics.get_last_value(self.objective.name)
                view[trial_id] = stand_in
            elif id(trial) in ongoing or trial.status in (Status.COMPLETED, Status.FAILED, Status.INVALID):
                view[trial_id] = trial
        self.trials = view
        try:
            return super()._vectorize_trials()
        finally:
            self.trials = saved


class ZooHyperbandOracle(ZooOracleMixin, keras_tuner.oracles.HyperbandOracle):
    """KerasTuner's ``HyperbandOracle`` with the zoo's additions; its first bracket's first trial is the defaults."""

    algorithm = "hyperband"


#: The oracle of each algorithm (``tuning.options.ALGORITHMS``).
ORACLES = {"random": ZooOracle, "grid": ZooGridOracle, "bayesian": ZooBayesianOracle, "hyperband": ZooHyperbandOracle}


class Heartbeat(keras.callbacks.Callback):
    """Tells the oracle, at most every ``interval`` seconds, that this worker still trains ``trial_id``."""

    def __init__(self, oracle, trial_id: str, interval: float):
        super().__init__()
        self.oracle, self.trial_id, self.interval = oracle, trial_id, float(interval)
        self._last = time.monotonic()

    def beat(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last >= self.interval:
            self._last = now
            self.oracle.get_trial(self.trial_id)

    def on_train_batch_end(self, batch, logs=None):
        self.beat()

    def on_test_batch_end(self, batch, logs=None):
        self.beat()


# --------------------------------------------------------------------------- distributed mode
def distributed_role() -> str | None:
    """``"chief"``, ``"worker"`` or ``None``, from KerasTuner's documented environment variables."""
    if "KERASTUNER_ORACLE_IP" not in os.environ:
        return None
    missing = [v for v in ("KERASTUNER_ORACLE_PORT", "KERASTUNER_TUNER_ID") if not os.environ.get(v)]
    if missing:
        raise ValueError(f"KERASTUNER_ORACLE_IP is set but {' and '.join(missing)} not; distributed tuning needs "
                         "KERASTUNER_TUNER_ID (\"chief\" or a worker name), KERASTUNER_ORACLE_IP and KERASTUNER_ORACLE_PORT")
    return "chief" if "chief" in os.environ["KERASTUNER_TUNER_ID"] else "worker"


def oracle_address() -> tuple[str, int]:
    """The chief's ``(ip, port)`` from the environment, with the port checked."""
    ip = os.environ["KERASTUNER_ORACLE_IP"]
    raw = os.environ["KERASTUNER_ORACLE_PORT"]
    try:
        port = int(raw)
    except ValueError:
        port = -1
    if not 1 <= port <= 65535:
        raise ValueError(f"oracle_port must be an integer in [1, 65535], got {raw!r}")
    return ip, port


def check_port_free(ip: str, port: int) -> None:
    """Raise ``ValueError`` unless this machine can listen on ``ip:port``.

    Checked before the chief touches its directory, so a taken port leaves it as it was.
    (gRPC itself sets ``SO_REUSEPORT`` and could silently share the port with
    another chief; this plain bind does not.)
    """
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        try:
            s.bind((ip, port))
        except OSError as exc:
            reason = "is already in use" if exc.errno in (98, 48, 10048) else f"cannot be bound ({exc.strerror or exc})"
            raise ValueError(f"oracle_port: {ip}:{port} {reason}; the chief needs a free port "
                             "(another chief or program holds this one): pick another --oracle-port") from None


def serve_chief(oracle: ZooOracle, ip: str, port: int) -> None:
    """Serve ``oracle`` to the workers over gRPC until the search is finished."""
    from concurrent import futures

    import grpc

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    _compat.serve_oracle(oracle, server)
    try:
        bound = server.add_insecure_port(f"{ip}:{port}")
    except RuntimeError:
        bound = 0
    if not bound:
        raise ValueError(f"oracle_port: the chief cannot listen on {ip}:{port} (in use, or not an address of this machine)")
    server.start()
    grace = min(oracle.worker_timeout, 30.0)
    try:
        while not oracle.finished(grace):
            time.sleep(CHIEF_POLL_SECONDS)
    finally:
        server.stop(grace=1.0)
