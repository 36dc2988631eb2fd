"""Pretrained presets: every zoo model trained, with a record that a test re-measures.

A preset is a folder ``<model>-<tag>/`` holding a record, ``preset.json``, and the
files it lists (the weights, ``weights.npz``; for a Reuters model the words of its
input columns, ``word_index.json``). The record says what the files are (bytes and
sha256), the one command that wrote them and the settings it trained with (model,
seed, epochs, batch, learning rate, the data and the hash of its arrays), the
package, Keras and TensorFlow versions, the test metrics measured from the stored
weights on the recorded split, the parameter count, the preprocessing the model
expects and its class names, the data's licence, whether training is
deterministic, and how the weights are stored (float16, and what float32 weights
scored). As torchvision's ``Weights`` and keras-hub's preset folders, plus what
neither does: ``tests/test_presets.py`` re-measures every recorded metric.

The presets the package ships are in ``zoo/presets/store/`` (package data, so they
work offline right after ``pip install``; docs/models.md says why there). A folder
named by ``ZOO_PRESETS_DIR`` is searched first, with the same records and checks;
``python -m zoo presets build NAME --out DIR`` writes one.

Every file is checked against its record before its first load, and again
whenever its size or mtime changes (the hash of a file whose size and mtime are
unchanged is remembered, in this process and in ``~/.cache/zoo/presets.json``).
A file that fails is named, with the expected and found hash and the command that
rebuilds it, and nothing is loaded from it.

Everything here reads JSON and NumPy headers only: ``python -m zoo presets`` and its
errors answer without TensorFlow. Loading is in :mod:`zoo.presets.loading`, building
in :mod:`zoo.presets.build`.

Example:
    >>> from zoo import presets
    >>> presets.list_presets()[:2]
    ['dense_classifier:iris', 'reuters_mlp:reuters']
    >>> presets.get("preset:reuters_mlp").record["metrics"]["accuracy"] > 0.79
    True
    >>> loaded = presets.load_preset("reuters_mlp")                         # doctest: +SKIP
    >>> loaded.top("wheat and grain exports rose", k=2)                     # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .. import checks
from .. import files as _files

#: A user's own folder of presets, searched before the package's.
PRESETS_DIR_ENV = "ZOO_PRESETS_DIR"
#: The presets shipped with the package (package data: setup.cfg ``[options.package_data]``).
STORE = Path(__file__).resolve().parent / "store"
RECORD = "preset.json"
WEIGHTS = "weights.npz"
#: What a reference to a preset starts with where a run directory could also be meant (``zoo.load``, ``export``).
PREFIX = "preset:"
#: The record layout this code reads; a record with another is refused (rebuild it).
FORMAT = 1
_NAME = re.compile(r"^[a-z][a-z0-9_]*:[a-z][a-z0-9_]*$")

#: What ``python -m zoo presets build`` trains for each shipped preset: the model with the
#: registry's training settings (its TrainSpec and factory defaults: the one place they live)
#: on the data named, with this seed. Reuters: one preset, the registry's batch 512 at 2e-3; the
#: notes' batch 128 at 1e-3 scores the same (0.80-0.81 over seeds, bench/README.md), so a second
#: set of 10 MB of weights would add nothing a user could tell apart.
PLANS = {
    "dense_classifier:iris": {"model": "dense_classifier", "data": "iris", "seed": 0, "kind": "classifier",
                              "description": "4 -> 8 -> 8 -> 3 MLP trained on iris (raw measurements in cm)"},
    "small_cnn:digits": {"model": "small_cnn", "data": "digits", "seed": 0, "kind": "classifier",
                         "description": "small convnet trained on scikit-learn's 8x8 digits (raw values 0-16)"},
    "reuters_mlp:reuters": {"model": "reuters_mlp", "data": "reuters", "seed": 0, "kind": "classifier",
                            "description": "dropout MLP trained on the Reuters newswires' 46 topics (raw English text)"},
    "word2vec_skipgram:reuters": {"model": "word2vec_skipgram", "data": "reuters", "seed": 0, "kind": "word2vec",
                                  "settings": {"sg": 1},
                                  "description": "skip-gram word vectors of the Reuters newswires' text "
                                                 "(gensim's default settings)"},
    "word2vec_cbow:reuters": {"model": "word2vec_cbow", "data": "reuters", "seed": 0, "kind": "word2vec",
                              "settings": {"sg": 0},
                              "description": "CBOW word vectors of the Reuters newswires' text (gensim's default "
                                             "settings)"},
}
#: The licence of each data source, as its publisher states it.
LICENCES = {
    "iris": "Iris (Fisher, 1936), UCI Machine Learning Repository: CC BY 4.0",
    "digits": "Optical Recognition of Handwritten Digits (Alpaydin & Kaynak, 1998), UCI Machine Learning "
              "Repository: CC BY 4.0",
    "reuters": "Reuters-21578, Distribution 1.0 (as redistributed by Keras): copyright Reuters Ltd.; Reuters and "
               "Carnegie Group allow free distribution for research purposes only",
}


class PresetError(ValueError):
    """A preset that does not exist, or whose files fail their record; the message is one line."""


@dataclass(frozen=True)
class Preset:
    """One preset folder, found but not yet checked (:func:`verify`).

    Attributes:
        name: ``"<model>:<tag>"``, e.g. ``"reuters_mlp:reuters"``.
        folder: the folder holding ``preset.json`` and its files.
        record: ``preset.json``.
        origin: ``"package"`` or the ``ZOO_PRESETS_DIR`` it was found in.
    """

    name: str
    folder: Path
    record: dict
    origin: str

    @property
    def model(self) -> str:
        return self.name.split(":")[0]

    @property
    def tag(self) -> str:
        return self.name.split(":")[1]

    @property
    def kind(self) -> str:
        """``"classifier"`` or ``"word2vec"``."""
        return self.record.get("kind", "classifier")

    def path(self, role: str = "weights") -> Path:
        """The file the record lists under ``role`` (``"weights"``, ``"word_index"``, ``"words"``)."""
        return self.folder / self.record["files"][role]["path"]

    @property
    def rebuild(self) -> str:
        """The command that writes this preset again."""
        out = "" if self.origin == "package" else f" --out {self.folder.parent}"
        return f"python -m zoo presets build {self.name}{out}"


def folder_name(name: str) -> str:
    """``"reuters_mlp:reuters"`` -> ``"reuters_mlp-reuters"`` (a colon is not allowed in Windows paths)."""
    return name.replace(":", "-")


def search_path() -> list[tuple[Path, str]]:
    """The folders searched, first wins: ``ZOO_PRESETS_DIR`` (if set), then the package's store."""
    found = []
    user = os.environ.get(PRESETS_DIR_ENV, "").strip()
    if user:
        path = Path(user).expanduser()
        if not path.is_dir():
            raise PresetError(f"{PRESETS_DIR_ENV}: {str(path)!r} is not a directory; point it at a folder of "
                              "preset folders (python -m zoo presets build NAME --out DIR writes one)")
        found.append((path, str(path)))
    found.append((STORE, "package"))
    return found


