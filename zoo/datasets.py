"""Data loaders: arrays for the classifiers, token streams for Word2Vec.

Every loader returns ``(x_train, y_train), (x_test, y_test)`` as NumPy arrays
with integer labels. The textbook preprocessing belongs to the loader and is on
by default (``preprocess=True``): standardised iris features (fitted on the
training split only), digits and MNIST scaled to [0, 1] with a channel axis,
Reuters as multi-hot vectors over ``num_words`` words.

Where data files come from, in this order:

1. an explicit ``path=`` argument (a file, or a folder holding it);
2. the folder named by the environment variable ``ZOO_DATA_DIR``;
3. the Keras cache (``$KERAS_HOME/datasets``, default ``~/.keras/datasets``);
4. the normal download (Keras's origin), unless ``download=False`` or
   ``ZOO_OFFLINE=1``; it lands under a temporary name, is verified, then renamed.

Every file is checked against Keras's published hash before use.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
from pathlib import Path

import numpy as np

from . import checks

DATA_DIR_ENV = "ZOO_DATA_DIR"
OFFLINE_ENV = "ZOO_OFFLINE"

_KERAS_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
#: file -> (hash algorithm, hex digest): the hashes ``keras.datasets`` itself verifies.
KNOWN_FILES = {
    "reuters.npz": ("sha256", "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"),
    "reuters_word_index.json": ("md5", "4d44cc38712099c9e383dc6e5f11a921"),
}

DATASETS = ("iris", "digits", "reuters", "mnist", "fashion_mnist")
CORPORA = ("reuters", "lee")

#: Keras's Reuters encoding (``keras.datasets.reuters.load_data`` defaults): column
#: ``word_index[w] + INDEX_FROM`` for word ``w``, 1 starts every document, 2 stands for
#: a word outside the ``num_words`` most frequent.
REUTERS_START_CHAR, REUTERS_OOV_CHAR, REUTERS_INDEX_FROM = 1, 2, 3
#: The characters Keras's ``text_to_word_sequence`` turns into spaces (its default
#: ``filters``); the apostrophe stays, as in the Reuters word index ("company's").
TEXT_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
#: Fashion-MNIST's ten classes, in label order (the Keras and TFDS documentation's table).
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                         "Ankle boot")


class DatasetNotFoundError(FileNotFoundError):
    """A data file is in none of the places searched and could not be downloaded."""

    def __str__(self):  # FileNotFoundError would prefix "[Errno ...]"
        return self.args[0]


class ChecksumError(ValueError):
    """A data file exists but its hash is not the published one (corrupt or truncated)."""


# --------------------------------------------------------------------------- files


def file_hash(path: str | os.PathLike, algorithm: str = "sha256") -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verify_file(path: str | os.PathLike, filename: str | None = None) -> Path:
    """Check ``path`` against the published hash of ``filename`` (default: its own name).

    Raises:
        ChecksumError: the hash differs; the message names the file and both hashes.
    """
    path = Path(path)
    algorithm, expected = KNOWN_FILES[filename or path.name]
    actual = file_hash(path, algorithm)
    if actual != expected:
        size = path.stat().st_size
        raise ChecksumError(
            f"{path}: {algorithm} {actual} does not match the published {expected} "
            f"({size:,} bytes; the file is corrupt or truncated). Delete it and provide a good copy."
        )
    return path


def keras_cache_dir() -> Path:
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "datasets"


def _offline(download: bool) -> bool:
    return not download or os.environ.get(OFFLINE_ENV, "") not in ("", "0")


def find_file(filename: str, *, path=None, download: bool = True) -> Path:
    """Locate (or download) a known data file and verify its hash.

    Args:
        filename: a key of :data:`KNOWN_FILES`, e.g. ``"reuters.npz"``.
        path: a file, or a folder holding ``filename``, searched first.
        download: allow the download as the last resort.

    Returns:
        Path of the verified file.

    Raises:
        DatasetNotFoundError: nowhere to be found; lists every place searched.
        ChecksumError: found, but corrupt or truncated.

    Example (not run by the doctests: it needs the Reuters files beside the checkout):
        >>> find_file("reuters.npz", path="../shared/data")      # doctest: +SKIP
        PosixPath('../shared/data/reuters.npz')
    """
    searched: list[str] = []
    candidates: list[tuple[str, Path]] = []
    if path is not None:
        p = Path(path)
        candidates.append(("path argument", p / filename if p.is_dir() else p))
    if os.environ.get(DATA_DIR_ENV):
        candidates.append((f"${DATA_DIR_ENV}", Path(os.environ[DATA_DIR_ENV]) / filename))
    candidates.append(("Keras cache", keras_cache_dir() / filename))

    for label, candidate in candidates:
        searched.append(f"{candidate} ({label})")
        if candidate.is_file():
            return verify_file(candidate, filename)
        if label == "path argument":
            # An explicit path that does not exist is an error, not a hint.
            raise DatasetNotFoundError(f"path: {str(candidate)!r} does not exist (looking for {filename})")

    how = (
        f"pass path=... (a file or a folder holding {filename}), set {DATA_DIR_ENV} to a folder "
        f"holding it, or put it in {keras_cache_dir()}"
    )
    if _offline(download):
        raise DatasetNotFoundError(
            f"{filename} not found; searched {'; '.join(searched)}; downloads are off "
            f"(download=False or {OFFLINE_ENV}=1). To provide it: {how}."
        )
    try:
        return _download(filename)
    except ChecksumError:
        raise
    except Exception as exc:  # network errors come in many types
        raise DatasetNotFoundError(
            f"{filename} not found; searched {'; '.join(searched)}; download from {_KERAS_ORIGIN} "
            f"failed ({type(exc).__name__}: {exc}). To provide it: {how}."
        ) from None


def _download(filename: str) -> Path:
    """Download with Keras's ``get_file`` under a temporary name, verify, rename."""
    import keras

    cache = keras_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    tmp_name = f".{filename}.part-{os.getpid()}"
    tmp = cache / tmp_name
    try:
        # Keras 3 wants a bare file name here; the folder is cache_dir/cache_subdir.
        keras.utils.get_file(
            fname=tmp_name, origin=_KERAS_ORIGIN + filename, cache_dir=str(cache.parent), cache_subdir=cache.name
        )
        verify_file(tmp, filename)
        final = cache / filename
        os.replace(tmp, final)
        return final
    finally:
        if tmp.exists():
            tmp.unlink()


