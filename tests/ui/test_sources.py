"""The settings sources: upload, pasted JSON, and the host's recent Deforum runs."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.conftest import FIXTURES
from tests.ui.conftest import ORBIT
from wan.errors import SettingsError
from wan.ui.sources import (
    PASTED,
    SOURCE_FILE,
    SOURCE_JSON,
    SOURCE_RUN,
    load_source,
    recent_runs,
    runs_root,
)


def make_run(root, batch: str, stamp: str, mtime: float):
    folder = runs_root(root) / batch
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{stamp}_settings.txt"
    shutil.copy(FIXTURES / "deforum__tests_testdata_simple.input_settings.txt", target)
    os.utime(target, (mtime, mtime))
    return target


def test_recent_runs_are_the_newest_settings_files_first(tmp_path):
    make_run(tmp_path, "Deforum_a", "20240101000000", 1_000)
    make_run(tmp_path, "Deforum_b", "20240301000000", 3_000)
    make_run(tmp_path, "Deforum_a", "20240201000000", 2_000)
    (runs_root(tmp_path) / "Deforum_a" / "frame_00001.png").write_bytes(b"")
    assert recent_runs(tmp_path) == [
        "Deforum_b/20240301000000_settings.txt",
        "Deforum_a/20240201000000_settings.txt",
        "Deforum_a/20240101000000_settings.txt",
    ]
    assert recent_runs(tmp_path, limit=1) == ["Deforum_b/20240301000000_settings.txt"]
    assert recent_runs(tmp_path / "nowhere") == []


def test_each_source_loads_settings_with_a_name(tmp_path):
    make_run(tmp_path, "Deforum_b", "20240301000000", 3_000)
    run = load_source(SOURCE_RUN, None, None, recent_runs(tmp_path)[0], tmp_path)
    assert run.name == "Deforum_b/20240301000000_settings.txt" and run.settings.max_frames > 0
    upload = load_source(SOURCE_FILE, str(ORBIT), None, None, tmp_path)
    assert upload.name == "orbit-3d.json" and upload.settings.mode == "3D"
    pasted = load_source(SOURCE_JSON, None, ORBIT.read_text(), None, tmp_path)
    assert pasted.name == PASTED and pasted.raw() == upload.raw()


@pytest.mark.parametrize(
    ("kind", "upload", "pasted", "run", "says"),
    [
        (SOURCE_FILE, None, None, None, "no settings file uploaded"),
        (SOURCE_JSON, None, "  ", None, "the JSON box is empty"),
        (SOURCE_JSON, None, '{"max_frames": ', None, "invalid JSON at line 1"),
        (SOURCE_JSON, None, "[1, 2]", None, "expected a JSON object"),
        (SOURCE_JSON, None, '{"max_frames": "many"}', None, "max_frames"),
        (SOURCE_RUN, None, None, None, "no recent run chosen"),
        (SOURCE_RUN, None, None, "../../etc/passwd", "not a settings file in"),
    ],
)
def test_a_bad_source_says_what_to_do(tmp_path, kind, upload, pasted, run, says):
    with pytest.raises(SettingsError, match=says.replace("(", r"\(")):
        load_source(kind, upload, pasted, run, tmp_path)
