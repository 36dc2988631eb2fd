"""``python -m zoo presets build [NAME...]``: train a preset, measure it, write its folder.

For each preset of :data:`zoo.presets.PLANS`: train with the registry's settings
(``zoo.training.train`` for a classifier, ``zoo.word2vec.train`` for Word2Vec),
train a second time to find out whether training is deterministic (bit-equal
weights), store the weights in float16, measure the test metrics from the stored
weights (and from the float32 ones, to show what storing in float16 changed),
and write the folder: the files first, ``preset.json`` last, the whole folder
swapped in at the end. The shipped presets are this command's output, byte for
byte where the record says training is deterministic (the record holds no times).
"""

from __future__ import annotations

import platform as _platform
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

from .. import datasets, files, registry
from . import FORMAT, PLANS, RECORD, STORE, WEIGHTS, Preset, folder_name, loading


def versions() -> dict:
    """The versions a preset was built with."""
    import importlib.metadata as md

    import keras
    import tensorflow as tf

    import zoo

    out = {"zoo": zoo.__version__, "keras": keras.__version__, "tensorflow": tf.__version__, "numpy": np.__version__,
           "python": _platform.python_version()}
    for package in ("scikit-learn", "gensim"):
        try:
            out[package] = md.version(package)
        except md.PackageNotFoundError:
            pass
    return out


def build(name: str, *, out=None, data_path=None, verbose: int = 0) -> dict:
    """Train preset ``name`` (a key of :data:`zoo.presets.PLANS`), measure it and write ``out/<model>-<tag>/``.

    Args:
        name: e.g. ``"reuters_mlp:reuters"``.
        out: the folder of preset folders to write into (default: the package's store).
        data_path: where to look first for the Reuters files.
        verbose: Keras/tqdm progress.

    Returns:
        The record written.
    """
    plan = PLANS[name]
    out = files.ensure_writable_dir(Path(out) if out is not None else STORE, argument="out")
    stage = Path(tempfile.mkdtemp(prefix=f".{folder_name(name)}.", dir=out))
    try:
        folder = stage / folder_name(name)
        folder.mkdir()
        builder = _build_word2vec if plan["kind"] == "word2vec" else _build_classifier
        record = builder(name, plan, folder, data_path=data_path, verbose=verbose)
        files.write_json(folder / RECORD, record)
        final = out / folder_name(name)
        old = stage / "old"
        if final.exists():
            final.rename(old)
        folder.rename(final)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return record


def _file_entry(folder: Path, name: str) -> dict:
    path = folder / name
    return {"path": name, "bytes": path.stat().st_size, "sha256": files_sha256(path)}


def files_sha256(path) -> str:
    from ..rundir import digest

    return digest(path)


def _common(name: str, plan: dict, *, params: int, deterministic: bool, trainer: str) -> dict:
    data = plan["data"]
    return {
        "format": FORMAT, "name": name, "model": plan["model"], "kind": plan["kind"],
        "description": plan["description"], "params": int(params),
        "licence": {"data": datasets_licence(data), "weights": "Apache-2.0 (this package's licence) as far as the "
                                                                "data's licence allows; see the data's terms"},
        "build": {"command": f"python -m zoo presets build {name}", "equivalent": trainer, "seed": plan["seed"],
                  "deterministic": deterministic,
                  "deterministic_how": "trained twice by the build command: bit-equal weights" if deterministic else
                  "trained twice by the build command: the weights differ", "versions": versions()},
    }


def datasets_licence(data: str) -> str:
    from . import LICENCES

    return LICENCES[data]


# --------------------------------------------------------------------------- classifiers


def _train_classifier(plan: dict, tmp: Path, run: str, *, data_path, verbose):
    from .. import rundir, training

    metrics = training.train(plan["model"], out=tmp / run, data=plan["data"], seed=plan["seed"], data_path=data_path,
                             verbose=verbose)
    return metrics, rundir.load_model(tmp / run / "model.keras")