# --------------------------------------------------------------------------- arrays


def load(name: str, *, path=None, preprocess: bool = True, seed: int = 0, test_size: float = 0.2,
         num_words: int = 10000, download: bool = True):
    """Load a dataset as NumPy arrays with integer labels.

    Args:
        name: one of :data:`DATASETS`.
        path: where to look first: a file or folder (Reuters) or a TFDS data dir (MNIST).
        preprocess: apply the textbook preprocessing (see the module docstring);
            ``False`` gives the raw features (Reuters: word-index sequences).
        seed: seed of the stratified train/test split (iris, digits).
        test_size: test fraction of the split (iris, digits). Reuters keeps Keras's
            split (``test_split=0.2``, seed 113) and MNIST its official one.
        num_words: Reuters vocabulary: the most frequent words kept.
        download: allow downloading as the last resort.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``.

    Raises:
        ValueError: unknown name or invalid argument.
        DatasetNotFoundError, ChecksumError: see :func:`find_file`.

    Example:
        >>> import zoo
        >>> (x, y), (xt, yt) = zoo.datasets.load("iris")
        >>> x.shape, xt.shape
        ((120, 4), (30, 4))
    """
    checks.choice("name", name, DATASETS)
    if name in ("iris", "digits"):
        return _load_sklearn(name, preprocess=preprocess, seed=seed, test_size=test_size)
    if name == "reuters":
        return load_reuters(path=path, num_words=num_words, preprocess=preprocess, download=download)
    return _load_tfds(name, path=path, preprocess=preprocess, download=download)


def stratified_split(x, y, *, fraction: float, seed: int = 0):
    """``(x_a, y_a), (x_b, y_b)``: a shuffled split with ``fraction`` of the rows in the second part.

    Stratified (each class in both parts in proportion) whenever every class has
    two rows or more. Unlike Keras's ``validation_split``, which takes the last
    rows, it never gives one class alone for class-sorted data (iris).

    Example:
        >>> import numpy as np
        >>> (xa, ya), (xb, yb) = stratified_split(np.arange(20), np.arange(20) % 2, fraction=0.2)
        >>> sorted(yb.tolist())
        [0, 0, 1, 1]
    """
    rows_a, rows_b = stratified_split_rows(y, fraction=fraction, seed=seed)
    x, y = np.asarray(x), np.asarray(y)
    return (x[rows_a], y[rows_a]), (x[rows_b], y[rows_b])


