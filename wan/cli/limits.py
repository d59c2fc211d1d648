"""`python -m wan limits`: the limits in force (wan/limits.py) and how to change each."""

from __future__ import annotations

import argparse

from wan.cli.output import print_json
from wan.limits import DEFAULT_LIMITS, HELP, Limits, current_limits


def add_command(commands: argparse._SubParsersAction) -> None:
    command = commands.add_parser(
        "limits", help="the limits on what one render or request may ask for"
    )
    command.add_argument("--json", action="store_true", help="machine-readable output")
    command.set_defaults(run=run_limits)


def run_limits(args: argparse.Namespace) -> int:
    limits = current_limits()
    if args.json:
        print_json(limits.to_dict())
        return 0
    default = DEFAULT_LIMITS.to_dict()
    for name, value in limits.to_dict().items():
        changed = "" if value == default[name] else f" (default {default[name]})"
        print(f"{name:<17} {value!s:<10} {HELP[name]}{changed}; {Limits.env_name(name)}")
    print("Change a limit by setting its variable in the environment of the WebUI or command.")
    return 0
