"""`python -m wan serve` as a user starts it: the URL printed, the API answering, refusals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import httpx
import pytest

from tests.conftest import ROOT
from wan.cli.main import main
from wan.cli.serve import bind_socket, check_exposure, is_loopback, server_url
from wan.errors import WanError


def test_serve_prints_its_url_and_answers(tmp_path):
    env = {**os.environ, "WAN_DATA_DIR": str(tmp_path / "data")}
    command = [sys.executable, "-m", "wan", "serve", "--port", "0", "--api-auth", "u:p"]
    command += ["--output-dir", str(tmp_path / "outputs")]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        line = process.stdout.readline()
        assert line.startswith("Wan API: http://127.0.0.1:"), line + process.stderr.read()
        url = line.split()[2]
        assert url.endswith("/wan/v1")
        assert httpx.get(f"{url}/health").status_code == 401
        health = httpx.get(f"{url}/health", auth=("u", "p"))
        assert health.status_code == 200 and health.json()["host"] == "standalone"
    finally:
        process.send_signal(signal.SIGINT)  # Ctrl+C
        process.wait(timeout=20)
    errors = process.stderr.read()
    assert process.returncode == 0 and "Traceback" not in errors, errors


def test_serve_refuses_an_open_network_address(capsys):
    assert main(["serve", "--host", "0.0.0.0", "--port", "0"]) == 2
    assert "--api-auth" in capsys.readouterr().err
    assert main(["serve", "--api-auth", "nopassword"]) == 2
    assert "user:password" in capsys.readouterr().err


def test_exposure_rules():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("example.org")
    check_exposure("0.0.0.0", has_auth=True, allow_remote=False)
    check_exposure("0.0.0.0", has_auth=False, allow_remote=True)
    assert server_url("::1", 80) == "http://[::1]:80"


def test_a_busy_port_is_a_clear_error():
    taken = bind_socket("127.0.0.1", 0)
    taken.listen()
    try:
        with pytest.raises(WanError, match="pick another --port"):
            bind_socket("127.0.0.1", taken.getsockname()[1])
    finally:
        taken.close()
