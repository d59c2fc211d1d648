"""How a job is shown: the status line under Render and the rows of the Queue tab (pure)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

HEADERS = ["id", "status", "phase", "progress", "clip", "name", "source", "created"]
DATATYPES = ["str"] * len(HEADERS)


def progress_text(job: Any) -> str:
    return f"{round(100 * float(job.phase_progress or 0))}%"


def phase_text(job: Any) -> str:
    """The job's phase, with the renderer's own step while it runs."""
    running = job.status == "ACCEPTED" and job.step_phase
    return f"{job.phase} ({job.step_phase})" if running else job.phase


def status_text(job: Any) -> str:
    """One markdown line: status, phase, clip i/n, step j/m and percent; errors in full."""
    parts = [f"**{job.status}**", phase_text(job)]
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
            job.status,
            phase_text(job),
            progress_text(job),
            f"{job.clip}/{job.clips}" if job.clips else "",
            job.name,
            job.source,
            time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(job.created)),
        ]
        for job in jobs
    ]
