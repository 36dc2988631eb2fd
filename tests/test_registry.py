"""The registry, and one test over every registered model (as timm's test_models.py)."""

import numpy as np
import pytest

import zoo
from zoo import registry


@pytest.mark.parametrize("name", zoo.list_models())
def test_every_model_builds_small_and_fits_one_batch(name):
    entry = registry.get_entry(name)
    model = zoo.create_model(name, seed=0, **entry.tiny)
    x, y = registry.example_batch(name, model, n=8)
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights())), "one step changed no weight"


@pytest.mark.parametrize("name", zoo.list_models())
def test_model_info_is_complete(name):
    info = zoo.model_info(name)
    for key in ("task", "input_shape", "output_shape", "dataset", "train", "params", "source", "measured", "defaults"):
        assert key in info, key
    assert info["params"] > 0
    assert info["source"]


@pytest.mark.parametrize("name", zoo.list_models())
def test_compile_false_returns_uncompiled(name):
    model = zoo.create_model(name, compile=False, **registry.get_entry(name).tiny)
    assert not getattr(model, "compiled", False)


def test_unknown_name_lists_close_matches():
    with pytest.raises(ValueError, match=r"unknown model 'reuter_mlp'; did you mean 'reuters_mlp'"):
        zoo.create_model("reuter_mlp")


def test_unknown_argument_is_named():
    with pytest.raises(ValueError, match=r"dense_classifier: unknown argument\(s\) dropot"):
        zoo.create_model("dense_classifier", dropot=0.3)


def test_register_model_rejects_a_second_factory_under_the_same_name():
    with pytest.raises(ValueError, match="already registered"):

        @zoo.register_model("dense_classifier", task="x", dataset=None)
        def other(*, compile=True):  # pragma: no cover - never called
            return None


@pytest.mark.parametrize("name", zoo.list_models())
def test_same_seed_twice_is_bit_identical(name):
    """Every registered model: same seed -> the same weights and losses, to the bit, on CPU."""
    entry = registry.get_entry(name)

    def run(seed):
        model = zoo.create_model(name, seed=seed, **entry.tiny)
        x, y = registry.example_batch(name, model, n=16, seed=0)
        losses = model.fit(x, y, epochs=3, batch_size=8, verbose=0).history["loss"]
        return losses, model.get_weights()

    (loss_a, w_a), (loss_b, w_b), (_, w_c) = run(7), run(7), run(8)
    assert loss_a == loss_b
    assert all(np.array_equal(a, b) for a, b in zip(w_a, w_b))
    assert not all(np.array_equal(a, c) for a, c in zip(w_a, w_c))
