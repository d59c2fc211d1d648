"""Schemathesis against a real `python -m wan serve`: every route, without and with --api-auth,
stateful (the links from POST /jobs to the job routes) included. Prints, per auth mode, the
requests sent, the server errors (5xx), the schema mismatches (status code, content type,
body and headers not as the OpenAPI schema says) and each check's passes and failures.

The server gets fresh data, output, models and Hugging Face cache folders, so the jobs it queues
ask for models that are not installed and fail at once: nothing long renders, and the server is
stopped (as by Ctrl+C) when the run ends. tests/api/test_schemathesis.py
runs the same with few examples; this is the full run.

    python fuzz/api_schemathesis.py [--max-examples 100] [--minutes 5] [--seed N] [--keep DIR]

Exits 1 when a check failed (the schemathesis output is printed), 0 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AUTH = "fuzz:not-a-secret"
# What "the API does what its schema says" means here. use_after_free is left out: DELETE
# /jobs/{id} cancels a job and keeps its record (GET still answers 200), as DESIGN.md says.
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "ensure_resource_availability",
)
AUTH_CHECKS = (*CHECKS, "ignored_auth")
MISMATCHES = (
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
)
PHASES = "examples,coverage,fuzzing,stateful"
CLI = "import sys; from schemathesis.cli import schemathesis; sys.exit(schemathesis())"


@dataclass
class Figures:
    """What one schemathesis run did, read from its NDJSON report."""

    requests: int = 0
    server_errors: int = 0
    statuses: Counter = field(default_factory=Counter)
    passed: Counter = field(default_factory=Counter)  # check name -> passes
    failed: Counter = field(default_factory=Counter)  # check name -> failures

    @property
    def mismatches(self) -> int:
        return sum(self.failed[name] for name in MISMATCHES)

    def lines(self) -> list[str]:
        statuses = ", ".join(f"{code}: {n}" for code, n in sorted(self.statuses.items()))
        out = [
            f"requests sent: {self.requests}",
            f"server errors (5xx): {self.server_errors}",
            f"schema mismatches: {self.mismatches}",
            f"statuses: {statuses}",
        ]
        for name in sorted(set(self.passed) | set(self.failed)):
            out.append(f"  {name}: {self.passed[name]} passed, {self.failed[name]} failed")
        return out


def read_figures(report: Path) -> Figures:
    """Count requests, statuses and check outcomes in a schemathesis NDJSON report."""
    figures = Figures()
    with report.open(encoding="utf-8") as lines:
        for line in lines:
            if not line.startswith('{"ScenarioFinished"'):
                continue
            try:
                recorder = json.loads(line)["ScenarioFinished"]["recorder"]
            except ValueError:  # the last line of a run stopped while writing it
                continue
            for interaction in recorder.get("interactions", {}).values():
                response = interaction.get("response") or {}
                status = response.get("status_code")
                figures.requests += 1
                if status is None:
                    continue
                figures.statuses[status] += 1
                figures.server_errors += status >= 500
            for checks in recorder.get("checks", {}).values():
                for check in checks:
                    outcome = figures.passed if check["status"] == "success" else figures.failed
                    outcome[check["name"]] += 1
    return figures


@contextmanager
def served(folder: Path, auth: str | None = None) -> Iterator[str]:
    """`python -m wan serve` on a free port with its own folders; yields the base URL."""
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "WAN_DATA_DIR": str(folder / "data"),
        "WAN_CACHE_DIR": str(folder / "cache"),
        "WAN_SMOKE_DIR": str(folder / "smoke"),
        "HF_HUB_CACHE": str(folder / "hf-cache"),  # models downloaded there are not found
    }
    env.pop("WAN_MODELS_DIR", None)
    (folder / "models").mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "wan", "serve", "--port", "0"]
    command += ["--output-dir", str(folder / "outputs"), "--models-dir", str(folder / "models")]
    command += ["--api-auth", auth] if auth else []
    log_path = folder / "server.log"
    log = log_path.open("w", encoding="utf-8")
    # Its output goes to a file: a pipe nobody reads fills up and blocks the server.
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log, text=True)
    try:
        yield _announced_url(server, log_path)
    finally:
        server.send_signal(signal.SIGINT)  # as Ctrl+C: the queue closes, nothing keeps running
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def _announced_url(server: subprocess.Popen, log_path: Path, wait: float = 60) -> str:
    """The base URL from the line `serve` prints once it listens."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and server.poll() is None:
        for line in log_path.read_text(encoding="utf-8").splitlines():
            if line.startswith("Wan API: "):
                return line.split()[2].removesuffix("/wan/v1")
        time.sleep(0.1)
    raise RuntimeError(f"the server did not start; see {log_path}")


