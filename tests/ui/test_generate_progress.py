"""Issue 11, points 10 and 11: pasted settings have a readable name, clips of a long shared prompt
show what differs, and a running job shows its elapsed and remaining time and its finished clips."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import wan.planning.motion_plot
from tests.ui.conftest import ORBIT, SHORT, field_list
from wan.core.prompt_diff import differing_parts
from wan.ui import generate_actions
from wan.ui.generate_actions import GenerateActions, newest_preview
from wan.ui.jobs_view import status_text
from wan.ui.plan_view import PROMPT_COLUMN
from wan.ui.sources import SOURCE_JSON

SHARED = (
    "a highly detailed matte painting of an ancient stone lighthouse on a windswept cliff "
    "above a restless grey sea, volumetric light, 35mm film, "
)


def test_pasted_json_names_the_job_and_the_plot(host, idle_queue, monkeypatch):
    """It showed "job f58b16d7619b ():" ("<pasted>" is an HTML tag to markdown) and a plot
    titled "<dict>"."""
    titles = []
    plot = wan.planning.motion_plot.plot_motion

    def spy(*args, **kwargs):
        titles.append(kwargs["title"])
        return plot(*args, **kwargs)

    monkeypatch.setattr(wan.planning.motion_plot, "plot_motion", spy)
    actions = GenerateActions(idle_queue, host)
    pasted = ORBIT.read_text()
    message, *_ = actions.plan(SOURCE_JSON, None, pasted, None, *field_list())
    assert message == ""
    assert titles == ["pasted JSON: 4 clip(s) for tiny-t2v"]
    _, job_id, status, _ = actions.render(
        SOURCE_JSON, None, pasted, None, None, None, *field_list()
    )
    assert idle_queue.get(job_id).name == "pasted JSON"
    assert status.startswith(f"job `{job_id}` (pasted JSON): **QUEUED**")
    api_job = replace(idle_queue.get(job_id), name="<pasted>")  # the API's name for a dict
    assert f"job `{job_id}` (&lt;pasted&gt;): " in status_text(api_job)


def test_clips_with_a_long_shared_prompt_start_show_what_differs(host, idle_queue):
    settings = json.loads(ORBIT.read_text())
    settings["prompts"] = {
        "0": SHARED + "at dawn, mist over the water",
        "48": SHARED + "at night, the beam sweeping through the rain",
    }
    actions = GenerateActions(idle_queue, host)
    _, summary, rows, _, state = actions.plan(
        SOURCE_JSON, None, json.dumps(settings), None, *field_list()
    )
    shown = [row[3] for row in rows]
    assert shown[0] != shown[2], shown
    assert shown[0].startswith("...") and "at dawn, mist over the water" in shown[0]
    assert "at night, the beam sweeping through the rain" in shown[2]
    assert all(len(text) < len(SHARED) for text in shown)
    assert "all start with: " in summary and SHARED.strip() in summary  # the shared text, once
    # the editable column keeps whole prompts, so an unedited table overrides nothing
    assert all(SHARED in row[PROMPT_COLUMN] for row in rows)
    assert state["shown"] == [row[PROMPT_COLUMN] for row in rows]


def test_differing_parts_of_texts_sharing_a_start_and_an_end():
    end = ", rendered in the style of an old oil painting with heavy brush strokes and cracks"
    texts = [SHARED + "a red boat" + end, SHARED + "a blue boat" + end, SHARED + "a red boat" + end]
    shown = differing_parts(texts)
    assert shown[0] == shown[2] != shown[1]
    assert shown[0] == "...35mm film, a red ..."
    assert shown[1] == "...35mm film, a blue ..."
    short = ["a cat", "a dog", "a cat"]  # nothing long shared: shown whole
    assert differing_parts(short) == short
    assert differing_parts([SHARED, SHARED + "and a boat"]) == [
        SHARED,
        "...light, 35mm film, and a boat",
    ]
    assert differing_parts([SHARED, SHARED]) == [SHARED, SHARED]


def test_the_status_line_of_a_running_job_has_its_elapsed_and_remaining_time(idle_queue):
    job = idle_queue.submit(SHORT, {"model": "tiny-t2v"}, source="ui", trusted=True, name="a.txt")
    assert "elapsed" not in status_text(job)  # queued
    running = replace(
        job, phase="GENERATING", step_phase="denoising", clip=2, clips=4, step=5, steps=10,
        phase_progress=0.25, started=1000.0,
    )  # fmt: skip
    line = status_text(running, now=1030.0)
    assert line.endswith("· 25% · 30s elapsed, about 1m 30s left (estimate)"), line
    early = replace(running, phase="PREPARING", step_phase="", phase_progress=0.0)
    assert status_text(early, now=1004.0).endswith("0% · 4s elapsed")
    done = replace(running, status="SUCCEEDED", phase="DONE", phase_progress=1.0)
    assert "elapsed" not in status_text(done, now=1030.0)


class StepQueue:
    """A queue whose job runs through the given records, one per poll."""

    def __init__(self, jobs, video: Path, on_poll=None):
        self.jobs, self.video, self.on_poll, self.polls = list(jobs), video, on_poll, 0

    def wait(self, job_id, timeout=None):
        if self.on_poll:
            self.on_poll(self.polls)
        self.polls += 1
        return self.jobs.pop(0)

    def video_path(self, job_id):
        return self.video


def test_following_a_job_shows_each_finished_clip_then_the_video(host, idle_queue, tmp_path):
    job = idle_queue.submit(SHORT, {"model": "tiny-t2v"}, source="ui", trusted=True)
    run_dir = tmp_path / "run"
    clips = run_dir / "clips"
    running = replace(
        job, phase="GENERATING", step_phase="denoising", clips=3, steps=4, started=1.0,
        run_dir=str(run_dir),
    )  # fmt: skip
    records = [replace(running, clip=n, phase_progress=n / 4) for n in (1, 2, 2, 3)]
    final = run_dir / "video.mp4"
    records.append(replace(records[-1], status="SUCCEEDED", phase="DONE", video=str(final)))

    def write_clips(poll):  # clip 0 is done before the second poll, clip 1 before the fourth
        if poll in (1, 3):
            clips.mkdir(parents=True, exist_ok=True)
            (clips / f"clip_{poll // 2:04d}.mp4").write_bytes(b"mp4")
            (clips / f"clip_{poll // 2:04d}.npz").write_bytes(b"npz")

    actions = GenerateActions(StepQueue(records, final, write_clips), host)
    updates = list(actions.follow(job.id))
    videos = [video for _, video in updates]
    assert videos[0] == {} or isinstance(videos[0], dict)  # no clip yet: left alone
    assert videos[1] == str(clips / "clip_0000.mp4")
    assert isinstance(videos[2], dict)  # the same preview is not sent again
    assert videos[3] == str(clips / "clip_0001.mp4")
    assert videos[4] == str(final)
    assert all("elapsed" in status for status, _ in updates[:-1])
    assert newest_preview(None) is None and newest_preview(str(tmp_path / "none")) is None


def test_a_real_render_previews_its_finished_clips_before_the_video(host, queue, monkeypatch):
    monkeypatch.setattr(generate_actions, "POLL_SECONDS", 0.05)  # a smoke clip takes < 1 s
    settings = {**SHORT, "max_frames": 40, "prompts": {"0": "a red lighthouse", "20": "a boat"}}
    actions = GenerateActions(queue, host)
    _, job_id, _, _ = actions.render(
        SOURCE_JSON, None, json.dumps(settings), None, None, None, *field_list(steps=1)
    )
    updates = list(actions.follow(job_id))
    status, video = updates[-1]
    assert "**SUCCEEDED**" in status and video == str(queue.video_path(job_id))
    previews = [v for _, v in updates[:-1] if isinstance(v, str)]
    assert previews and Path(previews[0]).read_bytes()[4:8] == b"ftyp", previews
    run_dir = Path(queue.get(job_id).run_dir)
    assert all(Path(p).parent == run_dir / "clips" for p in previews), previews
    assert all(Path(p).name.startswith("clip_") and Path(p).suffix == ".mp4" for p in previews)
