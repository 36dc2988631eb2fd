"""Nothing trained is thrown away, no run directory is silently torn, every damaged file is named.

Faults injected: SIGKILL at each step of the final save, a full disk (ENOSPC from
the rename that publishes a file, and a real 1 MB tmpfs where the machine lets
us mount one) while writing final files, checkpoints and tuning state, a second
search on a directory in use, and stale locks.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from zoo import training
from zoo import __main__ as zoo_command
zoo_main = zoo_command.main

ROOT = Path(__file__).resolve().parents[1]
TINY = ["dense_classifier", "--batch-size", "32", "--quiet"]


def _env():
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}


def _state_epoch(out) -> int:
    try:
        return json.loads((Path(out) / "checkpoint" / "state.json").read_text())["epoch"]
    except (OSError, ValueError, KeyError):
        return 0


def _run_until_epoch(out, epochs, at_least, *extra):
    """Start ``python -m zoo train`` with ``epochs`` in a subprocess; SIGKILL it once epoch ``at_least`` is checkpointed."""
    proc = subprocess.Popen([sys.executable, "-m", "zoo", "train", *TINY, "--epochs", str(epochs), "--out", str(out),
                             *extra], env=_env(), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300  # a generous bound for a loaded machine, not a timing assertion
    while time.monotonic() < deadline and proc.poll() is None and _state_epoch(out) < at_least:
        time.sleep(0.02)
    running = proc.poll() is None
    proc.kill()
    _, err = proc.communicate(timeout=60)
    assert running, f"exited before epoch {at_least} was checkpointed: {err[-2000:]}"
    assert _state_epoch(out) >= at_least, f"epoch {at_least} never checkpointed: {err[-2000:]}"
    return _state_epoch(out)


def _consistent(run_dir) -> dict:
    """Evaluate ``run_dir``; its files must agree with each other and with the manifest."""
    result = training.evaluate(run_dir)  # checks the manifest first
    metrics = json.loads((Path(run_dir) / "metrics.json").read_text())
    config = json.loads((Path(run_dir) / "config.json").read_text())
    history = json.loads((Path(run_dir) / "history.json").read_text())
    assert metrics["epochs"] == config["epochs"] == len(history["loss"]), (metrics, config)
    assert metrics["seed"] == config["seed"]
    assert result["test_accuracy"] == pytest.approx(metrics["test_accuracy"], abs=1e-6)
    return metrics


# ---------------------------------------------------------------- losing work
def _nonsense_corpus(tmp_path) -> Path:
    """Words found in no WordSim-353 / SimLex-999 pair and no analogy question."""
    rng = np.random.default_rng(0)
    words = [f"zq{chr(97 + i)}x" for i in range(12)]
    path = tmp_path / "domain.txt"
    path.write_text("\n".join(" ".join(rng.choice(words, size=30)) for _ in range(40)) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("vector_size", [1, 8])
def test_word2vec_keeps_its_vectors_when_no_evaluation_applies(run_cli, tmp_path, vector_size):
    from zoo.word2vec.__main__ import main as w2v_main

    out = tmp_path / "run"
    code, stdout, err = run_cli(w2v_main, "train", "--corpus", _nonsense_corpus(tmp_path), "--out", out, "--epochs", 1,
                                "--vector-size", vector_size, "--min-count", 1, "--quiet", "--probes", "zqax,absent")
    assert code == 0, err
    for name in ("vectors.txt", "vectors.bin", "model.keras", "settings.json", "metrics.json", "vectors.tsv"):
        assert (out / name).is_file(), name
    metrics = json.loads((out / "metrics.json").read_text())  # valid JSON: no NaN
    assert metrics["wordsim353_spearman"] == "not applicable (no pair in the vocabulary)"
    assert metrics["simlex999_spearman"] == "not applicable (no pair in the vocabulary)"
    assert metrics["analogy_accuracy"] == "not applicable (no analogy in the vocabulary)"
    assert "not applicable (no pair in the vocabulary)" in stdout
    assert "probes: not in the vocabulary" in err and "absent" in err  # a warning, after the results were saved
    assert len((out / "vectors.txt").read_text().splitlines()) == 1 + 12


def test_resume_with_other_epochs_is_refused_naming_them_then_overwrite_starts_over(tmp_path):
    out = tmp_path / "run"
    killed_at = _run_until_epoch(out, 3000, 2)
    before = (out / "checkpoint" / "state.json").read_bytes()
    with pytest.raises(ValueError, match=r"holds an unfinished run with other settings \(epochs: 3000 in the "
                                         r"checkpoint, 3 now\); rerun with the checkpoint's values .* --overwrite"):
        training.train("dense_classifier", out=out, epochs=3, batch_size=32, verbose=0)
    assert (out / "checkpoint" / "state.json").read_bytes() == before, "the refused resume changed the checkpoint"
    assert not (out / "metrics.json").exists()
    metrics = training.train("dense_classifier", out=out, epochs=3, batch_size=32, verbose=0, overwrite=True)
    assert metrics["epochs"] == 3 and metrics["resumed_from_epoch"] == 0 and killed_at >= 2
    assert _consistent(out)["epochs"] == 3


def test_huge_epoch_count_builds_shuffle_orders_as_needed(tmp_path, monkeypatch):
    # Every epoch's shuffle order used to be built before the first epoch (3e6 epochs x rows
    # int64: gigabytes and minutes); now each is made when the pipeline reaches its epoch.
    # Counted, not timed: the orders drawn by the time epoch 1 is checkpointed.
    class Stop(Exception):
        pass

    drawn, at_first_checkpoint = [], []
    real_rng, real_replace = np.random.default_rng, os.replace
    monkeypatch.setattr(np.random, "default_rng", lambda *a, **k: (drawn.append(a), real_rng(*a, **k))[1])

    def replace(src, dst, *args, **kwargs):
        real_replace(src, dst, *args, **kwargs)
        if str(dst).endswith("state.json"):  # epoch 1 is checkpointed: stop the run here
            at_first_checkpoint.append(len(drawn))
            raise Stop

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(Stop):
        training.train("dense_classifier", out=tmp_path / "run", epochs=300_000, batch_size=32, verbose=0)
    assert at_first_checkpoint and at_first_checkpoint[0] < 100, at_first_checkpoint


def test_huge_epoch_count_reaches_the_first_epoch_from_the_command_line(tmp_path):
    _run_until_epoch(tmp_path / "run", 3_000_000, 1)


def test_finished_run_is_not_reused_without_overwrite(run_cli, tmp_path):
    out = tmp_path / "run"
    code, _, err = run_cli(zoo_main, "train", *TINY, "--epochs", 2, "--seed", 0, "--out", out)
    assert code == 0, err
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert "run.json" in before
    code, _, err = run_cli(zoo_main, "train", *TINY, "--epochs", 3, "--seed", 1, "--out", out)
    assert code == 2 and err.count("\n") == 1
    assert "already holds a finished run; pass --overwrite" in err
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    code, _, err = run_cli(zoo_main, "train", *TINY, "--epochs", 3, "--seed", 1, "--out", out, "--overwrite")
    assert code == 0, err
    metrics = _consistent(out)
    assert (metrics["epochs"], metrics["seed"]) == (3, 1)


# ---------------------------------------------------------------- SIGKILL at each step of the final save
# The driver counts the steps of the final save (each staged file written, the manifest
# written, the old manifest and the old run's evaluation files removed, each file moved in, the new manifest moved in, then
# the checkpoint cleared) and SIGKILLs its own process just before step KILL_AT.
DRIVER = textwrap.dedent("""
    import os, signal, sys
    from zoo import checkpoint, rundir
    kill_at, seen = int(os.environ["KILL_AT"]), [0]
    def counted(fn):
        def step(*args, **kwargs):
            seen[0] += 1
            if seen[0] == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
            return fn(*args, **kwargs)
        return step
    for name in ("_write_one", "_move_one", "_remove_one"):
        setattr(rundir, name, counted(getattr(rundir, name)))
    checkpoint.Checkpoint.clear = counted(checkpoint.Checkpoint.clear)
    from zoo import __main__ as zoo_command
    main = zoo_command.main
    sys.exit(main(sys.argv[1:]))
