"""How a Wan pipeline is fitted into this machine's memory: the plan, its calls, applying them.

Core (pure): `choose_plan` picks, among a few placements, the cheapest one the memory estimate
(`wan.models.memory`) says fits; `plan_calls` turns a plan into the exact calls it makes on a
diffusers pipeline. Shell: `apply_plan` performs those calls on a loaded pipeline and records what
it skipped (metadata of the run); `available_attention_backends` and `encode_prompts` touch
torch and diffusers.

Choosing. Candidates combine four knobs; each costs speed or quality, and the plan is the
cheapest candidate whose estimate fits in `HEADROOM` of the free VRAM and RAM (ties: the lower
VRAM peak):

    offload      none 0 | model CPU offload 1 | group offload by block 3 | by layer (leaf) 10
    fp8          +4  transformer weights stored as float8_e4m3fn, computed in bf16
    vae_tiling   +1  VAE encodes/decodes 256 px tiles
    text on CPU  +2  prompts encoded by the CPU (only with model offload, see below)

The attention backend is PyTorch SDPA unless the user picks `flash` or `sage` (only offered when
the package imports and diffusers knows the backend; never required). Step caches (FirstBlockCache,
MagCache) change the result and are opt-in only.

Overrides. Any field can be set by the user (`overrides`); the other knobs are still chosen
around them. An override (or set of overrides) with which nothing fits is an error carrying the
estimate, unless `force` is set: then the plan is returned with a warning. Without overrides, a
clip that fits in no placement is an error too (lower the size or the frames per clip).

Text encoder on the CPU is only combined with model offload: the pipeline then takes its
execution device from the VAE's offload hook, and prompts are encoded by `encode_prompts` on the
CPU (UMT5 never reaches the GPU).
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from wan.errors import PlanError
from wan.models.memory import (
    OFFLOADS,
    MemoryEstimate,
    MemoryModel,
    MemoryOptions,
    estimate_memory,
    gb,
)

log = logging.getLogger(__name__)

HEADROOM = 0.9  # share of the free VRAM / RAM a plan may use (fragmentation, other processes)
OFFLOAD_COST = {"none": 0, "model": 1, "group_block": 3, "group_leaf": 10}
FP8_COST, TILING_COST, TEXT_CPU_COST = 4, 1, 2
ATTENTION = ("native", "flash", "sage")
CACHES = ("none", "first_block", "mag")
CACHE_THRESHOLDS = {"first_block": 0.05, "mag": 0.06}  # diffusers' defaults
FP8 = {"storage_dtype": "float8_e4m3fn", "compute_dtype": "bfloat16"}
OVERRIDES = (
    "offload",
    "fp8",
    "vae_tiling",
    "text_encoder_on_cpu",
    "attention",
    "cache",
    "cache_threshold",
    "mag_ratios",
    "steps",
    "use_stream",
    "force",
)
_KNOBS = ("offload", "fp8", "vae_tiling", "text_encoder_on_cpu")
_OFFLOAD_NAMES = {
    "none": "no offload",
    "model": "model CPU offload",
    "group_block": "group offload by block",
    "group_leaf": "group offload by layer",
}


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

    def memory_options(self) -> MemoryOptions:
        return self.estimate.options

    @property
    def summary(self) -> str:
        parts = [_OFFLOAD_NAMES[self.offload]]
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


@dataclass(frozen=True)
class PipelineCall:
    """One call on a pipeline: `name` is `method` (on the pipeline) or `component.method`."""

    name: str
    kwargs: tuple[tuple[str, Any], ...] = ()
    needs_accelerator: bool = False
    reason: str = ""

    @property
    def target(self) -> str | None:
        return self.name.rpartition(".")[0] or None

    @property
    def method(self) -> str:
        return self.name.rpartition(".")[2]

    def kwargs_dict(self) -> dict[str, Any]:
        return dict(self.kwargs)

    def to_dict(self) -> dict[str, Any]:
        return {
            "call": self.name,
            "kwargs": {k: list(v) if isinstance(v, tuple) else v for k, v in self.kwargs},
            "needs_accelerator": self.needs_accelerator,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class _Knobs:
    offload: str
    fp8: bool
    vae_tiling: bool
    text_encoder_on_cpu: bool

    @property
    def cost(self) -> float:
        return (
            OFFLOAD_COST[self.offload]
            + FP8_COST * self.fp8
            + TILING_COST * self.vae_tiling
            + TEXT_CPU_COST * self.text_encoder_on_cpu
        )


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
) -> OptimizationPlan:
    """The cheapest placement whose estimate fits, with user overrides applied and checked."""
    given = _checked_overrides(overrides or {}, has_accelerator, attention_available)
    budget = _Budget(int(free_vram_bytes * HEADROOM), int(free_ram_bytes * HEADROOM))

    def estimate(knobs: _Knobs) -> MemoryEstimate:
        options = MemoryOptions(
            offload=knobs.offload,
            fp8=knobs.fp8,
            vae_tiling=knobs.vae_tiling,
            text_encoder_on_cpu=knobs.text_encoder_on_cpu,
            accelerator=has_accelerator,
            conditioning=conditioning,
        )
        return estimate_memory(entry, width, height, frames, options)

    candidates = [k for k in _candidates(has_accelerator) if _agrees(k, given)]
    if not candidates:
        raise PlanError(_conflict_message(given, has_accelerator))
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
        "attention": _attention_reason(attention, attention_available, "attention" in given),
        "cache": _cache_reason(cache, given),
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
        cache_threshold=_cache_threshold(cache, given),
        mag_ratios=tuple(given["mag_ratios"]) if cache == "mag" else None,
        cache_steps=_cache_steps(cache, given),
        estimate=estimates[chosen],
        reasons=(*reasons, *extra.items()),
        overridden=tuple(k for k in OVERRIDES if k in given),
        warnings=tuple(warnings),
    )


def _pick(
    estimates: Mapping[_Knobs, MemoryEstimate], budget: _Budget, given: Mapping[str, Any], what: str
) -> tuple[_Knobs, list[str]]:
    """The cheapest fitting candidate (ties: lower VRAM peak); else an error, or `force`."""
    fitting = [k for k, est in estimates.items() if budget.fits(est)]
    if fitting:
        return min(fitting, key=lambda k: (k.cost, estimates[k].peak_vram)), []
    leanest = min(estimates, key=lambda k: (budget.excess(estimates[k]), k.cost))
    message = _no_fit_message(what, given, estimates[leanest], budget)
    if not given.get("force"):
        raise PlanError(message)
    return leanest, [f"{message} (forced: running anyway)"]


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
        except PlanError:
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


def _candidates(has_accelerator: bool) -> list[_Knobs]:
    """Every placement worth trying on this kind of device."""
    offloads = OFFLOADS if has_accelerator else ("none",)
    out = []
    for offload in offloads:
        for fp8 in (False, True):
            for tiling in (False, True):
                for text_cpu in (False, True):
                    if text_cpu and offload != "model":
                        continue  # see the module doc: only model offload keeps devices right
                    out.append(_Knobs(offload, fp8, tiling, text_cpu))
    return out


def _agrees(knobs: _Knobs, given: Mapping[str, Any]) -> bool:
    return all(getattr(knobs, name) == given[name] for name in _KNOBS if name in given)


def _checked_overrides(
    overrides: Mapping[str, Any], has_accelerator: bool, attention_available: Collection[str]
) -> dict[str, Any]:
    """Overrides with their types and values checked; errors name the key and the choices."""
    unknown = sorted(set(overrides) - set(OVERRIDES))
    if unknown:
        raise PlanError(f"unknown optimisation setting(s) {unknown}; use {', '.join(OVERRIDES)}")
    given = dict(overrides)
    if "offload" in given and given["offload"] not in OFFLOADS:
        raise PlanError(f"offload {given['offload']!r}: use one of {', '.join(OFFLOADS)}")
    for name in ("fp8", "vae_tiling", "text_encoder_on_cpu", "use_stream", "force"):
        if name in given and not isinstance(given[name], bool):
            raise PlanError(f"{name} must be true or false, not {given[name]!r}")
    attention = given.get("attention", "native")
    if attention not in ATTENTION:
        raise PlanError(f"attention {attention!r}: use one of {', '.join(ATTENTION)}")
    if attention != "native" and (attention not in attention_available or not has_accelerator):
        raise PlanError(
            f"attention {attention!r} is not available here (needs its package, a CUDA GPU and "
            f"diffusers support); available: {', '.join(sorted(attention_available))}"
        )
    if given.get("use_stream") and not has_accelerator:
        raise PlanError("use_stream needs a CUDA GPU; this machine has no accelerator")
    _check_cache(given)
    return given


def _check_cache(given: Mapping[str, Any]) -> None:
    cache = given.get("cache", "none")
    if cache not in CACHES:
        raise PlanError(f"cache {cache!r}: use one of {', '.join(CACHES)}")
    threshold = given.get("cache_threshold")
    if threshold is not None and (isinstance(threshold, bool) or not 0 < float(threshold) < 1):
        raise PlanError(f"cache_threshold {threshold!r}: use a number between 0 and 1")
    if cache == "mag" and not given.get("mag_ratios"):
        raise PlanError(
            "cache 'mag' needs mag_ratios: diffusers ships calibrated ratios for Flux only; "
            "calibrate once with diffusers' MagCacheConfig(calibrate=True) and pass them"
        )
    steps = given.get("steps")
    if steps is not None and (isinstance(steps, bool) or int(steps) < 1):
        raise PlanError(f"steps {steps!r}: use a positive whole number")


def _conflict_message(given: Mapping[str, Any], has_accelerator: bool) -> str:
    chosen = ", ".join(f"{k}={given[k]}" for k in _KNOBS if k in given)
    if not has_accelerator:
        return f"{chosen}: without an accelerator only offload=none applies (all on the CPU)"
    return f"{chosen}: text_encoder_on_cpu works with offload=model only"


def _no_fit_message(what: str, given, est: MemoryEstimate, budget: _Budget) -> str:
    chosen = ", ".join(f"{k}={given[k]}" for k in _KNOBS if k in given)
    how = f"with {chosen}" if chosen else "in any placement (even group offload and fp8)"
    return (
        f"{what} does not fit {how}: the leanest plan ({_describe(est)}) needs "
        f"{budget.shortfall(est)}. Lower the size or the frames per clip"
        + (", or drop the override" if chosen else "")
    )


def _describe(est: MemoryEstimate) -> str:
    o = est.options
    knobs = _Knobs(o.offload, o.fp8, o.vae_tiling, o.text_encoder_on_cpu)
    return _knobs_summary(knobs)


def _knobs_summary(k: _Knobs) -> str:
    parts = [_OFFLOAD_NAMES[k.offload]]
    parts += ["fp8"] if k.fp8 else []
    parts += ["VAE tiling"] if k.vae_tiling else []
    parts += ["text encoder on CPU"] if k.text_encoder_on_cpu else []
    return " + ".join(parts)


def _reasons(chosen: _Knobs, est, given, budget: _Budget, estimate, accel: bool):
    """One line per knob: set by the user, needed (what the cheaper choice would need), or not."""
    reasons = []
    for name in _KNOBS:
        value = getattr(chosen, name)
        if name in given:
            reasons.append((name, f"set by you; {budget.shortfall(est)}"))
            continue
        cheaper = _cheaper(chosen, name)
        if cheaper is None:
            reasons.append((name, _unneeded(name, est, budget, accel)))
            continue
        alt = estimate(cheaper)
        what = _knob_text(name, value)
        if budget.fits(alt):  # not needed for memory: chosen for a lower VRAM peak on a tie
            reasons.append((name, f"{what}: same cost, lower peak ({gb(est.peak_vram)})"))
        else:
            without = _knob_text(name, getattr(cheaper, name))
            reasons.append((name, f"{what}: with {without}, {budget.shortfall(alt)}"))
    return reasons


def _cheaper(knobs: _Knobs, name: str) -> _Knobs | None:
    """The same knobs with `name` one step cheaper, or None when it is already the cheapest."""
    value = getattr(knobs, name)
    if name == "offload":
        index = OFFLOADS.index(value)
        return replace(knobs, offload=OFFLOADS[index - 1]) if index else None
    if not value:
        return None
    return replace(knobs, **{name: False})


def _knob_text(name: str, value: Any) -> str:
    if name == "offload":
        return _OFFLOAD_NAMES[value]
    labels = {
        "fp8": ("fp8 weight storage", "bf16 weights"),
        "vae_tiling": ("VAE tiling", "an untiled VAE"),
        "text_encoder_on_cpu": ("text encoder on the CPU", "the text encoder on the GPU"),
    }
    on, off = labels[name]
    return on if value else off


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


def _stream_reason(on: bool, knobs: _Knobs, accel: bool, overridden: bool) -> str:
    if on:
        return "prefetch the next block on a CUDA stream: transfers overlap compute"
    if not knobs.offload.startswith("group"):
        return "no group offload"
    if overridden:
        return "set by you"
    return "no accelerator: no CUDA stream" if not accel else "off"


def _attention_reason(name: str, available: Collection[str], overridden: bool) -> str:
    if overridden and name != "native":
        return f"{name} attention, set by you"
    others = sorted(set(available) - {"native"})
    more = f"; also available: {', '.join(others)} (set attention=...)" if others else ""
    return f"PyTorch SDPA (default: built in, memory-efficient kernels){more}"


def _cache_reason(cache: str, given: Mapping[str, Any]) -> str:
    if cache == "none":
        return "no step cache (opt-in: first_block or mag; they trade exactness for speed)"
    threshold = _cache_threshold(cache, given)
    what = {"first_block": "FirstBlockCache", "mag": "MagCache"}[cache]
    return f"{what} (threshold {threshold}), set by you: skips blocks on steps that barely change"


def _cache_threshold(cache: str, given: Mapping[str, Any]) -> float | None:
    if cache == "none":
        return None
    return float(given.get("cache_threshold", CACHE_THRESHOLDS[cache]))


def _cache_steps(cache: str, given: Mapping[str, Any]) -> int | None:
    if cache != "mag":
        return None
    return int(given.get("steps") or len(given["mag_ratios"]))


def _warnings(knobs: _Knobs, given: Mapping[str, Any]) -> list[str]:
    out = []
    if given.get("cache", "none") != "none":
        out.append("a step cache skips computation: results differ slightly from uncached runs")
    if knobs.fp8:
        out.append("fp8 storage: load and cast one expert at a time, before the other components")
    return out


# ----------------------------------------------------------------------------------------------
# Calls (pure)


def plan_calls(
    plan: OptimizationPlan, pipeline_components: Iterable[str], device: str
) -> tuple[PipelineCall, ...]:
    """The calls `apply_plan` makes, in order, on a pipeline with these components."""
    present = set(pipeline_components)
    accel = is_accelerator(device)
    experts = [name for name in ("transformer", "transformer_2") if name in present]
    calls: list[PipelineCall] = []
    if plan.fp8:
        for name in experts:
            calls.append(
                PipelineCall(
                    f"{name}.enable_layerwise_casting",
                    tuple(FP8.items()),
                    reason="store weights in fp8, compute in bf16",
                )
            )
    if plan.attention != "native":
        for name in experts:
            calls.append(
                PipelineCall(
                    f"{name}.set_attention_backend",
                    (("backend", plan.attention),),
                    needs_accelerator=True,
                    reason=f"{plan.attention} attention kernels (CUDA)",
                )
            )
    if plan.cache != "none":
        for name in experts:
            calls.append(
                PipelineCall(f"{name}.enable_cache", _cache_kwargs(plan), reason="step cache")
            )
    if plan.vae_tiling and "vae" in present:
        calls.append(PipelineCall("vae.enable_tiling", reason="VAE works on 256 px tiles"))
    calls += _placement_calls(plan, present, experts, device, accel)
    return tuple(calls)


def _cache_kwargs(plan: OptimizationPlan) -> tuple[tuple[str, Any], ...]:
    kwargs: list[tuple[str, Any]] = [("kind", plan.cache), ("threshold", plan.cache_threshold)]
    if plan.cache == "mag":
        kwargs += [("mag_ratios", plan.mag_ratios), ("num_inference_steps", plan.cache_steps)]
    return tuple(kwargs)


def _placement_calls(plan, present: set[str], experts: list[str], device: str, accel: bool):
    modules = [n for n in ("text_encoder", "image_encoder", *experts, "vae") if n in present]
    if plan.offload == "none":
        return [PipelineCall(f"{n}.to", (("device", device),), reason="resident") for n in modules]
    if plan.offload == "model":
        calls = [
            PipelineCall(
                "enable_model_cpu_offload",
                (("device", device),),
                needs_accelerator=True,
                reason="one component on the GPU at a time",
            )
        ]
        if plan.text_encoder_on_cpu and "text_encoder" in present:
            calls += [
                PipelineCall(
                    "text_encoder.remove_hook_from_module",
                    (("recurse", True),),
                    needs_accelerator=True,
                    reason="take UMT5 out of the offload chain",
                ),
                PipelineCall(
                    "text_encoder.to",
                    (("device", "cpu"),),
                    needs_accelerator=True,
                    reason="prompts are encoded on the CPU",
                ),
            ]
        return calls
    stream = plan.use_stream and accel
    common = (
        ("onload_device", device),
        ("offload_device", "cpu"),
        ("use_stream", stream),
        ("non_blocking", stream),
    )
    calls = []
    for name in modules:
        if name in experts and plan.offload == "group_block":
            kwargs = (*common, ("offload_type", "block_level"), ("num_blocks_per_group", 1))
            reason = "two blocks on the GPU at a time"
        else:
            kwargs = (*common, ("offload_type", "leaf_level"))
            reason = "one layer on the GPU at a time"
        method = "enable_group_offload" if name in (*experts, "vae") else "apply_group_offloading"
        # diffusers' ModuleGroup reads torch.accelerator.current_accelerator(): None on a CPU.
        calls.append(
            PipelineCall(f"{name}.{method}", kwargs, needs_accelerator=True, reason=reason)
        )
    return calls


def is_accelerator(device: str) -> bool:
    return not str(device).lower().startswith("cpu")


# ----------------------------------------------------------------------------------------------
# Shell: applying a plan to a loaded pipeline


@dataclass(frozen=True)
class AppliedPlan:
    plan: OptimizationPlan
    device: str
    applied: tuple[PipelineCall, ...]
    skipped: tuple[tuple[PipelineCall, str], ...]  # (call, why it was not made)

    @property
    def text_encoder_device(self) -> str:
        on_cpu = self.plan.text_encoder_on_cpu or not is_accelerator(self.device)
        return "cpu" if on_cpu else self.device

    def to_metadata(self) -> dict[str, Any]:
        return {
            "plan": self.plan.summary,
            "device": self.device,
            "reasons": dict(self.plan.reasons),
            "warnings": list(self.plan.warnings),
            "estimate": {
                "peak_vram": self.plan.estimate.peak_vram,
                "peak_ram": self.plan.estimate.peak_ram,
                "peak_phase": self.plan.estimate.peak_phase.name,
            },
            "calls": [c.to_dict() for c in self.applied],
            "skipped": [{**c.to_dict(), "skipped_because": why} for c, why in self.skipped],
        }


def apply_plan(pipe: Any, plan: OptimizationPlan, device: str = "cuda") -> AppliedPlan:
    """Make the plan's calls on `pipe`; on a CPU, skip (and record) what needs an accelerator."""
    import torch

    components = [n for n, m in pipe.components.items() if isinstance(m, torch.nn.Module)]
    accel = is_accelerator(device)
    applied, skipped = [], []
    for call in plan_calls(plan, components, device):
        if call.needs_accelerator and not accel:
            skipped.append((call, f"needs an accelerator; running on {device}"))
            continue
        try:
            perform_call(pipe, call)
        except RuntimeError as exc:
            if "requires accelerator" not in str(exc):
                raise
            skipped.append((call, str(exc).splitlines()[0]))
            continue
        applied.append(call)
    for call, why in skipped:
        log.info("skipped %s: %s", call.name, why)
    log.info("memory plan for %s on %s: %s", plan.model_id, device, plan.summary)
    return AppliedPlan(plan, device, tuple(applied), tuple(skipped))


