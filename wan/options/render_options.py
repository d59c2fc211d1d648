"""RenderOptions: the one definition of what a render can be given.

The CLI flags, the API's `wan` body and the tab fields all come from this model, so a new field
appears everywhere at once (`wan.options.flags` walks the fields for the CLI).

It must run inside both hosts: AUTOMATIC1111 pins pydantic 1, Forge has pydantic 2. The model
therefore only uses what both versions share (`Field` constraints, `Literal`, nested models);
the version-specific parts and the wording of errors (`OptionsError`, the same text in both
versions) live in `wan.options.checks`. Imports no torch.

Defaults that are None mean "the model's or the settings' own value"; the render resolves them
(`wan.core.plan.CONTINUATION_OVERLAP`, `wan.core.sizes.choose_size`, the catalog's defaults).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, Field

from wan.core.deforum.json_values import check_json_value
from wan.core.sizes import parse_size
from wan.errors import OptionsError
from wan.limits import current_limits, past_limit
from wan.options.checks import (
    ErrorNaming,
    StrictModel,
    before_validator,
    check_clip_prompts,
    check_flag,
    check_local_path,
    check_number,
    check_size,
    check_text,
    field_specs,
    fields_set,
    json_key_name,
    model_schema,
    validate_model,
    value_at,
)
from wan.options.choices import (
    ATTENTIONS,
    CACHES,
    CAMERA_MODES,
    DTYPES,
    FPS_MODES,
    GUIDE_SOURCES,
    LANGUAGES,
    OFFLOADS,
    PRESETS,
    VACE_CAMERA_MODES,
)

# The types pydantic validates and documents, from the one list of each (wan/options/choices.py).
Offload = Literal[OFFLOADS]
Attention = Literal[ATTENTIONS]
Cache = Literal[CACHES]
FpsMode = Literal[FPS_MODES]
Dtype = Literal[DTYPES]
Lang = Literal[LANGUAGES]
Camera = Literal[CAMERA_MODES]
VaceCamera = Literal[VACE_CAMERA_MODES]
GuideFrom = Literal[GUIDE_SOURCES]
Preset = Literal[PRESETS]

# The dual clock's defaults, as fractions of the steps (`wan.render.dual_clock`). Time-to-Move's
# README gives, for Wan 2.2 at 50 steps, weak step 2 and strong step 5 for camera control (3 and 7
# for dragged objects): the run starts after 4 % of the steps (early enough that the model still
# lays out what the camera reveals), and the guide is held for 6 % more (long enough to fix the
# motion, short enough that the model then repairs the warp's stretch and blur).
CAMERA_WEAK = 0.04
CAMERA_STRONG = 0.10
# VACE follows the guide as its control video by default: masked video-to-video (keep these
# pixels, generate those) is the task VACE was trained on, the whole schedule runs, and the
# revealed regions are the model's own inpainting; the dual clock would hold latents to the guide
# while VACE's control video says "generate" there (docs/DESIGN.md, "VACE and the camera").
VACE_CAMERA = "control"


# ----------------------------------------------------------------------------------------------
# The model


class LoraOption(StrictModel):
    """A LoRA file applied to the video model."""

    path: str = Field(..., min_length=1, description="LoRA file (.safetensors)")
    strength: float = Field(1.0, ge=-5, le=5, description="LoRA strength, -5 to 5")

    @before_validator("path")
    def _check_path(cls, value: Any) -> Any:
        return check_text(value)

    @before_validator("strength")
    def _check_strength(cls, value: Any) -> Any:
        return check_number(value)


class MemoryOptions(StrictModel):
    """Overrides of the memory plan; None lets the plan decide for this machine."""

    offload: Offload | None = Field(
        None, description="where weights wait between uses: none, model, group_block, group_leaf"
    )
    fp8: bool | None = Field(None, description="store transformer weights in fp8 (less VRAM)")
    vae_tiling: bool | None = Field(None, description="decode the video in tiles (less VRAM)")
    text_encoder_on_cpu: bool | None = Field(
        None, description="run the text encoder on the CPU (less VRAM, slower prompts)"
    )
    attention: Attention | None = Field(
        None, description="attention backend: native (PyTorch SDPA), flash or sage"
    )
    force: bool | None = Field(
        None, description="render even if the memory estimate says it will not fit"
    )

    @before_validator("fp8", "vae_tiling", "text_encoder_on_cpu", "force")
    def _check_flags(cls, value: Any) -> Any:
        return check_flag(value)


class EnhanceOptions(StrictModel):
    """Prompt enhancement: rewrite each clip's prompt as a detailed video description."""

    enabled: bool = Field(False, description="rewrite prompts before rendering")
    model: str = Field(
        "rules", min_length=1, description="'rules' (no model) or a prompt model id or folder"
    )
    lang: Lang = Field("en", description="language of the enhanced prompts: en or zh")
    style: str = Field("none", min_length=1, description="style added to enhanced prompts")

    @before_validator("model", "style")
    def _check_texts(cls, value: Any) -> Any:
        return check_text(value)

    @before_validator("enabled")
    def _check_flags(cls, value: Any) -> Any:
        return check_flag(value)


