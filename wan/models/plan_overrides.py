"""The optimisation settings a user may set, checked; and the speed settings memory does not decide.

`OVERRIDES` are the settings `choose_plan` (`wan.models.optimize`) accepts; `check_overrides`
checks their types and values, and every error names the key and the choices.

The attention backend is PyTorch SDPA unless the user picks `flash` or `sage` (only offered when
the package imports and diffusers knows the backend; never required). Step caches (FirstBlockCache,
MagCache) change the result and are opt-in only. Neither changes the memory estimate, so the plan
takes them as given; the one-line reasons and the cache settings are here too (pure).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from wan.errors import MemoryPlanError
from wan.options.choices import ATTENTIONS, CACHES, OFFLOADS

CACHE_THRESHOLDS = {"first_block": 0.05, "mag": 0.06}  # diffusers' defaults
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


def check_overrides(
    overrides: Mapping[str, Any], has_accelerator: bool, attention_available: Collection[str]
) -> dict[str, Any]:
    """Overrides with their types and values checked; errors name the key and the choices."""
    unknown = sorted(set(overrides) - set(OVERRIDES))
    if unknown:
        raise MemoryPlanError(
            f"unknown optimisation setting(s) {unknown}; use {', '.join(OVERRIDES)}"
        )
    given = dict(overrides)
    if "offload" in given and given["offload"] not in OFFLOADS:
        raise MemoryPlanError(f"offload {given['offload']!r}: use one of {', '.join(OFFLOADS)}")
    for name in ("fp8", "vae_tiling", "text_encoder_on_cpu", "use_stream", "force"):
        if name in given and not isinstance(given[name], bool):
            raise MemoryPlanError(f"{name} must be true or false, not {given[name]!r}")
    attention = given.get("attention", "native")
    if attention not in ATTENTIONS:
        raise MemoryPlanError(f"attention {attention!r}: use one of {', '.join(ATTENTIONS)}")
    if attention != "native" and (attention not in attention_available or not has_accelerator):
        raise MemoryPlanError(
            f"attention {attention!r} is not available here (needs its package, a CUDA GPU and "
            f"diffusers support); available: {', '.join(sorted(attention_available))}"
        )
    if given.get("use_stream") and not has_accelerator:
        raise MemoryPlanError("use_stream needs a CUDA GPU; this machine has no accelerator")
    _check_cache(given)
    return given


def _check_cache(given: Mapping[str, Any]) -> None:
    cache = given.get("cache", "none")
    if cache not in CACHES:
        raise MemoryPlanError(f"cache {cache!r}: use one of {', '.join(CACHES)}")
    threshold = given.get("cache_threshold")
    if threshold is not None and (isinstance(threshold, bool) or not 0 < float(threshold) < 1):
        raise MemoryPlanError(f"cache_threshold {threshold!r}: use a number between 0 and 1")
    if cache == "mag" and not given.get("mag_ratios"):
        raise MemoryPlanError(
            "cache 'mag' needs mag_ratios: published ratios ship for the Wan 2.1 models in "
            "wan/models/magcache_ratios.json; for another model calibrate once with diffusers' "
            "MagCacheConfig(calibrate=True) and pass them"
        )
    steps = given.get("steps")
    if steps is not None and (isinstance(steps, bool) or int(steps) < 1):
        raise MemoryPlanError(f"steps {steps!r}: use a positive whole number")


def attention_reason(name: str, available: Collection[str], overridden: bool) -> str:
    if overridden and name != "native":
        return f"{name} attention, set by you"
    others = sorted(set(available) - {"native"})
    more = f"; also available: {', '.join(others)} (set attention=...)" if others else ""
    return f"PyTorch SDPA (default: built in, memory-efficient kernels){more}"


def cache_reason(cache: str, given: Mapping[str, Any]) -> str:
    if cache == "none":
        return "no step cache (opt-in: first_block or mag; they trade exactness for speed)"
    threshold = cache_threshold(cache, given)
    what = {"first_block": "FirstBlockCache", "mag": "MagCache"}[cache]
    return f"{what} (threshold {threshold}), set by you: skips blocks on steps that barely change"


def cache_threshold(cache: str, given: Mapping[str, Any]) -> float | None:
    if cache == "none":
        return None
    return float(given.get("cache_threshold", CACHE_THRESHOLDS[cache]))


def cache_steps(cache: str, given: Mapping[str, Any]) -> int | None:
    if cache != "mag":
        return None
    return int(given.get("steps") or len(given["mag_ratios"]))
