"""`python -m wan enhance`: one prompt and a camera phrase, rewritten for Wan."""

from __future__ import annotations

import argparse
import sys

from wan.cli.output import print_json
from wan.models.store import StoreConfig
from wan.prompting.enhance import enhance_prompts
from wan.prompting.request import LANGS, STYLES, EnhanceRequest


def add_enhance_arguments(command: argparse.ArgumentParser, flag: bool) -> None:
    """The enhancement flags; `flag` adds --enhance (for `plan`, where it is off by default)."""
    if flag:
        command.add_argument("--enhance", action="store_true", help="show enhanced prompts")
    command.add_argument(
        "--enhance-model",
        dest="enhance_model",
        default="rules",
        help="'rules' (no model), a Qwen catalog id, tiny-qwen, or a chat model folder",
    )
    command.add_argument("--lang", choices=LANGS, default="en", help="output language")
    command.add_argument("--style", choices=STYLES, default="none", help="style terms to add")


def add_command(commands: argparse._SubParsersAction) -> None:
    enhance = commands.add_parser("enhance", help="rewrite a prompt for Wan (rules or Qwen)")
    enhance.add_argument("text", help="the prompt, as written in Deforum")
    enhance.add_argument("--motion", default="", help="camera phrase, e.g. 'the camera pans left'")
    enhance.add_argument("--model", dest="enhance_model", default="rules", help="rules|ID|PATH")
    enhance.add_argument("--lang", choices=LANGS, default="en", help="output language")
    enhance.add_argument("--style", choices=STYLES, default="none", help="style terms to add")
    enhance.add_argument("--models-dir", default=None, help="models folder (or WAN_MODELS_DIR)")
    enhance.add_argument("--json", action="store_true", help="machine-readable output")
    enhance.set_defaults(run=run_enhance)


def run_enhance(args: argparse.Namespace) -> int:
    request = EnhanceRequest(args.text, args.motion, args.lang, args.style)
    config = StoreConfig(models_dir_flag=args.models_dir)
    (result,) = enhance_prompts([request], model=args.enhance_model, store_config=config)
    if args.json:
        print_json({"request": request.to_dict(), **result.to_dict()})
        return 0
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(result.text)
    return 0
