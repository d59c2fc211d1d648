"""`python -m wan jobs`: list, show, cancel, retry and resume the queued renders of this install.

The queue is shared with the WebUI and `python -m wan serve`/`ui`: a retried or resumed job is
run by their worker, or here in the foreground with `--run`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable

from wan.cli.output import print_json
from wan.host.standalone import StandaloneHost

ACTIONS = ("show", "cancel", "retry", "resume")


def add_command(commands: argparse._SubParsersAction) -> None:
    command = commands.add_parser(
        "jobs",
        help="list, cancel, retry and resume queued renders",
        description="Without an action: list the jobs, newest first.",
    )
    command.add_argument("--json", action="store_true", help="machine-readable output")
    command.add_argument("--limit", type=int, default=50, help="jobs listed (default 50)")
    actions = command.add_subparsers(dest="action", metavar="ACTION")
    show = actions.add_parser("show", help="everything known about one job")
    cancel = actions.add_parser("cancel", help="cancel a queued or running job")
    retry = actions.add_parser("retry", help="queue a stopped job again from the start")
    resume = actions.add_parser("resume", help="queue a stopped job again to finish its folder")
    for action in (show, cancel, retry, resume):
        action.add_argument("id", help="the job id (see `python -m wan jobs`)")
        action.add_argument("--json", action="store_true", help="machine-readable output")
    for action in (retry, resume):
        action.add_argument(
            "--run",
            action="store_true",
            dest="here",
            help="run it here in the foreground, not in a worker",
        )
        action.add_argument("--quiet", action="store_true", help="no progress bar (with --run)")
        action.add_argument("--output-dir", default=None, help="output root (with --run)")
        action.add_argument("--models-dir", default=None, help="models folder (with --run)")
    command.set_defaults(run=run_jobs)


def run_jobs(args: argparse.Namespace) -> int:
    from wan.jobs import JobQueue

    host = StandaloneHost(
        output_dir=getattr(args, "output_dir", None), models_dir=getattr(args, "models_dir", None)
    )
    queue = JobQueue(host, autostart=False)
    try:
        if not args.action:
            return _list(queue, args)
        if args.action == "show":
            return _print_job(queue.get(args.id), args.json)
        if args.action == "cancel":
            return _print_job(queue.cancel(args.id), args.json, "cancel requested")
        return _restart(queue, args)
    finally:
        queue.close()


def _restart(queue, args: argparse.Namespace) -> int:
    restart: Callable = queue.retry if args.action == "retry" else queue.resume
    job = restart(args.id, claim=args.here)
    if args.here:
        from wan.cli.render import run_claimed_job

        return run_claimed_job(queue, job.id, args)
    return _print_job(
        job,
        args.json,
        "queued again: the WebUI's, `python -m wan serve`'s or `python -m wan ui`'s worker "
        f"runs it; or run it here with `python -m wan jobs {args.action} {job.id} --run`",
    )


def _list(queue, args: argparse.Namespace) -> int:
    jobs = queue.list(limit=args.limit)
    if args.json:
        print_json([_summary(job) for job in jobs])
        return 0
    if not jobs:
        print("no jobs yet: `python -m wan render SETTINGS`, the WAN tab or the API queue them")
        return 0
    print(f"{'ID':<12}  {'STATUS':<11}  {'PHASE':<15}  {'DONE':>4}  {'CREATED':<16}  NAME")
    for job in jobs:
        print(
            f"{job.id:<12}  {job.status:<11}  {job.phase:<15}  "
            f"{round(job.phase_progress * 100):>3}%  {_when(job.created):<16}  {job.name}"
        )
        outcome = _outcome(job)
        if outcome:
            print(f"{'':<12}  {outcome}")
    return 0


def _summary(job) -> dict:
    """A listing row: the job without its settings and options."""
    data = job.to_dict()
    del data["settings"], data["options"]
    return data


def _outcome(job) -> str:
    if job.error:
        return f"error: {job.error}"
    if job.video:
        return f"video: {job.video}"
    if job.run_dir:
        return f"folder: {job.run_dir}"
    return ""


def _print_job(job, as_json: bool, note: str = "") -> int:
    if as_json:
        print_json(job.to_dict())
        return 0
    if note:
        print(f"{job.id}: {note}", file=sys.stderr)
    data = job.to_dict()
    options = {k: v for k, v in data.pop("options").items() if v not in (None, [], {})}
    del data["settings"]
    for key, value in data.items():
        if key in ("created", "started", "finished") and value is not None:
            value = _when(value, seconds=True)
        print(f"{key + ':':<17} {value}")
    print(f"{'options:':<17} {json.dumps(options)}")
    return 0


def _when(stamp: float, seconds: bool = False) -> str:
    return time.strftime("%Y-%m-%d %H:%M" + (":%S" if seconds else ""), time.localtime(stamp))
