"""`python -m wan guide`: the whole animation's camera guide rendered from an image in seconds,
so a user sees the camera path (and what it reveals) before spending GPU minutes
(`wan.planning.guide_preview`, which also says where a 3D preview's depth comes from)."""

from __future__ import annotations

import argparse
import sys

from wan.cli.output import print_json
from wan.models.catalog import DEFAULT_DEPTH_MODEL
from wan.models.store import StoreConfig
from wan.planning.guide_preview import write_guide_preview
from wan.render.fetch import load_fetching


def add_command(commands: argparse._SubParsersAction) -> None:
    command = commands.add_parser(
        "guide", help="preview the camera path: the camera guide video, no video model"
    )
    command.add_argument("settings", help="Deforum settings file (.txt/.json) or run folder")
    command.add_argument("--image", default=None, help="the first frame (default: a test card)")
    command.add_argument("--model", default=None, help="the model whose size and fps to use")
    command.add_argument("--size", default=None, help="WIDTHxHEIGHT (default: the model's)")
    command.add_argument(
        "--depth-model",
        default=None,
        help=f"3D: depth model id or folder (default {DEFAULT_DEPTH_MODEL} when installed, "
        "else flat depth)",
    )
    command.add_argument("--models-dir", default=None, help="models folder (or WAN_MODELS_DIR)")
    command.add_argument("--out", required=True, help="the guide video (.mp4)")
    command.add_argument("--json", action="store_true", help="print the result as JSON")
    command.set_defaults(run=run_guide)


def run_guide(args: argparse.Namespace) -> int:
    settings = load_fetching(args.settings)  # a Parseq manifest URL downloaded
    options = {"model": args.model, "size": args.size}
    config = StoreConfig(models_dir_flag=args.models_dir)
    preview = write_guide_preview(
        settings, options, args.out, args.image, "--image", args.depth_model, config
    )
    for note in preview.notes:
        print(f"note: {note}", file=sys.stderr)
    if args.json:
        print_json({
            "video": str(preview.video), "frames": preview.frames, "fps": preview.fps,
            "size": list(preview.size), "clips": preview.clips,
            "seconds": round(preview.seconds, 2), "last_frame_from_clip_start":
            round(preview.kept, 3), "depth_model": preview.depth_model,
        })  # fmt: skip
    else:
        print(preview.describe())
        print(preview.video)
    return 0
