"""The cross-validation recipe's experiment: hold-out against k-fold estimates over partitions."""

import numpy as np

from recipes import cross_validation as cv


def test_holdout_against_kfold_returns_estimates_per_partition_and_the_truth():
    import zoo

    (x, y), _ = zoo.datasets.load("digits")
    x = x.reshape(len(x), -1)
    held, folded, truth = cv.holdout_against_kfold(x[:100], y[:100], x[100:400], y[100:400], repeats=2)
    assert held.shape == folded.shape == (2, len(cv.SMALL_RATES)) and truth.shape == (len(cv.SMALL_RATES),)
    assert np.all((held >= 0) & (held <= 1)) and np.all((folded >= 0) & (folded <= 1))
    # 20 validation images per hold-out split: its estimates are multiples of 1/20.
    np.testing.assert_allclose(held * 20, np.round(held * 20), atol=1e-9)
    again = cv.holdout_against_kfold(x[:100], y[:100], x[100:400], y[100:400], repeats=2)
    np.testing.assert_array_equal(again[0], held)
