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
import socket
import sys
import threading
import time

from . import checks

#: ``default``: one device, no ``tf.distribute`` strategy (the plain Keras path).
STRATEGIES = ("default", "mirrored", "multi_worker")
#: How long a multi-worker process waits for every other worker to answer (``--worker-timeout``).
DEFAULT_WORKER_TIMEOUT = 60.0
TF_CONFIG = "TF_CONFIG"


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
    """``count`` logical CPU devices (None: TensorFlow's one)."""
    return None if count is None else checks.positive_int("cpu_devices", count)


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
        RuntimeError: TensorFlow has already initialised its devices with another split.
    """
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
    for a missing worker forever, in a C++ call that holds the interpreter. It
    must be built before TensorFlow runs anything else in the process.

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
    wait_for_workers(config, timeout=worker_timeout)
    return tf.distribute.MultiWorkerMirroredStrategy(cluster_resolver=resolver)


class WorkerUnreachable(ValueError):
    """A worker of the cluster did not answer in time (a user error: exit status 2 on the command line)."""


class WorkerLost(ValueError):
    """A worker stopped during multi-worker training (one line and exit status 2 on the command line)."""


def worker_lost(error, checkpoint_dir) -> WorkerLost:
    """The error to raise for TensorFlow's ``UnavailableError`` of a lost peer: what happened, where
    the last finished epoch is, and what to do (TensorFlow's own message is a page of traceback)."""
    text = str(getattr(error, "message", "") or error).strip()
    first = text.splitlines()[0][:300] if text else ""
    return WorkerLost(f"a worker stopped during multi_worker training ({type(error).__name__}: {first}); the "
                      f"chief's checkpoint ({checkpoint_dir}) keeps the last finished epoch: start the same command "
                      "on every worker again to resume from it")


def wait_for_workers(config: dict, *, timeout: float = DEFAULT_WORKER_TIMEOUT, poll: float = 0.2) -> None:
    """Return once every other worker of ``config`` accepts a TCP connection; raise after ``timeout`` seconds.

    Meanwhile this worker listens on its own port (accepting and closing
    connections), so that workers started in any order all see each other;
    the port is handed to TensorFlow's server as soon as every peer answered,
    and a peer still polling then finds that server instead. No TensorFlow.

    Raises:
        WorkerUnreachable: names the address(es) that did not answer and the timeout.
        ValueError: this worker's own port cannot be listened on (in use).
    """
    task = config["task"]
    me = config["cluster"][task["type"]][task["index"]]
    peers = [a for job in config["cluster"].values() for a in job if a != me]
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
                conn.close()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return

    thread = threading.Thread(target=answer, daemon=True, name="zoo-worker-listener")
    thread.start()
    deadline = time.monotonic() + timeout
    pending = list(peers)
    try:
        while pending:
            pending = unreachable(pending, timeout=min(1.0, timeout))
            if not pending or time.monotonic() >= deadline:
                break
            time.sleep(min(poll, max(0.0, deadline - time.monotonic())))
    finally:
        stop.set()
        thread.join()
        listener.close()
    if pending:
        raise WorkerUnreachable(
            f"--workers: worker {', '.join(pending)} did not answer within {timeout:g} s (--worker-timeout); start "
            "every worker with the same --workers list and its own --task-index, or check the address and firewall")


def unreachable(addresses: list[str], timeout: float = 1.0) -> list[str]:
    """The addresses among ``addresses`` where nothing accepts a TCP connection within ``timeout`` seconds."""
    missing = []
    for address in addresses:
        host, port = parse_address(address, argument="address")
        try:
            socket.create_connection((host, port), timeout=timeout).close()
        except OSError:
            missing.append(address)
    return missing


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
