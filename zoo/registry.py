"""The model registry: one name per model, one factory per name.

Factories register themselves with :func:`register_model`; users reach them
through :func:`create_model`, :func:`list_models` and :func:`model_info`, as in
timm's ``create_model`` / ``register_model``.
"""

from __future__ import annotations

import difflib
import inspect
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np


@dataclass(frozen=True)
class ModelEntry:
    """What the registry knows about one model.

    Attributes:
        name: registry name (what the model is for, e.g. ``"reuters_mlp"``).
        factory: function with keyword-only arguments returning a ``keras.Model``.
        task: short task description.
        dataset: default dataset name for ``python -m zoo train``.
        train: default training settings (``epochs``, ``batch_size``, ...).
        source: the textbook or paper section the model reproduces.
        measured: accuracy we measured on real data (metric -> value, with the command).
        tiny: overrides that make a very small instance, used by the registry-wide test.
        example_batch: ``fn(model, n, rng) -> (x, y)`` giving a batch the model can fit;
            ``None`` means float features from ``model.input_shape`` and integer labels
            from the last axis of ``model.output_shape``.
        params, input_shape, output_shape: the default model's parameter count and
            Keras shapes, stated at registration so that ``list`` and ``info`` answer
            without building the model (and importing TensorFlow); a test builds every
            entry's default model and checks them. ``None``: :func:`model_info` builds it.
    """

    name: str
    factory: Callable[..., Any]
    task: str
    dataset: str | None
    train: dict
    source: str
    measured: dict = field(default_factory=dict)
    tiny: dict = field(default_factory=dict)
    example_batch: Callable | None = None
    params: int | None = None
    input_shape: Any = None
    output_shape: Any = None

    @property
    def defaults(self) -> dict:
        """The factory's keyword defaults (the textbook configuration)."""
        sig = inspect.signature(self.factory)
        return {k: p.default for k, p in sig.parameters.items() if p.default is not inspect.Parameter.empty}


_REGISTRY: dict[str, ModelEntry] = {}


def register_model(
    name: str | None = None,
    *,
    task: str,
    dataset: str | None,
    train: dict | None = None,
    source: str = "",
    measured: dict | None = None,
    tiny: dict | None = None,
    example_batch: Callable | None = None,
    params: int | None = None,
    input_shape=None,
    output_shape=None,
):
    """Decorator that adds a factory to the registry under ``name`` (default: its function name).

    A factory module imports Keras inside its factory, not at the top, so that
    registering (and listing) models does not start TensorFlow.

    Example:
        >>> @register_model(task="toy", dataset="iris")       # doctest: +SKIP
        ... def my_model(*, units=4, compile=True): ...
    """

    def decorate(factory):
        key = name or factory.__name__
        if key in _REGISTRY and _REGISTRY[key].factory is not factory:
            raise ValueError(f"model name {key!r} is already registered by {_REGISTRY[key].factory.__module__}")
        _REGISTRY[key] = ModelEntry(
            name=key,
            factory=factory,
            task=task,
            dataset=dataset,
            train=dict(train or {}),
            source=source,
            measured=dict(measured or {}),
            tiny=dict(tiny or {}),
            example_batch=example_batch,
            params=params,
            input_shape=_shape(input_shape) if input_shape is not None else None,
            output_shape=_shape(output_shape) if output_shape is not None else None,
        )
        return factory

    return decorate


def list_models() -> list[str]:
    """Names of every registered model, sorted.

    Example:
        >>> import zoo
        >>> "reuters_mlp" in zoo.list_models()
        True
    """
    return sorted(_REGISTRY)


def get_entry(name: str) -> ModelEntry:
    """The registry entry for ``name``.

    Raises:
        ValueError: for an unknown name; the message lists the close matches.
    """
    if not isinstance(name, str):
        raise TypeError(f"model name must be a string, got {name!r}")
    try:
        return _REGISTRY[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(_REGISTRY), n=3, cutoff=0.5)
        hint = f"did you mean {' or '.join(map(repr, close))}? " if close else ""
        raise ValueError(f"unknown model {name!r}; {hint}known models: {', '.join(list_models())}") from None


def create_model(name: str, **overrides):
    """Build the registered model ``name``; keyword overrides go to its factory.

    Args:
        name: a name from :func:`list_models`.
        **overrides: factory arguments, e.g. ``dropout=0.3`` or ``compile=False``.

    Returns:
        A ``keras.Model``, compiled unless ``compile=False``.

    Raises:
        ValueError: unknown name (with close matches) or an invalid or unknown argument.

    Example:
        >>> import zoo
        >>> zoo.create_model("dense_classifier").count_params()
        139
    """
    entry = get_entry(name)
    check_arguments(name, overrides)
    return entry.factory(**overrides)


def check_arguments(name: str, overrides: dict) -> None:
    """Raise if ``overrides`` names an argument that the factory of ``name`` does not take.

    Reads only the factory's signature, so a command line can check ``--set``
    names before TensorFlow starts; the values are the factory's to check.

    Raises:
        ValueError: unknown model, or unknown argument(s) (the message lists the allowed ones).
    """
    params = inspect.signature(get_entry(name).factory).parameters
    unknown = sorted(set(overrides) - set(params))
    if unknown:
        raise ValueError(
            f"{name}: unknown argument(s) {', '.join(unknown)}; allowed: {', '.join(sorted(params))}"
        )


def model_info(name: str) -> dict:
    """Everything the registry knows about ``name``, with the default model's parameter count.

    The count and shapes are those given to :func:`register_model`; an entry
    registered without them is built (``compile=False``) to measure them.

    Returns:
        dict with ``name``, ``task``, ``input_shape``, ``output_shape``, ``dataset``,
        ``train`` (default training settings), ``params`` (count), ``source``,
        ``measured`` (accuracy measured on real data) and ``defaults`` (factory arguments).

    Example:
        >>> import zoo
        >>> zoo.model_info("reuters_mlp")["params"]
        2599086
    """
    entry = get_entry(name)
    params, input_shape, output_shape = entry.params, entry.input_shape, entry.output_shape
    if params is None or input_shape is None or output_shape is None:
        params, input_shape, output_shape = built_metadata(name)
    info = {
        "name": entry.name,
        "task": entry.task,
        "input_shape": input_shape,
        "output_shape": output_shape,
        "dataset": entry.dataset,
        "train": dict(entry.train),
        "params": params,
        "source": entry.source,
        "measured": dict(entry.measured),
        "defaults": {k: v for k, v in entry.defaults.items() if k != "compile"},
    }
    return info


def built_metadata(name: str) -> tuple:
    """``(params, input_shape, output_shape)`` of the default model ``name``, built to measure them."""
    model = get_entry(name).factory(compile=False)
    return int(model.count_params()), _shape(model.input_shape), _shape(model.output_shape)


def example_batch(name: str, model, n: int = 8, seed: int = 0):
    """A random batch ``(x, y)`` that ``model`` (built from entry ``name``) can fit."""
    entry = get_entry(name)
    rng = np.random.default_rng(seed)
    if entry.example_batch is not None:
        return entry.example_batch(model, n, rng)
    x = rng.normal(size=(n, *model.input_shape[1:])).astype("float32")
    y = rng.integers(0, model.output_shape[-1], size=n)
    return x, y


def _shape(shape):
    if isinstance(shape, list):
        return [_shape(s) for s in shape]
    return tuple(None if d is None else int(d) for d in shape)
