"""``zoo.export(run_dir, format, out)``: a trained run as a SavedModel, ONNX, LiteRT or ``.keras`` file, verified.

Each export is loaded back in its own runtime -- ``tf.saved_model.load``,
``onnxruntime.InferenceSession``, the LiteRT ``Interpreter`` (``ai_edge_litert``),
``keras.models.load_model`` -- and run on the run's test split (or given
inputs); it is kept only if it agrees with the Keras model there: the same
argmax on every sample and probabilities within :data:`TOLERANCE`. The export is
written under a temporary name beside its destination and renamed into place
once verified; a report (format, size, SHA-256, agreement, the preprocessing
and class names a server needs) is written beside it as ``<export>.json``.

What the exported graph computes in: float32, every layer. A model trained on a
CPU with AMX-BF16 has ``mixed_bfloat16`` hidden layers (:func:`zoo.platform.use_bfloat16`);
its weights are float32 all the same, and ONNX Runtime and LiteRT have no
bfloat16 matrix product on CPU, so the graph is rebuilt with float32 layers (and
:class:`zoo.layers.SparseInputDense`, which skips absent words with a gather,
becomes the ``Dense`` layer it equals). The export is held against Keras
running that float32 model; against the model as trained (bfloat16 arithmetic)
the report gives the agreement too, under ``vs_keras_as_trained``, with its own,
wider bound (:data:`BFLOAT16_TOLERANCE`).

A SavedModel holds every weight twice (Keras 3.15's ``model.export`` writes each
variable under both ``variables`` and ``_all_variables``: keras-team/keras#23553),
so it is about twice the size of the ONNX or LiteRT file. The ``keras`` format is
the run's own ``model.keras``, copied and verified (dtype policy and optimizer
state included, so it is the largest). A Word2Vec run exports its word vectors (the
``input_vectors`` table) as a model ``token ids (batch,) int32 -> vectors
(batch, vector_size)``, verified on every row of the table; the vocabulary is
written beside it (``<export>.vocab.txt``, one word a line, line ``i`` = id ``i``).
A Reuters classifier gets ``<export>.vocab.txt`` too: line ``i`` is the word of
input column ``i``.

Example:
    >>> import zoo
    >>> report = zoo.export("runs/reuters_mlp", "onnx", "exported/")     # doctest: +SKIP
    >>> report["path"], report["argmax_agreement"], report["max_abs_diff"] < 1e-5   # doctest: +SKIP
    ('exported/reuters_mlp.onnx', 1.0, True)
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from . import files, rundir, serving

#: format -> (file suffix, runtime that loads it back, the Keras ``export`` format or None).
FORMATS = {
    "saved_model": (".saved_model", "tensorflow (tf.saved_model.load)", "tf_saved_model"),
    "onnx": (".onnx", "onnxruntime (CPUExecutionProvider)", "onnx"),
    "litert": (".tflite", "ai_edge_litert (Interpreter)", "litert"),
    "keras": (".keras", "keras (keras.models.load_model)", None),
}
#: What each kind of run exports to. The Word2Vec export is the table, not the training model.
SUPPORTED = {"classifier": tuple(FORMATS), "word2vec": tuple(FORMATS)}
#: Largest |difference| allowed between an export and Keras running the same float32 graph
#: (probabilities, or vector components for Word2Vec). Both compute in float32; they differ
#: only in the order of additions (oneDNN, MLAS, XNNPACK), a few units in the 7th digit for
#: a 10,000-term sum of small products.
TOLERANCE = 1e-5
#: Largest |probability difference| allowed between the float32 export and a model trained with
#: mixed_bfloat16 layers: bfloat16 keeps 8 significant bits (relative rounding 2**-9, about 0.002)
#: on each hidden layer's inputs and outputs, and the roundings compound through the layers and
#: the softmax. Where the two disagree on the top class, the model's own top two probabilities
#: must be within this bound too: a near tie that bfloat16 rounding can turn.
BFLOAT16_TOLERANCE = 0.02
#: The extra that installs the export runtimes.
EXTRA = 'pip install -e ".[export]"'


class VerificationFailed(ValueError):
    """The export, run in its own runtime, does not agree with the Keras model; nothing was written."""


def check_format(format: str) -> str:
    """``format`` if known.

    Raises:
        ValueError: names the formats that exist.
    """
    if format not in FORMATS:
        raise ValueError(f"format: {format!r} is not one of {', '.join(FORMATS)}")
    return format


def destination(run: serving.Run, format: str, out) -> Path:
    """Where the export goes: ``out`` itself if it ends with the format's suffix, else ``out/<run name><suffix>``."""
    suffix = FORMATS[format][0]
    out = Path(out)
    if out.name.endswith(suffix) and out.name != suffix:
        return out
    for other, (other_suffix, _, _) in FORMATS.items():
        if out.name.endswith(other_suffix):
            raise ValueError(f"out: {str(out)!r} ends with {other_suffix}, the suffix of {other} exports; a {format} "
                             f"export goes to a path ending {suffix}, or into a folder")
    return out / f"{run.path.resolve().name}{suffix}"


