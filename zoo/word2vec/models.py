"""``word2vec_skipgram`` and ``word2vec_cbow``: two ``Embedding`` tables and a dot product.

Both models hold the two tables of word2vec with negative sampling (Mikolov et
al. 2013): ``input_vectors`` (the word vectors one keeps, gensim's ``wv.vectors``)
and ``output_vectors`` (gensim's ``syn1neg``). A model scores ``targets`` -- the
true word first, then ``negative`` noise words -- with the dot product of their
output vectors and an input representation:

* skip-gram: the input vector of one ``word`` (a neighbour of the target word);
* CBOW: the mean (``cbow_mean=1``) or sum of the input vectors of the ``context``
  words around the target (``-1`` marks padding).

The logits train with binary cross-entropy against ``[1, 0, ..., 0]``, so
``model.fit`` works as for any Keras model (the TensorFlow word2vec tutorial's
way, Adam by default). :func:`zoo.word2vec.train` trains the same two tables much
faster with gensim's own SGD updates (see :mod:`zoo.word2vec.engine`).
"""

from __future__ import annotations

import numpy as np

from .. import checks
from ..registry import TrainSpec, register_model

# Keras loads inside the functions below, not here: listing the registry must not start TensorFlow.


def _tables(vocab_size: int, vector_size: int, seed):
    """The two Embedding layers, named as gensim names their arrays' roles."""
    import keras

    from .initializers import GensimUniform

    inputs = keras.layers.Embedding(vocab_size, vector_size, embeddings_initializer=GensimUniform(seed),
                                     name="input_vectors")
    outputs = keras.layers.Embedding(vocab_size, vector_size, embeddings_initializer="zeros", name="output_vectors")
    return inputs, outputs


def _check(vocab_size, vector_size, negative, seed, compile):
    checks.positive_int("vocab_size", vocab_size)
    checks.positive_int("vector_size", vector_size)
    checks.positive_int("negative", negative)
    if seed is not None:
        checks.positive_int("seed", seed, minimum=0)
    if not isinstance(compile, bool):
        raise TypeError(f"compile must be True or False, got {compile!r}")


def _finish(model, *, optimizer, learning_rate, compile: bool):
    import keras

    from .. import optimizers

    if compile:
        model.compile(optimizer=optimizers.make_optimizer(optimizer, learning_rate),
                      loss=keras.losses.BinaryCrossentropy(from_logits=True))
    return model


def _labels(n: int, negative: int) -> np.ndarray:
    y = np.zeros((n, 1 + negative), dtype="float32")
    y[:, 0] = 1.0
    return y


def _skipgram_batch(model, n, rng):
    vocab_size = model.get_layer("input_vectors").input_dim
    negative = model.output_shape[-1] - 1
    word = rng.integers(0, vocab_size, size=n).astype("int32")
    targets = rng.integers(0, vocab_size, size=(n, 1 + negative)).astype("int32")
    return [word, targets], _labels(n, negative)


def _cbow_batch(model, n, rng):
    vocab_size = model.get_layer("input_vectors").input_dim
    negative = model.output_shape[-1] - 1
    width = model.input_shape[0][-1]
    context = rng.integers(0, vocab_size, size=(n, width)).astype("int32")
    context[:, -1] = -1  # padding, as at a document's edge
    targets = rng.integers(0, vocab_size, size=(n, 1 + negative)).astype("int32")
    return [context, targets], _labels(n, negative)


_SOURCE = "notes 000: Word2Vec (CBOW, skip-gram, Woman - Man ~= Aunt - Uncle); Mikolov et al. 2013; gensim 4.4 Word2Vec"
_TRAIN = "python -m zoo.word2vec train --corpus reuters --sg {sg} --out runs/w2v"
_MEASURED = "see `python -m zoo.word2vec compare --corpus reuters --sg {sg}` (docs/word2vec.md)"


