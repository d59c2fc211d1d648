"""`python -m wan render`: a Deforum settings file becomes a video in a run folder."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from wan.cli.output import EXIT_BAD_INPUT, EXIT_BUG, EXIT_INTERRUPTED, engine_log, print_json
from wan.errors import WanError
from wan.host.base import ProgressEvent
from wan.host.standalone import StandaloneHost
from wan.models.identify import profile_for
from wan.options.flags import add_option_arguments, options_from_args


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
    """Queue the render as a CLI job (so the WebUI and `python -m wan jobs` see it), then run it
    here in the foreground; the GPU file lock makes it wait for a WebUI render in progress.
    Bad input is refused before anything is queued (`preflight`); a stopped job that owns the
    run folder (--out, or the one --resume finds) is resumed rather than a new one queued."""
    from wan.jobs import JobQueue

    check_out_folder(args.out)
    options = options_from_args(args)
    host = StandaloneHost(output_dir=args.output_dir, models_dir=args.models_dir)
    queue = JobQueue(host, autostart=False)
    try:
        job = queue.submit(
            args.settings,
            options,
            source="cli",
            trusted=True,
            run_dir=args.out,
            resume=args.resume,
            claim=True,
            check=preflight,
            reuse_stopped=True,
        )
        profile = profile_for(job.options.get("model"))
        if profile.smoke:
            print(
                f"note: {profile.id} is a tiny random smoke model: its output is noise",
                file=sys.stderr,
            )
        return run_claimed_job(queue, job.id, args)
    finally:
        queue.close()


def check_out_folder(out: str | None) -> None:
    """--out names the run folder: a new one, or one to resume; never an existing file."""
    if out is not None and Path(out).exists() and not Path(out).is_dir():
        raise WanError(
            f"--out {out}: this is a file, not a folder; give a new folder for the run (or a "
            "run folder to resume), or leave --out out for a new folder in the output root"
        )


def run_claimed_job(queue, job_id: str, args: argparse.Namespace) -> int:
    """Run a job this process claimed, with the progress bar; print its outcome like `render`."""
    bar = None if args.quiet or args.json else ProgressBar()
    if not args.json:
        note = size_note(queue.get(job_id))
        if note:
            print(f"size: {note}", file=sys.stderr)  # before the render, not after it
    results = []
    try:
        with engine_log(args.quiet or args.json, bar.write_above if bar else None):
            job = queue.run_here(job_id, progress=bar, on_result=results.append)
    except KeyboardInterrupt:
        if bar is not None:
            bar.finish()
        print(
            f"interrupted: finished clips are kept; continue with "
            f"`python -m wan jobs resume {job_id} --run`",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    if bar is not None:
        bar.finish()
    return print_outcome(job, results[0] if results else None, args.json)


def preflight(settings: dict, options: dict, name: str) -> str:
    """The render's cheap checks, before it is queued: the settings and options parse, the
    model is known, the frame size suits it, the init image and LoRA files exist. The same
    functions the Runner calls (no weights loaded, no prompt enhancement). Returns why the frame
    size is what it is; raises WanError with a one-line reason."""
    from wan.core.deforum.settings import parse_settings
    from wan.core.sizes import choose_size
    from wan.options.render_options import parse_options
    from wan.render.job import check_inputs

    deforum = parse_settings(settings, name)
    parsed = parse_options(options)
    profile = profile_for(parsed.model)  # the plan's model (`wan.planning.plan_service.plan_for`)
    size = choose_size(deforum.width, deforum.height, profile, parsed.size)
    check_inputs(deforum, parsed, profile.task, profile.id)
    return size.reason


def size_note(job) -> str | None:
    """The frame size the render will use and why (as the Runner decides it); None if the
    job's settings or options cannot say (the render then reports the error itself)."""
    try:
        return preflight(job.settings, job.options, job.name)
    except WanError:
        return None


def print_outcome(job, result, as_json: bool) -> int:
    """The render's result: JSON, or notes on stderr and the run folder last on stdout."""
    if job.status == "FAILED":
        print(f"error: {job.error}", file=sys.stderr)
        return EXIT_BUG if (job.error or "").startswith("internal error") else EXIT_BAD_INPUT
    for warning in job.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    status = result.status if result is not None else job.status.lower()
    if as_json:
        print_json(
            {"run_dir": job.run_dir, "video": job.video, "status": status, "job": job.id,
             "clips_generated": result.clips_generated if result is not None else 0,
             "clips_resumed": result.clips_resumed if result is not None else 0},
        )  # fmt: skip
    else:
        if job.status != "SUCCEEDED":
            print(
                f"{job.status.lower()}: finished clips are kept; run again with --resume "
                f"(or `python -m wan jobs resume {job.id} --run`)",
                file=sys.stderr,
            )
        if job.run_dir:
            print(job.run_dir)
    return 0 if job.status == "SUCCEEDED" else EXIT_INTERRUPTED  # cancelled or interrupted


class ProgressBar:
    """One line on stderr: phase, clip, step, elapsed and remaining time."""

    def __init__(self) -> None:
        self.last = 0.0
        self.line = ""  # the bar as last drawn ("" when no bar is on screen)

    def __call__(self, event: ProgressEvent) -> None:
        now = time.monotonic()
        if now - self.last < 0.2 and event.step not in (0, event.steps):
            return
        self.last = now
        done = (event.step / event.steps) if event.steps else 0.0
        filled = int(done * 20)
        eta = f", {event.remaining:.0f}s left" if event.remaining is not None else ""
        self.line = (
            f"[{'#' * filled}{'.' * (20 - filled)}] clip {event.clip}/{event.clips} "
            f"{event.phase}"
            + (f" {event.step}/{event.steps}" if event.steps else "")
            + f" {event.elapsed:.0f}s{eta}   "
        )
        sys.stderr.write("\r" + self.line)
        sys.stderr.flush()

    def write_above(self, text: str) -> None:
        """A log line above the bar: the bar's line is cleared, the text written, the bar
        drawn again below it."""
        if self.line:
            sys.stderr.write("\r" + " " * len(self.line) + "\r")
        sys.stderr.write(text + "\n")
        if self.line:
            sys.stderr.write(self.line)
        sys.stderr.flush()

    def finish(self) -> None:
        if self.line:
            sys.stderr.write("\n")
        self.line = ""
