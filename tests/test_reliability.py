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


@pytest.mark.parametrize("step", ["mkdir", "mkstemp"])
@pytest.mark.parametrize("writer", ["write_text", "write_texts"])
def test_a_full_disk_while_creating_the_temporary_file_is_named_and_leaves_nothing(tmp_path, monkeypatch, step, writer):
    """No inode left or a quota reached fails before a byte is written: the folder or the temporary file."""
    import tempfile

    from zoo import files

    def full(*args, **kwargs):
        raise OSError(errno.EDQUOT if step == "mkdir" else errno.ENOSPC, "full")

    target = tmp_path / "out" / "report.json"
    if step == "mkdir":
        monkeypatch.setattr(Path, "mkdir", full)
    else:
        (tmp_path / "out").mkdir()
        monkeypatch.setattr(tempfile, "mkstemp", full)
    first = target if writer == "write_text" else tmp_path / "out" / "a.md"  # the file whose creation failed
    with pytest.raises(files.WriteFailed, match=f"while writing .*{first.name}"):
        if writer == "write_text":
            files.write_text(target, "{}")
        else:
            files.write_texts({first: "a", target: "{}"})
    monkeypatch.undo()
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


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


def test_really_full_disk_while_word2vec_writes_its_token_cache(run_cli, tiny_tmpfs):
    import shutil

    from zoo.word2vec.__main__ import main as w2v_main

    out = tiny_tmpfs / "w2v"
    free = shutil.disk_usage(tiny_tmpfs).free
    (tiny_tmpfs / "filler").write_bytes(b"\0" * max(0, free - 64 * 1024))  # Lee's token cache needs ~240 KB
    code, _, err = run_cli(w2v_main, "train", "--corpus", "lee", "--epochs", "1", "--quiet", "--out", out)
    # Was NumPy's "OSError: 60302 requested and 24576 written" with a traceback: no file, no disk.
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert f"error: no space left on device while writing {out / 'checkpoint' / 'tokens.i32'} (the disk holding" in err
    assert not (out / "checkpoint").exists(), "the partial cache is removed"


# ---------------------------------------------------------------- run directories are untrusted input
# (case, prepare(run_dir, elsewhere) -> argv, message regex). A link or a recorded path inside a run
# directory never makes a command write, delete, read or advise on anything outside it.
def _link(name):
    def prepare(run, elsewhere):
        run.mkdir(parents=True, exist_ok=True)
        (run / name).symlink_to(elsewhere, target_is_directory=True)
        return ["train", *TINY, "--epochs", "1", "--out", run]
    return prepare


def _w2v_link(run, elsewhere):
    run.mkdir(parents=True, exist_ok=True)
    (run / "checkpoint").symlink_to(elsewhere, target_is_directory=True)
    return ["word2vec", "train", "--corpus", "lee", "--epochs", "1", "--quiet", "--out", run]


UNTRUSTED_RUN_CASES = [
    # Training wrote its checkpoint into the link's target (and a finished run deleted it there).
    ("checkpoint is a symlink", _link("checkpoint"), r"error: out: .*/run/checkpoint is a symbolic link \(to '.*elsewhere'\); "
     r"the files of a run directory must be inside it: remove the link"),
    # Was a FileExistsError traceback after training, at the final save.
    (".incomplete-final-save is a symlink", _link(".incomplete-final-save"),
     r"error: out: .*/run/.incomplete-final-save is a symbolic link"),
    ("word2vec checkpoint is a symlink", _w2v_link, r"error: out: .*/run/checkpoint is a symbolic link"),
]


@pytest.mark.parametrize("case,prepare,message", UNTRUSTED_RUN_CASES, ids=[c[0] for c in UNTRUSTED_RUN_CASES])
def test_a_link_in_a_run_directory_is_refused(run_cli, tmp_path, case, prepare, message):
    import re

    from zoo.word2vec.__main__ import main as w2v_main

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("not the run's")
    argv = prepare(tmp_path / "run", elsewhere)
    main = w2v_main if argv[0] == "word2vec" else zoo_main
    code, _, err = run_cli(main, *argv[1:] if argv[0] == "word2vec" else argv)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert re.search(message, err), err
    assert sorted(p.name for p in elsewhere.iterdir()) == ["keep.txt"], "written into the link's target"
    assert (elsewhere / "keep.txt").read_text() == "not the run's"


