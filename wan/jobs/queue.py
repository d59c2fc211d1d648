"""`JobQueue`: the one queue of the tab, the API and the CLI, with one GPU worker thread.

Jobs live in sqlite (`wan.paths.jobs_db()`), so they survive a restart and several processes of
one install (WebUI, `serve`, a CLI render) share them. Opening the queue turns jobs whose
process died mid-run into INTERRUPTED (resumable); queued jobs stay queued. The worker takes
the oldest waiting job, claims it with one conditional UPDATE and runs it
(`wan.jobs.worker.run_job`); the CLI runs its own job in the foreground with `run_here`.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from wan.errors import JobNotFound, JobStateError, RequestError
from wan.host.base import Host, ProgressEvent
from wan.jobs.intake import take_request
from wan.jobs.liveness import process_alive
from wan.jobs.record import Job
from wan.jobs.status import ACCEPTED, CANCELLED, PREPARING, QUEUED, RETRYABLE, SUCCEEDED
from wan.jobs.store import JobStore
from wan.jobs.worker import Heartbeat, JobRun, run_job
from wan.options.render_options import RenderOptions
from wan.paths import job_inputs_dir, jobs_db

log = logging.getLogger(__name__)

SOURCES = ("api", "ui", "cli")
IDLE_POLL_SECONDS = 1.0  # how soon a job queued by another process is picked up
SWEEP_SECONDS = 15.0  # how often the worker looks for jobs orphaned by a dead process
WAIT_POLL_SECONDS = 0.25


class JobQueue:
    """FIFO, persistent, one worker thread per process; every method is thread-safe."""

    def __init__(
        self, host: Host, db_path: Path | None = None, runner=None, autostart: bool = True
    ) -> None:
        if runner is None:
            from wan.render.runner import Runner

            runner = Runner()
        self.host, self.runner = host, runner
        self.store = JobStore(Path(db_path) if db_path is not None else jobs_db())
        self.pid = os.getpid()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._changed = threading.Condition()
        self._cancel_events: dict[str, threading.Event] = {}
        self._heartbeat = Heartbeat(self.store)
        self._thread: threading.Thread | None = None
        self._last_sweep = 0.0
        self._sweep()
        if autostart:
            self.start()

    # -- requests ----------------------------------------------------------------------------

    def submit(
        self,
        settings: Mapping | str,
        options: Mapping | RenderOptions | None = None,
        source: str = "api",
        name: str | None = None,
        trusted: bool = False,
        run_dir: str | None = None,
        resume: bool = False,
        claim: bool = False,
        check: Callable[[dict, dict, str], Any] | None = None,
        reuse_stopped: bool = False,
    ) -> Job:
        """Validate and queue a render. `run_dir`/`resume` (trusted callers: the CLI's --out and
        --resume) choose the run folder; `claim` reserves the job for `run_here` in this process.
        `check(settings, options, name)` runs the caller's own checks on what would be stored,
        before anything is; it raises to refuse. With `reuse_stopped`, a stopped job of the same
        render that owns the folder (`run_dir`, or with `resume` alone the newest such CLI job)
        is resumed instead of a new job being queued (`render --resume`).
        """
        if source not in SOURCES:
            raise RequestError(f"source {source!r}: use one of {', '.join(SOURCES)}")
        if not trusted and (run_dir is not None or resume):
            raise RequestError("run_dir: a remote request cannot choose the run folder")
        job_id = secrets.token_hex(6)
        intake = take_request(settings, options, self.host, job_inputs_dir(job_id), trusted, name)
        if check is not None:
            check(intake.settings, intake.options, intake.name)
        if reuse_stopped and (run_dir is not None or resume) and not intake.images:
            owner = self._stopped_owner(intake.settings, intake.options, run_dir)
            if owner is not None:
                log.info("job %s owns the run folder: resumed instead of a new job", owner.id)
                return self.resume(owner.id, claim=claim)
        now = time.time()
        job = Job(
            id=job_id,
            status=ACCEPTED,
            phase=PREPARING if claim else QUEUED,
            step_phase="",
            phase_progress=0.0,
            clip=0,
            clips=0,
            step=0,
            steps=0,
            name=intake.name,
            source=source,
            settings=intake.settings,
            options=intake.options,
            created=now,
            run_dir=str(Path(run_dir).absolute()) if run_dir else None,
            resume=resume,
        )
        intake.save_images()
        self.store.insert(job, queued=now, owner_pid=self.pid if claim else None)
        log.info("job %s queued (%s, %s)", job_id, source, intake.name)
        self._wake.set()
        return self.get(job_id)

    def get(self, job_id: str) -> Job:
        job = self.store.get(str(job_id))
        if job is None:
            raise JobNotFound(f"job {job_id}: no such job; list the jobs to see their ids")
        return job

    def list(self, limit: int = 200) -> list[Job]:
        """The newest jobs first."""
        return self.store.list(limit)

    def cancel(self, job_id: str) -> Job:
        """A waiting job ends now; a running one stops at its next step (finished clips kept)."""
        job = self.get(job_id)
        if job.done:
            raise JobStateError(
                f"job {job_id} is {job.status}: only a queued or running job can be cancelled"
            )
        if self.store.cancel_waiting(job_id, CANCELLED, time.time()):
            log.info("job %s cancelled before it started", job_id)
            self._notify()
            return self.get(job_id)
        if not self.store.request_cancel(job_id):
            return self.cancel(job_id)  # it ended meanwhile: say so
        event = self._cancel_events.get(job_id)
        if event is not None:
            event.set()
        log.info("job %s: cancel requested", job_id)
        return self.get(job_id)

    def retry(self, job_id: str, claim: bool = False) -> Job:
        """Queue a failed, cancelled or interrupted job again from the start, in a new folder."""
        self._check_restartable(job_id, "retried")
        self._requeue(job_id, claim, run_dir=None, resume=False)
        return self.get(job_id)

    def resume(self, job_id: str, claim: bool = False) -> Job:
        """Queue a stopped job again to continue its run folder (finished clips are kept)."""
        job = self._check_restartable(job_id, "resumed")
        if job.run_dir is None and job.started is None:
            raise JobStateError(
                f"job {job_id} never started, so there is nothing to resume; retry it"
            )
        # a folder the render never got to write starts afresh in the same place
        resume = job.run_dir is None or (Path(job.run_dir) / "run.json").is_file()
        self._requeue(job_id, claim, run_dir=job.run_dir, resume=resume)
        return self.get(job_id)

    def wait(self, job_id: str, timeout: float | None = None) -> Job:
        """The job once it is done, or as it is when `timeout` seconds have passed."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            job = self.get(job_id)
            left = None if deadline is None else deadline - time.monotonic()
            if job.done or (left is not None and left <= 0):
                return job
            with self._changed:
                self._changed.wait(
                    WAIT_POLL_SECONDS if left is None else min(left, WAIT_POLL_SECONDS)
                )

    def video_path(self, job_id: str) -> Path:
        job = self.get(job_id)
        if job.status != SUCCEEDED or not job.video:
            raise JobStateError(
                f"job {job_id} is {job.status} ({job.phase}): "
                "its video exists once it has SUCCEEDED"
            )
        path = Path(job.video)
        if not path.is_file():
            raise JobStateError(f"job {job_id}: its video {path} was moved or deleted")
        return path

    def run_here(
        self,
        job_id: str,
        progress: Callable[[ProgressEvent], None] | None = None,
        on_result: Callable[[Any], None] | None = None,
    ) -> Job:
        """Run a job in the calling thread (the CLI). Without a run folder of its own the job
        goes where the renderer puts it (`<output root>/wan-videos/<time>-<hash8>`, which
        `render --resume` finds again), recorded on the job as soon as the renderer opens it.
        `on_result` receives the Runner's RunResult."""
        job = self.get(job_id)
        mine = (
            self.store.owner(job_id) == self.pid and job.status == ACCEPTED and job.started is None
        )
        if not mine and not self.store.claim(job_id, self.pid, time.time()):
            raise JobStateError(
                f"job {job_id} is {job.status} ({job.phase}): it is not waiting to run"
            )
        return self._execute(job_id, name_folder=False, progress=progress, on_result=on_result)

    # -- the worker --------------------------------------------------------------------------

    def start(self) -> None:
        """Start the GPU worker thread (once)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._work, name="wan-jobs-worker")
        self._thread.daemon = True
        self._thread.start()

    def close(self, timeout: float = 10) -> None:
        """Stop the worker; a job it is running stops at its next step as INTERRUPTED."""
        self._stop.set()
        self._wake.set()
        for event in list(self._cancel_events.values()):
            event.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        self._heartbeat.stop()
        if thread is None or not thread.is_alive():
            self.store.close()

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                self._sweep(every=SWEEP_SECONDS)
                self._wake.clear()
                job_id = self.store.claim_next(self.pid, time.time())
            except sqlite3.Error:
                log.exception("the job database cannot be read; trying again")
                job_id = None
            if job_id is None:
                self._wake.wait(IDLE_POLL_SECONDS)
                continue
            try:
                self._execute(job_id, name_folder=True)
            except Exception:
                log.exception("job %s: the worker could not record its outcome", job_id)

    def _execute(
        self,
        job_id: str,
        name_folder: bool,
        progress: Callable[[ProgressEvent], None] | None = None,
        on_result: Callable[[Any], None] | None = None,
    ) -> Job:
        event = self._cancel_events.setdefault(job_id, threading.Event())
        ctx = JobRun(
            self.store,
            self.host,
            self.runner,
            event,
            self._stop.is_set,
            name_folder,
            progress,
            on_result,
        )
        try:
            with self._heartbeat.beating(job_id):
                return run_job(job_id, ctx)
        finally:
            self._cancel_events.pop(job_id, None)
            self._notify()

    # -- helpers -----------------------------------------------------------------------------

    def _stopped_owner(self, settings: dict, options: dict, run_dir: str | None) -> Job | None:
        """The newest stopped job rendering the same settings and options into `run_dir`; with
        no `run_dir`, into a default folder (the one `render --resume` looks for), CLI jobs only.
        """
        folder = str(Path(run_dir).absolute()) if run_dir else None
        default_root = (Path(self.host.output_root()).absolute() / "wan-videos").resolve()
        wanted = (_canonical(settings), _canonical(options))
        for job in self.store.stopped(folder):
            if folder is None and (
                job.source != "cli"
                or (job.run_dir is not None and Path(job.run_dir).resolve().parent != default_root)
            ):
                continue
            if (_canonical(job.settings), _canonical(job.options)) == wanted:
                return job
        return None

    def _check_restartable(self, job_id: str, verb: str) -> Job:
        job = self.get(job_id)
        if job.status not in RETRYABLE:
            raise JobStateError(
                f"job {job_id} is {job.status}: "
                f"only a FAILED, CANCELLED or INTERRUPTED job can be {verb}"
            )
        return job

    def _requeue(self, job_id: str, claim: bool, **values: Any) -> None:
        now = time.time()
        if claim:
            values.update(phase=PREPARING, owner_pid=self.pid, heartbeat=now)
        if not self.store.requeue(job_id, RETRYABLE, now, **values):
            self._check_restartable(job_id, "queued again")  # it changed meanwhile: say how
        self._wake.set()
        self._notify()

    def _sweep(self, every: float = 0.0) -> None:
        now = time.time()
        if now - self._last_sweep < every:
            return
        self._last_sweep = now
        for job_id in self.store.interrupt_orphans(now, process_alive):
            log.warning("job %s was running in a process that stopped: now INTERRUPTED", job_id)

    def _notify(self) -> None:
        with self._changed:
            self._changed.notify_all()


def _canonical(value: Any) -> str:
    """Settings or options as stored (JSON), to compare a request with a stored job."""
    return json.dumps(value, sort_keys=True, default=str)
