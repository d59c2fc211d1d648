"""The Host protocol and the progress event the renderer reports through it."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from wan.models.store import StoreConfig

# The renderer's phases, in order (a job's step_phase; wan.jobs.status maps them to job phases).
LOADING = "loading"
DEPTH = "depth"  # the depth model reads the clip's source frame (3D camera guide)
GUIDE = "camera guide"  # the source carried along the clip's camera path
GUIDE_ENCODING = "encoding the guide"  # the VAE encodes the guide (dual clock), then the prompt
TEXT_ENCODING = "text encoding"
DENOISING = "denoising"
DECODING = "decoding"
WRITING = "writing"
PHASES = (LOADING, DEPTH, GUIDE, GUIDE_ENCODING, TEXT_ENCODING, DENOISING, DECODING, WRITING)


@dataclass(frozen=True)
class ProgressEvent:
    """Where a render is: phase, clip i of n (1-based), step j of m, seconds so far and left."""

    phase: str
    clip: int
    clips: int
    step: int = 0
    steps: int = 0
    elapsed: float = 0.0
    remaining: float | None = None
    text: str = ""

    def to_dict(self) -> dict:
        return {
            "phase": self.phase,
            "clip": self.clip,
            "clips": self.clips,
            "step": self.step,
            "steps": self.steps,
            "elapsed": round(self.elapsed, 2),
            "remaining": None if self.remaining is None else round(self.remaining, 1),
            "text": self.text,
        }


class Host(Protocol):
    name: str

    def free_host_memory(self) -> None:
        """Before Wan loads: unload the host's own model and empty the CUDA cache."""

    def release(self) -> None:
        """After the render: free what Wan used; the host's model comes back when needed."""

    def gpu_lock(self) -> AbstractContextManager:
        """Held while generating, so no other GPU job runs at the same time."""

    def output_root(self) -> Path:
        """Where `wan-videos/` goes."""

    def lora_dirs(self) -> list[Path]:
        """Folders searched for `<lora:name:w>` prompt tags."""

    def store_config(self) -> StoreConfig:
        """Where models are found."""

    def report(self, event: ProgressEvent) -> None:
        """Show progress in the host's own UI."""

    def interrupted(self) -> bool:
        """The host's Interrupt/Skip was pressed."""

    def option_defaults(self) -> dict:
        """RenderOptions the host's settings supply when a request leaves them out (its
        default model, memory policy, enhancer model), as an options dict; {} for none."""
