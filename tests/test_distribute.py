"""Training on tf.distribute: ``mirrored`` over two logical CPU devices, ``multi_worker`` with two local workers.

The strategy runs happen in subprocesses: the CPU can be split into logical
devices (``--cpu-devices 2``) and a multi-worker cluster formed only before
TensorFlow initialises, and the kill test needs a process to kill.
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

import numpy as np
import pytest

from zoo import distribute, training

from .conftest import needs_reuters, wait_for_checkpoint

# Short runs that still reach iris's 0.93 bar: batch 32 with
# Adam at 0.01 converges in a few dozen steps.
SETTINGS = ["--epochs", "30", "--batch-size", "32", "--seed", "0", "--set", "learning_rate=0.01", "--quiet"]
IRIS_BAR = 0.93


def _env():
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": os.getcwd()}


def _zoo(out, *args):
    return subprocess.Popen([sys.executable, "-m", "zoo", "train", "dense_classifier", *SETTINGS, "--out", str(out),
                             *args], env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(proc, timeout=600):
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err[-3000:]
    return out


def _read(run, name):
    return json.loads((run / name).read_text())


@pytest.mark.slow
def test_mirrored_matches_one_device_and_resumes_after_sigkill(tmp_path):
    mirrored = ["--strategy", "mirrored", "--cpu-devices", "2"]
    whole = _zoo(tmp_path / "whole", *mirrored)
    killed = _zoo(tmp_path / "killed", *mirrored)
    try:
        wait_for_checkpoint(tmp_path / "killed" / "checkpoint" / "state.json", 3, [killed], timeout=600)
        assert killed.poll() is None, "finished before it could be killed"
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=60)
        _finish(whole)
    finally:
        _stop([whole, killed])
    assert not (tmp_path / "killed" / "metrics.json").exists()
    _finish(_zoo(tmp_path / "killed", *mirrored))  # resumes from the checkpoint

    metrics = _read(tmp_path / "whole", "metrics.json")
    assert (metrics["strategy"], metrics["replicas"]) == ("mirrored", 2), metrics
    assert metrics["test_accuracy"] >= IRIS_BAR, metrics
    # Same seed, same strategy: the resumed run is the uninterrupted one, exactly.
    resumed = _read(tmp_path / "killed", "metrics.json")
    assert resumed["resumed_from_epoch"] >= 3
    assert _read(tmp_path / "killed", "history.json") == _read(tmp_path / "whole", "history.json")
    for key in ("test_loss", "test_accuracy", "final_train_accuracy", "final_val_accuracy"):
        assert resumed[key] == metrics[key], key

    # The global batch is the one-device batch: the same run, up to float rounding in the all-reduce.
    one = training.train("dense_classifier", out=tmp_path / "one", epochs=30, batch_size=32, seed=0, verbose=0,
                         learning_rate=0.01)
    assert one["test_accuracy"] == metrics["test_accuracy"]
    np.testing.assert_allclose(_read(tmp_path / "whole", "history.json")["loss"],
                               _read(tmp_path / "one", "history.json")["loss"], rtol=1e-4)


@pytest.mark.slow
@pytest.mark.parametrize("name,bar", [
    ("small_cnn", 0.97),                                                   # digits
    pytest.param("reuters_mlp", 0.80, marks=needs_reuters),                # Reuters, 10 epochs
])
def test_mirrored_on_two_cpu_devices_reaches_the_models_bar(tmp_path, name, bar):
    # The registry's defaults (epochs, batch, learning rate), as `python -m zoo train NAME` trains:
    # the global batch split over the two replicas must not cost accuracy.
    proc = subprocess.run([sys.executable, "-m", "zoo", "train", name, "--seed", "0", "--quiet", "--strategy", "mirrored",
                           "--cpu-devices", "2", "--out", str(tmp_path)], env=_env(), capture_output=True, text=True,
                          timeout=1200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = _read(tmp_path, "metrics.json")
    assert (metrics["strategy"], metrics["replicas"]) == ("mirrored", 2), metrics
    assert metrics["test_accuracy"] >= bar, metrics


def _free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _stop(procs):
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def two_worker_run(tmp_path_factory):
    """An uninterrupted two-worker run (iris, SETTINGS): its folder and what each worker printed."""
    root = tmp_path_factory.mktemp("two_workers")
    workers = ",".join(f"127.0.0.1:{p}" for p in _free_ports(2))
    procs = [_zoo(root / f"worker{i}", "--strategy", "multi_worker", "--workers", workers, "--task-index", str(i),
                  "--worker-timeout", "300") for i in range(2)]
    try:
        outputs = [_finish(p) for p in procs]
    finally:
        _stop(procs)  # both stopped, also when one failed
    return root, [json.loads(out[out.index("{"):]) for out in outputs]


@pytest.mark.slow
def test_two_workers_on_localhost_reach_the_bar_and_only_the_chief_writes(tmp_path, two_worker_run):
    root, printed = two_worker_run
    chief = _read(root / "worker0", "metrics.json")
    assert (chief["strategy"], chief["workers"], chief["replicas"]) == ("multi_worker", 2, 2), chief
    assert chief["test_accuracy"] >= IRIS_BAR, chief
    assert printed[1]["test_accuracy"] == chief["test_accuracy"], "both workers evaluate the same model"
    assert not (root / "worker1").exists(), "a non-chief worker writes only into a temporary directory"
    # Same steps as on one device (the global batch split between the workers), up to rounding.
    one = training.train("dense_classifier", out=tmp_path / "one", epochs=30, batch_size=32, seed=0, verbose=0,
                         learning_rate=0.01)
    assert one["test_accuracy"] == chief["test_accuracy"]
    assert abs(one["test_loss"] - chief["test_loss"]) < 1e-3, (one, chief)


@pytest.mark.slow
def test_two_workers_resume_from_the_chiefs_checkpoint_after_a_worker_is_sigkilled(tmp_path, two_worker_run):
    workers = ",".join(f"127.0.0.1:{p}" for p in _free_ports(2))

    def start():  # the same two commands each time, as a user restarts them
        return [_zoo(tmp_path / f"worker{i}", "--strategy", "multi_worker", "--workers", workers, "--task-index",
                     str(i), "--worker-timeout", "120") for i in range(2)]

    state = tmp_path / "worker0" / "checkpoint" / "state.json"
    procs = start()
    try:
        chief, other = procs
        wait_for_checkpoint(state, 3, procs, timeout=600)
        assert chief.poll() is None and other.poll() is None, "a worker ended before the kill"
        other.send_signal(signal.SIGKILL)
        other.wait(timeout=60)
        # The chief's collectives wait for a peer that is gone: TensorFlow notices the missing
        # heartbeats, aborts them, and the chief exits with an error instead of hanging.
        _, err = chief.communicate(timeout=240)
    finally:
        _stop(procs)
    assert chief.returncode == 2, "the chief finished without its peer" if chief.returncode == 0 else err[-3000:]
    # One line that says what happened and what to do, not TensorFlow's page of traceback.
    last = err.strip().splitlines()[-1]
    assert re.match(r"error: a worker stopped during multi_worker training \(UnavailableError: .*\); the chief's "
                    r"checkpoint \(.*worker0.checkpoint\) keeps the last finished epoch: start the same command on "
                    r"every worker again to resume from it$", last), err[-3000:]
    assert "Traceback" not in err, err[-3000:]
    assert not (tmp_path / "worker0" / "metrics.json").exists()
    saved = json.loads(state.read_text())  # the chief's last checkpoint, left by the failed run
    assert 3 <= saved["epoch"] < 30, saved

    procs = start()
    try:
        ends = [p.communicate(timeout=600) for p in procs]
    finally:
        _stop(procs)
    for i, (proc, (_, err)) in enumerate(zip(procs, ends)):
        assert proc.returncode == 0, f"worker {i}: {err[-3000:]}"
    printed = [json.loads(out[out.index("{"):]) for out, _ in ends]
    metrics = _read(tmp_path / "worker0", "metrics.json")
    # Both workers continued after the chief's last saved epoch (the other one has no checkpoint of its
    # own: it got the epoch, weights and optimizer state from the chief), not from the start.
    assert metrics["resumed_from_epoch"] == printed[1]["resumed_from_epoch"] == saved["epoch"], (metrics, printed)
    history = _read(tmp_path / "worker0", "history.json")
    assert all(len(v) == 30 for v in history.values()), {k: len(v) for k, v in history.items()}
    assert {k: v[:saved["epoch"]] for k, v in history.items()} == saved["history"]
    assert metrics["test_accuracy"] >= IRIS_BAR, metrics
    assert printed[1]["test_accuracy"] == metrics["test_accuracy"]
    assert not (tmp_path / "worker1").exists(), "only the chief writes"
    assert not (tmp_path / "worker0" / "checkpoint").exists(), "a finished run removes its checkpoint"
    # Same seed: the resumed run is the uninterrupted two-worker run, exactly (the weights, the
    # optimizer state and the input order crossed the kill on both workers).
    whole = two_worker_run[0] / "worker0"
    assert history == _read(whole, "history.json")
    uninterrupted = _read(whole, "metrics.json")
    for key in ("test_loss", "test_accuracy", "final_train_accuracy", "final_val_accuracy"):
        assert metrics[key] == uninterrupted[key], key


@pytest.mark.slow
def test_a_worker_whose_chief_is_sigkilled_stops_naming_the_chiefs_checkpoint(tmp_path):
    workers = ",".join(f"127.0.0.1:{p}" for p in _free_ports(2))
    procs = [_zoo(tmp_path / f"worker{i}", "--strategy", "multi_worker", "--workers", workers, "--task-index", str(i),
                  "--worker-timeout", "120") for i in range(2)]
    try:
        chief, other = procs
        wait_for_checkpoint(tmp_path / "worker0" / "checkpoint" / "state.json", 3, procs, timeout=600)
        chief.send_signal(signal.SIGKILL)  # the command: its training child must go with it
        chief.wait(timeout=60)
        _, err = other.communicate(timeout=240)
    finally:
        _stop(procs)
    assert other.returncode == 2, err[-3000:]
    last = err.strip().splitlines()[-1]
    # Its own checkpoint was in a temporary folder, removed at exit: it names the chief's instead.
    assert last.startswith("error: a worker stopped during multi_worker training ("), err[-3000:]
    assert last.endswith("the chief's checkpoint (the checkpoint folder in the chief's --out) keeps the last "
                         "finished epoch: start the same command on every worker again to resume from it"), last
    assert "Traceback" not in err, err[-3000:]


def test_a_lost_worker_is_told_where_the_chiefs_checkpoint_is():
    """The chief names its checkpoint folder; another worker, whose own folder is temporary and removed at
    exit, names the chief's --out instead of a path that will not exist."""
    error = RuntimeError("Socket closed\nmore lines of TensorFlow's report")
    chief = str(distribute.worker_lost(error, "/runs/iris/checkpoint"))
    other = str(distribute.worker_lost(error, None))
    assert "(RuntimeError: Socket closed)" in chief and "more lines" not in chief
    assert "the chief's checkpoint (/runs/iris/checkpoint) keeps the last finished epoch" in chief
    assert "the chief's checkpoint (the checkpoint folder in the chief's --out) keeps" in other
    assert "/tmp" not in other


