"""Queues on a temporary database with a standalone host writing under the test's folder."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from wan.host.standalone import StandaloneHost
from wan.jobs import JobQueue

FPS = 16  # tiny-t2v's own frame rate: Deforum frames are model frames
FRAMES_PER_CLIP = 16  # 17-frame clips sharing one frame


def settings(clips: int = 1, **extra) -> dict:
    """A short Deforum animation that plans into `clips` tiny-t2v clips."""
    return {
        "animation_mode": "2D",
        "max_frames": clips * FRAMES_PER_CLIP + 1,
        "fps": FPS,
        "W": 64,
        "H": 64,
        "seed": 7,
        "translation_x": "0: (1)",
        "prompts": {"0": "a lighthouse", "16": "a stormy sea"},
        **extra,
    }


def options(**extra) -> dict:
    return {"model": "tiny-t2v", "size": "64x64", "steps": 2, **extra}


def png_bytes() -> bytes:
    from PIL import Image

    gradient = np.linspace(0, 255, 64 * 64 * 3).reshape(64, 64, 3).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(gradient).save(buffer, format="PNG")
    return buffer.getvalue()


def data_url(data: bytes, kind: str = "png") -> str:
    return f"data:image/{kind};base64,{base64.b64encode(data).decode()}"


@pytest.fixture
def host(tmp_path: Path) -> StandaloneHost:
    return StandaloneHost(output_dir=str(tmp_path / "outputs"), lora_folders=[str(tmp_path)])


@pytest.fixture
def make_queue(tmp_path: Path, host: StandaloneHost) -> Iterator:
    """Queues on the test's own database; closed at the end of the test."""
    opened: list[JobQueue] = []

    def make(autostart: bool = False, queue_host=None) -> JobQueue:
        queue = JobQueue(queue_host or host, db_path=tmp_path / "jobs.sqlite3", autostart=autostart)
        opened.append(queue)
        return queue

    yield make
    for queue in opened:
        queue.close()
