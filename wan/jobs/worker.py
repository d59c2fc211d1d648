"""Running one claimed job: plan, run folder, the GPU file lock, `Runner.run`, the outcome.

Shared by the queue's worker thread and `JobQueue.run_here` (the CLI), so both keep the same
books. The file lock is held around the whole run, so a CLI render and a WebUI render never
overlap; the Runner takes `host.gpu_lock()` inside it, which re-enters the same lock object.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from wan.core.deforum.settings import parse_settings
from wan.errors import Cancelled, JobNotFound, WanError
from wan.host.base import Host, ProgressEvent
from wan.jobs.progress import CancelCheck, ProgressWriter
from wan.jobs.record import Job
from wan.jobs.status import (
    CANCELLED,
    DONE,
    FAILED,
    INTERRUPTED,
    PREPARING,
    SUCCEEDED,
    WAITING_FOR_GPU,
)
from wan.jobs.store import JobStore
from wan.options.render_options import parse_options
from wan.planning.plan_service import plan_for
from wan.render import run_folder

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 5.0
LOCK_POLL_SECONDS = 1.0


@dataclass
class JobRun:
    """What running one job needs besides the job itself."""

    store: JobStore
    host: Host
    runner: Any  # has Runner.run's signature
    cancel_event: threading.Event
    stopping: Callable[[], bool]  # the queue is closing: a stop is an interruption, not a cancel
    name_folder: bool  # decide `<output root>/wan-videos/<time>-<id8>` before the run
    progress: Callable[[ProgressEvent], None] | None = None
    on_result: Callable[[Any], None] | None = None


def run_job(job_id: str, ctx: JobRun) -> Job:
    """Run a job this process has claimed and record how it ended; returns the final row."""
    store = ctx.store
    job = store.get(job_id)
    if job is None:
        raise JobNotFound(f"job {job_id}: removed from the queue before it ran")
    now = time.time()
    if store.cancel_requested(job_id):
        store.update(job_id, status=CANCELLED, phase=DONE, finished=now)
        return store.get(job_id)  # type: ignore[return-value]
    store.update(job_id, phase=PREPARING, step_phase="", started=now, error=None)
    cancel = CancelCheck(store, job_id, ctx.cancel_event)
    try:
        result = _run(job, ctx, cancel)
    except Cancelled as exc:
        _end(store, job_id, _stopped_status(ctx, job_id), warnings=(str(exc),))
    except WanError as exc:
        _end(store, job_id, FAILED, error=str(exc))
    except Exception as exc:
        log.exception("job %s failed with an unexpected error", job_id)
        _end(
            store,
            job_id,
            FAILED,
            error=f"internal error: {type(exc).__name__}: {exc} (see the log)",
        )
    except BaseException:  # KeyboardInterrupt, SystemExit: the run stopped, resumable
        _end(store, job_id, INTERRUPTED, error="the render was interrupted; resume it to continue")
        raise
    else:
        _record_result(store, job_id, result, ctx)
        if ctx.on_result is not None:
            ctx.on_result(result)
    return store.get(job_id)  # type: ignore[return-value]


def _run(job: Job, ctx: JobRun, cancel: CancelCheck):
    options = parse_options(job.options)
    plan = plan_for(parse_settings(job.settings, job.name), options)
    run_dir = job.run_dir
    if run_dir is None and ctx.name_folder and not job.resume:
        run_dir = str(new_run_folder(ctx.host.output_root(), job.id))
        ctx.store.update(job.id, run_dir=run_dir)
    writer = ProgressWriter(ctx.store, job.id, ctx.progress)
    holder = f"job {job.id[:8]} ({job.source}, {job.name})"
    waiting = partial(_waiting, ctx.store, job.id)
    # the folder is on the job's row as soon as the Runner opens it, so a killed render's job
    # can be found (and resumed) by its folder
    opened = run_folder.folder_opened.set(partial(_folder_opened, ctx.store, job.id))
    try:
        with gpu_turn(cancel, holder, waiting):
            result = ctx.runner.run(
                plan,
                options,
                ctx.host,
                cancel=cancel,
                progress=writer,
                run_dir=Path(run_dir) if run_dir else None,
                resume=job.resume,
            )
    finally:
        run_folder.folder_opened.reset(opened)
    writer.flush()
    return result


def _folder_opened(store: JobStore, job_id: str, folder: Path) -> None:
    try:
        store.update(job_id, run_dir=str(Path(folder).absolute()))
    except Exception:  # the render goes on; its folder is recorded when it ends
        log.warning("job %s: its run folder %s not recorded yet", job_id, folder, exc_info=True)


def new_run_folder(output_root: Path, job_id: str) -> Path:
    """`<output root>/wan-videos/<YYYYMMDD-HHMMSS>-<id8>`, absolute, not used by an earlier try."""
    base = (
        Path(output_root).absolute()
        / "wan-videos"
        / f"{time.strftime('%Y%m%d-%H%M%S')}-{job_id[:8]}"
    )
    folder, number = base, 1
    while folder.exists():
        number += 1
        folder = base.with_name(f"{base.name}-{number}")
    return folder


@contextmanager
def gpu_turn(
    cancel: Callable[[], bool],
    holder: str = "a Wan render",
    waiting: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold the install's GPU file lock for the whole run, saying who holds it (`holder`);
    while another render has it, `waiting` hears whom this one waits for, and a cancel works."""
    from filelock import Timeout

    from wan.host.locks import clear_holder, file_gpu_lock, read_holder, write_holder

    lock = file_gpu_lock()
    told = False
    while True:
        try:
            lock.acquire(timeout=LOCK_POLL_SECONDS)
            break
        except Timeout:
            if not told:
                text = f"{WAITING_FOR_GPU} (held by {read_holder(lock)})"
                log.warning("%s; lock file %s", text, lock.lock_file)
                if waiting is not None:
                    waiting(text)
                told = True
            if cancel():
                raise Cancelled("cancelled while waiting for another render to finish") from None
    write_holder(lock, holder)
    try:
        yield
    finally:
        clear_holder(lock)
        lock.release()


