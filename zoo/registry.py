"""The model registry: one name per model, one factory per name.

Factories register themselves with :func:`register_model`; users reach them
through :func:`create_model`, :func:`list_models` and :func:`model_info`, as in
timm's ``create_model`` / ``register_model``.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from . import checks

#: Evaluation has no gradients to average: batches this large (or the training batch,
#: if larger) are just fewer steps, and do not change the metrics.
EVAL_BATCH_SIZE = 256


@dataclass(frozen=True)
class TrainSpec:
    """How a registered model trains by default: the one place these settings live.

    Every path that trains a zoo model (``python -m zoo train``,
    :func:`zoo.training.train`, ``tuning.cross_validate``, the tuning hypermodels
    and ``python -m tuning``) reads them through :func:`resolve`.

    Attributes:
        epochs: training epochs.
        batch_size: training batch size.
        reference_batch_size: the batch size the factory's default learning rate
            belongs to; trained with other batches, the rate follows the square-root
            rule (see :func:`resolve`). None: the rate does not depend on the batch.
        intra_op_threads: TensorFlow intra-op threads for a process that trains this
            model alone (see :func:`zoo.platform.configure_threads`); None: TensorFlow's default.
        command: for a model trained by another command (Word2Vec on a corpus), that
            command; :func:`resolve` refuses such a model.
    """

    epochs: int = 10
    batch_size: int = 32
    reference_batch_size: int | None = None
    intra_op_threads: int | None = None
    command: str | None = None

    def __post_init__(self):
        checks.positive_int("epochs", self.epochs)
        checks.positive_int("batch_size", self.batch_size)
        for name in ("reference_batch_size", "intra_op_threads"):
            if getattr(self, name) is not None:
                checks.positive_int(name, getattr(self, name))

    def as_dict(self) -> dict:
        """The settings that are set (None ones left out), for ``model_info`` and JSON."""
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}


@dataclass(frozen=True)
class ModelEntry:
    """What the registry knows about one model.

    Attributes:
        name: registry name (what the model is for, e.g. ``"reuters_mlp"``).
        factory: function with keyword-only arguments returning a ``keras.Model``.
        task: short task description.
        dataset: default dataset name for ``python -m zoo train``.
        train: default training settings (:class:`TrainSpec`).
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
    train: TrainSpec
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
    train: TrainSpec | None = None,
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

    Example (not run by the doctests: it would register a toy model in the shared registry):
        >>> @register_model(task="toy", dataset="iris")       # doctest: +SKIP
        ... def my_model(*, units=4, compile=True): ...
    """

    def decorate(factory):
        key = name or factory.__name__
        if train is not None and not isinstance(train, TrainSpec):
            raise TypeError(f"{key}: train must be a zoo.registry.TrainSpec, got {type(train).__name__}")
        if key in _REGISTRY and _REGISTRY[key].factory is not factory:
            raise ValueError(f"model name {key!r} is already registered by {_REGISTRY[key].factory.__module__}")
        _REGISTRY[key] = ModelEntry(
            name=key,
            factory=factory,
            task=task,
            dataset=dataset,
            train=train if train is not None else TrainSpec(),
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
        hint = checks.did_you_mean(name, _REGISTRY)
        raise ValueError(f"unknown model {name!r}; {hint}known models: {', '.join(list_models())}") from None


def create_model(name: str, **overrides):
    """Build the registered model ``name`` with fresh weights; keyword overrides go to its factory.

    ``zoo.create_model`` is this plus ``weights=`` (a trained preset,
    :func:`zoo.presets.create_model`): the registry sits below the presets.

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
        ``measured`` (accuracy measured on real data) and ``defaults`` (factory arguments);
        ``zoo.model_info`` adds ``presets`` (:func:`zoo.presets.model_info`).

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
        "train": entry.train.as_dict(),
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


def fit_to_data(name: str, feature_shape=None, num_classes: int | None = None, overrides: dict | None = None) -> dict:
    """``overrides`` plus the factory arguments that fit model ``name`` to the data.

    ``input_dim`` (flat features), ``input_shape`` (images) and ``num_classes``
    are taken from the data unless ``overrides`` sets them or the factory has no
    such argument; a shape or class count of None is left to the factory's default.

    Example:
        >>> from zoo import registry
        >>> registry.fit_to_data("dense_classifier", (64,), 10)
        {'num_classes': 10, 'input_dim': 64}
    """
    defaults = get_entry(name).defaults
    given = dict(overrides or {})
    fitted = {}
    if num_classes is not None and "num_classes" in defaults and "num_classes" not in given:
        fitted["num_classes"] = int(num_classes)
    if feature_shape is not None:
        shape = tuple(int(d) for d in feature_shape)
        if "input_dim" in defaults and "input_dim" not in given and len(shape) == 1:
            fitted["input_dim"] = shape[0]
        if "input_shape" in defaults and "input_shape" not in given and len(shape) == 3:
            fitted["input_shape"] = shape
    return {**fitted, **given}


