"""`python -m wan render` goes through the queue; `python -m wan jobs` lists and drives it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.jobs.conftest import options, settings
from wan.cli.main import main
from wan.jobs import JobQueue


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_cli_render_is_a_job_the_jobs_command_lists(tmp_path, capsys, smoke_root):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps(settings()))
    out_dir = tmp_path / "run"
    code, out, err = run(
        capsys, "render", str(path), *("--model", "tiny-t2v", "--size", "64x64", "--steps", "2"),
        *("--out", str(out_dir), "--output-dir", str(tmp_path / "outputs"), "--json"),
    )  # fmt: skip
    assert code == 0, err
    result = json.loads(out)
    assert (result["status"], result["run_dir"]) == ("done", str(out_dir))
    assert result["clips_generated"] == 1 and Path(result["video"]).is_file()

    code, out, _ = run(capsys, "jobs", "--json")
    listed = {job["id"]: job for job in json.loads(out)}
    job = listed[result["job"]]
    assert (job["status"], job["source"], job["name"], job["video"]) == (
        "SUCCEEDED", "cli", str(path), result["video"],
    )  # fmt: skip
    assert "settings" not in job
    code, out, _ = run(capsys, "jobs")
    assert result["job"] in out and f"video: {result['video']}" in out
    code, out, _ = run(capsys, "jobs", "show", result["job"])
    assert code == 0 and "status:           SUCCEEDED" in out and '"model": "tiny-t2v"' in out

    code, _, err = run(capsys, "jobs", "cancel", result["job"])
    assert code == 2 and "only a queued or running job can be cancelled" in err
    code, _, err = run(capsys, "jobs", "retry", result["job"])
    assert code == 2 and "only a FAILED, CANCELLED or INTERRUPTED job" in err
    code, _, err = run(capsys, "jobs", "show", "0123456789ab")
    assert (code, err.count("\n")) == (2, 1) and "no such job" in err


def test_jobs_cancel_retry_and_run_here(tmp_path, capsys, host, smoke_root):
    queue = JobQueue(host, autostart=False)  # the install's own database, as the WebUI's
    try:
        job = queue.submit(settings(), options())
    finally:
        queue.close()
    code, out, err = run(capsys, "jobs", "cancel", job.id, "--json")
    assert code == 0 and json.loads(out)["status"] == "CANCELLED"
    code, _, err = run(capsys, "jobs", "resume", job.id)
    assert code == 2 and "never started" in err
    code, _, err = run(capsys, "jobs", "retry", job.id)
    assert code == 0 and "queued again" in err and "--run" in err
    run(capsys, "jobs", "cancel", job.id)
    code, out, err = run(
        capsys, "jobs", "retry", job.id, "--run", "--quiet", "--output-dir", str(tmp_path / "o")
    )
    assert code == 0, err
    folder = Path(out.strip().splitlines()[-1])  # the run folder, printed last
    assert (folder / "video.mp4").is_file() and folder.parent == tmp_path / "o" / "wan-videos"


@pytest.mark.parametrize("action", ["show", "cancel", "retry", "resume"])
def test_an_unknown_job_is_a_one_line_error(capsys, action):
    code, _, err = run(capsys, "jobs", action, "ffffffffffff")
    assert (
        code == 2
        and err == "error: job ffffffffffff: no such job; list the jobs to see their ids\n"
    )
