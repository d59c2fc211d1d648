"""The queue across a real restart: the worker process is killed mid-render, the queue reopened."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import ROOT
from tests.jobs.conftest import options, settings
from wan.jobs import JobQueue
from wan.render.video import read_video_info


def test_a_killed_worker_leaves_an_interrupted_job_that_resumes(tmp_path, host, smoke_root):
    db = tmp_path / "jobs.sqlite3"
    before = JobQueue(host, db_path=db, autostart=False)
    running = before.submit(settings(clips=4), options(steps=3))
    waiting = before.submit(settings(clips=1), options())
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.jobs.restart_child", str(db), str(tmp_path / "outputs")],
        cwd=ROOT,
        env={**os.environ, "WAN_SMOKE_DIR": str(smoke_root)},
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            job = before.get(running.id)
            assert child.poll() is None, "the worker process ended by itself"
            assert not job.done, f"the job ended before it could be killed: {job.status}"
            assert time.monotonic() < deadline, "the job never reached its second clip"
            if job.phase == "GENERATING" and job.clip >= 2:
                break
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        before.close()

    after = JobQueue(host, db_path=db, autostart=False)
    try:
        interrupted = after.get(running.id)
        assert (interrupted.status, interrupted.phase) == ("INTERRUPTED", "DONE")
        assert f"pid {child.pid}" in interrupted.error and interrupted.run_dir
        still = after.get(waiting.id)
        assert (still.status, still.phase) == ("ACCEPTED", "QUEUED")

        results = []
        after.resume(running.id)
        done = after.run_here(running.id, on_result=results.append)
        assert (done.status, done.run_dir, done.error) == ("SUCCEEDED", interrupted.run_dir, None)
        assert results[0].clips_resumed >= 1
        assert results[0].clips_resumed + results[0].clips_generated == 4
        assert read_video_info(Path(done.video)).frames == 65
    finally:
        after.close()


def test_a_running_job_is_orphaned_by_a_dead_process_or_a_silent_one(tmp_path, host):
    import time as clock

    from wan.jobs.store import ORPHAN_SECONDS

    db = tmp_path / "jobs.sqlite3"
    queue = JobQueue(host, db_path=db, autostart=False)
    alive, silent, dead, waiting = (queue.submit(settings(), options()) for _ in range(4))
    now = clock.time()
    queue.store.claim(alive.id, os.getpid(), now)
    queue.store.claim(silent.id, os.getpid(), now - ORPHAN_SECONDS - 1)
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)  # fmt: skip
    queue.store.claim(dead.id, int(finished.stdout), now)
    queue.close()
    reopened = JobQueue(host, db_path=db, autostart=False)
    try:
        statuses = [reopened.get(job.id).status for job in (alive, silent, dead, waiting)]
    finally:
        reopened.close()
    assert statuses == ["ACCEPTED", "INTERRUPTED", "INTERRUPTED", "ACCEPTED"]
