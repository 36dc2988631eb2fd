"""``zoo.export`` / ``python -m zoo export``: every format, verified in its own runtime; bad input writes nothing.

The default test exports one tiny iris run to all four formats and reads each
back here, in its runtime, independently of the export's own verification. The
slow test does the same for small_cnn (digits), reuters_mlp (the real Reuters
test split; bfloat16 where the CPU has AMX) and a Word2Vec run, to ONNX and LiteRT.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import zoo
from zoo import __main__ as zoo_main
from zoo import datasets, exporting, serving

from .conftest import needs_reuters, reuters_dir

FORMATS = ("saved_model", "onnx", "litert", "keras")


def _train(name, out, **kwargs):
    from zoo import training

    training.train(name, out=out, verbose=0, **kwargs)
    return out


@pytest.fixture(scope="module")
def iris_run(tmp_path_factory):
    """A tiny dense_classifier run on iris (two epochs: the export must agree with whatever was trained)."""
    return _train("dense_classifier", tmp_path_factory.mktemp("runs") / "iris", epochs=2, hidden_units=(4,))


def _independent_outputs(format, path, x):
    """Run an export in its runtime, here, without zoo.exporting."""
    if format == "saved_model":
        import tensorflow as tf

        artifact = tf.saved_model.load(str(path))  # held: its serve() reads the artifact's variables
        return artifact.serve(x).numpy()
    if format == "onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return session.run(None, {session.get_inputs()[0].name: x})[0]
    if format == "litert":
        from ai_edge_litert.interpreter import Interpreter

        interpreter = Interpreter(model_path=str(path))
        inp, outp = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
        interpreter.resize_tensor_input(inp["index"], x.shape)
        interpreter.allocate_tensors()
        interpreter.set_tensor(inp["index"], x)
        interpreter.invoke()
        return interpreter.get_tensor(outp["index"])
    import keras

    return keras.models.load_model(path).predict(x, verbose=0)


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_tiny_iris_run_exports_to_every_format_and_each_agrees_in_its_own_runtime(iris_run, tmp_path, run_cli):
    out = tmp_path / "exported"
    loaded = zoo.load(iris_run)
    (_, _), (raw_test, y_test) = datasets.load("iris", preprocess=False, seed=0)
    want = loaded.predict(raw_test)  # the Keras model on raw measurements, prepared by zoo.load
    for format in FORMATS:
        if format == "onnx":  # the command line once; the API for the others
            code, stdout, stderr = run_cli(zoo_main.main, "export", iris_run, "--format", "onnx", "--out", out)
            assert code == 0, stderr
            assert "argmax agrees on 30/30" in stdout and "report:" in stdout
            report = json.loads((out / "iris.onnx.json").read_text())
        else:
            report = zoo.export(iris_run, format, out)
        path = out / f"iris{exporting.FORMATS[format][0]}"
        assert report["path"] == str(path) and path.exists()
        assert report["verified"] and report["samples"] == 30 and report["argmax_disagreements"] == 0
        assert report["max_abs_diff"] <= exporting.TOLERANCE
        assert report["bytes"] > 0 and len(report["sha256"]) == 64
        assert report["preprocessing"]["kind"] == "standardize" and report["class_names"][0] == "setosa"
        assert json.loads((out / f"{path.name}.json").read_text()) == json.loads(json.dumps(report))
        got = _independent_outputs(format, path, loaded.prepare(raw_test))
        assert np.array_equal(got.argmax(1), want.argmax(1)), format
        assert np.abs(got - want).max() <= exporting.TOLERANCE, format
    assert _leftovers(out) == []

    # An existing export is replaced only when asked, and then only by a verified one.
    with pytest.raises(ValueError, match="exists; pass --overwrite"):
        zoo.export(iris_run, "litert", out)
    before = (out / "iris.saved_model" / "saved_model.pb").stat().st_mtime_ns
    zoo.export(iris_run, "saved_model", out / "iris.saved_model", overwrite=True)
    assert (out / "iris.saved_model" / "saved_model.pb").stat().st_mtime_ns != before
    assert _leftovers(out) == []


def test_an_export_that_disagrees_with_keras_is_not_written(iris_run, tmp_path, monkeypatch):
    real = exporting.run_export
    monkeypatch.setattr(exporting, "run_export", lambda *a, **k: real(*a, **k)[:, ::-1])  # classes swapped
    with pytest.raises(exporting.VerificationFailed, match="argmax differs on .* nothing was written"):
        zoo.export(iris_run, "keras", tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_bad_exports_are_one_line_errors_and_write_nothing(iris_run, tmp_path, run_cli):
    out = tmp_path / "out"
    cases = [
        (["--format", "tflite"], "error: format: 'tflite' is not one of saved_model, onnx, litert, keras"),
        (["--format", "onnx", "--data", str(tmp_path / "none.csv")], "error: data: no such file"),
    ]
    for extra, message in cases:
        code, _, stderr = run_cli(zoo_main.main, "export", iris_run, "--out", out, *extra)
        assert code == 2 and stderr.startswith(message) and stderr.count("\n") == 1, stderr
    (tmp_path / "wide.csv").write_text("1,2,3,4,5\n")
    code, _, stderr = run_cli(zoo_main.main, "export", iris_run, "--format", "onnx", "--out", out,
                              "--data", tmp_path / "wide.csv")
    assert code == 2 and "expects 4 raw features" in stderr

    # A run directory without a model, and one whose model file was altered or cut short.
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, stderr = run_cli(zoo_main.main, "export", empty, "--format", "onnx", "--out", out)
    assert code == 2 and "holds no model.keras" in stderr
    for damage, message in ((lambda b: b[:-100], "truncated"), (lambda b: b[:-1] + bytes([b[-1] ^ 1]), "content differs")):
        broken = tmp_path / f"broken_{message.split()[0]}"
        broken.mkdir()
        for f in iris_run.iterdir():
            (broken / f.name).write_bytes(f.read_bytes())
        (broken / "model.keras").write_bytes(damage((iris_run / "model.keras").read_bytes()))
        code, _, stderr = run_cli(zoo_main.main, "export", broken, "--format", "onnx", "--out", out)
        assert code == 2 and "model.keras is damaged" in stderr and message in stderr, stderr
    assert not out.exists() or list(out.iterdir()) == []


# Destinations and environments refused before anything is exported: (case, files to make in out, arguments,
# modules to hide (an optional extra not installed), error). The export itself must not start.
BAD_DESTINATION_CASES = [
    ("the export's name is a folder", ["iris.onnx/"], ["--format", "onnx", "--overwrite"],
     (), r"error: out: .*iris.onnx is a folder; the onnx export writes a file there"),
    ("the report's name is a folder", ["iris.onnx.json/"], ["--format", "onnx"],
     (), r"error: out: .*iris.onnx.json is a folder; the onnx export writes a file there"),
    ("the vocabulary's name is a folder", ["iris.keras.vocab.txt/"], ["--format", "keras"],
     (), r"error: out: .*iris.keras.vocab.txt is a folder"),
    ("a SavedModel's name is a file", ["iris.saved_model"], ["--format", "saved_model", "--overwrite"],
     (), r"error: out: .*iris.saved_model is a file; a SavedModel is a folder"),
    ("no tf2onnx", [], ["--format", "onnx"], ("tf2onnx",),
     r'error: format: onnx needs tf2onnx, which is not installed: pip install "keras-recipes-zoo\[export\]"$'),
    ("no onnx runtime", [], ["--format", "onnx"], ("onnxruntime", "onnx"),
     r'error: format: onnx needs onnx, onnxruntime, which are not installed: pip install "keras-recipes-zoo\[export\]"$'),
    ("no LiteRT", [], ["--format", "litert"], ("ai_edge_litert",),
     r'error: format: litert needs ai_edge_litert, which is not installed: pip install "keras-recipes-zoo\[export\]"$'),
]


@pytest.mark.parametrize("case,make,args,hidden,message", BAD_DESTINATION_CASES, ids=[c[0] for c in BAD_DESTINATION_CASES])
def test_bad_destinations_and_missing_extras_answer_before_exporting(iris_run, tmp_path, run_cli, monkeypatch,
                                                                     case, make, args, hidden, message):
    import re
    import sys

    out = tmp_path / "out"
    out.mkdir()
    for name in make:
        (out / name.rstrip("/")).mkdir() if name.endswith("/") else (out / name).write_text("x")
    before = sorted(p.name for p in out.iterdir())
    for module in hidden:  # as if not installed: `import onnxruntime` raises ImportError
        monkeypatch.setitem(sys.modules, module, None)
    monkeypatch.setattr(exporting, "_write", lambda *a, **k: pytest.fail("exported before refusing"))
    code, stdout, stderr = run_cli(zoo_main.main, "export", iris_run, "--out", out, *args)
    assert code == 2 and stdout == "" and stderr.count("\n") == 1 and re.search(message, stderr.strip()), stderr
    assert sorted(p.name for p in out.iterdir()) == before


def test_export_without_a_destination_is_a_clear_error(iris_run):
    with pytest.raises(TypeError, match=r"out: expected the export's path or a folder \(str or os.PathLike\), got None"):
        zoo.export(iris_run, "onnx", None)


@pytest.mark.slow
@needs_reuters
def test_real_runs_export_to_onnx_and_litert_in_agreement_on_their_test_splits(tmp_path, run_cli):
    """small_cnn on digits, reuters_mlp on Reuters (briefly trained), and Word2Vec vectors, to ONNX and LiteRT."""
    runs = tmp_path / "runs"
    cnn = _train("small_cnn", runs / "cnn", epochs=3)
    reuters = _train("reuters_mlp", runs / "reuters", epochs=1, data_path=reuters_dir())
    for run, samples in ((cnn, 360), (reuters, 2246)):
        for format in ("onnx", "litert"):
            report = zoo.export(run, format, tmp_path / "exported")
            assert report["verified"] and report["samples"] == samples
            assert report["argmax_disagreements"] == 0 and report["max_abs_diff"] <= exporting.TOLERANCE
            assert report["computes_in"].startswith("float32")
            if "vs_keras_as_trained" in report:  # trained in bfloat16 (an AMX-BF16 CPU)
                bf = report["vs_keras_as_trained"]
                assert bf["max_abs_diff"] <= exporting.BFLOAT16_TOLERANCE and bf["disagreements_are_near_ties"]
                assert bf["argmax_agreement"] >= 0.99
    # The Reuters export carries its vocabulary: line i is the word of input column i.
    vocab = (tmp_path / "exported" / "reuters.onnx.vocab.txt").read_text().split("\n")[:-1]
    index = datasets.reuters_word_index(path=reuters_dir())
    assert len(vocab) == 10000 and vocab[index["grain"] + datasets.REUTERS_INDEX_FROM] == "grain"

    # Text through the command line: the words encoded with the Keras word index, topic names printed.
    code, stdout, stderr = run_cli(zoo_main.main, "predict", reuters, "--text", "wheat grain exports tonnes",
                                   "--text", "net profit shr cts dividend", "--top", "2", "--json")
    assert code == 0, stderr
    top = json.loads(stdout)
    names = set(serving.open_run(reuters).preprocessor.class_names)
    assert len(top) == 2 and all(len(t["top"]) == 2 and t["top"][0]["class"] in names for t in top)
    code, _, stderr = run_cli(zoo_main.main, "predict", reuters, "--text", "xyzzy plugh frobnicate")
    assert code == 2 and "no word of 'xyzzy plugh frobnicate' is among the 9,996 words" in stderr

    # Word2Vec: the vectors table, checked against the word2vec binary file the run wrote.
    from zoo.word2vec import __main__ as w2v_main

    code, _, stderr = run_cli(w2v_main.main, "train", "--corpus", "lee", "--epochs", "1", "--vector-size", "8",
                              "--min-count", "5", "--quiet", "--out", runs / "w2v")
    assert code == 0, stderr
    from gensim.models import KeyedVectors

    kv = KeyedVectors.load_word2vec_format(str(runs / "w2v" / "vectors.bin"), binary=True)
    for format in ("onnx", "litert"):
        report = zoo.export(runs / "w2v", format, tmp_path / "exported")
        assert report["verified"] and report["samples"] == len(kv) and report["max_abs_diff"] == 0.0
        ids = np.arange(len(kv), dtype="int32")
        words = (tmp_path / "exported" / f"w2v{exporting.FORMATS[format][0]}.vocab.txt").read_text().split("\n")[:-1]
        assert words == kv.index_to_key
        assert np.array_equal(_independent_outputs(format, report["path"], ids), kv.vectors)
    assert _leftovers(tmp_path / "exported") == []
