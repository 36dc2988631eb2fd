"""A trained run, ready for new inputs: ``zoo.load(run_dir)`` and ``python -m zoo predict``.

A classifier's run directory (``python -m zoo train``) holds the model and, in
its ``config.json`` under ``"preprocessing"``, how its training data were prepared
(:func:`zoo.datasets.preprocessing`): the iris scaler fitted on that run's
training split, the digits and MNIST scalings, the Reuters encoding and
``num_words``. :func:`load` returns the model with a :class:`Preprocessor` that
applies the same steps to raw inputs: iris measurements in centimetres, digit
images with values 0-16, Reuters text. A run written before
config.json held them gets the same settings derived from the config's data
and seed.

A Word2Vec run directory (``python -m zoo.word2vec train``) loads as
:class:`LoadedEmbeddings`: words in, vectors out.

Everything up to the model itself (finding the run, checking its files against
the manifest, reading and checking the inputs) needs no TensorFlow, so a bad
argument answers at once.

Example:
    >>> import zoo
    >>> loaded = zoo.load("runs/iris")                               # doctest: +SKIP
    >>> loaded.top([[5.1, 3.5, 1.4, 0.2]], k=2)                       # doctest: +SKIP
    [[('setosa', 0.97...), ('versicolor', 0.02...)]]
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import datasets, files, rundir

#: The files of a ``python -m zoo.word2vec train`` folder that loading needs.
WORD2VEC_FILES = ("model.keras", "settings.json", "metadata.tsv")
PREDICT_BATCH_SIZE = 512


@dataclass
class Run:
    """A run directory, checked without TensorFlow (:func:`open_run`).

    Attributes:
        path: the directory.
        kind: ``"classifier"`` or ``"word2vec"``.
        model_name: the registry name of the model.
        config: ``config.json`` (classifier) or ``settings.json`` (Word2Vec).
        input_shape: one sample's input shape, read from the ``.keras`` archive.
        num_outputs: the width of the model's output (classes; vector size for Word2Vec).
        preprocessor: how raw inputs are prepared (classifier), else None.
        words: the vocabulary, row order (Word2Vec), else None.
    """

    path: Path
    kind: str
    model_name: str
    config: dict
    input_shape: tuple
    num_outputs: int
    preprocessor: "Preprocessor | None" = None
    words: list | None = None

    @property
    def model_path(self) -> Path:
        return self.path / "model.keras"


def open_run(run_dir, *, data_path=None) -> Run:
    """Find what ``run_dir`` holds and check it, without TensorFlow.

    A classifier's files are checked against the run's manifest (``run.json``):
    a truncated or altered ``model.keras`` is refused here, naming the file.

    Args:
        run_dir: a ``python -m zoo train`` run or a ``python -m zoo.word2vec train`` folder.
        data_path: where to look first for the Reuters word index (text inputs only).

    Raises:
        FileNotFoundError: no such directory, or it holds no trained model (the message
            names what is missing and which command writes it).
        ValueError: a damaged run (names the file and what is wrong).
    """
    path = Path(run_dir)
    if not path.is_dir():
        raise FileNotFoundError(f"run_dir: {str(path)!r} is not a directory")
    if (path / "config.json").is_file() or (path / rundir.MANIFEST).is_file():
        rundir.check_finished(path)
        config = rundir.read_config(path)
        rundir.verify(path)
        input_shape, num_outputs = archive_shapes(path / "model.keras")
        state = config.get("preprocessing")
        if state is not None and not (isinstance(state, dict) and "kind" in state):
            raise ValueError(f"run_dir: {path / 'config.json'} is damaged: its \"preprocessing\" is not an object "
                             "with a \"kind\"; train again with --overwrite")
        if state is None:  # a run written before config.json held it: the same settings, from the config's data and seed
            if config["data"] == "reuters":  # its topic names come from Keras: start it without its notices
                from . import cli

                cli.import_tensorflow()
            state = datasets.preprocessing(config["data"], seed=config["seed"])
        pre = Preprocessor(state, input_shape=input_shape, num_classes=num_outputs, model_name=config["model"],
                           data_path=data_path if data_path is not None else rundir.recorded_data_path(config),
                           source=path / "config.json")
        return Run(path, "classifier", config["model"], config, input_shape, num_outputs, preprocessor=pre)
    present = [name for name in WORD2VEC_FILES if (path / name).is_file()]
    if len(present) == len(WORD2VEC_FILES):
        settings = files.read_json_object(path / "settings.json", argument="run_dir", required=("sg", "vector_size"),
                                          what="Word2Vec settings file", advice="train again")
        words = _read_words(path / "metadata.tsv")
        input_shape, num_outputs = archive_shapes(path / "model.keras")
        if "input_vectors" not in archive_layer_names(path / "model.keras"):
            raise ValueError(f"run_dir: {path / 'model.keras'} is not a Word2Vec model (it has no input_vectors "
                             "layer), yet settings.json and metadata.tsv beside it are a Word2Vec run's: the folder "
                             "mixes two runs; train again")
        name = "word2vec_skipgram" if settings["sg"] else "word2vec_cbow"
        return Run(path, "word2vec", name, settings, input_shape, int(settings["vector_size"]), words=words)
    if "model.keras" not in present:
        raise FileNotFoundError(
            f"run_dir: {path} holds no model.keras; give a finished run (python -m zoo train NAME --out DIR, or "
            "python -m zoo.word2vec train --out DIR)")
    missing = [name for name in WORD2VEC_FILES if name not in present]
    raise FileNotFoundError(f"run_dir: {path} has model.keras but neither config.json (python -m zoo train) nor "
                            f"{', '.join(missing)} (python -m zoo.word2vec train); is it a finished run?")


def archive_shapes(path) -> tuple[tuple, int]:
    """``(input_shape, output_width)`` of a saved functional model, read from the ``.keras`` zip without Keras.

    The first input's per-sample shape and the last layer's width (``units`` or,
    for an Embedding, ``output_dim``).

    Raises:
        ValueError: not a ``.keras`` archive Keras wrote (names the file).
    """
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))
        layers = config["config"]["layers"]
        first = next(layer for layer in layers if layer["class_name"] == "InputLayer")
        shape = tuple(first["config"]["batch_shape"][1:])
        last = [layer["config"] for layer in layers if "units" in layer["config"] or "output_dim" in layer["config"]][-1]
        width = int(last.get("units") or last["output_dim"])
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, StopIteration, IndexError, OSError) as exc:
        raise ValueError(f"run_dir: {path} is damaged: not a model archive Keras wrote ({type(exc).__name__}); "
                         "train again") from None
    return shape, width


def archive_layer_names(path) -> list[str]:
    """The layer names of a saved functional model, read from the ``.keras`` zip without Keras (see :func:`archive_shapes`)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return [layer["config"]["name"] for layer in json.loads(archive.read("config.json"))["config"]["layers"]]
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError) as exc:
        raise ValueError(f"run_dir: {path} is damaged: not a model archive Keras wrote ({type(exc).__name__}); "
                         "train again") from None


