"""The file lock that keeps every Wan render of one install on the GPU alone.

The WebUI, `python -m wan serve` and a CLI render are separate processes sharing one data folder;
the lock file `wan.paths.gpu_lock_file()` is how they take turns. Inside one process the same
`FileLock` object is handed out for a path, so its re-entry count works: the job worker holds it
around a whole job and the Runner takes `host.gpu_lock()` again inside, in the same thread.
`thread_local=True` keeps that count per thread, so another thread of the process waits instead
of walking in on the first thread's hold.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from pathlib import Path

from filelock import FileLock

_LOCKS: dict[Path, FileLock] = {}
_LOCKS_GUARD = threading.Lock()


def file_gpu_lock(path: Path | None = None) -> FileLock:
    """The process's one lock object for `path` (default: the data folder's `gpu.lock`)."""
    if path is None:
        from wan.paths import gpu_lock_file

        path = gpu_lock_file()
    key = Path(path).resolve()
    with _LOCKS_GUARD:
        lock = _LOCKS.get(key)
        if lock is None:
            key.parent.mkdir(parents=True, exist_ok=True)
            lock = FileLock(str(key), thread_local=True)
            _LOCKS[key] = lock
        return lock


def holder_path(lock: FileLock) -> Path:
    """Beside the lock file: who holds the lock, for those waiting to say whom they wait for."""
    return Path(str(lock.lock_file) + ".holder")


def write_holder(lock: FileLock, what: str) -> None:
    with contextlib.suppress(OSError):  # only a courtesy to those waiting
        holder_path(lock).write_text(json.dumps({"pid": os.getpid(), "what": what}))


def clear_holder(lock: FileLock) -> None:
    holder_path(lock).unlink(missing_ok=True)


def read_holder(lock: FileLock) -> str:
    """E.g. "job 1a2b3c4d (cli, orbit.json), pid 4242"; "another Wan render" when unknown."""
    try:
        data = json.loads(holder_path(lock).read_text())
        return f"{data['what']}, pid {int(data['pid'])}"
    except (OSError, ValueError, KeyError, TypeError):
        return "another Wan render"
