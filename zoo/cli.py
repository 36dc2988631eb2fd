"""Helpers shared by the package command lines (``python -m zoo``, ``zoo.word2vec``, ``tuning``, ``recipes``).

A command parses and checks its arguments before it imports TensorFlow, so that
``--help``, ``list``, ``info`` and a mistyped argument answer at once; the
commands that do train call :func:`import_tensorflow` to start it without its
start-up notices.
"""

from __future__ import annotations

import ast
import contextlib
import os
import re
import sys
import tempfile

from .extras import MissingExtra
from .files import WriteFailed

# TensorFlow's C++ log threshold: 2 hides INFO and WARNING lines. setdefault, so
# that a user's own value (0 shows everything) wins.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# The errors a user can cause; a CLI prints them on one line and exits 2.
USER_ERRORS = (ValueError, TypeError, FileNotFoundError, NotADirectoryError, PermissionError, FloatingPointError,
               WriteFailed, MissingExtra)

# TensorFlow 2.19+ writes a few lines while it loads, before its logging reads
# TF_CPP_MIN_LOG_LEVEL (absl's "before absl::InitializeLog()" notice, oneDNN's
# round-off notice, "Could not find cuda drivers", and "failed call to cuInit" on a
# machine without a GPU). import_tensorflow applies the threshold to them itself.
_ABSL_LINE = re.compile(r"^([IWEF])\d{4} ")                                # I0000 00:00:... port.cc:153] ...
_TF_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: ([IWEF]) ")  # older TensorFlow format
_ABSL_NOTICE = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
_NO_GPU = "failed call to cuInit"
_SEVERITY = {"I": 0, "W": 1, "E": 2, "F": 3}


def parse_overrides(items: list[str] | None) -> dict:
    """``["dropout=0.3", "hidden_units=(16, 16)"]`` -> ``{"dropout": 0.3, "hidden_units": (16, 16)}``.

    Example:
        >>> parse_overrides(["dropout=0.3", "hidden_units=(16, 16)", "activation=tanh"])
        {'dropout': 0.3, 'hidden_units': (16, 16), 'activation': 'tanh'}
    """
    out = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        if not sep or not key.isidentifier():
            raise ValueError(f"--set: expected NAME=VALUE, got {item!r}")
        try:
            out[key] = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            out[key] = raw  # a bare word such as relu or he_normal
        except (RecursionError, MemoryError):  # thousands of nested brackets or unary minus signs
            raise ValueError(f"--set: {key}: the value ({len(raw)} characters) is nested too deeply to parse; "
                             "give a number, a string or a short tuple/list") from None
        except TypeError as exc:  # e.g. a set of lists: {[]}
            raise ValueError(f"--set: {key}: {raw[:40]!r} is not a valid value ({exc}); give a number, a string "
                             "or a tuple/list") from None
    return out


def run_cli(main, argv=None) -> int:
    """Call ``main(argv)``; print user errors as one line on stderr and return 2."""
    try:
        return main(argv) or 0
    except USER_ERRORS as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def exit_process(status: int):
    """``sys.exit(status)`` for a command's ``__main__``, skipping the garbage collections at exit.

    When the interpreter shuts down it collects every tracked object, and once
    TensorFlow and Keras are loaded that is millions of them: 2.9-3.2 s of each
    ``python -m zoo train`` on the shared 2-core machine, after the last file was written
    (bench/README.md). Frozen (``gc.freeze``), they are left to the process's end,
    as the memory is anyway; ``atexit`` handlers and ``__del__`` of objects not in
    cycles still run, and everything the command wrote was closed before.
    """
    import gc

    gc.freeze()
    sys.exit(status)


def log_level() -> int:
    """``TF_CPP_MIN_LOG_LEVEL`` as an int (0 = every line; an unreadable value counts as 0)."""
    try:
        return int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0"))
    except ValueError:
        return 0


def import_tensorflow():
    """Import TensorFlow (and Keras), hiding the start-up lines below ``TF_CPP_MIN_LOG_LEVEL``.

    Every other line written while TensorFlow loads (Python warnings, errors
    above the threshold) is passed on. With ``TF_CPP_MIN_LOG_LEVEL=0`` nothing
    is filtered; use it, too, when TensorFlow dies while loading, since the
    filter holds back what it printed until the import returns.

    Returns:
        The ``tensorflow`` module.
    """
    if "tensorflow" in sys.modules or log_level() <= 0:
        import keras  # noqa: F401
        import tensorflow as tf

        return tf
    with _filtered_stderr(log_level()) as seen:
        import keras  # noqa: F401
        import tensorflow as tf

        # Finding the devices is where TensorFlow tries CUDA; done here, its complaint
        # about a missing GPU is filtered too. Thread settings can still change afterwards.
        seen["gpus"] = tf.config.list_physical_devices("GPU")
    return tf


def _keep(line: str, level: int, gpus) -> bool:
    if line.strip() == _ABSL_NOTICE:
        return False
    match = _ABSL_LINE.match(line) or _TF_LINE.match(line)
    if not match:
        return True
    if _NO_GPU in line and not gpus:
        return False  # no GPU on this machine: CPU training is what the user gets
    return _SEVERITY[match.group(1)] >= level


@contextlib.contextmanager
def _filtered_stderr(level: int):
    """Send file descriptor 2 to a temporary file; afterwards write back the lines to keep."""
    seen = {"gpus": []}
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with tempfile.TemporaryFile() as tmp:
            os.dup2(tmp.fileno(), 2)
            try:
                yield seen
            finally:
                sys.stderr.flush()
                os.dup2(saved, 2)
                tmp.seek(0)
                text = tmp.read().decode("utf-8", "replace")
            kept = [line for line in text.splitlines(keepends=True) if _keep(line, level, seen["gpus"])]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()
    finally:
        os.close(saved)
