"""Where the extension keeps its own state: the job database, the GPU file lock, job inputs.

`WAN_DATA_DIR` wins (tests, several installs side by side); else `data/` inside the extension's
folder, which the WebUI leaves alone on update. The CLI, `serve` and the WebUI of the same
install share it, so they share one queue and one GPU lock.
"""

from __future__ import annotations

import os
from pathlib import Path

EXTENSION_ROOT = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    folder = Path(os.environ.get("WAN_DATA_DIR") or EXTENSION_ROOT / "data")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def gpu_lock_file() -> Path:
    """The file lock that keeps a CLI render and a WebUI render from sharing the GPU."""
    return data_dir() / "gpu.lock"


def jobs_db() -> Path:
    return data_dir() / "jobs.sqlite3"


def job_inputs_dir(job_id: str) -> Path:
    """Images a request sent as base64, saved for the job (and its retries) to read."""
    return data_dir() / "inputs" / job_id


def downloads_dir() -> Path:
    """Inputs downloaded from the URLs settings name (`wan.render.fetch`), one file per URL,
    shared by every job that uses it: the same settings name the same file, so a resume or a
    rerun matches its job and downloads nothing again."""
    return data_dir() / "downloads"


def new_file_mode() -> int:
    """The permissions a plain open() gives a new file here (0o666 less the umask). tempfile's
    files are 0o600, which a web server or another user of a shared output folder cannot read;
    files written through a temporary name get this mode before they are renamed into place."""
    try:
        status = Path("/proc/self/status").read_text()
        umask = int(
            next(line.split()[1] for line in status.splitlines() if line.startswith("Umask")), 8
        )
    except (OSError, StopIteration, ValueError, IndexError):
        umask = 0o022  # the usual umask where /proc is not there
    return 0o666 & ~umask
