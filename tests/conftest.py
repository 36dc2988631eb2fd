"""Shared fixtures: every test is seeded, writes under tmp_path, and never downloads."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

# Real data with no download: ../shared/data beside the repository, or ZOO_DATA_DIR.
_SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
if not os.environ.get("ZOO_DATA_DIR") and _SHARED.is_dir():
    os.environ["ZOO_DATA_DIR"] = str(_SHARED)
# Tests never reach for the network; a missing file is a clear error instead.
os.environ["ZOO_OFFLINE"] = "1"
# Word2Vec's compiled steps go to a cache of this run's own, not the user's ~/.cache/zoo/xla; the
# processes tests start share it (TensorFlow writes each entry to a unique temporary file, then renames it).
if "ZOO_XLA_CACHE" not in os.environ:
    import atexit
    import shutil
    import tempfile

    os.environ["ZOO_XLA_CACHE"] = tempfile.mkdtemp(prefix="zoo-tests-xla-")
    atexit.register(shutil.rmtree, os.environ["ZOO_XLA_CACHE"], ignore_errors=True)


_DATA_DIR = os.environ.get("ZOO_DATA_DIR")
REUTERS_DIR = Path(_DATA_DIR) if _DATA_DIR and (Path(_DATA_DIR) / "reuters.npz").is_file() else None


def reuters_dir() -> Path | None:
    """The folder holding the real Reuters files, fixed at start (tests may unset the variable)."""
    return REUTERS_DIR


needs_reuters = pytest.mark.skipif(
    reuters_dir() is None,
    reason="needs the Keras Reuters files: set ZOO_DATA_DIR to a folder holding reuters.npz "
    "(CI points it at ../shared/data)",
)


@pytest.fixture(autouse=True)
def _seed_everything():
    import keras

    keras.utils.set_random_seed(1234)
    np.random.seed(1234)
    yield


@pytest.fixture
def run_cli(capsys):
    """Run a package CLI in-process; return (exit code, stdout, stderr)."""

    def run(module_main, *args):
        from zoo import cli

        code = cli.run_cli(module_main, [str(a) for a in args])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def wait_for_checkpoint(state: Path, epoch: int, procs, timeout: float) -> None:
    """Poll a run's ``checkpoint/state.json`` (written atomically) until it records at least ``epoch``
    finished epochs, or until one of ``procs`` ends, or ``timeout`` seconds pass; the caller then
    asserts that its processes are still running before it kills one."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and all(p.poll() is None for p in procs):
        if state.is_file() and json.loads(state.read_text())["epoch"] >= epoch:
            return
        time.sleep(0.01)
