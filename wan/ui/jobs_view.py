"""How a job is shown: the status line under Render and the rows of the Queue tab (pure)."""

from __future__ import annotations

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
        return "QUEUED"
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


def status_text(job: Any) -> str:
    """One markdown line: status, phase, clip i/n, step j/m and percent; errors in full."""
    parts = [f"**{shown_status(job)}**", phase_text(job)]
    if job.clips:
        parts.append(f"clip {job.clip}/{job.clips}")
    if job.steps:
        parts.append(f"step {job.step}/{job.steps}")
    parts.append(progress_text(job))
    line = f"job `{job.id}` ({job.name}): " + " · ".join(parts)
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
