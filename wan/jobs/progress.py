"""The running job's side of the table: its progress row and its cancel flag.

Progress events come at every denoising step; the row is written at most a few times a second,
but phase changes, new clips and the last step of a clip are always written, so a poller never
misses where the render is. The cancel check reads the in-process flag at every call and the
database at most once a second, so `python -m wan jobs cancel ID` from another process works.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from wan.host.base import ProgressEvent
from wan.jobs.status import overall_progress, phase_of
from wan.jobs.store import JobStore

WRITES_PER_SECOND = 4
CANCEL_POLL_SECONDS = 1.0


class ProgressWriter:
    """A Runner progress callback that records the job's phase, clip, step and fraction."""

    def __init__(
        self,
        store: JobStore,
        job_id: str,
        forward: Callable[[ProgressEvent], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store, self.job_id, self.forward, self.clock = store, job_id, forward, clock
        self.progress = 0.0
        self.last: ProgressEvent | None = None
        self.last_write = float("-inf")
        self.pending: dict[str, Any] | None = None

    def __call__(self, event: ProgressEvent) -> None:
        if self.forward is not None:
            self.forward(event)
        self.progress = overall_progress(event, self.progress)
        values = {
            "step_phase": event.phase,
            "phase": phase_of(event.phase),
            "phase_progress": self.progress,
            "clip": event.clip,
            "clips": event.clips,
            "step": event.step,
            "steps": event.steps,
        }
        now = self.clock()
        if self._must_write(event) or now - self.last_write >= 1.0 / WRITES_PER_SECOND:
            self.store.update(self.job_id, **values)
            self.last_write, self.pending = now, None
        else:
            self.pending = values
        self.last = event

    def _must_write(self, event: ProgressEvent) -> bool:
        last = self.last
        return (
            last is None
            or event.phase != last.phase
            or event.clip != last.clip
            or (event.steps > 0 and event.step >= event.steps)
        )

    def flush(self) -> None:
        if self.pending is not None:
            self.store.update(self.job_id, **self.pending)
            self.pending = None


class CancelCheck:
    """The Runner's cancel callback: the in-process event, or the job's flag in the database."""

    def __init__(
        self,
        store: JobStore,
        job_id: str,
        event: threading.Event,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store, self.job_id, self.event, self.clock = store, job_id, event, clock
        self.last_poll = float("-inf")

    def __call__(self) -> bool:
        if self.event.is_set():
            return True
        now = self.clock()
        if now - self.last_poll >= CANCEL_POLL_SECONDS:
            self.last_poll = now
            if self.store.cancel_requested(self.job_id):
                self.event.set()
        return self.event.is_set()