def perform_call(pipe: Any, call: PipelineCall) -> None:
    """Make one planned call on `pipe` (names and string values mapped to diffusers/torch)."""
    kwargs = {k: _torch_value(k, v) for k, v in call.kwargs}
    target = getattr(pipe, call.target) if call.target else pipe
    if call.method == "apply_group_offloading":
        from diffusers.hooks import apply_group_offloading

        apply_group_offloading(target, **kwargs)
    elif call.method == "remove_hook_from_module":
        from accelerate.hooks import remove_hook_from_module

        remove_hook_from_module(target, **kwargs)
    elif call.method == "enable_cache":
        target.enable_cache(_cache_config(kwargs))
    elif call.method == "to":
        target.to(kwargs["device"])
    else:
        getattr(target, call.method)(**kwargs)


def _torch_value(key: str, value: Any) -> Any:
    import torch

    if key.endswith("dtype"):
        return getattr(torch, value)
    if key.endswith("device"):
        return torch.device(value)
    return value


def _cache_config(kwargs: Mapping[str, Any]) -> Any:
    from diffusers.hooks import FirstBlockCacheConfig, MagCacheConfig

    if kwargs["kind"] == "first_block":
        return FirstBlockCacheConfig(threshold=kwargs["threshold"])
    return MagCacheConfig(
        threshold=kwargs["threshold"],
        mag_ratios=list(kwargs["mag_ratios"]),
        num_inference_steps=kwargs["num_inference_steps"],
    )


