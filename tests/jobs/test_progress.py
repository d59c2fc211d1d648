"""Renderer progress -> job phase and overall fraction; database writes throttled, never lost."""

from __future__ import annotations

import threading

import pytest

from tests.jobs.conftest import options, settings
from wan.host.base import ProgressEvent
from wan.jobs.progress import CancelCheck, ProgressWriter
from wan.jobs.status import overall_progress, phase_of


@pytest.mark.parametrize(
    "step_phase, phase",
    [
        ("loading", "PREPARING"),
        ("text encoding", "GENERATING"),
        ("denoising", "GENERATING"),
        ("decoding", "GENERATING"),
        ("writing", "POST_PROCESSING"),
    ],
)
def test_renderer_phases_map_to_job_phases(step_phase, phase):
    assert phase_of(step_phase) == phase


def test_the_fraction_counts_every_clip_and_step():
    assert overall_progress(ProgressEvent("loading", 0, 4)) == 0.0
    assert overall_progress(ProgressEvent("text encoding", 2, 4)) == 0.25
    assert overall_progress(ProgressEvent("denoising", 2, 4, 5, 10)) == pytest.approx(15 / 40)
    assert overall_progress(ProgressEvent("decoding", 2, 4, 10, 10)) == 0.5
    assert overall_progress(ProgressEvent("writing", 4, 4)) == 1.0


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_writes_are_throttled_but_phase_changes_and_last_steps_are_kept(make_queue):
    queue = make_queue()
    job = queue.submit(settings(), options())
    clock = Clock()
    seen: list[ProgressEvent] = []
    writer = ProgressWriter(queue.store, job.id, seen.append, clock=clock)
    writer(ProgressEvent("text encoding", 1, 2))
    writer(ProgressEvent("denoising", 1, 2, 1, 30))
    writer(ProgressEvent("denoising", 1, 2, 2, 30))  # same instant: held back
    row = queue.get(job.id)
    assert (row.phase, row.step_phase, row.step) == ("GENERATING", "denoising", 1)
    writer(ProgressEvent("denoising", 1, 2, 30, 30))  # the last step is always written
    assert queue.get(job.id).step == 30
    writer(ProgressEvent("denoising", 2, 2, 1, 30))  # a new clip too
    writer(ProgressEvent("denoising", 2, 2, 2, 30))
    clock.now = 0.3
    writer(ProgressEvent("denoising", 2, 2, 3, 30))  # a quarter second later
    row = queue.get(job.id)
    assert (row.clip, row.clips, row.step, row.steps) == (2, 2, 3, 30)
    assert row.phase_progress == pytest.approx(33 / 60)
    writer(ProgressEvent("denoising", 2, 2, 4, 30))
    writer.flush()
    assert queue.get(job.id).step == 4 and len(seen) == 8


def test_the_cancel_check_reads_the_database_at_most_once_a_second(make_queue):
    queue = make_queue()
    job = queue.submit(settings(), options())
    clock = Clock()
    check = CancelCheck(queue.store, job.id, threading.Event(), clock=clock)
    assert check() is False
    queue.store.request_cancel(job.id)  # as `python -m wan jobs cancel` in another process
    assert check() is False  # not read again yet
    clock.now = 1.0
    assert check() is True and check.event.is_set()
