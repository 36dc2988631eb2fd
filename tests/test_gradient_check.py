"""Recipe 3's tools on cases with a known answer (the recipe's own checks run in test_recipes)."""

import numpy as np

from recipes import gradient_check as gc


def test_central_difference_matches_a_closed_form_gradient():
    # f(w) = sum(w^3) + w0 * w1  ->  df/dw = 3 w^2 + (w1, w0, 0, ...)
    w = np.array([0.3, -1.2, 2.0, 0.7])
    params = {"w": w}
    numeric = gc.numerical_gradient(lambda: float(np.sum(w**3) + w[0] * w[1]), params)
    exact = 3 * w**2 + np.array([w[1], w[0], 0.0, 0.0])
    assert gc.relative_error({"w": exact}, numeric) < 1e-9
    assert np.array_equal(w, [0.3, -1.2, 2.0, 0.7])  # every entry was put back


def test_backprop_agrees_and_a_planted_bug_does_not():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(5, 4)), rng.integers(0, 3, 5)
    params = gc.init_mlp(4, 6, 3, seed=3)
    numeric = gc.numerical_gradient(lambda: gc.mlp_loss(params, x, y), params)
    assert gc.relative_error(gc.mlp_backprop(params, x, y), numeric) < gc.TOLERANCE
    assert gc.relative_error(gc.mlp_backprop(params, x, y, bug="sigmoid"), numeric) > 1e-2


def test_keras_floatx_builds_float64_layers_and_restores_the_defaults_even_after_an_error():
    import keras

    keras.layers.Dense(1).build((None, 2))  # Keras has fixed its dtype policy by now (float32)
    before = (keras.config.floatx(), keras.config.dtype_policy().name)
    try:
        with gc.keras_floatx("float64"):
            layer = keras.layers.Dense(1)
            layer.build((None, 2))
            assert layer.kernel.dtype == "float64"
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert (keras.config.floatx(), keras.config.dtype_policy().name) == before
    layer = keras.layers.Dense(1)
    layer.build((None, 2))
    assert layer.kernel.dtype == "float32"