class RenderOptions(StrictModel):
    """Everything a render can be given besides the Deforum settings."""

    model: str | None = Field(
        None, min_length=1, description="catalog id, smoke id, folder or .safetensors file"
    )
    size: str | None = Field(
        None, description="frame size WIDTHxHEIGHT (default: nearest supported to Deforum's W x H)"
    )
    # at most the max_steps limit (wan/limits.py, checked by validate_options): no fixed bound
    steps: int | None = Field(None, ge=1, description="sampling steps (default: model's)")
    guidance: float | None = Field(
        None, ge=0, le=30, description="guidance scale (default: model's)"
    )
    guidance_2: float | None = Field(
        None, ge=0, le=30, description="guidance of the low-noise expert, two-expert models only"
    )
    flow_shift: float | None = Field(
        None, gt=0, le=100, description="flow matching shift (default: model's for the size)"
    )
    seed: int | None = Field(
        None,
        ge=-1,
        le=2**32 - 1,
        description=(
            "seed override (default: the settings' seed); -1: a seed derived from the settings, "
            "the same for the same settings"
        ),
    )
    # None: wan.core.plan.CONTINUATION_OVERLAP (the one place that decides it).
    overlap: int | None = Field(
        None,
        ge=0,
        description=(
            "model frames shared by consecutive clips (default: 1, the previous clip's last "
            "frame, which each clip continues from)"
        ),
    )
    fps_mode: FpsMode = Field(
        "deforum",
        description="deforum: max_frames frames at Deforum's fps; native: the model's fps",
    )
    dtype: Dtype = Field("auto", description="weights dtype: auto, bfloat16, float16, float32")
    depth_model: str | None = Field(
        None,
        min_length=1,
        description=(
            "3D camera guide: the depth model (catalog id, Hub id or folder; default "
            "Depth-Anything-V2-Small when installed, else flat depth)"
        ),
    )
    memory: MemoryOptions = Field(
        default_factory=MemoryOptions, description="memory plan overrides"
    )
    cache: Cache = Field(
        "none", description="step cache (faster, less exact): none, first_block, mag"
    )
    cache_threshold: float | None = Field(
        None, gt=0, lt=1, description="step cache threshold (default: the cache's own)"
    )
    preset: Preset | None = Field(
        None,
        description=(
            "speed preset: quality (the model's own settings), balanced (a step cache from "
            "published per-model data), fast (the distilled 4-step LoRAs); it fills only the "
            "settings you leave unset (wan/options/presets.py)"
        ),
    )
    loras: tuple[LoraOption, ...] = Field((), description="LoRAs applied to the video model")
    enhance: EnhanceOptions = Field(
        default_factory=EnhanceOptions, description="prompt enhancement"
    )
    prompt_overrides: dict[int, str] = Field(
        default_factory=dict, description="prompt for a clip (0-based index), used as given"
    )
    init_image: str | None = Field(
        None, min_length=1, description="first frame image (local file; URLs are not fetched)"
    )
    last_image: str | None = Field(
        None,
        min_length=1,
        description=(
            "last frame of the video, first-last-frame (FLF2V) models only: the last clip ends "
            "on it (local file; URLs are not fetched)"
        ),
    )
    colour_match: bool = Field(
        True, description="match each clip's colours to the clip before it (avoids drift)"
    )
    crossfade: bool = Field(
        False, description="cross-fade the frames clips share instead of dropping them"
    )
    camera: Camera = Field(
        "guide",
        description=(
            "guide: each clip follows the camera guide (the previous frame carried along the "
            "camera path, dual-clock denoising); words: the camera only in the prompt"
        ),
    )
    camera_weak: float = Field(
        CAMERA_WEAK,
        ge=0,
        lt=1,
        description=(
            "camera guide: fraction of the steps skipped, the clip starts from the guide noised "
            "to that step (lower: freer scene; higher: more of the guide kept)"
        ),
    )
    camera_strong: float = Field(
        CAMERA_STRONG,
        ge=0,
        le=1,
        description=(
            "camera guide: fraction of the steps before which the guided region is held to the "
            "guide; at least camera_weak (higher: stricter camera, stiffer picture)"
        ),
    )
    vace_camera: VaceCamera = Field(
        VACE_CAMERA,
        description=(
            "how VACE models follow the camera guide: control: the guide's warped pixels as "
            "VACE's control video (kept), the revealed regions generated; clock: dual-clock "
            "denoising on VACE's latents, as the other models"
        ),
    )
    init_frame: int | None = Field(
        None,
        ge=0,
        description=(
            "the frame of the Deforum run the settings come from (its number, 0-based) as the "
            "init image: settings given as a run folder or its <timestring>_settings.txt"
        ),
    )
    guide_from: GuideFrom = Field(
        "camera",
        description=(
            "each clip's guide video: camera: the previous frame carried along the camera path; "
            "run: the Deforum run's own frames (a re-render: Wan keeps the run's motion and "
            "composition and removes its flicker; settings given as a run folder)"
        ),
    )

    @before_validator("steps", "seed", "overlap", "init_frame")
    def _check_whole(cls, value: Any) -> Any:
        return check_number(value, whole=True)

    @before_validator(
        "guidance", "guidance_2", "flow_shift", "cache_threshold", "camera_weak", "camera_strong"
    )
    def _check_numbers(cls, value: Any) -> Any:
        return check_number(value)

    @before_validator("model")
    def _check_model(cls, value: Any) -> Any:
        return check_text(value)

    @before_validator("colour_match", "crossfade")
    def _check_flags(cls, value: Any) -> Any:
        return check_flag(value)

    @before_validator("size")
    def _check_size(cls, value: Any) -> Any:
        return check_size(value)

    @before_validator("init_image", "last_image")
    def _check_init_image(cls, value: Any) -> Any:
        return check_local_path(value)

    @before_validator("prompt_overrides")
    def _check_prompts(cls, value: Any) -> Any:
        return check_clip_prompts(value)


