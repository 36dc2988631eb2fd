"""KerasTuner's random-search oracle, made safe to kill and to run with workers that die.

:class:`ZooOracle` is KerasTuner's ``RandomSearchOracle`` (same sampling, same
state files, same resume logic) with six changes, each small:

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
   hypermodel, the textbook model), a baseline; random samples follow.

:func:`serve_chief` replaces ``keras_tuner``'s ``start_server``: the same gRPC
service, but a port that cannot be bound is a clear error, and the chief stops
as soon as the search is finished instead of polling every 20 seconds.
"""

from __future__ import annotations

import os
import socket
import time

import keras
import keras_tuner

from zoo import files

from . import _compat

Status = _compat.TrialStatus

# A worker holding a trial that has not been heard from for this long is declared lost.
# Workers send a sign of life at least every HEARTBEAT_FRACTION of it while training.
DEFAULT_WORKER_TIMEOUT = 300.0
HEARTBEAT_FRACTION = 0.2
IDLE_POLL_SECONDS = 1.0  # how often an idle worker asks again while others finish
CHIEF_POLL_SECONDS = 0.5  # how often the chief checks whether the search is finished


class ZooOracle(keras_tuner.oracles.RandomSearchOracle):
    """``RandomSearchOracle`` with atomic state, single counting, lost-worker recovery and a results hook.

    Args:
        worker_timeout: seconds of silence after which a worker's trial is handed to another worker.
        on_trial_end: ``fn(oracle)`` called after each trial ends (on the chief in distributed mode).
        *args, **kwargs: as for ``keras_tuner.oracles.RandomSearchOracle``.
    """

    def __init__(self, *args, worker_timeout: float = DEFAULT_WORKER_TIMEOUT, on_trial_end=None,
                 default_first: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.default_first = bool(default_first)
        self.worker_timeout = float(worker_timeout)
        self.on_trial_end = on_trial_end
        self.attempts: dict[str, list[dict]] = {}
        self._heard: dict[str, float] = {}      # trial_id -> last sign of life (monotonic seconds)
        self._seen: dict[str, float] = {}       # tuner_id -> last request
        self._reported: dict[str, int] = {}     # trial_id -> attempt number whose metrics are stored
        self._stopped = False                   # the space is exhausted or max_trials reached

    # ------------------------------------------------------------------ state (atomic files)
    def get_state(self):
        return {**super().get_state(), "attempts": self.attempts}

    def set_state(self, state):
        super().set_state(state)
        self.attempts = {k: list(v) for k, v in state.get("attempts", {}).items()}

    def save(self):
        files.write_json(self._get_oracle_fname(), self.get_state())

    def _save_trial(self, trial):
        files.write_json(os.path.join(self._get_trial_dir(trial.trial_id), "trial.json"), trial.get_state())

    # ------------------------------------------------------------------ trials
    def populate_space(self, trial_id):
        if self.default_first and not self.trials:
            # The first trial is the default point of the space (for a zoo hypermodel:
            # the textbook model), a baseline every other trial is compared with.
            hps = keras_tuner.HyperParameters()
            for hp in self.hyperparameters.space:
                hps.merge([hp])
                if hps.is_active(hp):
                    hps.values[hp.name] = hp.default
            return {"status": Status.RUNNING, "values": hps.values}
        return super().populate_space(trial_id)

    @keras_tuner.synchronized
    def create_trial(self, tuner_id):
        now = time.monotonic()
        self._seen[tuner_id] = now
        self._requeue_lost(tuner_id, now)
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
        super().end_trial(trial)
        stored = self.trials[trial.trial_id]
        history = self.attempts.setdefault(trial.trial_id, [{"tuner": "?", "outcome": "running"}])
        history[-1]["outcome"] = str(stored.status).lower()
        self._heard.pop(trial.trial_id, None)
        self.save()
        if self.on_trial_end is not None:
            self.on_trial_end(self)

    @keras_tuner.synchronized
    def finished(self, grace: float) -> bool:
        """Whether a distributed search is over: no trial left to run and no live worker waiting."""
        if self.ongoing_trials or self._retry_queue:
            return False
        if not (self._stopped or (self.max_trials and len(self.trials) >= self.max_trials)):
            return False
        now = time.monotonic()
        # A worker still registered but silent for `grace` seconds died between trials.
        return all(now - self._seen.get(t, 0.0) > grace for t in self.tuner_ids)


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
