"""Is the process that owns a running job still there? (Portable: never signals on Windows.)"""

from __future__ import annotations

import os


def process_alive(pid: int) -> bool:
    """True when a process with this id exists (it may be a newer one: callers add a heartbeat)."""
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil ships with both WebUIs
        return _alive_without_psutil(pid)
    return psutil.pid_exists(pid) and not _zombie(psutil, pid)


def _zombie(psutil, pid: int) -> bool:
    """A killed child its parent has not reaped yet is gone for our purposes."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _alive_without_psutil(pid: int) -> bool:  # pragma: no cover - psutil ships with both WebUIs
    if os.name == "nt":
        import ctypes

        handle = ctypes.windll.kernel32.OpenProcess(0x1000, False, pid)  # QUERY_LIMITED_INFO
        if not handle:
            return False
        ctypes.windll.kernel32.CloseHandle(handle)
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