# ----------------------------------------------------------------------------------------------
# Parsing, dumping, schema


def parse_options(data: Mapping[str, Any] | RenderOptions | None) -> RenderOptions:
    """Options from a JSON object (the API's `wan` body); errors name the key and the fix."""
    if isinstance(data, RenderOptions):
        return data
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise OptionsError(
            f"render options: expected a JSON object of options, not {type(data).__name__}"
        )
    check_json_value(data, "", lambda reason: OptionsError(f"render option {reason}"))
    naming = ErrorNaming(json_key_name, lambda loc: value_at(data, loc), json_keys=True)
    return validate_options({str(k): v for k, v in data.items()}, naming)


def validate_options(data: dict[str, Any], naming: ErrorNaming) -> RenderOptions:
    """RenderOptions from plain values, plus the checks that span fields; errors use `naming`."""
    options = validate_model(RenderOptions, data, naming)
    _check_limits(options, naming)
    if options.cache_threshold is not None and options.cache == "none":
        where, _ = naming.name_of(("cache_threshold",))
        cache, _ = naming.name_of(("cache",))
        raise OptionsError(f"{where} needs a step cache: set {cache} to first_block or mag")
    if options.camera_strong < options.camera_weak:
        strong, _ = naming.name_of(("camera_strong",))
        weak, _ = naming.name_of(("camera_weak",))
        raise OptionsError(
            f"{strong} {options.camera_strong:g} is below {weak} {options.camera_weak:g}: the "
            f"guided steps end after they start; give {strong} >= {weak}"
        )
    return options


def _check_limits(options: RenderOptions, naming: ErrorNaming) -> None:
    """Steps and size past the limits in force (wan/limits.py), named as the user wrote them."""
    limits = current_limits()
    if options.steps is not None and options.steps > limits.max_steps:
        where, _ = naming.name_of(("steps",))
        raise OptionsError(past_limit(where, options.steps, "max_steps", limits.max_steps))
    if options.size is not None:
        side = max(parse_size(options.size))
        if side > limits.max_side:
            where, _ = naming.name_of(("size",))
            where = f"{where} {options.size}: its larger side"
            raise OptionsError(past_limit(where, side, "max_side", limits.max_side))


def merge_defaults(defaults: Mapping[str, Any], request: Mapping[str, Any]) -> dict[str, Any]:
    """The request's options over the host's defaults: None (at any depth) means "not set", and
    option groups (memory, enhance) are merged key by key."""
    merged = dict(defaults)
    for key, value in request.items():
        if value is None:
            continue
        base = merged.get(key)
        if isinstance(base, Mapping) and isinstance(value, Mapping):
            value = merge_defaults(base, value)
        merged[key] = value
    return merged


def requested_options(options: Mapping[str, Any] | RenderOptions | None) -> dict[str, Any]:
    """The options a request set itself: a mapping as given, of a RenderOptions only the fields
    set explicitly (its groups too), so the host's defaults still fill the rest."""
    if options is None:
        return {}
    if isinstance(options, RenderOptions):
        full = options_to_dict(options)
        out = {name: full[name] for name in fields_set(options)}
        for group in ("memory", "enhance"):
            if group in out:
                nested = getattr(options, group)
                out[group] = {name: full[group][name] for name in fields_set(nested)}
        return out
    if not isinstance(options, Mapping):
        parse_options(options)  # raises the options' own error naming the type
    return {str(key): value for key, value in options.items()}


def options_to_dict(options: RenderOptions) -> dict[str, Any]:
    """JSON-ready, in field order (clip prompt keys as strings, sorted by index)."""
    return _dump(options)


def json_schema() -> dict[str, Any]:
    """The JSON schema of RenderOptions, for the API docs (each version's own dialect)."""
    return model_schema(RenderOptions)


def _dump(model: BaseModel) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in field_specs(type(model)):
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            value = _dump(value)
        elif isinstance(value, tuple):
            value = [_dump(v) if isinstance(v, BaseModel) else v for v in value]
        elif isinstance(value, dict):
            value = {str(k): value[k] for k in sorted(value)}
        out[name] = value
    return out
