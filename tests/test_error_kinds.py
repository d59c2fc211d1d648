"""Three kinds of ending, told apart everywhere (issue 13): bad input exits 2 / answers 422
naming the field; a failed invariant of our own code is a bug: exit 1 / HTTP 500 with "this is
a bug" and the traceback in the log; a cancel is reported as cancelled, not as an error."""

from __future__ import annotations

import json
import logging

import pytest

import wan.planning.plan_service
import wan.render.model_session
import wan.render.runner
from tests.api.server import job_body
from tests.test_plan_conditioning import SHORT
from wan.cli.main import main
from wan.cli.output import EXIT_BAD_INPUT, EXIT_BUG, EXIT_INTERRUPTED
from wan.errors import Cancelled, InternalError, WanError


def render(tmp_path, capsys, **settings) -> tuple[int, str]:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({**SHORT, **settings}))
    argv = ["render", str(path), "--model", "tiny-t2v", "--size", "64x64", "--steps", "1"]
    code = main([*argv, "--quiet", "--out", str(tmp_path / "run")])
    return code, capsys.readouterr().err


def test_the_error_kinds_are_apart():
    assert not issubclass(InternalError, WanError) and issubclass(InternalError, RuntimeError)
    assert not issubclass(Cancelled, WanError)
    assert str(InternalError("x")).startswith("x: this is a bug")


def test_bad_input_exits_2_naming_the_setting(tmp_path, capsys):
    code, err = render(tmp_path, capsys, fps=-1)
    assert code == EXIT_BAD_INPUT and "setting 'fps' is -1" in err and "bug" not in err


def test_a_failed_invariant_exits_1_as_a_bug_with_its_traceback_logged(
    tmp_path, capsys, caplog, monkeypatch, smoke_root
):
    written = wan.render.runner.write_video

    def one_frame_short(frames, path, fps, **kwargs):
        video = written(frames, path, fps, **kwargs)
        return type(video)(**{**video.__dict__, "frames": video.frames - 1})

    monkeypatch.setattr(wan.render.runner, "write_video", one_frame_short)
    with caplog.at_level(logging.ERROR, logger="wan"):
        code, err = render(tmp_path, capsys)
    assert code == EXIT_BUG, err
    assert "internal error: InternalError:" in err and "this is a bug" in err
    [record] = [r for r in caplog.records if r.exc_info]
    assert record.exc_info[0] is InternalError  # the traceback is in the log


def test_a_cancel_is_reported_as_cancelled(tmp_path, capsys, monkeypatch, smoke_root):
    def cancelled(self, request, on_step, cancel):
        raise Cancelled("cancelled at step 1 of 1; finished clips are kept")

    monkeypatch.setattr(wan.render.model_session.ModelSession, "generate", cancelled)
    code, err = render(tmp_path, capsys)
    assert code == EXIT_INTERRUPTED, err
    assert "cancelled: finished clips are kept" in err and "error" not in err


def test_the_api_answers_500_for_a_bug_and_422_for_bad_input(idle, monkeypatch, caplog):
    bad = idle.post("/wan/v1/plan", json=job_body({**SHORT, "fps": -1}))
    assert bad.status_code == 422 and "fps" in bad.text

    def broken(*args, **kwargs):
        raise InternalError("the plan lost its clips")

    monkeypatch.setattr(wan.planning.plan_service, "build_plan", broken)
    with caplog.at_level(logging.ERROR):
        answer = idle.post("/wan/v1/plan", json=job_body(SHORT))
    assert answer.status_code == 500, answer.text
    assert "the plan lost its clips" not in answer.text  # the details stay in the log
    assert any(r.exc_info and r.exc_info[0] is InternalError for r in caplog.records)


@pytest.fixture
def idle(tmp_path):
    """An API server whose queue never runs a job (tests/api's fixture, for this module)."""
    import httpx

    from tests.api.server import serving
    from wan.api.routes import create_app
    from wan.host.standalone import StandaloneHost
    from wan.jobs import JobQueue

    host = StandaloneHost(output_dir=str(tmp_path / "outputs"))
    queue = JobQueue(host, db_path=tmp_path / "jobs.sqlite3", autostart=False)
    try:
        with serving(create_app(queue, host)) as url, httpx.Client(base_url=url) as client:
            yield client
    finally:
        queue.close()
