"""Runs settings cases through `python -m wan plan SETTINGS --model tiny-t2v --json` in worker
processes, each case with a time limit, and classifies what happened.

The CLI's own `main` is called in the worker (no process per case: ~10 ms a case instead of a
second), on a file holding the case's text, so the case meets exactly what a user's file meets.
A worker that runs past the limit is killed (signal.alarm cannot stop numpy or numexpr inside C
code) and counts as a HANG; one that dies counts as a CRASH. A memory ceiling per worker turns an
allocation that would take the machine down into a MemoryError, which is reported (uncaught).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import multiprocessing
import os
import re
import time
import traceback
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

OK = "ok"
CLEAR = "clear-error"
UNCAUGHT = "uncaught"
HANG = "hang"
CRASH = "crash"
NON_STANDARD_JSON = "non-standard-json"
PLAN_ARGS = ("--model", "tiny-t2v", "--json")


@dataclass(frozen=True)
class Result:
    """What one case did: its class, a grouping key within the class, and the details."""

    status: str
    key: str = ""  # e.g. "OverflowError at wan/core/deforum/seeds.py:40 in frame_seeds"
    detail: str = ""  # the error line, the traceback's last lines, or where the JSON breaks
    seconds: float = 0.0


def plan_text(text: str, path: Path) -> Result:
    """Plan one settings text as the CLI does, in this process, and classify the outcome."""
    from wan.cli.main import main  # imported here: the worker sets its limits first

    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    out, err = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["plan", str(path), *PLAN_ARGS])
    except BaseException as exc:  # every escape is the finding, SystemExit included
        if isinstance(exc, KeyboardInterrupt):
            raise
        seconds = time.perf_counter() - start
        return Result(UNCAUGHT, _where(exc), _tail(exc), seconds)
    seconds = time.perf_counter() - start
    if code == 2:
        return Result(CLEAR, "", err.getvalue().strip()[:500], seconds)
    if code != 0:
        return Result(UNCAUGHT, f"exit {code}", err.getvalue().strip()[-500:], seconds)
    return _check_json(out.getvalue(), seconds)


def _check_json(output: str, seconds: float) -> Result:
    """OK when the printed plan is standard JSON (no NaN or Infinity anywhere)."""
    try:
        data = json.loads(output)
    except json.JSONDecodeError as exc:
        return Result(UNCAUGHT, "plan output is not JSON", str(exc), seconds)
    try:
        json.dumps(data, allow_nan=False)
    except ValueError:
        where, value = _first_non_finite(data, "")
        return Result(NON_STANDARD_JSON, _generic(where), f"{where} = {value}", seconds)
    return Result(OK, seconds=seconds)


def _first_non_finite(value: Any, where: str) -> tuple[str, Any]:
    if isinstance(value, float) and not math.isfinite(value):
        return where, value
    if isinstance(value, dict | list):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, child in items:
            found = _first_non_finite(child, f"{where}.{key}" if where else str(key))
            if found[0]:
                return found
    return "", None


def _generic(where: str) -> str:
    """A JSON path with list indices removed, so every clip's same field is one finding."""
    return ".".join(part for part in where.split(".") if not part.isdigit())


