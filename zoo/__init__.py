"""zoo: Keras model factories behind one registry, and the data they train on.

``import zoo`` loads the registry and the factories' signatures only; Keras and
TensorFlow load when a model is built or trained, so that ``python -m zoo list``
and ``info`` answer at once.

Example:
    >>> import zoo
    >>> zoo.list_models()[:2]
    ['dense_classifier', 'reuters_mlp']
    >>> model = zoo.create_model("dense_classifier", hidden_units=(16, 16), dropout=0.2)

A trained run (``python -m zoo train``) comes back with ``zoo.load(run_dir)``,
ready for raw inputs, and leaves Python with ``zoo.export(run_dir, format, out)``.
Every model also comes trained, as a preset (:mod:`zoo.presets`):
``zoo.load("preset:reuters_mlp")``, ``zoo.create_model("reuters_mlp", weights="reuters")``.
"""

import importlib as _importlib
import os as _os

# TensorFlow prints INFO lines once it runs; keep a user's terminal readable
# unless they asked for the logs.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from .registry import list_models, register_model  # noqa: E402
# The presets sit above the registry: create_model(weights=...), model_info(...)["presets"], and
# load/export of a run directory or "preset:NAME" (a run directory goes on to zoo.serving / zoo.exporting).
# zoo.presets reads JSON only; importing it starts no TensorFlow.
from .presets import create_model, export, list_presets, load, load_preset, model_info  # noqa: E402

# Importing a factory module registers its models; none of them imports Keras at the top.
from . import dense, reuters_mlp, small_cnn  # noqa: E402,F401
from .word2vec import models as _word2vec_models  # noqa: E402,F401

__all__ = ["create_model", "list_models", "model_info", "register_model", "datasets", "load", "export", "load_preset",
           "list_presets"]
__version__ = "0.1.0"

# Submodules that load on first use (PEP 562): ``zoo.datasets``, ``zoo.training``... (The export
# module is ``zoo.exporting``: a submodule named ``export`` would replace the function as the
# package's attribute once imported.)
_SUBMODULES = ("datasets", "training", "word2vec", "serving", "exporting")


def __getattr__(name):
    if name in _SUBMODULES:
        return _importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__) | set(_SUBMODULES))