def test_wait_for_workers_names_the_silent_worker_and_its_timeout():
    port, silent = _free_ports(2)
    config = {"cluster": {"worker": [f"127.0.0.1:{port}", f"127.0.0.1:{silent}"]}, "task": {"type": "worker", "index": 0}}
    start = time.monotonic()
    with pytest.raises(distribute.WorkerUnreachable, match=rf"worker 127.0.0.1:{silent} did not answer within 0.5 s"):
        distribute.wait_for_workers(config, timeout=0.5)
    assert time.monotonic() - start < 30, "the timeout is kept, not a hang"
    # The worker's own port was released for TensorFlow's server.
    socket.create_server(("", port)).close()


class _Peer:
    """Something that listens on a loopback port of a --workers list but is not a TensorFlow worker.

    ``http``: a web server (HTTP/1, as `python3 -m http.server`); ``grpc``: it answers HTTP/2's
    first frame, as any gRPC service does, then never replies (TensorFlow waits for it in C++).
    ``connections`` counts who connected (the probe, then TensorFlow's own client).
    """

    def __init__(self, kind):
        import http.server
        import threading

        self.connections = 0
        if kind == "http":
            self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
            self.server.daemon_threads = True
            serve = self.server.serve_forever
        else:
            self.server = socket.create_server(("127.0.0.1", 0))
            serve = self._grpc_like
        self.port = self.server.server_address[1] if kind == "http" else self.server.getsockname()[1]
        threading.Thread(target=serve, daemon=True).start()

    def _grpc_like(self):
        import threading

        def hold(conn):
            conn.sendall(bytes([0, 0, 0, 4, 0, 0, 0, 0, 0]))  # an empty SETTINGS frame
            while conn.recv(65536):
                pass

        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=hold, args=(conn,), daemon=True).start()

    def close(self):
        if isinstance(self.server, socket.socket):
            self.server.close()
        else:
            self.server.shutdown()
            self.server.server_close()


