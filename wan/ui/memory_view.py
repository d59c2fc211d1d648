"""The memory plan the render would choose on this machine, shown before anything loads.

It is the same `choose_plan` call the render makes (wan.render.model_session), on the model's
longest clip at the chosen size (the model's default size while the size is "auto"), with the
user's overrides from the Generate tab; what does not fit is said, not raised. A speed preset
counts in it (the fast preset's LoRA weights, the balanced preset's step cache), and the expected
time per clip of each preset on this machine follows, marked as an estimate
(`wan.models.speed_estimate`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wan.core.sizes import parse_size
from wan.errors import WanError
from wan.models.catalog import CatalogEntry, get_entry, wan_entries
from wan.models.detect import detect_model
from wan.models.memory import gb
from wan.models.optimize import choose_plan
from wan.models.preset_values import preset_lora_bytes, preset_seconds, preset_values
from wan.models.speed_estimate import device_tflops
from wan.models.system import SystemInfo, probe_system
from wan.options.choices import PRESETS


def catalog_entry(ref: str | None) -> CatalogEntry | None:
    """The catalog entry of a model reference or of the model a folder/file matches."""
    if not ref:
        return None
    try:
        return get_entry(ref)
    except WanError:
        pass
    try:
        detection = detect_model(ref)
    except (WanError, OSError):
        return None
    match = detection.match(wan_entries()) if detection.is_wan else None
    return get_entry(match.model_id) if match is not None and match.model_id else None


def memory_text(
    ref: str | None,
    size: str | None,
    memory: Mapping[str, Any] | None,
    system: SystemInfo | None = None,
    preset: str | None = None,
) -> str:
    """Markdown: the plan (what is offloaded, fp8, tiling) and its peak VRAM and RAM."""
    entry = catalog_entry(ref)
    if entry is None:
        return "Memory plan: chosen when the render starts (this model is not in the catalog)."
    system = system or probe_system()
    device = system.gpu_name or "CPU only"
    free = f"{gb(system.free_vram)} free VRAM, " if system.has_accelerator else ""
    where = f"{device} ({free}{gb(system.free_ram)} free RAM)"
    if size and size != "auto":
        try:
            width, height = parse_size(size)
        except ValueError as exc:
            return f"Memory plan: size {size!r}: {exc}"
        at = f"{width}x{height}"
    else:
        width, height = entry.default_size
        at = f"{width}x{height} (the model's default size; Plan picks the size)"
    frames = int(entry.max_clip_frames or 0)
    overrides = {k: v for k, v in (memory or {}).items() if v is not None}
    try:
        overrides.update(_preset_cache(preset, entry))
        plan = choose_plan(
            entry,
            width,
            height,
            frames,
            system.free_vram,
            system.free_ram,
            system.has_accelerator,
            overrides,
            lora_bytes=preset_lora_bytes(preset, entry),
        )
    except WanError as exc:
        return f"**Does not fit** on {where} at {at}, {frames} frames per clip: {exc}"
    lines = [
        f"**Memory plan** on {where} at {at}, {frames} frames per clip: **{plan.summary}**, "
        f"peak {gb(plan.estimate.peak_vram)} VRAM, {gb(plan.estimate.peak_ram)} RAM"
    ]
    lines += [f"- {name}: {reason}" for name, reason in plan.reasons]
    lines += [f"- warning: {warning}" for warning in plan.warnings]
    lines.append(
        _times(
            entry,
            plan.estimate.tokens,
            device_tflops(system.gpu_name, system.has_accelerator),
            preset,
        )
    )
    return "\n".join(lines)


def _preset_cache(preset: str | None, entry: CatalogEntry) -> dict[str, Any]:
    """The step cache a preset adds to the plan (the render's merge gives the same)."""
    if preset is None:
        return {}
    values = preset_values(preset, entry, locate=False)
    if values.cache == "none":
        return {}
    steps = values.steps or (entry.defaults.steps if entry.defaults else None)
    return {"cache": values.cache, "cache_threshold": values.cache_threshold, "steps": steps}


def _times(entry: CatalogEntry, tokens: int, tflops: float, chosen: str | None) -> str:
    """One line: each preset's expected time per clip (an estimate), the chosen one in bold."""
    parts = []
    for preset in PRESETS:
        estimate = preset_seconds(preset, entry, tokens, tflops)
        text = "no distilled LoRA for this model" if estimate is None else estimate.text
        parts.append(f"**{preset}: {text}**" if preset == chosen else f"{preset}: {text}")
    return f"- expected time per clip (estimate, {tflops:g} TFLOP/s): " + "; ".join(parts)
