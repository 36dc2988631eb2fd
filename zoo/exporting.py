"""``zoo.export(run_dir, format, out)``: a trained run as a SavedModel, ONNX, LiteRT or ``.keras`` file, verified.

Each export is loaded back in its own runtime -- ``tf.saved_model.load``,
``onnxruntime.InferenceSession``, the LiteRT ``Interpreter`` (``ai_edge_litert``),
``keras.models.load_model`` -- and run on the run's test split (or given
inputs); it is kept only if it agrees with the Keras model there: the same
argmax on every sample and probabilities within :data:`TOLERANCE`. A report
(format, size, SHA-256, agreement, the preprocessing and class names a server
needs) goes beside the export as ``<export>.json``.

The export and its report (and vocabulary) change together, old or new, never a
mix and never nothing (:func:`write_journal`, :func:`roll_forward`): each is written whole under a temporary
name beside its destination; then a journal (``.<export>.publishing.json``) names
the renames to make, and only then are they made, the export first. A process
killed during the renames leaves the journal, and the next export to that
destination finishes them before anything else (:func:`recover`). A folder
(SavedModel) that replaces another is swapped in by one atomic exchange
(``renameat2(RENAME_EXCHANGE)``, Linux), so its name never points at nothing.

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

import contextlib
import errno
import os
import shutil
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from . import extras, files, rundir, serving

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
#: The extra that installs the export converters and runtimes, and what each format needs of it.
EXTRA = "export"
NEEDS = {"saved_model": (), "onnx": ("tf2onnx", "onnx", "onnxruntime"), "litert": ("ai_edge_litert",), "keras": ()}


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
    if not isinstance(out, (str, os.PathLike)):
        raise TypeError(f"out: expected the export's path or a folder (str or os.PathLike), got {out!r}")
    extras.require(EXTRA, NEEDS[format], f"format: {format}")
    run = serving.open_run(run_dir, data_path=data_path)
    if format not in SUPPORTED[run.kind]:
        raise ValueError(f"format: {format!r} is not supported for {run.model_name}; supported: "
                         f"{', '.join(SUPPORTED[run.kind])}")
    dest = destination(run, format, out)
    recover(dest)
    _check_kinds(dest, format)
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

    staged, published = {}, False  # final path -> its new version under a temporary name
    try:
        tmp = staged[dest] = _temporary(dest)
        _write(format, graph, run, tmp, dest, verbose=verbose)
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
        vocab, vocab_path = _vocabulary(loaded, run), Path(f"{dest}.vocab.txt")
        if vocab is not None:
            staged[vocab_path] = _stage_text(vocab_path, "".join(w.replace("\n", "\\n") + "\n" for w in vocab))
            report["vocabulary"] = vocab_path.name
        report["seconds"] = round(time.perf_counter() - start, 3)
        report_path = Path(f"{dest}.json")
        staged[report_path] = _stage_text(report_path, files.json_text(report))
        # An older export's vocabulary must not stay beside a new export that has none.
        journal = write_journal(dest, staged, remove=[vocab_path] if vocab is None else [])
        published = True  # from here on the temporaries are the journal's: the next export finishes a failure
        with files.naming_write_errors(dest):
            roll_forward(journal)
    finally:
        if not published:  # before the journal: nothing was moved, the temporaries go
            for tmp in staged.values():
                _remove(tmp)
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


def _write(format: str, graph, run, tmp: Path, dest: Path, *, verbose: bool) -> None:
    with _disk_errors(dest):
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
        except ImportError as exc:  # installed, but a module it needs is not (plan() checked the extra itself)
            raise extras.missing_error(EXTRA, [exc.name or "its converter"], f"format: {format}") from None


#: How TensorFlow's file writers (a SavedModel) word the disk errors that ``OSError`` carries as an errno.
_DISK_MESSAGES = {os.strerror(code): code for code in files.WRITE_ERRNOS}


@contextlib.contextmanager
def _disk_errors(dest: Path):
    """A full (or read-only) disk while writing ``dest`` -> :class:`zoo.files.WriteFailed` naming it, one line.

    Python's writers raise ``OSError`` with an errno (:func:`zoo.files.naming_write_errors`); TensorFlow's
    (``tf.saved_model.save``) raise its own ``OpError`` whose message carries the C library's text.
    """
    try:
        with files.naming_write_errors(dest):
            yield
    except Exception as exc:  # WriteFailed included: not TensorFlow's, so raised as it is
        code = next((c for text, c in _DISK_MESSAGES.items() if text in str(exc)), None)
        if code is None or type(exc).__module__.split(".")[0] != "tensorflow":
            raise
        raise files.WriteFailed(code, files.describe_write_error(OSError(code, os.strerror(code)), dest)) from None


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
        raise extras.missing_error(EXTRA, [exc.name or f"the {format} runtime"], f"format: {format}") from None
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


def _stage_text(final: Path, text: str) -> Path:
    """``text`` written whole under a temporary name beside ``final``; the temporary path."""
    tmp = _temporary(final)
    try:
        with _disk_errors(final):
            tmp.write_text(text, encoding="utf-8")
    except BaseException:
        _remove(tmp)
        raise
    return tmp


def _check_kinds(dest: Path, format: str) -> None:
    """Refuse, before exporting, a destination that is a folder where a file goes (or a file where a folder goes)."""
    folder = format == "saved_model"
    for path, want_folder in ((dest, folder), (Path(f"{dest}.json"), False), (Path(f"{dest}.vocab.txt"), False)):
        if path.is_dir() and not path.is_symlink() and not want_folder:
            raise ValueError(f"out: {path} is a folder; the {format} export writes a file there (remove or rename "
                             "the folder, or choose another --out)")
        if path.exists() and not path.is_dir() and want_folder:
            raise ValueError(f"out: {path} is a file; a SavedModel is a folder (remove the file or choose another --out)")


def _journal(dest: Path) -> Path:
    return dest.parent / f".{dest.name}.publishing.json"


def write_journal(dest: Path, staged: dict, *, remove=()) -> Path:
    """The journal of a publication: every staged file goes onto its final name together.

    Written atomically before any rename, it lists each rename by name (all in
    ``dest``'s folder) with the inode of the new file, so that finishing it is
    idempotent: a name that already holds that inode is done. :func:`roll_forward`
    makes the renames and removes the journal; :func:`recover` does it for a
    process that was killed in between.

    Args:
        dest: the export; its journal is ``.<name>.publishing.json`` beside it.
        staged: final path -> the new version under a temporary name beside it.
        remove: final paths that the new export has no version of (an older export's vocabulary).

    Returns:
        The journal's path.
    """
    steps = []
    for final, tmp in staged.items():
        st = os.lstat(tmp)
        steps.append({"name": final.name, "new": tmp.name, "inode": [st.st_dev, st.st_ino]})
    steps += [{"name": p.name, "remove": True} for p in remove]
    return files.write_json(_journal(dest), {"export": dest.name, "steps": steps})


def recover(dest: Path) -> None:
    """Finish an export to ``dest`` that a killed process left half published (its journal), saying so."""
    journal = _journal(dest)
    if journal.is_file():
        import sys

        roll_forward(journal)
        print(f"note: finished publishing an interrupted export to {dest} (its files now all come from that "
              "export)", file=sys.stderr)


def roll_forward(journal: Path) -> None:
    """Make the renames ``journal`` lists (each once, whatever was done before), then remove it."""
    plan = files.read_json_object(journal, argument="out", required=("steps",), what="export journal",
                                  advice="remove it and export again")
    folder = journal.parent
    for step in plan["steps"]:
        if not isinstance(step, dict) or not _plain_name(step.get("name")) or not (
                step.get("remove") is True or (_plain_name(step.get("new")) and isinstance(step.get("inode"), list))):
            raise ValueError(f"out: {journal} is damaged (a step {step!r}); remove it and export again")
        final = folder / step["name"]
        if step.get("remove"):
            if final.is_file() or final.is_symlink():
                final.unlink()
            continue
        new, aside = folder / step["new"], folder / f".{step['name']}.replaced"
        if not _is(final, step["inode"]) and _is(new, step["inode"]):
            _swap_in(new, final, aside)
        # Done: whatever is left under the temporary names is the old version.
        for leftover in (new, aside):
            if not _is(leftover, step["inode"]):
                _remove(leftover)
    journal.unlink()


def _plain_name(name) -> bool:
    return isinstance(name, str) and name not in ("", ".", "..") and "/" not in name and os.sep not in name


def _is(path: Path, inode) -> bool:
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return [st.st_dev, st.st_ino] == list(inode)


def _swap_in(new: Path, final: Path, aside: Path) -> None:
    """``new`` onto ``final``: ``os.replace`` for a file; a folder over a folder by one atomic exchange where
    the system has one, else moved aside first (a kill between the two renames is finished by :func:`recover`)."""
    if not (new.is_dir() and final.is_dir()):
        os.replace(new, final)
    elif not _exchange(new, final):
        if not aside.exists():
            os.replace(final, aside)
        os.replace(new, final)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2(RENAME_EXCHANGE)``); False where the system cannot."""
    import ctypes

    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):  # a file system or kernel without it
        return False
    raise OSError(code, os.strerror(code), str(b))


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

