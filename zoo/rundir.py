"""A run directory is the old run, the new run, or clearly marked incomplete.

``python -m zoo train`` writes its final files (model, config, history, metrics,
curves) into a staging folder inside ``--out`` (:data:`STAGING`), then a
manifest (:data:`MANIFEST`, ``run.json``: every file with its size and SHA-256)
beside them, last. Only then does it take the old manifest away, move the new
files in, and move the new manifest in as the very last step. So at any moment:

* ``out/run.json`` present and matching the files: a finished run (the old one
  until the swap, the new one after it);
* ``out/run.json`` absent: no finished run, or a final save that was cut short.

:func:`verify` is what ``python -m zoo evaluate`` runs first: a directory whose
manifest is missing or does not match its files is refused, naming the file.
A finished run is replaced only when asked (:func:`check_reuse`).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

from . import files

MANIFEST = "run.json"
STAGING = ".incomplete-final-save"  # inside the run directory while the final files are written
CHECKPOINT_DIR = "checkpoint"  # inside the run directory while training is unfinished (zoo.checkpoint)
#: The files of a finished run that may be left over from an older one (a run that
#: wrote no curves.png must not be shown with the previous run's).
# evaluation.json, per_class.csv and confusion_matrix.png (zoo evaluate) describe one model: a new run removes them.
RUN_FILES = ("model.keras", "config.json", "history.json", "history.csv", "curves.png", "metrics.json",
             "evaluation.json", "per_class.csv", "confusion_matrix.png")


def check_working_folders(out) -> None:
    """Refuse a run directory whose working folders (the checkpoint, the staging folder) are symbolic links.

    A run directory is untrusted input: training would write into, and later delete,
    wherever such a link points.

    Raises:
        ValueError: names the link (:func:`zoo.files.refuse_symlink`).
    """
    for name in (CHECKPOINT_DIR, STAGING):
        files.refuse_symlink(Path(out) / name, argument="out")


class SettingsChanged(ValueError):
    """An unfinished run (its checkpoint) was started with other settings than the ones given now."""


def is_finished(out) -> bool:
    """Whether ``out`` holds a finished run: a manifest, or (written before manifests) a ``metrics.json``
    with no interrupted final save beside it."""
    out = Path(out)
    if (out / MANIFEST).is_file():
        return True
    return (out / "metrics.json").is_file() and not (out / STAGING).exists()


def check_reuse(out, *, overwrite: bool, resuming: bool) -> None:
    """Refuse to train into a finished run directory unless ``overwrite`` (or an unfinished run resumes).

    The finished run stays untouched until the new run's final save: a run that
    fails or is killed before then leaves it as it was.

    Raises:
        ValueError: ``out`` holds a finished run and neither ``overwrite`` nor ``resuming``.
    """
    if overwrite or resuming or not is_finished(out):
        return
    raise ValueError(
        f"out: {out} already holds a finished run; pass --overwrite (overwrite=True) to replace it when the new run "
        "finishes (it is kept until then), or choose another --out"
    )


def settings_changed(saved: dict, wanted: dict) -> list[str]:
    """``["epochs: 3000 in the checkpoint, 3 now", ...]`` for every setting that differs."""
    def text(value):
        return json.dumps(value, sort_keys=True, default=str)

    return [f"{key}: {text(saved.get(key))} in the checkpoint, {text(wanted.get(key))} now"
            for key in sorted(set(saved) | set(wanted)) if text(saved.get(key)) != text(wanted.get(key))]


def digest(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class FinalSave:
    """The final files of a run, staged and then swapped in (see the module docstring).

    Example (not run by the doctests: it needs a finished run; every `zoo train` in the tests goes through it):
        >>> save = FinalSave(out)                                    # doctest: +SKIP
        >>> save.write("metrics.json", lambda p: files.write_json(p, metrics))  # doctest: +SKIP
        >>> save.commit()                                            # doctest: +SKIP
    """

    def __init__(self, out):
        self.out = Path(out)
        self.stage = files.refuse_symlink(self.out / STAGING, argument="out")
        shutil.rmtree(self.stage, ignore_errors=True)  # what an earlier, interrupted save left
        self.stage.mkdir(parents=True)
        self.files: list[str] = []

    def path(self, name: str) -> Path:
        """Where to write ``name`` now (inside the staging folder)."""
        return self.stage / name

    def write(self, name: str, writer) -> None:
        """Call ``writer(path)`` to write ``name`` into the staging folder (atomically, as ``zoo.files`` does)."""
        _write_one(writer, self.path(name))
        self.files.append(name)

    def commit(self) -> None:
        """Manifest last in the staging folder; then the swap, the new manifest moved in last of all."""
        manifest = {"files": {name: {"bytes": self.path(name).stat().st_size, "sha256": digest(self.path(name))}
                              for name in self.files}}
        _write_one(lambda p: files.write_json(p, manifest), self.stage / MANIFEST)
        _remove_one(self.out / MANIFEST)  # from here until the last move, the directory reads as incomplete
        for name in RUN_FILES:
            if name not in self.files:
                _remove_one(self.out / name)
        for name in self.files:
            _move_one(self.stage / name, self.out / name)
        _move_one(self.stage / MANIFEST, self.out / MANIFEST)
        shutil.rmtree(self.stage, ignore_errors=True)


def optional(save: FinalSave, name: str, writer) -> bool:
    """Write ``name`` if ``writer`` can; a failure is reported on stderr and the run is saved without it.

    For files that are views of the results (a plot): what training produced must
    never be lost because one of them could not be drawn.
    """
    import sys

    try:
        save.write(name, writer)
    except Exception as exc:  # noqa: BLE001 - any failure of an optional view
        print(f"warning: {name} not written ({type(exc).__name__}: {exc}); the run is saved without it",
              file=sys.stderr)
        return False
    return True


def load_model(path):
    """``keras.models.load_model(path)``; a file Keras cannot read is named as damaged.

    Raises:
        ValueError: the file is not a loadable ``.keras`` archive.
    """
    import keras

    from . import layers, optimizers  # noqa: F401  register the zoo's layer and optimizer a model may hold

    path = Path(path)
    try:
        return keras.models.load_model(path)
    except Exception as exc:  # noqa: BLE001 - Keras reports a torn zip as "File not found" and other surprises
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise ValueError(f"run_dir: {path} is damaged: Keras cannot load it ({type(exc).__name__}: {first[:200]}); "
                         "train again with --overwrite") from None


def _write_one(writer, path: Path) -> None:
    writer(path)


def _move_one(src: Path, dst: Path) -> None:
    os.replace(src, dst)


def _remove_one(path: Path) -> None:
    path.unlink(missing_ok=True)


def verify(run_dir) -> dict:
    """Check ``run_dir`` against its manifest; return the manifest.

    Raises:
        FileNotFoundError: no manifest (not a run directory, an interrupted final
            save, or a run written before manifests), or a file it lists is missing.
        ValueError: a damaged manifest, or a file whose size or content differs from it.
    """
    run_dir = Path(run_dir)
    path = run_dir / MANIFEST
    if not path.is_file():
        if (run_dir / STAGING).exists():
            why = "its final save was interrupted"
        elif (run_dir / "metrics.json").is_file():
            why = "it was written before run directories had manifests, or by something else"
        else:
            why = "it is not a finished `python -m zoo train` run"
        raise FileNotFoundError(f"run_dir: {path} not found: {why}; train again (python -m zoo train ... --out "
                                f"{run_dir} --overwrite) to get a complete run")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        entries = [(name, int(entry["bytes"]), str(entry["sha256"])) for name, entry in manifest["files"].items()]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"run_dir: {path} is damaged ({type(exc).__name__}: {exc}); train again with --overwrite") from None
    for name, size, sha in entries:
        file = run_dir / name
        if name in ("", ".", "..") or Path(name).name != name:  # "../../etc/passwd" would be hashed
            raise ValueError(f"run_dir: {path} is damaged: it lists {printable(name)!r}, which is not a file of "
                             "the run directory itself; train again with --overwrite")
        files.refuse_symlink(file, argument="run_dir")
        if not file.is_file():
            raise FileNotFoundError(f"run_dir: {file} is missing (listed in {MANIFEST}); train again with --overwrite")
        actual = file.stat().st_size
        if actual != size:
            raise ValueError(f"run_dir: {file} is damaged: {actual} bytes, {MANIFEST} says {size} "
                             f"({'empty' if actual == 0 else 'truncated' if actual < size else 'changed'}); "
                             "train again with --overwrite")
        if digest(file) != sha:
            raise ValueError(f"run_dir: {file} is damaged: its content differs from what {MANIFEST} records; "
                             "train again with --overwrite")
    return manifest


def recorded_data_path(config: dict):
    """``config.json``'s ``data_path`` where following it is safe, else None.

    A run directory is untrusted input: the data is looked for there only when the
    recorded path is a folder (searched for the zoo's data file names) or names one of
    those files (:data:`zoo.datasets.KNOWN_FILES`). Any other file (``/etc/passwd``) is
    neither read, nor hashed, nor named for deletion because a run's file says so;
    the data is then looked for where it is without a path (``ZOO_DATA_DIR``, Keras's cache).
    """
    from .datasets import KNOWN_FILES

    value = config.get("data_path")
    if not isinstance(value, str) or not value:
        return None
    path = Path(value)
    return value if path.name in KNOWN_FILES or path.is_dir() else None


def printable(text) -> str:
    r"""``text`` with its non-printable characters (terminal escape codes, newlines) written as Python
    escapes: a name read from a run directory or a data file is shown, never obeyed by the terminal.

    Example:
        >>> printable("setosa\x1b[2J\n")
        'setosa\\x1b[2J\\n'
    """
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))


def check_finished(run_dir) -> Path:
    """``run_dir`` as a Path, if it holds the files a finished ``zoo train`` run has; no TensorFlow needed.

    Raises:
        FileNotFoundError: ``model.keras`` or ``config.json`` missing (named).
    """
    run_dir = Path(run_dir)
    for required in ("model.keras", "config.json"):
        if not (run_dir / required).is_file():
            raise FileNotFoundError(f"run_dir: {run_dir / required} not found; is {str(run_dir)!r} a finished `zoo train` run?")
    return run_dir


def read_config(run_dir, required=("model", "data", "seed")) -> dict:
    """``run_dir/config.json`` as a dict holding ``required``.

    Raises:
        ValueError: not JSON, not an object, or a key missing (named).
    """
    return files.read_json_object(Path(run_dir) / "config.json", argument="run_dir", required=required,
                                  what="run file", advice="train again with --overwrite")
