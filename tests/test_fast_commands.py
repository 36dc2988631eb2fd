"""Commands that answer without starting TensorFlow, and the static metadata that lets them.

Each command runs in a fresh process; a hook at exit reports whether ``tensorflow``
or ``keras`` was imported. What is asserted is the import, never the time.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import zoo
from zoo import cli, registry

ROOT = Path(__file__).resolve().parents[1]

# Runs ``python -m MODULE ARGS...`` in this process and, at exit, prints which heavy modules it imported.
DRIVER = (
    "import atexit, runpy, sys\n"
    "atexit.register(lambda: print('HEAVY=' + ','.join(m for m in ('tensorflow', 'keras', 'keras_tuner') "
    "if m in sys.modules), file=sys.stderr))\n"
    "module, sys.argv = sys.argv[1], [sys.argv[1]] + sys.argv[2:]\n"
    "runpy.run_module(module, run_name='__main__', alter_sys=True)\n"
)

# (module, arguments, expected exit code, text expected in stdout or stderr)
FAST = [
    ("zoo", ["--help"], 0, "list"),
    ("zoo", ["list"], 0, "2,599,086"),
    ("zoo", ["info", "reuters_mlp"], 0, '"params": 2599086'),
    ("zoo", ["info", "reuter_mlp"], 2, "error: unknown model 'reuter_mlp'; did you mean 'reuters_mlp'?"),
    ("zoo", ["train", "--help"], 0, "--epochs"),
    ("zoo", ["evaluate", "--help"], 0, "run_dir"),
    ("zoo", ["train", "reuter_mlp", "--out", "{tmp}/run"], 2, "error: unknown model 'reuter_mlp'"),
    ("zoo", ["train", "dense_classifier", "--out", "{tmp}/run", "--epochs", "0"], 2, "error: epochs must be an integer >= 1, got 0"),
    ("zoo", ["train", "dense_classifier", "--out", "{tmp}/run", "--epochs", "two"], 2, "invalid int value: 'two'"),
    ("zoo", ["train", "dense_classifier", "--out", "{tmp}/run", "--batch-size", "0"], 2, "error: batch_size must be an integer >= 1"),
    ("zoo", ["train", "dense_classifier", "--out", "{tmp}/run", "--seed", "-1"], 2, "error: seed must be an integer >= 0"),
    ("zoo", ["train", "dense_classifier", "--out", "{tmp}/run", "--set", "colour=3"], 2, "unknown argument(s) colour"),
    ("zoo", ["train", "dense_classifier", "--out", "{tmp}/run", "--set", "oops"], 2, "error: --set: expected NAME=VALUE"),
    ("zoo", ["train", "dense_classifier", "--out", "{tmp}/run", "--data", "imagenet"], 2, "error: name must be one of"),
    ("zoo", ["train", "word2vec_cbow", "--out", "{tmp}/run"], 2, "python -m zoo.word2vec train"),
    ("zoo", ["evaluate", "{tmp}/nothing"], 2, "error: run_dir: "),
    ("zoo", ["colour"], 2, "invalid choice: 'colour'"),
    ("zoo.word2vec", ["--help"], 0, "compare"),
    ("zoo.word2vec", ["train", "--help"], 0, "--vector-size"),
    ("zoo.word2vec", ["compare", "--help"], 0, "--probes"),
    ("zoo.word2vec", ["train", "--corpus", "lee", "--window", "0", "--out", "{tmp}/w"], 2, "error: window must be an integer >= 1"),
    ("zoo.word2vec", ["train", "--corpus", "lee", "--set", "chunk_word=8", "--out", "{tmp}/w"], 2, "unknown Word2Vec setting(s)"),
    ("zoo.word2vec", ["compare", "--corpus", "lee", "--sg", "3"], 2, "error: sg must be 0 or 1, got 3"),
    ("zoo.word2vec", ["train", "--corpus", "{tmp}/missing.txt", "--out", "{tmp}/w"], 2, "error: corpus: no such file"),
    ("tuning", ["--help"], 0, "search"),
    ("tuning", ["search", "--help"], 0, "--max-trials"),
    ("tuning", ["cv", "--help"], 0, "--folds"),
    ("tuning", ["search", "dense_classifer"], 2, "error: unknown model 'dense_classifer'"),
    ("tuning", ["search", "dense_classifier", "--max-trials", "0"], 2, "error: max_trials must be an integer >= 1, got 0"),
    ("tuning", ["cv", "dense_classifier", "--epochs", "0"], 2, "error: epochs must be an integer >= 1, got 0"),
    ("tuning", ["search", "dense_classifier", "--set", "colour=3"], 2, "unknown argument(s) colour"),
    ("tuning", ["search", "dense_classifier", "--oracle-port", "1"], 2, "error: --tuner-id/--oracle-ip/--oracle-port need --role"),
    ("recipes", ["--help"], 0, "list"),
    ("recipes", ["list"], 0, "Forward and backward propagation by hand"),
    ("recipes", ["run", "--help"], 0, "--quick"),
    ("recipes", ["all", "--help"], 0, "--only"),
    ("recipes", ["run", "backprp"], 2, "error: unknown recipe 'backprp'; did you mean 'backprop'?"),
    ("recipes", ["all", "--only", "backprop", "colour", "--out", "{tmp}/r"], 2, "error: unknown recipe 'colour'"),
    ("recipes.backprop", ["--help"], 0, "--full"),
    ("recipes.word2vec", ["--help"], 0, "--full"),
]


def run_command(module: str, args: list[str], tmp_path: Path) -> tuple[int, str, str, set]:
    """``python -m module args`` in a fresh process: (exit code, stdout, stderr without the hook's line, heavy modules)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args]
    proc = subprocess.run([sys.executable, "-c", DRIVER, module, *argv], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=300)
    lines = proc.stderr.splitlines()
    heavy = [line for line in lines if line.startswith("HEAVY=")]
    assert len(heavy) == 1, proc.stderr
    imported = set(filter(None, heavy[0][len("HEAVY="):].split(",")))
    return proc.returncode, proc.stdout, "\n".join(line for line in lines if not line.startswith("HEAVY=")), imported


@pytest.mark.parametrize("module,args,code,text", FAST, ids=[f"{m} {' '.join(a)}" for m, a, _, _ in FAST])
def test_command_answers_without_tensorflow(tmp_path, module, args, code, text):
    returncode, out, err, imported = run_command(module, args, tmp_path)
    assert returncode == code, err
    assert text in out + err, out + err
    assert not imported, f"python -m {module} {' '.join(args)} imported {sorted(imported)}"
    if code == 2:
        assert "Traceback" not in err and "I0000" not in err, err
    assert not (tmp_path / "run").exists() and not (tmp_path / "w").exists(), "a failed command wrote its output folder"


def test_the_check_can_see_tensorflow(tmp_path):
    # The same driver on a command that trains reports TensorFlow: the test above can fail.
    returncode, out, err, imported = run_command(
        "zoo", ["train", "dense_classifier", "--epochs", "1", "--quiet", "--out", "{tmp}/run"], tmp_path)
    assert returncode == 0, err
    assert {"tensorflow", "keras"} <= imported
    # TensorFlow's start-up notices (absl's, oneDNN's: INFO level) do not reach the user.
    assert "absl::InitializeLog" not in err and "oneDNN" not in err and "I0000" not in err, err


@pytest.mark.parametrize("name", zoo.list_models())
def test_static_metadata_matches_the_built_model(name):
    """The parameter count and shapes given to register_model are the default model's."""
    entry = registry.get_entry(name)
    assert entry.params is not None and entry.input_shape is not None and entry.output_shape is not None, \
        f"{name}: register_model needs params=, input_shape= and output_shape= so that `zoo info` need not build it"
    assert (entry.params, entry.input_shape, entry.output_shape) == registry.built_metadata(name)


def test_model_info_builds_when_a_registration_gives_no_metadata(monkeypatch):
    @zoo.register_model("tiny_probe", task="test", dataset=None)
    def tiny_probe(*, units: int = 3, compile: bool = True):
        import keras

        inputs = keras.Input(shape=(2,))
        return keras.Model(inputs, keras.layers.Dense(units)(inputs))

    try:
        info = zoo.model_info("tiny_probe")
        assert (info["params"], info["input_shape"], info["output_shape"]) == (9, (None, 2), (None, 3))
    finally:
        registry._REGISTRY.pop("tiny_probe")


@pytest.mark.parametrize("level,kept", [
    ("2", ["E0000 00:00:1.2 1 x.cc:1] real error\n", "a Python warning\n"]),
    ("3", ["a Python warning\n"]),
    ("1", ["W0000 00:00:1.2 1 x.cc:1] a warning\n", "E0000 00:00:1.2 1 x.cc:1] real error\n", "a Python warning\n"]),
])
def test_start_up_lines_follow_the_log_level(level, kept):
    lines = [
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n",
        "I0000 00:00:1795994403.731815    6555 port.cc:153] oneDNN custom operations are on.\n",
        "2025-09-17 14:44:05.157831: I external/local_xla/xla/tsl/cuda/cudart_stub.cc:32] Could not find cuda drivers\n",
        "E0000 00:00:1795994415.135983    6555 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error\n",
        "W0000 00:00:1.2 1 x.cc:1] a warning\n",
        "E0000 00:00:1.2 1 x.cc:1] real error\n",
        "a Python warning\n",
    ]
    assert [line for line in lines if cli._keep(line, int(level), gpus=[])] == kept
    # With a GPU present, a failed cuInit is news and is kept (at levels below 3).
    assert cli._keep(lines[3], 2, gpus=["GPU:0"])


def test_recipes_order_and_titles_are_read_without_importing():
    import recipes

    names = recipes.available()
    assert names[0] == "dense_layers" and "word2vec" in names
    for name in ("backprop", "cnn", "word2vec"):
        module = recipes.load(name)
        assert recipes.titles()[name] == module.TITLE
        assert names.index(name) == sorted(names, key=lambda n: (recipes.load(n).ORDER, n)).index(name)
