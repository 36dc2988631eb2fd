"""Word2Vec (skip-gram and CBOW with negative sampling) on Keras ``Embedding`` tables, checked against gensim.

The notes (000, Word2Vec): a word embedding maps each word to a vector; Mikolov et
al.'s two models, CBOW (the context predicts the word) and skip-gram (the word
predicts its context), train far faster than earlier embeddings, and their vectors
support arithmetic such as ``woman - man ~= aunt - uncle``.

Example:
    >>> from zoo import word2vec
    >>> result = word2vec.train("reuters", sg=1, vector_size=100, window=5, negative=5,
    ...                         sample=1e-3, min_count=5, epochs=5, seed=0)     # doctest: +SKIP
    >>> result.wv.most_similar("oil")                                          # doctest: +SKIP
    >>> result.save_projector("runs/w2v")                                      # doctest: +SKIP

Pieces: :mod:`.settings` (gensim's names and defaults), :mod:`.vocab` (gensim's
vocabulary rules), :mod:`.pipeline` (NumPy data pipeline), :mod:`.engine` (the
training step), :mod:`.models` (the registered Keras models), :mod:`.trainer`
(:func:`train`), :mod:`.compare` (the cross-check against gensim), and
``python -m zoo.word2vec train | compare``.
"""

import importlib

from . import models  # registers word2vec_skipgram and word2vec_cbow (TensorFlow loads when one is built)

# The rest loads on first use (PEP 562), so that importing zoo does not start TensorFlow.
_LAZY = {
    "train": ".trainer", "Word2VecResult": ".trainer", "WORDS_PER_SECOND": ".trainer",
    "GENSIM_DEFAULTS": ".settings", "ENGINE_DEFAULTS": ".settings", "check_settings": ".settings",
    "word2vec_skipgram": ".models", "word2vec_cbow": ".models", "GensimUniform": ".initializers",
}

__all__ = ["train", "Word2VecResult", "GENSIM_DEFAULTS", "ENGINE_DEFAULTS", "check_settings", "WORDS_PER_SECOND",
           "word2vec_skipgram", "word2vec_cbow", "GensimUniform"]


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
