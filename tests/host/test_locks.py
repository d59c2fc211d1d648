"""The GPU file lock: one object per path, re-entrant in a thread, exclusive across threads and
processes."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from filelock import Timeout

from wan.host.locks import file_gpu_lock
from wan.host.standalone import StandaloneHost
from wan.paths import gpu_lock_file


def _try_in_thread(lock, timeout: float = 0.2) -> str:
    result: list[str] = []

    def attempt() -> None:
        try:
            with lock.acquire(timeout=timeout):
                result.append("acquired")
        except Timeout:
            result.append("waited")

    thread = threading.Thread(target=attempt)
    thread.start()
    thread.join()
    return result[0]


def test_one_lock_object_per_resolved_path(tmp_path: Path):
    a = file_gpu_lock(tmp_path / "x" / ".." / "gpu.lock")
    assert a is file_gpu_lock(tmp_path / "gpu.lock")
    assert a is not file_gpu_lock(tmp_path / "other.lock")
    assert file_gpu_lock() is file_gpu_lock(gpu_lock_file())


def test_same_thread_reenters_and_other_threads_wait(tmp_path: Path):
    lock = file_gpu_lock(tmp_path / "gpu.lock")
    with lock:
        with lock:  # the Runner's host.gpu_lock() inside the worker's hold
            assert lock.is_locked
            assert _try_in_thread(lock) == "waited"
        assert _try_in_thread(lock) == "waited"
    assert _try_in_thread(lock) == "acquired"


def test_another_process_waits_while_held(tmp_path: Path):
    path = tmp_path / "gpu.lock"
    probe = (
        "import sys, filelock\n"
        "try:\n"
        "    filelock.FileLock(sys.argv[1]).acquire(timeout=0.2)\n"
        "    print('acquired')\n"
        "except filelock.Timeout:\n"
        "    print('waited')\n"
    )

    def other_process() -> str:
        run = subprocess.run([sys.executable, "-c", probe, str(path)], capture_output=True)
        return run.stdout.decode().strip()

    with file_gpu_lock(path):
        assert other_process() == "waited"
    assert other_process() == "acquired"


def test_standalone_host_holds_the_data_folder_lock():
    host = StandaloneHost()
    with host.gpu_lock():
        assert file_gpu_lock().is_locked
        assert _try_in_thread(file_gpu_lock()) == "waited"
    assert not file_gpu_lock().is_locked
