"""Several settings files in one command (issue 16 item 9): `render A B` and `render FOLDER` queue
one job each, all before the first runs, and run them in order; a Deforum run folder is still one
animation; `--out` with several files is refused; `plan` takes several too."""

from __future__ import annotations

import json

from tests.conftest import jobs_in
from tests.render.image_files import small_png
from tests.test_plan_conditioning import SHORT
from wan.cli.batch import settings_sources
from wan.cli.main import main

TINY = ("--model", "tiny-t2v", "--size", "64x64", "--steps", "1", "--quiet")


def write(folder, name, **extra):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(json.dumps({**SHORT, **extra}))
    return path


def test_a_folder_of_settings_is_a_batch_and_a_run_folder_one_animation(tmp_path):
    batch = tmp_path / "batch"
    b, a = write(batch, "b.json"), write(batch, "a.txt")
    (batch / "notes.csv").write_text("not settings")
    run = tmp_path / "run"
    write(run, "20240101000000_settings.txt")
    write(run, "20240102000000_settings.txt")  # a resumed run writes another
    (run / "20240102000000_00000.png").write_bytes(small_png())
    assert settings_sources([str(batch), str(run), str(a)]) == [str(a), str(b), str(run), str(a)]


def test_render_two_files_queues_both_then_runs_them_in_order(tmp_path, data_dir, capsys):
    first = write(tmp_path, "first.json", seed=1)
    second = write(tmp_path, "second.json", seed=2)
    assert main(["render", str(first), str(second), *TINY]) == 0
    captured = capsys.readouterr()
    folders = captured.out.split()
    assert len(folders) == 2 and folders[0] != folders[1]
    assert "render 1/2: " in captured.err and "render 2/2: " in captured.err
    jobs = sorted(jobs_in(data_dir), key=lambda job: job.created)
    assert [(job.name, job.status) for job in jobs] == [
        (str(first), "SUCCEEDED"),
        (str(second), "SUCCEEDED"),
    ]
    assert jobs[0].finished <= jobs[1].started  # in order, one after the other
    assert [job.run_dir for job in jobs] == folders


def test_out_with_several_files_is_refused(tmp_path, data_dir, capsys):
    first, second = write(tmp_path, "a.json"), write(tmp_path, "b.json")
    argv = ["render", str(first), str(second), *TINY, "--out", str(tmp_path / "run")]
    assert main(argv) == 2
    assert "--out" in capsys.readouterr().err and jobs_in(data_dir) == []


def test_one_bad_file_leaves_nothing_queued_and_is_named(tmp_path, data_dir, capsys):
    good, bad = write(tmp_path, "good.json"), write(tmp_path, "bad.json", fps=-1)
    assert main(["render", str(good), str(bad), *TINY]) == 2
    assert f"{bad}: setting 'fps' is -1" in capsys.readouterr().err
    assert jobs_in(data_dir) == []  # every file is checked before one is queued


def test_plan_takes_several_files(tmp_path, capsys):
    folder = tmp_path / "batch"
    write(folder, "a.json", max_frames=20)
    write(folder, "b.json", max_frames=40)
    assert main(["plan", str(folder), "--json"]) == 0
    plans = json.loads(capsys.readouterr().out)
    assert [plan["frames"] for plan in plans] == [20, 40]
    assert main(["plan", str(folder), "--plot", str(tmp_path / "x.png")]) == 2
    assert "--plot" in capsys.readouterr().err
