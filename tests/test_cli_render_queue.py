"""`python -m wan render` and the shared job queue: a typo queues nothing, and a killed render
continued with `render --resume` finishes its own job instead of leaving it INTERRUPTED."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, jobs_in
from tests.jobs.conftest import settings
from wan.cli.main import main

TINY = ("--model", "tiny-t2v", "--size", "64x64", "--steps", "2")


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        (("--size", "72x40"), "--size 72x40: tiny-t2v needs width and height in multiples of 16"),
        (("--model", "no-such-model"), "unknown model 'no-such-model'"),
        (("--init-image", "missing.png"), "missing.png: no such file"),
        (("--lora", "missing.safetensors"), "--lora missing.safetensors: no such file"),
    ],
)
def test_a_mistyped_render_queues_no_job(tmp_path, data_dir, capsys, smoke_root, extra, reason):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps(settings()))
    done = tmp_path / "done"
    assert main(["render", str(path), *TINY, "--quiet", "--out", str(done)]) == 0
    before = jobs_in(data_dir)
    capsys.readouterr()

    code = main(["render", str(path), *TINY, *extra, "--out", str(tmp_path / "typo")])

    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: ") and reason in err, err
    assert [job.id for job in jobs_in(data_dir)] == [job.id for job in before]
    assert not (tmp_path / "typo").exists()


def test_an_image_model_without_a_first_image_queues_no_job(tmp_path, data_dir, capsys):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps(settings()))
    code = main(["render", str(path), "--model", "tiny-i2v", "--size", "64x64"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "--init-image" in err, err
    assert jobs_in(data_dir) == []


@pytest.mark.parametrize("out", [True, False], ids=["out", "default-folder"])
def test_resume_after_kill_finishes_the_same_job(tmp_path, smoke_root, out):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps(settings(clips=4)))
    outputs = tmp_path / "outputs"
    data_dir = tmp_path / "data"
    where = ("--out", str(tmp_path / "run")) if out else ()
    command = [
        sys.executable, "-m", "wan", "render", str(path), "--model", "tiny-t2v",
        "--size", "64x64", "--steps", "4", "--quiet", "--output-dir", str(outputs), *where,
    ]  # fmt: skip
    env = {**os.environ, "WAN_SMOKE_DIR": str(smoke_root), "WAN_DATA_DIR": str(data_dir)}
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob("**/clips/clip_0001.json")):
        assert process.poll() is None, "the render ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    (killed,) = jobs_in(data_dir)
    assert killed.status == "INTERRUPTED" and killed.run_dir is not None
    run_dir = Path(killed.run_dir)
    assert (run_dir / "clips" / "clip_0001.json").is_file()

    done = subprocess.run(
        [*command, "--resume", "--json"], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["job"] == killed.id and result["run_dir"] == str(run_dir)
    assert result["clips_resumed"] >= 2 and (run_dir / "video.mp4").is_file()
    (job,) = jobs_in(data_dir)
    assert (job.id, job.status, job.attempts) == (killed.id, "SUCCEEDED", 2)
