"""Shared test helpers: paths to the Deforum fixtures in tests/fixtures/deforum (in the repository;
tests/fixtures/deforum/README.md says where each file came from), and an isolated environment
(offline, smoke models and the Hugging Face cache in a temporary folder, never in ~/.cache)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# Set before any test module imports huggingface_hub, which reads them once at import.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_HUB_CACHE"] = tempfile.mkdtemp(prefix="wan-tests-hf-cache-")

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "deforum"
EXAMPLES = ROOT / "examples"

# The real Deforum settings files the tests read, named rather than globbed: a missing one fails
# the tests that read it (naming its path) instead of leaving them without parameters (skipped).
SETTINGS_FILES = [
    FIXTURES / name
    for name in (
        "SirSatly__deforum_brutalism_settings.txt",  # UI-saved
        "deforum__scripts_default_settings.txt",  # run-saved
        "deforum__tests_testdata_simple.input_settings.txt",  # UI-saved
        "zeuscsc__deforum_settings_legacy.txt",  # legacy
    )
]


@pytest.fixture(scope="session", autouse=True)
def isolated_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every test builds smoke models in its session's own folder."""
    root = tmp_path_factory.mktemp("env")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WAN_SMOKE_DIR", str(root / "smoke"))
        patch.setenv("WAN_CACHE_DIR", str(root / "cache"))
        patch.setenv("WAN_DATA_DIR", str(root / "data"))
        patch.delenv("WAN_MODELS_DIR", raising=False)
        yield root


@pytest.fixture(scope="session")
def smoke_root(isolated_environment: Path) -> Path:
    """The session-wide smoke model cache: models are built once per test run."""
    return isolated_environment / "smoke"


def jobs_in(data_dir: Path) -> list:
    """The jobs of the queue database in `data_dir` (what a CLI run queued there)."""
    from wan.host.standalone import StandaloneHost
    from wan.jobs import JobQueue

    queue = JobQueue(StandaloneHost(), db_path=data_dir / "jobs.sqlite3", autostart=False)
    try:
        return queue.list()
    finally:
        queue.close()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data folder (job queue, GPU lock) of this test's own."""
    folder = tmp_path / "data"
    monkeypatch.setenv("WAN_DATA_DIR", str(folder))
    return folder