def plan(run_dir, format: str, out, *, overwrite: bool = False, data_path=None):
    """Every check of an export that needs no TensorFlow; returns ``(run, destination)``.

    Raises:
        ValueError: unknown format, an unsupported combination, a destination that exists
            (without ``overwrite``) or cannot be written.
        FileNotFoundError: see :func:`zoo.serving.open_run`.
    """
    check_format(format)
    run = serving.open_run(run_dir, data_path=data_path)
    if format not in SUPPORTED[run.kind]:
        raise ValueError(f"format: {format!r} is not supported for {run.model_name}; supported: "
                         f"{', '.join(SUPPORTED[run.kind])}")
    dest = destination(run, format, out)
    if (dest.exists() or dest.is_symlink()) and not overwrite:
        raise ValueError(f"out: {dest} exists; pass --overwrite (overwrite=True) to replace it once the new export "
                         "is verified, or choose another --out")
    if dest.resolve().is_relative_to(run.path.resolve()):
        raise ValueError(f"out: {dest} is inside the run directory {run.path}; export somewhere else")
    files.ensure_writable_dir(dest.parent, argument="out")
    return run, dest


def export(run_dir, format: str, out, *, data=None, prepared: bool = False, overwrite: bool = False,
           data_path=None, verbose: bool = False) -> dict:
    """Export a trained run in ``format`` to ``out``, verified in the format's own runtime.

    Args:
        run_dir: a ``python -m zoo train`` run or a ``python -m zoo.word2vec train`` folder.
        format: ``"saved_model"``, ``"onnx"``, ``"litert"`` or ``"keras"``.
        out: the export's path (ending ``.saved_model``, ``.onnx``, ``.tflite``, ``.keras``)
            or a folder to put ``<run name><suffix>`` in.
        data: samples to verify on instead of the test split: raw (prepared as
            :func:`zoo.load` prepares them) unless ``prepared``; for Word2Vec, words.
        prepared: ``data`` is already prepared.
        overwrite: replace an existing export (only once the new one is verified).
        data_path: where to look first for the data files (Reuters).
        verbose: print what the converters print.

    Returns:
        The report, also written to ``<export>.json``: format, path, bytes, sha256
        (a file's; a SavedModel's ``saved_model.pb``), computes_in, samples, argmax
        agreement, max |difference|, tolerance, runtime, seconds, and what a server
        needs (input, output, preprocessing, class names).

    Raises:
        ValueError: unknown format (named with the known ones), unsupported combination,
            bad ``data``, a damaged run; :class:`VerificationFailed` if the export disagrees.
        FileNotFoundError: no run, no model, no data.
        ImportError: the format's converter or runtime is not installed (names the extra).
    """
    run, dest = plan(run_dir, format, out, overwrite=overwrite, data_path=data_path)
    loaded = serving.load(run.path, data_path=data_path)
    start = time.perf_counter()
    as_trained = None  # the model's own outputs, where it computes in bfloat16 and the export does not
    if run.kind == "word2vec":
        graph = loaded.lookup_model()
        x = loaded.prepare(data) if data is not None else np.arange(len(loaded.words), dtype="int32")
        what, computes_in = "vectors", "float32 (a table lookup: the vectors are copied exactly)"
        reference = "the trained input_vectors table"
    else:
        x = _verification_inputs(loaded, data, prepared, data_path)
        what, bfloat16 = "probabilities", _uses_bfloat16(loaded.model)
        if format == "keras":  # the trained file itself: held against the model it was loaded as
            graph, reference = loaded.model, "the Keras model as loaded from the run"
            computes_in = ("as trained: mixed_bfloat16 hidden layers (the .keras file keeps its dtype policy)"
                           if bfloat16 else "float32")
        else:
            graph, reference, computes_in = float32_copy(loaded.model), "Keras running the same float32 graph", "float32"
            if bfloat16:
                as_trained = keras_predict(loaded.model, x)
                computes_in += " (the model was trained with mixed_bfloat16 hidden layers; its weights are float32)"
    want = loaded.vectors[x] if run.kind == "word2vec" else keras_predict(graph, x)

    tmp = _temporary(dest)
    try:
        _write(format, graph, run, tmp, verbose=verbose)
        got = run_export(format, tmp, x)
        report = {"format": format, "path": str(dest), "model": run.model_name, "run_dir": str(run.path),
                  "computes_in": computes_in, "runtime": FORMATS[format][1], **_size(tmp), "verified": False,
                  "compared_with": reference}
        report.update(compare(got, want, what=what))
        if as_trained is not None:
            report["vs_keras_as_trained"] = compare_bfloat16(got, as_trained)
        report["verified"] = _passed(report)
        if not report["verified"]:
            raise VerificationFailed(_failure(report, format, run))
        report.update(_serving_info(run, graph, format))
        report["seconds"] = round(time.perf_counter() - start, 3)
        _move_into_place(tmp, dest, overwrite=overwrite)
    finally:
        _remove(tmp)
    vocab = _vocabulary(loaded, run)
    if vocab is not None:
        files.write_text(Path(f"{dest}.vocab.txt"), "".join(w.replace("\n", "\\n") + "\n" for w in vocab))
        report["vocabulary"] = f"{dest.name}.vocab.txt"
    files.write_json(Path(f"{dest}.json"), report)
    return report