def discover() -> dict[str, Preset]:
    """Every preset, by name; a folder without a readable record is left out here (:func:`get` names it)."""
    out: dict[str, Preset] = {}
    for root, origin in search_path():
        for folder in sorted(p for p in root.iterdir() if (p / RECORD).is_file()):
            name = folder.name.replace("-", ":", 1)
            if name in out or not _NAME.match(name):
                continue
            try:
                record = read_record(folder)
            except PresetError:
                record = {}  # listed, and marked NO by status(); get() raises with the reason
            out[name] = Preset(name, folder, record, origin)
    return out


def list_presets() -> list[str]:
    """Names of every preset (``"model:tag"``), sorted.

    Example:
        >>> from zoo import presets
        >>> "small_cnn:digits" in presets.list_presets()
        True
    """
    return sorted(discover())


def is_reference(text) -> bool:
    """Whether ``text`` names a preset rather than a run directory: ``"preset:..."``, or ``"model:tag"``
    that is not an existing path."""
    if not isinstance(text, str):
        return False
    return text.startswith(PREFIX) or (bool(_NAME.match(text)) and not Path(text).exists())


def resolve_name(reference: str, known: dict[str, Preset] | None = None) -> str:
    """``"preset:reuters_mlp"``, ``"reuters_mlp:reuters"``, ``"reuters_mlp"`` -> ``"reuters_mlp:reuters"``.

    A model name alone means its preset, when it has exactly one.

    Raises:
        PresetError: no such preset (one line, with the close matches and the known presets).
    """
    if not isinstance(reference, str):
        raise TypeError(f"preset: expected a name such as 'reuters_mlp:reuters', got {reference!r}")
    text = reference[len(PREFIX):] if reference.startswith(PREFIX) else reference
    known = discover() if known is None else known
    if text in known:
        return text
    of_model = sorted(n for n in known if n.split(":")[0] == text)
    if len(of_model) == 1:
        return of_model[0]
    if of_model:
        raise PresetError(f"preset: {text!r} has {len(of_model)} presets; name one: {', '.join(of_model)}")
    choices = sorted(set(known) | {n.split(":")[0] for n in known})
    hint = checks.did_you_mean(text, choices)
    raise PresetError(f"preset: unknown preset {text!r}; {hint}known presets: {', '.join(sorted(known)) or 'none'}")