def _waiting(store: JobStore, job_id: str, text: str) -> None:
    store.update(job_id, step_phase=text)


def _record_result(store: JobStore, job_id: str, result, ctx: JobRun) -> None:
    run_dir = str(Path(result.run_dir).absolute())
    values: dict[str, Any] = {"run_dir": run_dir, "warnings": tuple(result.warnings)}
    if result.status == "done":
        video = str(Path(result.video).absolute())
        succeeded = dict(status=SUCCEEDED, phase=DONE, finished=time.time(), video=video)
        if store.finish_unless_cancelled(job_id, phase_progress=1.0, **succeeded, **values):
            for other in store.finish_interrupted(run_dir, job_id, video, time.time()):
                log.info("job %s: its run folder was finished by job %s", other, job_id)
            return
        # The cancel came as the video was being finished: honoured, the video is kept.
        values["warnings"] += (f"cancelled as the render ended; its video is kept: {video}",)
    _end(store, job_id, _stopped_status(ctx, job_id), **values)


def _stopped_status(ctx: JobRun, job_id: str) -> str:
    """A user's cancel ends as CANCELLED; the queue closing under the job as INTERRUPTED."""
    if ctx.stopping() and not ctx.store.cancel_requested(job_id):
        ctx.store.update(job_id, error="the queue stopped during the render; resume it to continue")
        return INTERRUPTED
    return CANCELLED


def _end(store: JobStore, job_id: str, status: str, **values: Any) -> None:
    store.update(job_id, status=status, phase=DONE, finished=time.time(), **values)


class Heartbeat:
    """Refreshes the heartbeat of the jobs this process runs, so other processes see it alive."""

    def __init__(self, store: JobStore, interval: float = HEARTBEAT_SECONDS) -> None:
        self.store, self.interval = store, interval
        self.jobs: set[str] = set()
        self.guard = threading.Lock()
        self.stop_event = threading.Event()
        self.thread: threading.Thread | None = None

    @contextmanager
    def beating(self, job_id: str) -> Iterator[None]:
        with self.guard:
            self.jobs.add(job_id)
            if self.thread is None:
                self.thread = threading.Thread(target=self._loop, name="wan-jobs-heartbeat")
                self.thread.daemon = True
                self.thread.start()
        self._beat(job_id)
        try:
            yield
        finally:
            with self.guard:
                self.jobs.discard(job_id)

    def _loop(self) -> None:
        while not self.stop_event.wait(self.interval):
            with self.guard:
                jobs = list(self.jobs)
            for job_id in jobs:
                self._beat(job_id)

    def _beat(self, job_id: str) -> None:
        try:
            self.store.beat(job_id, os.getpid(), time.time())
        except Exception:  # a locked or closed database must not stop the render
            log.debug("heartbeat of job %s not written", job_id, exc_info=True)

    def stop(self) -> None:
        self.stop_event.set()
        if self.thread is not None:
            self.thread.join(timeout=2)
