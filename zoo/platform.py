"""What the zoo asks of the machine: CPU features, bfloat16, seeds and TensorFlow's threads.

Nothing here imports TensorFlow or Keras before a function needs it.
"""

from __future__ import annotations

import contextlib
import functools
import os

from . import checks, registry

#: ``ZOO_BFLOAT16=1`` forces bfloat16 arithmetic, ``=0`` forbids it; unset: only where the CPU has AMX-BF16.
BFLOAT16_ENV = "ZOO_BFLOAT16"


@functools.lru_cache(maxsize=None)
def cpu_flags() -> frozenset:
    """The CPU feature flags of ``/proc/cpuinfo`` (empty where there is none, e.g. macOS)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def use_bfloat16() -> bool:
    """Whether the zoo computes in bfloat16: ``ZOO_BFLOAT16`` if set, else whether the CPU has AMX-BF16.

    Without AMX, bfloat16 matrix products are emulated and slower than float32,
    so the zoo never assumes them; on a GPU or another backend it stays in float32.

    Raises:
        ValueError: ``ZOO_BFLOAT16`` is set to something other than 0 or 1.
    """
    forced = os.environ.get(BFLOAT16_ENV, "").strip()
    if forced not in ("", "0", "1"):
        raise ValueError(f"{BFLOAT16_ENV} must be 0 or 1 (or unset to detect AMX-BF16), got {forced!r}")
    if forced:
        return forced == "1"
    import keras

    return keras.backend.backend() == "tensorflow" and "amx_bf16" in cpu_flags()


def seed_everything(seed: int | None) -> None:
    """Seed Python, NumPy and TensorFlow (weights and dropout) when ``seed`` is given."""
    if seed is not None:
        import keras

        keras.utils.set_random_seed(checks.positive_int("seed", seed, minimum=0))


def configure_threads(name: str) -> int | None:
    """Give TensorFlow the intra-op thread count registered for ``name``, if it can still be set.

    A small model's operations are too small to split between threads: the
    threads spend the step handing work over; a wide layer (Reuters) needs them
    all. So the registry says which models want one thread
    (``TrainSpec(intra_op_threads=1)``). TensorFlow fixes its thread pools when
    it starts, for the whole process: the commands that train one model per
    process (``python -m zoo train``, ``python -m tuning``) call this before
    anything runs; :func:`zoo.training.train` does not, so that training one model
    never slows the next one in the same process.

    Returns:
        The thread count now in effect for ``name``, or None where the registry
        has none for it or TensorFlow already started with another (nothing changes then).
    """
    threads = registry.get_entry(name).train.intra_op_threads
    if threads is None:
        return None
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
    except RuntimeError:  # TensorFlow already started: its thread pools are fixed for this process
        return None
    return threads


def intra_op_threads():
    """TensorFlow's intra-op thread count (``"default"``: its own choice, one per core)."""
    import tensorflow as tf

    return tf.config.threading.get_intra_op_parallelism_threads() or "default"


@contextlib.contextmanager
def released_gradients():
    """Forget, when the block ends, the custom gradients TensorFlow registered while it ran.

    Every traced training step registers a gradient function in TensorFlow's
    process-wide gradient registry (Keras's optimizer sums the gradients with
    ``ReplicaContext.all_reduce``, a ``tf.custom_gradient``); the entry holds the
    whole graph of that step and is never removed. One model a process does not
    notice; a search fitting thousands of models grew by ~16 MB a trial
    (dense_classifier, 3 folds), every step graph it ever traced kept alive. Wrap
    the fit of a model that is thrown away afterwards: its entries go with it.
    Entries registered before the block (other models, the user's own functions)
    are kept.
    """
    from tensorflow.python.framework import ops

    registry = getattr(getattr(ops, "_gradient_registry", None), "_registry", None)
    before = set(registry) if isinstance(registry, dict) else None
    try:
        yield
    finally:
        if before is not None:
            for name in [n for n in registry if n not in before and n.startswith("CustomGradient-")]:
                registry.pop(name, None)