def get(reference: str) -> Preset:
    """The preset ``reference`` names (see :func:`resolve_name`), its record read and checked (not its files).

    Raises:
        PresetError: unknown name, or a record that is unreadable or names another preset.
    """
    known = discover()
    return _check_record(known[resolve_name(reference, known)])


def _check_record(preset: Preset) -> Preset:
    """``preset`` with its record read again and checked: it names this preset and a registered model."""
    name = preset.name
    record = read_record(preset.folder)  # raises with the reason the listing left it out for
    if record.get("name") != name:
        raise PresetError(f"preset: {preset.folder / RECORD} is the record for {record.get('name')!r}, not {name!r} "
                          f"(the folder's name); rebuild it: python -m zoo presets build {name}")
    from .. import registry

    if record.get("model") not in registry.list_models() or record["model"] != name.split(":")[0]:
        raise PresetError(f"preset: {preset.folder / RECORD} is for the model {record.get('model')!r}, not "
                          f"{name.split(':')[0]!r}; rebuild it: python -m zoo presets build {name}")
    return Preset(name, preset.folder, record, preset.origin)


def read_record(folder) -> dict:
    """``folder/preset.json``, with the keys a record must have.

    Raises:
        PresetError: damaged, or written in another layout (names the file).
    """
    path = Path(folder) / RECORD
    try:
        record = _files.read_json_object(path, argument="preset", required=("format", "name", "model", "files"),
                                         what="preset record", advice="rebuild it with python -m zoo presets build")
    except (ValueError, OSError) as exc:
        raise PresetError(str(exc)) from None
    if record["format"] != FORMAT:
        raise PresetError(f"preset: {path} has record format {record['format']!r}; this zoo reads format {FORMAT}: "
                          f"rebuild it with python -m zoo presets build {record['name']}")
    return record


# --------------------------------------------------------------------------- checks


def _cache_file() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "zoo" / "presets.json"


_SEEN: dict[str, tuple[int, int, str]] = {}  # resolved path -> (bytes, mtime_ns, sha256) of the last hash taken


def file_sha256(path: Path) -> str:
    """The sha256 of ``path``, taken again only when its size or mtime changed since it was last taken."""
    from ..rundir import digest

    path = Path(path).resolve()
    stat = path.stat()
    key = str(path)
    if not _SEEN:
        _SEEN.update(_read_cache())
    seen = _SEEN.get(key)
    if seen is not None and seen[0] == stat.st_size and seen[1] == stat.st_mtime_ns:
        return seen[2]
    sha = digest(path)
    _SEEN[key] = (stat.st_size, stat.st_mtime_ns, sha)
    _write_cache()
    return sha


