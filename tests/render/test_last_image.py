"""The user's last image (`last_image`, first-last-frame models): given like the init image by the
CLI flag, the API body and the tab, saved with the job when sent as a data URL, checked before
queueing (a file, within the limits, an FLF2V model), decoded at the render size."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import jobs_in
from tests.jobs.conftest import options, settings
from wan.cli.main import main
from wan.core.deforum.settings import parse_settings
from wan.core.plan import build_plan
from wan.errors import OptionsError
from wan.host.standalone import StandaloneHost
from wan.models.identify import profile_for
from wan.options.flags import add_option_arguments, options_from_args
from wan.options.render_options import parse_options
from wan.render.job import prepare_job
from wan.render.model_session import ModelSession


def _png(path: Path, width: int, height: int, value: int) -> Path:
    Image.fromarray(np.full((height, width, 3), value, np.uint8)).save(path)
    return path


def _job(tmp_path: Path, model: str, **extra):
    first = _png(tmp_path / "first.png", 64, 64, 10)
    given = parse_options({**options(model=model, init_image=str(first)), **extra})
    deforum = parse_settings(settings(), "test")
    plan = build_plan(deforum, profile_for(model), seed=3, overlap=1)
    return prepare_job(plan, deforum, given, StandaloneHost().store_config(), [])


def test_the_flag_names_the_option() -> None:
    import argparse

    parser = argparse.ArgumentParser()
    add_option_arguments(parser)
    given = options_from_args(parser.parse_args(["--last-image", "end.png"]))
    assert given.last_image == "end.png" and parse_options({}).last_image is None


def test_the_job_keeps_it_and_the_session_decodes_it_at_the_render_size(tmp_path, smoke_root):
    last = _png(tmp_path / "last.png", 40, 30, 200)  # another size: resized to the render's
    job = _job(tmp_path, "tiny-flf2v", last_image=str(last))
    assert job.last_image == str(last) and job.task == "flf2v"
    session = ModelSession(job, None, None, None, None, None, {})  # no model needed to decode
    array = session.last_image_array()
    assert array.shape == (job.height, job.width, 3) and array.dtype == np.uint8
    assert (array == 200).all()
    other = _png(tmp_path / "other.png", 64, 64, 90)
    changed = _job(tmp_path, "tiny-flf2v", last_image=str(other))
    assert changed.hash_parts()["last_image"] != job.hash_parts()["last_image"]
    assert ModelSession(_job(tmp_path, "tiny-flf2v"), *[None] * 5, {}).last_image_array() is None


def test_a_last_image_needs_a_first_last_frame_model_and_a_file(tmp_path, smoke_root):
    last = _png(tmp_path / "last.png", 64, 64, 200)
    with pytest.raises(OptionsError, match=r"only first-last-frame \(FLF2V\) models"):
        _job(tmp_path, "tiny-i2v", last_image=str(last))
    with pytest.raises(OptionsError, match="no such file"):
        _job(tmp_path, "tiny-flf2v", last_image=str(tmp_path / "missing.png"))


def test_the_cli_refuses_it_for_another_model_before_queueing(tmp_path, data_dir, capsys):
    last = _png(tmp_path / "last.png", 64, 64, 200)
    settings_file = tmp_path / "settings.json"
    settings_file.write_text(json.dumps(settings()))
    flags = ["--model", "tiny-t2v", "--size", "64x64", "--quiet", "--last-image", str(last)]
    code = main(["render", str(settings_file), *flags, "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith(f"error: --last-image {last}: only first-last-frame"), err
    assert jobs_in(data_dir) == []