def _where(exc: BaseException) -> str:
    """The exception type and the innermost frame inside wan/ (where the bug shows)."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if Path(f.filename).resolve().is_relative_to(ROOT / "wan")]
    frame = (ours or frames or [None])[-1]
    if frame is None:
        return type(exc).__name__
    name = Path(frame.filename).resolve()
    shown = name.relative_to(ROOT) if name.is_relative_to(ROOT) else name.name
    return f"{type(exc).__name__} at {shown}:{frame.lineno} in {frame.name}"


def _tail(exc: BaseException, lines: int = 6) -> str:
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return "\n".join(text.rstrip().splitlines()[-lines:])[-2000:]


def _worker(conn: Connection, folder: str, memory_mb: int, stack_after: float) -> None:
    """Worker loop: receive a case text, answer its Result; limits set before wan is imported.

    A case still running after `stack_after` seconds has its stack written to the worker's
    stack file (faulthandler works inside C code too), so a hang says where it hangs.
    """
    os.environ.update({"NUMEXPR_MAX_THREADS": "1", "OMP_NUM_THREADS": "1"})
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if memory_mb > 0:
        import resource

        limit = memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    import faulthandler
    import logging

    logging.disable(logging.CRITICAL)  # the CLI's info lines are not findings
    path = Path(folder) / f"settings-{os.getpid()}.txt"
    with stack_file(folder, os.getpid()).open("w") as stacks:
        while True:
            text = conn.recv()
            if text is None:
                return
            stacks.seek(0)
            stacks.truncate()
            faulthandler.dump_traceback_later(stack_after, file=stacks)
            result = plan_text(text, path)
            faulthandler.cancel_dump_traceback_later()
            conn.send(result)


def stack_file(folder: str, pid: int) -> Path:
    return Path(folder) / f"stack-{pid}.txt"


def hang_place(dump: str) -> str:
    """The innermost frame inside wan/ of a faulthandler dump (most recent call first)."""
    for line in dump.splitlines():
        match = re.match(r'\s*File "(.+)", line (\d+) in (\S+)', line)
        if match and Path(match[1]).resolve().is_relative_to(ROOT / "wan"):
            shown = Path(match[1]).resolve().relative_to(ROOT)
            return f"hang at {shown}:{match[2]} in {match[3]}"
    return "hang (no stack inside wan/)"


class _Slot:
    """One worker process and the case it is running."""

    def __init__(self, context, folder: str, memory_mb: int, timeout: float) -> None:
        self.context, self.folder, self.memory_mb = context, folder, memory_mb
        self.timeout = timeout
        self.case: Any = None
        self.started = 0.0
        self._start()

    def _start(self) -> None:
        self.conn, child = self.context.Pipe()
        self.process = self.context.Process(
            target=_worker,
            args=(child, self.folder, self.memory_mb, self.timeout * 0.9),
            daemon=True,
        )
        self.process.start()
        child.close()

    def submit(self, case: Any) -> None:
        self.case, self.started = case, time.monotonic()
        self.conn.send(case.text)

    def restart(self) -> None:
        self.process.kill()
        self.process.join()
        self.conn.close()
        self._start()

    def stop(self) -> None:
        with contextlib.suppress(OSError, BrokenPipeError):
            self.conn.send(None)
        self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


class Pool:
    """Worker processes that run cases with a time limit; use as a context manager."""

    def __init__(
        self, folder: str, timeout: float = 10.0, jobs: int = 1, memory_mb: int = 4096
    ) -> None:
        context = multiprocessing.get_context("spawn")
        self.timeout = timeout
        self.slots = [_Slot(context, folder, memory_mb, timeout) for _ in range(max(1, jobs))]

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        for slot in self.slots:
            slot.stop()

    def run(self, cases: Iterable[Any]) -> Iterator[tuple[Any, Result]]:
        """Yield (case, Result) for every case (each has `.text`), in completion order."""
        pending = iter(cases)
        exhausted = False
        while True:
            for slot in self.slots:
                if slot.case is None and not exhausted:
                    case = next(pending, None)
                    if case is None:
                        exhausted = True
                    else:
                        slot.submit(case)
            busy = [s for s in self.slots if s.case is not None]
            if not busy:
                return
            left = min(s.started + self.timeout - time.monotonic() for s in busy)
            ready = wait([s.conn for s in busy], timeout=max(0.0, left))
            for slot in busy:
                result = _collect(slot, slot.conn in ready, self.timeout)
                if result is not None:
                    case, slot.case = slot.case, None
                    yield case, result

    def one(self, text: str, timeout: float | None = None) -> Result:
        """The Result of one settings text (optionally under a shorter time limit)."""
        saved, self.timeout = self.timeout, timeout or self.timeout
        try:
            return next(self.run([_Text(text)]))[1]
        finally:
            self.timeout = saved


@dataclass(frozen=True)
class _Text:
    text: str


def _collect(slot: _Slot, ready: bool, timeout: float) -> Result | None:
    """The slot's Result if it has one; HANG or CRASH (and a fresh worker) if it never will."""
    elapsed = time.monotonic() - slot.started
    if ready:
        try:
            return slot.conn.recv()
        except (EOFError, OSError):
            slot.process.join(1)
            if elapsed < slot.timeout * 0.9:
                code = slot.process.exitcode
                slot.restart()
                return Result(CRASH, f"worker died (exit {code})", "", elapsed)
            # Past the stack dump's time: faulthandler reading a running thread's frames can
            # itself crash the worker, so this is the hang it was dumping.
            return _hang(slot, elapsed)
    if elapsed >= timeout:
        return _hang(slot, elapsed)
    return None


def _hang(slot: _Slot, elapsed: float) -> Result:
    dump_path = stack_file(slot.folder, slot.process.pid)
    slot.restart()
    dump = dump_path.read_text(errors="replace") if dump_path.exists() else ""
    dump_path.unlink(missing_ok=True)
    return Result(HANG, hang_place(dump), "\n".join(dump.splitlines()[:8]), elapsed)