def _resign(run):
    """Rewrite run.json for the files as they are now (what a crafted run directory would hold)."""
    from zoo import rundir

    manifest = json.loads((run / "run.json").read_text())
    manifest["files"] = {name: {"bytes": (run / name).stat().st_size, "sha256": rundir.digest(run / name)}
                         for name in manifest["files"]}
    (run / "run.json").write_text(json.dumps(manifest))


def test_a_data_path_recorded_in_a_run_is_not_hashed_or_advised_on(tmp_path, finished_runs, monkeypatch):
    import shutil

    from zoo import datasets, serving

    run = tmp_path / "run"
    shutil.copytree(finished_runs / "a", run)
    victim = tmp_path / "passwd"  # stands for /etc/passwd
    victim.write_text("root:x:0:0::/root:/bin/sh\n")
    config = json.loads((run / "config.json").read_text())
    (run / "config.json").write_text(json.dumps({**config, "data": "reuters", "data_path": str(victim)}))
    _resign(run)
    hashed = []
    real_hash = datasets.file_hash
    monkeypatch.setattr(datasets, "file_hash", lambda path, *a, **k: hashed.append(str(path)) or real_hash(path, *a, **k))
    monkeypatch.setenv(datasets.OFFLINE_ENV, "1")
    message = ""
    try:
        training.evaluate(run)
    except Exception as exc:  # noqa: BLE001 - the model does not fit Reuters: any error, as long as it is not about the victim
        message = str(exc)
    assert str(victim) not in hashed, "a file named by config.json was hashed"
    assert str(victim) not in message and "Delete it" not in message, message
    # The serving side follows the same rule (the Reuters word index for text inputs).
    pre = serving.open_run(run).preprocessor
    assert pre.data_path is None
    assert victim.read_text() == "root:x:0:0::/root:/bin/sh\n"


def test_a_manifest_cannot_name_files_outside_its_run(run_cli, tmp_path, finished_runs):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(finished_runs / "a", run)
    manifest = json.loads((run / "run.json").read_text())
    manifest["files"]["../outside.txt"] = {"bytes": 3, "sha256": "0" * 64}
    (tmp_path / "outside.txt").write_text("abc")
    (run / "run.json").write_text(json.dumps(manifest))
    code, _, err = run_cli(zoo_main, "evaluate", run)
    assert code == 2 and err.count("\n") == 1, err
    assert "run.json is damaged: it lists '../outside.txt', which is not a file of the run directory itself" in err


def test_class_names_with_terminal_codes_are_printed_escaped():
    from zoo import metrics

    rows = [{"class": 0, "name": "set\x1b[2J\x1b[31mosa\nFAKE LINE", "precision": 1.0, "recall": 1.0, "f1": 1.0,
             "support": 3, "predicted": 3}]
    table = metrics.format_per_class(rows)
    assert "\x1b" not in table and len(table.splitlines()) == 3, table
    assert "set\\x1b[2J\\x1b[31mosa\\nFAKE LINE" in table


def test_class_names_from_a_run_directory_are_predicted_escaped(run_cli, tmp_path, finished_runs):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(finished_runs / "a", run)
    config = json.loads((run / "config.json").read_text())
    names = config["preprocessing"]["class_names"]
    config["preprocessing"]["class_names"] = ["\x1b[2J\x1b]0;owned\x07" + names[0] + "\nFAKE", *names[1:]]
    (run / "config.json").write_text(json.dumps(config))
    _resign(run)
    (tmp_path / "x.csv").write_text("5.1,3.5,1.4,0.2\n")
    code, out, err = run_cli(zoo_main, "predict", run, "--data", tmp_path / "x.csv", "--top", "3")
    assert code == 0, err
    assert "\x1b" not in out and "\x07" not in out and len(out.strip().splitlines()) == 1, out
    assert "\\x1b[2J\\x1b]0;owned\\x07" in out, out


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


