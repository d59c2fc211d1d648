"""What submit checks before a job is queued: settings, options, unsafe paths, base64 images."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.jobs.conftest import data_url, options, png_bytes, settings
from wan.core.deforum.settings import parse_settings
from wan.errors import ModelError, OptionsError, ScheduleError, SettingsError
from wan.host.standalone import StandaloneHost
from wan.jobs import STATUSES, JobNotFound, JobStateError, RequestError, check_request
from wan.models.store import StoreConfig
from wan.paths import job_inputs_dir
from wan.planning.plan_service import plan_for


def test_a_valid_request_is_queued_with_its_options_filled(make_queue):
    queue = make_queue()
    job = queue.submit(settings(), options(), name="lighthouse.txt")
    assert len(job.id) == 12 and int(job.id, 16) >= 0
    assert (job.status, job.phase, job.source, job.name) == (
        "ACCEPTED",
        "QUEUED",
        "api",
        "lighthouse.txt",
    )
    assert job.options["model"] == "tiny-t2v" and job.options["cache"] == "none"
    assert job.settings["max_frames"] == 17 and not job.done
    assert json.loads(json.dumps(job.to_dict()))["id"] == job.id
    assert queue.get(job.id) == job and queue.list() == [job]
    assert set(STATUSES) >= {job.status}


@pytest.mark.parametrize(
    "bad_settings, bad_options, error, words",
    [
        ({"max_frames": "many"}, {}, SettingsError, "max_frames"),
        ({"translation_x": "0: (foo)"}, {}, ScheduleError, "translation_x"),
        ({}, {"steps": 0}, OptionsError, "steps"),
        ({}, {"no_such_option": 1}, OptionsError, "no_such_option"),
        ({}, {"model": "not-a-model"}, ModelError, "not-a-model"),
    ],
)
def test_bad_settings_or_options_fail_at_submit(
    make_queue, bad_settings, bad_options, error, words
):
    queue = make_queue()
    with pytest.raises(error, match=words):
        queue.submit(settings(**bad_settings), options(**bad_options))
    assert queue.list() == []


@pytest.mark.parametrize(
    "bad_settings, bad_options, field",
    [
        ({"use_init": True, "init_image": "../x.png"}, {}, "deforum_settings.init_image"),
        ({"use_init": True, "init_image": "/etc/passwd"}, {}, "deforum_settings.init_image"),
        ({}, {"init_image": "/etc/passwd"}, "wan.init_image"),
        ({}, {"init_image": "../x.png"}, "wan.init_image"),
        ({}, {"model": "/etc"}, "wan.model"),
        ({}, {"model": "../models/Wan2.1-T2V-1.3B"}, "wan.model"),
        ({}, {"loras": [{"path": "../a.safetensors"}]}, r"wan.loras\[0\].path"),
        ({}, {"loras": [{"path": "/abs/a.safetensors"}]}, r"wan.loras\[0\].path"),
        ({}, {"enhance": {"enabled": True, "model": "/tmp/qwen"}}, "wan.enhance.model"),
        ({"add_soundtrack": "File", "soundtrack_path": "/etc/passwd"}, {}, "add_soundtrack"),
    ],
)
def test_unsafe_paths_from_a_remote_request_are_refused(
    make_queue, bad_settings, bad_options, field
):
    queue = make_queue()
    with pytest.raises(RequestError, match=field):
        queue.submit(settings(**bad_settings), options(**bad_options))
    assert queue.list() == []


def test_a_model_inside_the_models_folder_is_allowed(tmp_path):
    config = StoreConfig(models_dir_flag=str(tmp_path / "models"))
    (tmp_path / "models" / "mine").mkdir(parents=True)
    check_request({}, {"model": str(tmp_path / "models" / "mine")}, config)
    check_request({}, {"model": "Wan2.1-T2V-1.3B", "loras": [{"path": "ink.safetensors"}]}, config)
    with pytest.raises(RequestError, match=r"wan\.model"):
        check_request({}, {"model": str(tmp_path / "models" / ".." / "mine")}, config)


def test_a_remote_request_cannot_name_a_settings_file_or_a_run_folder(make_queue, tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps(settings()))
    queue = make_queue()
    with pytest.raises(RequestError, match="deforum_settings"):
        queue.submit(str(path), options())
    with pytest.raises(RequestError, match="run_dir"):
        queue.submit(settings(), options(), run_dir=str(tmp_path / "x"))
    trusted = queue.submit(str(path), options(), source="cli", trusted=True)
    assert trusted.name == str(path) and trusted.settings["max_frames"] == 17


def test_data_url_images_are_saved_for_the_job(make_queue):
    queue = make_queue()
    image = data_url(png_bytes())
    job = queue.submit(settings(use_init=True, init_image=image), options(init_image=image))
    saved_settings = Path(job.settings["init_image"])
    saved_option = Path(job.options["init_image"])
    assert saved_settings.parent == saved_option.parent == job_inputs_dir(job.id)
    assert saved_settings.read_bytes() == saved_option.read_bytes() == png_bytes()
    assert saved_option.suffix == ".png"


@pytest.mark.parametrize(
    "value, words",
    [
        (data_url(b"%PDF-1.4 not an image"), "not a readable image"),
        (data_url(b"GIF89a", "gif"), "image/gif is not accepted"),
        ("data:image/png;base64,@@@", "damaged"),
        ("data:text/plain;base64,aGVsbG8=", "not an image data URL"),
    ],
)
def test_a_data_url_that_is_not_an_image_is_refused(make_queue, value, words):
    queue = make_queue()
    with pytest.raises(RequestError, match=f"wan.init_image: .*{words}"):
        queue.submit(settings(), options(init_image=value))
    assert queue.list() == []


def test_an_init_image_without_use_init_is_dropped(make_queue):
    queue = make_queue()
    job = queue.submit(settings(use_init=False, init_image="/etc/passwd"), options())
    assert "init_image" not in job.settings


def test_host_defaults_fill_what_the_request_left_out(make_queue):
    class WebUIish(StandaloneHost):
        def option_defaults(self) -> dict:
            return {"model": "tiny-ti2v", "steps": 3, "memory": {"offload": "model", "fp8": True}}

    queue = make_queue(queue_host=WebUIish())
    job = queue.submit(settings(), {"model": "tiny-t2v", "steps": None, "memory": {"fp8": False}})
    assert job.options["model"] == "tiny-t2v" and job.options["steps"] == 3
    assert job.options["memory"]["offload"] == "model" and job.options["memory"]["fp8"] is False


def test_a_seed_of_minus_one_is_resolved_once_by_the_plans_rule_and_kept(make_queue):
    queue = make_queue()
    job = queue.submit(settings(seed=-1), options())
    seed = job.options["seed"]
    assert seed == plan_for(parse_settings(settings(seed=-1)), options()).seed
    assert queue.submit(settings(seed=-1), options()).options["seed"] == seed  # same settings
    assert queue.submit(settings(seed=-1), options(seed=-1)).options["seed"] == seed
    other = settings(seed=-1, prompts={"0": "a red fox in the snow"})
    assert queue.submit(other, options()).options["seed"] != seed
    assert queue.submit(settings(seed=-1), options(seed=8)).options["seed"] == 8  # wins
    queue.cancel(job.id)
    assert queue.retry(job.id).options["seed"] == seed  # a retry renders the same video
    fixed = queue.submit(settings(seed=5), options())
    assert fixed.options["seed"] is None  # the settings' own seed, as the CLI always did


def test_unknown_ids_and_wrong_states_are_clear_errors(make_queue):
    queue = make_queue()
    with pytest.raises(JobNotFound, match="no such job"):
        queue.get("0123456789ab")
    job = queue.submit(settings(), options())
    with pytest.raises(JobStateError, match="SUCCEEDED"):
        queue.video_path(job.id)
    with pytest.raises(JobStateError, match="only a FAILED, CANCELLED or INTERRUPTED"):
        queue.retry(job.id)
    cancelled = queue.cancel(job.id)
    assert (cancelled.status, cancelled.phase) == ("CANCELLED", "DONE")
    with pytest.raises(JobStateError, match="CANCELLED"):
        queue.cancel(job.id)
    with pytest.raises(JobStateError, match="never started"):
        queue.resume(job.id)


def test_fifo_the_oldest_waiting_job_is_claimed_first(make_queue):
    queue = make_queue()
    first, second, third = (queue.submit(settings(), options()) for _ in range(3))
    queue.cancel(second.id)
    claimed = [queue.store.claim_next(1, 0.0), queue.store.claim_next(1, 0.0)]
    assert claimed == [first.id, third.id] and queue.store.claim_next(1, 0.0) is None
    queue.retry(second.id)  # back at the end of the queue
    assert queue.get(second.id).attempts == 2 and queue.store.claim_next(1, 0.0) == second.id


def test_a_trusted_relative_image_path_is_kept_as_an_absolute_one(
    make_queue, tmp_path, monkeypatch
):
    """A retry may run in another process with another working folder (the WebUI's)."""
    (tmp_path / "first.png").write_bytes(png_bytes())
    monkeypatch.chdir(tmp_path)
    queue = make_queue()
    job = queue.submit(
        settings(use_init=True, init_image="first.png"),
        options(init_image="first.png"),
        source="cli",
        trusted=True,
    )
    assert job.settings["init_image"] == job.options["init_image"] == str(tmp_path / "first.png")