@dataclass(frozen=True)
class Outcome:
    """How the schemathesis CLI ended: its exit status and output, and whether the time limit
    stopped it (its report then holds what it did until then)."""

    returncode: int
    output: str
    stopped: bool
    seconds: float


def run_schemathesis(
    url: str,
    report: Path,
    *,
    max_examples: int,
    auth: str | None = None,
    seed: int | None = None,
    limit: float | None = None,
) -> Outcome:
    """The schemathesis CLI against `url`'s /openapi.json; its NDJSON report goes to `report`.
    Past `limit` seconds it is interrupted as by Ctrl+C, which still closes the report."""
    command = [sys.executable, "-c", CLI, "run", f"{url}/openapi.json"]
    command += ["--checks", ",".join(AUTH_CHECKS if auth else CHECKS)]
    command += ["--phases", PHASES, "--max-examples", str(max_examples), "--workers", "1"]
    command += ["--request-timeout", "60", "--generation-database", "none", "--no-color"]
    command += ["--report", "ndjson", "--report-ndjson-path", str(report)]
    command += ["--auth", auth] if auth else []
    command += ["--seed", str(seed)] if seed is not None else []
    output_path = report.with_suffix(".out")
    started = time.monotonic()
    with output_path.open("w", encoding="utf-8") as output:
        # cwd: the folders it writes (.hypothesis, .schemathesis) stay beside the report
        run = subprocess.Popen(command, cwd=report.parent, stdout=output, stderr=output)
        try:
            run.wait(timeout=limit)
            stopped = False
        except subprocess.TimeoutExpired:
            run.send_signal(signal.SIGINT)
            stopped = True
            try:
                run.wait(timeout=30)
            except subprocess.TimeoutExpired:
                run.kill()
                run.wait()
    text = output_path.read_text(encoding="utf-8", errors="replace")
    return Outcome(run.returncode, text, stopped, time.monotonic() - started)


def fuzz(
    folder: Path,
    auth: str | None,
    max_examples: int,
    seed: int | None = None,
    limit: float | None = None,
) -> tuple[Outcome, Figures]:
    """One full run: a fresh server, schemathesis against it, the figures of its report."""
    folder.mkdir(parents=True, exist_ok=True)
    report = folder / "schemathesis.ndjson"
    with served(folder / "server", auth) as url:
        outcome = run_schemathesis(
            url, report, max_examples=max_examples, auth=auth, seed=seed, limit=limit
        )
    return outcome, read_figures(report)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=100, help="per operation (100)")
    parser.add_argument(
        "--minutes", type=float, default=5, help="per auth mode; then stopped, figures kept (5)"
    )
    parser.add_argument("--seed", type=int, default=None, help="schemathesis seed (random)")
    parser.add_argument("--keep", type=Path, default=None, help="folder for logs and reports")
    args = parser.parse_args(argv)
    folder = args.keep or Path(tempfile.mkdtemp(prefix="wan-fuzz-api-"))
    failed = False
    for name, mode, auth in (("no-auth", "without auth", None), ("api-auth", "--api-auth", AUTH)):
        outcome, figures = fuzz(
            folder / name, auth, args.max_examples, args.seed, args.minutes * 60
        )
        ended = "stopped at the time limit" if outcome.stopped else "finished"
        print(
            f"== {mode}: at most {args.max_examples} examples per operation; {ended} after "
            f"{outcome.seconds:.0f} s",
            flush=True,
        )
        print("\n".join(figures.lines()), flush=True)
        bad = figures.server_errors or figures.mismatches or sum(figures.failed.values())
        if bad or (outcome.returncode != 0 and not outcome.stopped):
            failed = True
            print(outcome.output[-20000:], flush=True)
    print(f"reports, schemathesis output and server logs: {folder}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