def stratified_split_rows(y, *, fraction: float, seed: int = 0):
    """The row numbers of :func:`stratified_split`'s two parts, ``(rows_a, rows_b)``: the split without
    copying ``x`` (for Reuters, 320 MB that :func:`zoo.training.train` gathers batch by batch instead)."""
    from sklearn.model_selection import train_test_split

    y = np.asarray(y)
    stratify = y if np.min(np.bincount(y)) >= 2 else None
    return train_test_split(np.arange(len(y)), test_size=fraction, stratify=stratify, random_state=seed)


def load_data(data: str, *, data_path=None, seed: int = 0):
    """A dataset name for :func:`load`, or the path of an ``.npz`` holding
    ``x_train``, ``y_train``, ``x_test``, ``y_test`` (the user's own data).

    Raises:
        FileNotFoundError: no such ``.npz``.
        ValueError: not a readable ``.npz``, or one without those four arrays; see :func:`load`.
    """
    if not str(data).endswith(".npz"):
        return load(data, path=data_path, seed=seed)
    import zipfile

    path = Path(data)
    if not path.is_file():
        raise FileNotFoundError(f"data: no such file {str(path)!r}")
    keys = ("x_train", "y_train", "x_test", "y_test")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"data: {path} is not a .npz file (not a zip archive); save one with "
                         f"np.savez(path, x_train=..., y_train=..., x_test=..., y_test=...)")
    try:
        with np.load(path, allow_pickle=False) as f:
            missing = [k for k in keys if k not in f]
            arrays = {k: f[k] for k in keys if k in f}
    except Exception as exc:  # pickled objects, truncated...
        raise ValueError(f"data: {path} is not a readable .npz file ({type(exc).__name__}: {exc})") from None
    if missing:
        raise ValueError(f"data: {path} lacks array(s) {', '.join(missing)}; it must hold {', '.join(keys)}")
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def _load_sklearn(name, *, preprocess, seed, test_size):
    from sklearn import datasets as skd

    checks.positive_int("seed", seed, minimum=0)
    checks.number_in_range("test_size", test_size, low=0.0, high=1.0, low_inclusive=False, high_inclusive=False)
    bunch = skd.load_iris() if name == "iris" else skd.load_digits()
    x, y = bunch.data.astype("float32"), bunch.target.astype("int64")
    (x_train, y_train), (x_test, y_test) = stratified_split(x, y, fraction=test_size, seed=seed)
    if preprocess:
        if name == "iris":
            scaler = _iris_scaler(x_train)
            x_train, x_test = scaler.transform(x_train), scaler.transform(x_test)
        else:
            x_train = (x_train / 16.0).reshape(-1, 8, 8, 1)
            x_test = (x_test / 16.0).reshape(-1, 8, 8, 1)
    return (x_train.astype("float32"), y_train), (x_test.astype("float32"), y_test)


def _iris_scaler(x_train):
    from sklearn.preprocessing import StandardScaler

    return StandardScaler().fit(x_train)  # statistics from the training split only


def class_names(data) -> list[str] | None:
    """The class names of a dataset as its source publishes them (scikit-learn's ``target_names``,
    Keras's Reuters topics, MNIST's digits, Fashion-MNIST's articles); None for an ``.npz`` of the user's own."""
    if str(data).endswith(".npz"):
        return None
    checks.choice("name", data, DATASETS)
    if data in ("iris", "digits"):
        from sklearn import datasets as skd

        return [str(c) for c in (skd.load_iris() if data == "iris" else skd.load_digits()).target_names]
    if data == "reuters":
        from keras.datasets import reuters

        return list(reuters.get_label_names())
    return [str(i) for i in range(10)] if data == "mnist" else list(FASHION_MNIST_CLASSES)


