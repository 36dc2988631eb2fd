"""``GensimUniform``: gensim's initial word vectors as a Keras initializer.

Apart from :mod:`.models` because it subclasses a Keras class, so importing it
starts TensorFlow; the factories import it when they build.
"""

from __future__ import annotations

import keras
import numpy as np


@keras.saving.register_keras_serializable(package="zoo")
class GensimUniform(keras.initializers.Initializer):
    """gensim's initial word vectors: uniform in ``[-1/dim, 1/dim)`` from ``numpy.random.default_rng(seed)``.

    With the same seed and vocabulary order this gives exactly gensim's starting
    ``wv.vectors`` (``gensim.models.keyedvectors.prep_vectors``).
    """

    def __init__(self, seed=None):
        self.seed = seed

    def __call__(self, shape, dtype=None):
        values = np.random.default_rng(self.seed).random(tuple(shape), dtype=np.float32)
        values = (values * 2.0 - 1.0) / shape[-1]
        return keras.ops.convert_to_tensor(values, dtype=dtype or "float32")

    def get_config(self):
        return {"seed": self.seed}
