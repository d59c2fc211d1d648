"""`python -m wan render`: a Deforum settings file becomes a video in a run folder; several files
(or a folder of them: `wan.cli.batch`) become one job each, queued together and run in order."""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path

from wan.cli.batch import settings_sources
from wan.cli.output import EXIT_BAD_INPUT, EXIT_BUG, EXIT_INTERRUPTED, engine_log, print_json
from wan.errors import JobStateError, WanError
from wan.host.base import ProgressEvent
from wan.host.standalone import StandaloneHost
from wan.models.identify import profile_for
from wan.options.flags import add_option_arguments, options_from_args


def add_command(commands: argparse._SubParsersAction) -> None:
    render = commands.add_parser("render", help="render the animation with a Wan model")
    render.add_argument(
        "settings",
        nargs="+",
        help="Deforum settings file (.txt/.json) or run folder (frames beside the settings: one "
        "animation); several files, or a folder of settings files, render one job each in order",
    )
    render.add_argument(
        "--out", default=None, help="the run folder (default: a new one; one settings file only)"
    )
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
    run folder (--out, or the one --resume finds) is resumed rather than a new one queued.
    Several settings files: every one is checked and queued first (none is queued if one is
    refused), then they run one after the other (`run_batch`)."""
    from wan.jobs import JobQueue

    sources = settings_sources(args.settings)
    if len(sources) > 1 and args.out is not None:
        raise WanError(
            f"--out {args.out}: names one run folder, but {len(sources)} settings files were "
            "given; leave --out out (each render gets its own folder in the output root, printed "
            "as it ends), or render the files one at a time"
        )
    check_out_folder(args.out)
    options = options_from_args(args)
    host = StandaloneHost(output_dir=args.output_dir, models_dir=args.models_dir)
    queue = JobQueue(host, autostart=False)
    try:
        jobs = queue_all(queue, sources, options, args)
        profile = profile_for(jobs[0].options.get("model"))
        if profile.smoke:
            print(
                f"note: {profile.id} is a tiny random smoke model: its output is noise",
                file=sys.stderr,
            )
        if len(jobs) == 1:
            return run_claimed_job(queue, jobs[0].id, args)
        return run_batch(queue, [job.id for job in jobs], args)
    finally:
        queue.close()


def queue_all(queue, sources: list[str], options, args: argparse.Namespace) -> list:
    """One claimed CLI job per settings file. Several are all checked first (`checked_first`),
    so a bad file queues nothing; should a download still fail as one is queued, those queued
    before it are cancelled and the error (naming its file) is raised."""
    named = [(source, None) for source in sources]
    if len(sources) > 1:
        named = checked_first(sources, options, queue.host)
    jobs: list = []
    try:
        for settings, name in named:
            jobs.append(
                queue.submit(
                    settings,
                    options,
                    source="cli",
                    name=name,
                    trusted=True,
                    run_dir=args.out,
                    resume=args.resume,
                    claim=True,
                    check=preflight,
                    reuse_stopped=True,
                )
            )
    except BaseException:
        for job in jobs:
            with contextlib.suppress(WanError):
                queue.cancel(job.id)
        raise
    return jobs


def checked_first(sources: list[str], options, host) -> list[tuple[dict, str]]:
    """Each settings file read (a Parseq manifest URL downloaded once and put inline) and
    checked as `preflight` and the queue check it, before any is queued: (settings, name).
    Init image and soundtrack URLs are downloaded as each job is queued."""
    from wan.core.deforum.settings import parse_settings, read_settings_data, with_parseq_text
    from wan.errors import in_source
    from wan.options.render_options import (
        merge_defaults,
        options_to_dict,
        parse_options,
        requested_options,
    )
    from wan.planning.plan_service import plan_for
    from wan.render.fetch import fetch_manifest

    parsed = parse_options(merge_defaults(host.option_defaults() or {}, requested_options(options)))
    checked = []
    for source in sources:
        data, name = read_settings_data(source)
        with in_source(name):
            text = fetch_manifest(data)
        if text is not None:
            data = with_parseq_text(data, text)
        preflight(data, options_to_dict(parsed), name, pending_urls=True)
        plan_for(parse_settings(data, name), parsed)
        checked.append((dict(data), name))
    return checked


def run_batch(queue, job_ids: list[str], args: argparse.Namespace) -> int:
    """Run the queued jobs in order, each like a single render (progress, notes, its run folder
    printed as it ends); a failed or cancelled one does not stop the others. Ctrl+C stops the
    batch: the jobs not started are cancelled and listed. Exit status: 0 when all succeeded,
    else the first non-zero one. --json prints one list of the jobs' results at the end."""
    codes, results = [], []
    for number, job_id in enumerate(job_ids, 1):
        job = queue.get(job_id)
        if not args.json:
            print(f"render {number}/{len(job_ids)}: {job.name} (job {job_id})", file=sys.stderr)
        try:
            _ready_to_run(queue, job)
            collect = results if args.json else None
            codes.append(run_claimed_job(queue, job_id, args, collect, reraise=True))
        except KeyboardInterrupt:
            codes.append(EXIT_INTERRUPTED)
            _cancel_rest(queue, job_ids[number:])
            break
    if args.json:
        print_json(results)
    return next((code for code in codes if code), 0)