def preprocessing(data: str, *, seed: int = 0, test_size: float = 0.2, num_words: int = 10000) -> dict:
    """What :func:`load_data` does to raw inputs of ``data``, as JSON-able settings, and the class names.

    ``python -m zoo train`` saves it in the run's ``config.json`` (``"preprocessing"``), so that
    :func:`zoo.load` prepares new inputs exactly as the training data were: the iris
    scaler's mean and scale fitted on that run's training split, the digits and MNIST
    scalings, the Reuters encoding and ``num_words``. ``"kind"`` is ``"standardize"``
    (``(x - mean) / scale``), ``"scale"`` (``x / divide_by``, reshaped to ``shape``),
    ``"multi_hot"`` (Reuters: word ids, see :data:`REUTERS_INDEX_FROM`) or ``"none"`` (an
    ``.npz`` of the user's own, taken as it is).

    Args:
        data: a dataset name or an ``.npz`` path, as for :func:`load_data`.
        seed, test_size, num_words: as for :func:`load`.

    Example:
        >>> state = preprocessing("iris", seed=0)
        >>> state["kind"], len(state["mean"]), state["class_names"]
        ('standardize', 4, ['setosa', 'versicolor', 'virginica'])
    """
    if str(data).endswith(".npz"):
        return {"dataset": str(data), "kind": "none", "class_names": None}
    checks.choice("name", data, DATASETS)
    if data in ("iris", "digits"):
        from sklearn import datasets as skd

        bunch = skd.load_iris() if data == "iris" else skd.load_digits()
        names = class_names(data)
        if data == "digits":
            return {"dataset": data, "kind": "scale", "divide_by": 16.0, "shape": [8, 8, 1],
                    "raw": "8x8 grey images, values 0-16, as scikit-learn's load_digits gives them", "class_names": names}
        x, y = bunch.data.astype("float32"), bunch.target.astype("int64")
        (x_train, _), _ = stratified_split(x, y, fraction=test_size, seed=seed)
        scaler = _iris_scaler(x_train)
        return {"dataset": data, "kind": "standardize", "mean": scaler.mean_.tolist(), "scale": scaler.scale_.tolist(),
                "feature_names": list(bunch.feature_names), "fitted_on": f"the training split (seed {seed})",
                "class_names": names}
    if data == "reuters":
        return {"dataset": data, "kind": "multi_hot", "num_words": int(num_words), "start_char": REUTERS_START_CHAR,
                "oov_char": REUTERS_OOV_CHAR, "index_from": REUTERS_INDEX_FROM,
                "word_index": {"file": "reuters_word_index.json", KNOWN_FILES["reuters_word_index.json"][0]:
                               KNOWN_FILES["reuters_word_index.json"][1]},
                "class_names": class_names(data)}
    return {"dataset": data, "kind": "scale", "divide_by": 255.0, "shape": [28, 28, 1],
            "raw": "28x28 grey images, values 0-255", "class_names": class_names(data)}


def text_words(text: str) -> list[str]:
    """Keras's ``text_to_word_sequence``: lower case, :data:`TEXT_FILTERS` to spaces, split.

    Example:
        >>> text_words("U.S. grain prices rose, the company's report said.")
        ['u', 's', 'grain', 'prices', 'rose', 'the', "company's", 'report', 'said']
    """
    return text.lower().translate(str.maketrans(TEXT_FILTERS, " " * len(TEXT_FILTERS))).split()


def encode_reuters_text(texts, word_index: dict, *, num_words: int):
    """Multi-hot rows for raw texts, encoded as :func:`load_reuters` encodes the newswires.

    A word whose column would be ``num_words`` or more sets the out-of-vocabulary column,
    as in Keras's encoding; so does a word the index lacks (rarer still than those: every
    word of the newswires is in the index).

    Returns:
        ``(x, known)``: float32 ``(len(texts), num_words)`` and, per text, how many of its
        words fall inside the ``num_words`` columns.
    """
    seqs, known = [], []
    for text in texts:
        ids = [word_index.get(w, num_words) + REUTERS_INDEX_FROM for w in text_words(text)]
        inside = sum(1 for i in ids if i < num_words)
        seqs.append([REUTERS_START_CHAR] + [i if i < num_words else REUTERS_OOV_CHAR for i in ids])
        known.append(inside)
    return multi_hot(seqs, num_words), known


