"""Atomic output files: every file a command writes appears whole or not at all.

A file is written under a temporary name in its final directory and then moved
into place with :func:`os.replace`, which is atomic on POSIX and Windows. An
interrupted run therefore leaves the previous file (or none), never a torn one.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import io
import json
import os
import shutil
import tempfile
from pathlib import Path


def ensure_writable_dir(path: str | os.PathLike, *, argument: str = "out") -> Path:
    """Create ``path`` if needed and check that files can be written there.

    Raises:
        ValueError: naming ``argument`` when the directory cannot be created or written.
    """
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-check-"):
            pass
    except OSError as exc:
        raise ValueError(f"{argument}: cannot write to directory {str(path)!r} ({exc.strerror or exc})") from None
    return path


#: Write errors that are the disk's, not the program's: named with the file and the disk.
WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG}


class WriteFailed(OSError):
    """A file could not be written because of its disk (full, over quota, read-only); the message names both."""

    def __str__(self):
        return self.strerror


def describe_write_error(exc: OSError, path) -> str:
    """``"no space left on device while writing PATH (disk of DIR: N MB free); ..."``."""
    path = Path(path)
    where = path.parent
    try:
        usage = shutil.disk_usage(where)
        disk = f"the disk holding {where}: {usage.free / 1e6:.1f} MB free of {usage.total / 1e6:.1f} MB"
    except OSError:
        disk = f"the disk holding {where}"
    what = {errno.ENOSPC: "no space left on device", errno.EDQUOT: "disk quota exceeded",
            errno.EROFS: "read-only file system", errno.EFBIG: "file too large"}.get(exc.errno, exc.strerror)
    return (f"{what} while writing {path} ({disk}); the previous version of the file, if any, is unchanged: "
            "free some space or write elsewhere, then run the command again")


@contextlib.contextmanager
def naming_write_errors(path: str | os.PathLike):
    """Turn a disk's write error (:data:`WRITE_ERRNOS`) inside the block into :class:`WriteFailed` naming ``path``.

    NumPy's ``tofile`` reports a short write as a bare ``OSError("N requested and M written")``
    without an errno: that is a full disk too, and is named the same way.
    """
    path = Path(path)
    try:
        yield path
    except WriteFailed:
        raise
    except OSError as exc:
        short_write = exc.errno is None and "requested and" in str(exc) and "written" in str(exc)
        if exc.errno not in WRITE_ERRNOS and not short_write:
            raise
        code = exc.errno if exc.errno is not None else errno.ENOSPC
        raise WriteFailed(code, describe_write_error(OSError(code, os.strerror(code)), path)) from exc


def refuse_symlink(path: str | os.PathLike, *, argument: str) -> Path:
    """``path`` if it is not a symbolic link: a run directory is untrusted input, and a link inside it
    would make a command read, write or delete wherever the link points.

    Raises:
        ValueError: names ``argument``, the link and its target.
    """
    path = Path(path)
    if path.is_symlink():
        raise ValueError(f"{argument}: {path} is a symbolic link (to {os.readlink(path)!r}); the files of a run "
                         "directory must be inside it: remove the link (its target is left alone) and run the "
                         "command again")
    return path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path beside ``path``; on success move it onto ``path``.

    The temporary name keeps the final suffix so that writers which check the
    extension (``model.save`` wants ``.keras``) accept it. On error the
    temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    suffix = "".join(path.suffixes[-2:])  # keep ".weights.h5" whole: Keras checks it
    # Creating the folder or the temporary file can fail on a full disk too (no inode left, a quota).
    with naming_write_errors(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=f".tmp{suffix}")
    os.close(fd)
    os.unlink(tmp)  # writers such as model.save() want to create the file themselves
    try:
        with naming_write_errors(path):
            yield Path(tmp)
            os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def write_text(path: str | os.PathLike, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_texts(texts: dict) -> None:
    """Write several text files (path -> text) all or none, as far as the disk decides.

    Each is written whole under a temporary name beside it first; only when all are
    written are they moved into place (renames, which need no space). A full disk
    leaves every earlier file as it was and raises :class:`WriteFailed` naming the file.
    """
    # One atomic_path each, all open at once: the renames happen as the stack closes, after the last
    # write, and an error in any write closes every one of them without renaming (temporaries removed).
    with contextlib.ExitStack() as stack:
        for path, text in texts.items():
            stack.enter_context(atomic_path(path)).write_text(text, encoding="utf-8")


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def json_text(obj) -> str:
    """``obj`` as the JSON text :func:`write_json` writes (NumPy values and paths converted)."""
    return json.dumps(obj, indent=2, sort_keys=False, default=_json_default) + "\n"


def write_json(path: str | os.PathLike, obj) -> Path:
    return write_text(path, json_text(obj))


def write_csv(path: str | os.PathLike, rows: list[dict], fieldnames: list[str] | None = None) -> Path:
    fieldnames = fieldnames or (list(rows[0]) if rows else [])
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fieldnames, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return write_text(path, buf.getvalue())


def save_figure(fig, path: str | os.PathLike, **kwargs) -> Path:
    """Save a matplotlib figure atomically (format taken from the suffix) and close it."""
    import matplotlib.pyplot as plt

    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=path.suffix.lstrip(".") or "png", bbox_inches="tight", **kwargs)
    plt.close(fig)
    return path


def save_model(model, path: str | os.PathLike) -> Path:
    """``model.save`` to a ``.keras`` file, atomically."""
    with atomic_path(path) as tmp:
        model.save(tmp)
    return Path(path)


def _json_default(obj):
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def read_json_object(path: str | os.PathLike, *, argument: str, required=(), what: str = "file",
                     advice: str = "") -> dict:
    """The JSON object in ``path``, holding the keys ``required``.

    Every way such a file is damaged (not UTF-8, empty, cut short, not an object,
    a key missing) raises one ``ValueError`` that names ``argument``, the file and
    what is wrong, followed by ``advice`` (what to do).
    """
    path = Path(path)
    then = f"; {advice}" if advice else ""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{argument}: {path} is damaged (not UTF-8 text){then}") from None
    if not text.strip():
        raise ValueError(f"{argument}: {path} is empty (a damaged {what}){then}")
    try:
        obj = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"{argument}: {path} is not valid JSON, probably truncated ({exc}){then}") from None
    if not isinstance(obj, dict):
        raise ValueError(f"{argument}: {path} must hold a JSON object, got a {type(obj).__name__}{then}")
    missing = [k for k in required if k not in obj]
    if missing:
        raise ValueError(f"{argument}: {path} lacks the key(s) {', '.join(map(repr, missing))}{then}")
    return obj
