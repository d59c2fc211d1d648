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