def _multi_worker(workers, index, *, timeout, tf_config=False):
    args = ["--strategy", "multi_worker", "--worker-timeout", str(timeout)]
    env = _env()
    if tf_config:
        env["TF_CONFIG"] = json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}})
    else:
        args += ["--workers", ",".join(workers), "--task-index", str(index)]
    return subprocess.Popen([sys.executable, "-m", "zoo", "train", "dense_classifier", "--epochs", "1", "--quiet",
                             "--out", os.devnull + "-never", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("kind,tf_config,message", [
    # The socket check alone passed these: something listens, so TensorFlow waited for it forever.
    ("http", False, r"did not join within 5 s \(--worker-timeout\): it answers but is not a TensorFlow worker "
                    r"\(it does not speak gRPC: it replied '"),
    ("http", True, r"did not join within 5 s \(--worker-timeout\): it answers but is not a TensorFlow worker"),
    # Past the probe, TensorFlow's own start hangs in C++: the supervising process ends it.
    ("grpc", False, r"did not join the cluster within 5 s \(--worker-timeout\): it answers HTTP/2 but did not "
                    r"register with this cluster"),
])
def test_a_worker_that_answers_but_is_not_tensorflow_is_named_within_the_timeout(tmp_path, kind, tf_config, message):
    peer = _Peer(kind)
    me, = _free_ports(1)
    workers = [f"127.0.0.1:{me}", f"127.0.0.1:{peer.port}"]
    proc = _multi_worker(workers, 0, timeout=5, tf_config=tf_config)
    try:
        _, err = proc.communicate(timeout=300)  # a guard against the hang, not a timing
    finally:
        _stop([proc])
        peer.close()
    assert proc.returncode == 2, err[-3000:]
    assert err.count("\n") == 1 and "Traceback" not in err, err[-3000:]
    assert re.search(rf"^error: --workers: worker 127.0.0.1:{peer.port} " + message, err), err


def test_ctrl_c_ends_a_worker_while_tensorflow_forms_the_cluster():
    peer = _Peer("grpc")  # the chief (worker 0, TensorFlow's coordination leader) that never replies
    me, = _free_ports(1)
    proc = _multi_worker([f"127.0.0.1:{peer.port}", f"127.0.0.1:{me}"], 1, timeout=600)
    try:
        deadline = time.monotonic() + 300
        while peer.connections < 2 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)  # the probe, then TensorFlow's client registering with the chief
        assert peer.connections >= 2 and proc.poll() is None, proc.communicate()[1][-3000:]
        time.sleep(1)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)  # a guard against the hang (Ctrl-C was ignored), not a timing
    finally:
        _stop([proc])
        peer.close()
    assert proc.returncode == 130, err[-3000:]
    assert err.strip().splitlines()[-1] == "interrupted", err[-3000:]
    assert "Traceback" not in err, err[-3000:]


