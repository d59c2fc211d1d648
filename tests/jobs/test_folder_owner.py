"""The job that owns a run folder: resumed by a render of the same folder, and settled when
another job finishes that folder."""

from __future__ import annotations

import time

from tests.jobs.conftest import options, settings

WAIT = 120


def stop(queue, job_id: str, status: str = "INTERRUPTED") -> None:
    queue.store.update(job_id, status=status, phase="DONE", started=time.time(), owner_pid=None)


def test_a_render_of_a_stopped_jobs_folder_resumes_that_job(make_queue, tmp_path):
    queue = make_queue()
    folder = str(tmp_path / "run")
    first = queue.submit(settings(), options(), source="cli", trusted=True, run_dir=folder)
    stop(queue, first.id)

    again = queue.submit(
        settings(), options(), source="cli", trusted=True, run_dir=folder, claim=True,
        reuse_stopped=True,
    )  # fmt: skip

    assert again.id == first.id and (again.status, again.attempts) == ("ACCEPTED", 2)
    assert again.run_dir == folder and len(queue.list()) == 1


def test_a_different_render_or_folder_is_a_new_job(make_queue, tmp_path):
    queue = make_queue()
    folder = str(tmp_path / "run")
    first = queue.submit(settings(), options(), source="cli", trusted=True, run_dir=folder)
    stop(queue, first.id)
    other = dict(source="cli", trusted=True, reuse_stopped=True)
    assert queue.submit(settings(seed=8), options(), run_dir=folder, **other).id != first.id
    assert queue.submit(settings(), options(), run_dir=str(tmp_path / "b"), **other).id != first.id
    assert queue.submit(settings(), options(), run_dir=folder, source="cli", trusted=True).id != (
        first.id
    )  # without reuse_stopped (the API, the tab): as before
    assert queue.get(first.id).status == "INTERRUPTED"


def test_resume_without_a_folder_finds_the_stopped_cli_job(make_queue):
    queue = make_queue()
    first = queue.submit(settings(), options(), source="cli", trusted=True)
    stop(queue, first.id)
    resumed = queue.submit(
        settings(), options(), source="cli", trusted=True, resume=True, reuse_stopped=True
    )
    assert resumed.id == first.id and resumed.resume


def test_finishing_a_folder_settles_its_interrupted_jobs(make_queue, tmp_path, smoke_root):
    queue = make_queue()
    folder = str(tmp_path / "run")
    first = queue.submit(settings(), options(), source="cli", trusted=True, run_dir=folder)
    stop(queue, first.id)
    second = queue.submit(settings(), options(), source="cli", trusted=True, run_dir=folder)
    queue.start()
    second = queue.wait(second.id, timeout=WAIT)
    assert second.status == "SUCCEEDED", second.error
    first = queue.get(first.id)
    assert (first.status, first.video, first.error) == ("SUCCEEDED", second.video, None)
    assert f"finished by job {second.id}" in first.warnings[-1]


def test_the_run_folder_is_recorded_when_the_render_opens_it(make_queue, smoke_root):
    seen = []

    class Watching:
        def report(self, event):
            seen.append(queue.get(job.id).run_dir)

    queue = make_queue()
    job = queue.submit(settings(), options(), source="cli", trusted=True, claim=True)
    assert job.run_dir is None
    queue.run_here(job.id, progress=Watching().report)  # as `render` without --out
    assert seen and seen[0] is not None and seen[0] == queue.get(job.id).run_dir
