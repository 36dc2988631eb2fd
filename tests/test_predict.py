"""``zoo.load`` and ``python -m zoo predict``: raw inputs prepared as in training; bad inputs are one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

import zoo
from zoo import __main__ as zoo_main
from zoo import datasets, rundir, serving

from .conftest import needs_reuters, reuters_dir
from .test_fast_commands import run_command


@pytest.fixture(scope="module")
def iris_run(tmp_path_factory):
    from zoo import training

    out = tmp_path_factory.mktemp("runs") / "iris"
    training.train("dense_classifier", out=out, epochs=2, hidden_units=(4,), seed=3, verbose=0)
    return out


def test_load_prepares_raw_inputs_as_training_did(iris_run):
    loaded = zoo.load(iris_run)
    assert isinstance(loaded, serving.LoadedModel) and loaded.name == "dense_classifier"
    assert loaded.class_names == ["setosa", "versicolor", "virginica"]
    saved = json.loads((iris_run / "config.json").read_text())["preprocessing"]
    assert saved["fitted_on"] == "the training split (seed 3)"
    # The scaler is the one fitted on this run's training split (seed 3), not on all the data.
    (_, _), (raw, _) = datasets.load("iris", preprocess=False, seed=3)
    (_, _), (prepared, _) = datasets.load("iris", seed=3)
    np.testing.assert_allclose(loaded.prepare(raw), prepared, rtol=0, atol=1e-6)
    np.testing.assert_allclose(loaded.predict(raw), loaded.predict(prepared, prepared=True), atol=1e-7)
    # One sample without the batch axis; top-k in probability order.
    (best, p1), (_, p2) = loaded.top(raw[0], k=2)[0]
    assert best in loaded.class_names and p1 >= p2
    # A run written before config.json held the settings gets the same ones, from its data and seed.
    old = iris_run.parent / "old"
    old.mkdir()
    for f in iris_run.iterdir():
        (old / f.name).write_bytes(f.read_bytes())
    config = json.loads((old / "config.json").read_text())
    del config["preprocessing"]
    (old / "config.json").write_text(json.dumps(config))
    manifest = json.loads((old / "run.json").read_text())
    manifest["files"]["config.json"] = {"bytes": (old / "config.json").stat().st_size,
                                        "sha256": rundir.digest(old / "config.json")}
    (old / "run.json").write_text(json.dumps(manifest))
    assert serving.open_run(old).preprocessor.state == saved


def test_predict_reads_npz_and_csv_with_or_without_a_header(iris_run, tmp_path, run_cli):
    (_, _), (raw, y) = datasets.load("iris", preprocess=False, seed=3)
    np.savez(tmp_path / "x.npz", other=np.zeros(3), x=raw[:4])
    np.savez(tmp_path / "first.npz", raw[:4])
    rows = "\n".join(",".join(f"{v:g}" for v in row) for row in raw[:4])
    (tmp_path / "header.csv").write_text("sepal length,sepal width,petal length,petal width\n" + rows + "\n")
    (tmp_path / "plain.csv").write_text(rows + "\n")
    # A byte-order mark (Excel's "CSV UTF-8") before a first row of data: the row is data, not a header.
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbf" + (rows + "\n").encode())
    (tmp_path / "numbered_header.csv").write_text("1,2,3,4\n" + rows + "\n")  # a header of numbers: --header says so
    printed = []
    for name, flag in (("x.npz", ()), ("first.npz", ()), ("header.csv", ()), ("plain.csv", ()), ("bom.csv", ()),
                       ("plain.csv", ("--no-header",)), ("numbered_header.csv", ("--header",))):
        code, stdout, stderr = run_cli(zoo_main.main, "predict", iris_run, "--data", tmp_path / name, "--top", "2", *flag)
        assert code == 0 and stderr == "", stderr
        lines = stdout.strip().split("\n")
        assert len(lines) == 4 and all(line.startswith(f"{i}: ") for i, line in enumerate(lines))
        printed.append(stdout)
    assert len(set(printed)) == 1  # the same four samples, however they came
    want = zoo.load(iris_run).top(raw[:4], k=2)
    assert printed[0].split("\n")[0] == "0: " + "  ".join(f"{c} {p:.4f}" for c, p in want[0])
    code, stdout, _ = run_cli(zoo_main.main, "predict", iris_run, "--data", tmp_path / "plain.csv", "--json")
    top = json.loads(stdout)
    assert [t["top"][0]["class"] for t in top] == [w[0][0] for w in want] and len(top[0]["top"]) == 3


def test_bad_predict_inputs_are_one_line_errors(iris_run, tmp_path, run_cli):
    (tmp_path / "wide.csv").write_text("5.1,3.5,1.4,0.2,9\n")
    (tmp_path / "ragged.csv").write_text("5.1,3.5,1.4,0.2\n5.1,3.5\n")
    (tmp_path / "words.csv").write_text("a,b,c,d\n5.1,3.5,1.4,zero\n")
    (tmp_path / "nan.csv").write_text("5.1,3.5,1.4,0.2\n5.1,nan,1.4,0.2\n")
    (tmp_path / "x.txt").write_text("5.1,3.5,1.4,0.2\n")
    np.savez(tmp_path / "narrow.npz", x=np.ones((2, 3)))
    (tmp_path / "bom_words.csv").write_bytes(b"\xef\xbb\xbf5.1,3.5,1.4,zero\n6,3,4.8,1.8\n")
    (tmp_path / "mixed.csv").write_text("5.1,3.5,1.4,sepal\n6,3,4.8,1.8\n")
    (tmp_path / "trailing.csv").write_text("5.1,3.5,1.4,0.2,\n")
    (tmp_path / "huge.csv").write_text("5.1,3.5,1.4,0.2\n5.1,3.5,1.4,1e39\n")
    (tmp_path / "only_header.csv").write_text("a,b,c,d\n")
    np.savez(tmp_path / "complex.npz", x=np.ones((2, 4)) + 1j)
    np.savez(tmp_path / "huge.npz", x=np.full((2, 4), 1e39))
    empty = tmp_path / "empty_run"
    empty.mkdir()
    no_model = tmp_path / "no_model"
    no_model.mkdir()
    (no_model / "config.json").write_text((iris_run / "config.json").read_text())
    cases = [
        ((iris_run, "--data", tmp_path / "wide.csv"),
         "data: samples of 5 features (array shape (1, 5)); dense_classifier expects 4 raw features per row"),
        ((iris_run, "--data", tmp_path / "narrow.npz"), "data: samples of 3 features"),
        ((iris_run, "--data", tmp_path / "ragged.csv"), "line 2 has 2 columns, the first row 4"),
        ((iris_run, "--data", tmp_path / "words.csv"), "line 2 holds a cell that is not a number"),
        ((iris_run, "--data", tmp_path / "nan.csv"), "data: sample 1 holds NaN or infinite values"),
        ((iris_run, "--data", tmp_path / "x.txt"), "must be a .npz (array x, or its first array) or a .csv"),
        ((iris_run, "--data", tmp_path / "missing.npz"), "data: no such file"),
        ((iris_run, "--text", "grain prices"), "text: dense_classifier was trained on iris, not on text"),
        ((iris_run, "--data", tmp_path / "nan.csv", "--top", "4"), "top must be an integer from 1 to 3"),
        ((iris_run, "--data", tmp_path / "bom_words.csv"), "line 1 mixes numbers and text (column 4: 'zero')"),
        ((iris_run, "--data", tmp_path / "mixed.csv"), "line 1 mixes numbers and text (column 4: 'sepal'): a header "
                                                       "holds no numbers and a data row no text; pass --header"),
        ((iris_run, "--data", tmp_path / "trailing.csv"), "line 1, column 5 is empty (a trailing comma?)"),
        ((iris_run, "--data", tmp_path / "huge.csv"), "data: sample 1 holds 1e+39, beyond the float32 range"),
        ((iris_run, "--data", tmp_path / "huge.npz"), "data: sample 0 holds 1e+39, beyond the float32 range"),
        ((iris_run, "--data", tmp_path / "only_header.csv"), "only_header.csv holds no rows of numbers"),
        ((iris_run, "--data", tmp_path / "complex.npz"), "data: holds complex numbers (dtype complex128)"),
        ((iris_run, "--data", tmp_path / "narrow.npz", "--header"), "header: --header/--no-header go with a .csv"),
        ((empty,), "holds no model.keras"),
        ((no_model,), "model.keras not found"),
        ((tmp_path / "nowhere",), "is not a directory"),
    ]
    for args, message in cases:
        if len(args) == 1:
            args = (*args, "--data", tmp_path / "nan.csv")
        code, stdout, stderr = run_cli(zoo_main.main, "predict", *args)
        assert code == 2 and stdout == "" and stderr.count("\n") == 1, (args, stderr)
        assert message in stderr, (message, stderr)


def test_top_k_outside_the_classes_is_refused(iris_run):
    loaded = zoo.load(iris_run)
    assert len(loaded.top([[5.1, 3.5, 1.4, 0.2]], k=3)[0]) == 3
    for k in (-1, 0, 4, 1.5, True):
        with pytest.raises(ValueError, match=rf"top: k must be an integer from 1 to 3 \(the model's classes\), got {k!r}"):
            loaded.top([[5.1, 3.5, 1.4, 0.2]], k=k)


def _edit_config(change):
    """Damage ``config.json`` through ``change(config)`` and record it in the manifest, as a hand edit would not."""
    def damage(run):
        config = json.loads((run / "config.json").read_text())
        change(config)
        (run / "config.json").write_text(json.dumps(config))
        _rehash(run, "config.json")
    return damage


def _rehash(run, name):
    manifest = json.loads((run / "run.json").read_text())
    manifest["files"][name] = {"bytes": (run / name).stat().st_size, "sha256": rundir.digest(run / name)}
    (run / "run.json").write_text(json.dumps(manifest))


def _model_of(name):
    """Put another model's ``model.keras`` in the run (the manifest updated to match)."""
    def damage(run):
        zoo.create_model(name).save(run / "model.keras")
        if (run / "run.json").exists():
            _rehash(run, "model.keras")
    return damage