def _read_cache() -> dict:
    try:
        data = json.loads(_cache_file().read_text(encoding="utf-8"))
        return {k: (int(v[0]), int(v[1]), str(v[2])) for k, v in data.items()}
    except (OSError, ValueError, TypeError, IndexError, AttributeError):
        return {}  # no cache, or a damaged one: every file is hashed again


def _write_cache() -> None:
    try:
        _files.write_json(_cache_file(), {k: list(v) for k, v in _SEEN.items()})
    except OSError:
        pass  # a read-only home: the hashes are taken again next time, nothing else changes


def verify(preset: Preset) -> Preset:
    """Check every file the record lists (present, its size, its sha256) and the weights' shapes; return ``preset``.

    Raises:
        PresetError: one line naming the file, what the record expects and what was found,
            and the command that rebuilds the preset.
    """
    rebuild = f"rebuild it: {preset.rebuild}"
    for role, entry in preset.record["files"].items():
        path = preset.folder / entry["path"]
        if not path.is_file():
            raise PresetError(f"preset: {path} is missing (listed in {preset.folder / RECORD}); {rebuild}")
        size = path.stat().st_size
        if size != entry["bytes"]:
            what = "empty" if size == 0 else "truncated" if size < entry["bytes"] else "changed"
            raise PresetError(f"preset: {path} is {size:,} bytes, its record says {entry['bytes']:,} ({what}); "
                              f"expected sha256 {entry['sha256']}, found {file_sha256(path)}; {rebuild}")
        found = file_sha256(path)
        if found != entry["sha256"]:
            raise PresetError(f"preset: {path} fails its hash check: expected sha256 {entry['sha256']}, found {found}; "
                              f"{rebuild}")
    shapes = weight_shapes(preset.path("weights"))
    layout = [tuple(shape) for _, shape in preset.record["weights"]["layout"]]
    if shapes != layout:
        raise PresetError(f"preset: {preset.path('weights')} holds {len(shapes)} arrays of "
                          f"{sum(math.prod(s) for s in shapes):,} values, not the {len(layout)} arrays of "
                          f"{preset.record['params']:,} parameters of {preset.model} its record describes; {rebuild}")
    return preset


def weight_shapes(path: Path) -> list[tuple]:
    """The shapes of the arrays ``w000``, ``w001``... in a weights ``.npz``, read from their headers."""
    import numpy as np

    shapes = []
    try:
        with zipfile.ZipFile(path) as archive:
            names = sorted(n for n in archive.namelist() if n.endswith(".npy"))
            for name in names:
                with archive.open(name) as f:
                    major, _ = np.lib.format.read_magic(f)
                    read = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
                    shape, _, _ = read(f)
                shapes.append(tuple(int(d) for d in shape))
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise PresetError(f"preset: {path} is not a readable weights archive ({type(exc).__name__}: {exc})") from None
    return shapes


def checked(reference: str) -> Preset:
    """:func:`get` then :func:`verify`: the preset, safe to load."""
    return verify(get(reference))


def status(preset: Preset) -> str:
    """``"yes"`` if every file matches its record, else the reason (for the listing)."""
    try:
        verify(_check_record(preset))
    except PresetError as exc:
        return "NO: " + str(exc).removeprefix("preset: ")
    return "yes"


def table() -> list[dict]:
    """One row per preset: name, data, metric, bytes on disk, storage, verified (``python -m zoo presets``)."""
    rows = []
    for name, preset in sorted(discover().items()):
        record = preset.record
        metric = record.get("metrics", {}).get("headline")
        value = record.get("metrics", {}).get(metric) if metric else None
        size = sum(int(e.get("bytes", 0)) for e in record.get("files", {}).values())
        rows.append({"name": name, "data": record.get("data", {}).get("name", "?"),
                     "metric": f"{metric} {value:.4f}" if value is not None else "?",
                     "bytes": size, "dtype": record.get("weights", {}).get("dtype", "?"),
                     "origin": preset.origin, "verified": status(preset)})
    return rows


# --------------------------------------------------------------------------- loading (TensorFlow from here)


