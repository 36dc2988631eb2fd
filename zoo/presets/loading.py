"""A checked preset as the objects a run gives: a Keras model, ``zoo.load``'s loaded model, an export.

Called with a preset that :func:`zoo.presets.verify` passed; only this module's
functions start TensorFlow (a Word2Vec preset needs none: its vectors are a table).

The weights are stored in float16 (``weights.npz``) and loaded into a float32 model
in float32 arithmetic on every machine (where training ran ``mixed_bfloat16`` hidden
layers, the loaded model computes in float32 all the same, as ``zoo export`` does):
so the recorded metrics, measured from the stored weights, are what every user
re-measures.
"""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from .. import datasets, files, serving
from . import PresetError, Preset

#: A fixed timestamp for the members of ``weights.npz``, so the same arrays give the same bytes.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


# --------------------------------------------------------------------------- the weights file


def write_weights(path, arrays) -> None:
    """``arrays`` as ``w000.npy, w001.npy...`` in a deflated ``.npz``, byte for byte the same for the same arrays.

    ``numpy.savez_compressed`` stamps each member with the time of writing; this
    writes the same format with a fixed stamp, so a deterministic build reproduces
    the file exactly. Written atomically.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for i, array in enumerate(arrays):
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"w{i:03d}.npy", date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, member.getvalue(), compresslevel=9)
    files.write_bytes(path, buffer.getvalue())


def read_weights(path, dtype="float32") -> list[np.ndarray]:
    """The arrays of a weights ``.npz`` in order, cast to ``dtype`` (float16 -> float32 is exact)."""
    with np.load(path, allow_pickle=False) as f:
        return [f[name].astype(dtype) for name in sorted(f.files)]


# --------------------------------------------------------------------------- classifiers


def factory_kwargs(preset: Preset) -> dict:
    """The factory arguments the preset was trained with (JSON lists back to tuples)."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in preset.record["build"]["factory_kwargs"].items()}


def keras_model(preset: Preset, *, compile: bool = False, float32: bool = True, **overrides):
    """The preset's ``keras.Model``, its weights loaded.

    Args:
        preset: a checked preset (:func:`zoo.presets.checked`).
        compile: compile it (for training on), as ``zoo.create_model`` does.
        float32: float32 layers everywhere (what the record was measured with); False keeps
            the machine's choice (``mixed_bfloat16`` hidden layers on AMX-BF16), as for training.
        **overrides: other factory arguments (``dropout=0.3``); ones that change a weight's
            shape are refused.

    Raises:
        PresetError: the weights do not fit the model (names the preset and the shapes).
    """
    from .. import registry

    kwargs = {**factory_kwargs(preset), **overrides}
    model = registry.create_model(preset.model, compile=compile, **kwargs)
    arrays = read_weights(preset.path("weights"))
    wanted = [tuple(w.shape) for w in model.weights]
    if wanted != [a.shape for a in arrays]:
        changed = sorted(set(overrides) & set(factory_kwargs(preset)))
        raise PresetError(f"preset: {preset.name}'s weights ({len(arrays)} arrays) do not fit {preset.model} built "
                          f"with {', '.join(changed) or 'these arguments'}: the model's weights have shapes {wanted[:4]}"
                          f"{'...' if len(wanted) > 4 else ''}; leave the arguments that set shapes as the preset has them")
    model.set_weights(arrays)
    if float32 and any(getattr(layer, "compute_dtype", "float32") != "float32" for layer in model.layers):
        from ..exporting import float32_copy

        model = float32_copy(model)
    return model


def run_of(preset: Preset) -> serving.Run:
    """The :class:`zoo.serving.Run` a classifier preset stands for: its folder, record and preprocessing
    (the shapes from the record: no TensorFlow)."""
    record = preset.record
    input_shape, num_outputs = tuple(record["input_shape"]), len(record["class_names"])
    pre = serving.Preprocessor(record["preprocessing"], input_shape=input_shape, num_classes=num_outputs,
                               model_name=preset.name)
    if "word_index" in record["files"]:
        # The words of the model's input columns ship with the preset, so text needs no download:
        # the subset encodes every text as the full index does (a word outside it is out of vocabulary).
        pre._word_index = json.loads(preset.path("word_index").read_text(encoding="utf-8"))
    config = {"model": preset.model, "data": record["data"]["name"], "seed": record["build"]["seed"],
              "preset": preset.name, "preprocessing": record["preprocessing"]}
    return serving.Run(preset.folder, "classifier", preset.model, config, input_shape, num_outputs,
                       preprocessor=pre)


def load(preset: Preset, *, data_path=None):
    """The object :func:`zoo.load` returns for a run, for a checked preset."""
    if preset.kind == "word2vec":
        return PresetEmbeddings(preset)
    from .. import cli

    cli.import_tensorflow()
    return serving.LoadedModel(keras_model(preset), run_of(preset))


def test_split(preset: Preset, *, data_path=None):
    """``(x_test, y_test)`` of the preset's recorded split, after checking it is the split recorded.

    Raises:
        PresetError: the data differ from the recorded arrays' hash (another dataset version).
    """
    data = preset.record["data"]
    _, (x_test, y_test) = datasets.load_data(data["name"], data_path=data_path, seed=data["seed"])
    found = arrays_sha256(x_test, y_test)
    if found != data["test_sha256"]:
        raise PresetError(f"preset: {preset.name}'s test split differs from the recorded one (sha256 of its arrays "
                          f"{found}, recorded {data['test_sha256']}); the data source changed")
    return x_test, y_test


