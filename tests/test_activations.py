"""Recipe 4's tools on cases with a known answer (the recipe's own checks run in test_recipes)."""

import numpy as np
import pytest

from recipes import activations as act


@pytest.mark.parametrize("name", list(act.BY_HAND))
def test_derivatives_by_hand_match_central_differences(name):
    f, df = act.BY_HAND[name]
    x = act.GRID[np.abs(act.GRID) > 1e-3]  # away from the kink at 0
    h = 1e-6
    assert np.allclose((f(x + h) - f(x - h)) / (2 * h), df(x), atol=1e-6)


def test_softmax_jacobian_matches_central_differences():
    a = np.array([0.5, -1.0, 2.0, 0.0])
    h = 1e-6
    numeric = np.stack([(act.softmax(a + h * e) - act.softmax(a - h * e)) / (2 * h) for e in np.eye(4)], axis=1)
    assert np.allclose(act.softmax_jacobian(a), numeric, atol=1e-8)


def test_best_straight_line_accuracy_knows_separable_and_xor_points():
    separable = np.array([[-2.0, 0.1], [-1.0, -0.3], [1.0, 0.2], [2.0, -0.1]])
    assert act.best_straight_line_accuracy(separable, np.array([0, 0, 1, 1])) == 1.0
    xor = np.array([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]])
    assert act.best_straight_line_accuracy(xor, np.array([0, 0, 1, 1])) == 0.75  # 3 of 4 at best


def test_a_linear_zoo_stack_collapses_to_one_layer():
    import zoo

    model = zoo.create_model("dense_classifier", input_dim=3, num_classes=4, hidden_units=(5, 7),
                             activation="linear", seed=1, compile=False)
    W, b = act.collapse_linear_stack(model)
    x = np.random.default_rng(0).normal(size=(6, 3)).astype("float32")
    assert W.shape == (3, 4) and b.shape == (4,)
    assert np.allclose(np.asarray(model(x)), act.softmax(x.astype(np.float64) @ W + b), atol=1e-6)


def test_restart_adam_zeroes_its_state_and_sets_the_rate():
    import keras

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.Adam(0.1), loss="mse")
    model.fit(np.ones((4, 3)), np.ones((4, 2)), verbose=0)
    act.restart_adam(model.optimizer, 1e-3)
    assert np.isclose(float(model.optimizer.learning_rate), 1e-3)
    assert all(not np.any(np.asarray(v)) for v in model.optimizer.variables if v is not model.optimizer.learning_rate)
