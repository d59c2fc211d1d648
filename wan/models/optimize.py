"""How a Wan pipeline is fitted into this machine's memory: the plan (pure).

`choose_plan` picks, among a few placements, the cheapest one the memory estimate
(`wan.models.memory_estimate`) says fits. `wan.models.pipeline_calls` turns a plan into the exact
calls it makes on a diffusers pipeline; `wan.models.apply_plan` performs them on a loaded pipeline.

Choosing. Candidates combine four knobs (offload, fp8, VAE tiling, text encoder on the CPU;
`wan.models.plan_knobs`), each with a cost in speed or quality; the plan is the cheapest candidate
whose estimate fits in `HEADROOM` of the free VRAM and RAM (ties: the lower VRAM peak).

The attention backend and step caches are opt-in (`wan.models.plan_overrides`). MagCache takes
the model's published magnitude ratios (`wan.models.magcache`), resampled to the run's steps,
unless the caller passes its own `mag_ratios`. The estimate counts what a step cache keeps between
steps and the weights of a LoRA (`lora_bytes`, per expert).

Overrides. Any field can be set by the user (`overrides`, checked by `plan_overrides`); the other
knobs are still chosen around them. An override (or set of overrides) with which nothing fits is
an error carrying the estimate, unless `force` is set: then the plan is returned with a warning.
Without overrides, a clip that fits in no placement is an error too (lower the size or the frames
per clip).

Text encoder on the CPU is only combined with model offload: the pipeline then takes its
execution device from the VAE's offload hook, and prompts are encoded by
`apply_plan.encode_prompts` on the CPU (UMT5 never reaches the GPU).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from wan.errors import MemoryPlanError, ModelError
from wan.models.magcache import mag_ratios as shipped_mag_ratios
from wan.models.magcache import ratio_set_for
from wan.models.memory import MemoryEstimate, MemoryModel, MemorySetup, gb
from wan.models.memory_estimate import estimate_memory
from wan.models.plan_knobs import (
    KNOBS,
    OFFLOAD_NAMES,
    Knobs,
    agrees,
    candidate_knobs,
    knob_text,
    knobs_summary,
    one_step_cheaper,
)
from wan.models.plan_overrides import (
    OVERRIDES,
    attention_reason,
    cache_reason,
    cache_steps,
    cache_threshold,
    check_overrides,
)

HEADROOM = 0.9  # share of the free VRAM / RAM a plan may use (fragmentation, other processes)


@dataclass(frozen=True)
class OptimizationPlan:
    model_id: str
    width: int
    height: int
    frames: int
    accelerator: bool
    offload: str  # none | model | group_block | group_leaf
    fp8: bool
    vae_tiling: bool
    text_encoder_on_cpu: bool
    use_stream: bool  # group offload prefetches the next block on a CUDA stream
    attention: str  # diffusers attention backend: native (PyTorch SDPA) | flash | sage
    cache: str  # none | first_block | mag
    cache_threshold: float | None
    mag_ratios: tuple[float, ...] | None
    cache_steps: int | None  # MagCache: the run's step count (ratios are interpolated to it)
    estimate: MemoryEstimate
    reasons: tuple[tuple[str, str], ...]  # (field, one-line reason)
    overridden: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    def reason(self, name: str) -> str:
        return dict(self.reasons)[name]

    @property
    def summary(self) -> str:
        parts = [OFFLOAD_NAMES[self.offload]]
        if self.fp8:
            parts.append("fp8 weights")
        if self.vae_tiling:
            parts.append("VAE tiling")
        if self.text_encoder_on_cpu:
            parts.append("text encoder on CPU")
        if self.attention != "native":
            parts.append(f"{self.attention} attention")
        if self.cache != "none":
            parts.append(f"{self.cache} cache")
        return " + ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model_id,
            "size": [self.width, self.height],
            "frames": self.frames,
            "accelerator": self.accelerator,
            "summary": self.summary,
            "offload": self.offload,
            "fp8": self.fp8,
            "vae_tiling": self.vae_tiling,
            "text_encoder_on_cpu": self.text_encoder_on_cpu,
            "use_stream": self.use_stream,
            "attention": self.attention,
            "cache": self.cache,
            "cache_threshold": self.cache_threshold,
            "reasons": dict(self.reasons),
            "overridden": list(self.overridden),
            "warnings": list(self.warnings),
            "estimate": self.estimate.to_dict(),
        }


# ----------------------------------------------------------------------------------------------
# Choosing (pure)


def choose_plan(
    entry: MemoryModel,
    width: int,
    height: int,
    frames: int,
    free_vram_bytes: int,
    free_ram_bytes: int,
    has_accelerator: bool,
    overrides: Mapping[str, Any] | None = None,
    *,
    attention_available: Collection[str] = ("native",),
    conditioning: str | None = None,
    depth_model_params: int = 0,
    lora_bytes: int = 0,
) -> OptimizationPlan:
    """The cheapest placement whose estimate fits, with user overrides applied and checked."""
    given = _with_shipped_ratios(dict(overrides or {}), entry)
    given = check_overrides(given, has_accelerator, attention_available)
    budget = _Budget(int(free_vram_bytes * HEADROOM), int(free_ram_bytes * HEADROOM))

    def estimate(knobs: Knobs) -> MemoryEstimate:
        options = MemorySetup(
            offload=knobs.offload,
            fp8=knobs.fp8,
            vae_tiling=knobs.vae_tiling,
            text_encoder_on_cpu=knobs.text_encoder_on_cpu,
            accelerator=has_accelerator,
            conditioning=conditioning,
            depth_model_params=depth_model_params,
            lora_bytes=lora_bytes,
            step_cache=str(given.get("cache", "none")),
        )
        return estimate_memory(entry, width, height, frames, options)

    candidates = [k for k in candidate_knobs(has_accelerator) if agrees(k, given)]
    if not candidates:
        raise MemoryPlanError(_conflict_message(given, has_accelerator))
    estimates = {k: estimate(k) for k in candidates}
    chosen, warnings = _pick(
        estimates, budget, given, f"{entry.id} at {width}x{height}, {frames} frames"
    )
    reasons = _reasons(chosen, estimates[chosen], given, budget, estimate, has_accelerator)
    use_stream = bool(given.get("use_stream", has_accelerator))
    use_stream = use_stream and chosen.offload.startswith("group")
    attention = str(given.get("attention", "native"))
    cache = str(given.get("cache", "none"))
    warnings += _warnings(chosen, given)
    extra = {
        "use_stream": _stream_reason(use_stream, chosen, has_accelerator, "use_stream" in given),
        "attention": attention_reason(attention, attention_available, "attention" in given),
        "cache": cache_reason(cache, given),
    }
    return OptimizationPlan(
        model_id=entry.id,
        width=width,
        height=height,
        frames=frames,
        accelerator=has_accelerator,
        offload=chosen.offload,
        fp8=chosen.fp8,
        vae_tiling=chosen.vae_tiling,
        text_encoder_on_cpu=chosen.text_encoder_on_cpu,
        use_stream=use_stream,
        attention=attention,
        cache=cache,
        cache_threshold=cache_threshold(cache, given),
        mag_ratios=tuple(given["mag_ratios"]) if cache == "mag" else None,
        cache_steps=cache_steps(cache, given),
        estimate=estimates[chosen],
        reasons=(*reasons, *extra.items()),
        overridden=tuple(k for k in OVERRIDES if k in given),
        warnings=tuple(warnings),
    )


def _pick(
    estimates: Mapping[Knobs, MemoryEstimate], budget: _Budget, given: Mapping[str, Any], what: str
) -> tuple[Knobs, list[str]]:
    """The cheapest fitting candidate (ties: lower VRAM peak); else an error, or `force`."""
    fitting = [k for k, est in estimates.items() if budget.fits(est)]
    if fitting:
        return min(fitting, key=lambda k: (k.cost, estimates[k].peak_vram)), []
    leanest = min(estimates, key=lambda k: (budget.excess(estimates[k]), k.cost))
    message = _no_fit_message(what, given, estimates[leanest], budget)
    if not given.get("force"):
        raise MemoryPlanError(message)
    return leanest, [f"{message} (forced: running anyway)"]


def _with_shipped_ratios(given: dict[str, Any], entry: MemoryModel) -> dict[str, Any]:
    """MagCache without ratios given: the model's published ones, resampled to the steps."""
    if given.get("cache") != "mag" or given.get("mag_ratios"):
        return given
    steps = given.get("steps")
    try:
        found = ratio_set_for(entry.id)
        count = int(steps) if steps else (found.steps if found else 1)
        ratios = shipped_mag_ratios(entry.id, count)
    except (ModelError, TypeError, ValueError) as exc:
        raise MemoryPlanError(f"cache 'mag': {exc}") from None
    return {**given, "mag_ratios": ratios, "steps": count}


