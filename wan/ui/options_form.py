"""The Generate tab's fields <-> a RenderOptions dict (pure).

`build_options` is the one place the tab turns what the user set into render options: a field
left on "auto" (or empty) is left out, so the host's defaults and then the model's own values
apply. The result is validated by RenderOptions itself and a problem is reported with the
field's label as the tab shows it. `form_values` goes the other way, for loading a finished
run's options back into the tab.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wan.options.checks import ErrorNaming, json_key_name, value_at
from wan.options.choices import AUTO
from wan.options.render_options import parse_options, validate_options
from wan.ui import compat

ON, OFF = "on", "off"
CAMERA_FIELDS = ("camera", "camera_weak", "camera_strong", "vace_camera")
CAMERA_DEFAULTS = {name: getattr(parse_options(None), name) for name in CAMERA_FIELDS}
SWITCHES = (AUTO, ON, OFF)  # memory choices the plan makes unless the user sets them
MEMORY_SWITCHES = ("fp8", "vae_tiling", "text_encoder_on_cpu")
MEMORY_FIELDS = ("offload", *MEMORY_SWITCHES, "attention", "force", "preset")  # the estimate's

# The fields, in the order the tab passes them to its functions.
FIELDS = (
    "model",
    "size",
    "steps",
    "guidance",
    "seed",
    "loras",
    "lora_strengths",
    "offload",
    "fp8",
    "vae_tiling",
    "text_encoder_on_cpu",
    "attention",
    "force",
    "cache",
    "preset",
    "enhance",
    "enhance_lang",
    "enhance_style",
    "enhance_model",
    "fps_mode",
    "colour_match",
    "crossfade",
    "init_image",
    "last_image",
    "camera",
    "camera_weak",
    "camera_strong",
    "vace_camera",
    "depth_model",
    "init_frame",
    "guide_from",
)

LABELS = {
    "model": "Model",
    "size": "Size",
    "steps": "Steps",
    "guidance": "Guidance",
    "seed": "Seed",
    "loras": "LoRAs",
    "loras.strength": "LoRA strength",
    "memory.offload": "Offload",
    "memory.fp8": "fp8 weights",
    "memory.vae_tiling": "VAE tiling",
    "memory.text_encoder_on_cpu": "Text encoder on CPU",
    "memory.attention": "Attention",
    "memory.force": "Render even if it does not fit",
    "cache": "Step cache",
    "preset": "Speed preset",
    "enhance.enabled": "Enhance prompts",
    "enhance.lang": "Enhancement language",
    "enhance.style": "Enhancement style",
    "enhance.model": "Enhancer model",
    "fps_mode": "Frame rate",
    "colour_match": "Colour match",
    "crossfade": "Cross-fade",
    "init_image": "Init image",
    "last_image": "Last image",
    "camera": "Follow the camera",
    "camera_weak": "Guide start (weak clock)",
    "camera_strong": "Guide hold (strong clock)",
    "vace_camera": "VACE camera",
    "depth_model": "Depth model",
    "prompt_overrides": "Prompt to use (clip table)",
    "init_frame": "Init frame of the run",
    "guide_from": "Re-render the run",
}


def build_options(
    values: Mapping[str, Any], prompt_overrides: Mapping[int, str] | None = None
) -> dict[str, Any]:
    """The options dict for `values` (keyed by FIELDS); OptionsError names the tab's field."""
    data: dict[str, Any] = {}
    _put(data, "model", _text(values.get("model")))
    size = _text(values.get("size"))
    _put(data, "size", None if size in (None, AUTO) else size)
    _put(data, "steps", _whole(values.get("steps"), zero_is_unset=True))
    _put(data, "guidance", _number(values.get("guidance"), zero_is_unset=True))
    _put(data, "seed", _whole(values.get("seed")))
    loras = []
    for path, strength in lora_strength_rows(values.get("loras"), values.get("lora_strengths")):
        strength = _number(strength)  # an emptied cell: 1.0, as for a LoRA just chosen
        loras.append({"path": path, "strength": 1.0 if strength is None else strength})
    _put(data, "loras", loras or None)
    memory: dict[str, Any] = {}
    _put(memory, "offload", _choice(values.get("offload")))
    for name in MEMORY_SWITCHES:
        _put(memory, name, _switch(values.get(name)))
    _put(memory, "attention", _choice(values.get("attention")))
    _put(memory, "force", True if values.get("force") else None)
    _put(data, "memory", memory or None)
    _put(data, "cache", _choice(values.get("cache")))
    preset = _choice(values.get("preset"))  # quality changes nothing: the same as no preset
    _put(data, "preset", None if preset == "quality" else preset)
    if values.get("enhance"):
        data["enhance"] = {"enabled": True}
        _put(data["enhance"], "lang", _text(values.get("enhance_lang")))
        _put(data["enhance"], "style", _text(values.get("enhance_style")))
        _put(data["enhance"], "model", _text(values.get("enhance_model")))
    _put(data, "fps_mode", _text(values.get("fps_mode")))
    for flag in ("colour_match", "crossfade"):
        if values.get(flag) is not None:
            data[flag] = bool(values[flag])
    _put(data, "init_image", _text(values.get("init_image")))
    _put(data, "last_image", _text(values.get("last_image")))
    # the camera group shows its defaults: a value left at the default is left out, as "auto"
    camera = {
        "camera": _text(values.get("camera")),
        "camera_weak": _number(values.get("camera_weak")),
        "camera_strong": _number(values.get("camera_strong")),
        "vace_camera": _text(values.get("vace_camera")),
    }
    for name, value in camera.items():
        _put(data, name, None if value == CAMERA_DEFAULTS[name] else value)
    _put(data, "depth_model", _choice(values.get("depth_model")))
    # a recent run's own frames: the init frame (empty or below 0: none), and a re-render
    frame = _whole(values.get("init_frame"))
    _put(data, "init_frame", None if isinstance(frame, int) and frame < 0 else frame)
    _put(data, "guide_from", "run" if values.get("guide_from") else None)
    overrides = {str(i): text for i, text in (prompt_overrides or {}).items()}
    _put(data, "prompt_overrides", overrides or None)
    naming = ErrorNaming(_label, lambda loc: value_at(data, loc), json_keys=True)
    validate_options(data, naming)
    return data