""")
# 6 files + manifest staged, old manifest removed, the old run's 3 evaluation files removed (zoo evaluate's:
# they describe the old model), 6 + 1 moves, checkpoint cleared
FINAL_SAVE_STEPS = 19
B = [*TINY, "--epochs", "3", "--seed", "1", "--overwrite"]


@pytest.fixture(scope="module")
def finished_runs(tmp_path_factory):
    """Run A (seed 0, 2 epochs) and, for reference, run B (seed 1, 3 epochs) each in its own directory."""
    root = tmp_path_factory.mktemp("runs")
    training.train("dense_classifier", out=root / "a", epochs=2, batch_size=32, seed=0, verbose=0)
    training.train("dense_classifier", out=root / "b", epochs=3, batch_size=32, seed=1, verbose=0)
    return root


def _kill_point(step):
    return pytest.param(step, marks=[] if step in (1, 15, 19) else [pytest.mark.slow])  # first, mid-move, last


@pytest.mark.parametrize("step", [_kill_point(s) for s in range(1, FINAL_SAVE_STEPS + 2)])
def test_sigkill_at_each_step_of_the_final_save(tmp_path, finished_runs, step):
    import shutil

    out = tmp_path / "run"
    shutil.copytree(finished_runs / "a", out)
    a_metrics = json.loads((out / "metrics.json").read_text())
    b_metrics = json.loads((finished_runs / "b" / "metrics.json").read_text())
    proc = subprocess.run([sys.executable, "-c", DRIVER, "train", *B, "--out", str(out)], env={**_env(), "KILL_AT": str(step)},
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    if step <= FINAL_SAVE_STEPS:
        assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    else:  # past the last step: the run completes (this checks that FINAL_SAVE_STEPS counts every step)
        assert proc.returncode == 0, proc.stderr[-2000:]
    # evaluate: the old run, the new run, or a refusal naming the missing manifest.
    try:
        seen = _consistent(out)
    except FileNotFoundError as exc:
        assert "run.json not found: its final save was interrupted" in str(exc)
    else:
        assert seen["test_accuracy"] in (a_metrics["test_accuracy"], b_metrics["test_accuracy"])
        assert seen == a_metrics or seen["seed"] == 1
    # The same command again completes, with the new run's results.
    metrics = training.train("dense_classifier", out=out, epochs=3, batch_size=32, seed=1, verbose=0, overwrite=True)
    assert _consistent(out)["seed"] == 1
    assert metrics["test_accuracy"] == b_metrics["test_accuracy"]
    assert not (out / "checkpoint").exists() and not list(out.glob(".incomplete*"))


# ---------------------------------------------------------------- damaged files named
def test_evaluate_refuses_a_torn_directory(tmp_path, finished_runs):
    """Run B's model and config beside run A's metrics and history (the issue's torn directory)."""
    import shutil

    out = tmp_path / "torn"
    shutil.copytree(finished_runs / "a", out)
    for name in ("model.keras", "config.json"):
        shutil.copy(finished_runs / "b" / name, out / name)
    with pytest.raises(ValueError, match=r"run_dir: .*(model.keras|config.json) is damaged: .*differs from what run.json records"):
        training.evaluate(out)


# ---------------------------------------------------------------- a full disk
def _enospc_on(monkeypatch, match, after=0):
    """``os.replace`` raises ENOSPC when its target's path contains ``match`` (after ``after`` such calls)."""
    real, calls = os.replace, [0]

    def replace(src, dst, *args, **kwargs):
        if match in str(dst):
            calls[0] += 1
            if calls[0] > after:
                raise OSError(errno.ENOSPC, "No space left on device")
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)


