"""Training on ``tf.distribute``: the strategy names, their checks, and building a strategy.

``python -m zoo train NAME --strategy mirrored`` trains on every local device
(``tf.distribute.MirroredStrategy``); ``--strategy multi_worker`` trains on
several machines (``tf.distribute.MultiWorkerMirroredStrategy``), one process
per machine, the cluster given by ``--workers host:port,...`` plus
``--task-index`` or by the ``TF_CONFIG`` environment variable.

What a strategy changes, and what it does not (:func:`zoo.training.train`):

* The batch size is the **global** batch: each of the ``n`` replicas gets
  ``batch_size / n`` rows of it, the replicas' gradients are averaged, and the
  learning rate is the one :func:`zoo.registry.resolve` gives for that global
  batch. So a strategy run takes the same steps as the single-device run with
  the same settings (the same up to float rounding in the all-reduce).
* Only the chief (worker 0, or the ``chief`` task of ``TF_CONFIG``) writes the
  run directory and its checkpoint; every other worker writes into a temporary
  directory that is removed when it ends, as TensorFlow's guide for
  ``MultiWorkerMirroredStrategy`` recommends. A resumed run takes the chief's
  checkpoint and broadcasts it to every worker (:func:`sync_from_chief`), so
  the workers need no shared file system.

The checks of names, worker lists and ``TF_CONFIG`` need no TensorFlow, so the
command line answers a mistake at once; :func:`make_strategy` starts it.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import sys
import threading
import time
import traceback

from . import checks

#: ``default``: one device, no ``tf.distribute`` strategy (the plain Keras path).
STRATEGIES = ("default", "mirrored", "multi_worker")
#: How long a multi-worker process waits for every other worker to answer (``--worker-timeout``).
DEFAULT_WORKER_TIMEOUT = 60.0
TF_CONFIG = "TF_CONFIG"
#: The most logical CPU devices ``--cpu-devices`` splits the CPU into. Each one is a replica with its
#: own copy of the model and its own share of every batch, started one after the other: 256 took
#: 257 s for one iris epoch, 100000 never started. Beyond the number of cores they add no speed; the
#: split exists to test ``mirrored`` on a machine without accelerators, where a few suffice.
MAX_CPU_DEVICES = 64
# HTTP/2, which TensorFlow's gRPC workers speak: the client's connection preface, and the header of
# an empty SETTINGS frame (length 0, type 4, no flags, stream 0), the server's first frame.
_H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
_H2_SETTINGS = bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])


def check_strategy(name) -> str:
    """``name`` if it is one of :data:`STRATEGIES`.

    Raises:
        ValueError: naming the allowed strategies.
    """
    if name is None:
        return "default"
    return checks.choice("strategy", name, STRATEGIES)


def parse_address(text: str, *, argument: str) -> tuple[str, int]:
    """``"host:port"`` -> ``(host, port)``; IPv6 hosts in brackets (``[::1]:2222``).

    Raises:
        ValueError: naming ``argument`` and the address.
    """
    if not isinstance(text, str):
        raise TypeError(f"{argument}: a worker address must be a string 'host:port', got {text!r}")
    host, sep, port = text.strip().rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535 or any(c.isspace() for c in host):
        raise ValueError(f"{argument}: {text!r} is not a worker address; give host:port with a port in 1..65535, "
                         "e.g. 10.0.0.1:2222")
    return host, int(port)


def parse_workers(text: str) -> list[str]:
    """``"h1:2222,h2:2222"`` -> ``["h1:2222", "h2:2222"]``, every address checked, none repeated.

    Raises:
        ValueError: an empty list, a malformed or repeated address (named).

    Example:
        >>> parse_workers("10.0.0.1:2222, 10.0.0.2:2222")
        ['10.0.0.1:2222', '10.0.0.2:2222']
    """
    items = [item.strip() for item in str(text).split(",")]
    if not any(items):
        raise ValueError("--workers: expected a comma-separated list host:port,host:port,..., got an empty list")
    for item in items:
        parse_address(item, argument="--workers")
    repeated = sorted({item for item in items if items.count(item) > 1})
    if repeated:
        raise ValueError(f"--workers: {', '.join(repeated)} appears more than once; each worker needs its own "
                         "host:port")
    return items


def check_task_index(index, workers: list[str]) -> int:
    """``index`` if it is a position in ``workers``.

    Raises:
        ValueError: out of range (names the range).
    """
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(workers):
        raise ValueError(f"--task-index must be an integer in 0..{len(workers) - 1} (this worker's position in "
                         f"--workers, {len(workers)} workers), got {index!r}")
    return index


def parse_tf_config(text: str | None) -> dict:
    """The ``TF_CONFIG`` value checked: ``{"cluster": {job: [host:port, ...]}, "task": {"type", "index"}}``.

    Raises:
        ValueError: unset, not JSON, or a part missing or wrong (named).

    Example:
        >>> cfg = parse_tf_config('{"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 1}}')
        >>> cfg["task"]
        {'type': 'worker', 'index': 1}
    """
    if text is None or not text.strip():
        raise ValueError(f"{TF_CONFIG} is not set; --strategy multi_worker needs the cluster from --workers "
                         f"host:port,... with --task-index, or from {TF_CONFIG}")
    try:
        config = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{TF_CONFIG} is not valid JSON ({exc.msg} at character {exc.pos}); expected "
                         '{"cluster": {"worker": ["host:port", ...]}, "task": {"type": "worker", "index": 0}}') from None
    if not isinstance(config, dict):
        raise ValueError(f"{TF_CONFIG} must be a JSON object with 'cluster' and 'task', got {type(config).__name__}")
    for key in ("cluster", "task"):
        if key not in config:
            raise ValueError(f"{TF_CONFIG} has no '{key}'; expected "
                             '{"cluster": {"worker": ["host:port", ...]}, "task": {"type": "worker", "index": 0}}')
    cluster, task = config["cluster"], config["task"]
    if not isinstance(cluster, dict) or not cluster:
        raise ValueError(f"{TF_CONFIG}: 'cluster' must map job names to lists of host:port, got {cluster!r}")
    if not ({"worker", "chief"} & set(cluster)):
        raise ValueError(f"{TF_CONFIG}: 'cluster' has no 'worker' or 'chief' job (it has {', '.join(map(repr, cluster))})")
    seen = set()
    for job, addresses in cluster.items():
        if not isinstance(addresses, list) or not addresses:
            raise ValueError(f"{TF_CONFIG}: cluster['{job}'] must be a non-empty list of host:port, got {addresses!r}")
        for address in addresses:
            parse_address(address, argument=f"{TF_CONFIG} cluster['{job}']")
            if address in seen:
                raise ValueError(f"{TF_CONFIG}: {address} appears more than once in 'cluster'")
            seen.add(address)
    if not isinstance(task, dict) or "type" not in task or "index" not in task:
        raise ValueError(f"{TF_CONFIG}: 'task' must be {{\"type\": JOB, \"index\": N}}, got {task!r}")
    if task["type"] not in cluster:
        raise ValueError(f"{TF_CONFIG}: task type {task['type']!r} is not a job of 'cluster' "
                         f"({', '.join(map(repr, cluster))})")
    n = len(cluster[task["type"]])
    if isinstance(task["index"], bool) or not isinstance(task["index"], int) or not 0 <= task["index"] < n:
        raise ValueError(f"{TF_CONFIG}: task index must be an integer in 0..{n - 1} for job {task['type']!r}, "
                         f"got {task['index']!r}")
    return config


def cluster_config(*, workers: str | None = None, task_index: int | None = None, environ=None) -> dict:
    """The multi-worker cluster as a checked ``TF_CONFIG`` dict: from ``workers``/``task_index``, else ``TF_CONFIG``.

    Raises:
        ValueError: see :func:`parse_workers`, :func:`check_task_index`, :func:`parse_tf_config`.
    """
    if workers is None:
        if task_index is not None:
            raise ValueError("--task-index needs --workers (the list it indexes)")
        return parse_tf_config((os.environ if environ is None else environ).get(TF_CONFIG))
    addresses = parse_workers(workers)
    if task_index is None:
        raise ValueError(f"--workers needs --task-index: this worker's position in the list, 0..{len(addresses) - 1}")
    return {"cluster": {"worker": addresses}, "task": {"type": "worker", "index": check_task_index(task_index, addresses)}}


def check_worker_timeout(seconds) -> float:
    return checks.positive("worker_timeout", seconds)


def check_cpu_devices(count) -> int | None:
    """``count`` logical CPU devices (None: TensorFlow's one), at most :data:`MAX_CPU_DEVICES`.

    Raises:
        ValueError: not an integer in 1..MAX_CPU_DEVICES (the message says why there is a bound).
    """
    if count is None:
        return None
    count = checks.positive_int("cpu_devices", count)
    if count > MAX_CPU_DEVICES:
        raise ValueError(f"cpu_devices must be an integer in 1..{MAX_CPU_DEVICES}, got {count}: each logical device "
                         f"is a replica started one after the other (256 take minutes before the first step), and "
                         f"beyond this machine's {os.cpu_count() or 1} cores they add no speed")
    return count


def is_chief_config(config: dict) -> bool:
    """Whether this task writes (the ``chief`` task, or worker 0 of a cluster without one)."""
    task, cluster = config["task"], config["cluster"]
    if "chief" in cluster:
        return task["type"] == "chief"
    return task["type"] == "worker" and task["index"] == 0


def split_cpu(count: int | None) -> None:
    """Split the CPU into ``count`` logical devices, so that ``mirrored`` has replicas without accelerators.

    TensorFlow allows this only before it initialises its devices: call it first
    thing in a fresh process (``python -m zoo train --cpu-devices 2`` does).

    Raises:
        ValueError: see :func:`check_cpu_devices`.
        RuntimeError: TensorFlow has already initialised its devices with another split.
    """
    count = check_cpu_devices(count)
    if count is None:
        return
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    current = tf.config.get_logical_device_configuration(cpu)
    if current is not None and len(current) == count:
        return
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * count)
    except RuntimeError:
        raise RuntimeError(f"cpu_devices={count}: TensorFlow has already initialised its devices in this process; "
                           "split the CPU first thing in a fresh process (python -m zoo train --cpu-devices N)") from None


def make_strategy(name, *, config: dict | None = None, worker_timeout: float = DEFAULT_WORKER_TIMEOUT):
    """A ``tf.distribute.Strategy`` for ``name`` (None for ``"default"``); an instance is passed through.

    ``multi_worker`` first waits, without TensorFlow, until every worker of
    ``config`` (default: ``TF_CONFIG``) answers (:func:`wait_for_workers`), and
    only then starts this worker's TensorFlow server: TensorFlow itself waits
    for a missing worker forever, in a C++ call that holds the interpreter: run
    under :func:`supervise` (as ``python -m zoo train`` does), that start has
    ``worker_timeout`` seconds more and Ctrl-C ends it. It must be built before
    TensorFlow runs anything else in the process.

    Raises:
        ValueError: unknown name, a malformed cluster.
        WorkerUnreachable: a worker did not answer within ``worker_timeout`` seconds.
    """
    if name is not None and not isinstance(name, str):
        import tensorflow as tf

        if not isinstance(name, tf.distribute.Strategy):
            raise TypeError(f"strategy must be one of {', '.join(map(repr, STRATEGIES))} or a tf.distribute.Strategy, "
                            f"got {name!r}")
        return name
    name = check_strategy(name)
    if name == "default":
        return None
    import tensorflow as tf

    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    config = config if config is not None else cluster_config()
    worker_timeout = check_worker_timeout(worker_timeout)
    task = config["task"]
    resolver = tf.distribute.cluster_resolver.SimpleClusterResolver(
        tf.train.ClusterSpec(config["cluster"]), task_type=task["type"], task_id=task["index"], rpc_layer="grpc")
    if _formation_fd is None:  # under supervise(), its process waited before it forked this one
        wait_for_workers(config, timeout=worker_timeout)
    _say(b"S")  # under supervise(): TensorFlow's start is bounded from here
    strategy = tf.distribute.MultiWorkerMirroredStrategy(cluster_resolver=resolver)
    _say(b"F")
    return strategy


class WorkerUnreachable(ValueError):
    """A worker of the cluster did not answer in time (a user error: exit status 2 on the command line)."""


class WorkerLost(ValueError):
    """A worker stopped during multi-worker training (one line and exit status 2 on the command line)."""


def worker_lost(error, checkpoint_dir) -> WorkerLost:
    """The error to raise for TensorFlow's ``UnavailableError`` of a lost peer: what happened, where
    the last finished epoch is, and what to do (TensorFlow's own message is a page of traceback).

    ``checkpoint_dir``: the chief's checkpoint folder, or None on another worker (which knows only
    that it is the ``checkpoint`` folder in the chief's ``--out``).
    """
    text = str(getattr(error, "message", "") or error).strip()
    first = text.splitlines()[0][:300] if text else ""
    where = checkpoint_dir if checkpoint_dir is not None else "the checkpoint folder in the chief's --out"
    return WorkerLost(f"a worker stopped during multi_worker training ({type(error).__name__}: {first}); the "
                      f"chief's checkpoint ({where}) keeps the last finished epoch: start the same command "
                      "on every worker again to resume from it")


def wait_for_workers(config: dict, *, timeout: float = DEFAULT_WORKER_TIMEOUT, poll: float = 0.2) -> None:
    """Return once every other worker of ``config`` answers as a TensorFlow worker; raise after ``timeout`` seconds.

    A peer answers when it speaks HTTP/2 (:func:`probe`), as TensorFlow's gRPC
    server does: a port where something else listens (a web server, another
    service) is named with what it answered, not taken for a worker.
    Meanwhile this worker listens on its own port and answers each probe with
    HTTP/2's first frame, so that workers started in any order all see each
    other; the port is handed to TensorFlow's server as soon as every peer
    answered, and a peer still polling then finds that server instead. No TensorFlow.

    Raises:
        WorkerUnreachable: names the address(es) that did not answer, why, and the timeout.
        ValueError: this worker's own port cannot be listened on (in use).
    """
    me, peers = _me_and_peers(config)
    _, port = parse_address(me, argument="address")
    try:
        listener = socket.create_server(("", port), reuse_port=False)
    except OSError as exc:
        raise ValueError(f"--workers: this worker's address {me} cannot be listened on ({exc.strerror or exc}); "
                         "is another process using the port?") from None
    stop = threading.Event()

    def answer():
        listener.settimeout(poll)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            try:  # read the peer's preface first: closing on unread data would reset the connection
                conn.settimeout(poll)
                conn.recv(len(_H2_PREFACE))
                conn.sendall(_H2_SETTINGS)
                conn.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            finally:
                conn.close()

    thread = threading.Thread(target=answer, daemon=True, name="zoo-worker-listener")
    thread.start()
    deadline = time.monotonic() + timeout
    pending = {address: NO_ANSWER for address in peers}
    try:
        while pending:
            pending = {a: why for a in pending if (why := probe(a, timeout=min(1.0, timeout))) is not None}
            if not pending or time.monotonic() >= deadline:
                break
            time.sleep(min(poll, max(0.0, deadline - time.monotonic())))
    finally:
        stop.set()
        thread.join()
        listener.close()
    if pending:
        silent = all(why == NO_ANSWER for why in pending.values())
        raise WorkerUnreachable(_not_joined(pending, timeout, "did not answer" if silent else "did not join"))


#: :func:`probe`'s answer where nothing accepts a connection (the worker has not started yet).
NO_ANSWER = "nothing accepts a connection there"


def probe(address: str, timeout: float = 1.0) -> str | None:
    """None where a TensorFlow worker (or a zoo worker waiting for its peers) answers at ``address``; else why not.

    TCP alone is not enough: a web server on the port accepts the connection,
    and TensorFlow would then wait for it forever. So the probe sends HTTP/2's
    connection preface and expects a SETTINGS frame back, as gRPC answers.
    """
    host, port = parse_address(address, argument="address")
    deadline = time.monotonic() + timeout
    try:
        conn = socket.create_connection((host, port), timeout=timeout)
    except OSError:
        return NO_ANSWER
    reply = b""
    try:
        with conn:
            conn.sendall(_H2_PREFACE)
            while len(reply) < len(_H2_SETTINGS):
                conn.settimeout(max(0.01, deadline - time.monotonic()))
                chunk = conn.recv(len(_H2_SETTINGS) - len(reply))
                if not chunk:
                    break
                reply += chunk
    except (TimeoutError, socket.timeout):
        pass
    except OSError as exc:
        return f"it answers but is not a TensorFlow worker (the connection failed: {exc.strerror or exc})"
    if len(reply) == len(_H2_SETTINGS) and reply[3] == _H2_SETTINGS[3]:
        return None
    heard = f"it replied {reply[:40].decode('latin-1')!r}" if reply else f"it sent nothing within {timeout:g} s"
    return f"it answers but is not a TensorFlow worker (it does not speak gRPC: {heard})"



def _me_and_peers(config: dict) -> tuple[str, list[str]]:
    task = config["task"]
    me = config["cluster"][task["type"]][task["index"]]
    return me, [a for job in config["cluster"].values() for a in job if a != me]


def _not_joined(reasons: dict, timeout: float, verb: str) -> str:
    """One line: the workers that did not join in ``timeout`` seconds, why, and what to do."""
    why = "; ".join(f"{address}: {why}" for address, why in reasons.items()) if len(reasons) > 1 else \
        next(iter(reasons.values()))
    return (f"--workers: worker {', '.join(reasons)} {verb} within {timeout:g} s (--worker-timeout): {why}; start "
            "every worker with the same --workers list and its own --task-index, or check the address and firewall")


def supervise(body, config: dict, *, timeout: float = DEFAULT_WORKER_TIMEOUT) -> int:
    """Run ``body()`` (a command that builds a multi-worker strategy; returns its exit status) in a child process.

    TensorFlow forms the cluster in a C++ call that holds the interpreter (and
    its lock) until every worker has registered, without a timeout: a peer that
    answers HTTP/2 but never joins (another gRPC service, a worker of another
    cluster) keeps it forever, no Python thread of that process runs again, and
    Ctrl-C only sets a flag that Python never reads. So the command runs in a
    child forked before TensorFlow starts, and this process, which never starts
    TensorFlow, watches it: the child says when it starts forming the cluster
    and when it is formed (:func:`make_strategy`). Not formed ``timeout``
    seconds after the start: the child is killed and one line names the
    workers that did not join (exit status 2). Ctrl-C (exit status 130): while
    the cluster forms, the child is killed at once; later it gets SIGINT (it
    stops as usual), and is killed if it has not stopped
    :data:`INTERRUPT_GRACE` seconds later.

    Every peer must first answer (:func:`wait_for_workers`, in this process).

    Returns:
        The exit status for the command.

    Raises:
        WorkerUnreachable: see :func:`wait_for_workers`.
    """
    global _formation_fd
    # Here, before the fork: no TensorFlow yet, and a peer that never answers is this process's one-line error.
    wait_for_workers(config, timeout=timeout)
    read_fd, write_fd = os.pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # the child: the command itself
        os.close(read_fd)
        _die_with_parent(parent)
        _formation_fd = write_fd
        # A Ctrl-C at the terminal reaches this process and the watcher, which passes it on: one interrupt.
        signal.signal(signal.SIGINT, _interrupt_once)
        code = 1
        try:
            code = body()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except KeyboardInterrupt:
            code = 130
        except BaseException:  # os._exit below skips the interpreter's own report
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    os.close(write_fd)
    interrupted = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: interrupted.set())
    try:
        return _watch(pid, read_fd, config, timeout, interrupted)
    finally:
        signal.signal(signal.SIGINT, previous)
        os.close(read_fd)


#: Seconds the child of :func:`supervise` has to stop by itself after Ctrl-C before it is killed.
INTERRUPT_GRACE = 10.0
_formation_fd = None  # in the child of supervise: where it says "forming" (b"S") and "formed" (b"F")


def _watch(pid: int, read_fd: int, config: dict, timeout: float, interrupted) -> int:
    deadline = killed = None
    open_pipe, forced = True, False
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            code = os.waitstatus_to_exitcode(status)
            if interrupted.is_set():
                if forced:  # else the child said it
                    print("interrupted", file=sys.stderr, flush=True)
                return 130
            return code if code >= 0 else 128 - code
        if interrupted.is_set() and killed is None:
            # Forming the cluster, the child cannot read a signal: killed at once. Otherwise asked (a
            # `kill -INT` of this process alone does not reach it), and killed after the grace.
            killed = time.monotonic() + (0 if deadline is not None else INTERRUPT_GRACE)
            if deadline is None:
                os.kill(pid, signal.SIGINT)
            deadline = None
        if killed is not None and time.monotonic() >= killed and not forced:
            os.kill(pid, signal.SIGKILL)
            forced = True
        if deadline is not None and time.monotonic() >= deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            _, peers = _me_and_peers(config)
            # The peers that answer no more (or never spoke gRPC) are named; else every peer is a suspect.
            reasons = {a: why for a in peers if (why := probe(a, timeout=0.5)) is not None}
            reasons = reasons or {a: "it answers HTTP/2 but did not register with this cluster" for a in peers}
            print(f"error: {_not_joined(reasons, timeout, 'did not join the cluster')}", file=sys.stderr, flush=True)
            return 2
        try:
            ready, _, _ = select.select([read_fd] if open_pipe else [], [], [], 0.1)
        except InterruptedError:
            continue
        if ready:
            said = os.read(read_fd, 16)
            if not said:
                open_pipe = False
            if b"S" in said and b"F" not in said:
                deadline = time.monotonic() + timeout
            if b"F" in said:
                deadline = None


def _die_with_parent(parent: int) -> None:
    """In the child of :func:`supervise`: end when the watcher ends, however it ends.

    A SIGKILL of the command (a user's ``kill -9``, a job scheduler, a lost
    machine simulated) reaches only the watcher; a child left running would go
    on training as a worker of the cluster, and its peers would never learn that
    the command is gone. Linux ends it with the watcher (``PR_SET_PDEATHSIG``);
    elsewhere a thread checks the parent every half second.
    """
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(1, signal.SIGKILL, 0, 0, 0) == 0:  # 1 = PR_SET_PDEATHSIG
            if os.getppid() != parent:  # the watcher ended before the request took effect
                os._exit(137)
            return
    except (OSError, AttributeError):
        pass

    def watch():
        while os.getppid() == parent:
            time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, daemon=True, name="zoo-parent-watch").start()


def _interrupt_once(signum, frame):
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise KeyboardInterrupt


def _say(what: bytes) -> None:
    if _formation_fd is not None:
        os.write(_formation_fd, what)


def is_chief(strategy) -> bool:
    """Whether this process writes the run's files (True without a strategy and for a one-machine strategy)."""
    if strategy is None:
        return True
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.cluster_spec().as_dict():
        return True
    config = {"cluster": resolver.cluster_spec().as_dict(), "task": {"type": resolver.task_type,
                                                                     "index": resolver.task_id}}
    return is_chief_config(config)


def num_workers(strategy) -> int:
    """How many processes train together (1 without a strategy or on one machine)."""
    resolver = getattr(strategy, "cluster_resolver", None) if strategy is not None else None
    if resolver is None:
        return 1
    jobs = resolver.cluster_spec().as_dict()
    return max(1, sum(len(jobs.get(job, [])) for job in ("chief", "worker")))


def sync_from_chief(strategy, variables) -> None:
    """Give every replica the chief's values of ``variables`` (a resumed multi-worker run).

    Only the chief reads its checkpoint; here each variable is all-reduced with
    every replica but global replica 0 (on the chief) contributing zeros, which
    is the chief's value exactly, on every worker. Cast to float64 for the
    reduction (exact for float32 weights and for step counts below 2**53).
    """
    import tensorflow as tf

    variables = list(variables)
    if not variables:
        return

    def replica_fn():
        ctx = tf.distribute.get_replica_context()
        mask = tf.cast(tf.equal(ctx.replica_id_in_sync_group, 0), tf.float64)
        values = [tf.cast(tf.convert_to_tensor(v), tf.float64) * mask for v in variables]
        return ctx.all_reduce(tf.distribute.ReduceOp.SUM, values)

    reduced = strategy.run(tf.function(replica_fn))
    for var, value in zip(variables, reduced):
        local = strategy.experimental_local_results(value)[0]
        var.assign(tf.cast(local, var.dtype))


def describe(strategy) -> str:
    """``"MirroredStrategy, 2 replicas (CPU:0, CPU:1)"``, for the progress line."""
    if strategy is None:
        return "one device"
    devices = ", ".join(d.split("device:")[-1] for d in strategy.extended.worker_devices)
    workers = num_workers(strategy)
    where = f", {workers} workers" if workers > 1 else ""
    return f"{type(strategy).__name__}, {strategy.num_replicas_in_sync} replicas{where} ({devices} here)"


def note(message: str) -> None:
    """One line on stderr about what a strategy changes (switched-off features)."""
    print(f"note: {message}", file=sys.stderr, flush=True)


def prepare_fit(model, strategy, x_sample, y_sample) -> None:
    """Build ``model``'s metrics and optimizer before ``fit`` and skip Keras's own build from the first batch.

    Keras 3.15's ``fit``/``evaluate`` under a strategy build the model from the
    first distributed batch, averaged over the replicas with ``strategy.reduce``:
    that fails where the replicas' shares differ in size (Reuters' 899
    validation rows over two replicas: "Inputs to operation AddN ... must have
    the same size and shape"), and under ``MultiWorkerMirroredStrategy``
    always ("Attempt to convert a value (PerReplica...) to a Tensor"). Built
    here from a local batch, the model has nothing left to build, and the
    instance's build step is made a no-op. Both touch Keras internals, kept
    with the others in :mod:`zoo._keras_compat`.
    """
    from . import _keras_compat

    _keras_compat.build_before_fit(model, strategy, (x_sample, y_sample))
    if num_workers(strategy) > 1:
        # The logged training metrics are then this worker's; the final metrics are evaluated on all of them.
        _keras_compat.reduce_logs_per_worker()


def strategy_name(strategy) -> str:
    """The :data:`STRATEGIES` name of ``strategy`` (its class name for another kind of strategy)."""
    if strategy is None:
        return "default"
    import tensorflow as tf

    if num_workers(strategy) > 1 or isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return "multi_worker"
    if isinstance(strategy, tf.distribute.MirroredStrategy):
        return "mirrored"
    return type(strategy).__name__