# ---------------------------------------------------------------- an export and its report change together
# The driver SIGKILLs its own process at the KILL_AT-th step of publishing an export (counted from the
# journal on: each os.replace, each atomic folder exchange); NO_EXCHANGE=1 takes the exchange away (a
# system without renameat2), so a SavedModel is replaced by two renames.
EXPORT_DRIVER = textwrap.dedent("""
    import os, signal, sys
    from zoo import exporting
    kill_at, seen, armed = int(os.environ["KILL_AT"]), [0], [False]
    def counted(fn):
        def step(*args, **kwargs):
            if armed[0]:
                seen[0] += 1
                if seen[0] == kill_at:
                    os.kill(os.getpid(), signal.SIGKILL)
            return fn(*args, **kwargs)
        return step
    write_journal = exporting.write_journal
    def arm(*args, **kwargs):
        armed[0] = True
        return write_journal(*args, **kwargs)
    exporting.write_journal = arm
    os.replace = counted(os.replace)
    exporting._exchange = counted((lambda a, b: False) if os.environ.get("NO_EXCHANGE") else exporting._exchange)
    from zoo import __main__ as zoo_command
    sys.exit(zoo_command.main(sys.argv[1:]))
""")
# (format, NO_EXCHANGE, steps): the journal, then the export (one replace or exchange; without the
# exchange: the exchange tried, the old folder moved aside, the new one moved in), then its report.
PUBLISH_STEPS = [("onnx", "", 3), ("saved_model", "", 3), ("saved_model", "1", 5)]


def _export_state(dest):
    """Which run the export at ``dest`` and its report come from; they must agree (the report's SHA-256)."""
    from zoo import rundir

    report = json.loads(Path(f"{dest}.json").read_text())
    model = dest / "saved_model.pb" if dest.is_dir() else dest
    assert report["sha256"] == rundir.digest(model), f"{dest} and its report come from different exports"
    return Path(report["run_dir"]).name


def _publish_point(format, no_exchange, step, total):
    fast = (format, no_exchange, step) in (("onnx", "", 2), ("saved_model", "", 2), ("saved_model", "1", 4))
    return pytest.param(format, no_exchange, step, total, id=f"{format}{'-no-exchange' if no_exchange else ''}-{step}",
                        marks=[] if fast else [pytest.mark.slow])  # between the export and its report; between two renames


@pytest.mark.parametrize("format,no_exchange,step,total",
                         [_publish_point(f, e, s, n) for f, e, n in PUBLISH_STEPS for s in range(1, n + 2)])
def test_sigkill_while_publishing_an_export(tmp_path, finished_runs, format, no_exchange, step, total):
    import zoo
    from zoo import exporting

    out = tmp_path / "exported"
    dest = Path(zoo.export(finished_runs / "a", format, out)["path"])
    assert _export_state(dest) == "a"
    proc = subprocess.run([sys.executable, "-c", EXPORT_DRIVER, "export", str(finished_runs / "b"), "--format", format,
                           "--out", str(dest), "--overwrite"], env={**_env(), "KILL_AT": str(step), "NO_EXCHANGE": no_exchange},
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == (-signal.SIGKILL if step <= total else 0), proc.stderr[-2000:]
    journal = out / f".{dest.name}.publishing.json"
    if not journal.exists():  # before the journal or after the last rename: all old or all new
        assert _export_state(dest) == ("a" if step == 1 else "b")
    elif not (no_exchange and step == 4):  # only two renames of a folder leave a moment without it
        assert dest.exists(), "no export under the final name"
    # The next export to that destination finishes the interrupted one first, saying so.
    exporting.plan(finished_runs / "b", format, dest, overwrite=True)
    assert _export_state(dest) == ("a" if step == 1 else "b")
    assert not journal.exists() and not [p for p in out.iterdir() if p.name.startswith(".") and
                                         not p.name.startswith(f".{dest.name}.") and ".tmp" not in p.name]
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [dest.name, f"{dest.name}.json"]


def test_full_disk_for_an_exports_report_writes_nothing_and_the_rerun_succeeds(run_cli, tmp_path, finished_runs,
                                                                               monkeypatch):
    """The model fits on the disk, its report does not: the command fails whole, and the same command works again."""
    out = tmp_path / "exported"
    real = Path.write_text

    def write_text(self, *args, **kwargs):
        if self.name.startswith(".a.onnx.json."):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, *args, **kwargs)

    argv = ["export", finished_runs / "a", "--format", "onnx", "--out", out]
    with monkeypatch.context() as m:
        m.setattr(Path, "write_text", write_text)
        code, _, err = run_cli(zoo_main, *argv)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert "error: no space left on device while writing " in err and "a.onnx.json (the disk holding" in err
    assert list(out.iterdir()) == [], "nothing of a failed export stays"
    code, _, err = run_cli(zoo_main, *argv)
    assert code == 0, err
    assert _export_state(out / "a.onnx") == "a"


