"""MagCache from published per-model data, not calibration (pure: reads one JSON file once).

MagCache skips a step's transformer blocks while the accumulated change of the residual's
magnitude stays under a threshold; the per-step magnitude ratios it needs are properties of a
model and its sampler, measured once. diffusers ships them for Flux only and otherwise asks for a
calibration run; MagCache's authors published them for Wan 2.1 (`magcache_ratios.json`, with its
source). Published lists interleave the conditional and unconditional calls of each step;
diffusers runs one MagCache state per `cache_context` ("cond", "uncond") over one list, so the
conditional stream is used (the two differ in the fourth decimal). A run with another step count
gets the list resampled by MagCache's own nearest-index rule (`resample`), the rule diffusers'
`nearest_interp` also applies; resampling here makes the list the run uses visible in the plan.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wan.errors import ModelError

RATIOS_PATH = Path(__file__).with_name("magcache_ratios.json")


@dataclass(frozen=True)
class MagSettings:
    """MagCache's published defaults for Wan (its generate script's arguments)."""

    threshold: float
    max_skip_steps: int
    retention_ratio: float


@dataclass(frozen=True)
class RatioSet:
    id: str
    models: tuple[str, ...]  # catalog ids it applies to
    steps: int  # the step count it was measured at
    ratios: tuple[float, ...]  # as published: cond, uncond interleaved

    @property
    def conditional(self) -> tuple[float, ...]:
        return self.ratios[0::2]


def resample(ratios: tuple[float, ...] | list[float], steps: int) -> tuple[float, ...]:
    """`ratios` stretched or squeezed to `steps` values, as MagCache does: value i is the source
    value at index round(i * (n - 1) / (steps - 1)) (halves to even, numpy's rounding); one step
    takes the last value."""
    values = tuple(float(v) for v in ratios)
    if steps < 1 or not values:
        raise ModelError(f"MagCache ratios: cannot resample {len(values)} values to {steps} steps")
    if steps == 1:
        return values[-1:]
    scale = (len(values) - 1) / (steps - 1)
    return tuple(values[round(i * scale)] for i in range(steps))


@functools.cache
def _load() -> tuple[MagSettings, tuple[RatioSet, ...]]:
    with RATIOS_PATH.open(encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    d = data["defaults"]
    settings = MagSettings(
        float(d["threshold"]), int(d["max_skip_steps"]), float(d["retention_ratio"])
    )
    sets = tuple(
        RatioSet(
            str(s["id"]),
            tuple(s["models"]),
            int(s["steps"]),
            tuple(float(v) for v in s["ratios"]),
        )
        for s in data["sets"]
    )
    return settings, sets


def mag_settings() -> MagSettings:
    return _load()[0]


def ratio_set_for(model_id: str | None) -> RatioSet | None:
    """The published list for a catalog model, or None when none was published."""
    if not model_id:
        return None
    for ratio_set in _load()[1]:
        if model_id in ratio_set.models:
            return ratio_set
    return None


def models_with_ratios() -> tuple[str, ...]:
    return tuple(m for s in _load()[1] for m in s.models)


def mag_ratios(model_id: str | None, steps: int) -> tuple[float, ...]:
    """The conditional ratios of the model's published list, resampled to `steps`; an error
    naming the models that have ratios when this one has none."""
    found = ratio_set_for(model_id)
    if found is None:
        raise ModelError(
            f"MagCache has no published ratios for {model_id or 'this model'} (published for: "
            f"{', '.join(models_with_ratios())}); use cache first_block, or calibrate once with "
            "diffusers' MagCacheConfig(calibrate=True)"
        )
    return resample(found.conditional, steps)
