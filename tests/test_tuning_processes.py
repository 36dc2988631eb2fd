"""Slow tuning tests: the real iris search, and real processes interrupted, killed and distributed.

Every spawned process runs ``python -m tuning`` with bounded waits, on
127.0.0.1 only, and is killed in a ``finally`` whatever happens.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tuning.__main__ import main as tuning_main

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]
WAIT = 240  # seconds: the longest any process may take before the test gives up


def _start(*args) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
           "TF_CPP_MIN_LOG_LEVEL": "2", "MPLBACKEND": "Agg"}
    for var in ("KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT"):
        env.pop(var, None)
    # Ctrl-C as at a terminal: a suite started in the background by a non-interactive shell passes SIGINT
    # on ignored, and the search (rightly) leaves an ignored SIGINT ignored.
    return subprocess.Popen([sys.executable, "-m", "tuning", *map(str, args)], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _finish(proc: subprocess.Popen, timeout: float = WAIT) -> tuple[int, str]:
    out, _ = proc.communicate(timeout=timeout)
    return proc.returncode, out


def _kill_all(procs) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        try:
            proc.communicate(timeout=30)
        except (subprocess.TimeoutExpired, ValueError):
            pass


def _wait_for(condition, what: str, procs=(), timeout: float = WAIT, poll: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        dead = [p for p in procs if p.poll() is not None]
        if dead:
            raise AssertionError(f"a process ended (rc {dead[0].returncode}) while waiting for {what}: "
                                 f"{dead[0].communicate()[0][-3000:]}")
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def _json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _check_consistent(project: Path, max_trials: int) -> dict:
    """Exactly max_trials trials, each completed and recorded once, results == KerasTuner's trial files."""
    doc = _json(project / "results.json")
    ids = [row["trial_id"] for row in doc["trials"]]
    assert len(ids) == len(set(ids)) == max_trials, ids
    assert all(row["status"] == "COMPLETED" for row in doc["trials"]), [r["status"] for r in doc["trials"]]
    states = {s["trial_id"]: s for s in map(_json, project.glob("trial_*/trial.json"))}
    assert set(states) == set(ids)
    oracle = _json(project / "oracle.json")
    assert sorted(oracle["end_order"]) == sorted(ids) and not oracle["ongoing_trials"]
    for row in doc["trials"]:
        state = states[row["trial_id"]]
        assert state["status"] == "COMPLETED" and state["score"] == pytest.approx(row["score"])
        assert state["hyperparameters"]["values"] == row["hyperparameters"]
        assert [a["outcome"] for a in row["attempts"]][-1] == "completed"
    return doc


# --------------------------------------------------------------------------- the real run
def test_iris_search_five_folds_ten_trials(run_cli, tmp_path):
    """The issue's real run: iris, 5-fold CV, 10 trials, then the best retrained and tested once."""
    code, out, err = run_cli(tuning_main, "search", "dense_classifier", "--max-trials", 10, "--folds", 5,
                             "--epochs", 20, "--seed", 0, "--dir", tmp_path, "--quiet")
    assert code == 0, err
    project = tmp_path / "dense_classifier"
    doc = _check_consistent(project, 10)
    assert all(len(row["folds"]) == 5 for row in doc["trials"])
    assert doc["best_score"] >= 0.9  # k-fold mean validation accuracy of the best configuration
    final = _json(project / "final.json")
    assert final["test_samples"] == 30 and final["test_accuracy"] >= 0.9
    print(out)