def test_full_disk_during_the_final_save_keeps_the_finished_run(run_cli, tmp_path, finished_runs, monkeypatch):
    import shutil

    out = tmp_path / "run"
    shutil.copytree(finished_runs / "a", out)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    with monkeypatch.context() as m:
        _enospc_on(m, "metrics.json")
        code, _, err = run_cli(zoo_main, "train", *B, "--out", out)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert "error: no space left on device while writing " in err and "metrics.json (the disk holding" in err
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    assert _consistent(out)["seed"] == 0
    code, _, err = run_cli(zoo_main, "train", *B, "--out", out)  # space again: the same command finishes
    assert code == 0, err
    assert _consistent(out)["seed"] == 1


def test_full_disk_while_checkpointing_keeps_the_previous_checkpoint(run_cli, tmp_path, monkeypatch):
    out = tmp_path / "run"
    with monkeypatch.context() as m:
        _enospc_on(m, "state.json", after=2)  # epochs 1 and 2 are checkpointed, epoch 3's state.json is not
        code, _, err = run_cli(zoo_main, "train", *TINY, "--epochs", 6, "--out", out)
    assert code == 2 and err.count("\n") == 1, err
    assert "no space left on device while writing " in err and "checkpoint/state.json" in err
    assert _state_epoch(out) == 2
    assert sorted(p.name for p in (out / "checkpoint").iterdir()) == ["epoch-0002.npz", "state.json"], \
        "the unpublished weights file of epoch 3 must be removed, the epoch-2 pair kept"
    metrics = training.train("dense_classifier", out=out, epochs=6, batch_size=32, verbose=0)
    assert metrics["resumed_from_epoch"] == 2 and metrics["epochs"] == 6