def multi_hot(sequences, num_words: int, dtype="float32") -> np.ndarray:
    """Multi-hot encode word-index sequences: ``out[i, w] = 1`` if word ``w`` is in document ``i``."""
    out = np.zeros((len(sequences), num_words), dtype=dtype)
    lengths = np.fromiter((len(s) for s in sequences), dtype=np.int64, count=len(sequences))
    if lengths.sum():
        rows = np.repeat(np.arange(len(sequences)), lengths)
        cols = np.concatenate([np.asarray(s, dtype=np.int64) for s in sequences if len(s)])
        out[rows, cols] = 1
    return out


def load_reuters(*, path=None, num_words: int = 10000, preprocess: bool = True, download: bool = True):
    """Reuters newswires with Keras's own split and encoding, from a verified file.

    The result equals ``keras.datasets.reuters.load_data(num_words=num_words)``
    (``test_split=0.2``, ``seed=113``, ``start_char=1``, ``oov_char=2``,
    ``index_from=3``; a test checks it), so results compare with the literature.
    Keras 3 reads only from its own cache, so the same steps run here on the file
    :func:`find_file` located. See :func:`load` for the arguments.
    """
    num_words = checks.positive_int("num_words", num_words, minimum=4)
    npz = find_file("reuters.npz", path=path, download=download)
    try:
        with np.load(npz, allow_pickle=True) as f:
            xs, labels = f["x"], f["y"]
    except Exception as exc:  # verified files load; this guards files given with no hash check
        raise ChecksumError(f"{npz}: not a readable reuters.npz ({exc})") from None

    start_char, oov_char, index_from = REUTERS_START_CHAR, REUTERS_OOV_CHAR, REUTERS_INDEX_FROM
    seed, test_split = 113, 0.2
    order = np.arange(len(xs))
    np.random.RandomState(seed).shuffle(order)
    xs, labels = xs[order], labels[order].astype("int64")
    # Every word id of every document in one array (documents one after another), shifted and capped at
    # once: a loop over 11,228 documents cost ~0.4 s of each `python -m zoo train reuters_mlp`.
    lengths = np.fromiter(map(len, xs), dtype=np.int64, count=len(xs))
    words = np.fromiter(itertools.chain.from_iterable(xs), dtype=np.int64, count=int(lengths.sum())) + index_from
    words[words >= num_words] = oov_char
    split = int(len(xs) * (1 - test_split))
    y_train, y_test = labels[:split], labels[split:]
    if preprocess:  # multi-hot straight from the word ids, every document with its start mark
        docs = np.repeat(np.arange(len(xs)), lengths)
        out = np.zeros((len(xs), num_words), dtype="float32")
        out[docs, words] = 1
        out[:, start_char] = 1
        return (out[:split], y_train), (out[split:], y_test)
    ends = np.cumsum(lengths)[:-1]
    seqs = np.empty(len(xs), dtype=object)
    seqs[:] = [[start_char, *doc.tolist()] for doc in np.split(words, ends)]
    return (seqs[:split], y_train), (seqs[split:], y_test)


def reuters_word_index(*, path=None, download: bool = True) -> dict[str, int]:
    """The Reuters word -> raw index map (before Keras's ``index_from=3`` shift)."""
    with open(find_file("reuters_word_index.json", path=path, download=download), encoding="utf-8") as f:
        return json.load(f)


def _load_tfds(name, *, path, preprocess, download):
    import tensorflow_datasets as tfds

    data_dir = path or (Path(os.environ[DATA_DIR_ENV]) / "tensorflow_datasets" if os.environ.get(DATA_DIR_ENV) else None)
    offline = _offline(download)
    try:
        splits = tfds.load(
            name, split=["train", "test"], as_supervised=True,
            data_dir=None if data_dir is None else str(data_dir), download=not offline,
        )
    except Exception as exc:
        where = data_dir or "the default TFDS data_dir (~/tensorflow_datasets)"
        if offline:
            raise DatasetNotFoundError(
                f"{name} is not prepared in {where} and downloads are off (download=False or {OFFLINE_ENV}=1); "
                f"run tfds.builder({name!r}).download_and_prepare() on a machine with internet and copy "
                f"the folder, or pass path=<a TFDS data_dir holding {name}>"
            ) from None
        raise DatasetNotFoundError(f"{name}: TFDS could not load it from {where} ({type(exc).__name__}: {exc})") from None
    # Batched iteration, not batch_size=-1: the latter aborts under tfds.testing.mock_data (TF 2.21).
    (x_train, y_train), (x_test, y_test) = (_tfds_to_numpy(tfds, ds) for ds in splits)
    if preprocess:
        x_train = (x_train / 255.0).astype("float32")
        x_test = (x_test / 255.0).astype("float32")
    return (x_train, y_train.astype("int64")), (x_test, y_test.astype("int64"))


