"""Real smoke renders through the queue: order, success, cancel, resume, retry, errors."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from tests.jobs.conftest import options, png_bytes, settings
from wan.host.base import ProgressEvent
from wan.host.standalone import StandaloneHost
from wan.render.checkpoints import finished_clips
from wan.render.video import read_video_info

WAIT = 120  # seconds; a smoke job takes a few


class CancellingHost(StandaloneHost):
    """A standalone host whose progress report cancels one job once it reaches a clip."""

    def __init__(self, output_dir: str, cancel_at_clip: int) -> None:
        super().__init__(output_dir=output_dir)
        self.cancel_at_clip = cancel_at_clip
        self.queue = None
        self.job_id = ""
        self.events: list[ProgressEvent] = []

    def report(self, event: ProgressEvent) -> None:
        self.events.append(event)
        if self.queue is not None and event.clip == self.cancel_at_clip:
            self.queue.cancel(self.job_id)
            self.queue = None  # once


def test_the_worker_renders_jobs_in_order(make_queue, smoke_root):
    queue = make_queue()
    first = queue.submit(settings(clips=1), options())
    second = queue.submit(settings(clips=1, seed=8), options())
    queue.start()
    second = queue.wait(second.id, timeout=WAIT)
    first = queue.get(first.id)
    assert (first.status, first.phase, first.phase_progress) == ("SUCCEEDED", "DONE", 1.0)
    assert second.status == "SUCCEEDED" and first.finished <= second.started
    video = queue.video_path(first.id)
    assert video == Path(first.video) and read_video_info(video).frames == 17
    run_dir = Path(first.run_dir)
    assert run_dir.parent.name == "wan-videos" and run_dir.name.endswith(first.id[:8])
    assert video.parent == run_dir and (first.clip, first.clips) == (1, 1)


def test_cancel_a_running_job_then_resume_finishes_its_folder(make_queue, tmp_path, smoke_root):
    host = CancellingHost(str(tmp_path / "outputs"), cancel_at_clip=2)
    queue = make_queue(queue_host=host)
    job = queue.submit(settings(clips=2), options())
    host.queue, host.job_id = queue, job.id
    queue.start()
    cancelled = queue.wait(job.id, timeout=WAIT)
    assert (cancelled.status, cancelled.phase, cancelled.video) == ("CANCELLED", "DONE", None)
    assert cancelled.cancel_requested and cancelled.clip == 2
    run_dir = Path(cancelled.run_dir)
    kept = finished_clips(run_dir)[0]
    assert kept == [0]
    stamps = {p.name: p.stat().st_mtime_ns for p in (run_dir / "clips").glob("clip_0000*")}

    host.events.clear()
    resumed = queue.wait(queue.resume(job.id).id, timeout=WAIT)
    assert (resumed.status, resumed.run_dir, resumed.attempts) == ("SUCCEEDED", str(run_dir), 2)
    assert {p.name: p.stat().st_mtime_ns for p in (run_dir / "clips").glob("clip_0000*")} == stamps
    generated = sorted({e.clip for e in host.events if e.phase == "camera guide"})
    assert generated == [2]  # clip 1 (index 0) was not generated again
    assert read_video_info(Path(resumed.video)).frames == 33


def test_a_cancel_from_another_process_is_seen_through_the_database(
    make_queue, monkeypatch, smoke_root
):
    monkeypatch.setattr("wan.jobs.progress.CANCEL_POLL_SECONDS", 0.0)
    queue, other = make_queue(), make_queue()  # `other` shares only the database
    job = queue.submit(settings(clips=2), options(), source="cli", trusted=True, claim=True)

    def cancel_from_elsewhere(event: ProgressEvent) -> None:
        if event.phase == "denoising" and not queue.get(job.id).cancel_requested:
            other.cancel(job.id)

    results = []
    done = queue.run_here(job.id, progress=cancel_from_elsewhere, on_result=results.append)
    assert done.status == "CANCELLED" and results[0].status == "cancelled"
    assert results[0].clips_generated == 0


def test_a_failed_job_keeps_its_error_and_can_be_retried(make_queue, tmp_path, smoke_root):
    image = tmp_path / "first.png"
    queue = make_queue(autostart=True)
    job = queue.submit(settings(), options(init_image=str(image)), source="ui", trusted=True)
    failed = queue.wait(job.id, timeout=WAIT)
    assert (failed.status, failed.phase) == ("FAILED", "DONE")
    assert "first.png: no such file" in failed.error
    image.write_bytes(png_bytes())
    retried = queue.retry(job.id)
    assert (retried.status, retried.phase, retried.error, retried.attempts) == (
        "ACCEPTED",
        "QUEUED",
        None,
        2,
    )
    done = queue.wait(job.id, timeout=WAIT)
    assert done.status == "SUCCEEDED" and Path(done.video).is_file()


class BrokenRunner:
    def run(self, *args, **kwargs):
        raise ValueError("a bug")


def test_an_unexpected_error_fails_the_job_and_names_the_log(tmp_path, host):
    from wan.jobs import JobQueue

    queue = JobQueue(host, db_path=tmp_path / "jobs.sqlite3", runner=BrokenRunner())
    try:
        job = queue.wait(queue.submit(settings(), options()).id, timeout=WAIT)
    finally:
        queue.close()
    assert job.status == "FAILED"
    assert job.error == "internal error: ValueError: a bug (see the log)"


def test_waiting_times_out_with_the_job_as_it_is(make_queue):
    queue = make_queue()
    job = queue.submit(settings(), options())
    assert queue.wait(job.id, timeout=0.05).status == "ACCEPTED"


def test_a_job_running_elsewhere_cannot_be_run_here(make_queue):
    from wan.jobs import JobStateError

    queue = make_queue()
    job = queue.submit(settings(), options())
    queue.store.claim(job.id, 1, 0.0)  # pid 1 has it
    with pytest.raises(JobStateError, match="not waiting to run"):
        queue.run_here(job.id)


class ClosingHost(StandaloneHost):
    """Closes the queue (as a WebUI shutting down) once the render starts denoising."""

    queue = None

    def report(self, event: ProgressEvent) -> None:
        if self.queue is not None and event.phase == "denoising":
            threading.Thread(target=self.queue.close).start()
            self.queue = None


def test_closing_the_queue_interrupts_the_running_job(make_queue, tmp_path, smoke_root):
    host = ClosingHost(output_dir=str(tmp_path / "outputs"))
    queue, watcher = make_queue(queue_host=host), make_queue()
    job = queue.submit(settings(clips=2), options())
    host.queue = queue
    queue.start()
    stopped = watcher.wait(job.id, timeout=WAIT)
    assert (stopped.status, stopped.phase) == ("INTERRUPTED", "DONE")
    assert "resume it" in stopped.error and not stopped.cancel_requested


def test_a_cancel_while_the_video_is_written_is_honoured_and_one_after_the_end_refused(
    make_queue, smoke_root
):
    """A cancel during the last clip was answered 200 and then ignored: the job SUCCEEDED."""
    from wan.errors import JobStateError

    queue = make_queue()
    job = queue.submit(settings(clips=1), options(), source="cli", trusted=True, claim=True)

    def cancel_while_writing(event: ProgressEvent) -> None:
        if event.phase == "writing" and not queue.get(job.id).cancel_requested:
            queue.cancel(job.id)

    ended = queue.run_here(job.id, progress=cancel_while_writing)
    assert (ended.status, ended.video) == ("CANCELLED", None)
    finished = queue.submit(settings(clips=1), options(), source="cli", trusted=True, claim=True)
    assert queue.run_here(finished.id).status == "SUCCEEDED"
    with pytest.raises(JobStateError, match="only a queued or running job can be cancelled"):
        queue.cancel(finished.id)  # 409 through the API


def test_a_cancel_accepted_as_the_job_ends_is_never_lost(make_queue):
    """The end of a running job and a cancel request race: whichever the database takes first
    wins, and an accepted cancel is never overwritten by SUCCEEDED."""
    queue = make_queue()
    job = queue.submit(settings(clips=1), options(), source="cli", trusted=True, claim=True)
    assert queue.store.request_cancel(job.id)  # accepted while it runs
    assert not queue.store.finish_unless_cancelled(job.id, status="SUCCEEDED")
    assert queue.get(job.id).status == "ACCEPTED"
    other = queue.submit(settings(clips=1), options(), source="cli", trusted=True, claim=True)
    assert queue.store.finish_unless_cancelled(other.id, status="SUCCEEDED")
    assert not queue.store.request_cancel(other.id)  # too late: it has ended


def test_a_job_waiting_for_the_gpu_says_whom_it_waits_for(make_queue, monkeypatch):
    """The Queue tab said "ACCEPTED · PREPARING · 0%" for as long as the job waited."""
    from wan.errors import Cancelled
    from wan.host.locks import file_gpu_lock, write_holder
    from wan.jobs.worker import gpu_turn

    monkeypatch.setattr("wan.jobs.worker.LOCK_POLL_SECONDS", 0.05)
    held, release = threading.Event(), threading.Event()

    def other_render() -> None:  # another thread: the lock is per thread, as across processes
        with gpu_turn(lambda: False, holder="job 1a2b3c4d (cli, orbit.json)"):
            held.set()
            release.wait(30)

    other = threading.Thread(target=other_render)
    other.start()
    held.wait(30)
    heard: list[str] = []
    waits = gpu_turn(lambda: bool(heard), waiting=heard.append)
    with pytest.raises(Cancelled, match="waiting for another render"), waits:
        pass
    release.set()
    other.join(30)
    assert heard == [
        f"waiting for the GPU (held by job 1a2b3c4d (cli, orbit.json), pid {os.getpid()})"
    ]
    write_holder(file_gpu_lock(), "x")  # a holder file left by a killed process is harmless
    with gpu_turn(lambda: False):
        pass
