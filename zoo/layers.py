"""Layers and layer arguments shared by the classifier factories.

The factories differ in their defaults, not in how their layers are made, so
the pieces live here once: the checks of the layer arguments, regularizer and
constraint lookup, the hidden Dense layer of every MLP, and the sparse-input
Dense layer that the MLP uses for wide bag-of-words inputs.
"""

from __future__ import annotations

import keras

from . import checks, _keras_compat

ACTIVATIONS = ("relu", "tanh", "sigmoid", "leaky_relu", "elu", "gelu", "linear")


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
    wide inputs (:data:`zoo.mlp.SPARSE_INPUT_MIN_DIM`). Other backends, LoRA and
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
        if (keras.backend.backend() != "tensorflow" or not _keras_compat.dense_is_plain(self)
                or len(inputs.shape) != 2):
            return super().call(inputs, training=training)
        import tensorflow as tf

        present = tf.where(tf.reduce_any(tf.not_equal(inputs, 0), axis=0))[:, 0]
        kernel = tf.gather(tf.convert_to_tensor(self.kernel), present)
        x = tf.matmul(tf.gather(inputs, present, axis=1), kernel)
        if self.use_bias:
            x = x + tf.convert_to_tensor(self.bias)
        return self.activation(x) if self.activation is not None else x


def check_activation(activation):
    if callable(activation):
        return activation
    return checks.choice("activation", activation, ACTIVATIONS)


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
    l1 = checks.non_negative("l1", l1)
    l2 = checks.non_negative("l2", l2)
    return keras.regularizers.L1L2(l1=l1, l2=l2) if (l1 or l2) else None


def make_constraint(max_norm):
    if max_norm is None:
        return None
    return keras.constraints.MaxNorm(checks.positive("max_norm", max_norm))


def check_classifier_args(*, num_classes, dropout, batch_norm, compile):
    checks.positive_int("num_classes", num_classes, minimum=2)
    checks.fraction("dropout", dropout)
    if not isinstance(batch_norm, bool):
        raise TypeError(f"batch_norm must be True or False, got {batch_norm!r}")
    if not isinstance(compile, bool):
        raise TypeError(f"compile must be True or False, got {compile!r}")


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
