"""The tab's test parts: a standalone host with its folders in tmp_path, a real job queue, and
`python -m wan ui` as a server that gradio_client and urllib talk to."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import gradio as gr
import pytest

from tests.conftest import EXAMPLES, ROOT
from tests.e2e.conftest import _stop as stop_process
from wan.host.standalone import StandaloneHost
from wan.jobs import JobQueue
from wan.ui.options_form import FIELDS

ORBIT = EXAMPLES / "orbit-3d.json"
LORAS = ("a.safetensors", "styles/b.safetensors")  # in the LoRA folder of `wan_ui`
URL = re.compile(r"WAN tab: (http://127\.0\.0\.1:\d+)/")
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


def config_of(blocks: gr.Blocks) -> dict:
    return blocks.get_config_file() if hasattr(blocks, "get_config_file") else blocks.config


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as answer:
        return json.loads(answer.read())


@contextmanager
def running_ui(folder: Path, *arguments: str) -> Iterator[str]:
    """`python -m wan ui --port 0 --output-dir folder *arguments` with this interpreter, its LoRA
    folder (WAN_LORA_DIR) folder/loras holding LORAS; yields its URL."""
    for name in LORAS:
        (folder / "loras" / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / "loras" / name).write_bytes(b"")
    log = folder / "ui.log"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "WAN_LORA_DIR": str(folder / "loras"),
    }
    command = [sys.executable, "-m", "wan", "ui", "--port", "0", "--output-dir", str(folder)]
    command += arguments
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        yield _wait_for_url(process, log)
    finally:
        stop_process(process)


@pytest.fixture
def wan_ui(tmp_path: Path) -> Iterator[str]:
    with running_ui(tmp_path) as url:
        yield url


def _wait_for_url(process: subprocess.Popen, log: Path, seconds: float = 120) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = URL.search(log.read_text(errors="replace"))
        if found:
            try:
                urllib.request.urlopen(found[1] + "/", timeout=5).close()
                return found[1]
            except OSError:
                pass
        if process.poll() is not None:
            break
        time.sleep(0.2)
    raise AssertionError(f"`python -m wan ui` did not start:\n{log.read_text(errors='replace')}")
