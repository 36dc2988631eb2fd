"""``small_cnn``: conv -> pool -> conv -> pool -> dense, for any small image.

With ``input_shape=(28, 28, 1), padding="valid"`` it is the keras-io MNIST
convnet (34,826 parameters); the default fits scikit-learn's 8x8 digits, where
"same" padding keeps two poolings possible (notes 000, CNN).
"""

from __future__ import annotations

from . import checks
from .registry import TrainSpec, register_model

#: The keras-io "Simple MNIST convnet" configuration (34,826 parameters).
MNIST_CONFIG = {"input_shape": (28, 28, 1), "num_classes": 10, "padding": "valid"}


def feature_side(input_shape, stages: int, *, kernel_size: int, pool_size: int, padding: str) -> int:
    """The side of the feature map after ``stages`` convolution + pooling stages (< 1: the image is too small).

    Example:
        >>> feature_side((8, 8, 1), 2, kernel_size=3, pool_size=2, padding="valid")
        0
    """
    side = min(input_shape[:2])
    for _ in range(stages):
        side = (side - (kernel_size - 1 if padding == "valid" else 0)) // pool_size
        if side < 1:
            break
    return side


@register_model(
    task="image classification (digits 8x8x1; MNIST 28x28x1 with small_cnn.MNIST_CONFIG)",
    dataset="digits",
    # One intra-op thread: an 8x8 convolution is too small to split between threads
    # (see zoo.platform.configure_threads).
    train=TrainSpec(epochs=40, batch_size=32, intra_op_threads=1),
    source="notes 000: CNN (convolution, pooling); keras-io simple MNIST convnet",
    measured={"test_accuracy": 0.9806, "data": "digits, stratified 80/20 split, seed 0 (360 test images)",
              "command": "python -m zoo train small_cnn --seed 0"},
    tiny={"filters": (2, 3)},
    params=21_386,
    input_shape=(None, 8, 8, 1),
    output_shape=(None, 10),
)
def small_cnn(
    *,
    input_shape=(8, 8, 1),
    num_classes: int = 10,
    filters=(32, 64),
    kernel_size: int = 3,
    pool_size: int = 2,
    padding: str = "same",
    activation="relu",
    dropout: float = 0.5,
    kernel_initializer="glorot_uniform",
    l2: float = 0.0,
    batch_norm: bool = False,
    optimizer="adam",
    learning_rate: float = 1e-3,
    seed: int | None = None,
    compile: bool = True,
):
    """Two convolution + max-pooling stages, then dropout and a softmax Dense layer.

    Args:
        input_shape: ``(height, width, channels)``.
        num_classes: number of classes (>= 2).
        filters: number of filters of each convolution stage, e.g. ``(32, 64)``.
        kernel_size: square convolution window.
        pool_size: square max-pooling window (and stride).
        padding: ``"same"`` or ``"valid"`` for the convolutions.
        activation: convolution activation.
        dropout: dropout rate before the classifier, in [0, 1).
        kernel_initializer, l2, batch_norm, optimizer, learning_rate, seed, compile:
            as for :func:`zoo.dense.dense_classifier`.

    Returns:
        A ``keras.Model`` taking ``(batch, *input_shape)`` images scaled to [0, 1].

    Raises:
        ValueError: an argument outside what is allowed, or an input too small for
            the stages (the message gives the smallest size that fits).

    Example:
        >>> import zoo
        >>> from zoo.small_cnn import MNIST_CONFIG
        >>> zoo.create_model("small_cnn", **MNIST_CONFIG).count_params()
        34826
    """
    # Keras loads here, not at the top: listing the registry must not start TensorFlow.
    import keras

    from . import layers, optimizers, platform

    input_shape = checks.shape("input_shape", input_shape, rank=3)
    filters = checks.int_sequence("filters", filters, allow_empty=False)
    kernel_size = checks.positive_int("kernel_size", kernel_size)
    pool_size = checks.positive_int("pool_size", pool_size)
    padding = checks.choice("padding", padding, ("same", "valid"))
    layers.check_classifier_args(num_classes=num_classes, dropout=dropout, batch_norm=batch_norm, compile=compile)
    activation = layers.check_activation(activation)
    kernel_initializer = layers.check_initializer(kernel_initializer)
    regularizer = layers.make_regularizer(0.0, l2)
    if compile:
        optimizers.make_optimizer(optimizer, learning_rate)

    # Check the image survives every conv + pool stage before building anything.
    if feature_side(input_shape, len(filters), kernel_size=kernel_size, pool_size=pool_size, padding=padding) < 1:
        raise ValueError(
            f"input_shape {input_shape} is too small for {len(filters)} stages of "
            f"{kernel_size}x{kernel_size} {padding!r} convolution and {pool_size}x{pool_size} pooling; "
            "use a larger image, padding='same', or fewer filters stages"
        )
    platform.seed_everything(seed)

    inputs = keras.Input(shape=input_shape, name="image")
    x = inputs
    for i, n in enumerate(filters, start=1):
        x = keras.layers.Conv2D(
            n,
            kernel_size,
            padding=padding,
            activation=None if batch_norm else activation,
            use_bias=not batch_norm,
            kernel_initializer=kernel_initializer,
            kernel_regularizer=regularizer,
            name=f"conv{i}",
        )(x)
        if batch_norm:
            x = keras.layers.BatchNormalization(name=f"conv{i}_bn")(x)
            x = keras.layers.Activation(activation, name=f"conv{i}_act")(x)
        x = keras.layers.MaxPooling2D(pool_size, name=f"pool{i}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="dropout")(x)
    outputs = keras.layers.Dense(
        num_classes, activation="softmax", kernel_initializer=kernel_initializer,
        kernel_regularizer=regularizer, name="output",
    )(x)
    model = keras.Model(inputs, outputs, name="small_cnn")
    if compile:
        optimizers.compile_classifier(model, optimizer=optimizer, learning_rate=learning_rate)
    return model
