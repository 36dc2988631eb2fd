"""``reuters_mlp``: the notes' dropout model for the Reuters 46-topic newswires.

10000 multi-hot inputs -> Dense(256, relu) -> Dropout(0.5) -> Dense(128, relu)
-> Dropout(0.5) -> Dense(46, softmax): 2,560,256 + 32,896 + 5,934 = 2,599,086
parameters (notes 002, "dropout", the Reuters example).
"""

from __future__ import annotations

from .registry import TrainSpec, register_model


@register_model(
    task="text classification (Reuters newswires, 46 topics, multi-hot bag of words)",
    dataset="reuters",
    # The textbook script is Adam at 1e-3, batch 128, 10 epochs. We train with batch 512 and
    # the square-root rule's learning rate, 1e-3 * sqrt(512 / 128) = 2e-3 (registry.resolve):
    # as accurate (bench/README.md) in a quarter of the optimizer steps, each of which updates
    # all 2.6 M weights. `--batch-size 128` gives the textbook setting, learning rate included.
    train=TrainSpec(epochs=10, batch_size=512, reference_batch_size=128),
    source="notes 002: dropout example, 10000 -> 256 -> .5 -> 128 -> .5 -> 46",
    measured={"test_accuracy": 0.8063, "data": "Keras Reuters split (test_split=0.2, seed 113), 10,000 words",
              "command": "ZOO_DATA_DIR=../shared/data python -m zoo train reuters_mlp --seed 0"},
    tiny={"input_dim": 50, "hidden_units": (8, 4)},
    params=2_599_086,
    input_shape=(None, 10000),
    output_shape=(None, 46),
)
def reuters_mlp(
    *,
    input_dim: int = 10000,
    num_classes: int = 46,
    hidden_units=(256, 128),
    activation="relu",
    dropout: float = 0.5,
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
    """The Reuters multi-hot MLP with dropout.

    Args:
        input_dim: vocabulary size of the multi-hot input (``num_words`` of the loader).
        num_classes: number of topics.
        hidden_units, activation, dropout, kernel_initializer, l1, l2, max_norm,
        batch_norm, optimizer, learning_rate, seed, compile: as for
            :func:`zoo.dense.dense_classifier`.

    Returns:
        A ``keras.Model`` taking ``(batch, input_dim)`` multi-hot floats.

    Raises:
        ValueError, TypeError: an argument outside what is allowed (named in the message).

    Example:
        >>> import zoo
        >>> zoo.create_model("reuters_mlp").count_params()
        2599086
    """
    arguments = dict(locals())
    # Keras loads here, not at the top: listing the registry must not start TensorFlow.
    from .mlp import mlp

    return mlp(name="reuters_mlp", **arguments)
