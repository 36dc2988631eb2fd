"""KerasTuner hypermodels for the zoo classifiers, built from the registry.

A hypermodel declares a search space and builds one model from a point in it.
Here the space follows the study notes' list of hyperparameters (notes 000,
001, 003, 004): number of hidden layers and their units, activation (ReLU, tanh,
leaky ReLU), dropout rate, L2 weight decay and learning rate (both on a log
scale: they act multiplicatively, so 1e-4 -> 1e-3 matters as much as
1e-2 -> 1e-1), optimizer (SGD, Momentum, AdaGrad, RMSprop, Adam), batch size
and weight initialisation (Glorot/Xavier, He).

Which hyperparameters a model gets is read from its factory's keyword
arguments, so a classifier registered later gets a hypermodel for free:
``hidden_units`` -> layers and units, ``filters`` -> convolution stages and
filters, and ``activation``, ``dropout``, ``l2``, ``learning_rate``,
``optimizer``, ``kernel_initializer`` when the factory takes them. Every
hyperparameter's ``default=`` is the factory's own default (read from
``zoo.registry``), so the default point of the space *is* the zoo model. The
model itself always comes from ``zoo.create_model``; nothing is rebuilt here.

Example:
    >>> from tuning import hypermodel
    >>> import keras_tuner
    >>> hm = hypermodel("dense_classifier")
    >>> hm.build(keras_tuner.HyperParameters()).count_params()   # the zoo default
    139
"""

from __future__ import annotations

import math

import keras_tuner

import zoo
from zoo import checks, optimizers, registry
from zoo.small_cnn import feature_side

# --------------------------------------------------------------------------- the search space
# Defaults of every hyperparameter come from the factory; these are the ranges around them.
ACTIVATIONS = ("relu", "tanh", "leaky_relu")                      # the notes' hidden activations
OPTIMIZERS = optimizers.OPTIMIZERS                                   # notes 001/003, in the zoo's names
INITIALIZERS = ("glorot_uniform", "he_normal")                    # Xavier for tanh/sigmoid, He for ReLU (notes 003)
LEARNING_RATE_RANGE = (1e-4, 1e-1)   # log scale; covers Adam's 1e-3 and SGD's usual 1e-2 .. 1e-1
L2_RANGE = (1e-6, 1e-2)              # log scale; above 1e-2 the penalty swamps the data loss on small nets
DROPOUT_MAX, DROPOUT_STEP = 0.5, 0.1  # 0.5 is the notes' Reuters rate; more rarely helps
MAX_LAYERS = 3                       # hidden Dense layers (or conv stages), at least the default depth
WIDTH_FACTORS = (0.25, 0.5, 1, 2)    # units or filters per layer, relative to the default width
BATCH_FACTORS = (0.5, 1, 2, 4)       # batch size, relative to the registry's training batch size

#: Names accepted by ``hypermodel(name, tune=...)``: groups of hyperparameters.
TUNABLES = ("layers", "activation", "dropout", "l2", "learning_rate", "optimizer", "kernel_initializer",
            "batch_size")
# The factory arguments each group sets (``layers`` is handled by the model's shape).
_FACTORY_ARG = {"activation": "activation", "dropout": "dropout", "l2": "l2", "learning_rate": "learning_rate",
                "optimizer": "optimizer", "kernel_initializer": "kernel_initializer"}


def _around(default: int, factors=WIDTH_FACTORS) -> list[int]:
    """Positive integers ``default * factor``, sorted, always holding ``default``."""
    return sorted({max(1, int(round(default * f))) for f in factors} | {int(default)})


def _with_default(choices, default) -> list:
    return list(choices) if default in choices else [default, *choices]