@pytest.mark.parametrize("format", ["saved_model", "keras"])
def test_really_full_disk_during_an_export(run_cli, tiny_tmpfs, finished_runs, format):
    import shutil

    free = shutil.disk_usage(tiny_tmpfs).free
    (tiny_tmpfs / "filler").write_bytes(b"\0" * max(0, free - 8192))  # room for a few pages, not the export
    code, _, err = run_cli(zoo_main, "export", finished_runs / "a", "--format", format, "--out", tiny_tmpfs / "out")
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert "error: no space left on device while writing " in err and f"a.{format}" in err
    assert list((tiny_tmpfs / "out").iterdir()) == []


# ---------------------------------------------------------------- python -m recipes all on a full disk
# (case, what the full disk refuses: a name fragment of the file, written with os.replace or as a staged temporary)
RECIPES_FULL_DISK_CASES = [
    ("a recipe's figure", "replace", "network_before_after.png"),
    ("the report's html", "write", ".index.html."),
    ("the report's results.json", "write", ".results.json."),
]


@pytest.mark.parametrize("case,how,match", RECIPES_FULL_DISK_CASES, ids=[c[0] for c in RECIPES_FULL_DISK_CASES])
def test_full_disk_during_recipes_all_is_an_error_and_keeps_the_old_report(run_cli, tmp_path, monkeypatch, case, how,
                                                                           match):
    """A failed write is the command's error (exit 2, one line), not a failed check; the passing report stays whole."""
    from recipes.__main__ import main as recipes_main

    argv = ["all", "--only", "backprop", "--quick", "--out", tmp_path / "report"]
    code, _, err = run_cli(recipes_main, *argv)
    assert code == 0, err
    for p in (tmp_path / "report").iterdir():  # told apart from the next run's (the recipe is deterministic)
        if p.is_file():
            p.write_bytes(p.read_bytes() + b"\n(the earlier report)\n")
    report = {p.name: p.read_bytes() for p in (tmp_path / "report").iterdir() if p.is_file()}
    assert sorted(report) == ["index.html", "index.md", "results.json"]
    with monkeypatch.context() as m:
        if how == "replace":
            _enospc_on(m, match)
        else:
            real = Path.write_text

            def write_text(self, *args, **kwargs):
                if self.name.startswith(match):
                    raise OSError(errno.ENOSPC, "No space left on device")
                return real(self, *args, **kwargs)

            m.setattr(Path, "write_text", write_text)
        code, _, err = run_cli(recipes_main, *argv)
    assert code == 2, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: no space left on device while writing ") and match.strip(".") in last, err
    assert "Traceback" not in err and "recipes passed" not in err
    assert {p.name: p.read_bytes() for p in (tmp_path / "report").iterdir() if p.is_file()} == report
    assert not [p for p in (tmp_path / "report").iterdir() if p.name.startswith(".")]
