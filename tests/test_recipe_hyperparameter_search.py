"""The hyperparameter-search recipe's pieces: the vectorised trainer, the grid and the narrowing."""

import numpy as np
import pytest

from recipes import hyperparameter_search as hs


def _digits(n=200):
    import zoo

    (x, y), _ = zoo.datasets.load("digits")
    return x.reshape(len(x), -1)[:n], y[:n]


def test_train_many_equals_keras_fit_of_the_zoo_model():
    import zoo

    x, y = _digits(100)
    model = zoo.create_model("dense_classifier", input_dim=64, num_classes=10, hidden_units=(hs.HIDDEN,),
                             optimizer="sgd", learning_rate=0.2, l2=1e-3, seed=1)
    start = model.get_weights()
    model.fit(x, y, epochs=1, batch_size=hs.BATCH_SIZE, shuffle=False, verbose=0)
    ours = hs.train_many(x, y, [0.2], [1e-3], epochs=1, init=start, shuffle=False)
    for keras_w, our_w in zip(model.get_weights(), ours):
        np.testing.assert_allclose(our_w[0], keras_w, atol=1e-5)


def test_trials_are_independent_and_repeatable():
    x, y = _digits()
    both = hs.train_many(x, y, [0.5, 1e-3], [1e-8, 1e-4], epochs=2, seed=3)
    alone = hs.train_many(x, y, [1e-3], [1e-4], epochs=2, seed=3)
    again = hs.train_many(x, y, [0.5, 1e-3], [1e-8, 1e-4], epochs=2, seed=3)
    np.testing.assert_allclose(both[0][1], alone[0][0], rtol=1e-6)
    np.testing.assert_array_equal(both[0], again[0])
    acc = hs.accuracy_many(both, x, y)
    assert acc[0] > acc[1]  # a learning rate of 0.5 learns in 2 epochs, 1e-3 barely moves


def test_a_diverging_learning_rate_scores_as_wrong_not_an_error():
    x, y = _digits()
    acc = hs.accuracy_many(hs.train_many(x, y, [1e3], [0.0], epochs=1), x, y)
    assert 0.0 <= acc[0] <= 0.2


def test_bad_hyperparameter_lists_name_the_arguments():
    x, y = _digits(50)
    with pytest.raises(ValueError, match="learning_rates and weight_decays"):
        hs.train_many(x, y, [0.1, 0.2], [0.0], epochs=1)


@pytest.mark.parametrize("offset", [(-0.5, -0.5), (0.0, 0.0), (0.49, 0.2)])
def test_grid_has_n_distinct_values_of_each_inside_the_ranges(offset):
    log_lr, log_wd = hs.grid_points(4, offset)
    assert len(log_lr) == 16 and len(np.unique(log_lr)) == 4 and len(np.unique(log_wd)) == 4
    assert hs.LOG_LR[0] <= log_lr.min() and log_lr.max() < hs.LOG_LR[1]
    assert hs.LOG_WD[0] <= log_wd.min() and log_wd.max() < hs.LOG_WD[1]
    steps = np.diff(np.unique(log_lr))
    np.testing.assert_allclose(steps, (hs.LOG_LR[1] - hs.LOG_LR[0]) / 4)


def test_narrowed_range_spans_the_best_trials():
    values = np.array([-3.0, -1.0, 0.0, -0.5, -2.0])
    scores = np.array([0.1, 0.8, 0.3, 0.9, 0.5])
    assert hs.narrowed_range(values, scores, keep=2) == (-1.0, -0.5)