def _ready_to_run(queue, job) -> None:
    """A claimed job that waited its turn may have been marked INTERRUPTED by another process's
    sweep (no heartbeat while it waits): it never started, so it is queued again, claimed."""
    if job.status == "INTERRUPTED" and job.started is None:
        queue.retry(job.id, claim=True)
    elif job.status != "ACCEPTED":
        raise JobStateError(f"job {job.id} is {job.status}: it is not waiting to run")


def _cancel_rest(queue, job_ids: list[str]) -> None:
    for job_id in job_ids:
        with contextlib.suppress(WanError):
            queue.cancel(job_id)
    if job_ids:
        print(
            f"not started (cancelled): {', '.join(job_ids)}; render one later with "
            "`python -m wan jobs retry ID --run`",
            file=sys.stderr,
        )


def check_out_folder(out: str | None) -> None:
    """--out names the run folder: a new one, or one to resume; never an existing file."""
    if out is not None and Path(out).exists() and not Path(out).is_dir():
        raise WanError(
            f"--out {out}: this is a file, not a folder; give a new folder for the run (or a "
            "run folder to resume), or leave --out out for a new folder in the output root"
        )


def run_claimed_job(
    queue,
    job_id: str,
    args: argparse.Namespace,
    collect: list | None = None,
    reraise: bool = False,
) -> int:
    """Run a job this process claimed, with the progress bar; print its outcome like `render`
    (with `collect`, its JSON is appended there instead of printed: a batch prints one list;
    with `reraise`, Ctrl+C is raised again once reported, so a batch stops)."""
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
        if reraise:
            raise
        return EXIT_INTERRUPTED
    if bar is not None:
        bar.finish()
    return print_outcome(job, results[0] if results else None, args.json, collect)


def preflight(settings: dict, options: dict, name: str, pending_urls: bool = False) -> str:
    """The render's cheap checks, before it is queued: the settings and options parse, the
    model is known, the frame size suits it, the init image and LoRA files exist. The same
    functions the Runner calls (no weights loaded, no prompt enhancement). Returns why the frame
    size is what it is; raises WanError with a one-line reason. `pending_urls`: an init image
    URL is accepted (it is downloaded when the job is queued: `checked_first`)."""
    from wan.core.deforum.settings import parse_settings
    from wan.core.sizes import choose_size
    from wan.options.render_options import parse_options
    from wan.render.job import check_inputs

    deforum = parse_settings(settings, name)
    parsed = parse_options(options)
    profile = profile_for(parsed.model)  # the plan's model (`wan.planning.plan_service.plan_for`)
    size = choose_size(deforum.width, deforum.height, profile, parsed.size)
    check_inputs(deforum, parsed, profile.task, profile.id, pending_urls)
    return size.reason


def size_note(job) -> str | None:
    """The frame size the render will use and why (as the Runner decides it); None if the
    job's settings or options cannot say (the render then reports the error itself)."""
    try:
        return preflight(job.settings, job.options, job.name)
    except WanError:
        return None


def print_outcome(job, result, as_json: bool, collect: list | None = None) -> int:
    """The render's result: JSON (appended to `collect` when given), or notes on stderr and the
    run folder last on stdout."""
    if job.status == "FAILED":
        print(f"error: {job.error}", file=sys.stderr)
        return EXIT_BUG if (job.error or "").startswith("internal error") else EXIT_BAD_INPUT
    for warning in job.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    status = result.status if result is not None else job.status.lower()
    if as_json:
        payload = {"run_dir": job.run_dir, "video": job.video, "status": status, "job": job.id,
                   "clips_generated": result.clips_generated if result is not None else 0,
                   "clips_resumed": result.clips_resumed if result is not None else 0}  # fmt: skip
        if collect is None:
            print_json(payload)
        else:
            collect.append(payload)
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
