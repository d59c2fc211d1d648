"""What commands print besides their results: --json as standard JSON (RFC 8259) on stdout,
the engine's log lines on stderr, and the exit codes.

Python's json writes NaN and Infinity by default, which other tools' parsers refuse; a plan is
refused before it could hold one (wan.core.plan), and `allow_nan=False` turns any that slips through
into a bug with a traceback instead of output another program cannot read.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

# Exit codes of every command.
EXIT_BUG = 1  # an internal error: the traceback is printed or in the log
EXIT_BAD_INPUT = 2  # bad input: one line on stderr says what, where and how to fix it
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT); finished clips are kept
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell reports for `python -m wan ... | head`

LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"


class _LineHandler(logging.Handler):
    """Hands each formatted record to `write` (stderr, or a progress bar that clears its line
    first so the two never share one)."""

    def __init__(self, write: Callable[[str], None]) -> None:
        super().__init__()
        self.write = write
        self.setFormatter(logging.Formatter(LOG_FORMAT))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.write(self.format(record))
        except Exception:  # logging must never break the command
            self.handleError(record)


def _to_stderr(text: str) -> None:
    print(text, file=sys.stderr)


@contextmanager
def engine_log(quiet: bool, write: Callable[[str], None] | None = None) -> Iterator[None]:
    """While inside: the engine's INFO lines (e.g. that a cancelled render kept its clips) go to
    `write` (default stderr); with `quiet` only its warnings and errors."""
    logger = logging.getLogger("wan")
    handler = _LineHandler(write or _to_stderr)
    handler.setLevel(logging.WARNING if quiet else logging.INFO)
    level = logger.level
    logger.addHandler(handler)
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def print_json(payload: Any, **options: Any) -> None:
    """Write `payload` to stdout as standard JSON and a newline (`options`: indent, default)."""
    json.dump(payload, sys.stdout, allow_nan=False, **options)
    sys.stdout.write("\n")
