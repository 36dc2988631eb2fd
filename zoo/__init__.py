"""zoo: Keras model factories behind one registry, and the data they train on.

Example:
    >>> import zoo
    >>> zoo.list_models()[:2]
    ['dense_classifier', 'reuters_mlp']
    >>> model = zoo.create_model("dense_classifier", hidden_units=(16, 16), dropout=0.2)
"""

import os as _os

# TensorFlow prints several INFO lines on import; keep a user's terminal readable
# unless they asked for the logs.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from . import datasets  # noqa: E402
from .registry import create_model, list_models, model_info, register_model  # noqa: E402

# Importing a factory module registers its models.
from . import dense, reuters_mlp, small_cnn, word2vec  # noqa: E402,F401

__all__ = ["create_model", "list_models", "model_info", "register_model", "datasets"]
__version__ = "0.1.0"
