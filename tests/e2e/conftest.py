"""The browser test's parts: Debian's headless Chromium through Playwright, and `python -m wan ui`
served by a real subprocess on a free port of 127.0.0.1 with every folder in the test's tmp_path.

The tab is served twice: by this interpreter (gradio 4, like Forge) and by the A1111-pinned one
(gradio 3.41.2, `make setup-a1111`). A missing browser or driver fails the test: it never skips.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
INSTALL_HINT = "apt-get install chromium chromium-driver (.ci/run does it)"
SERVER_START_SECONDS = 180


@dataclass(frozen=True)
class Server:
    url: str
    log: Path
    process: subprocess.Popen


def _a1111_python() -> Path | None:
    """$WAN_A1111_PYTHON (the Makefile sets it: then it must exist), else .venv-a1111 if built."""
    chosen = os.environ.get("WAN_A1111_PYTHON")
    if chosen:
        return Path(chosen)
    default = ROOT / ".venv-a1111" / "bin" / "python"
    return default if default.exists() else None


@pytest.fixture(params=["gradio4", "a1111"])
def server_python(request: pytest.FixtureRequest) -> Path:
    """The interpreter that serves the tab: this one, or the A1111-pinned one."""
    if request.param == "gradio4":
        return Path(sys.executable)
    python = _a1111_python()
    if python is None:
        pytest.skip("no A1111-pinned environment: `make setup-a1111` builds .venv-a1111")
    if not python.exists():
        pytest.fail(f"WAN_A1111_PYTHON={python} does not exist: run `make setup-a1111`")
    return python


@pytest.fixture
def browser() -> Iterator:
    """Debian's Chromium, headless; Playwright never downloads a browser of its own here."""
    if not CHROMIUM.exists():
        pytest.fail(f"no browser at {CHROMIUM}: {INSTALL_HINT}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        pytest.fail(f"playwright is not installed ({exc}): run `make setup-e2e`")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def wan_ui(server_python: Path, tmp_path: Path) -> Iterator[Server]:
    """`python -m wan ui` on a free port, logging to tmp_path; stopped after the test."""
    port = _free_port()
    log = tmp_path / "server.log"
    folders = {name: tmp_path / name for name in ("data", "smoke", "cache", "out", "models", "hf")}
    for folder in folders.values():
        folder.mkdir()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HF_HUB_OFFLINE": "1",
        "HF_HUB_CACHE": str(folders["hf"]),
        "WAN_DATA_DIR": str(folders["data"]),
        "WAN_SMOKE_DIR": str(folders["smoke"]),
        "WAN_CACHE_DIR": str(folders["cache"]),
        "WAN_OUTPUT_DIR": str(folders["out"]),
        "WAN_MODELS_DIR": str(folders["models"]),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "GRADIO_TEMP_DIR": str(tmp_path / "gradio"),
    }
    command = [
        str(server_python),
        "-m",
        "wan",
        "ui",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--output-dir",
        str(folders["out"]),
        "--models-dir",
        str(folders["models"]),
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    server = Server(url=f"http://127.0.0.1:{port}/", log=log, process=process)
    try:
        _wait_until_serving(server)
        yield server
    finally:
        _stop(process)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_serving(server: Server) -> None:
    """Until the page answers 200; the server's log is in the failure message otherwise."""
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(
                f"`python -m wan ui` exited with {server.process.returncode} before serving; "
                f"its log ({server.log}):\n{_tail(server.log)}"
            )
        try:
            with urllib.request.urlopen(server.url, timeout=5) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    pytest.fail(
        f"`python -m wan ui` did not answer {server.url} within {SERVER_START_SECONDS}s; "
        f"its log ({server.log}):\n{_tail(server.log)}"
    )


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=15)


def _tail(path: Path, lines: int = 60) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