def load_preset(reference: str, *, data_path=None):
    """Load a preset as :func:`zoo.load` loads a run: the model and what prepares its inputs.

    Args:
        reference: ``"reuters_mlp:reuters"``, ``"preset:reuters_mlp"`` or a model name with one preset.
        data_path: unused by the shipped presets (they carry their vocabulary); kept as ``zoo.load``'s.

    Returns:
        :class:`zoo.serving.LoadedModel` (``.predict``, ``.top``, ``.class_names``) or, for
        Word2Vec, :class:`zoo.presets.loading.PresetEmbeddings` (``.predict(words)``, ``.most_similar``).

    Raises:
        PresetError: unknown preset, or a file that fails its record (nothing is loaded).

    Example:
        >>> import zoo
        >>> zoo.load_preset("dense_classifier:iris").top([[5.1, 3.5, 1.4, 0.2]], k=1)    # doctest: +SKIP
        [[('setosa', 0.9...)]]
    """
    from . import loading

    return loading.load(checked(reference), data_path=data_path)


def load(run_dir_or_preset, *, data_path=None):
    """``zoo.load``: a run directory (:func:`zoo.serving.load`) or ``"preset:NAME"`` (:func:`load_preset`)."""
    if is_reference(run_dir_or_preset):
        return load_preset(run_dir_or_preset, data_path=data_path)
    from .. import serving

    return serving.load(run_dir_or_preset, data_path=data_path)


def export(run_dir_or_preset, format: str, out, **kwargs) -> dict:
    """``zoo.export``: a run directory (:func:`zoo.exporting.export`) or ``"preset:NAME"``."""
    if is_reference(run_dir_or_preset):
        from . import loading

        return loading.export(checked(run_dir_or_preset), format, out, **kwargs)
    from .. import exporting

    return exporting.export(run_dir_or_preset, format, out, **kwargs)


def create_model(name: str, *, weights: str | None = None, **overrides):
    """``zoo.create_model``: :func:`zoo.registry.create_model`, or with ``weights=`` a trained preset.

    Args:
        name: a name from ``zoo.list_models()``.
        weights: None (the default): freshly initialised weights. A preset's tag (``"reuters"``
            for ``reuters_mlp:reuters``, see ``python -m zoo presets``): the model as that preset
            was trained (its factory arguments, then ``overrides``), its checked weights loaded.
        **overrides: factory arguments, e.g. ``dropout=0.3`` or ``compile=False``.

    Returns:
        A ``keras.Model``, compiled unless ``compile=False``.

    Raises:
        ValueError: unknown name (with close matches) or an invalid or unknown argument.
        PresetError: no such preset, or a file that fails its record's check (nothing loaded).

    Example:
        >>> import zoo
        >>> zoo.create_model("dense_classifier").count_params()
        139
    """
    from .. import registry

    if weights is None:
        return registry.create_model(name, **overrides)
    registry.check_arguments(name, overrides)
    if not isinstance(weights, str):
        raise TypeError(f"weights: expected None or a preset tag such as 'reuters', got {weights!r}")
    from . import loading

    overrides = {"compile": True, **overrides}
    # Training on from a preset keeps the machine's arithmetic (bfloat16 where AMX has it), as a fresh model does.
    return loading.keras_model(checked(f"{name}:{weights}"), float32=False, **overrides)


def model_info(name: str) -> dict:
    """``zoo.model_info``: :func:`zoo.registry.model_info` plus ``presets``, the model's trained presets
    with their recorded headline metric (read from the records, no TensorFlow).

    Example:
        >>> import zoo
        >>> zoo.model_info("reuters_mlp")["presets"]["reuters_mlp:reuters"]["load"]
        "zoo.create_model('reuters_mlp', weights='reuters')"
    """
    from .. import registry

    info = registry.model_info(name)
    info["presets"] = {}
    for preset_name, preset in sorted(discover().items()):
        metrics = preset.record.get("metrics", {})
        if preset.model == name and metrics.get("headline"):
            info["presets"][preset_name] = {
                metrics["headline"]: metrics[metrics["headline"]], "data": preset.record["data"]["name"],
                "load": f"zoo.create_model({name!r}, weights={preset.tag!r})"}
    return info