def _read_words(path: Path) -> list[str]:
    """``metadata.tsv`` (one word a line, tabs and newlines escaped) as the vocabulary in row order."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"run_dir: {path} is damaged (not UTF-8 text); train again") from None
    words = [line.replace("\\t", "\t").replace("\\n", "\n") for line in text.split("\n")[:-1]]
    if not words:
        raise ValueError(f"run_dir: {path} is empty (a damaged Word2Vec folder); train again")
    return words


class Preprocessor:
    """Raw inputs -> the arrays a classifier takes, as its training data were prepared.

    Args:
        state: :func:`zoo.datasets.preprocessing`'s settings (``config.json``'s ``"preprocessing"``).
        input_shape: one sample's input shape.
        num_classes: the model's output width.
        model_name: for messages.
        data_path: where to look first for the Reuters word index.
    """

    #: The kinds of preparation there are (:func:`zoo.datasets.preprocessing`).
    KINDS = ("standardize", "scale", "multi_hot", "none")

    def __init__(self, state: dict, *, input_shape, num_classes: int, model_name: str = "the model", data_path=None,
                 source="the preprocessing settings"):
        self.state = dict(state)
        self.kind = self.state["kind"]
        self.input_shape = tuple(int(d) for d in input_shape)
        self.model_name = model_name
        self.data_path = data_path
        self._check_state(source)
        names = self.state.get("class_names")
        self.class_names = [str(n) for n in names] if names and len(names) == num_classes else \
            [str(i) for i in range(num_classes)]
        self._word_index = None

    def _check_state(self, source) -> None:
        """Refuse settings that would prepare inputs wrongly (an unknown kind, a zero scale, text where numbers
        go, a width that is not the model's), naming ``source`` (the run's config.json) and the key."""
        s, where = self.state, f"run_dir: {source} is damaged: \"preprocessing\""
        then = "; train again"
        if self.kind not in self.KINDS:
            raise ValueError(f"{where} kind {self.kind!r} is not one of {', '.join(self.KINDS)}{then}")
        if self.kind == "standardize":
            for key in ("mean", "scale"):
                values = s.get(key)
                if not isinstance(values, list) or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                           and math.isfinite(v) for v in values):
                    raise ValueError(f"{where} {key} must be a list of finite numbers, got {_short(values)}{then}")
                if key == "scale" and any(v == 0 for v in values):
                    raise ValueError(f"{where} scale holds 0 (a division by zero: every prepared value would be "
                                     f"NaN or infinite){then}")
            if not len(s["mean"]) == len(s["scale"]) == self.size:
                raise ValueError(self._mismatch(source, f"{len(s['mean'])} features (mean) and {len(s['scale'])} "
                                                        "(scale)"))
        elif self.kind == "scale":
            d = s.get("divide_by")
            if not isinstance(d, (int, float)) or isinstance(d, bool) or not math.isfinite(d) or d <= 0:
                raise ValueError(f"{where} divide_by must be a finite number > 0, got {_short(d)}{then}")
            shape = s.get("shape")
            if isinstance(shape, list) and math.prod(int(v) for v in shape if isinstance(v, int)) != self.size:
                raise ValueError(self._mismatch(source, f"images of shape {tuple(shape)}"))
        elif self.kind == "multi_hot":
            n = s.get("num_words")
            if not isinstance(n, int) or isinstance(n, bool) or n < 4:
                raise ValueError(f"{where} num_words must be an integer >= 4, got {_short(n)}{then}")
            if n != self.size:  # the encoding allocates (samples, num_words): 10**12 would be terabytes
                raise ValueError(self._mismatch(source, f"{n:,} word columns (num_words)"))

    def _mismatch(self, source, prepares: str) -> str:
        return (f"run_dir: the model beside {source} takes {self.size:,} values per sample (shape {self.input_shape}) "
                f"but the run's config.json prepares {prepares}: the model does not match the run's config "
                f"(a model.keras from another run?); train again")

    @property
    def size(self) -> int:
        """Values per sample."""
        return math.prod(self.input_shape)

    def describe(self) -> str:
        """What one raw sample must hold, for messages."""
        s = self.state
        if self.kind == "standardize":
            return f"{self.size} raw features per row ({', '.join(s.get('feature_names', []))})"
        if self.kind == "scale":
            return f"{self.size} values per sample ({s.get('raw', 'raw values')})"
        if self.kind == "multi_hot":
            return f"{self.size} multi-hot word columns per row, or text (--text)"
        return f"{self.size} values per sample (shape {self.input_shape}), as in the training .npz"

    @property
    def word_index(self) -> dict:
        """The Reuters word index (raw ids; :data:`zoo.datasets.REUTERS_INDEX_FROM` is added when encoding)."""
        if self.kind != "multi_hot":
            raise ValueError(f"text: {self.model_name} was trained on {self.state.get('dataset')}, not on text; "
                             "give --data (an .npz or a .csv of features)")
        if self._word_index is None:
            self._word_index = datasets.reuters_word_index(path=self.data_path)
        return self._word_index

    def known_words(self) -> int:
        """How many words of the index have a column of their own (below ``num_words``)."""
        limit = self.state["num_words"] - datasets.REUTERS_INDEX_FROM
        return sum(1 for i in self.word_index.values() if i < limit)

    def encode_text(self, texts) -> np.ndarray:
        """Texts -> multi-hot rows, as Keras encodes the Reuters newswires.

        Raises:
            ValueError: a text with no word among the model's known words (names it).
        """
        if isinstance(texts, str):
            texts = [texts]
        texts = list(texts)
        if not texts or not all(isinstance(t, str) for t in texts):
            raise TypeError("text: expected a string or a list of strings")
        x, known = datasets.encode_reuters_text(texts, self.word_index, num_words=self.state["num_words"])
        for text, count in zip(texts, known):
            if count == 0:
                shown = text if len(text) <= 60 else text[:57] + "..."
                raise ValueError(
                    f"text: no word of {shown!r} is among the {self.known_words():,} words {self.model_name} knows (the "
                    f"{self.state['num_words']:,} columns of the Reuters word index); write English newswire text")
        return x

    def prepare(self, raw, *, first: int = 0) -> np.ndarray:
        """Raw samples -> float32 ``(n, *input_shape)``; one sample may be given without the batch axis.

        Raises:
            ValueError: the wrong number of values per sample (says how many are expected),
                values that are not finite numbers, or pixel values outside the raw range.
        """
        if isinstance(raw, str) or (isinstance(raw, (list, tuple)) and raw and all(isinstance(t, str) for t in raw)):
            return self.encode_text(raw)
        x = self.check_shape(raw, first=first)
        s = self.state
        if self.kind == "standardize":
            x = (x - np.asarray(s["mean"], dtype="float32")) / np.asarray(s["scale"], dtype="float32")
        elif self.kind == "scale":
            low, high = float(x.min()), float(x.max())
            if low < 0 or high > s["divide_by"]:
                raise ValueError(f"data: values must be raw pixels in [0, {s['divide_by']:g}] ({s.get('raw', '')}); "
                                 f"got values in [{low:g}, {high:g}]" + ("; pass --prepared (prepared=True) for inputs "
                                                                         "already scaled" if high <= 1 else ""))
            x = x / np.float32(s["divide_by"])
        return x.astype("float32")

    def check_shape(self, raw, *, first: int = 0) -> np.ndarray:
        """``raw`` as float32 ``(n, *input_shape)``, checking its size per sample and that it is finite.

        ``first``: the number of the first sample in messages (a chunk of a longer file).
        """
        if np.iscomplexobj(raw):  # casting would drop the imaginary parts silently; training refuses them too
            raise ValueError(f"data: holds complex numbers (dtype {np.asarray(raw).dtype}); {self.model_name} takes "
                             f"real numbers: {self.describe()}")
        try:
            wide = np.asarray(raw, dtype="float64")
        except (ValueError, TypeError):
            raise ValueError(f"data: expected numbers; {self.model_name} takes {self.describe()}") from None
        with np.errstate(over="ignore", invalid="ignore"):  # values beyond float32 are named below, not warned about
            x = wide.astype("float32")
        shape = self.input_shape
        if x.ndim >= 1 and x.size == self.size and x.ndim <= len(shape):  # one sample, e.g. an 8x8 image
            x = x.reshape(1, *shape)
        elif x.ndim >= 2 and math.prod(x.shape[1:]) == self.size:
            x = x.reshape(len(x), *shape)
        else:
            got = x.size if x.ndim <= 1 else math.prod(x.shape[1:])
            unit = "features" if len(shape) == 1 else "values"
            raise ValueError(f"data: samples of {got} {unit} (array shape {x.shape}); {self.model_name} expects "
                             f"{self.describe()}")
        if len(x) == 0:
            raise ValueError("data: holds no samples")
        bad = ~np.isfinite(x.reshape(len(x), -1)).all(axis=1)
        if bad.any():
            i = int(np.argmax(bad))
            if np.isfinite(wide.reshape(len(x), -1)[i]).all():
                big = wide.reshape(len(x), -1)[i][~np.isfinite(x.reshape(len(x), -1)[i])][0]
                raise ValueError(f"data: sample {first + i} holds {big:g}, beyond the float32 range the model computes "
                                 f"in (|value| <= {np.finfo('float32').max:.3g})")
            raise ValueError(f"data: sample {first + i} holds NaN or infinite values")
        return x


def read_inputs(path, *, header: bool | None = None) -> np.ndarray:
    """The samples in a ``.npz`` (array ``x``, else its first array) or a ``.csv`` of numbers (see :func:`iter_csv`).

    Raises:
        FileNotFoundError: no such file.
        ValueError: another kind of file, an empty or unreadable one, a CSV with rows
            of different lengths or cells that are not numbers (names the line).
    """
    path = _input_path(path)
    if path.suffix.lower() == ".npz":
        return _read_npz(path)
    chunks = [chunk for _, chunk in iter_csv(path, header=header)]
    return np.concatenate(chunks)


def iter_inputs(path, *, header: bool | None = None, chunk_values: int | None = None):
    """``(number of the first sample, samples)`` for each piece of an input file, in order.

    A ``.csv`` is read a chunk at a time (:func:`iter_csv`), so predicting on a file
    larger than memory holds one chunk; a ``.npz`` is one piece.
    """
    path = _input_path(path)
    if path.suffix.lower() == ".npz":
        yield 0, _read_npz(path)
        return
    yield from iter_csv(path, header=header, chunk_values=chunk_values)


def _input_path(path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"data: no such file {str(path)!r}")
    if path.suffix.lower() not in (".npz", ".csv"):
        raise ValueError(f"data: {path} must be a .npz (array x, or its first array) or a .csv of features")
    return path


def _read_npz(path: Path) -> np.ndarray:
    if not zipfile.is_zipfile(path):
        raise ValueError(f"data: {path} is not a .npz file (not a zip archive)")
    try:
        with np.load(path, allow_pickle=False) as f:
            if not f.files:
                raise ValueError(f"data: {path} holds no arrays")
            return f["x"] if "x" in f.files else f[f.files[0]]
    except ValueError as exc:
        if str(exc).startswith("data:"):
            raise
        raise ValueError(f"data: {path} is not a readable .npz of numbers ({exc})") from None
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"data: {path} is not a readable .npz ({type(exc).__name__}: {exc})") from None


#: Values per chunk of a CSV read by :func:`iter_csv` (8 MB as float64): memory stays flat however long the file.
CSV_CHUNK_VALUES = 1 << 20


def iter_csv(path, *, header: bool | None = None, chunk_values: int | None = None):
    """``(number of the first sample, float64 rows)`` for each chunk of a CSV of numbers.

    Blank lines are skipped; a UTF-8 byte-order mark is ignored. The first row is a
    header when ``header`` is True, data when False, and otherwise (None) a header
    exactly when none of its cells is a number: a row that mixes both is refused,
    so that no row of data is ever taken for a header.

    Raises:
        ValueError: not UTF-8, no rows, rows of different widths, an empty cell (a
            trailing comma) or one that is not a number, a first row of numbers and
            text; each names the line (and column).
    """
    path = Path(path)
    chunk_values = chunk_values or CSV_CHUNK_VALUES
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:  # -sig: a byte-order mark is not part of cell 1
            lines = enumerate(f, start=1)
            first = _first_row(lines)
            if first is not None and _is_header(path, first, header):
                first = _first_row(lines)
            if first is None:
                raise ValueError(f"data: {path} holds no rows of numbers" + (" after its header" if header else ""))
            width = len(first[1])
            per_chunk = max(1, chunk_values // max(width, 1))
            pending, done = np.asarray([_numbers(path, *first, width)], dtype="float64"), 0
            for block in iter(lambda: list(itertools.islice(lines, per_chunk)), []):
                rows = _parse_block(path, block, width)
                if pending is not None:  # the first row goes out with the first chunk (checked with it)
                    rows, pending = np.concatenate([pending, rows]), None
                if len(rows):
                    yield done, rows
                    done += len(rows)
            if pending is not None:
                yield 0, pending
    except UnicodeDecodeError:
        raise ValueError(f"data: {path} is not UTF-8 text") from None
    except csv.Error as exc:
        raise ValueError(f"data: {path} is not a readable CSV ({exc})") from None


def _first_row(lines):
    """``(line number, cells)`` of the next line that is not blank, or None."""
    for n, line in lines:
        for row in csv.reader([line]):
            if any(cell.strip() for cell in row):
                return n, row
    return None


def _parse_block(path: Path, block: list, width: int) -> np.ndarray:
    """The ``(line number, text)`` lines of one chunk as float64 ``(rows, width)``.

    NumPy's C parser reads a well-formed chunk (about 10x faster than a cell at a
    time); any chunk it does not read exactly (quotes, a bad cell, a short row) is
    read again line by line, which names the line and column at fault.
    """
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # "input contained no data" (blank lines only): read line by line
            rows = np.loadtxt([text for _, text in block], delimiter=",", dtype="float64", ndmin=2, comments=None)
        if rows.shape[1] == width:
            return rows
    except (ValueError, UserWarning):
        pass
    parsed = [(n, row) for n, text in block for row in csv.reader([text]) if any(cell.strip() for cell in row)]
    return np.asarray([_numbers(path, n, row, width) for n, row in parsed], dtype="float64").reshape(-1, width)


def _is_header(path: Path, first, header: bool | None) -> bool:
    if header is not None:
        return header
    n, row = first
    numeric = [_number(cell) is not None for cell in row]
    text = [not is_number and bool(cell.strip()) for cell, is_number in zip(row, numeric)]
    if not any(numeric):
        return True
    if any(text):  # an empty cell is neither: the data row's error names it
        bad = text.index(True)
        raise ValueError(f"data: {path} line {n} mixes numbers and text (column {bad + 1}: {_short(row[bad].strip())}): "
                         "a header holds no numbers and a data row no text; pass --header (header=True) to skip it "
                         "as a header, or fix the row")
    return False


def _number(cell: str):
    try:
        return float(cell)
    except ValueError:
        return None


def _numbers(path: Path, n: int, row: list, width: int) -> list:
    if len(row) != width:
        raise ValueError(f"data: {path} line {n} has {len(row)} columns, the first row {width}")
    values = []
    for j, cell in enumerate(row):
        value = _number(cell)
        if value is None:
            if not cell.strip():
                where = " (a trailing comma?)" if j == len(row) - 1 else ""
                raise ValueError(f"data: {path} line {n}, column {j + 1} is empty{where}; every cell must be a number")
            raise ValueError(f"data: {path} line {n} holds a cell that is not a number (column {j + 1}: "
                             f"{_short(cell.strip())})")
        values.append(value)
    return values


class LoadedModel:
    """A trained classifier with what prepares its inputs (:func:`load`).

    Attributes:
        model: the ``keras.Model`` as trained (its dtype policy included).
        run: the :class:`Run` it came from.
        preprocessor: the :class:`Preprocessor`.
        class_names: one name per output (Reuters topic names, iris species...).
    """

    def __init__(self, model, run: Run):
        self.model = model
        self.run = run
        self.preprocessor = run.preprocessor
        self.class_names = run.preprocessor.class_names

    @property
    def name(self) -> str:
        return self.run.model_name

    def prepare(self, raw) -> np.ndarray:
        """Raw samples (or texts, for a Reuters model) -> model inputs; see :meth:`Preprocessor.prepare`."""
        return self.preprocessor.prepare(raw)

    def predict(self, raw, *, prepared: bool = False) -> np.ndarray:
        """Class probabilities ``(n, num_classes)`` for raw samples (``prepared=True``: already prepared)."""
        x = self.preprocessor.check_shape(raw) if prepared else self.prepare(raw)
        return predict_prepared(self.model, x)

    def top(self, raw, k: int = 3, *, prepared: bool = False) -> list[list[tuple[str, float]]]:
        """The ``k`` most probable classes of each sample, as ``(class name, probability)``."""
        probs = self.predict(raw, prepared=prepared)
        return top_classes(probs, self.class_names, k)


def predict_prepared(model, x) -> np.ndarray:
    """``model``'s class probabilities for prepared inputs ``x``, as float64 ``(n, num_classes)``."""
    return np.asarray(model.predict(x, batch_size=PREDICT_BATCH_SIZE, verbose=0), dtype="float64")


