"""`python -m wan render` with an image bomb as its first image: exit 2 with one line naming the
flag (or the settings' key) and the limit, and no job queued (issue 12 item 4)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import jobs_in
from tests.jobs.conftest import settings
from tests.render.image_files import black_png, lying_png, small_png
from wan.cli.main import main

TINY = ("--model", "tiny-t2v", "--size", "64x64", "--steps", "2", "--quiet")


def render(tmp_path: Path, capsys, image: bytes, use_settings: bool) -> tuple[int, str, Path]:
    path = tmp_path / "first.png"
    path.write_bytes(image)
    extra = {"use_init": True, "init_image": str(path)} if use_settings else {}
    settings_file = tmp_path / "settings.json"
    settings_file.write_text(json.dumps(settings(**extra)))
    flags = () if use_settings else ("--init-image", str(path))
    code = main(["render", str(settings_file), *TINY, *flags, "--out", str(tmp_path / "run")])
    return code, capsys.readouterr().err, path


@pytest.mark.parametrize("use_settings", [False, True], ids=["flag", "settings"])
@pytest.mark.parametrize(
    ("image", "words"),
    [(lying_png(), "(100000x100000) is 10000000000"), (black_png(20_000, 20_000), "(20000x20000)")],
    ids=["header-claims-100000", "real-20000"],
)
def test_an_image_bomb_exits_2_and_queues_nothing(
    tmp_path, data_dir, capsys, image, words, use_settings
):
    code, err, path = render(tmp_path, capsys, image, use_settings)
    where = (
        f"init image {path} (the settings' init_image)" if use_settings else f"--init-image {path}"
    )
    assert code == 2 and err.count("\n") == 1, err
    assert err.startswith(f"error: {where} {words}"), err
    assert "past the limit" in err and "WAN_LIMIT_MAX_IMAGE_PIXELS" in err
    assert jobs_in(data_dir) == [] and not (tmp_path / "run").exists()


def test_too_many_bytes_exit_2(tmp_path, data_dir, capsys, monkeypatch):
    monkeypatch.setenv("WAN_LIMIT_MAX_IMAGE_BYTES", "100")
    image = small_png()
    code, err, path = render(tmp_path, capsys, image, use_settings=False)
    assert code == 2 and err.count("\n") == 1, err
    assert err.startswith(f"error: --init-image {path} is {len(image)}, past the limit of 100")
    assert jobs_in(data_dir) == []


def test_a_file_that_is_not_an_image_exits_2(tmp_path, data_dir, capsys):
    code, err, path = render(tmp_path, capsys, b"not an image at all", use_settings=False)
    assert code == 2 and err.count("\n") == 1, err
    assert err.startswith(f"error: --init-image {path}: not a readable image"), err
    assert jobs_in(data_dir) == []