# --------------------------------------------------------------------------- the graph


def _uses_bfloat16(model) -> bool:
    return any(getattr(layer, "compute_dtype", "float32") == "bfloat16" for layer in model.layers)


def float32_copy(model):
    """The same model with float32 layers and plain ``Dense`` for ``SparseInputDense``, sharing no state.

    ``SparseInputDense`` equals ``Dense`` for every input (its skipped columns are
    exactly zero); the gather it uses to skip them is what a bag-of-words needs in
    training, not in a serving graph.
    """
    import keras

    from .layers import SparseInputDense

    def clone(layer):
        config = layer.get_config()
        if isinstance(layer, keras.layers.InputLayer):
            return layer.__class__.from_config(config)
        config["dtype"] = "float32"
        cls = keras.layers.Dense if isinstance(layer, SparseInputDense) else layer.__class__
        return cls.from_config(config)

    copy = keras.models.clone_model(model, clone_function=clone)
    copy.set_weights(model.get_weights())
    return copy


def _verification_inputs(loaded, data, prepared: bool, data_path) -> np.ndarray:
    """The run's test split, prepared as in training (or ``data``)."""
    if data is not None:
        if isinstance(data, (str, os.PathLike)) and Path(data).suffix.lower() in (".npz", ".csv"):
            data = serving.read_inputs(data)
        return loaded.preprocessor.check_shape(data) if prepared else loaded.prepare(data)
    from . import datasets

    config = loaded.run.config
    where = data_path if data_path is not None else rundir.recorded_data_path(config)
    state = loaded.preprocessor.state
    if state["kind"] == "multi_hot":  # only the test split multi-hot encoded: the training split is 4x larger
        _, (seqs, _) = datasets.load_reuters(path=where, num_words=state["num_words"], preprocess=False)
        return datasets.multi_hot(seqs, state["num_words"])
    _, (x_test, _) = datasets.load_data(config["data"], data_path=where, seed=config["seed"])
    return loaded.preprocessor.check_shape(x_test)