def _tfds_to_numpy(tfds, ds):
    xs, ys = zip(*tfds.as_numpy(ds.batch(8192)))
    return np.concatenate(xs), np.concatenate(ys)


# --------------------------------------------------------------------------- corpora


class Corpus:
    """A restartable iterable of token lists (one list per document or line).

    Iterating twice reads the source twice, so a corpus larger than memory can
    be streamed for several epochs, as gensim expects.
    """

    def __init__(self, name: str, make_iter, description: str = ""):
        self.name = name
        self._make_iter = make_iter
        self.description = description

    def __iter__(self):
        return iter(self._make_iter())

    def __repr__(self):
        return f"Corpus({self.name!r})"


def tokenize(line: str) -> list[str]:
    """Lower-case word tokens (gensim's ``simple_preprocess`` keeping 1-letter words)."""
    from gensim.utils import simple_preprocess

    return simple_preprocess(line, min_len=1, max_len=40)


def text_file_corpus(path: str | os.PathLike) -> Corpus:
    """One document per non-empty line of a UTF-8 text file, tokenised by :func:`tokenize`.

    Raises:
        DatasetNotFoundError: no such file.
        ValueError: the file is not valid UTF-8 (the message gives the byte offset).
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetNotFoundError(f"corpus: no such file {str(path)!r}")
    _check_utf8(path)

    def lines():
        with open(path, encoding="utf-8") as f:
            for line in f:
                tokens = tokenize(line)
                if tokens:
                    yield tokens

    return Corpus(str(path), lines, f"text file {path}")


def _check_utf8(path: Path) -> None:
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                raise ValueError(
                    f"corpus: {path} is not UTF-8 text (invalid byte at offset {offset + exc.start}); "
                    "convert it, e.g. iconv -f latin1 -t utf-8"
                ) from None
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise ValueError(f"corpus: {path} is not UTF-8 text (truncated character at its end)") from None


def reuters_corpus(*, path=None, download: bool = True) -> Corpus:
    """The 11,228 Reuters newswires decoded to words (about 1.6 million tokens)."""
    npz = find_file("reuters.npz", path=path, download=download)
    index = reuters_word_index(path=path, download=download)
    words = np.empty(max(index.values()) + 1, dtype=object)
    for word, i in index.items():
        words[i] = word
    with np.load(npz, allow_pickle=True) as f:
        docs = [words[np.asarray(seq, dtype=np.int64)].tolist() for seq in f["x"]]
    return Corpus("reuters", lambda: docs, "Reuters-21578 newswires (Keras reuters.npz), decoded")


def lee_corpus() -> Corpus:
    """gensim's ``lee_background.cor`` (about 60k words of news), one document per line."""
    from gensim.test.utils import datapath

    corpus = text_file_corpus(datapath("lee_background.cor"))
    corpus.name = "lee"
    return corpus


def corpus(name_or_path: str | os.PathLike, *, path=None, download: bool = True) -> Corpus:
    """A Word2Vec corpus: ``"reuters"``, ``"lee"``, or the path of a UTF-8 text file.

    Example:
        >>> import zoo
        >>> docs = zoo.datasets.corpus("lee")
        >>> next(iter(docs))[:4]
        ['hundreds', 'of', 'people', 'have']
    """
    if name_or_path == "reuters":
        return reuters_corpus(path=path, download=download)
    if name_or_path == "lee":
        return lee_corpus()
    if isinstance(name_or_path, (str, os.PathLike)) and (os.sep in str(name_or_path) or Path(name_or_path).exists()):
        return text_file_corpus(name_or_path)
    raise ValueError(f"corpus must be one of {', '.join(map(repr, CORPORA))} or an existing text file; got {name_or_path!r}")