def _word2vec_folder_with(name):
    def damage(run):
        for f in list(run.iterdir()):
            f.unlink()
        (run / "settings.json").write_text(json.dumps({"sg": 1, "vector_size": 8}))
        (run / "metadata.tsv").write_text("a\nb\n")
        zoo.create_model(name).save(run / "model.keras")
    return damage


def _set(section, key, value):
    return _edit_config(lambda c: c[section].__setitem__(key, value))


# (case, damage(run copy), message): a run directory whose files say something that would prepare inputs wrongly.
DAMAGED_RUN_CASES = [
    ("unknown preprocessing kind", _set("preprocessing", "kind", "whiten"),
     "\"preprocessing\" kind 'whiten' is not one of standardize, scale, multi_hot, none; train again"),
    ("zero scale", _set("preprocessing", "scale", [1.0, 0.0, 1.0, 1.0]), "\"preprocessing\" scale holds 0"),
    ("string mean", _set("preprocessing", "mean", "5.8"),
     "config.json is damaged: \"preprocessing\" mean must be a list of finite numbers, got '5.8'"),
    ("huge num_words", _edit_config(lambda c: c.__setitem__("preprocessing", {"dataset": "reuters", "kind": "multi_hot",
                                                                                "num_words": 10**12})),
     "prepares 1,000,000,000,000 word columns (num_words): the model does not match the run's config"),
    ("a CNN under an iris run", _model_of("small_cnn"),
     "takes 64 values per sample (shape (8, 8, 1)) but the run's config.json prepares 4 features (mean) and 4 "
     "(scale): the model does not match the run's config"),
    ("a Word2Vec folder holding a CNN", _word2vec_folder_with("small_cnn"),
     "model.keras is not a Word2Vec model (it has no input_vectors layer)"),
]


