"""`python -m wan render`: a Deforum settings file becomes a video in a run folder."""

from __future__ import annotations

import argparse
import json
import sys
import time

from wan.deforum.seeds import resolve_seed
from wan.deforum.settings import load_settings
from wan.host.base import ProgressEvent
from wan.host.standalone import StandaloneHost
from wan.models.identify import profile_for
from wan.plan import CONTINUATION_OVERLAP, build_plan
from wan.render.option_flags import add_option_arguments, options_from_args


def add_command(commands: argparse._SubParsersAction) -> None:
    render = commands.add_parser("render", help="render the animation with a Wan model")
    render.add_argument("settings", help="Deforum settings file (.txt/.json) or run folder")
    render.add_argument("--out", default=None, help="the run folder (default: a new one)")
    render.add_argument("--resume", action="store_true", help="continue an unfinished render")
    render.add_argument("--output-dir", default=None, help="output root (default ./outputs)")
    render.add_argument("--models-dir", default=None, help="models folder (or WAN_MODELS_DIR)")
    render.add_argument("--json", action="store_true", help="print the result as JSON")
    render.add_argument("--quiet", action="store_true", help="no progress bar")
    add_option_arguments(render)
    render.set_defaults(run=run_render)


def run_render(args: argparse.Namespace) -> int:
    from pathlib import Path

    from wan.render.runner import Runner

    options = options_from_args(args)
    settings = load_settings(args.settings)
    seed = resolve_seed(options.seed if options.seed is not None else settings.seed)
    profile = profile_for(options.model)
    overlap = options.overlap if options.overlap is not None else CONTINUATION_OVERLAP
    plan = build_plan(settings, profile, seed=seed, overlap=overlap)
    if profile.smoke:
        print(
            f"note: {profile.id} is a tiny random smoke model: its output is noise", file=sys.stderr
        )
    host = StandaloneHost(output_dir=args.output_dir, models_dir=args.models_dir)
    bar = None if args.quiet or args.json else ProgressBar()
    result = Runner().run(
        plan,
        options,
        host,
        progress=bar,
        run_dir=Path(args.out) if args.out else None,
        resume=args.resume,
    )
    if bar is not None:
        bar.finish()
    if not args.json:
        print(f"size: {result.size_reason}", file=sys.stderr)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.json:
        json.dump(
            {"run_dir": str(result.run_dir), "video": str(result.video) if result.video else None,
             "status": result.status, "clips_generated": result.clips_generated,
             "clips_resumed": result.clips_resumed},
            sys.stdout,
        )  # fmt: skip
        sys.stdout.write("\n")
    else:
        if result.status == "cancelled":
            print("cancelled: finished clips are kept; run again with --resume", file=sys.stderr)
        print(result.run_dir)
    return 0 if result.status == "done" else 1


class ProgressBar:
    """One line on stderr: phase, clip, step, elapsed and remaining time."""

    def __init__(self) -> None:
        self.last = 0.0

    def __call__(self, event: ProgressEvent) -> None:
        now = time.monotonic()
        if now - self.last < 0.2 and event.step not in (0, event.steps):
            return
        self.last = now
        done = (event.step / event.steps) if event.steps else 0.0
        filled = int(done * 20)
        eta = f", {event.remaining:.0f}s left" if event.remaining is not None else ""
        line = (
            f"\r[{'#' * filled}{'.' * (20 - filled)}] clip {event.clip}/{event.clips} "
            f"{event.phase}"
            + (f" {event.step}/{event.steps}" if event.steps else "")
            + f" {event.elapsed:.0f}s{eta}   "
        )
        sys.stderr.write(line)
        sys.stderr.flush()

    def finish(self) -> None:
        sys.stderr.write("\n")
