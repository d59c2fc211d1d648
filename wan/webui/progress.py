"""A Wan render in the WebUI's `shared.state`: its progress bar, /sdapi/v1/progress, Interrupt.

The state object is the host's one global job display. The adapter writes it only while it holds
the host's GPU lock (nothing else of the host runs then), so a txt2img started after our lock is
released never has its progress overwritten by ours. `begin()` clears the host's interrupt and
skip flags, so it runs before the first interrupted() check of a render.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wan.host.base import ProgressEvent

JOB_NAME = "wan"


def progress_text(event: ProgressEvent) -> str:
    """E.g. 'Wan: clip 2/4, denoising 3/8'."""
    text = f"Wan: clip {max(event.clip, 1)}/{event.clips}, {event.phase}"
    if event.steps:
        text += f" {event.step}/{event.steps}"
    return text


class StateProgress:
    """Begins, updates and ends one render in the host's state (read at use time)."""

    def __init__(self, state_of: Callable[[], Any]) -> None:
        self._state_of = state_of
        self.active = False

    def begin(self) -> None:
        if self.active:
            return
        state = self._state_of()
        if state is None:
            return
        state.begin(job=JOB_NAME)
        # Known values at once: begin() leaves sampling_steps from the host's last job, and its
        # progress API divides by job_count whenever sampling_steps is set.
        state.job_count, state.job_no = 1, 0
        state.sampling_step, state.sampling_steps = 0, 0
        state.textinfo = "Wan: loading"
        self.active = True

    def update(self, event: ProgressEvent) -> None:
        state = self._state_of()
        if not self.active or state is None:
            return
        state.job_count = max(event.clips, 1)
        state.job_no = max(event.clip - 1, 0)
        state.sampling_step = event.step
        state.sampling_steps = event.steps
        state.textinfo = progress_text(event)

    def end(self) -> None:
        """The host's end() keeps textinfo and the step counts, which /sdapi/v1/progress would
        go on showing ("Wan: clip 4/4, decoding 1/1") until the host's next job: cleared here."""
        if not self.active:
            return
        self.active = False
        state = self._state_of()
        if state is not None:
            state.textinfo = None
            state.job_no, state.sampling_step, state.sampling_steps = 0, 0, 0
            state.end()

    def interrupted(self) -> bool:
        """Interrupt or Skip pressed during this render (False outside one)."""
        state = self._state_of()
        if not self.active or state is None:
            return False
        return bool(getattr(state, "interrupted", False) or getattr(state, "skipped", False))