# --------------------------------------------------------------------------- interrupted search
def test_search_survives_ctrl_c_and_sigkill_and_counts_every_trial_once(tmp_path):
    """Ctrl-C mid-trial, then SIGKILL mid-trial, then the same command: exactly max_trials trials,
    none lost or counted twice, with the same results as an uninterrupted run."""
    max_trials = 5
    common = ["search", "dense_classifier", "--max-trials", max_trials, "--folds", 2, "--epochs", 3, "--seed", 3,
              "--quiet"]
    project = tmp_path / "run" / "dense_classifier"
    procs = []
    try:
        reference = _start(*common, "--dir", tmp_path / "reference")
        procs.append(reference)
        # 1. Ctrl-C while trial 1 trains.
        first = _start(*common, "--dir", tmp_path / "run")
        procs.append(first)
        _wait_for(lambda: (project / "trial_1" / "trial.json").is_file(), "trial 1 to start", [first])
        time.sleep(0.3)
        first.send_signal(signal.SIGINT)
        code, out = _finish(first)
        assert code == 130 and "interrupted" in out, out[-2000:]
        assert _json(project / "trial_1" / "trial.json")["status"] == "RUNNING"
        # 2. The same command resumes; SIGKILL it while trial 3 trains.
        second = _start(*common, "--dir", tmp_path / "run")
        procs.append(second)
        _wait_for(lambda: (project / "trial_3" / "trial.json").is_file(), "trial 3 to start", [second])
        time.sleep(0.3)
        second.kill()
        second.wait(timeout=30)
        assert _json(project / "trial_3" / "trial.json")["status"] == "RUNNING"
        assert _json(project / "oracle.json") is not None  # never torn, even by SIGKILL
        # 3. The same command finishes the search.
        code, out = _finish(_start(*common, "--dir", tmp_path / "run"))
        assert code == 0, out[-3000:]
        code, ref_out = _finish(reference)
        assert code == 0, ref_out[-3000:]
    finally:
        _kill_all(procs)
    doc = _check_consistent(project, max_trials)
    attempts = {row["trial_id"]: [a["outcome"] for a in row["attempts"]] for row in doc["trials"]}
    assert attempts["1"] == ["interrupted", "completed"] and attempts["3"] == ["interrupted", "completed"]
    assert all(attempts[t] == ["completed"] for t in ("0", "2", "4"))
    ref = _check_consistent(tmp_path / "reference" / "dense_classifier", max_trials)
    # The re-run trials used the same seeds: every fold's score equals the uninterrupted run's.
    assert [r["folds"] for r in doc["trials"]] == [r["folds"] for r in ref["trials"]]
    assert _json(project / "final.json")["test_accuracy"] == _json(tmp_path / "reference" / "dense_classifier"
                                                                   / "final.json")["test_accuracy"]


# --------------------------------------------------------------------------- distributed search
def _distributed(tmp_path, *, max_trials, worker_timeout=None, extra=()):
    port = _free_port()
    common = ["search", "dense_classifier", "--max-trials", max_trials, "--folds", 2, "--epochs", 2, "--seed", 0,
              "--dir", tmp_path, "--quiet", "--oracle-ip", "127.0.0.1", "--oracle-port", port, *extra]
    if worker_timeout:
        common += ["--worker-timeout", worker_timeout]
    chief = _start(*common, "--role", "chief")
    workers = [_start(*common, "--role", "worker", "--tuner-id", f"worker{i}") for i in range(2)]
    return chief, workers


# Grid search: the activations x initialisers grid (6 points), handed out by the chief's GridSearchOracle.
@pytest.mark.parametrize("extra", [(), ("--algorithm", "grid", "--tune", "activation,kernel_initializer")],
                         ids=["random", "grid"])
def test_distributed_chief_and_two_workers_record_every_trial_once(tmp_path, extra):
    max_trials = 6
    chief, workers = _distributed(tmp_path, max_trials=max_trials, extra=extra)
    try:
        code, out = _finish(chief)
        assert code == 0, out[-3000:]
        assert re.search(r"Best: trial \d+, val_accuracy", out)
        for worker in workers:
            code, wout = _finish(worker, timeout=60)
            assert code == 0 and "no trial left" in wout, wout[-3000:]
    finally:
        _kill_all([chief, *workers])
    doc = _check_consistent(tmp_path / "dense_classifier", max_trials)
    ran_by = [a["tuner"] for row in doc["trials"] for a in row["attempts"]]
    assert len(ran_by) == max_trials and set(ran_by) == {"worker0", "worker1"}  # both worked, each trial once
    if extra:  # every point of the grid once
        points = {(r["hyperparameters"]["activation"], r["hyperparameters"]["kernel_initializer"]) for r in doc["trials"]}
        assert len(points) == max_trials and doc["algorithm"] == "grid"


def test_distributed_search_survives_a_killed_worker(tmp_path):
    """worker1 is SIGKILLed mid-trial: after --worker-timeout seconds without a sign of life its trial
    goes back to the queue, worker0 re-runs it, and the chief finishes with every trial once."""
    max_trials = 5
    chief, workers = _distributed(tmp_path, max_trials=max_trials, worker_timeout=10)
    oracle_file = tmp_path / "dense_classifier" / "oracle.json"
    try:
        held = _wait_for(lambda: (_json(oracle_file) or {}).get("ongoing_trials", {}).get("worker1"),
                         "worker1 to hold a trial", [chief, *workers])
        time.sleep(0.5)
        workers[1].kill()
        workers[1].wait(timeout=30)
        code, out = _finish(chief)
        assert code == 0, out[-3000:]
        assert f"Trial {held}: no sign of life from worker1" in out
        code, wout = _finish(workers[0], timeout=60)
        assert code == 0, wout[-3000:]
    finally:
        _kill_all([chief, *workers])
    doc = _check_consistent(tmp_path / "dense_classifier", max_trials)
    attempts = {row["trial_id"]: row["attempts"] for row in doc["trials"]}
    assert attempts[held] == [{"tuner": "worker1", "outcome": "lost"}, {"tuner": "worker0", "outcome": "completed"}]
