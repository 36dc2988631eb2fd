"""``python -m zoo`` end to end: list, train, evaluate, determinism and errors."""

import json
import subprocess
import sys

import pytest

from zoo import __main__ as zoo_command

main = zoo_command.main


def test_list_prints_a_table(run_cli):
    code, out, _ = run_cli(main, "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["name", "dataset", "params"]
    assert any(line.startswith("dense_classifier") and " 139 " in line for line in lines)
    assert any(line.startswith("reuters_mlp") and "2,599,086" in line for line in lines)


def test_train_writes_every_artifact_and_evaluate_reloads(run_cli, tmp_path):
    out = tmp_path / "run"
    code, stdout, err = run_cli(main, "train", "dense_classifier", "--epochs", 3, "--seed", 0, "--out", out, "--quiet")
    assert code == 0, err
    for name in ("model.keras", "history.csv", "history.json", "metrics.json", "config.json", "curves.png"):
        assert (out / name).is_file(), name
    assert not [p for p in out.iterdir() if p.name.startswith(".")], "temporary files left behind"
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["epochs"] == 3 and 0.0 <= metrics["test_accuracy"] <= 1.0
    assert (out / "history.csv").read_text().splitlines()[0].split(",")[0] == "epoch"
    assert (out / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    code, stdout, _ = run_cli(main, "evaluate", out)
    assert code == 0
    assert json.loads(stdout)["test_accuracy"] == pytest.approx(metrics["test_accuracy"])


def test_same_seed_gives_identical_metrics(run_cli, tmp_path):
    results = []
    for seed, run in ((5, "a"), (5, "b"), (6, "c")):
        code, _, err = run_cli(main, "train", "small_cnn", "--epochs", 2, "--seed", seed, "--out", tmp_path / run,
                               "--quiet", "--set", "filters=(4, 8)")
        assert code == 0, err
        results.append(json.loads((tmp_path / run / "history.json").read_text()))
    assert results[0] == results[1]
    assert results[0] != results[2]


def test_set_overrides_reach_the_factory(run_cli, tmp_path):
    code, _, err = run_cli(main, "train", "dense_classifier", "--epochs", 1, "--out", tmp_path, "--quiet",
                           "--set", "hidden_units=(16, 16)", "--set", "activation=tanh")
    assert code == 0, err
    assert json.loads((tmp_path / "metrics.json").read_text())["params"] == 4 * 16 + 16 + 16 * 16 + 16 + 16 * 3 + 3


@pytest.mark.parametrize(
    "args,message",
    [
        (["train", "reuter_mlp", "--out", "{tmp}"], "error: unknown model 'reuter_mlp'; did you mean 'reuters_mlp'?"),
        (["train", "dense_classifier", "--out", "{tmp}", "--epochs", "0"], "error: epochs must be an integer >= 1, got 0"),
        (["train", "dense_classifier", "--out", "{tmp}", "--set", "dropout=2"], "error: dropout must be a finite number in [0.0, 1.0), got 2.0"),
        (["train", "dense_classifier", "--out", "{tmp}", "--set", "oops"], "error: --set: expected NAME=VALUE, got 'oops'"),
        (["evaluate", "{tmp}/nothing"], "error: run_dir: "),
    ],
)
def test_bad_input_is_one_line_and_nonzero(run_cli, tmp_path, args, message):
    code, out, err = run_cli(main, *[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert code == 2
    assert err.startswith(message) and err.count("\n") == 1, err
    assert "Traceback" not in err


def test_missing_data_offline_from_a_real_process(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "ZOO_OFFLINE": "1", "KERAS_HOME": str(tmp_path), "HOME": str(tmp_path),
           "TF_CPP_MIN_LOG_LEVEL": "3", "ZOO_DATA_DIR": str(tmp_path / "none")}
    proc = subprocess.run([sys.executable, "-m", "zoo", "train", "reuters_mlp", "--out", str(tmp_path / "run")],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 2
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: reuters.npz not found; searched") and "Traceback" not in proc.stderr
    assert not (tmp_path / "run" / "metrics.json").exists()


def test_train_gives_small_models_one_intra_op_thread(tmp_path):
    # `python -m zoo train` sets the registered thread count before TensorFlow starts
    # (platform.configure_threads); a model with none registered keeps TensorFlow's default.
    from zoo import platform

    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run([sys.executable, "-m", "zoo", "train", "small_cnn", "--epochs", "1", "--quiet",
                           "--out", str(tmp_path / "run")], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["intra_op_threads"] == 1
    assert platform.configure_threads("reuters_mlp") is None