class ZooHyperModel(keras_tuner.HyperModel):
    """The search space of one registered zoo classifier.

    Args:
        name: a registered classifier (its factory takes ``num_classes``).
        tune: names from :data:`TUNABLES` to search; default all that the
            factory supports. The others stay at their zoo default.
        batch_size: fix the batch size instead of searching it.
        **fixed: factory arguments held fixed (``input_dim=64``, ``dropout=0.2``...);
            a fixed argument is not searched.

    Raises:
        ValueError: unknown model, a model that is not a classifier, an unknown
            factory argument or tunable name.

    Example:
        >>> hm = ZooHyperModel("reuters_mlp", input_dim=1000, tune=("learning_rate", "l2"))
        >>> sorted(hm.tuned)
        ['l2', 'learning_rate']
    """

    def __init__(self, name: str, *, tune=None, batch_size: int | None = None, **fixed):
        entry = registry.get_entry(name)  # unknown names raise with close matches
        defaults = {k: v for k, v in entry.defaults.items() if k not in ("seed", "compile")}
        if "num_classes" not in defaults:
            raise ValueError(f"hypermodel: {name!r} is not a classifier (its factory takes no num_classes); "
                             f"hypermodels exist for: {', '.join(classifiers())}")
        unknown = sorted(set(fixed) - set(defaults))
        if unknown:
            raise ValueError(f"{name}: unknown argument(s) {', '.join(unknown)}; allowed: {', '.join(sorted(defaults))}")
        super().__init__(name=name)
        self.model_name = name
        self.fixed = dict(fixed)
        #: How ``python -m zoo train`` would train the default point (batch size, epochs, learning rate).
        self.resolved = registry.resolve(name, overrides=self.fixed, batch_size=batch_size)
        #: The zoo configuration the search starts from: factory defaults, then ``fixed``, with
        #: the learning rate ``python -m zoo train`` gives it at the default batch size.
        self.base = {**defaults, **fixed}
        if "learning_rate" in self.base:
            self.base["learning_rate"] = self.resolved.learning_rate
        self.default_batch_size = self.resolved.batch_size
        self.epochs = self.resolved.epochs

        available = self._available(batch_size_fixed=batch_size is not None)
        if tune is None:
            tune = available
        else:
            tune = (tune,) if isinstance(tune, str) else tuple(tune)
            for t in tune:
                checks.choice("tune", t, TUNABLES)
                if t not in available:
                    raise ValueError(f"tune: {name} cannot search {t!r} (fixed, or not an argument of its factory); "
                                     f"searchable here: {', '.join(available)}")
        self.tuned = tuple(t for t in TUNABLES if t in tune)

    # ------------------------------------------------------------------ the space
    def _available(self, *, batch_size_fixed: bool) -> tuple[str, ...]:
        base, fixed = self.base, self.fixed
        out = []
        for arg in ("hidden_units", "filters"):
            if arg in base and arg not in fixed and len(base[arg]) > 0:
                out.append("layers")
                break
        for group, arg in _FACTORY_ARG.items():
            # A callable activation or an initializer object is the user's choice: not searched.
            if arg in base and arg not in fixed and isinstance(base[arg], (str, int, float)):
                out.append(group)
        if not batch_size_fixed:
            out.append("batch_size")
        return tuple(out)

    def declare(self, hp: keras_tuner.HyperParameters) -> tuple[dict, int]:
        """Declare the search space on ``hp`` and read the current point.

        Returns:
            ``(factory_kwargs, batch_size)``: the arguments for ``zoo.create_model``
            and the batch size, for the values in ``hp`` (defaults where unset).
        """
        base, kwargs = self.base, {}
        if "layers" in self.tuned:
            kwargs.update(self._declare_layers(hp))
        if "activation" in self.tuned:
            kwargs["activation"] = hp.Choice("activation", _with_default(ACTIVATIONS, base["activation"]),
                                             default=base["activation"])
        if "dropout" in self.tuned:
            d = float(base["dropout"])
            kwargs["dropout"] = round(hp.Float("dropout", 0.0, max(DROPOUT_MAX, d), step=DROPOUT_STEP, default=d), 6)
        if "l2" in self.tuned:
            # Weight decay 0 (the zoo default) cannot sit on a log scale, so it is two
            # hyperparameters: whether to use L2, and if so its strength, log-uniform.
            d = float(base["l2"])
            use = hp.Boolean("use_l2", default=d > 0)
            lo, hi = min(L2_RANGE[0], d or L2_RANGE[0]), max(L2_RANGE[1], d)
            with hp.conditional_scope("use_l2", [True]):
                strength = hp.Float("l2", lo, hi, sampling="log", default=d if d > 0 else math.sqrt(lo * hi))
            kwargs["l2"] = float(strength) if use else 0.0
        if "learning_rate" in self.tuned:
            d = float(base["learning_rate"])
            kwargs["learning_rate"] = hp.Float("learning_rate", min(LEARNING_RATE_RANGE[0], d),
                                               max(LEARNING_RATE_RANGE[1], d), sampling="log", default=d)
        if "optimizer" in self.tuned:
            kwargs["optimizer"] = hp.Choice("optimizer", _with_default(OPTIMIZERS, base["optimizer"]),
                                            default=base["optimizer"])
        if "kernel_initializer" in self.tuned:
            d = base["kernel_initializer"]
            kwargs["kernel_initializer"] = hp.Choice("kernel_initializer", _with_default(INITIALIZERS, d), default=d)
        batch_size = self.default_batch_size
        if "batch_size" in self.tuned:
            batch_size = hp.Choice("batch_size", _around(batch_size, BATCH_FACTORS), default=batch_size)
        return {**self.fixed, **kwargs}, int(batch_size)

    def _declare_layers(self, hp) -> dict:
        """Depth (hidden layers or conv stages) and the width of each, conditional on the depth."""
        arg, prefix, depth_name = (("hidden_units", "units", "num_layers") if "hidden_units" in self.base
                                   else ("filters", "filters", "num_stages"))
        widths = tuple(self.base[arg])
        max_depth = max(MAX_LAYERS, len(widths)) if arg == "hidden_units" else self._max_stages(len(widths))
        depth = hp.Int(depth_name, 1, max_depth, default=len(widths))
        chosen = []
        for i in range(max_depth):
            default = widths[min(i, len(widths) - 1)]  # a deeper layer starts as wide as the last default one
            with hp.conditional_scope(depth_name, list(range(i + 1, max_depth + 1))):
                value = hp.Choice(f"{prefix}_{i + 1}", _around(default), default=default, ordered=True)
            if i < depth:
                chosen.append(int(value))
        return {arg: tuple(chosen)}

    def _max_stages(self, default_stages: int) -> int:
        """How many conv + pool stages the input survives (as the factory checks), capped at MAX_LAYERS."""
        b = self.base
        if not all(k in b for k in ("input_shape", "kernel_size", "pool_size")):
            return default_stages  # a CNN whose geometry we cannot read: keep its depth
        stages = 0
        while stages < MAX_LAYERS and feature_side(b["input_shape"], stages + 1, kernel_size=b["kernel_size"],
                                                   pool_size=b["pool_size"], padding=b.get("padding", "same")) >= 1:
            stages += 1
        return max(stages, default_stages)

    def get_config(self) -> dict:
        """What defines this space (stored with a search, to detect a changed search on resume)."""
        return {"model": self.model_name, "fixed": {k: _jsonable(v) for k, v in self.fixed.items()},
                "tuned": list(self.tuned), "batch_size": self.default_batch_size}

    # ------------------------------------------------------------------ KerasTuner's interface
    def settings(self, hp) -> registry.Resolved:
        """How the point ``hp`` is built and trained, from :func:`zoo.registry.resolve`.

        The searched values are overrides like a user's ``--set``; a learning rate
        that is not searched follows the point's batch size as in ``python -m zoo train``.
        """
        kwargs, batch_size = self.declare(hp)
        return registry.resolve(self.model_name, overrides=kwargs, batch_size=batch_size, epochs=self.epochs)

    def build(self, hp):
        """The zoo model at the point ``hp`` (compiled), from ``zoo.create_model``."""
        return zoo.create_model(self.model_name, **self.settings(hp).factory_kwargs)

    def batch_size(self, hp) -> int:
        """The batch size at the point ``hp``."""
        return self.declare(hp.copy())[1]

    def fit(self, hp, model, *args, **kwargs):
        """``model.fit`` with the searched batch size (unless the caller gives one or passes a dataset)."""
        x = args[0] if args else kwargs.get("x")
        if "batch_size" not in kwargs and not _is_dataset(x):
            kwargs["batch_size"] = self.batch_size(hp)
        return model.fit(*args, **kwargs)


def _is_dataset(x) -> bool:
    import tensorflow as tf

    return isinstance(x, tf.data.Dataset)


def _jsonable(value):
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return repr(value)


def classifiers() -> list[str]:
    """Registered models that have a hypermodel (their factory takes ``num_classes``)."""
    return [n for n in zoo.list_models() if "num_classes" in registry.get_entry(n).defaults]


def hypermodel(name: str, **kwargs) -> ZooHyperModel:
    """The KerasTuner hypermodel of the registered classifier ``name``.

    Args:
        name: one of :func:`classifiers`.
        **kwargs: ``tune=``, ``batch_size=`` and fixed factory arguments; see
            :class:`ZooHyperModel`.

    Returns:
        A :class:`ZooHyperModel`.

    Raises:
        ValueError: unknown or non-classifier model, unknown argument.

    Example:
        >>> from tuning import hypermodel
        >>> hm = hypermodel("small_cnn")
        >>> hm.tuned[:3]
        ('layers', 'activation', 'dropout')
    """
    return ZooHyperModel(name, **kwargs)