def test_probe_tells_a_waiting_worker_from_other_servers():
    http_peer, grpc_peer = _Peer("http"), _Peer("grpc")
    port, closed = _free_ports(2)
    config = {"cluster": {"worker": [f"127.0.0.1:{port}", f"127.0.0.1:{closed}"]}, "task": {"type": "worker", "index": 0}}
    try:
        assert distribute.probe(f"127.0.0.1:{grpc_peer.port}") is None
        assert "not a TensorFlow worker" in distribute.probe(f"127.0.0.1:{http_peer.port}")
        assert distribute.probe(f"127.0.0.1:{closed}") == distribute.NO_ANSWER
        # A worker still waiting for its peers answers the probe as TensorFlow's server will.
        import threading

        waiting = threading.Thread(target=lambda: pytest.raises(distribute.WorkerUnreachable,
                                                                distribute.wait_for_workers, config, timeout=3))
        waiting.start()
        answers = []
        while waiting.is_alive() and not answers:
            if distribute.probe(f"127.0.0.1:{port}", timeout=0.5) is None:
                answers.append(port)
            time.sleep(0.1)
        waiting.join()
        assert answers, "the waiting worker never answered as a worker"
    finally:
        http_peer.close()
        grpc_peer.close()


CV_SCRIPT = """
import json, sys
from zoo import distribute
distribute.split_cpu(2)
from tuning import cross_validate
from zoo import datasets
(x, y), _ = datasets.load_data("iris", seed=0)
runs = {s: cross_validate("dense_classifier", x, y, cv=2, epochs=3, batch_size=16, seed=1, strategy=s).mean
        for s in (None, "mirrored")}
print(json.dumps(runs))
"""


def test_cross_validate_under_mirrored_matches_one_device():
    proc = subprocess.run([sys.executable, "-c", CV_SCRIPT], env=_env(), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    runs = json.loads(proc.stdout.strip().splitlines()[-1])
    one, mirrored = runs["null"], runs["mirrored"]
    for key in ("loss", "val_loss"):
        assert abs(one[key] - mirrored[key]) < 1e-4, (key, one, mirrored)
    assert one["val_accuracy"] == mirrored["val_accuracy"]
