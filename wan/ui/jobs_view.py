"""How a job is shown: the status line under Render and the rows of the Queue tab (pure)."""

from __future__ import annotations

import html
import time
from collections.abc import Iterable
from typing import Any

from wan.jobs.status import ACCEPTED, QUEUED, WAITING_FOR_GPU

HEADERS = ["id", "status", "phase", "progress", "clip", "error", "name", "source", "created"]
DATATYPES = ["str"] * len(HEADERS)
ERROR_CHARS = 160  # the table shows the start of an error; the status line shows all of it


def shown_status(job: Any) -> str:
    """What a person reads for a job: QUEUED, WAITING (for the GPU), RUNNING, CANCELLING, or
    its final status. (The API keeps ACCEPTED for all of the first four: its contract.)"""
    if job.status != ACCEPTED:
        return job.status
    if job.phase == QUEUED:
        return QUEUED
    if job.cancel_requested:
        return "CANCELLING"
    if (job.step_phase or "").startswith(WAITING_FOR_GPU):
        return "WAITING"
    return "RUNNING"


def progress_text(job: Any) -> str:
    return f"{round(100 * float(job.phase_progress or 0))}%"


def phase_text(job: Any) -> str:
    """The job's phase, with the renderer's own step while it runs."""
    running = job.status == "ACCEPTED" and job.step_phase
    return f"{job.phase} ({job.step_phase})" if running else job.phase


def duration_text(seconds: float) -> str:
    """4s, 2m 05s, 1h 02m."""
    seconds = max(round(seconds), 0)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def time_text(job: Any, now: float | None = None) -> str:
    """While a job runs: the time since it started and, once some of it is done, the time left
    at that pace (an estimate: model loading counts as render time). Else ""."""
    if job.done or job.started is None or shown_status(job) in ("QUEUED", "WAITING"):
        return ""
    elapsed = max((time.time() if now is None else now) - job.started, 0.0)
    text = f"{duration_text(elapsed)} elapsed"
    done = float(job.phase_progress or 0)
    if 0 < done < 1:
        text += f", about {duration_text(elapsed * (1 - done) / done)} left (estimate)"
    return text


def status_text(job: Any, now: float | None = None) -> str:
    """One markdown line: status, phase, clip i/n, step j/m, percent and, while it runs, the
    elapsed and estimated remaining time; errors in full."""
    parts = [f"**{shown_status(job)}**", phase_text(job)]
    if job.clips:
        parts.append(f"clip {job.clip}/{job.clips}")
    if job.steps:
        parts.append(f"step {job.step}/{job.steps}")
    parts.append(progress_text(job))
    timing = time_text(job, now)
    if timing:
        parts.append(timing)
    name = html.escape(job.name or "")  # "<pasted>" (an API job) would vanish as an HTML tag
    line = f"job `{job.id}` ({name}): " + " · ".join(parts)
    if job.error:
        line += f"\n\n{job.error}"
    if job.video and job.status == "SUCCEEDED":
        line += f"\n\nvideo: `{job.video}`"
    for warning in job.warnings or ():
        line += f"\n\nwarning: {warning}"
    return line


def job_rows(jobs: Iterable[Any]) -> list[list[str]]:
    return [
        [
            job.id,
            shown_status(job),
            phase_text(job),
            progress_text(job),
            f"{job.clip}/{job.clips}" if job.clips else "",
            _short(job.error or ""),
            job.name,
            job.source,
            time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(job.created)),
        ]
        for job in jobs
    ]


def _short(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= ERROR_CHARS else line[: ERROR_CHARS - 3] + "..."
