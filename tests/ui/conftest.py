"""The tab's test parts: a standalone host with its folders in tmp_path and a real job queue."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES
from wan.host.standalone import StandaloneHost
from wan.jobs import JobQueue
from wan.ui.options_form import FIELDS

ORBIT = EXAMPLES / "orbit-3d.json"
# A one-clip animation a smoke model renders in seconds.
SHORT = {
    "animation_mode": "2D",
    "max_frames": 8,
    "fps": 16,
    "W": 64,
    "H": 64,
    "seed": 3,
    "translation_x": "0: (1)",
    "prompts": {"0": "a red lighthouse"},
}


def field_list(**values) -> list:
    """Component values in FIELDS order, as gradio passes them: the tab's defaults and `values`."""
    defaults = {
        "model": "tiny-t2v",
        "size": "64x64",
        "steps": 2,
        "lora_strengths": {"headers": ["LoRA", "strength"], "data": []},
        "offload": "auto",
        "fp8": "auto",
        "vae_tiling": "auto",
        "text_encoder_on_cpu": "auto",
        "attention": "auto",
        "force": False,
        "cache": "none",
        "enhance": False,
        "enhance_lang": "en",
        "enhance_style": "none",
        "enhance_model": "rules",
        "fps_mode": "deforum",
        "colour_match": True,
        "crossfade": False,
    }
    merged = {**dict.fromkeys(FIELDS), **defaults, **values}
    return [merged[name] for name in FIELDS]


@pytest.fixture
def host(tmp_path: Path) -> StandaloneHost:
    return StandaloneHost(
        output_dir=str(tmp_path / "outputs"),
        models_dir=str(tmp_path / "models"),
        lora_folders=[str(tmp_path / "loras")],
    )


@pytest.fixture
def idle_queue(host: StandaloneHost, tmp_path: Path) -> Iterator[JobQueue]:
    """A queue whose worker never starts: jobs stay queued."""
    queue = JobQueue(host, db_path=tmp_path / "jobs.sqlite3", autostart=False)
    yield queue
    queue.close()


@pytest.fixture
def queue(host: StandaloneHost, tmp_path: Path) -> Iterator[JobQueue]:
    """A queue that renders."""
    queue = JobQueue(host, db_path=tmp_path / "jobs.sqlite3")
    yield queue
    queue.close()
