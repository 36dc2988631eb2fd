"""``dense_classifier``: the notes' fully connected classifier.

Default: ``Dense(8, input_dim=4, relu) -> Dense(8, relu) -> Dense(3, softmax)``,
4*8+8 + 8*8+8 + 8*3+3 = 40 + 72 + 27 = 139 parameters (notes 002, "Keras 4-8-8-3").
"""

from __future__ import annotations

from .registry import TrainSpec, register_model


@register_model(
    task="tabular classification (iris: 4 features, 3 classes)",
    dataset="iris",
    # 120 training samples: small batches and enough epochs for Adam at 1e-3. Operations this
    # small run faster on one intra-op thread (see zoo.platform.configure_threads).
    train=TrainSpec(epochs=150, batch_size=8, intra_op_threads=1),
    source="notes 002: Keras Sequential 4 -> 8 -> 8 -> 3 (139 parameters)",
    measured={"test_accuracy": 1.0, "data": "iris, stratified 80/20 split, seed 0 (30 test samples)",
              "command": "python -m zoo train dense_classifier --seed 0"},
    tiny={"hidden_units": (4,)},
    params=139,
    input_shape=(None, 4),
    output_shape=(None, 3),
)
def dense_classifier(
    *,
    input_dim: int = 4,
    num_classes: int = 3,
    hidden_units=(8, 8),
    activation="relu",
    dropout: float = 0.0,
    kernel_initializer="glorot_uniform",
    l1: float = 0.0,
    l2: float = 0.0,
    max_norm: float | None = None,
    batch_norm: bool = False,
    optimizer="adam",
    learning_rate: float = 1e-3,
    seed: int | None = None,
    compile: bool = True,
):
    """A fully connected classifier with optional dropout, weight penalties and batch norm.

    Args:
        input_dim: number of input features.
        num_classes: number of classes (>= 2); the output is a softmax over them.
        hidden_units: sizes of the hidden Dense layers, e.g. ``(8, 8)``.
        activation: hidden activation: one of ``zoo.layers.ACTIVATIONS`` or a callable.
        dropout: dropout rate in [0, 1) after each hidden layer (0 = none).
        kernel_initializer: Keras initializer or its name (``"he_normal"``...).
        l1, l2: weight penalties on every kernel (0 = none).
        max_norm: max-norm constraint on every kernel's columns (None = none).
        batch_norm: insert BatchNormalization before each hidden activation.
        optimizer: ``"sgd"``, ``"momentum"``, ``"adagrad"``, ``"rmsprop"``, ``"adam"``
            or a ``keras.optimizers.Optimizer``.
        learning_rate: the optimizer's learning rate.
        seed: seeds weights and dropout for a repeatable model.
        compile: compile with sparse categorical cross-entropy and accuracy.

    Returns:
        A ``keras.Model`` taking ``(batch, input_dim)`` floats and returning class probabilities.

    Raises:
        ValueError, TypeError: an argument outside what is allowed (named in the message).

    Example:
        >>> import zoo
        >>> model = zoo.create_model("dense_classifier")
        >>> [layer.count_params() for layer in model.layers[1:]]
        [40, 72, 27]
    """
    arguments = dict(locals())
    # Keras loads here, not at the top: listing the registry must not start TensorFlow.
    from .mlp import mlp

    return mlp(name="dense_classifier", **arguments)
