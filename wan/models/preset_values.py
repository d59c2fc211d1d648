"""What a speed preset means for one model: its LoRA files, cache and sampler (reads the disk).

`preset_values` turns quality / balanced / fast (`wan.options.presets`) into values for a catalog
model: balanced takes MagCache with the model's published ratios (`wan.models.magcache`) where
they exist, else FirstBlockCache; fast takes the catalog's distilled LoRAs for the model (kind
"lora"; one file, or the high-noise and low-noise pair of a Wan 2.2 A14B model) and the sampler
settings they were distilled for, and fails naming each missing file and the command that fetches
it. `apply_preset` merges them into the options by the rule of `wan.options.presets`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from wan.errors import ModelError
from wan.models import store
from wan.models.catalog import CatalogEntry, lora_entries
from wan.models.magcache import mag_settings, ratio_set_for
from wan.models.speed_estimate import SpeedEstimate, clip_seconds
from wan.options.presets import PresetValues, merge_preset
from wan.options.render_options import RenderOptions

# diffusers' FirstBlockCacheConfig default; no per-model thresholds for Wan were published
FIRST_BLOCK_THRESHOLD = 0.05


def apply_preset(
    options: RenderOptions,
    entry: CatalogEntry | None,
    config: store.StoreConfig,
    lora_dirs: Sequence[Path],
) -> RenderOptions:
    """The options with their preset's values merged in (unchanged without a preset)."""
    if options.preset is None:
        return options
    return merge_preset(options, preset_values(options.preset, entry, config, lora_dirs))


def preset_values(
    preset: str,
    entry: CatalogEntry | None,
    config: store.StoreConfig | None = None,
    lora_dirs: Sequence[Path] = (),
    *,
    locate: bool = True,
) -> PresetValues:
    """The preset's values for `entry`; `locate=False` names the LoRA files without looking for
    them (the estimate shown before a render)."""
    if preset == "quality":
        return PresetValues("quality", notes=("quality: the model's official sampling, no cache",))
    if preset == "balanced":
        return _balanced(entry)
    if preset == "fast":
        return _fast(entry, config or store.StoreConfig(), lora_dirs, locate)
    raise ModelError(f"preset {preset!r}: use quality, balanced or fast")


def _balanced(entry: CatalogEntry | None) -> PresetValues:
    found = ratio_set_for(entry.id if entry else None)
    if found is not None:
        mag = mag_settings()
        return PresetValues(
            "balanced",
            cache="mag",
            cache_threshold=mag.threshold,
            notes=(
                f"balanced: MagCache with the ratios published for {found.id} (measured at "
                f"{found.steps} steps, resampled to the run's), threshold {mag.threshold}",
            ),
        )
    return PresetValues(
        "balanced",
        cache="first_block",
        cache_threshold=FIRST_BLOCK_THRESHOLD,
        notes=(
            f"balanced: FirstBlockCache, threshold {FIRST_BLOCK_THRESHOLD} (no MagCache ratios "
            "were published for this model)",
        ),
    )


def fast_loras(entry: CatalogEntry | None) -> tuple[CatalogEntry, ...]:
    """The catalog's distilled LoRAs for a model (empty when it has none)."""
    if entry is None:
        return ()
    return tuple(e for e in lora_entries() if e.lora and entry.id in e.lora.for_models)


def _fast(
    entry: CatalogEntry | None, config: store.StoreConfig, lora_dirs: Sequence[Path], locate: bool
) -> PresetValues:
    loras = fast_loras(entry)
    if not loras:
        have = sorted(
            {m for e in lora_entries() if e.lora and not e.smoke for m in e.lora.for_models}
        )
        name = entry.id if entry else "this model (not in the catalog)"
        raise ModelError(
            f"preset fast: no distilled LoRA is known for {name}; it exists for {', '.join(have)}. "
            "Use preset balanced, or give a distilled LoRA with --lora and --steps/--guidance"
        )
    files: list[tuple[str, float]] = []
    for lora in loras:
        assert lora.lora is not None
        path = store.find_lora(lora, lora_dirs, config) if locate else Path(lora.lora.file)
        if path is None:
            raise store.lora_missing_error(lora, lora_dirs, config)
        files.append((str(path), 1.0))
    spec = loras[0].lora
    assert spec is not None and entry is not None
    two = entry.experts == 2
    return PresetValues(
        "fast",
        steps=spec.steps,
        guidance=spec.guidance,
        guidance_2=spec.guidance if two else None,
        flow_shift=spec.flow_shift,
        loras=tuple(files),
        notes=(
            f"fast: {', '.join(e.id for e in loras)} at strength 1; {spec.steps} steps, "
            f"guidance {spec.guidance:g}, shift {spec.flow_shift:g} ({spec.source})",
        ),
    )


def preset_lora_bytes(preset: str | None, entry: CatalogEntry | None) -> int:
    """The LoRA weights a preset adds to one expert (the largest file), for the estimate."""
    if preset != "fast":
        return 0
    return max((e.lora.bytes for e in fast_loras(entry) if e.lora), default=0)


def preset_seconds(
    preset: str, entry: CatalogEntry, tokens: int, tflops: float
) -> SpeedEstimate | None:
    """The expected time of one clip of `tokens` tokens under a preset (`speed_estimate`); None
    where the preset does not apply to the model (fast without a distilled LoRA)."""
    try:
        values = preset_values(preset, entry, locate=False)
    except ModelError:
        return None
    if entry.signature is None or entry.defaults is None:
        return None
    shape = entry.signature.transformer
    return clip_seconds(
        entry.params.transformer,
        shape.num_layers,
        shape.hidden_size,
        tokens,
        values.steps or entry.defaults.steps,
        entry.defaults.guidance if values.guidance is None else values.guidance,
        cache=values.cache,
        lora=bool(values.loras),
        tflops=tflops,
    )
