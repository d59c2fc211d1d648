"""`python -m wan jobs`: list, cancel, retry and resume queued renders."""

from __future__ import annotations

import argparse

from wan.errors import WanError


def add_command(commands: argparse._SubParsersAction) -> None:
    command = commands.add_parser("jobs", help="list, cancel, retry and resume queued renders")
    command.set_defaults(run=_not_yet)


def _not_yet(args: argparse.Namespace) -> int:
    raise WanError("`jobs` is not available yet")
