"""The expected time of one clip, before rendering: an estimate from arithmetic (pure).

Nothing is measured: the time is the transformer's floating-point work divided by what the
device does per second, so it is shown as an estimate, good for comparing presets and sizes on one
machine, not a promise. The work of one transformer call on N tokens with P parameters and L
blocks of width d is 2 P N (every weight multiplies every token once, a multiply and an add) plus
4 L N^2 d (attention: scores and weighted sum). A step makes one call, two with classifier-free
guidance (guidance > 1, as diffusers decides); a step cache skips calls; the text encoder and
the VAE add `OTHER_SHARE`.

Constants (change them here, nowhere else):
- `GPU_TFLOPS`: dense bf16 tensor throughput (TFLOP/s, FP32 accumulate) from the vendors' data
  sheets; a GPU not listed gets `DEFAULT_GPU_TFLOPS`, a CPU `CPU_TFLOPS`.
- `UTILISATION`: the share of that peak a Wan transformer reaches in practice (0.4: attention and
  norms run below the matmul peak).
- `CACHE_SPEEDUP`: calls a step cache saves; MagCache's README reports about 2x for Wan 2.1 at
  its default threshold; FirstBlockCache 1.5x is an assumption.
- `LORA_OVERHEAD`: an unmerged rank-64 LoRA adds about 2 x 64 / 5120 of each layer's work.
"""

from __future__ import annotations

from dataclasses import dataclass

GPU_TFLOPS = {  # dense bf16, FP32 accumulate (data sheets)
    "H200": 989.0,
    "H100": 989.0,
    "A100": 312.0,
    "L40S": 362.0,
    "RTX 5090": 209.5,
    "RTX 4090": 165.2,
    "RTX 4080": 97.5,
    "RTX 3090": 71.0,
    "A6000": 154.8,
}
DEFAULT_GPU_TFLOPS = 80.0
CPU_TFLOPS = 0.5
UTILISATION = 0.4
CACHE_SPEEDUP = {"none": 1.0, "first_block": 1.5, "mag": 2.0}
OTHER_SHARE = 0.1
LORA_OVERHEAD = 1.025


@dataclass(frozen=True)
class SpeedEstimate:
    seconds: float
    calls: int  # transformer calls in the clip
    tflops: float  # the device figure used

    @property
    def text(self) -> str:
        return f"~{format_seconds(self.seconds)} per clip (estimate)"


def device_tflops(gpu_name: str | None, has_accelerator: bool) -> float:
    """The table's figure for the first name it contains; a CPU's or the default otherwise."""
    if not has_accelerator:
        return CPU_TFLOPS
    name = (gpu_name or "").upper()
    for key, value in GPU_TFLOPS.items():
        if key.upper() in name:
            return value
    return DEFAULT_GPU_TFLOPS


def clip_seconds(
    transformer_params: int,
    layers: int,
    hidden: int,
    tokens: int,
    steps: int,
    guidance: float,
    *,
    cache: str = "none",
    lora: bool = False,
    tflops: float,
) -> SpeedEstimate:
    """Seconds for one clip of `tokens` transformer tokens (module doc for the arithmetic)."""
    per_call = 2.0 * transformer_params * tokens + 4.0 * layers * tokens * tokens * hidden
    calls = steps * (2 if guidance > 1 else 1)
    work = per_call * calls / CACHE_SPEEDUP.get(cache, 1.0) * (LORA_OVERHEAD if lora else 1.0)
    seconds = work / (tflops * 1e12 * UTILISATION) * (1 + OTHER_SHARE)
    return SpeedEstimate(seconds, calls, tflops)


def format_seconds(seconds: float) -> str:
    if seconds < 60:
        return f"{max(seconds, 0.1):.1f} s" if seconds < 10 else f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"
