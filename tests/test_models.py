"""Factory shapes, parameter counts and argument validation."""

import numpy as np
import pytest

import zoo
from zoo.small_cnn import MNIST_CONFIG


def test_dense_classifier_is_the_notes_139_parameter_model():
    model = zoo.create_model("dense_classifier")
    assert model.count_params() == 139
    assert [layer.count_params() for layer in model.layers[1:]] == [40, 72, 27]
    assert model.input_shape == (None, 4) and model.output_shape == (None, 3)
    assert [layer.units for layer in model.layers[1:]] == [8, 8, 3]


def test_dense_classifier_options_change_the_model():
    model = zoo.create_model("dense_classifier", hidden_units=(16, 16), dropout=0.2)
    kinds = [type(layer).__name__ for layer in model.layers[1:]]
    assert kinds == ["Dense", "Dropout", "Dense", "Dropout", "Dense"]
    assert model.count_params() == 4 * 16 + 16 + 16 * 16 + 16 + 16 * 3 + 3
    bn = zoo.create_model("dense_classifier", batch_norm=True)
    assert "BatchNormalization" in [type(layer).__name__ for layer in bn.layers]


def test_reuters_mlp_is_the_notes_dropout_model():
    model = zoo.create_model("reuters_mlp", compile=False)
    assert model.count_params() == 2_599_086
    assert model.input_shape == (None, 10000) and model.output_shape == (None, 46)
    dropouts = [layer.rate for layer in model.layers if type(layer).__name__ == "Dropout"]
    assert dropouts == [0.5, 0.5]


def test_small_cnn_defaults_fit_digits_and_mnist_config_matches_keras_io():
    digits = zoo.create_model("small_cnn")
    assert digits.input_shape == (None, 8, 8, 1) and digits.output_shape == (None, 10)
    assert zoo.create_model("small_cnn", compile=False, **MNIST_CONFIG).count_params() == 34_826


def test_seed_makes_the_same_weights():
    a = zoo.create_model("dense_classifier", seed=3).get_weights()
    b = zoo.create_model("dense_classifier", seed=3).get_weights()
    c = zoo.create_model("dense_classifier", seed=4).get_weights()
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c))


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adagrad", "rmsprop", "adam"])
def test_every_optimizer_name_compiles(optimizer):
    model = zoo.create_model("dense_classifier", optimizer=optimizer, learning_rate=0.01)
    assert model.optimizer is not None


BAD_ARGUMENTS = [
    ("dense_classifier", {"dropout": 1.0}, ValueError, r"dropout must be .*\[0\.0, 1\.0\), got 1\.0"),
    ("dense_classifier", {"dropout": -0.1}, ValueError, r"dropout must be"),
    ("dense_classifier", {"hidden_units": (8, 0)}, ValueError, r"hidden_units must be a sequence of positive integers"),
    ("dense_classifier", {"num_classes": 1}, ValueError, r"num_classes must be an integer >= 2, got 1"),
    ("dense_classifier", {"input_dim": 0}, ValueError, r"input_dim must be an integer >= 1, got 0"),
    ("dense_classifier", {"activation": "relux"}, ValueError, r"activation must be one of .*'relu'.*got 'relux'"),
    ("dense_classifier", {"optimizer": "adamm"}, ValueError, r"optimizer must be one of .*got 'adamm'"),
    ("dense_classifier", {"learning_rate": 0}, ValueError, r"learning_rate must be"),
    ("dense_classifier", {"l2": -1e-3}, ValueError, r"l2 must be"),
    ("dense_classifier", {"kernel_initializer": "xavier_magic"}, ValueError, r"kernel_initializer must be"),
    ("reuters_mlp", {"num_classes": 1.5}, TypeError, r"num_classes must be an integer"),
    ("small_cnn", {"input_shape": (8, 8)}, ValueError, r"input_shape must have 3 dimensions"),
    ("small_cnn", {"input_shape": (4, 4, 1), "padding": "valid"}, ValueError, r"input_shape \(4, 4, 1\) is too small"),
    ("small_cnn", {"padding": "full"}, ValueError, r"padding must be one of 'same', 'valid'; got 'full'"),
]


@pytest.mark.parametrize("name,kwargs,error,message", BAD_ARGUMENTS)
def test_bad_factory_arguments_name_the_argument(name, kwargs, error, message):
    with pytest.raises(error, match=message):
        zoo.create_model(name, **kwargs)
