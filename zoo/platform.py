"""What the zoo asks of the machine: CPU features, bfloat16, seeds and TensorFlow's threads.

Nothing here imports TensorFlow or Keras before a function needs it.
"""

from __future__ import annotations

import contextlib
import functools
import os

from . import checks, registry

#: ``ZOO_BFLOAT16=1`` forces bfloat16 arithmetic, ``=0`` forbids it; unset: chosen per CPU kind (:data:`WIDE_INPUT_PATHS`).
BFLOAT16_ENV = "ZOO_BFLOAT16"
#: oneDNN's ceiling on the instructions it uses (its own variable; ``DNNL_MAX_CPU_ISA`` is the older name).
#: It also lets one machine stand in for the CPU kinds below it (bench/README.md).
ONEDNN_ISA_ENVS = ("ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA")

#: The CPU kinds that decide the wide MLP's path, best first: what oneDNN can use for matrix products.
ISA_CLASSES = ("amx", "avx512_bf16", "avx512", "avx2", "other")

#: The wide (bag-of-words) MLP's path on each CPU kind, chosen from per-kind measurements
#: (``bench/reuters_step_variants.py``, ``bench/reuters_mlp.py``; numbers in bench/README.md):
#: ``"bfloat16_dense"``: ``mixed_bfloat16`` hidden layers with a plain ``Dense`` first layer;
#: ``"float32_dense"``: the textbook float32 ``Dense``; ``"sparse_input_dense"``: a float32
#: :class:`zoo.layers.SparseInputDense` first layer (skips the words absent from the batch).
#: ``"probe"``: bfloat16 where a quick measurement here finds its products faster (:func:`bfloat16_is_faster`).
WIDE_INPUT_PATHS = {
    "amx": "bfloat16_dense",
    # Measured both ways: on an AMD EPYC (Zen 4) bfloat16 trained 1.43x faster (issue 29), on the Xeon
    # capped at AVX512_CORE_BF16 2.2x slower (bench/README.md): the kind alone does not decide, so ask the CPU.
    "avx512_bf16": "probe",
    "avx512": "sparse_input_dense",
    "avx2": "sparse_input_dense",
    "other": "sparse_input_dense",
}
#: Where a kind's bfloat16 path is forbidden (``ZOO_BFLOAT16=0``) or unavailable (another Keras backend).
FLOAT32_PATH = "sparse_input_dense"

# ONEDNN_MAX_CPU_ISA's values (oneDNN's dnnl_cpu_isa names) -> the kind they cap at. Values not
# listed (DEFAULT, ALL, typos, which oneDNN ignores) cap nothing.
_ONEDNN_ISA_CEILING = {
    "SSE41": "other", "AVX": "other",
    "AVX2": "avx2", "AVX2_VNNI": "avx2", "AVX2_VNNI_2": "avx2",
    "AVX512_CORE": "avx512", "AVX512_CORE_VNNI": "avx512",
    "AVX512_CORE_BF16": "avx512_bf16", "AVX512_CORE_FP16": "avx512_bf16", "AVX10_1_512": "avx512_bf16",
    "AVX512_CORE_AMX": "amx", "AVX512_CORE_AMX_FP16": "amx", "AVX10_1_512_AMX": "amx",
    "AVX10_1_512_AMX_FP16": "amx",
}


@functools.lru_cache(maxsize=None)
def cpu_info() -> tuple:
    """``(model name, flags)`` from ``/proc/cpuinfo`` (``("", frozenset())`` where there is none, e.g. macOS)."""
    model, flags = "", frozenset()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name") and not model:
                    model = line.split(":", 1)[1].strip()
                elif line.startswith("flags"):
                    flags = frozenset(line.split(":", 1)[1].split())
                    break
    except OSError:
        pass
    return model, flags


def cpu_flags() -> frozenset:
    """The CPU feature flags of ``/proc/cpuinfo`` (empty where there is none, e.g. macOS)."""
    return cpu_info()[1]


