"""`python -m wan ui`: the WAN tab and the API without a WebUI."""

from __future__ import annotations

import argparse

from wan.errors import WanError


def add_command(commands: argparse._SubParsersAction) -> None:
    command = commands.add_parser(
        "ui", help="open the WAN tab and the API in a browser, without a WebUI"
    )
    command.set_defaults(run=_not_yet)


def _not_yet(args: argparse.Namespace) -> int:
    raise WanError("`ui` is not available yet")
