"""Shared test helpers: paths to the Deforum fixtures in ../shared and a settings factory."""

from __future__ import annotations

import os
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