@pytest.mark.parametrize("case,damage,message", DAMAGED_RUN_CASES, ids=[c[0] for c in DAMAGED_RUN_CASES])
def test_predict_refuses_a_run_whose_files_disagree(iris_run, tmp_path, run_cli, case, damage, message):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(iris_run, run)
    damage(run)
    (tmp_path / "x.csv").write_text("5.1,3.5,1.4,0.2\n")
    code, stdout, stderr = run_cli(zoo_main.main, "predict", run, "--data", tmp_path / "x.csv")
    assert code == 2 and stdout == "" and stderr.count("\n") == 1, stderr
    assert stderr.startswith("error: run_dir: ") and message in stderr, stderr


def test_pixel_inputs_outside_the_raw_range_are_refused():
    pre = serving.Preprocessor(datasets.preprocessing("digits"), input_shape=(8, 8, 1), num_classes=10,
                               model_name="small_cnn")
    np.testing.assert_allclose(pre.prepare(np.full((2, 64), 16.0)), np.ones((2, 8, 8, 1)))
    assert pre.prepare(np.zeros((8, 8))).shape == (1, 8, 8, 1)  # one image without the batch axis
    with pytest.raises(ValueError, match=r"raw pixels in \[0, 16\].*pass --prepared"):
        pre.prepare(np.full((1, 64), 0.5) - 1)
    with pytest.raises(ValueError, match="expects 64 values per sample"):
        pre.prepare(np.zeros((1, 63)))


