"""API servers for the tests: one whose queue never starts its worker (nothing renders, so every
status is deterministic) and one that renders with the smoke models."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.server import serving
from wan.api.routes import create_app
from wan.host.standalone import StandaloneHost
from wan.jobs import JobQueue


def _client(folder: Path, autostart: bool) -> Iterator[httpx.Client]:
    host = StandaloneHost(output_dir=str(folder / "outputs"))
    queue = JobQueue(host, db_path=folder / "jobs.sqlite3", autostart=autostart)
    try:
        with (
            serving(create_app(queue, host)) as url,
            httpx.Client(base_url=url, timeout=60) as client,
        ):
            client.queue = queue  # type: ignore[attr-defined]
            yield client
    finally:
        queue.close()


@pytest.fixture(scope="module")
def idle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """A client of a server whose jobs stay queued."""
    yield from _client(tmp_path_factory.mktemp("idle"), autostart=False)


@pytest.fixture(scope="module")
def worker(tmp_path_factory: pytest.TempPathFactory, smoke_root: Path) -> Iterator[httpx.Client]:
    """A client of a server that renders its jobs."""
    yield from _client(tmp_path_factory.mktemp("worker"), autostart=True)
