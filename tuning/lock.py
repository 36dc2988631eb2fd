"""One search process per tuning directory: a lock file with the holder's process id and host.

Two ``python -m tuning search`` processes on the same directory (outside
distributed mode) would both run every trial and overwrite each other's state.
The first takes ``DIR/.PROJECT.lock`` (beside the project folder, so that
``--overwrite`` cannot delete it); the second refuses, naming the holder. A lock
whose process is gone (same host, no such process id) is stale: it is taken
over, with a message saying so. Distributed workers share the directory by
design and take no lock.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import time
from pathlib import Path


def lock_path(directory, project: str) -> Path:
    return Path(directory) / f".{project}.lock"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True


def _read(path: Path) -> dict | None:
    try:
        holder = json.loads(path.read_text(encoding="utf-8"))
        return holder if isinstance(holder, dict) else None
    except (OSError, ValueError):
        return None


@contextlib.contextmanager
def search_lock(directory, project: str):
    """Hold the lock of ``directory/project`` while the block runs.

    Raises:
        ValueError: another live process holds it (names its pid, host and start time, and the lock file).
    """
    from zoo import files

    path = lock_path(files.ensure_writable_dir(directory, argument="directory"), project)
    me = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.strftime("%Y-%m-%d %H:%M:%S"),
          "project": str(Path(directory) / project)}
    for _ in range(3):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = _read(path)
            if holder is None:  # being written by its holder this very moment, or damaged: look again
                time.sleep(0.2)
                holder = _read(path)
            if holder is not None and holder.get("host") != me["host"]:
                raise ValueError(f"directory: {me['project']} is in use by a search on host {holder.get('host')} "
                                 f"(pid {holder.get('pid')}, since {holder.get('started')}); wait for it to finish, "
                                 f"or if it is gone, delete {path}") from None
            if holder is not None and isinstance(holder.get("pid"), int) and _alive(holder["pid"]):
                raise ValueError(f"directory: {me['project']} is in use by another search (pid {holder['pid']} on "
                                 f"{holder.get('host')}, since {holder.get('started')}); wait for it to finish, use "
                                 f"another --dir/--project, or if that process is not a search, delete {path}") from None
            what = f"pid {holder.get('pid')} is gone" if holder is not None else "it could not be read"
            print(f"taking over the stale lock {path} ({what})", file=sys.stderr)
            path.unlink(missing_ok=True)
            continue
        try:
            with files.naming_write_errors(path), os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(me, f)
        except OSError:  # a full disk: no lock left behind, and the disk's one-line error (WriteFailed)
            path.unlink(missing_ok=True)
            raise
        break
    else:
        raise ValueError(f"directory: could not take the lock {path}; delete it if no search runs there")
    try:
        yield path
    finally:
        if (_read(path) or {}).get("pid") == me["pid"]:
            path.unlink(missing_ok=True)