def test_full_disk_while_saving_tuning_state_keeps_the_search_resumable(run_cli, tmp_path, monkeypatch):
    from tuning.__main__ import main as tuning_main

    argv = ["search", "dense_classifier", "--max-trials", "2", "--folds", "2", "--epochs", "1", "--dir",
            str(tmp_path / "tune"), "--quiet"]
    with monkeypatch.context() as m:
        _enospc_on(m, "oracle.json", after=3)
        code, _, err = run_cli(tuning_main, *argv)
    assert code == 2 and err.count("\n") == 1, err
    assert "no space left on device while writing " in err and "oracle.json" in err
    json.loads((tmp_path / "tune" / "dense_classifier" / "oracle.json").read_text())  # the previous state, whole
    assert not list((tmp_path / "tune").glob(".*.lock")), "the lock is released on error"
    code, _, err = run_cli(tuning_main, *argv)
    assert code == 0, err
    rows = json.loads((tmp_path / "tune" / "dense_classifier" / "results.json").read_text())
    assert len(rows["trials"] if isinstance(rows, dict) else rows) == 2


# A full disk at each kind of state write of a search, then space again: the same command must end
# as the search would have without the fault. (file name, writes of it that succeed first). A search's
# writes: oracle.json once at the start, then per trial: trial.json and oracle.json twice when it is
# created, fold_0.json, fold_1.json, trial.json (its metrics), trial.json and oracle.json twice when it
# ends, results.json.
STATE_WRITE_FAULTS = [
    ("oracle.json", 1),   # the first trial's creation: its trial.json is written, oracle.json is not (issue 27)
    ("oracle.json", 6),   # the second trial's creation, after a finished trial
    ("oracle.json", 3),   # the first trial's end
    ("trial.json", 0),    # the first trial's creation
    ("trial.json", 1),    # the first trial's metrics
    ("fold_1.json", 0),   # a fold's record: the trial is not failed for the disk's fault
    ("results.json", 1),  # the results after the second trial
]
FAULT_SEARCH = ["search", "dense_classifier", "--max-trials", "3", "--folds", "2", "--epochs", "1", "--quiet"]


def _trials(tune) -> list[dict]:
    return json.loads((Path(tune) / "dense_classifier" / "results.json").read_text())["trials"]


@pytest.fixture(scope="module")
def unfaulted_search(tmp_path_factory):
    from zoo import cli
    from tuning.__main__ import main as tuning_main

    tune = tmp_path_factory.mktemp("unfaulted") / "tune"
    assert cli.run_cli(tuning_main, [*FAULT_SEARCH, "--dir", str(tune)]) == 0
    return {t["trial_id"]: (t["status"], t["hyperparameters"], t["score"]) for t in _trials(tune)}


@pytest.mark.parametrize("name,after", STATE_WRITE_FAULTS, ids=[f"{n}-after-{a}" for n, a in STATE_WRITE_FAULTS])
def test_full_disk_at_any_state_write_then_a_rerun_ends_as_an_unfaulted_search(run_cli, tmp_path, monkeypatch,
                                                                              unfaulted_search, name, after):
    from tuning.__main__ import main as tuning_main

    argv = [*FAULT_SEARCH, "--dir", tmp_path / "tune"]
    with monkeypatch.context() as m:
        _enospc_on(m, name, after=after)
        code, _, err = run_cli(tuning_main, *argv)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert "no space left on device while writing " in err and name in err, err
    code, _, err = run_cli(tuning_main, *argv)  # space again
    assert code == 0, err
    trials = _trials(tmp_path / "tune")
    assert [t["status"] for t in trials].count("COMPLETED") == 3, trials
    assert not [t for t in trials if t["status"] == "RUNNING"], "a trial left running for ever"
    assert len({json.dumps(t["hyperparameters"], sort_keys=True) for t in trials}) == len(trials), "a duplicate"
    assert {t["trial_id"]: (t["status"], t["hyperparameters"], t["score"]) for t in trials} == unfaulted_search


@pytest.mark.parametrize("value", ["NaN", float("nan"), "high", None])
def test_damaged_fold_record_of_an_interrupted_trial_is_trained_again(run_cli, tmp_path, monkeypatch,
                                                                      unfaulted_search, value):
    # A fold record whose metric is not a finite number made the trial's mean NaN (or a TypeError):
    # KerasTuner failed the trial for good and the search ended short of max_trials, exit 0.
    from tuning.__main__ import main as tuning_main

    argv = [*FAULT_SEARCH, "--dir", tmp_path / "tune"]
    with monkeypatch.context() as m:
        _enospc_on(m, "fold_1.json")  # the first trial stops after its first fold
        assert run_cli(tuning_main, *argv)[0] == 2
    record = next((tmp_path / "tune" / "dense_classifier").glob("trial_*/fold_0.json"))
    doc = json.loads(record.read_text())
    doc["metrics"]["val_accuracy"] = value
    record.write_text(json.dumps(doc))
    code, _, err = run_cli(tuning_main, *argv)
    assert code == 0, err
    trials = _trials(tmp_path / "tune")
    assert {t["trial_id"]: (t["status"], t["hyperparameters"], t["score"]) for t in trials} == unfaulted_search


