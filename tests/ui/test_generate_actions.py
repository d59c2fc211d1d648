"""The Plan and Render buttons' functions on real settings, a real queue and a smoke model."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from tests.ui.conftest import ORBIT, SHORT, field_list
from wan.render.video import read_video_info
from wan.ui.generate_actions import GenerateActions, plan_signature
from wan.ui.plan_view import HEADERS, PROMPT_COLUMN
from wan.ui.sources import SOURCE_FILE, SOURCE_JSON

PNG_MAGIC = b"\x89PNG"


def check_plan(result):
    message, summary, rows, plot, state = result
    assert message == ""
    assert summary.startswith("**4 clip(s)** for 96 Deforum frames at 24 fps (3D) -> tiny-t2v")
    assert [row[0] for row in rows] == [0, 1, 2, 3] and all(len(r) == len(HEADERS) for r in rows)
    assert rows[0][1] == "0-24" and "lighthouse" in rows[0][3] and rows[0][5].startswith("the")
    assert Path(plot).read_bytes()[:4] == PNG_MAGIC
    assert state["shown"] == [row[PROMPT_COLUMN] for row in rows]
    return rows, state


def test_plan_from_an_upload_and_from_pasted_json(host, idle_queue):
    actions = GenerateActions(idle_queue, host)
    uploaded = check_plan(actions.plan(SOURCE_FILE, str(ORBIT), None, None, *field_list()))
    pasted = check_plan(actions.plan(SOURCE_JSON, None, ORBIT.read_text(), None, *field_list()))
    assert uploaded == pasted
    assert idle_queue.list() == []  # planning queues nothing


def test_plan_with_enhancement_shows_the_enhanced_prompts(host, idle_queue):
    actions = GenerateActions(idle_queue, host)
    rows, _ = check_plan(actions.plan(SOURCE_FILE, str(ORBIT), None, None, *field_list(enhance=1)))
    assert all(row[PROMPT_COLUMN] != row[3] for row in rows)


@pytest.mark.parametrize(
    ("source", "fields", "says"),
    [
        ((SOURCE_JSON, None, "{", None), {}, "**Error:** pasted settings: invalid JSON"),
        ((SOURCE_FILE, None, None, None), {}, "**Error:** no settings file uploaded"),
        ((SOURCE_FILE, str(ORBIT), None, None), {"steps": -3}, "**Error:** Steps -3"),
        ((SOURCE_FILE, str(ORBIT), None, None), {"model": "nope"}, "**Error:** unknown model"),
    ],
)
def test_plan_errors_are_messages_not_tracebacks(host, idle_queue, source, fields, says):
    message, _, rows, plot, state = GenerateActions(idle_queue, host).plan(
        *source, *field_list(**fields)
    )
    assert message.startswith(says) and rows == [] and plot is None and state is None


def test_render_queues_the_job_with_the_edited_prompts(host, idle_queue):
    actions = GenerateActions(idle_queue, host)
    _, _, rows, _, state = actions.plan(SOURCE_FILE, str(ORBIT), None, None, *field_list())
    rows[2][PROMPT_COLUMN] = "  a whale jumps out of the sea  "
    message, job_id, status, video = actions.render(
        SOURCE_FILE, str(ORBIT), None, None, rows, state, *field_list()
    )
    assert message == "" and video is None and f"job `{job_id}`" in status
    job = idle_queue.get(job_id)
    assert (job.source, job.name, job.status, job.phase) == (
        "ui",
        "orbit-3d.json",
        "ACCEPTED",
        "QUEUED",
    )
    assert job.options["prompt_overrides"] == {"2": "a whale jumps out of the sea"}
    assert job.options["model"] == "tiny-t2v" and job.options["steps"] == 2
    assert job.settings == json.loads(ORBIT.read_text())


def test_edits_of_a_table_planned_for_other_settings_are_not_used(host, idle_queue):
    actions = GenerateActions(idle_queue, host)
    _, _, rows, _, state = actions.plan(SOURCE_FILE, str(ORBIT), None, None, *field_list())
    rows[0][PROMPT_COLUMN] = "something else"
    message, job_id, _, _ = actions.render(
        SOURCE_JSON, None, json.dumps(SHORT), None, rows, state, *field_list()
    )
    assert "were not used" in message
    assert idle_queue.get(job_id).options["prompt_overrides"] == {}
    assert state["signature"] != plan_signature(SHORT, "tiny-t2v")


def test_an_image_model_without_an_init_image_is_refused_before_queueing(host, idle_queue):
    message, job_id, _, _ = GenerateActions(idle_queue, host).render(
        SOURCE_JSON, None, json.dumps(SHORT), None, None, None, *field_list(model="tiny-i2v")
    )
    assert message.startswith("**Error:** tiny-i2v makes video from a first image") and not job_id
    assert idle_queue.list() == []


def test_the_init_image_travels_with_the_job(host, idle_queue, tmp_path):
    from PIL import Image

    image = tmp_path / "first.png"
    Image.fromarray(np.full((64, 64, 3), 200, np.uint8)).save(image)
    _, job_id, _, _ = GenerateActions(idle_queue, host).render(
        SOURCE_JSON, None, json.dumps(SHORT), None, None, None,
        *field_list(model="tiny-i2v", init_image=str(image)),
    )  # fmt: skip
    saved = idle_queue.get(job_id).options["init_image"]
    assert saved != str(image) and Path(saved).read_bytes() == image.read_bytes()


def test_the_last_image_travels_with_the_job_and_shows_for_flf2v(host, idle_queue, tmp_path):
    from PIL import Image

    first, last = tmp_path / "first.png", tmp_path / "last.png"
    Image.fromarray(np.full((64, 64, 3), 200, np.uint8)).save(first)
    Image.fromarray(np.full((64, 64, 3), 20, np.uint8)).save(last)
    actions = GenerateActions(idle_queue, host)
    _, job_id, _, _ = actions.render(
        SOURCE_JSON, None, json.dumps(SHORT), None, None, None,
        *field_list(model="tiny-flf2v", init_image=str(first), last_image=str(last)),
    )  # fmt: skip
    saved = idle_queue.get(job_id).options["last_image"]
    assert saved != str(last) and Path(saved).read_bytes() == last.read_bytes()
    assert actions.last_image_shown("tiny-flf2v")["visible"] is True
    assert actions.last_image_shown("tiny-i2v · image to video")["visible"] is False


def test_render_is_followed_until_the_video_is_there(host, queue):
    actions = GenerateActions(queue, host)
    message, job_id, _, _ = actions.render(
        SOURCE_JSON, None, json.dumps(SHORT), None, None, None, *field_list(steps=1)
    )
    assert message == ""
    updates = list(actions.follow(job_id))
    status, video = updates[-1]
    assert "**SUCCEEDED**" in status and "100%" in status, status
    assert video == str(queue.video_path(job_id)) and Path(video).read_bytes()[4:8] == b"ftyp"
    # until then the video is left alone or shows the newest finished clip's preview
    clips = Path(queue.get(job_id).run_dir) / "clips"
    assert all(isinstance(v, dict) or Path(v).parent == clips for _, v in updates[:-1])


def test_following_no_job_or_an_unknown_job(host, idle_queue):
    actions = GenerateActions(idle_queue, host)
    assert len(list(actions.follow(None))) == 1
    ((status, _),) = list(actions.follow("0123456789ab"))
    assert status.startswith("**Error:** job 0123456789ab: no such job")


def test_render_queues_the_seed_plan_showed(host, idle_queue):
    """Seed -1 in the settings: Plan and Render resolve it to one seed (issue 11)."""
    actions = GenerateActions(idle_queue, host)
    pasted = json.dumps({**SHORT, "seed": -1})
    shown = [actions.plan(SOURCE_JSON, None, pasted, None, *field_list()) for _ in range(2)]
    assert shown[0][1] == shown[1][1]  # the summary: seed and plan hash
    seed = int(re.search(r"seed (\d+), plan", shown[0][1])[1])
    _, _, rows, _, state = shown[0]
    for given, expected in ((None, seed), ("-1", seed), ("7", 7)):
        fields = field_list(seed=given)
        _, job_id, _, _ = actions.render(SOURCE_JSON, None, pasted, None, rows, state, *fields)
        assert idle_queue.get(job_id).options["seed"] == expected


def test_preview_camera_writes_the_guide_video_without_a_video_model(host, idle_queue):
    actions = GenerateActions(idle_queue, host)
    message, video = actions.guide(SOURCE_FILE, str(ORBIT), None, None, *field_list())
    assert "model frames" in message and "clip(s)" in message, message
    info = read_video_info(video)
    assert info.frames > 10, info
    assert idle_queue.list() == []  # the preview queues nothing
    message, video = actions.guide(SOURCE_JSON, None, "{", None, *field_list())
    assert message.startswith("**Error:** pasted settings") and video is None


def test_the_tab_downloads_what_the_settings_name_by_url(host, idle_queue, monkeypatch):
    """A Parseq manifest URL is read with the settings (Plan), an init image URL is saved with
    the job (Render); a missing local init image is an error at Plan."""
    from tests.deforum.test_parseq import FRAMES, manifest
    from tests.render.image_files import small_png
    from tests.url_server import serve

    for name in ("http_proxy", "HTTP_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    actions = GenerateActions(idle_queue, host)
    routes = {"/m": json.dumps(manifest(FRAMES)).encode(), "/i.png": small_png()}
    with serve(routes) as site:
        pasted = json.dumps(
            {**SHORT, "parseq_manifest": site.url("/m"), "use_init": True,
             "init_image": site.url("/i.png")}
        )  # fmt: skip
        message, summary, *_ = actions.plan(SOURCE_JSON, None, pasted, None, *field_list())
        assert message == "" and summary
        message, job_id, *_ = actions.render(SOURCE_JSON, None, pasted, None, None, None,
                                             *field_list())  # fmt: skip
        described, video = actions.guide(SOURCE_JSON, None, pasted, None, *field_list())
        assert not described.startswith("**Error") and Path(video).is_file()  # from the URL
    assert message == "", message
    job = idle_queue.get(job_id)
    assert Path(job.settings["init_image"]).read_bytes() == small_png()
    missing = json.dumps({**SHORT, "use_init": True, "init_image": "/no/such/start.png"})
    message, *_ = actions.plan(SOURCE_JSON, None, missing, None, *field_list())
    assert "/no/such/start.png" in message and "no such file" in message


def test_render_all_queues_one_job_per_file_in_order(host, idle_queue, tmp_path):
    """The batch box: several settings files, one job each; a bad file queues none."""
    actions = GenerateActions(idle_queue, host)
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    first.write_text(json.dumps(SHORT))
    second.write_text(json.dumps({**SHORT, "seed": 9}))
    message, job_id, status, _ = actions.render_batch([str(first), str(second)], *field_list())
    assert message.startswith("Queued 2 job(s)") and f"job `{job_id}`" in status
    jobs = sorted(idle_queue.list(), key=lambda job: job.created)
    assert [job.name for job in jobs] == ["first.json", "second.json"] and jobs[0].id == job_id
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**SHORT, "fps": -1}))
    message, job_id, *_ = actions.render_batch([str(first), str(bad)], *field_list())
    assert job_id is None and "bad.json" in message and "'fps' is -1" in message
    assert len(idle_queue.list()) == 2
    message, *_ = actions.render_batch(None, *field_list())
    assert message.startswith("**Error:** no settings files")