@needs_reuters
def test_text_is_encoded_as_keras_encodes_the_newswires():
    """A newswire decoded back to words and encoded again gives its row of the dataset."""
    state = datasets.preprocessing("reuters")
    pre = serving.Preprocessor(state, input_shape=(10000,), num_classes=46, model_name="reuters_mlp",
                               data_path=reuters_dir())
    assert pre.class_names[:4] == ["cocoa", "grain", "veg-oil", "earn"]
    # Every word of the index kept (num_words above the index's size) decodes the newswires in full.
    (_, _), (full, _) = datasets.load_reuters(path=reuters_dir(), num_words=40000, preprocess=False)
    (_, _), (seqs, _) = datasets.load_reuters(path=reuters_dir(), preprocess=False)
    word = {i + datasets.REUTERS_INDEX_FROM: w for w, i in pre.word_index.items()}
    texts = [" ".join(word[i] for i in doc[1:]) for doc in full[:40]]
    np.testing.assert_array_equal(pre.encode_text(texts), datasets.multi_hot(seqs[:40], 10000))
    with pytest.raises(ValueError, match="no word of 'xyzzy' is among the 9,996 words reuters_mlp knows"):
        pre.encode_text(["grain", "xyzzy"])


def test_argument_errors_answer_without_tensorflow(iris_run, tmp_path):
    (tmp_path / "wide.csv").write_text("1,2,3,4,5\n")
    for args, message in (
        (["export", str(iris_run), "--format", "tflite", "--out", str(tmp_path)], "is not one of saved_model, onnx"),
        (["predict", str(iris_run), "--data", str(tmp_path / "wide.csv")], "expects 4 raw features"),
    ):
        code, out, err, heavy = run_command("zoo", args, tmp_path)
        assert code == 2 and message in err and not heavy, (args, err, heavy)


def test_a_csv_streams_in_chunks_keeping_row_numbers(iris_run, tmp_path, run_cli, monkeypatch):
    """Chunks of 2 rows: the same lines (and the same JSON) as one read; a bad row later says what was printed."""
    (_, _), (raw, _) = datasets.load("iris", preprocess=False, seed=3)
    rows = [",".join(f"{v:g}" for v in row) for row in raw[:7]]
    (tmp_path / "x.csv").write_text("a,b,c,d\n" + "\n".join(rows[:3]) + "\n\n" + "\n".join(rows[3:]) + "\n")
    (tmp_path / "bad.csv").write_text("\n".join(rows[:5]) + "\n1,2,3\n")
    whole = {}
    for json_flag in ((), ("--json",)):
        code, whole[json_flag], err = run_cli(zoo_main.main, "predict", iris_run, "--data", tmp_path / "x.csv", *json_flag)
        assert code == 0, err
    monkeypatch.setattr(serving, "CSV_CHUNK_VALUES", 8)  # two rows of four
    chunks = [(first, len(c)) for first, c in serving.iter_inputs(tmp_path / "x.csv")]
    assert len(chunks) > 2 and sum(n for _, n in chunks) == 7 and max(n for _, n in chunks) <= 3
    assert [first for first, _ in chunks] == [sum(n for _, n in chunks[:i]) for i in range(len(chunks))]
    for json_flag in ((), ("--json",)):
        code, out, err = run_cli(zoo_main.main, "predict", iris_run, "--data", tmp_path / "x.csv", *json_flag)
        assert code == 0 and out == whole[json_flag], err
    assert [line.split(":")[0] for line in whole[()].splitlines()] == [str(i) for i in range(7)]
    assert json.loads(whole[("--json",)])[6]["sample"] == "6"
    code, out, err = run_cli(zoo_main.main, "predict", iris_run, "--data", tmp_path / "bad.csv")
    assert code == 2 and len(out.splitlines()) == 5 and err.count("\n") == 1, err
    assert "line 6 has 3 columns, the first row 4; the 5 samples before it were printed" in err
