"""Shared test helpers: paths to the Deforum fixtures in ../shared and a settings factory."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT.parent / "shared" / "fixtures" / "deforum"
EXAMPLES = ROOT / "examples"


SETTINGS_FILES = sorted(FIXTURES.glob("*.txt"))


@pytest.fixture
def fixtures_dir() -> Path:
    if not FIXTURES.is_dir():
        pytest.fail(f"Deforum fixtures not found at {FIXTURES} (shared/ must sit beside the repo)")
    return FIXTURES


@pytest.fixture(scope="session")
def smoke_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A session-wide smoke model cache: models are built once per test run, never in ~/.cache."""
    root = tmp_path_factory.mktemp("smoke")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WAN_SMOKE_DIR", str(root))
        yield root
