"""The private internals of Keras and KerasTuner that the zoo and the tuning package use are still there.

Each compatibility module's ``check()`` raises with the library's name and
installed version when an internal it relies on has moved; these tests run it,
and show that a moved internal is reported so.
"""

from __future__ import annotations

import keras
import keras_tuner
import pytest

from tuning import _compat
from zoo import _keras_compat


def test_keras_internals_are_where_the_zoo_expects_them():
    _keras_compat.check()


def test_kerastuner_internals_are_where_the_tuning_package_expects_them():
    _compat.check()


def test_a_moved_keras_internal_is_reported_with_the_keras_version(monkeypatch):
    monkeypatch.setattr(keras.optimizers.Adam, "_get_variable_index", None, raising=False)
    with pytest.raises(_keras_compat.KerasInternalsChanged, match=rf"keras {keras.__version__} changed"):
        _keras_compat.check()


def test_a_moved_kerastuner_internal_is_reported_with_its_version(monkeypatch):
    monkeypatch.delattr(keras_tuner.Tuner, "_deepcopy_callbacks")
    with pytest.raises(_compat.KerasTunerInternalsChanged,
                       match=rf"keras-tuner {keras_tuner.__version__} changed .*Tuner._deepcopy_callbacks"):
        _compat.check()
