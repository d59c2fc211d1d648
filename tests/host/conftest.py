"""Fixtures: an AUTOMATIC1111-shaped and a Forge-shaped host, imported from real packages."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.host.stand_ins import StandInHost, forget_host_modules, import_host, write_host
from wan.webui.extension import reset_process


def _host(tmp_path, monkeypatch, kind: str) -> Iterator[StandInHost]:
    site = write_host(tmp_path, kind)
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delenv("WAN_OUTPUT_DIR", raising=False)
    host = import_host(site, kind)
    try:
        yield host
    finally:
        reset_process()
        forget_host_modules()
    assert host.modules.FAILURES == [], host.modules.FAILURES


@pytest.fixture(params=["a1111", "forge"])
def webui(request, tmp_path, monkeypatch) -> Iterator[StandInHost]:
    """Each test runs once against each host."""
    yield from _host(tmp_path, monkeypatch, request.param)


@pytest.fixture
def a1111(tmp_path, monkeypatch) -> Iterator[StandInHost]:
    yield from _host(tmp_path, monkeypatch, "a1111")


@pytest.fixture
def forge(tmp_path, monkeypatch) -> Iterator[StandInHost]:
    yield from _host(tmp_path, monkeypatch, "forge")
