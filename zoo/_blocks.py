"""Building blocks shared by the classifier factories.

The factories differ in their defaults, not in how they are built, so the
pieces live here once: argument checks, optimizer and regularizer lookup, the
hidden Dense stack, and compilation.
"""

from __future__ import annotations

import functools
import os

import keras

from . import _checks

# Optimizer names used across the zoo and the tuning search space (the notes'
# list: SGD, Momentum, AdaGrad, RMSprop, Adam). "momentum" is SGD with 0.9.
OPTIMIZERS = ("sgd", "momentum", "adagrad", "rmsprop", "adam")
ACTIVATIONS = ("relu", "tanh", "sigmoid", "leaky_relu", "elu", "gelu", "linear")


def seed_everything(seed: int | None) -> None:
    """Seed Python, NumPy and TensorFlow (weights and dropout) when ``seed`` is given."""
    if seed is not None:
        keras.utils.set_random_seed(_checks.positive_int("seed", seed, minimum=0))


def make_optimizer(optimizer, learning_rate: float):
    """An optimizer from a name in :data:`OPTIMIZERS`, or an instance passed through."""
    if isinstance(optimizer, keras.optimizers.Optimizer):
        return optimizer
    _checks.choice("optimizer", optimizer, OPTIMIZERS)
    lr = _checks.positive("learning_rate", learning_rate)
    if optimizer == "momentum":
        return keras.optimizers.SGD(learning_rate=lr, momentum=0.9)
    return {
        "sgd": keras.optimizers.SGD,
        "adagrad": keras.optimizers.Adagrad,
        "rmsprop": keras.optimizers.RMSprop,
        "adam": FusedAdam,  # Adam's arithmetic in one kernel (see FusedAdam)
    }[optimizer](learning_rate=lr)


# ---------------------------------------------------------------------------
# Speed (issue 6). Three things make the zoo train faster than the textbook
# script without changing the model (same layers, same parameters, same
# function): a first layer that skips the all-zero columns of a multi-hot
# batch, Adam's update as one fused kernel, and bfloat16 arithmetic where the
# CPU has AMX-BF16 units. bench/reuters_mlp.py measures what each gives.
# ---------------------------------------------------------------------------

#: Input width from which an MLP takes the fast path (see :func:`mlp`): a
#: multi-hot bag of words (Reuters: 10,000 words, ~80 present per document) has
#: a large first layer and mostly zero columns; narrow tabular inputs (iris: 4)
#: have neither, and bfloat16 casts would cost them more than they save.
SPARSE_INPUT_MIN_DIM = 1000

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
    return keras.backend.backend() == "tensorflow" and "amx_bf16" in cpu_flags()


@keras.saving.register_keras_serializable(package="zoo")
class SparseInputDense(keras.layers.Dense):
    """A ``Dense`` layer that multiplies only the input columns that are non-zero somewhere in the batch.

    For a multi-hot document ``x``, ``x @ W`` is the sum of the rows of ``W``
    for the words present (an embedding bag). A batch of 128 Reuters
    newswires uses ~2,900 of the 10,000 words, so gathering those columns of
    ``x`` and rows of ``W`` computes the same product with ~3.4x less work, and
    the kernel's gradient touches only those rows. It has the same weights,
    configuration and outputs as ``keras.layers.Dense`` for any input (the
    skipped columns are exactly zero); it is the zoo's default first layer for
    wide inputs (:data:`SPARSE_INPUT_MIN_DIM`). Other backends, LoRA and
    quantized layers, and inputs of rank other than 2 use ``Dense.call``.

    Example:
        >>> import numpy as np, keras
        >>> layer = SparseInputDense(3)
        >>> x = np.zeros((2, 50), "float32"); x[0, [1, 7]] = 1; x[1, 7] = 1
        >>> y = layer(x)
        >>> np.allclose(y, x @ layer.kernel.numpy() + layer.bias.numpy())
        True
    """

    def call(self, inputs, training=None):
        if (keras.backend.backend() != "tensorflow" or self.lora_enabled or self.quantization_mode
                or len(inputs.shape) != 2):
            return super().call(inputs, training=training)
        import tensorflow as tf

        present = tf.where(tf.reduce_any(tf.not_equal(inputs, 0), axis=0))[:, 0]
        kernel = tf.gather(tf.convert_to_tensor(self.kernel), present)
        x = tf.matmul(tf.gather(inputs, present, axis=1), kernel)
        if self.use_bias:
            x = x + tf.convert_to_tensor(self.bias)
        return self.activation(x) if self.activation is not None else x


