"""Speed presets: what quality / balanced / fast set, and the one rule for merging them (pure).

A preset is a shorthand for sampling settings, a step cache and LoRAs, as Wan2GP's and ComfyUI's
users know them:
- quality: nothing changes (the model's official steps, guidance and shift; no cache);
- balanced: the model's own sampling with a step cache from published per-model data (MagCache
  where its authors published ratios for the model, else FirstBlockCache), no calibration;
- fast: the step- and CFG-distilled LoRAs (lightx2v) with the sampler they were distilled for
  (4 steps, guidance 1, shift 5), loaded into both experts of a Wan 2.2 A14B model.
What a preset means for one model (which LoRA files, which ratios) is decided where the catalog
is known (`wan.models.preset_values`); this module holds the merge.

The merge rule (the one place it is written): **explicit values win**. A preset fills a setting
only where the options leave it unset: `steps`, `guidance`, `guidance_2`, `flow_shift` and
`cache_threshold` when they are None, `cache` when it is "none" (and then the preset's threshold
too); its LoRAs come after the user's, and a file the user already lists keeps the user's
strength. So `--preset fast --steps 6` renders 6 steps with the distilled LoRA, and a user who
wants a preset without its cache picks a preset without one (quality) or sets another cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from wan.options.render_options import RenderOptions, options_to_dict, parse_options


@dataclass(frozen=True)
class PresetValues:
    """What a preset sets for one model; None leaves a setting to the model's defaults."""

    preset: str
    steps: int | None = None
    guidance: float | None = None
    guidance_2: float | None = None
    flow_shift: float | None = None
    cache: str = "none"
    cache_threshold: float | None = None
    loras: tuple[tuple[str, float], ...] = ()  # (file path, strength)
    notes: tuple[str, ...] = ()  # where each value comes from, for the plan and metadata


_SAMPLING = ("steps", "guidance", "guidance_2", "flow_shift")


def merge_preset(options: RenderOptions, values: PresetValues) -> RenderOptions:
    """`options` with the preset's values filled in where unset (the module's rule)."""
    data = options_to_dict(options)
    for name in _SAMPLING:
        if data[name] is None and getattr(values, name) is not None:
            data[name] = getattr(values, name)
    if data["cache"] == "none" and values.cache != "none":
        data["cache"] = values.cache
        if data["cache_threshold"] is None:
            data["cache_threshold"] = values.cache_threshold
    listed = {Path(lora["path"]).name for lora in data["loras"]}
    data["loras"] = [
        *data["loras"],
        *(
            {"path": path, "strength": strength}
            for path, strength in values.loras
            if Path(path).name not in listed
        ),
    ]
    return parse_options(data)
