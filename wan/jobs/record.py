"""`Job`: one render request and everything known about its run, as the API shows it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from wan.jobs.status import ACCEPTED


@dataclass(frozen=True)
class Job:
    id: str  # 12 lowercase hex characters
    status: str  # wan.jobs.status.STATUSES
    phase: str  # wan.jobs.status.PHASES
    step_phase: str  # the renderer's ProgressEvent.phase, or ""
    phase_progress: float  # the whole render's fraction done, 0..1
    clip: int
    clips: int
    step: int
    steps: int
    name: str  # the settings' source file, or "<pasted>"
    source: str  # "api" | "ui" | "cli"
    settings: dict = field(compare=False)  # as submitted, base64 images replaced by saved paths
    options: dict = field(compare=False)  # RenderOptions as a dict, host defaults merged in
    created: float = 0.0
    started: float | None = None
    finished: float | None = None
    run_dir: str | None = None
    video: str | None = None
    error: str | None = None
    warnings: tuple[str, ...] = ()
    attempts: int = 1
    resume: bool = False
    cancel_requested: bool = False

    @property
    def done(self) -> bool:
        """Finished one way or another: nothing more happens until a retry or resume."""
        return self.status != ACCEPTED

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; the API answers it as it is."""
        data = asdict(self)
        data["warnings"] = list(self.warnings)
        data["phase_progress"] = round(self.phase_progress, 4)
        return data