def test_full_disk_while_taking_the_search_lock_is_one_line_and_leaves_no_lock(run_cli, tmp_path, monkeypatch):
    import tuning.lock

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    from tuning.__main__ import main as tuning_main

    with monkeypatch.context() as m:
        m.setattr(tuning.lock.json, "dump", full)
        code, _, err = run_cli(tuning_main, *FAULT_SEARCH, "--dir", tmp_path / "tune")
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert "no space left on device while writing " in err and ".dense_classifier.lock" in err, err
    assert not list((tmp_path / "tune").glob(".*.lock")), "an empty lock left behind"


@pytest.fixture
def tiny_tmpfs(tmp_path):
    """A 1 MB tmpfs, where this machine lets the test mount one (root on Linux); skipped otherwise."""
    mount = tmp_path / "disk"
    mount.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({proc.stderr.strip() or proc.returncode}); the ENOSPC "
                    "wrapper tests cover the same paths")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def test_really_full_disk_during_the_final_save(run_cli, tiny_tmpfs, finished_runs):
    import shutil

    out = tiny_tmpfs / "run"
    shutil.copytree(finished_runs / "a", out)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    free = shutil.disk_usage(tiny_tmpfs).free
    (tiny_tmpfs / "filler").write_bytes(b"\0" * max(0, free - 8192))  # room for the checkpoint's first bytes only
    code, _, err = run_cli(zoo_main, "train", *B, "--out", out)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert "no space left on device while writing " in err
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    assert _consistent(out)["seed"] == 0
    (tiny_tmpfs / "filler").unlink()
    code, _, err = run_cli(zoo_main, "train", *B, "--out", out)
    assert code == 0, err
    assert _consistent(out)["seed"] == 1


# ---------------------------------------------------------------- one search per directory
def _search_argv(tmp_path):
    return ["search", "dense_classifier", "--max-trials", "1", "--folds", "2", "--epochs", "1", "--dir",
            str(tmp_path / "tune"), "--quiet"]


def test_second_search_on_a_directory_in_use_is_refused(run_cli, tmp_path):
    from tuning.__main__ import main as tuning_main

    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        (tmp_path / "tune").mkdir()
        lock = tmp_path / "tune" / ".dense_classifier.lock"
        lock.write_text(json.dumps({"pid": holder.pid, "host": __import__("socket").gethostname(),
                                    "started": "2026-01-01 00:00:00"}))
        code, _, err = run_cli(tuning_main, *_search_argv(tmp_path))
    finally:
        holder.kill()
        holder.wait()
    assert code == 2 and err.count("\n") == 1, err
    assert f"is in use by another search (pid {holder.pid} on " in err and str(lock) in err
    assert lock.is_file() and not (tmp_path / "tune" / "dense_classifier").exists()


def test_stale_lock_is_taken_over_saying_so(run_cli, tmp_path):
    from tuning.__main__ import main as tuning_main

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    (tmp_path / "tune").mkdir()
    lock = tmp_path / "tune" / ".dense_classifier.lock"
    lock.write_text(json.dumps({"pid": gone.pid, "host": __import__("socket").gethostname(), "started": "then"}))
    code, _, err = run_cli(tuning_main, *_search_argv(tmp_path))
    assert code == 0, err
    assert f"taking over the stale lock {lock} (pid {gone.pid} is gone)" in err
    assert not lock.exists(), "released at the end"


@pytest.mark.slow
def test_two_search_processes_on_one_directory(tmp_path):
    argv = [sys.executable, "-m", "tuning", *_search_argv(tmp_path)]
    argv[argv.index("--max-trials") + 1] = "20"  # long enough that the second starts while the first searches
    argv[argv.index("--epochs") + 1] = "5"
    first = subprocess.Popen(argv, env=_env(), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lock = tmp_path / "tune" / ".dense_classifier.lock"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and first.poll() is None and not lock.exists():
        time.sleep(0.05)
    second = subprocess.run(argv, env=_env(), cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert first.wait(timeout=600) == 0, first.stderr.read()[-2000:]
    assert second.returncode == 2, second.stderr[-2000:]
    assert "is in use by another search (pid" in second.stderr