@dataclass(frozen=True)
class Resolved:
    """What :func:`resolve` decided: the factory's arguments and the fit settings.

    Attributes:
        name: the registered model.
        factory_kwargs: arguments for ``create_model(name, seed=..., **factory_kwargs)``.
        epochs, batch_size: of ``fit``.
        eval_batch_size: of ``evaluate`` (:func:`eval_batch_size`).
        learning_rate: the rate the model's optimizer gets (None for a factory without one).
        intra_op_threads: TensorFlow intra-op threads for a process training this model alone.
    """

    name: str
    factory_kwargs: dict
    epochs: int
    batch_size: int
    eval_batch_size: int
    learning_rate: float | None
    intra_op_threads: int | None


def eval_batch_size(batch_size: int) -> int:
    """The evaluation batch for a model trained with ``batch_size`` (at least :data:`EVAL_BATCH_SIZE`)."""
    return max(int(batch_size), EVAL_BATCH_SIZE)


def resolve(name: str, *, feature_shape=None, num_classes: int | None = None, overrides: dict | None = None,
            batch_size: int | None = None, epochs: int | None = None) -> Resolved:
    """Turn (model, data shapes, user overrides, batch size) into factory arguments and fit settings.

    The one place that decides how a zoo model is trained: ``python -m zoo
    train``, :func:`zoo.training.train`, ``tuning.cross_validate``, the tuning
    hypermodels (whose default point is this) and ``python -m tuning`` all call it.

    * ``epochs`` and ``batch_size`` default to the entry's :class:`TrainSpec`.
    * The factory is fitted to the data (:func:`fit_to_data`) unless ``overrides`` sets the shape.
    * Learning rate: where the entry names a ``reference_batch_size`` and
      ``overrides`` sets neither ``learning_rate`` nor an optimizer other than the
      factory's default, the rate follows the square-root rule for Adam (Malladi
      et al., 2022): ``lr * sqrt(batch_size / reference)``. So the reference batch
      is exactly the textbook's setting, and a larger batch takes larger steps to
      make up for taking fewer of them.

    Args:
        name: a registered model trained by ``python -m zoo train`` (no ``TrainSpec.command``).
        feature_shape: shape of one example (without the batch axis), or None.
        num_classes: number of classes in the data, or None.
        overrides: factory arguments the user set.
        batch_size, epochs: the user's, or None for the registered ones.

    Returns:
        :class:`Resolved`.

    Raises:
        ValueError, TypeError: unknown model, a model trained by another command,
            a bad batch size or epoch count.

    Example:
        >>> from zoo import registry
        >>> r = registry.resolve("reuters_mlp")
        >>> r.batch_size, round(r.learning_rate, 6)
        (512, 0.002)
    """
    entry = get_entry(name)
    spec = entry.train
    if spec.command is not None:
        raise ValueError(f"{name} is not trained by `python -m zoo train`; use `{spec.command}`")
    overrides = dict(overrides or {})
    epochs = checks.positive_int("epochs", spec.epochs if epochs is None else epochs)
    batch_size = checks.positive_int("batch_size", spec.batch_size if batch_size is None else batch_size)
    kwargs = fit_to_data(name, feature_shape, num_classes, overrides)
    defaults = entry.defaults
    learning_rate = kwargs.get("learning_rate", defaults.get("learning_rate"))
    default_optimizer = "optimizer" not in kwargs or kwargs["optimizer"] == defaults.get("optimizer")
    reference = spec.reference_batch_size
    if (reference is not None and batch_size != reference and "learning_rate" not in kwargs and default_optimizer
            and learning_rate is not None):
        learning_rate = learning_rate * math.sqrt(batch_size / reference)
        kwargs["learning_rate"] = learning_rate
    return Resolved(name=name, factory_kwargs=kwargs, epochs=epochs, batch_size=batch_size,
                    eval_batch_size=eval_batch_size(batch_size),
                    learning_rate=None if learning_rate is None else float(learning_rate),
                    intra_op_threads=spec.intra_op_threads)
