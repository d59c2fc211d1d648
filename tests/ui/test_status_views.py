"""The job status line, the Queue tab's table and actions, and the machine figures."""

from __future__ import annotations

import json
from dataclasses import replace

from tests.ui.conftest import SHORT
from wan.ui.jobs_view import HEADERS, job_rows, status_text
from wan.ui.queue import job_action, jobs_table, picked_id
from wan.ui.system import Figures, GpuFigures, figures_text, read_figures

GB = 10**9  # wan.models.memory.gb counts decimal gigabytes


def test_the_status_line_has_status_phase_clip_step_and_percent(idle_queue):
    job = idle_queue.submit(SHORT, {"model": "tiny-t2v"}, source="ui", trusted=True, name="a.txt")
    assert status_text(job) == f"job `{job.id}` (a.txt): **QUEUED** · QUEUED · 0%"
    running = replace(
        job, phase="GENERATING", step_phase="denoising", clip=2, clips=4, step=3, steps=20,
        phase_progress=0.2875,
    )  # fmt: skip
    assert status_text(running).endswith(
        "**RUNNING** · GENERATING (denoising) · clip 2/4 · step 3/20 · 29%"
    )
    done = replace(running, status="SUCCEEDED", phase="DONE", step_phase="writing", clip=4)
    assert "**SUCCEEDED** · DONE · clip 4/4" in status_text(done)
    failed = replace(job, status="FAILED", error="out of memory", warnings=("slow",))
    assert status_text(failed).endswith("out of memory\n\nwarning: slow")
    row = job_rows([running])[0]
    assert len(row) == len(HEADERS) and row[:6] == [
        job.id, "RUNNING", "GENERATING (denoising)", "29%", "2/4", ""
    ]  # fmt: skip


def test_the_queue_table_shows_why_a_job_failed_and_what_a_running_one_does(idle_queue):
    """It showed no error, ACCEPTED for a running job, and "ACCEPTED · PREPARING · 0%" while a
    job waited for another render's GPU."""
    job = idle_queue.submit(SHORT, {"model": "tiny-t2v"}, source="ui", trusted=True, name="a.txt")
    error = "clip 2: out of memory on the GPU " + "x" * 300
    failed = replace(job, status="FAILED", phase="DONE", error=error)
    row = dict(zip(HEADERS, job_rows([failed])[0], strict=True))
    assert row["status"] == "FAILED" and row["error"].startswith("clip 2: out of memory")
    assert len(row["error"]) <= 160
    waiting = replace(
        job, phase="PREPARING", step_phase="waiting for the GPU (held by job 1a2b3c4d (cli, x))"
    )
    row = dict(zip(HEADERS, job_rows([waiting])[0], strict=True))
    assert row["status"] == "WAITING"
    assert row["phase"] == "PREPARING (waiting for the GPU (held by job 1a2b3c4d (cli, x)))"
    cancelling = replace(job, phase="GENERATING", step_phase="denoising", cancel_requested=True)
    assert job_rows([cancelling])[0][1] == "CANCELLING"


def test_queue_actions_by_id(idle_queue):
    first = idle_queue.submit(SHORT, {"model": "tiny-t2v"}, source="ui", trusted=True)
    second = idle_queue.submit(json.loads(json.dumps(SHORT)), {"model": "tiny-t2v"}, trusted=True)
    table = jobs_table(idle_queue)
    assert [row[0] for row in table] == [second.id, first.id]

    class Clicked:
        index = (1, 3)

    assert picked_id(table, Clicked()) == first.id
    message, table = job_action(idle_queue, "cancel", f" {first.id} ")
    assert message == f"job `{first.id}` cancelled: CANCELLED" and table[1][1] == "CANCELLED"
    message, _ = job_action(idle_queue, "retry", first.id)
    assert message.startswith(f"job `{first.id}` queued again")
    message, _ = job_action(idle_queue, "resume", second.id)
    assert message.startswith("**Error:**"), message
    assert job_action(idle_queue, "cancel", "")[0].startswith("**Error:** click a job")
    assert "no such job" in job_action(idle_queue, "cancel", "ffffffffffff")[0]


def test_figures_with_and_without_a_gpu():
    gpu = Figures(12.3, 3 * GB, 16 * GB, (GpuFigures("RTX 4090", 5 * GB, 24 * GB, 87.0),), "nvml")
    assert figures_text(gpu) == (
        "**CPU** 12% · **RAM** 3.00 GB of 16.00 GB\n\n"
        "**GPU 0** RTX 4090 · 87% · **VRAM** 5.00 GB of 24.00 GB"
    )
    none = Figures(None, GB, 2 * GB, (), "")
    assert figures_text(none).endswith("**GPU** no GPU found: renders run on the CPU (very slow)")
    here = read_figures()  # this machine has no GPU
    assert here.ram_total > here.ram_used > 0 and here.gpus == () and here.gpu_source == ""
