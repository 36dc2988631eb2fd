"""Every use of Keras's private internals, in one place, with a check that they are still there.

The zoo's fast paths read what Keras keeps private: the moment slots of its
Adam optimizer (``FusedAdam`` updates them with one TensorFlow kernel), the
LoRA and quantization switches of its Dense layer (``SparseInputDense`` steps
aside for them) and the seed-generator state variables of its random layers
(training sets them per epoch so a resumed run repeats an uninterrupted one),
and, under ``tf.distribute``, the trainer's build from the first batch and its
cross-worker reduction of each step's logs (``zoo.distribute.prepare_fit``).
A Keras release that moves them breaks these functions and :func:`check` says
so, naming the installed version; ``tests/test_compat.py`` runs it.
"""

from __future__ import annotations

#: The Keras releases these internals were checked on (setup.cfg's bounds).
TESTED = ">=3.15.1,<3.16"


class KerasInternalsChanged(RuntimeError):
    """The installed Keras no longer has an internal the zoo relies on."""


def _version() -> str:
    import keras

    return getattr(keras, "__version__", "unknown")


def adam_slots(optimizer, variable):
    """``(m, v)``: the first and second moment variables of ``variable`` in a ``keras.optimizers.Adam``."""
    index = optimizer._get_variable_index(variable)
    return optimizer._momentums[index], optimizer._velocities[index]


def dense_is_plain(layer) -> bool:
    """Whether a ``keras.layers.Dense`` computes the plain ``x @ kernel + bias`` (no LoRA, not quantized)."""
    return not (layer.lora_enabled or layer.quantization_mode)


def seed_generator_states(model) -> list:
    """The state variables of the model's seed generators (dropout masks...), in creation order."""
    return [v for v in model.non_trainable_variables if v.path.endswith("seed_generator_state")]


def build_before_fit(model, strategy, data_batch) -> None:
    """Build ``model`` (metrics, optimizer) from a local batch under ``strategy``, and make ``fit``'s own build a no-op.

    Keras 3.15 builds the model inside ``fit``/``evaluate`` from the first
    distributed batch averaged over the replicas, which fails where their shares
    differ in size and always under ``MultiWorkerMirroredStrategy``.
    """
    with strategy.scope():
        model._symbolic_build(data_batch=data_batch)
    model._maybe_symbolic_build = lambda iterator=None, data_batch=None: None


def reduce_logs_per_worker() -> None:
    """Keep each step's logs to this worker's replicas (Keras's cross-worker mean fails on scalars).

    Keras 3.15 reduces the logs with ``strategy.reduce("MEAN", v, axis=0)`` across
    workers: "Invalid reduction dimension 0" on a scalar. Its one-machine path is
    used instead. Process-wide: only a multi-worker process calls it.
    """
    from keras.src.backend.tensorflow import trainer as keras_tf_trainer

    keras_tf_trainer._collective_all_reduce_multi_worker = lambda strategy: False


def check() -> None:
    """Raise :class:`KerasInternalsChanged` unless the internals above still work on the installed Keras."""
    import keras
    import numpy as np

    problems = []
    try:
        opt = keras.optimizers.Adam(learning_rate=0.1)
        var = keras.Variable(np.ones(3, "float32"))
        opt.build([var])
        m, v = adam_slots(opt, var)
        if tuple(m.shape) != (3,) or tuple(v.shape) != (3,):
            problems.append("Adam's _momentums/_velocities do not hold one slot per variable")
    except (AttributeError, IndexError, TypeError) as exc:
        problems.append(f"Adam's _get_variable_index/_momentums/_velocities: {exc}")
    try:
        layer = keras.layers.Dense(2)
        layer.build((None, 3))
        if not dense_is_plain(layer):
            problems.append("a new Dense layer reports LoRA or quantization")
    except AttributeError as exc:
        problems.append(f"Dense.lora_enabled/quantization_mode: {exc}")
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dropout(0.5)(inputs))
    if len(seed_generator_states(model)) != 1:
        problems.append("Dropout's seed generator state is not a non-trainable variable named '*seed_generator_state'")
    if not (callable(getattr(model, "_symbolic_build", None)) and hasattr(model, "_maybe_symbolic_build")):
        problems.append("Model._symbolic_build/_maybe_symbolic_build (the build before fit under a strategy) are gone")
    try:
        from keras.src.backend.tensorflow import trainer as keras_tf_trainer

        if not callable(getattr(keras_tf_trainer, "_collective_all_reduce_multi_worker", None)):
            problems.append("keras.src.backend.tensorflow.trainer._collective_all_reduce_multi_worker is gone")
    except ImportError as exc:
        problems.append(f"keras.src.backend.tensorflow.trainer: {exc}")
    if problems:
        raise KerasInternalsChanged(
            f"keras {_version()} changed internals the zoo relies on (checked on keras {TESTED}): "
            + "; ".join(problems) + ". Update zoo/_keras_compat.py or install a keras in that range.")