def _write(format: str, graph, run, tmp: Path, *, verbose: bool) -> None:
    if format == "keras":
        if run.kind == "classifier":
            shutil.copyfile(run.model_path, tmp)  # the trained file itself, as the manifest vouched for it
        else:
            graph.save(tmp)
        return
    try:
        with warnings.catch_warnings():
            # Keras's tf2onnx shim asks numpy for np.object, which numpy 2 answers with a FutureWarning.
            warnings.filterwarnings("ignore", message=".*np.object.*", category=FutureWarning)
            graph.export(str(tmp), format=FORMATS[format][2], verbose=verbose)
    except ImportError as exc:
        raise ImportError(f"format: {format} needs {exc.name or 'its converter'} ({EXTRA})") from None


def keras_predict(model, x, *, batch_size: int = 512) -> np.ndarray:
    """``model(x)`` in inference mode, ``batch_size`` rows at a time, as NumPy.

    Called eagerly: ``model.predict`` would trace a function for each model, which
    for a one-off comparison costs more than it saves.
    """
    import keras

    return np.concatenate([keras.ops.convert_to_numpy(model(x[i:i + batch_size], training=False))
                           for i in range(0, len(x), batch_size)])


def run_export(format: str, path: Path, x: np.ndarray, *, batch_size: int = 512) -> np.ndarray:
    """Load the export at ``path`` in its own runtime and run it on ``x``, ``batch_size`` rows at a time.

    Raises:
        ImportError: the runtime is not installed (names the extra).
    """
    run = _runtime(format, path)
    return np.concatenate([run(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])


def _runtime(format: str, path: Path):
    try:
        if format == "saved_model":
            import tensorflow as tf

            artifact = tf.saved_model.load(str(path))  # kept alive by the closure: serve() needs its variables
            return lambda batch: artifact.serve(batch).numpy()
        if format == "onnx":
            import onnxruntime

            session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
            name = session.get_inputs()[0].name
            return lambda batch: session.run(None, {name: batch})[0]
        if format == "litert":
            from ai_edge_litert.interpreter import Interpreter

            interpreter = Interpreter(model_path=str(path))
            (inp,), (outp,) = interpreter.get_input_details(), interpreter.get_output_details()

            def run(batch):
                interpreter.resize_tensor_input(inp["index"], batch.shape)
                interpreter.allocate_tensors()
                interpreter.set_tensor(inp["index"], batch)
                interpreter.invoke()
                return interpreter.get_tensor(outp["index"]).copy()

            return run
    except ImportError as exc:
        raise ImportError(f"format: {format} needs the {exc.name} runtime ({EXTRA})") from None
    model = rundir.load_model(path)
    return lambda batch: keras_predict(model, batch)


# --------------------------------------------------------------------------- the comparison


def compare(got, want, *, what: str = "probabilities") -> dict:
    """Agreement of ``got`` with ``want``: argmax per row (classifiers) and the largest |difference|."""
    got, want = np.asarray(got, dtype="float64"), np.asarray(want, dtype="float64")
    if got.shape != want.shape:
        return {"samples": int(len(want)), "shape_mismatch": f"{got.shape} != {want.shape}", "tolerance": TOLERANCE}
    out = {"samples": int(len(want)), "compared": what}
    if what == "probabilities":
        same = got.argmax(axis=1) == want.argmax(axis=1)
        out.update({"argmax_agreement": float(same.mean()), "argmax_disagreements": int((~same).sum())})
    out.update({"max_abs_diff": float(np.abs(got - want).max()), "tolerance": TOLERANCE})
    return out


def compare_bfloat16(got, as_trained) -> dict:
    """Agreement of the float32 export with the model as trained in bfloat16 (see :data:`BFLOAT16_TOLERANCE`)."""
    got, want = np.asarray(got, dtype="float64"), np.asarray(as_trained, dtype="float64")
    out = compare(got, want)
    top2 = np.sort(want, axis=1)[:, -2:]
    differ = got.argmax(axis=1) != want.argmax(axis=1)
    margins = (top2[:, 1] - top2[:, 0])[differ]
    out.update({"tolerance": BFLOAT16_TOLERANCE,
                "disagreements_are_near_ties": bool(np.all(margins <= BFLOAT16_TOLERANCE)),
                "largest_margin_where_they_disagree": float(margins.max()) if len(margins) else None})
    return out


def _passed(report: dict) -> bool:
    if "shape_mismatch" in report:
        return False
    ok = report.get("argmax_disagreements", 0) == 0 and report["max_abs_diff"] <= TOLERANCE
    bf = report.get("vs_keras_as_trained")
    if bf is not None:
        ok = ok and bf["max_abs_diff"] <= BFLOAT16_TOLERANCE and bf["disagreements_are_near_ties"]
    return ok


def _failure(report: dict, format: str, run) -> str:
    if "shape_mismatch" in report:
        detail = f"output shapes differ ({report['shape_mismatch']})"
    else:
        detail = (f"argmax differs on {report.get('argmax_disagreements', 0)} of {report['samples']} samples, max "
                  f"|difference| {report['max_abs_diff']:.3g} (tolerance {TOLERANCE:g})")
        bf = report.get("vs_keras_as_trained")
        if bf is not None:
            detail += (f"; against the bfloat16 model: max |difference| {bf['max_abs_diff']:.3g} (tolerance "
                       f"{BFLOAT16_TOLERANCE:g}), disagreements only on near ties: {bf['disagreements_are_near_ties']}")
    return f"the {format} export of {run.model_name} does not agree with Keras: {detail}; nothing was written"


# --------------------------------------------------------------------------- files


def _temporary(dest: Path) -> Path:
    """A fresh name beside ``dest`` (same folder, so the final rename is atomic), keeping its suffix."""
    fd, name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=f".tmp{dest.suffix}")
    os.close(fd)
    os.unlink(name)  # the exporters create the file or folder themselves
    return Path(name)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _move_into_place(tmp: Path, dest: Path, *, overwrite: bool) -> None:
    """``os.replace`` for a file; a folder (SavedModel) that exists is moved aside first and removed after."""
    if tmp.is_dir() and dest.exists():
        if not overwrite:
            raise ValueError(f"out: {dest} appeared while exporting; nothing was replaced")
        old = _temporary(dest)
        os.replace(dest, old)
        os.replace(tmp, dest)
        _remove(old)
    else:
        os.replace(tmp, dest)


