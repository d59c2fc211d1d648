"""`python -m wan serve`: serve the HTTP API without a WebUI."""

from __future__ import annotations

import argparse

from wan.errors import WanError


def add_command(commands: argparse._SubParsersAction) -> None:
    command = commands.add_parser("serve", help="serve the HTTP API without a WebUI")
    command.set_defaults(run=_not_yet)


def _not_yet(args: argparse.Namespace) -> int:
    raise WanError("`serve` is not available yet")
