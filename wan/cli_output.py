"""The one way every command prints --json: standard JSON (RFC 8259) on stdout.

Python's json writes NaN and Infinity by default, which other tools' parsers refuse; a plan is
refused before it could hold one (wan.plan), and `allow_nan=False` turns any that slips through
into a bug with a traceback instead of output another program cannot read.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def print_json(payload: Any, **options: Any) -> None:
    """Write `payload` to stdout as standard JSON and a newline (`options`: indent, default)."""
    json.dump(payload, sys.stdout, allow_nan=False, **options)
    sys.stdout.write("\n")