def top_classes(probs, class_names, k: int) -> list[list[tuple[str, float]]]:
    """Per row of ``probs``, the ``k`` largest as ``(class name, probability)``, largest first.

    Raises:
        ValueError: ``k`` not an integer from 1 to the number of classes.
    """
    check_top(k, len(class_names))
    order = np.argsort(-probs, axis=1, kind="stable")[:, :k]
    return [[(class_names[j], float(p[j])) for j in row] for p, row in zip(probs, order)]


def check_top(k, n_classes: int) -> int:
    """``k`` if it is an integer from 1 to ``n_classes`` (a negative ``k`` would slice off classes from the end)."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= n_classes:
        raise ValueError(f"top: k must be an integer from 1 to {n_classes} (the model's classes), got {k!r}")
    return int(k)


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class LoadedEmbeddings:
    """A trained Word2Vec run: words -> vectors (:func:`load`).

    Attributes:
        model: the trained ``keras.Model`` (its ``input_vectors`` layer is the table).
        run: the :class:`Run`.
        words: the vocabulary in row order; ``index`` maps a word to its row.
    """

    def __init__(self, model, run: Run):
        self.model = model
        self.run = run
        self.words = run.words
        self.index = {w: i for i, w in enumerate(self.words)}
        table = model.get_layer("input_vectors")
        if table.input_dim != len(self.words):
            raise ValueError(f"run_dir: {run.model_path} has {table.input_dim} rows but metadata.tsv lists "
                             f"{len(self.words)} words; the folder mixes two runs: train again")

    @property
    def name(self) -> str:
        return self.run.model_name

    @property
    def vectors(self) -> np.ndarray:
        return np.asarray(self.model.get_layer("input_vectors").embeddings)

    def prepare(self, words) -> np.ndarray:
        """Words -> int32 row ids.

        Raises:
            ValueError: a word outside the vocabulary (named).
        """
        words = [words] if isinstance(words, str) else list(words)
        unknown = [w for w in words if w not in self.index]
        if unknown:
            raise ValueError(f"words: {', '.join(map(repr, unknown[:5]))} not in the {len(self.words):,}-word "
                             "vocabulary of this run")
        return np.asarray([self.index[w] for w in words], dtype="int32")

    def predict(self, words) -> np.ndarray:
        """The word vectors of ``words``, ``(len(words), vector_size)``."""
        return self.vectors[self.prepare(words)]

    def lookup_model(self):
        """A Keras model that maps int32 token ids ``(batch,)`` to their vectors ``(batch, vector_size)``.

        The trained ``input_vectors`` table in an ``Embedding`` layer of its own: what
        :func:`zoo.export` writes for a Word2Vec run.
        """
        import keras

        table = self.vectors
        ids = keras.Input(shape=(), dtype="int32", name="token_ids")
        layer = keras.layers.Embedding(table.shape[0], table.shape[1], name="word_vectors")
        model = keras.Model(ids, layer(ids), name=f"{self.name}_vectors")
        layer.set_weights([table])
        model(np.zeros((1,), dtype="int32"))  # Keras's export takes only a model that has been called
        return model


def load(run_dir, *, data_path=None):
    """Load a trained run with what is needed to prepare new inputs.

    Args:
        run_dir: a ``python -m zoo train`` run directory (a classifier) or a
            ``python -m zoo.word2vec train`` folder.
        data_path: where to look first for the Reuters word index (text inputs).

    Returns:
        :class:`LoadedModel` (``.model``, ``.prepare``, ``.predict``, ``.top``,
        ``.class_names``) or, for Word2Vec, :class:`LoadedEmbeddings`.

    Raises:
        FileNotFoundError: not a run directory, or one without a model.
        ValueError: a damaged run (a file that differs from the manifest, a model
            Keras cannot read), naming the file.

    Example:
        >>> import zoo
        >>> loaded = zoo.load("runs/reuters_mlp")                          # doctest: +SKIP
        >>> loaded.top("grain prices rose as wheat exports fell", k=2)    # doctest: +SKIP
        [[('grain', 0.8...), ('wheat', 0.1...)]]
    """
    run = open_run(run_dir, data_path=data_path)
    if run.kind == "word2vec":
        from .word2vec import initializers  # noqa: F401  registers GensimUniform, which the saved model names
    model = rundir.load_model(run.model_path)
    return LoadedEmbeddings(model, run) if run.kind == "word2vec" else LoadedModel(model, run)
