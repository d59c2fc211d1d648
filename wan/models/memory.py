"""What a memory estimate takes and gives (plain data): units, options, the estimate itself.

Units are bytes; `GB` is 1e9 bytes (`GiB` 2^30). `MemorySetup` are the memory-relevant choices
of a plan, `MemoryModel` what the estimate needs of a model (a catalog entry or a `ModelSpec`),
and `MemoryEstimate` the result: per-phase VRAM, RAM parts, and their one-line explanations.
`wan.models.memory_estimate` computes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from wan.errors import MemoryPlanError
from wan.models.signature import ModelSignature
from wan.options.choices import OFFLOADS

GB = 1_000_000_000
GiB = 1 << 30

DTYPE_BYTES = {"float32": 4, "bfloat16": 2, "float16": 2, "float8_e4m3fn": 1, "float8_e5m2": 1}
CONDITIONING = ("text", "image", "video")


class MemoryModel(Protocol):
    """What the estimate needs of a model: a `CatalogEntry` or a `ModelSpec`."""

    @property
    def id(self) -> str: ...

    @property
    def task(self) -> str | None: ...

    @property
    def signature(self) -> ModelSignature | None: ...

    @property
    def params(self) -> Any: ...  # ParamCounts: transformer, text_encoder, vae, image_encoder


@dataclass(frozen=True)
class ParamSpec:
    transformer: int
    text_encoder: int
    vae: int
    image_encoder: int = 0


@dataclass(frozen=True)
class ModelSpec:
    """A model that is not in the catalog (e.g. a detected fine-tune): signature + counts."""

    id: str
    task: str
    signature: ModelSignature
    params: ParamSpec


@dataclass(frozen=True)
class MemorySetup:
    """The memory-relevant setup an estimate is made for (the optimisation plan's choices;
    the user's overrides are `wan.options.render_options.MemoryOptions`)."""

    offload: str = "none"  # none | model | group_block | group_leaf
    fp8: bool = False  # transformer weights stored as float8_e4m3fn, computed in bf16
    vae_tiling: bool = False
    text_encoder_on_cpu: bool = False
    accelerator: bool = True  # False: the whole pipeline runs on the CPU (no VRAM)
    transformer_dtype: str = "bfloat16"
    text_encoder_dtype: str = "bfloat16"
    vae_dtype: str = "float32"  # as diffusers' Wan examples load it
    image_encoder_dtype: str = "float32"
    conditioning: str | None = None  # text | image | video; None: the task's worst case
    depth_model_params: int = 0  # a depth model kept on the GPU beside Wan (3D camera guide)
    lora_bytes: int = 0  # LoRA weights held beside each expert (peft keeps them unmerged)
    step_cache: str = "none"  # none | first_block | mag: residuals kept between steps

    def __post_init__(self) -> None:
        if self.offload not in OFFLOADS:
            raise MemoryPlanError(f"offload {self.offload!r}: use one of {', '.join(OFFLOADS)}")
        if self.conditioning is not None and self.conditioning not in CONDITIONING:
            raise MemoryPlanError(
                f"conditioning {self.conditioning!r}: use {', '.join(CONDITIONING)}"
            )
        for name in ("transformer", "text_encoder", "vae", "image_encoder"):
            dtype = getattr(self, f"{name}_dtype")
            if dtype not in DTYPE_BYTES:
                raise MemoryPlanError(
                    f"{name} dtype {dtype!r}: use one of {', '.join(DTYPE_BYTES)}"
                )


@dataclass(frozen=True)
class Part:
    """One line of a breakdown: a labelled number of bytes and why it is there."""

    label: str
    bytes: int
    note: str = ""


@dataclass(frozen=True)
class PhaseMemory:
    name: str  # text | image | encode | denoise | decode
    weights: tuple[Part, ...]  # on the GPU during this phase
    working: Part
    overhead: int

    @property
    def total(self) -> int:
        return sum(p.bytes for p in self.weights) + self.working.bytes + self.overhead

    def explain(self) -> str:
        parts = [*self.weights, self.working]
        if self.overhead:
            parts.append(Part("runtime", self.overhead))
        inner = " + ".join(f"{p.label} {gb(p.bytes)}" for p in parts if p.bytes)
        return f"{self.name}: {gb(self.total)} = {inner or '0'}"


@dataclass(frozen=True)
class MemoryEstimate:
    model_id: str
    width: int
    height: int
    frames: int
    tokens: int  # transformer sequence length
    options: MemorySetup
    phases: tuple[PhaseMemory, ...]
    weights: tuple[Part, ...]  # every component's full size in its storage dtype
    ram: tuple[Part, ...]
    notes: tuple[str, ...] = field(default=())

    @property
    def peak_phase(self) -> PhaseMemory:
        return max(self.phases, key=lambda p: p.total)

    @property
    def peak_vram(self) -> int:
        return self.peak_phase.total if self.options.accelerator else 0

    @property
    def peak_ram(self) -> int:
        return sum(p.bytes for p in self.ram)

    def fits(self, free_vram: int, free_ram: int, headroom: float = 1.0) -> bool:
        return self.peak_vram <= free_vram * headroom and self.peak_ram <= free_ram * headroom

    def explain(self) -> tuple[str, ...]:
        """One line per fact: the peaks, each phase, each weight, each RAM part."""
        where = f"{self.width}x{self.height}, {self.frames} frames, {self.tokens} tokens"
        lines = [f"{self.model_id} at {where}"]
        if self.options.accelerator:
            peak = self.peak_phase
            lines.append(f"peak VRAM {gb(self.peak_vram)} during {peak.name}")
            lines += [f"  {p.explain()}" for p in self.phases]
            lines += [f"    {p.name} working memory: {p.working.note}" for p in self.phases]
        lines.append(f"peak RAM {gb(self.peak_ram)}")
        lines += [
            f"  {p.label} {gb(p.bytes)}: {p.note}" if p.note else f"  {p.label}" for p in self.ram
        ]
        lines += [f"  weights: {p.label} {gb(p.bytes)} ({p.note})" for p in self.weights]
        return (*lines, *self.notes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model_id,
            "width": self.width,
            "height": self.height,
            "frames": self.frames,
            "tokens": self.tokens,
            "peak_vram": self.peak_vram,
            "peak_vram_phase": self.peak_phase.name if self.options.accelerator else None,
            "peak_ram": self.peak_ram,
            "phases": {
                p.name: {
                    "total": p.total,
                    "weights": {w.label: w.bytes for w in p.weights},
                    "working": p.working.bytes,
                    "working_note": p.working.note,
                    "overhead": p.overhead,
                }
                for p in self.phases
            },
            "weights": {w.label: w.bytes for w in self.weights},
            "ram": {r.label: r.bytes for r in self.ram},
            "options": {
                "offload": self.options.offload,
                "fp8": self.options.fp8,
                "vae_tiling": self.options.vae_tiling,
                "text_encoder_on_cpu": self.options.text_encoder_on_cpu,
                "accelerator": self.options.accelerator,
            },
            "notes": list(self.notes),
        }


def gb(value: float) -> str:
    return f"{value / GB:.2f} GB"
