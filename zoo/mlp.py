"""The multilayer perceptron behind ``dense_classifier`` and ``reuters_mlp``.

Both are this one builder with other defaults (as timm's variants over one
``_create_resnet``); the factories hold the textbook defaults, this holds how
the model is built.
"""

from __future__ import annotations

import keras

from . import checks, layers, optimizers, platform

#: Input width from which an MLP takes the fast path (see :func:`mlp`): a
#: multi-hot bag of words (Reuters: 10,000 words, ~80 present per document) has
#: a large first layer and mostly zero columns; narrow tabular inputs (iris: 4)
#: have neither, and bfloat16 casts would cost them more than they save.
SPARSE_INPUT_MIN_DIM = 1000


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

    A wide input (``input_dim >= SPARSE_INPUT_MIN_DIM``, a bag of words) takes
    the path measured fastest on this CPU kind (:func:`zoo.platform.wide_input_path`),
    with the same parameters and function:

    * ``"bfloat16_dense"`` (AMX-BF16 and AVX512-BF16): every hidden layer computes in
      bfloat16 (``mixed_bfloat16``: float32 weights, the softmax output in float32);
    * ``"float32_dense"``: the textbook float32 layers;
    * ``"sparse_input_dense"``: a float32 :class:`zoo.layers.SparseInputDense` first layer,
      which skips the words absent from the whole batch.
    """
    input_dim = checks.positive_int("input_dim", input_dim)
    hidden_units = checks.int_sequence("hidden_units", hidden_units)
    layers.check_classifier_args(num_classes=num_classes, dropout=dropout, batch_norm=batch_norm, compile=compile)
    activation = layers.check_activation(activation)
    kernel_initializer = layers.check_initializer(kernel_initializer)
    regularizer = layers.make_regularizer(l1, l2)
    constraint = layers.make_constraint(max_norm)
    if compile:
        optimizers.make_optimizer(optimizer, learning_rate)  # validate before building anything
    platform.seed_everything(seed)

    path = platform.wide_input_path() if input_dim >= SPARSE_INPUT_MIN_DIM else None
    first_layer = layers.SparseInputDense if path == "sparse_input_dense" else keras.layers.Dense
    hidden_dtype = "mixed_bfloat16" if path == "bfloat16_dense" else None

    inputs = keras.Input(shape=(input_dim,), name="features")
    x = inputs
    for i, units in enumerate(hidden_units, start=1):
        x = layers.hidden_dense(
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
        optimizers.compile_classifier(model, optimizer=optimizer, learning_rate=learning_rate)
    return model


def path_of(model) -> str | None:
    """Which wide-input path ``model`` was built with (:data:`zoo.platform.WIDE_INPUT_PATHS`), read
    from its layers; None for a model without a wide first layer. Recorded in ``metrics.json`` so that a
    measurement says which path ran."""
    first = next((layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)), None)
    if not isinstance(first, keras.layers.Dense) or first.kernel.shape[0] < SPARSE_INPUT_MIN_DIM:
        return None
    if isinstance(first, layers.SparseInputDense):
        return "sparse_input_dense"
    return "bfloat16_dense" if first.dtype_policy.compute_dtype == "bfloat16" else "float32_dense"
