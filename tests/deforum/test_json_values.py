"""Text that is not valid Unicode and absurd nesting are refused where settings come in."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import EXAMPLES, ROOT
from wan.core.deforum.settings import parse_settings
from wan.errors import OptionsError, SettingsError
from wan.options.render_options import parse_options


def test_a_lone_surrogate_in_a_setting_is_named():
    with pytest.raises(
        SettingsError, match=r"a\.txt: setting prompts\.0: character 2 is not valid"
    ):
        parse_settings({"prompts": {"0": "a \ud800 sea"}}, "a.txt")


def test_a_list_nested_hundreds_deep_is_refused_not_recursed():
    value: list = []
    for _ in range(400):
        value = [value]
    with pytest.raises(SettingsError, match=r"setting extra\[0\].*nested more than 32 levels"):
        parse_settings({"extra": value})
    with pytest.raises(OptionsError, match=r"render option prompt_overrides.0: character 0"):
        parse_options({"prompt_overrides": {"0": "\udfff"}})


def test_the_cli_refuses_such_a_file_before_rendering(tmp_path):
    """The CLI rendered every clip and the video, then exited 1 with a traceback (subtitles)."""
    settings = json.loads((EXAMPLES / "orbit-3d.json").read_text())
    settings["prompts"] = {"0": "a \ud800 lighthouse"}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(settings))  # ensure_ascii: the file holds the \\ud800 escape
    done = subprocess.run(
        [sys.executable, "-m", "wan", "render", str(path), "--model", "tiny-t2v"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "prompts.0: character 2 is not valid Unicode" in done.stderr
