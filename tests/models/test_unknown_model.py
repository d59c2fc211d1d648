"""An unknown model reference names what is known, video and prompt models apart."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import EXAMPLES, ROOT


def test_an_unknown_model_lists_video_models_apart_from_prompt_models():
    """The Qwen enhancer models were listed among the video models."""
    done = subprocess.run(
        [sys.executable, "-m", "wan", "plan", str(EXAMPLES / "orbit-3d.json"), "--model", "nosuch"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2 and "Traceback" not in done.stderr
    videos, _, prompts = done.stderr.partition("prompt models (for enhancement): ")
    assert "unknown model 'nosuch'; video models: Wan2.1-T2V-1.3B" in videos
    assert "tiny-t2v" in videos and "Qwen" not in videos
    assert "Qwen2.5-0.5B-Instruct" in prompts and "tiny-qwen" in prompts