def isa_class(flags=None, environ=None) -> str:
    """The CPU kind (:data:`ISA_CLASSES`) oneDNN can use here: the flags' best, capped by ``ONEDNN_MAX_CPU_ISA``.

    Pure: pass ``flags`` (an iterable of ``/proc/cpuinfo`` flag names) and ``environ``
    (a mapping) to ask about another machine; by default this one's. No TensorFlow.

    Example:
        >>> isa_class({"avx2", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512_bf16"}, {})
        'avx512_bf16'
        >>> isa_class({"amx_bf16", "amx_tile", "avx512_bf16", "avx512f", "avx2"}, {"ONEDNN_MAX_CPU_ISA": "AVX2"})
        'avx2'
    """
    flags = cpu_flags() if flags is None else frozenset(flags)
    environ = os.environ if environ is None else environ
    if {"amx_bf16", "amx_tile"} <= flags:
        found = "amx"
    elif "avx512_bf16" in flags and "avx512f" in flags:
        found = "avx512_bf16"
    elif "avx512f" in flags:
        found = "avx512"
    elif "avx2" in flags:
        found = "avx2"
    else:
        found = "other"
    ceiling = next((environ[k].strip().upper() for k in ONEDNN_ISA_ENVS if environ.get(k, "").strip()), "")
    capped = _ONEDNN_ISA_CEILING.get(ceiling, found)
    return max(found, capped, key=ISA_CLASSES.index)  # the later (lesser) of the two kinds


#: The product the probe times: a Reuters batch (512 rows) through a 4,096-word slice of the wide first
#: layer (256 units), large enough for oneDNN's blocked kernels, small enough to cost little.
PROBE_SHAPE = (512, 4096, 256)


@functools.lru_cache(maxsize=None)
def bfloat16_is_faster() -> bool:
    """Whether a bfloat16 matrix product of :data:`PROBE_SHAPE` runs faster here than the float32 one.

    For the CPU kind where that depends on the chip rather than on its flags (AVX512-BF16 without
    AMX). Each product is run once to set it up, then three times each, alternating; the best
    times are compared, and bfloat16 must win by 20% (it also pays casts the float32 path does
    not). Costs ~0.1-0.3 s, once per process (bench/README.md gives the measured cost).
    """
    import time

    import tensorflow as tf

    m, k, n = PROBE_SHAPE
    operands = {dtype: (tf.ones((m, k), dtype), tf.fill((k, n), tf.constant(0.5, dtype)))
                for dtype in (tf.float32, tf.bfloat16)}
    times = {dtype: [] for dtype in operands}
    for _ in range(4):
        for dtype, (x, w) in operands.items():
            start = time.perf_counter()
            tf.matmul(x, w).numpy()
            times[dtype].append(time.perf_counter() - start)
    best = {dtype: min(t[1:]) for dtype, t in times.items()}  # the first call sets the product up
    return best[tf.bfloat16] < 0.8 * best[tf.float32]


def wide_input_path(flags=None, environ=None, backend: str | None = None, probe=None) -> str:
    """The wide MLP's path here (:data:`WIDE_INPUT_PATHS`): by CPU kind, ``ZOO_BFLOAT16`` overriding.

    ``ZOO_BFLOAT16=1`` gives ``"bfloat16_dense"`` on any CPU; ``=0`` (or a Keras backend other
    than TensorFlow, where the paths were not measured) gives :data:`FLOAT32_PATH` where the
    kind's path is bfloat16. Where it is ``"probe"``, ``probe()`` (default :func:`bfloat16_is_faster`)
    decides between the two. Pure where ``flags``, ``environ``, ``backend`` and ``probe`` are given.

    Raises:
        ValueError: ``ZOO_BFLOAT16`` is set to something other than 0 or 1.
    """
    environ = os.environ if environ is None else environ
    forced = environ.get(BFLOAT16_ENV, "").strip()
    if forced not in ("", "0", "1"):
        raise ValueError(f"{BFLOAT16_ENV} must be 0 or 1 (or unset to choose by CPU kind), got {forced!r}")
    if forced == "1":
        return "bfloat16_dense"
    path = WIDE_INPUT_PATHS[isa_class(flags, environ)]
    if path in ("bfloat16_dense", "probe"):
        if backend is None:
            import keras

            backend = keras.backend.backend()
        if forced == "0" or backend != "tensorflow":
            return FLOAT32_PATH
        if path == "probe":
            return "bfloat16_dense" if (probe or bfloat16_is_faster)() else FLOAT32_PATH
    return path


def use_bfloat16() -> bool:
    """Whether the zoo's wide MLP computes in bfloat16 here (:func:`wide_input_path`).

    Raises:
        ValueError: ``ZOO_BFLOAT16`` is set to something other than 0 or 1.
    """
    return wide_input_path() == "bfloat16_dense"


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