def available_attention_backends() -> frozenset[str]:
    """Attention backends usable here: `native` always; flash/sage if importable and known."""
    try:
        from diffusers.models.attention_dispatch import AttentionBackendName
    except ImportError:
        return frozenset({"native"})
    known = {b.value for b in AttentionBackendName}
    packages = {"flash": "flash_attn", "sage": "sageattention"}
    found = {
        name
        for name, package in packages.items()
        if name in known and importlib.util.find_spec(package) is not None
    }
    return frozenset({"native", *found})


def encode_prompts(
    pipe: Any,
    applied: AppliedPlan,
    prompt: str | list[str],
    negative_prompt: str | list[str] | None = None,
    guidance: bool = True,
    max_sequence_length: int = 512,
) -> dict[str, Any]:
    """Keyword arguments for the pipeline call: the prompts, or embeddings made on the CPU."""
    if not applied.plan.text_encoder_on_cpu or not is_accelerator(applied.device):
        return {"prompt": prompt, "negative_prompt": negative_prompt}
    import torch

    positive, negative = pipe.encode_prompt(
        prompt=prompt,
        negative_prompt=negative_prompt,
        do_classifier_free_guidance=guidance,
        max_sequence_length=max_sequence_length,
        device=torch.device("cpu"),
    )
    target = pipe._execution_device
    return {
        "prompt_embeds": positive.to(target),
        "negative_prompt_embeds": negative.to(target) if negative is not None else None,
    }