def _build_classifier(name: str, plan: dict, folder: Path, *, data_path, verbose) -> dict:
    from .. import cli

    cli.import_tensorflow()
    model_name, data, seed = plan["model"], plan["data"], plan["seed"]
    (x_train, y_train), (x_test, y_test) = datasets.load_data(data, data_path=data_path, seed=seed)
    resolved = registry.resolve(model_name, feature_shape=x_train.shape[1:], num_classes=int(np.max(y_train)) + 1)
    with tempfile.TemporaryDirectory(prefix="zoo-preset-build-") as tmp:
        tmp = Path(tmp)
        metrics, trained = _train_classifier(plan, tmp, "first", data_path=data_path, verbose=verbose)
        _, again = _train_classifier(plan, tmp, "second", data_path=data_path, verbose=verbose)
    weights32 = trained.get_weights()
    deterministic = all(np.array_equal(a, b) for a, b in zip(weights32, again.get_weights()))
    loading.write_weights(folder / WEIGHTS, [w.astype("float16") for w in weights32])
    state = datasets.preprocessing(data, seed=seed)
    record_files = {"weights": _file_entry(folder, WEIGHTS)}
    if state["kind"] == "multi_hot":
        limit = state["num_words"] - datasets.REUTERS_INDEX_FROM
        index = datasets.reuters_word_index(path=data_path)
        subset = {w: i for w, i in sorted(index.items(), key=lambda item: item[1]) if i < limit}
        files.write_json(folder / "word_index.json", subset)
        record_files["word_index"] = _file_entry(folder, "word_index.json")
    source = _data_source(data, data_path)
    trainer = (f"python -m zoo train {model_name} --seed {seed}" + (f" --data {data}" if data != registry.get_entry(
        model_name).dataset else ""))
    record = _common(name, plan, params=trained.count_params(), deterministic=deterministic, trainer=trainer)
    bfloat16 = any(getattr(layer, "compute_dtype", "float32") == "bfloat16" for layer in trained.layers)
    record["build"]["trained_in"] = "mixed_bfloat16 hidden layers (AMX-BF16 CPU)" if bfloat16 else "float32"
    record["build"].update({"model": model_name, "epochs": resolved.epochs, "batch_size": resolved.batch_size,
                            "learning_rate": resolved.learning_rate, "optimizer": "adam",
                            "factory_kwargs": _jsonable(resolved.factory_kwargs)})
    record["data"] = {"name": data, "seed": seed, **source,
                      "split": _split_text(data, seed, len(y_train), len(y_test)),
                      "train_sha256": loading.arrays_sha256(x_train, y_train),
                      "test_sha256": loading.arrays_sha256(x_test, y_test)}
    record["files"] = record_files
    record["weights"] = {"dtype": "float16", "container": "npz, deflate (zip members w000.npy...)",
                         "layout": [[w.path, list(w.shape)] for w in trained.weights],
                         "float32_bytes": int(sum(w.nbytes for w in weights32))}
    record["preprocessing"] = state
    record["class_names"] = state.get("class_names")
    record["input_shape"] = list(trained.input_shape[1:])
    preset = Preset(name, folder, record, "build")
    stored = loading.measure(preset, data_path=data_path)
    # The same model with the float32 weights, in the same float32 arithmetic: what float16 storage changed.
    loaded32 = loading.load(preset)
    loaded32.model.set_weights(weights32)
    float32 = loading.measure(preset, loaded32, data_path=data_path)
    record["metrics"] = {"headline": "accuracy", "split": record["data"]["split"], **stored,
                         "computed": "from the stored float16 weights, in float32 arithmetic (zoo.load_preset)"}
    record["weights"]["float32_metrics"] = float32
    record["weights"]["float16_changes"] = {k: stored[k] - float32[k] for k in stored if k != "test_samples"}
    record["weights"]["as_trained_test_accuracy"] = metrics["test_accuracy"]
    return record


def _jsonable(kwargs: dict) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in kwargs.items()}


def _data_source(data: str, data_path) -> dict:
    if data == "reuters":
        return {"source": "Keras Reuters newswires (reuters.npz, reuters_word_index.json), Keras's split "
                          "(test_split=0.2, seed 113), 10,000 words",
                "files": {f: {k: v} for f, (k, v) in datasets.KNOWN_FILES.items()}}
    import sklearn

    loader = "load_iris" if data == "iris" else "load_digits"
    return {"source": f"scikit-learn {sklearn.__version__} sklearn.datasets.{loader}() (bundled with scikit-learn)"}


def _split_text(data: str, seed: int, n_train: int, n_test: int) -> str:
    if data == "reuters":
        return f"Keras's Reuters test split ({n_test:,} newswires; {n_train:,} for training)"
    return f"stratified 80/20 split, seed {seed}: {n_test} test, {n_train} training samples"