@keras.saving.register_keras_serializable(package="zoo")
class FusedAdam(keras.optimizers.Adam):
    """``keras.optimizers.Adam`` whose update of a float32 variable is one fused TensorFlow kernel.

    Keras's Adam is four element-wise passes over each variable (m, v, the
    step, the assignment); TensorFlow's ``ResourceApplyAdam`` does the same
    arithmetic (``m += (g - m)(1 - b1)``, ``v += (g^2 - v)(1 - b2)``,
    ``w -= lr sqrt(1 - b2^t) / (1 - b1^t) m / (sqrt(v) + eps)``) in one
    multi-threaded pass, about twice as fast on Reuters' 2.56 M-weight first
    layer. AMSGrad, other variable dtypes and other backends use Keras's own
    step. It saves and loads as ``zoo>FusedAdam`` with Adam's configuration.
    """

    def update_step(self, gradient, variable, learning_rate):
        if self.amsgrad or keras.backend.backend() != "tensorflow" or variable.dtype != "float32":
            return super().update_step(gradient, variable, learning_rate)
        import tensorflow as tf

        dtype = variable.dtype
        step = tf.cast(self.iterations + 1, dtype)
        beta_1, beta_2 = tf.cast(self.beta_1, dtype), tf.cast(self.beta_2, dtype)
        index = self._get_variable_index(variable)
        tf.raw_ops.ResourceApplyAdam(
            var=variable.handle, m=self._momentums[index].handle, v=self._velocities[index].handle,
            beta1_power=tf.pow(beta_1, step), beta2_power=tf.pow(beta_2, step),
            lr=tf.cast(learning_rate, dtype), beta1=beta_1, beta2=beta_2, epsilon=tf.cast(self.epsilon, dtype),
            grad=tf.cast(tf.convert_to_tensor(gradient), dtype),
        )


def check_activation(activation):
    if callable(activation):
        return activation
    return _checks.choice("activation", activation, ACTIVATIONS)


def check_initializer(kernel_initializer):
    if isinstance(kernel_initializer, keras.initializers.Initializer):
        return kernel_initializer
    try:
        keras.initializers.get(kernel_initializer)
    except (ValueError, TypeError):
        raise ValueError(
            "kernel_initializer must be a keras initializer or its name such as 'glorot_uniform', "
            f"'glorot_normal', 'he_normal', 'he_uniform'; got {kernel_initializer!r}"
        ) from None
    return kernel_initializer


def make_regularizer(l1: float, l2: float):
    l1 = _checks.non_negative("l1", l1)
    l2 = _checks.non_negative("l2", l2)
    return keras.regularizers.L1L2(l1=l1, l2=l2) if (l1 or l2) else None


def make_constraint(max_norm):
    if max_norm is None:
        return None
    return keras.constraints.MaxNorm(_checks.positive("max_norm", max_norm))


def hidden_dense(
    x,
    units: int,
    *,
    activation,
    dropout: float,
    batch_norm: bool,
    kernel_initializer,
    regularizer,
    constraint,
    name: str,
    layer=keras.layers.Dense,
    dtype=None,
):
    """Dense -> [BatchNormalization] -> activation -> [Dropout], the hidden layer of every MLP.

    With batch normalisation the Dense layer has no bias (BN's beta replaces it)
    and the activation follows the normalisation, as in Ioffe & Szegedy (2015).
    ``layer`` is ``keras.layers.Dense`` or :class:`SparseInputDense`; ``dtype``
    is the layers' dtype policy (None: the Keras global one).
    """
    x = layer(
        units,
        activation=None if batch_norm else activation,
        use_bias=not batch_norm,
        kernel_initializer=kernel_initializer,
        kernel_regularizer=regularizer,
        kernel_constraint=constraint,
        name=name,
        dtype=dtype,
    )(x)
    if batch_norm:
        x = keras.layers.BatchNormalization(name=f"{name}_bn", dtype=dtype)(x)
        x = keras.layers.Activation(activation, name=f"{name}_act", dtype=dtype)(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name=f"{name}_dropout", dtype=dtype)(x)
    return x


