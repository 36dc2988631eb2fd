"""Building blocks shared by the classifier factories.

The factories differ in their defaults, not in how they are built, so the
pieces live here once: argument checks, optimizer and regularizer lookup, the
hidden Dense stack, and compilation.
"""

from __future__ import annotations

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
        "adam": keras.optimizers.Adam,
    }[optimizer](learning_rate=lr)


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
):
    """Dense -> [BatchNormalization] -> activation -> [Dropout], the hidden layer of every MLP.

    With batch normalisation the Dense layer has no bias (BN's beta replaces it)
    and the activation follows the normalisation, as in Ioffe & Szegedy (2015).
    """
    x = keras.layers.Dense(
        units,
        activation=None if batch_norm else activation,
        use_bias=not batch_norm,
        kernel_initializer=kernel_initializer,
        kernel_regularizer=regularizer,
        kernel_constraint=constraint,
        name=name,
    )(x)
    if batch_norm:
        x = keras.layers.BatchNormalization(name=f"{name}_bn")(x)
        x = keras.layers.Activation(activation, name=f"{name}_act")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name=f"{name}_dropout")(x)
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
    """Input(input_dim) -> hidden Dense layers -> Dense(num_classes, softmax)."""
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
