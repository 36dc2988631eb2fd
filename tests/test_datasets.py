"""Loaders: shapes, preprocessing, Keras fidelity, the search order and its errors."""

import shutil
from pathlib import Path

import numpy as np
import pytest

from zoo import datasets
from zoo.datasets import ChecksumError, DatasetNotFoundError

from .conftest import needs_reuters, reuters_dir


def test_iris_is_stratified_and_standardised_on_the_training_split():
    (x, y), (xt, yt) = datasets.load("iris", seed=0)
    assert x.shape == (120, 4) and xt.shape == (30, 4) and x.dtype == np.float32
    assert np.bincount(yt).tolist() == [10, 10, 10]
    np.testing.assert_allclose(x.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(x.std(axis=0), 1, atol=1e-4)
    assert np.abs(xt.mean(axis=0)).max() > 1e-3  # test split was not used to fit the scaler


def test_split_seed_is_repeatable_and_matters():
    (a, _), _ = datasets.load("iris", seed=1)
    (b, _), _ = datasets.load("iris", seed=1)
    (c, _), _ = datasets.load("iris", seed=2)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_digits_are_scaled_images_with_a_channel_axis():
    (x, y), (xt, yt) = datasets.load("digits")
    assert x.shape[1:] == (8, 8, 1) and x.min() == 0.0 and x.max() == 1.0
    assert len(x) + len(xt) == 1797 and set(np.unique(y)) == set(range(10))
    (raw, _), _ = datasets.load("digits", preprocess=False)
    assert raw.shape[1:] == (64,) and raw.max() == 16.0


def test_unknown_dataset_lists_the_choices():
    with pytest.raises(ValueError, match=r"name must be one of 'iris', 'digits', 'reuters'.*got 'irsi'"):
        datasets.load("irsi")


@needs_reuters
def test_reuters_equals_keras_load_data(monkeypatch):
    import keras.src.datasets.reuters as keras_reuters

    monkeypatch.setattr(keras_reuters, "get_file", lambda *a, **k: str(reuters_dir() / "reuters.npz"))
    (kx, ky), (kxt, kyt) = keras_reuters.load_data(num_words=1000)
    (x, y), (xt, yt) = datasets.load("reuters", num_words=1000, preprocess=False)
    assert len(x) == len(kx) == 8982 and len(xt) == len(kxt) == 2246
    assert all(list(a) == list(b) for a, b in zip(x, kx)) and all(list(a) == list(b) for a, b in zip(xt, kxt))
    assert np.array_equal(y, ky) and np.array_equal(yt, kyt)


@needs_reuters
def test_reuters_multi_hot():
    (x, y), (xt, yt) = datasets.load("reuters", num_words=500)
    (seqs, _), _ = datasets.load("reuters", num_words=500, preprocess=False)
    assert x.shape == (8982, 500) and xt.shape == (2246, 500) and x.dtype == np.float32
    assert set(np.unique(x)) == {0.0, 1.0}
    assert np.flatnonzero(x[0]).tolist() == sorted(set(seqs[0]))
    np.testing.assert_array_equal(x, datasets.multi_hot(seqs, 500))  # every row: the textbook vectorizer's
    assert y.max() == 45


def test_multi_hot_handles_empty_documents():
    out = datasets.multi_hot([[1, 3, 3], []], 5)
    assert out.tolist() == [[0, 1, 0, 1, 0], [0, 0, 0, 0, 0]]


def _isolate(monkeypatch, tmp_path):
    monkeypatch.delenv("ZOO_DATA_DIR", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.setenv("ZOO_OFFLINE", "1")


def test_missing_file_offline_names_every_place_searched(monkeypatch, tmp_path):
    _isolate(monkeypatch, tmp_path)
    monkeypatch.setenv("ZOO_DATA_DIR", str(tmp_path / "empty"))
    with pytest.raises(DatasetNotFoundError) as info:
        datasets.load("reuters")
    message = str(info.value)
    assert "reuters.npz not found" in message
    assert str(tmp_path / "empty" / "reuters.npz") in message and "$ZOO_DATA_DIR" in message
    assert str(tmp_path / "keras_home" / "datasets" / "reuters.npz") in message and "Keras cache" in message
    assert "set ZOO_DATA_DIR" in message


def test_explicit_path_that_does_not_exist_is_an_error(monkeypatch, tmp_path):
    _isolate(monkeypatch, tmp_path)
    with pytest.raises(DatasetNotFoundError, match=r"path: .*nope.npz' does not exist"):
        datasets.load("reuters", path=tmp_path / "nope.npz")


@needs_reuters
def test_search_order_path_then_env_then_keras_cache(monkeypatch, tmp_path):
    _isolate(monkeypatch, tmp_path)
    cache = tmp_path / "keras_home" / "datasets"
    cache.mkdir(parents=True)
    shutil.copy(reuters_dir() / "reuters.npz", cache / "reuters.npz")
    assert datasets.find_file("reuters.npz") == cache / "reuters.npz"
    monkeypatch.setenv("ZOO_DATA_DIR", str(reuters_dir()))
    assert datasets.find_file("reuters.npz") == reuters_dir() / "reuters.npz"
    explicit = tmp_path / "mine"
    explicit.mkdir()
    shutil.copy(reuters_dir() / "reuters.npz", explicit / "reuters.npz")
    assert datasets.find_file("reuters.npz", path=explicit) == explicit / "reuters.npz"


@needs_reuters
@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_corrupt_or_truncated_file_is_a_clear_hash_error(monkeypatch, tmp_path, damage):
    _isolate(monkeypatch, tmp_path)
    data = (reuters_dir() / "reuters.npz").read_bytes()
    data = data[: len(data) // 2] if damage == "truncate" else data[:100] + bytes([data[100] ^ 0xFF]) + data[101:]
    (tmp_path / "reuters.npz").write_bytes(data)
    with pytest.raises(ChecksumError, match=r"reuters.npz: sha256 [0-9a-f]{64} does not match the published d6586e69"):
        datasets.load("reuters", path=tmp_path)


def _keras_target(fname, cache_dir, cache_subdir, **kwargs):
    """Where Keras 3's ``get_file`` writes: a bare file name inside ``cache_dir/cache_subdir``."""
    assert "/" not in fname, f"Keras 3 refuses paths as fname: {fname!r}"
    return Path(cache_dir) / cache_subdir / fname


@needs_reuters
def test_download_through_keras_get_file_lands_verified_under_the_final_name(monkeypatch, tmp_path):
    """Keras's real ``get_file`` (no fake), fed from a ``file://`` origin: the offline stand-in for the web."""
    _isolate(monkeypatch, tmp_path)
    monkeypatch.delenv("ZOO_OFFLINE")
    monkeypatch.setattr(datasets, "_KERAS_ORIGIN", reuters_dir().resolve().as_uri() + "/")
    found = datasets.find_file("reuters.npz")
    cache = tmp_path / "keras_home" / "datasets"
    assert found == cache / "reuters.npz"
    assert [p.name for p in cache.iterdir()] == ["reuters.npz"]  # no temporary file left beside it
    assert found.read_bytes() == (reuters_dir() / "reuters.npz").read_bytes()


def test_failed_download_leaves_no_partial_file(monkeypatch, tmp_path):
    _isolate(monkeypatch, tmp_path)
    monkeypatch.delenv("ZOO_OFFLINE")
    import keras

    def broken_get_file(fname, origin, **kwargs):
        with open(_keras_target(fname, **kwargs), "wb") as f:  # half a file, then the connection drops
            f.write(b"PK\x03\x04 partial")
        raise ConnectionError("connection reset")

    monkeypatch.setattr(keras.utils, "get_file", broken_get_file)
    with pytest.raises(DatasetNotFoundError, match=r"download from .* failed \(ConnectionError: connection reset\)"):
        datasets.find_file("reuters.npz")
    assert list((tmp_path / "keras_home" / "datasets").iterdir()) == []


def test_download_with_wrong_hash_is_not_kept(monkeypatch, tmp_path):
    _isolate(monkeypatch, tmp_path)
    monkeypatch.delenv("ZOO_OFFLINE")
    import keras

    def fake_get_file(fname, origin, **kwargs):
        target = _keras_target(fname, **kwargs)
        target.write_bytes(b"not the reuters file")
        return str(target)

    monkeypatch.setattr(keras.utils, "get_file", fake_get_file)
    with pytest.raises(ChecksumError):
        datasets.find_file("reuters.npz")
    assert list((tmp_path / "keras_home" / "datasets").iterdir()) == []


def test_mnist_through_tfds_mock_data():
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=12):
        (x, y), (xt, yt) = datasets.load("mnist")
    assert x.shape == (12, 28, 28, 1) and x.dtype == np.float32 and 0.0 <= x.min() and x.max() <= 1.0
    assert y.dtype == np.int64 and xt.shape[1:] == (28, 28, 1)


def test_mnist_offline_not_prepared_is_a_clear_error(monkeypatch, tmp_path):
    _isolate(monkeypatch, tmp_path)
    with pytest.raises(DatasetNotFoundError, match=r"mnist is not prepared in .* downloads are off"):
        datasets.load("mnist", path=tmp_path / "tfds")


# ----------------------------------------------------------------- corpora


@needs_reuters
def test_reuters_corpus_is_the_decoded_newswires():
    docs = list(datasets.corpus("reuters"))
    assert len(docs) == 11228
    assert sum(map(len, docs)) == 1_627_658
    assert docs[0][:6] == ["showers", "continued", "throughout", "the", "week", "in"]


def test_lee_corpus_and_a_user_file(tmp_path):
    lee = datasets.corpus("lee")
    first = list(lee)
    assert len(first) == 300 and 55_000 < sum(map(len, first)) < 65_000
    assert list(lee) == first  # restartable: a second pass gives the same tokens
    path = tmp_path / "mine.txt"
    path.write_text("The cat sat.\n\nA dog ran, quickly!\n", encoding="utf-8")
    assert list(datasets.corpus(path)) == [["the", "cat", "sat"], ["a", "dog", "ran", "quickly"]]


def test_non_utf8_corpus_names_the_file_and_offset(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("caf\u00e9 au lait\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin1.txt is not UTF-8 text \(invalid byte at offset 3\)"):
        datasets.corpus(path)


def test_unknown_corpus_is_an_error():
    with pytest.raises(ValueError, match=r"corpus must be one of 'reuters', 'lee'"):
        datasets.corpus("wikipedia")
