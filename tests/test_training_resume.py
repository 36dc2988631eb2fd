"""Interrupted training resumes and ends exactly where an uninterrupted run ends."""

import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from zoo import training
from zoo.checkpoint import Checkpoint

from .conftest import wait_for_checkpoint

TRAIN = ["-m", "zoo", "train", "dense_classifier", "--epochs", "25", "--batch-size", "16", "--seed", "3",
         "--set", "dropout=0.2", "--quiet"]


def _zoo(out, env=None, **kwargs):
    return subprocess.Popen([sys.executable, *TRAIN, "--out", str(out)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)


def _env():
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


def test_sigkill_mid_run_then_resume_gives_the_uninterrupted_metrics(tmp_path):
    env = _env()
    reference = _zoo(tmp_path / "ref", env)
    assert reference.wait(timeout=600) == 0, reference.stderr.read()

    out = tmp_path / "killed"
    proc = _zoo(out, env)
    state = out / "checkpoint" / "state.json"
    wait_for_checkpoint(state, 5, [proc], timeout=300)
    assert proc.poll() is None, "finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert not (out / "metrics.json").exists()
    killed_at = json.loads(state.read_text())["epoch"]
    assert 5 <= killed_at < 25

    resumed = _zoo(out, env)
    assert resumed.wait(timeout=600) == 0, resumed.stderr.read()
    ref_metrics = json.loads((tmp_path / "ref" / "metrics.json").read_text())
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["resumed_from_epoch"] >= killed_at
    assert json.loads((out / "history.json").read_text()) == json.loads((tmp_path / "ref" / "history.json").read_text())
    for key in ("test_loss", "test_accuracy", "final_train_accuracy", "final_val_accuracy"):
        assert metrics[key] == ref_metrics[key], key
    assert not (out / "checkpoint").exists(), "the checkpoint is removed once the run is complete"


def test_resume_with_other_settings_is_refused_and_keeps_the_checkpoint(tmp_path):
    training.train("dense_classifier", out=tmp_path, epochs=2, seed=0, verbose=0)
    # Fake an unfinished run by keeping a checkpoint from other settings.
    ckpt = tmp_path / "checkpoint"
    other = Checkpoint(ckpt, {"model": "dense_classifier", "seed": 99})
    other.save(__import__("zoo").create_model("dense_classifier"), 1, {"loss": [1.0]})
    other.wait()
    with pytest.raises(ValueError, match=r"out: .* holds an unfinished run with other settings"):
        training.train("dense_classifier", out=tmp_path, epochs=2, seed=0, verbose=0)
    assert (ckpt / "state.json").is_file()


def test_diverging_learning_rate_stops_with_a_clear_error_and_keeps_good_weights(tmp_path):
    training.train("dense_classifier", out=tmp_path, epochs=2, seed=0, verbose=0)
    good = {name: (tmp_path / name).read_bytes() for name in ("model.keras", "metrics.json", "history.json")}
    with pytest.raises(FloatingPointError, match=r"diverged at epoch 1 \(loss became NaN or infinite\); lower the learning rate"):
        training.train("dense_classifier", out=tmp_path, epochs=5, seed=0, verbose=0, overwrite=True,
                       activation="linear", optimizer="sgd", learning_rate=1e10)
    for name, content in good.items():
        assert (tmp_path / name).read_bytes() == content, f"{name} was overwritten by a diverged run"
    assert not (tmp_path / "checkpoint").exists(), "no checkpoint of NaN weights"


def test_checkpoint_written_in_the_background_is_the_snapshot_taken_at_save(tmp_path):
    import zoo

    model = zoo.create_model("dense_classifier", seed=0)
    model.optimizer.build(model.trainable_variables)
    checkpoint = Checkpoint(tmp_path / "checkpoint", {"model": "dense_classifier"})
    hist = {"loss": [0.5]}
    before = [v.numpy().copy() for v in Checkpoint._variables(model)]
    checkpoint.save(model, 1, hist)
    for var in model.trainable_variables:  # training goes on while the writer works
        var.assign(var.numpy() + 1.0)
    hist["loss"].append(0.25)
    checkpoint.wait()
    assert not list((tmp_path / "checkpoint").glob(".*tmp*")), "no temporary file is left behind"

    fresh = zoo.create_model("dense_classifier", seed=1)
    epoch, restored_hist = Checkpoint(tmp_path / "checkpoint", {"model": "dense_classifier"}).restore(fresh)
    assert (epoch, restored_hist) == (1, {"loss": [0.5]})
    for saved, var in zip(before, Checkpoint._variables(fresh)):
        np.testing.assert_array_equal(var.numpy(), saved)


def test_a_failed_background_write_is_raised_and_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    import zoo

    model = zoo.create_model("dense_classifier", seed=0)
    checkpoint = Checkpoint(tmp_path / "checkpoint", {"model": "dense_classifier"})
    checkpoint.save(model, 1, {"loss": [0.5]})
    checkpoint.wait()

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", disk_full)
    checkpoint.save(model, 2, {"loss": [0.5, 0.4]})
    with pytest.raises(OSError, match=r"(?i)No space left on device while writing .*epoch-0002.npz"):
        checkpoint.wait()
    state = json.loads((tmp_path / "checkpoint" / "state.json").read_text())
    assert state["epoch"] == 1
    assert sorted(p.name for p in (tmp_path / "checkpoint").iterdir()) == ["epoch-0001.npz", "state.json"]


def test_every_epoch_but_the_last_is_checkpointed(tmp_path, monkeypatch):
    # The finished model is saved right after the last epoch; a kill in between resumes from the epoch before.
    saved = []
    save = Checkpoint.save
    monkeypatch.setattr(Checkpoint, "save", lambda self, model, epoch, hist: (saved.append(epoch), save(self, model, epoch, hist)))
    training.train("dense_classifier", out=tmp_path, epochs=3, seed=0, verbose=0)
    assert saved == [1, 2]


def test_gc_freeze_around_fit_hands_the_objects_back():
    import gc

    assert gc.get_freeze_count() == 0
    with training._gc_frozen():
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0
    gc.freeze()  # the caller's own freeze is left as it is
    try:
        frozen = gc.get_freeze_count()
        with training._gc_frozen():
            pass
        # Neither unfrozen (0) nor frozen again (more: the objects made since). Fewer is allowed: a frozen
        # object can still be freed by its reference count, e.g. by a thread an earlier test left running.
        assert 0 < gc.get_freeze_count() <= frozen
    finally:
        gc.unfreeze()