def max_fitting_frames(
    entry: MemoryModel,
    width: int,
    height: int,
    limit: int,
    free_vram_bytes: int,
    free_ram_bytes: int,
    has_accelerator: bool,
    overrides: Mapping[str, Any] | None = None,
) -> int | None:
    """The longest clip (4n+1 frames, at most `limit`) some plan fits; None if not even 5.

    For the clip planner: a model whose full-length clip does not fit a card can still run there
    with shorter clips (memory grows with the frame count).
    """

    def fits(frames: int) -> bool:
        try:
            choose_plan(
                entry,
                width,
                height,
                frames,
                free_vram_bytes,
                free_ram_bytes,
                has_accelerator,
                {**(overrides or {}), "force": False},
            )
        except MemoryPlanError:
            return False
        return True

    low, high = 1, (limit - 1) // 4  # frames = 4n + 1
    if not fits(4 * low + 1):
        return None
    while low < high:  # largest n that fits; memory grows with n
        middle = (low + high + 1) // 2
        low, high = (middle, high) if fits(4 * middle + 1) else (low, middle - 1)
    return 4 * low + 1


@dataclass(frozen=True)
class _Budget:
    vram: int
    ram: int

    def fits(self, est: MemoryEstimate) -> bool:
        return est.peak_vram <= self.vram and est.peak_ram <= self.ram

    def excess(self, est: MemoryEstimate) -> int:
        return max(0, est.peak_vram - self.vram) + max(0, est.peak_ram - self.ram)

    def shortfall(self, est: MemoryEstimate) -> str:
        """Why an estimate does not fit, or how it fits: one clause."""
        parts = []
        if est.peak_vram > self.vram:
            phase = est.peak_phase.name
            parts.append(f"{gb(est.peak_vram)} VRAM ({phase}) > {gb(self.vram)} usable")
        if est.peak_ram > self.ram:
            parts.append(f"{gb(est.peak_ram)} RAM > {gb(self.ram)} usable")
        return " and ".join(parts) or f"fits ({gb(est.peak_vram)} VRAM, {gb(est.peak_ram)} RAM)"