@register_model(
    task="word embeddings: skip-gram with negative sampling (a word's vector scores its neighbours and noise words)",
    dataset="reuters",
    train=TrainSpec(command=_TRAIN.format(sg=1), epochs=5),
    source=_SOURCE,
    measured={"cross_check": _MEASURED.format(sg=1)},
    tiny={"vocab_size": 40, "vector_size": 8},
    example_batch=_skipgram_batch,
    params=2_000_000,
    input_shape=[(None,), (None, 6)],
    output_shape=(None, 6),
)
def word2vec_skipgram(*, vocab_size: int = 10000, vector_size: int = 100, negative: int = 5, optimizer="adam",
                      learning_rate: float = 1e-3, seed: int | None = None, compile: bool = True):
    """Skip-gram with negative sampling: ``[word, targets] -> logits`` of shape ``(batch, 1 + negative)``.

    Args:
        vocab_size: rows of each table (``zoo.word2vec.train`` passes its vocabulary's size).
        vector_size: dimensions of a word vector.
        negative: noise words per example (the ``targets`` hold ``1 + negative`` ids).
        optimizer, learning_rate: for ``model.fit`` (``zoo.word2vec.train`` uses gensim's SGD).
        seed: seeds the initial vectors (gensim's initialisation) and Keras.
        compile: compile with binary cross-entropy on the logits.

    Returns:
        A ``keras.Model`` with inputs ``word`` int ``(batch,)`` and ``targets`` int
        ``(batch, 1 + negative)``; its layers ``input_vectors`` and ``output_vectors``
        are the two Embedding tables.

    Raises:
        ValueError, TypeError: an argument outside what is allowed (named in the message).

    Example:
        >>> import zoo
        >>> model = zoo.create_model("word2vec_skipgram", vocab_size=12000, vector_size=100)
        >>> model.count_params()
        2400000
    """
    _check(vocab_size, vector_size, negative, seed, compile)
    import keras

    from .. import platform

    platform.seed_everything(seed)
    word = keras.Input(shape=(), dtype="int32", name="word")
    targets = keras.Input(shape=(1 + negative,), dtype="int32", name="targets")
    inputs, outputs = _tables(vocab_size, vector_size, seed)
    logits = keras.ops.einsum("bd,bkd->bk", inputs(word), outputs(targets))
    model = keras.Model([word, targets], logits, name="word2vec_skipgram")
    return _finish(model, optimizer=optimizer, learning_rate=learning_rate, compile=compile)


@register_model(
    task="word embeddings: CBOW with negative sampling (the mean of the context vectors scores the centre word)",
    dataset="reuters",
    train=TrainSpec(command=_TRAIN.format(sg=0), epochs=5),
    source=_SOURCE,
    measured={"cross_check": _MEASURED.format(sg=0)},
    tiny={"vocab_size": 40, "vector_size": 8, "window": 2},
    example_batch=_cbow_batch,
    params=2_000_000,
    input_shape=[(None, 10), (None, 6)],
    output_shape=(None, 6),
)
def word2vec_cbow(*, vocab_size: int = 10000, vector_size: int = 100, window: int = 5, negative: int = 5,
                  cbow_mean: int = 1, optimizer="adam", learning_rate: float = 1e-3, seed: int | None = None,
                  compile: bool = True):
    """CBOW with negative sampling: ``[context, targets] -> logits`` of shape ``(batch, 1 + negative)``.

    Args:
        vocab_size, vector_size, negative, optimizer, learning_rate, seed, compile:
            as for :func:`word2vec_skipgram`.
        window: context words on each side (the ``context`` input holds ``2 * window`` ids).
        cbow_mean: 1 = mean of the context vectors (gensim's default), 0 = their sum.

    Returns:
        A ``keras.Model`` with inputs ``context`` int ``(batch, 2 * window)`` (``-1`` =
        padding) and ``targets`` int ``(batch, 1 + negative)``.

    Raises:
        ValueError, TypeError: an argument outside what is allowed (named in the message).

    Example:
        >>> import zoo
        >>> zoo.create_model("word2vec_cbow", vocab_size=50, vector_size=8).input_shape
        [(None, 10), (None, 6)]
    """
    _check(vocab_size, vector_size, negative, seed, compile)
    checks.positive_int("window", window)
    if cbow_mean not in (0, 1) or isinstance(cbow_mean, float):
        raise ValueError(f"cbow_mean must be 0 or 1, got {cbow_mean!r}")
    import keras

    from .. import platform

    platform.seed_everything(seed)
    context = keras.Input(shape=(2 * window,), dtype="int32", name="context")
    targets = keras.Input(shape=(1 + negative,), dtype="int32", name="targets")
    inputs, outputs = _tables(vocab_size, vector_size, seed)
    present = keras.ops.cast(keras.ops.greater_equal(context, 0), "float32")            # (batch, 2W)
    vectors = inputs(keras.ops.maximum(context, 0)) * keras.ops.expand_dims(present, -1)  # padding -> 0
    h = keras.ops.sum(vectors, axis=1)
    if cbow_mean:
        h = h / keras.ops.maximum(keras.ops.sum(present, axis=1, keepdims=True), 1.0)
    logits = keras.ops.einsum("bd,bkd->bk", h, outputs(targets))
    model = keras.Model([context, targets], logits, name="word2vec_cbow")
    return _finish(model, optimizer=optimizer, learning_rate=learning_rate, compile=compile)
