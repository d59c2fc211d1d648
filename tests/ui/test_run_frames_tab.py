"""The tab and the API with a run's own frames and Video Input (issue 16 items 7, 8): a recent
run's init frame and re-render reach the job (named by the settings path, so the worker finds
the frames), other sources drop them, a Video Input file plans without a camera plot, and a
remote request cannot read frames or a video on the server."""

from __future__ import annotations

import json

import pytest

from tests.render.test_guide_source import run_folder, video_settings
from tests.ui.conftest import field_list
from wan.errors import RequestError
from wan.jobs.requests import check_request
from wan.models.store import StoreConfig
from wan.ui.generate_actions import GenerateActions
from wan.ui.options_form import build_options, form_values
from wan.ui.sources import RUNS_FOLDER, SOURCE_FILE, SOURCE_RUN, recent_runs


def test_a_recent_runs_init_frame_and_rerender_reach_the_job(host, idle_queue):
    root = host.output_root() / RUNS_FOLDER
    root.mkdir(parents=True)
    folder = run_folder(root)
    run = recent_runs(host.output_root())[0]
    actions = GenerateActions(idle_queue, host)
    fields = field_list(model="tiny-i2v", init_frame=2.0, guide_from=True)
    message, job_id, _, _ = actions.render(SOURCE_RUN, None, None, run, None, None, *fields)
    assert job_id, message
    job = idle_queue.get(job_id)
    assert job.options["init_frame"] == 2 and job.options["guide_from"] == "run"
    assert job.name == str(next(folder.glob("*_settings.txt")).resolve())
    # the same fields with an uploaded file: the run-only fields are not used
    upload = str(next(folder.glob("*_settings.txt")))
    message, job_id, _, _ = actions.render(SOURCE_FILE, upload, None, None, None, None, *fields)
    assert message.startswith("**Error:** tiny-i2v makes video from a first image"), message


def test_the_form_maps_the_run_fields():
    assert "init_frame" not in build_options({"init_frame": -1})
    assert build_options({"init_frame": 4.0, "guide_from": True}) == {
        "init_frame": 4,
        "guide_from": "run",
    }
    shown = form_values({"init_frame": 4, "guide_from": "run"})
    assert (shown["init_frame"], shown["guide_from"]) == (4, True)
    assert (form_values({})["init_frame"], form_values({})["guide_from"]) == (-1, False)


def test_a_video_input_file_plans_in_the_tab_without_a_camera_plot(host, idle_queue, tmp_path):
    file = video_settings(tmp_path)
    message, summary, rows, plot, _ = GenerateActions(idle_queue, host).plan(
        SOURCE_FILE, str(file), None, None, *field_list()
    )
    assert message == "" and "Video Input" in summary and rows and plot is None


@pytest.mark.parametrize(
    ("settings", "options", "field"),
    [
        ({"animation_mode": "Video Input"}, {}, "deforum_settings.animation_mode"),
        ({}, {"init_frame": 0}, "wan.init_frame"),
        ({}, {"guide_from": "run"}, "wan.guide_from"),
    ],
)
def test_a_remote_request_cannot_read_frames_on_the_server(settings, options, field):
    body = {"max_frames": 8, "prompts": {"0": "a"}, **settings}
    with pytest.raises(RequestError, match=f"^{field}[^:]*: a remote request cannot"):
        check_request(json.loads(json.dumps(body)), options, StoreConfig())