def check_classifier_args(*, num_classes, dropout, batch_norm, compile):
    _checks.positive_int("num_classes", num_classes, minimum=2)
    _checks.fraction("dropout", dropout)
    if not isinstance(batch_norm, bool):
        raise TypeError(f"batch_norm must be True or False, got {batch_norm!r}")
    if not isinstance(compile, bool):
        raise TypeError(f"compile must be True or False, got {compile!r}")


def compile_classifier(model, *, optimizer, learning_rate):
    """Compile for integer labels: sparse categorical cross-entropy and accuracy."""
    model.compile(
        optimizer=make_optimizer(optimizer, learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def mlp(
    *,
    name: str,
    input_dim: int,
    num_classes: int,
    hidden_units,
    activation,
    dropout: float,
    kernel_initializer,
    l1: float,
    l2: float,
    max_norm,
    batch_norm: bool,
    optimizer,
    learning_rate: float,
    seed,
    compile: bool,
):
    """Input(input_dim) -> hidden Dense layers -> Dense(num_classes, softmax).

    A wide input (``input_dim >= SPARSE_INPUT_MIN_DIM``, a bag of words) gets
    the fast path, with the same parameters and function:

    * where :func:`use_bfloat16` (AMX-BF16): every hidden layer computes in
      bfloat16 (``mixed_bfloat16``: float32 weights, the softmax output in
      float32); AMX multiplies the full 10,000-wide first layer faster than
      the gathers of :class:`SparseInputDense` cost (measured: 9.5 vs 16 ms
      per training step at batch 256; see bench/README.md);
    * elsewhere: a float32 :class:`SparseInputDense` first layer, which skips
      the words absent from the whole batch.
    """
    input_dim = _checks.positive_int("input_dim", input_dim)
    hidden_units = _checks.int_sequence("hidden_units", hidden_units)
    check_classifier_args(num_classes=num_classes, dropout=dropout, batch_norm=batch_norm, compile=compile)
    activation = check_activation(activation)
    kernel_initializer = check_initializer(kernel_initializer)
    regularizer = make_regularizer(l1, l2)
    constraint = make_constraint(max_norm)
    if compile:
        make_optimizer(optimizer, learning_rate)  # validate before building anything
    seed_everything(seed)

    wide = input_dim >= SPARSE_INPUT_MIN_DIM
    bfloat16 = wide and use_bfloat16()
    first_layer = SparseInputDense if (wide and not bfloat16) else keras.layers.Dense
    hidden_dtype = "mixed_bfloat16" if bfloat16 else None

    inputs = keras.Input(shape=(input_dim,), name="features")
    x = inputs
    for i, units in enumerate(hidden_units, start=1):
        x = hidden_dense(
            x,
            units,
            activation=activation,
            dropout=dropout,
            batch_norm=batch_norm,
            kernel_initializer=kernel_initializer,
            regularizer=regularizer,
            constraint=constraint,
            name=f"hidden{i}",
            layer=first_layer if i == 1 else keras.layers.Dense,
            dtype=hidden_dtype,
        )
    outputs = keras.layers.Dense(
        num_classes,
        activation="softmax",
        kernel_initializer=kernel_initializer,
        kernel_regularizer=regularizer,
        kernel_constraint=constraint,
        name="output",
    )(x)
    model = keras.Model(inputs, outputs, name=name)
    if compile:
        compile_classifier(model, optimizer=optimizer, learning_rate=learning_rate)
    return model
