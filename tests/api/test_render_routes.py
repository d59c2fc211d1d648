"""Real renders through the API with the tiny-t2v smoke model: poll, download, cancel, resume."""

from __future__ import annotations

from tests.api.server import SETTINGS, job_body, wait_for


def test_submit_poll_and_download_the_video(worker):
    response = worker.post("/wan/v1/jobs", json=job_body())
    assert response.status_code == 202, response.text
    (job_id,) = response.json()["job_ids"]
    job = wait_for(worker, job_id)
    assert job["status"] == "SUCCEEDED", job
    assert (job["phase"], job["phase_progress"]) == ("DONE", 1.0)
    video = worker.get(f"/wan/v1/jobs/{job_id}/video")
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    assert video.content[4:8] == b"ftyp"
    assert f"wan-{job_id}.mp4" in video.headers["content-disposition"]


def test_cancel_a_running_job_then_resume_it(worker):
    long = {**SETTINGS, "max_frames": 60}
    response = worker.post("/wan/v1/jobs", json=job_body(long, steps=6))
    (job_id,) = response.json()["job_ids"]
    wait_for(worker, job_id, lambda job: job["status"] != "ACCEPTED" or job["clip"] >= 2)
    cancelled = worker.delete(f"/wan/v1/jobs/{job_id}")
    assert cancelled.status_code == 200, cancelled.text
    job = wait_for(worker, job_id)
    assert job["status"] == "CANCELLED" and job["run_dir"], job
    resumed = worker.post(f"/wan/v1/jobs/{job_id}/resume")
    assert resumed.status_code == 202, resumed.text
    job = wait_for(worker, job_id)
    assert job["status"] == "SUCCEEDED" and job["resume"], job
    assert worker.get(f"/wan/v1/jobs/{job_id}/video").content[4:8] == b"ftyp"