def _conflict_message(given: Mapping[str, Any], has_accelerator: bool) -> str:
    chosen = ", ".join(f"{k}={given[k]}" for k in KNOBS if k in given)
    if not has_accelerator:
        return f"{chosen}: without an accelerator only offload=none applies (all on the CPU)"
    return f"{chosen}: text_encoder_on_cpu works with offload=model only"


def _no_fit_message(what: str, given, est: MemoryEstimate, budget: _Budget) -> str:
    chosen = ", ".join(f"{k}={given[k]}" for k in KNOBS if k in given)
    how = f"with {chosen}" if chosen else "in any placement (even group offload and fp8)"
    return (
        f"{what} does not fit {how}: the leanest plan ({_describe(est)}) needs "
        f"{budget.shortfall(est)}. Lower the size or the frames per clip"
        + (", or drop the override" if chosen else "")
    )


def _describe(est: MemoryEstimate) -> str:
    o = est.options
    knobs = Knobs(o.offload, o.fp8, o.vae_tiling, o.text_encoder_on_cpu)
    return knobs_summary(knobs)


def _reasons(chosen: Knobs, est, given, budget: _Budget, estimate, accel: bool):
    """One line per knob: set by the user, needed (what the cheaper choice would need), or not."""
    reasons = []
    for name in KNOBS:
        value = getattr(chosen, name)
        if name in given:
            reasons.append((name, f"set by you; {budget.shortfall(est)}"))
            continue
        cheaper = one_step_cheaper(chosen, name)
        if cheaper is None:
            reasons.append((name, _unneeded(name, est, budget, accel)))
            continue
        alt = estimate(cheaper)
        what = knob_text(name, value)
        if budget.fits(alt):  # not needed for memory: chosen for a lower VRAM peak on a tie
            reasons.append((name, f"{what}: same cost, lower peak ({gb(est.peak_vram)})"))
        else:
            without = knob_text(name, getattr(cheaper, name))
            reasons.append((name, f"{what}: with {without}, {budget.shortfall(alt)}"))
    return reasons


def _unneeded(name: str, est: MemoryEstimate, budget: _Budget, accel: bool) -> str:
    if not accel:
        return {
            "offload": "no accelerator: everything runs on the CPU",
            "fp8": f"bf16 weights fit in RAM ({gb(est.peak_ram)} of {gb(budget.ram)} usable)",
            "vae_tiling": "not needed: the untiled VAE fits in RAM",
            "text_encoder_on_cpu": "no accelerator: everything runs on the CPU",
        }[name]
    phases = {p.name: p.total for p in est.phases}
    return {
        "offload": f"everything stays on the GPU: {budget.shortfall(est)}",
        "fp8": f"bf16 weights: {budget.shortfall(est)}",
        "vae_tiling": f"untiled VAE: decode peaks at {gb(phases['decode'])}",
        "text_encoder_on_cpu": "text encoder on the GPU while it encodes the prompts",
    }[name]


def _stream_reason(on: bool, knobs: Knobs, accel: bool, overridden: bool) -> str:
    if on:
        return "prefetch the next block on a CUDA stream: transfers overlap compute"
    if not knobs.offload.startswith("group"):
        return "no group offload"
    if overridden:
        return "set by you"
    return "no accelerator: no CUDA stream" if not accel else "off"


def _warnings(knobs: Knobs, given: Mapping[str, Any]) -> list[str]:
    out = []
    if given.get("cache", "none") != "none":
        out.append("a step cache skips computation: results differ slightly from uncached runs")
    if knobs.fp8:
        out.append("fp8 storage: load and cast one expert at a time, before the other components")
    return out
