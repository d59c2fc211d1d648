"""Submit, list, get, cancel, retry and resume through the API, on a queue whose worker never
starts (so each status is certain), and inline images saved for the job."""

from __future__ import annotations

import re
from pathlib import Path

from tests.api.server import PNG_DATA_URL, SETTINGS, job_body


def submit(client, body) -> list[str]:
    response = client.post("/wan/v1/jobs", json=body)
    assert response.status_code == 202, response.text
    data = response.json()
    assert data["message"] == "Job(s) accepted"
    assert [job["id"] for job in data["jobs"]] == data["job_ids"]
    return data["job_ids"]


def test_submit_answers_202_with_ids_and_the_job_is_queued(idle):
    (job_id,) = submit(idle, job_body())
    assert re.fullmatch(r"[0-9a-f]{12}", job_id)
    job = idle.get(f"/wan/v1/jobs/{job_id}").json()
    assert (job["status"], job["phase"], job["source"]) == ("ACCEPTED", "QUEUED", "api")
    assert job["options"]["model"] == "tiny-t2v" and job["options"]["steps"] == 2
    assert job["settings"]["max_frames"] == SETTINGS["max_frames"]
    assert idle.get("/wan/v1/jobs").json()["jobs"][0]["id"] == job_id  # newest first


def test_a_list_makes_one_job_per_settings_object(idle):
    ids = submit(idle, job_body([SETTINGS, {**SETTINGS, "seed": 6}]))
    assert len(set(ids)) == 2
    listed = [job["id"] for job in idle.get("/wan/v1/jobs", params={"limit": 2}).json()["jobs"]]
    assert listed == ids[::-1]


def test_cancel_retry_and_the_conflicts(idle):
    (job_id,) = submit(idle, job_body())
    video = idle.get(f"/wan/v1/jobs/{job_id}/video")
    assert video.status_code == 409 and job_id in video.json()["detail"]
    assert idle.post(f"/wan/v1/jobs/{job_id}/retry").status_code == 409  # still queued
    cancelled = idle.delete(f"/wan/v1/jobs/{job_id}")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "CANCELLED"
    assert idle.delete(f"/wan/v1/jobs/{job_id}").status_code == 409  # already finished
    assert idle.get(f"/wan/v1/jobs/{job_id}/video").status_code == 409
    retried = idle.post(f"/wan/v1/jobs/{job_id}/retry")
    assert retried.status_code == 202, retried.text
    assert (retried.json()["status"], retried.json()["phase"]) == ("ACCEPTED", "QUEUED")
    assert idle.post(f"/wan/v1/jobs/{job_id}/resume").status_code == 409  # queued again


def test_inline_init_images_are_saved_for_the_job(idle):
    (job_id,) = submit(idle, job_body(init_image=PNG_DATA_URL))
    saved = idle.get(f"/wan/v1/jobs/{job_id}").json()["options"]["init_image"]
    assert not saved.startswith("data:") and Path(saved).is_file()
    assert Path(saved).read_bytes().startswith(b"\x89PNG")
    assert job_id in Path(saved).parts


def test_a_seed_of_minus_one_is_the_one_the_plan_showed(idle):
    """POST /plan, then POST /jobs of the same settings: one seed (issue 11)."""
    random_seed = {**SETTINGS, "seed": -1}
    with_image = {**random_seed, "use_init": True, "init_image": PNG_DATA_URL}
    for settings, wan in ((random_seed, {}), (with_image, {}), (random_seed, {"seed": 7})):
        plans = [idle.post("/wan/v1/plan", json=job_body(settings, **wan)) for _ in range(2)]
        assert all(plan.status_code == 200 for plan in plans), plans[0].text
        seeds = {(plan.json()["seed"], plan.json()["hash"]) for plan in plans}
        assert len(seeds) == 1  # planned twice: the same seed and hash
        (job_id,) = submit(idle, job_body(settings, **wan))
        job = idle.get(f"/wan/v1/jobs/{job_id}").json()
        seed = plans[0].json()["seed"]
        assert job["options"]["seed"] == seed and seed == wan.get("seed", seed)