# --------------------------------------------------------------------------- Word2Vec


def _build_word2vec(name: str, plan: dict, folder: Path, *, data_path, verbose) -> dict:
    from .. import cli

    cli.import_tensorflow()
    from ..word2vec import compare, evaluation
    from ..word2vec import train as train_word2vec

    settings = dict(plan["settings"], seed=plan["seed"])
    first = train_word2vec(plan["data"], progress=bool(verbose), data_path=data_path, **settings)
    second = train_word2vec(plan["data"], progress=bool(verbose), data_path=data_path, **settings)
    vectors = np.asarray(first.wv.vectors, dtype="float32")
    deterministic = bool(np.array_equal(vectors, np.asarray(second.wv.vectors, dtype="float32")))
    words = list(first.wv.index_to_key)
    loading.write_weights(folder / WEIGHTS, [vectors.astype("float16")])
    files.write_text(folder / "words.txt", "".join(w.replace("\t", "\\t").replace("\n", "\\n") + "\n" for w in words))
    flags = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in settings.items())
    record = _common(name, plan, params=vectors.size, deterministic=deterministic,
                     trainer=f"python -m zoo.word2vec train --corpus {plan['data']} {flags} --out DIR")
    record["build"].update({"model": plan["model"], "settings": _jsonable(first.settings)})
    record["data"] = {"name": plan["data"], "seed": plan["seed"],
                      "source": "the text of all 11,228 Keras Reuters newswires: reuters.npz's word ids decoded with "
                                "reuters_word_index.json (zoo.datasets.reuters_corpus)",
                      "files": {f: {k: v} for f, (k, v) in datasets.KNOWN_FILES.items()},
                      "vocabulary": len(words), "words_trained": int(first.centre_words)}
    record["files"] = {"weights": _file_entry(folder, WEIGHTS), "words": _file_entry(folder, "words.txt")}
    record["weights"] = {"dtype": "float16", "container": "npz, deflate (zip member w000.npy)",
                         "layout": [["input_vectors", list(vectors.shape)]], "float32_bytes": int(vectors.nbytes)}
    record["preprocessing"] = {"kind": "words", "tokenizer": "gensim simple_preprocess (lower-cased words), as "
                                                             "zoo.word2vec trains on the Reuters text"}
    record["class_names"] = None
    preset = Preset(name, folder, record, "build")
    stored = loading.measure(preset)
    float32 = evaluation.evaluate(first.wv)
    float32.pop("analogy_sections", None)
    from ..word2vec.settings import gensim_settings

    # One worker thread: gensim is then deterministic for a seed, so the record is too (with several
    # threads its scores move by a few hundredths from run to run).
    reference_settings = {**gensim_settings(first.settings), "workers": 1}
    gensim_model, _ = compare.train_gensim(_reuters_corpus(data_path), reference_settings)
    reference = evaluation.evaluate(gensim_model.wv)
    reference.pop("analogy_sections", None)
    record["metrics"] = {"headline": "wordsim353_spearman", **stored,
                         "computed": "gensim's evaluate_word_pairs (WordSim-353) and evaluate_word_analogies "
                                     "(questions-words.txt) on the stored float16 vectors",
                         "gensim_same_corpus_and_settings": reference,
                         "gensim_note": f"gensim {versions().get('gensim')} Word2Vec with the same settings and corpus, "
                                        "one worker thread (deterministic for its seed)"}
    record["weights"]["float32_metrics"] = float32
    record["weights"]["float16_changes"] = {k: stored[k] - float32[k] for k in stored if isinstance(stored[k], float)}
    return record


def _reuters_corpus(data_path):
    from ..word2vec.trainer import resolve_corpus

    return resolve_corpus("reuters", data_path=data_path)


def main(names, *, out=None, data_path=None, verbose: int = 0) -> int:
    """Build each preset of ``names`` (all of :data:`PLANS` when empty), printing one line each."""
    for name in names or sorted(PLANS):
        record = build(name, out=out, data_path=data_path, verbose=verbose)
        metric = record["metrics"]["headline"]
        size = sum(e["bytes"] for e in record["files"].values())
        print(f"{name}: {metric} {record['metrics'][metric]:.4f}, {size:,} bytes, deterministic "
              f"{'yes' if record['build']['deterministic'] else 'no'} -> "
              f"{Path(out) if out is not None else STORE}/{folder_name(name)}", file=sys.stdout, flush=True)
    return 0
