"""`python -m wan render` as a user runs it: what it says, and when."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT

SHORT = {
    "animation_mode": "2D",
    "max_frames": 6,
    "fps": 16,
    "W": 80,
    "H": 48,
    "seed": 3,
    "prompts": {"0": "a red lighthouse"},
}


def test_the_size_is_said_before_the_render_not_after_it(tmp_path, smoke_root):
    """The size line (and its "not one of the model's trained sizes" warning) came last."""
    settings = tmp_path / "short.json"
    settings.write_text(json.dumps(SHORT))
    done = subprocess.run(
        [sys.executable, "-m", "wan", "render", str(settings), "--model", "tiny-t2v",
         "--size", "80x48", "--steps", "2", "--out", str(tmp_path / "run")],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("size: 80x48") == 1
    assert done.stderr.index("size: 80x48") < done.stderr.index("denoising")


def test_plan_text_shows_what_differs_in_long_shared_prompts(tmp_path):
    """Cut at 110 characters, every clip of a long shared prompt read the same."""
    shared = "a lighthouse on a cliff above a stormy sea, dramatic clouds, golden hour light, " * 2
    settings = dict(SHORT, max_frames=60, prompts={"0": shared + "seagulls", "30": shared + "rain"})
    path = tmp_path / "long.json"
    path.write_text(json.dumps(settings))
    done = subprocess.run(
        [sys.executable, "-m", "wan", "plan", str(path), "--model", "tiny-t2v"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    shown = [line for line in done.stdout.splitlines() if line.startswith("  prompt:")]
    assert shown[0].endswith("golden hour light, seagulls") and shown[-1].endswith("light, rain")


def test_render_logs_the_engine_s_lines_unless_quiet(tmp_path, smoke_root):
    """`render` set up no logging, so its INFO lines (a cancelled render kept its clips, the
    files written) were lost; they go to stderr above the progress bar, and --quiet hides them."""
    settings = tmp_path / "short.json"
    settings.write_text(json.dumps(SHORT))
    said = {}
    for quiet in (False, True):
        done = subprocess.run(
            [sys.executable, "-m", "wan", "render", str(settings), "--model", "tiny-t2v",
             "--size", "80x48", "--steps", "1", "--out", str(tmp_path / f"run-{quiet}"),
             *(["--quiet"] if quiet else [])],
            cwd=ROOT, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        said[quiet] = done.stderr
    assert f"INFO wan.render.video: wrote {tmp_path / 'run-False' / 'video.mp4'}" in said[False]
    logged = [line for line in said[False].splitlines() if "INFO" in line]
    assert all(line.startswith("INFO") for line in logged)  # never on the bar's line
    assert "INFO" not in said[True] and "denoising" not in said[True]
