"""The host adapter without a WebUI: the CLI, `python -m wan serve` and the tests."""

from __future__ import annotations

import gc
import logging
import os
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

from wan.host.base import ProgressEvent
from wan.host.locks import file_gpu_lock
from wan.models.store import StoreConfig

log = logging.getLogger(__name__)


def empty_cuda_cache() -> None:
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


@dataclass
class StandaloneHost:
    """Outputs under `./outputs` (or --wan-output-dir / WAN_OUTPUT_DIR); LoRAs in `models/Lora`."""

    output_dir: str | None = None
    models_dir: str | None = None
    lora_folders: list[str] = field(default_factory=list)
    name: str = "standalone"

    def free_host_memory(self) -> None:
        empty_cuda_cache()

    def release(self) -> None:
        empty_cuda_cache()

    def gpu_lock(self) -> AbstractContextManager:
        """The data folder's file lock: a CLI render waits for a WebUI or `serve` render."""
        return file_gpu_lock()

    def output_root(self) -> Path:
        return Path(self.output_dir or os.environ.get("WAN_OUTPUT_DIR") or "outputs")

    def lora_dirs(self) -> list[Path]:
        folders = self.lora_folders or [os.environ.get("WAN_LORA_DIR") or "models/Lora"]
        return [Path(f) for f in folders]

    def store_config(self) -> StoreConfig:
        return StoreConfig(models_dir_flag=self.models_dir)

    def report(self, event: ProgressEvent) -> None:
        log.debug("progress %s", event.to_dict())

    def interrupted(self) -> bool:
        return False

    def option_defaults(self) -> dict:
        return {}
