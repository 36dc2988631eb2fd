"""The overfitting recipes' data helpers: wrong labels and shifted images are what they claim."""

import numpy as np
import pytest

from recipes.overfitting import corrupt_labels, shift_images, small_split


def test_corrupt_labels_changes_exactly_the_fraction_and_every_change_is_wrong():
    y = np.repeat(np.arange(10), 30)
    noisy = corrupt_labels(y, 0.25, seed=3)
    changed = noisy != y
    assert changed.sum() == 75                      # 25 % of 300, each one really wrong
    assert noisy.min() >= 0 and noisy.max() <= 9
    assert np.array_equal(noisy, corrupt_labels(y, 0.25, seed=3))   # a seed repeats
    assert np.array_equal(corrupt_labels(y, 0.0, seed=3), y)


@pytest.mark.parametrize("fraction", [-0.1, 1.5])
def test_corrupt_labels_rejects_a_fraction_outside_0_1(fraction):
    with pytest.raises(ValueError, match="fraction must be in"):
        corrupt_labels(np.zeros(4, int), fraction, seed=0)


def test_shift_images_moves_pixels_and_fills_zeros():
    img = np.arange(1, 10, dtype=float).reshape(1, 3, 3)
    right = shift_images(img, 0, 1)[0]
    assert np.array_equal(right, [[0, 1, 2], [0, 4, 5], [0, 7, 8]])
    up = shift_images(img, -1, 0)[0]
    assert np.array_equal(up, [[4, 5, 6], [7, 8, 9], [0, 0, 0]])


def test_small_split_is_stratified_and_keeps_validation_apart():
    x = np.arange(1000, dtype=float).reshape(-1, 1)
    y = np.arange(1000) % 10
    (xs, ys), (xv, yv) = small_split(x, y, 100, seed=0, noise=0.0, n_val=50)
    assert len(xs) == 100 and np.bincount(ys).tolist() == [10] * 10
    assert len(xv) == 50 and not set(xs.ravel()) & set(xv.ravel())
