"""The command line: ``python -m wan COMMAND ...``.

Every command prints human text by default and JSON on stdout with ``--json``. Exit codes:
0 success, 2 bad input (one line on stderr that names the problem), 141 when the reader of
stdout went away (``| head``; no traceback), anything else is a bug.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from wan import __version__
from wan.cli.batch import settings_sources
from wan.cli.guide import add_command as add_guide_command
from wan.cli.jobs import add_command as add_jobs_command
from wan.cli.limits import add_command as add_limits_command
from wan.cli.models import add_commands as add_model_commands
from wan.cli.motion import add_command as add_motion_command
from wan.cli.output import EXIT_BAD_INPUT, EXIT_BROKEN_PIPE, print_json
from wan.cli.prompting import add_command as add_enhance_command
from wan.cli.prompting import add_enhance_arguments
from wan.cli.render import add_command as add_render_command
from wan.cli.serve import add_command as add_serve_command
from wan.cli.ui import add_command as add_ui_command
from wan.cli.warp import add_command as add_warp_command
from wan.core.deforum import defaults
from wan.core.deforum.schedules import evaluate_schedules
from wan.core.deforum.settings import DeforumSettings
from wan.core.plan import CONTINUATION_OVERLAP, GenerationPlan, build_plan
from wan.core.prompt_diff import differing_parts
from wan.errors import WanError, in_source
from wan.host.kornia_compat import hide_unusable_kornia
from wan.models.identify import profile_for
from wan.options.render_options import parse_options
from wan.planning.plan_service import plan_payload, plan_seed
from wan.prompting.plan_prompts import enhance_plan
from wan.render.conditioning import planned_follow
from wan.render.fetch import load_fetching
from wan.render.job import checked_init_image


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_BAD_INPUT
    hide_unusable_kornia()  # the WebUI's kornia 0.6.7 breaks diffusers' pipeline imports
    try:
        try:
            code = args.run(args)
        except WanError as exc:
            print(f"error: {exc}", file=sys.stderr)
            code = EXIT_BAD_INPUT
        sys.stdout.flush()  # a closed pipe (`| head`) shows here, not in Python's exit flush
        return code
    except BrokenPipeError:
        # The reader went away: stop quietly, like other command-line tools.
        _stdout_to_devnull()
        return EXIT_BROKEN_PIPE


def _stdout_to_devnull() -> None:
    """Python's recipe for a closed stdout: point it at devnull so the exit flush cannot fail."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (AttributeError, OSError, ValueError):  # not a real file: replace the object instead
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - lives until the process ends
    finally:
        os.close(devnull)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m wan",
        description="Render Deforum animations with the Wan video models.",
    )
    parser.add_argument("--version", action="version", version=f"wan {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    schedules = commands.add_parser("schedules", help="evaluate every schedule per frame")
    _settings_args(schedules)
    schedules.set_defaults(run=_run_schedules)

    plan = commands.add_parser("plan", help="cut the animation into Wan clips")
    _settings_args(plan, several=True)
    plan.add_argument(
        "--model", default=None, help="catalog id, smoke id, folder or .safetensors file"
    )
    plan.add_argument(
        "--overlap",
        type=int,
        default=CONTINUATION_OVERLAP,
        help=f"model frames shared by clips (default {CONTINUATION_OVERLAP}, as render uses)",
    )
    plan.add_argument(
        "--init-image",
        metavar="IMG",
        default=None,
        help="the image render starts from (as render's --init-image): clip 0 is labelled so",
    )
    plan.add_argument("--plot", metavar="FILE.png", help="draw the camera schedules and clips")
    add_enhance_arguments(plan, flag=True)
    plan.set_defaults(run=_run_plan)
    add_model_commands(commands)
    add_enhance_command(commands)
    add_render_command(commands)
    add_jobs_command(commands)
    add_serve_command(commands)
    add_ui_command(commands)
    add_limits_command(commands)
    add_warp_command(commands)
    add_guide_command(commands)
    add_motion_command(commands)
    return parser


def _settings_args(command: argparse.ArgumentParser, several: bool = False) -> None:
    if several:
        command.add_argument(
            "settings",
            nargs="+",
            help="Deforum settings file (.txt/.json) or run folder; several files or a folder of "
            "settings files plan each (--json: a list)",
        )
    else:
        command.add_argument("settings", help="Deforum settings file (.txt/.json) or run folder")
    command.add_argument(
        "--seed",
        type=int,
        default=None,
        help="override the settings' seed (-1: derived from the settings, as render does)",
    )
    command.add_argument("--json", action="store_true", help="machine-readable output")


def _load(args: argparse.Namespace, source: str | None = None) -> tuple[DeforumSettings, int]:
    # a Parseq manifest URL is downloaded (wan.render.fetch)
    settings = load_fetching(args.settings if source is None else source)
    if args.seed is not None and args.seed < -1:
        raise WanError(f"--seed {args.seed}: use a number >= 0 (-1: derived from the settings)")
    return settings, plan_seed(settings, args.seed)


def _run_schedules(args: argparse.Namespace) -> int:
    settings, seed = _load(args)
    names = list(defaults.NUMERIC_SCHEDULES)
    with in_source(settings.source):
        values = evaluate_schedules(settings.schedules, settings.max_frames, seed, names)
    if args.json:
        payload = {
            "max_frames": settings.max_frames,
            "seed": seed,
            "schedules": {name: array.tolist() for name, array in values.items()},
        }
        print_json(payload)
        return 0
    print(f"{settings.source}: {settings.mode}, {settings.max_frames} frames, seed {seed}")
    width = max(len(n) for n in names)
    for name, array in values.items():
        low, high = float(array.min()), float(array.max())
        shape = f"constant {_num(low)}" if low == high else f"{_num(low)} .. {_num(high)}"
        print(f"  {name:<{width}}  {shape:<24} {settings.schedules[name]}")
    return 0


def _run_plan(args: argparse.Namespace) -> int:
    sources = settings_sources(args.settings)
    if len(sources) > 1 and args.plot:
        raise WanError(
            f"--plot {args.plot}: draws one animation, but {len(sources)} settings files were "
            "given; plot them one at a time"
        )
    payloads = []
    for number, source in enumerate(sources):
        if number and not args.json:
            print()
        payloads.append(_plan_one(args, source))
    if args.json:
        print_json(payloads[0] if len(sources) == 1 else payloads)
    return 0


def _plan_one(args: argparse.Namespace, source: str) -> dict:
    """Plan one settings file; print it (human text) and return its JSON."""
    settings, seed = _load(args, source)
    checked_init_image(settings, args.init_image)  # a missing file fails here, not at render
    profile = profile_for(args.model)
    plan = build_plan(
        settings, profile, seed=seed, overlap=args.overlap, init_image=args.init_image
    )
    enhanced = _enhanced(plan, args) if args.enhance else None
    if args.plot:
        _plot(settings, plan, args.plot)
    if not args.json:
        _print_plan(plan, enhanced)
        if args.plot:
            print(f"plot: {args.plot}")
    return plan_payload(plan, None, enhanced)


def _plot(settings: DeforumSettings, plan: GenerationPlan, path: str) -> None:
    from wan.planning.motion_plot import plan_camera, plot_motion

    motion = defaults.MOTION_2D if settings.mode == "2D" else defaults.MOTION_3D
    values = evaluate_schedules(settings.schedules, settings.max_frames, plan.seed, motion)
    clips = [(c.start_frame, c.end_frame, c.motion.phrase) for c in plan.clips]
    title = (
        f"{settings.source} - {settings.mode}, "
        f"{settings.max_frames} frames at {_num(settings.fps)} fps"
    )
    try:
        requested = plan_camera(settings, plan)
        plot_motion(values, settings.mode, clips, path, title=title, requested=requested)
    except OSError as exc:
        raise WanError(f"--plot {path}: cannot write the picture ({exc.strerror or exc})") from None


def _enhanced(plan: GenerationPlan, args: argparse.Namespace) -> list:
    """The enhanced prompt of each clip (rules or a Qwen model), for `plan --enhance`."""
    from wan.models.store import StoreConfig
    from wan.options.render_options import parse_options

    enhance = {"enabled": True, "model": args.enhance_model, "lang": args.lang}
    options = parse_options({"enhance": {**enhance, "style": args.style}})
    results = enhance_plan(plan, options, StoreConfig())
    for clip, result in zip(plan.clips, results, strict=True):
        for warning in result.warnings:
            print(f"warning: clip {clip.index}: {warning}", file=sys.stderr)
    return results


def _print_plan(plan: GenerationPlan, enhanced: list | None = None) -> None:
    print(
        f"{plan.source}: {plan.mode}, {plan.frames} frames at {_num(plan.fps)} fps -> "
        f"{plan.model.id} at {_num(plan.model_fps)} fps, {plan.model_frames} model frames, "
        f"{len(plan.clips)} clip(s), seed {plan.seed}, plan {plan.hash}"
    )
    if plan.model.smoke:
        print(f"note: {plan.model.id} is a tiny random smoke model: its output is noise")
    for note in plan.notes:  # Deforum settings in use that the render ignores, once each
        print(f"note: {note}")
    prompts = differing_parts([clip.prompt for clip in plan.clips])  # not all cut the same
    options = parse_options(None)  # the render's defaults: camera guide, its clocks
    for clip in plan.clips:
        print(
            f"\nclip {clip.index}: frames {clip.start_frame}-{clip.end_frame} "
            f"(model {clip.model_start}-{clip.model_end}, generates {clip.num_frames}"
            + (f", overlap {clip.overlap}" if clip.overlap else "")
            + f"), seed {clip.seed}, {clip.conditioning}"
        )
        print(f"  prompt:   {_short(prompts[clip.index])}")
        if clip.negative_prompt:
            print(f"  negative: {_short(clip.negative_prompt)}")
        for merged in clip.merged_prompts:
            print(f"  merged:   {_short(merged)}")
        print(f"  camera:   {clip.motion.phrase or 'no camera schedules (Video Input)'}")
        print(f"  follows:  {planned_follow(options, plan.model.task, clip)['describe']}")
        if enhanced:
            print(f"  enhanced: {enhanced[clip.index].text} ({enhanced[clip.index].source})")


def _short(text: str, limit: int = 110) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _num(value: float) -> str:
    return f"{value:g}"