def form_values(options: Mapping[str, Any]) -> dict[str, Any]:
    """The tab's field values (keyed by FIELDS) showing `options` (e.g. a run's metadata).

    The init and last images and prompt overrides are not restored: the images are the run's own
    copies, the overrides belong to a plan the user sees again after pressing Plan.
    """
    memory = options.get("memory") or {}
    enhance = options.get("enhance") or {}
    loras = list(options.get("loras") or ())
    return {
        "model": options.get("model"),
        "size": options.get("size") or AUTO,
        "steps": options.get("steps") or 0,
        "guidance": options.get("guidance") or 0,
        "seed": "" if options.get("seed") is None else str(options["seed"]),
        "loras": [str(lora["path"]) for lora in loras],
        "lora_strengths": [[str(lora["path"]), lora.get("strength", 1.0)] for lora in loras],
        "offload": memory.get("offload") or AUTO,
        **{name: _switch_text(memory.get(name)) for name in MEMORY_SWITCHES},
        "attention": memory.get("attention") or AUTO,
        "force": bool(memory.get("force")),
        "cache": options.get("cache") or "none",
        "preset": options.get("preset") or "quality",
        "enhance": bool(enhance.get("enabled")),
        "enhance_lang": enhance.get("lang") or "en",
        "enhance_style": enhance.get("style") or "none",
        "enhance_model": enhance.get("model") or "rules",
        "fps_mode": options.get("fps_mode") or "deforum",
        "colour_match": bool(options.get("colour_match", True)),
        "crossfade": bool(options.get("crossfade", False)),
        "init_image": None,
        "last_image": None,
        **{name: options.get(name, default) for name, default in CAMERA_DEFAULTS.items()},
        "depth_model": options.get("depth_model") or AUTO,
        "init_frame": -1 if options.get("init_frame") is None else options["init_frame"],
        "guide_from": options.get("guide_from") == "run",
    }


def lora_strength_rows(chosen: Any, table: Any) -> list[list[Any]]:
    """The LoRA strength table's rows ([path, strength]) for the chosen LoRAs, in their order:
    a strength already in `table` (rows of [path, strength]) is kept, a new LoRA gets 1.0.
    Rows of LoRAs no longer chosen are dropped."""
    strengths = {}
    for row in compat.table_rows(table):
        if len(row) >= 2 and _text(row[0]) is not None:
            strengths[_text(row[0])] = row[1]
    rows = []
    for path in chosen or ():
        strength = strengths.get(_text(path))
        rows.append([path, 1.0 if strength in (None, "") else strength])
    return rows


def _label(loc: tuple) -> tuple[str, str]:
    path = ".".join(str(part) for part in loc if not isinstance(part, int))
    for key in (path, path.rsplit(".", 1)[0]):
        if key in LABELS:
            return LABELS[key], ""
    return json_key_name(loc)


def _put(target: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        target[key] = value


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _choice(value: Any) -> str | None:
    text = _text(value)
    return None if text in (None, AUTO) else text


def _switch(value: Any) -> bool | None:
    text = _text(value)
    if text in (None, AUTO):
        return None
    return text == ON if text in (ON, OFF) else text  # anything else: RenderOptions says why


def _switch_text(value: Any) -> str:
    return AUTO if value is None else (ON if value else OFF)


def _number(value: Any, zero_is_unset: bool = False) -> Any:
    """A number box's value (or a text box's), None when empty; 0 means "unset" where asked,
    since gradio shows an empty number box as 0. Text that is no number is kept for
    RenderOptions to name."""
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            value = float(text)
        except ValueError:
            return text
    if value is None or (isinstance(value, float) and value != value):  # NaN: an emptied box
        return None
    if zero_is_unset and value == 0:
        return None
    return value


def _whole(value: Any, zero_is_unset: bool = False) -> Any:
    value = _number(value, zero_is_unset)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value