def _size(path: Path) -> dict:
    if path.is_dir():
        total = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
        pb = path / "saved_model.pb"
        return {"bytes": total, "sha256": rundir.digest(pb) if pb.is_file() else None,
                "sha256_of": "saved_model.pb"}
    return {"bytes": path.stat().st_size, "sha256": rundir.digest(path)}


def _serving_info(run, graph, format: str) -> dict:
    """What a server outside Python needs besides the file: input, output, preprocessing, class names."""
    info = {"input": {"shape": [None, *graph.input_shape[1:]], "dtype": str(graph.inputs[0].dtype)},
            "output": {"shape": [None, *graph.output_shape[1:]]}}
    if run.kind == "classifier":
        info["output"]["means"] = "class probabilities (softmax)"
        info["preprocessing"] = run.preprocessor.state
        info["class_names"] = run.preprocessor.class_names
    else:
        info["output"]["means"] = "word vectors (rows of the trained input_vectors table)"
        info["input"]["means"] = "token ids: line i of the .vocab.txt beside this file is token i"
    return info


def _vocabulary(loaded, run) -> list[str] | None:
    """The words by input column (Reuters) or token id (Word2Vec); None for other models or without the index."""
    if run.kind == "word2vec":
        return list(loaded.words)
    pre = run.preprocessor
    if pre.kind != "multi_hot":
        return None
    from . import datasets

    try:
        index = pre.word_index
    except FileNotFoundError as exc:  # the export stands without it; text then cannot be encoded outside Python
        import sys

        print(f"warning: no vocabulary written beside the export ({exc})", file=sys.stderr)
        return None
    num_words = pre.state["num_words"]
    words = ["<pad>", "<start>", "<oov>", "<unused>"] + [""] * (num_words - 4)
    for word, i in index.items():
        column = i + datasets.REUTERS_INDEX_FROM
        if column < num_words:
            words[column] = word
    return words

