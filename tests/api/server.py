"""A real uvicorn server on 127.0.0.1 in a background thread, and the API's test payloads."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn

from wan.cli.serve import bind_socket

SETTINGS: dict[str, Any] = {
    "animation_mode": "2D",
    "max_frames": 10,
    "fps": 16,
    "W": 64,
    "H": 64,
    "seed": 5,
    "translation_x": "0: (2)",
    "zoom": "0: (1.02)",
    "prompts": {"0": "a red lighthouse on a cliff"},
}
WAN: dict[str, Any] = {"model": "tiny-t2v", "size": "64x64", "steps": 2}
# A 1x1 PNG as a data URL, as a browser or script sends an init image.
PNG_DATA_URL = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AA"
    "AAMBAQDJ/pLvAAAAAElFTkSuQmCC"
)
TERMINAL = ("SUCCEEDED", "FAILED", "CANCELLED", "INTERRUPTED")


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve `app` on a free port of 127.0.0.1; yields the base URL."""
    listener = bind_socket("127.0.0.1", 0)
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def job_body(settings: Any = None, **wan: Any) -> dict[str, Any]:
    return {"deforum_settings": SETTINGS if settings is None else settings, "wan": {**WAN, **wan}}


def wait_for(client: httpx.Client, job_id: str, done=None, timeout: float = 60) -> dict:
    """Poll GET /jobs/{id} until `done(job)` (default: a terminal status)."""
    done = done or (lambda job: job["status"] in TERMINAL)
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/wan/v1/jobs/{job_id}").json()
        if done(job):
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} still {job['status']}/{job['phase']}: {job}")
        time.sleep(0.05)