def arrays_sha256(*arrays) -> str:
    """One sha256 over arrays' dtypes, shapes and bytes: names a split exactly."""
    import hashlib

    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def measure(preset: Preset, loaded=None, *, data_path=None) -> dict:
    """The test metrics of the stored weights on the recorded split: what the record holds and a test re-measures.

    Classifier: ``accuracy``, ``macro_f1`` and, above 5 classes, ``top5_accuracy``. Word2Vec:
    gensim's WordSim-353 and analogy evaluation of the stored vectors.
    """
    loaded = loaded if loaded is not None else load(preset, data_path=data_path)
    if preset.kind == "word2vec":
        from ..word2vec import evaluation

        result = evaluation.evaluate(loaded.wv)
        return {k: v for k, v in result.items() if k != "analogy_sections"}
    from ..metrics import ClassificationReport

    x_test, y_test = test_split(preset, data_path=data_path)
    probs = loaded.predict(x_test, prepared=True)
    report = ClassificationReport.from_predictions(y_test, probs, class_names=loaded.class_names)
    return {"test_samples": int(len(y_test)), **report.scores}


# --------------------------------------------------------------------------- Word2Vec


class PresetEmbeddings(serving.LoadedEmbeddings):
    """A Word2Vec preset: words -> vectors, as :class:`zoo.serving.LoadedEmbeddings` is for a run
    (``.words``, ``.index``, ``.vectors``, ``.prepare``, ``.predict``, ``.lookup_model``), with no Keras
    model behind it: the vectors are the stored table.

    Attributes:
        preset: the checked preset.
        wv: the vectors as a gensim ``KeyedVectors`` (``most_similar``, ``evaluate_word_analogies``...).
    """

    def __init__(self, preset: Preset):
        self.preset, self.model, self.run = preset, None, None
        self.words = serving._read_words(preset.path("words"))
        self.index = {w: i for i, w in enumerate(self.words)}
        (self._vectors,) = read_weights(preset.path("weights"))
        if len(self._vectors) != len(self.words):
            raise PresetError(f"preset: {preset.path('weights')} has {len(self._vectors)} rows but "
                              f"{preset.path('words')} lists {len(self.words)} words; rebuild it: {preset.rebuild}")
        self._wv = None

    @property
    def name(self) -> str:
        return self.preset.model

    @property
    def vectors(self) -> np.ndarray:
        return self._vectors

    @property
    def wv(self):
        if self._wv is None:
            from gensim.models import KeyedVectors

            wv = KeyedVectors(self._vectors.shape[1])
            wv.add_vectors(self.words, self._vectors)
            self._wv = wv
        return self._wv

    def most_similar(self, word, topn: int = 10):
        """gensim's ``most_similar``: the ``topn`` nearest words by cosine similarity (an unknown word is named)."""
        self.prepare(word)
        return self.wv.most_similar(word, topn=topn)


# --------------------------------------------------------------------------- export


def export(preset: Preset, format: str, out, **kwargs) -> dict:
    """``zoo.export`` for a preset: written as a run into a temporary folder, exported and verified from there.

    A classifier preset becomes a ``python -m zoo train`` run (``model.keras`` in float32, its
    config and manifest); a Word2Vec preset a ``python -m zoo.word2vec train`` folder (its vectors
    as the ``input_vectors`` table). The export is named after the preset (``small_cnn-digits.onnx``),
    and its report names the preset instead of the temporary folder.
    """
    from .. import cli, exporting

    exporting.check_format(format)
    cli.import_tensorflow()
    with tempfile.TemporaryDirectory(prefix="zoo-preset-") as tmp:
        run_dir = Path(tmp) / preset.folder.name
        run_dir.mkdir()
        (_word2vec_run if preset.kind == "word2vec" else _classifier_run)(preset, run_dir)
        report = exporting.export(run_dir, format, out, **kwargs)
    report["run_dir"] = None
    report["preset"] = preset.name
    files.write_json(Path(f"{report['path']}.json"), report)
    return report


def _classifier_run(preset: Preset, run_dir: Path) -> None:
    from .. import rundir

    model = keras_model(preset)
    save = rundir.FinalSave(run_dir)
    save.write("model.keras", lambda p: files.save_model(model, p))
    config = {"model": preset.model, "data": preset.record["data"]["name"], "seed": preset.record["build"]["seed"],
              "preprocessing": preset.record["preprocessing"]}
    save.write("config.json", lambda p: files.write_json(p, config))
    save.commit()


def _word2vec_run(preset: Preset, run_dir: Path) -> None:
    from .. import registry

    vectors = read_weights(preset.path("weights"))[0]
    model = registry.create_model(preset.model, vocab_size=len(vectors), vector_size=vectors.shape[1], compile=False)
    model.get_layer("input_vectors").set_weights([vectors])
    files.save_model(model, run_dir / "model.keras")
    files.write_json(run_dir / "settings.json", preset.record["build"]["settings"])
    files.write_text(run_dir / "metadata.tsv", preset.path("words").read_text(encoding="utf-8"))
