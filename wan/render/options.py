"""RenderOptions: the one definition of what a render can be given.

The CLI flags, the API's `wan` body and the tab fields all come from this model, so a new field
appears everywhere at once: `add_option_arguments` walks the fields (help text from their
descriptions) and `options_from_args` reads back only the flags the user gave.

It must run inside both hosts: AUTOMATIC1111 pins pydantic 1, Forge has pydantic 2. The model
therefore only uses what both versions share (`Field` constraints, `Literal`, nested models) and
the few version-specific parts (config, validators, dumping, schema, errors) sit behind small
adapters here. Errors become `OptionsError` with messages worded by this module, so both
versions report the same text naming the JSON key or the CLI flag. Imports no torch.

Defaults that are None mean "the model's or the settings' own value"; the render resolves them
(`wan.plan.CONTINUATION_OVERLAP`, `wan.render.sizes.choose_size`, the catalog's defaults).
"""

from __future__ import annotations

import argparse
import difflib
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Union, get_args, get_origin

import pydantic
from pydantic import BaseModel, Field

from wan.errors import OptionsError
from wan.render.sizes import format_size, parse_size

PYDANTIC_V2: bool = int(pydantic.VERSION.split(".")[0]) >= 2

Offload = Literal["none", "model", "group_block", "group_leaf"]  # = wan.models.memory.OFFLOADS
Attention = Literal["native", "flash", "sage"]  # = wan.models.plan_overrides.ATTENTION
Cache = Literal["none", "first_block", "mag"]  # = wan.models.plan_overrides.CACHES
FpsMode = Literal["deforum", "native"]
Dtype = Literal["auto", "bfloat16", "float16", "float32"]
Lang = Literal["en", "zh"]

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://|^data:", re.IGNORECASE)


# ----------------------------------------------------------------------------------------------
# Version adapters


def _before(*names: str) -> Callable[[Any], Any]:
    """A field validator that runs before pydantic's own parsing, in either version."""
    if PYDANTIC_V2:
        return pydantic.field_validator(*names, mode="before")
    return pydantic.validator(*names, pre=True, allow_reuse=True)


if PYDANTIC_V2:

    class _Strict(BaseModel):
        """Frozen, and unknown keys are errors (a typo must not be silently ignored)."""

        model_config = pydantic.ConfigDict(extra="forbid", frozen=True)

else:  # pragma: no cover - exercised by tests/render/pydantic1_check.py

    class _Strict(BaseModel):  # type: ignore[no-redef]
        """Frozen, and unknown keys are errors (a typo must not be silently ignored)."""

        class Config:
            extra = "forbid"
            frozen = True


# ----------------------------------------------------------------------------------------------
# The model


class LoraOption(_Strict):
    """A LoRA file applied to the video model."""

    path: str = Field(..., min_length=1, description="LoRA file (.safetensors)")
    strength: float = Field(1.0, ge=-5, le=5, description="LoRA strength, -5 to 5")

    @_before("path")
    def _check_path(cls, value: Any) -> Any:
        return _text(value)

    @_before("strength")
    def _check_strength(cls, value: Any) -> Any:
        return _number(value)


class MemoryOptions(_Strict):
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

    @_before("fp8", "vae_tiling", "text_encoder_on_cpu", "force")
    def _check_flags(cls, value: Any) -> Any:
        return _flag(value)


class EnhanceOptions(_Strict):
    """Prompt enhancement: rewrite each clip's prompt as a detailed video description."""

    enabled: bool = Field(False, description="rewrite prompts before rendering")
    model: str = Field(
        "rules", min_length=1, description="'rules' (no model) or a prompt model id or folder"
    )
    lang: Lang = Field("en", description="language of the enhanced prompts: en or zh")
    style: str = Field("none", min_length=1, description="style added to enhanced prompts")

    @_before("model", "style")
    def _check_texts(cls, value: Any) -> Any:
        return _text(value)

    @_before("enabled")
    def _check_flags(cls, value: Any) -> Any:
        return _flag(value)


class RenderOptions(_Strict):
    """Everything a render can be given besides the Deforum settings."""

    model: str | None = Field(
        None, min_length=1, description="catalog id, smoke id, folder or .safetensors file"
    )
    size: str | None = Field(
        None, description="frame size WIDTHxHEIGHT (default: nearest supported to Deforum's W x H)"
    )
    steps: int | None = Field(None, ge=1, le=200, description="sampling steps (default: model's)")
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
        None, ge=-1, le=2**32 - 1, description="seed override, -1 random (default: settings' seed)"
    )
    # None: wan.plan.CONTINUATION_OVERLAP (the one place that decides it).
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
    memory: MemoryOptions = Field(
        default_factory=MemoryOptions, description="memory plan overrides"
    )
    cache: Cache = Field(
        "none", description="step cache (faster, less exact): none, first_block, mag"
    )
    cache_threshold: float | None = Field(
        None, gt=0, lt=1, description="step cache threshold (default: the cache's own)"
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
    colour_match: bool = Field(
        True, description="match each clip's colours to the clip before it (avoids drift)"
    )
    crossfade: bool = Field(
        False, description="cross-fade the frames clips share instead of dropping them"
    )

    @_before("steps", "seed", "overlap")
    def _check_whole(cls, value: Any) -> Any:
        return _number(value, whole=True)

    @_before("guidance", "guidance_2", "flow_shift", "cache_threshold")
    def _check_numbers(cls, value: Any) -> Any:
        return _number(value)

    @_before("model")
    def _check_model(cls, value: Any) -> Any:
        return _text(value)

    @_before("colour_match", "crossfade")
    def _check_flags(cls, value: Any) -> Any:
        return _flag(value)

    @_before("size")
    def _check_size(cls, value: Any) -> Any:
        return _size_text(value)

    @_before("init_image")
    def _check_init_image(cls, value: Any) -> Any:
        return _local_path(value)

    @_before("prompt_overrides")
    def _check_prompts(cls, value: Any) -> Any:
        return _clip_prompts(value)


class _Invalid(ValueError):
    """A value of the wrong kind: the message is the field's expectation, worded later."""


# ----------------------------------------------------------------------------------------------
# Shared input rules (the same in both versions: pydantic 1 would turn 2.5 into 2 and 5 into "5")


def _number(value: Any, whole: bool = False) -> Any:
    """Numbers (or their text, as from the CLI) checked the same way in both versions."""
    if isinstance(value, bool):
        raise _Invalid()
    if isinstance(value, str):
        text = value.strip()
        try:
            value = int(text) if whole and text.lstrip("+-").isdigit() else float(text)
        except ValueError:
            raise _Invalid() from None
    if isinstance(value, float) and not math.isfinite(value):
        raise _Invalid()
    if whole and isinstance(value, float):
        if not value.is_integer():
            raise _Invalid()
        return int(value)
    return value


_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


def _flag(value: Any) -> Any:
    """true/false, also as 0/1 or their usual words (forms and query strings send text)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    text = value.strip().lower() if isinstance(value, str) else None
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise _Invalid()


def _text(value: Any) -> Any:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Invalid()
    return value.strip()


def _size_text(value: Any) -> str | None:
    if value is None:
        return None
    return format_size(*parse_size(value))


def _local_path(value: Any) -> Any:
    value = _text(value)
    if isinstance(value, str) and _URL.match(value):
        raise ValueError("URLs are not downloaded: save the image and give its local path")
    return value


def _clip_prompts(value: Any) -> dict[int, str]:
    """{clip index: prompt}; JSON object keys are strings, so "2" is clip 2."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValueError('use an object mapping a clip index to its prompt, e.g. {"2": "a fox"}')
    prompts: dict[int, str] = {}
    for key, text in value.items():
        index = _clip_index(key)
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"clip {key}: the prompt must be non-empty text")
        prompts[index] = text.strip()
    return dict(sorted(prompts.items()))


def _clip_index(key: Any) -> int:
    text = str(key).strip() if not isinstance(key, bool) else ""
    if not text.isdigit():
        raise ValueError(f"clip index {key!r}: use a clip number 0, 1, 2, ... (0 is the first)")
    return int(text)


# ----------------------------------------------------------------------------------------------
# Field introspection (the two versions store field details differently)


@dataclass(frozen=True)
class _Spec:
    """One field as both versions can describe it."""

    name: str
    base: Any  # the annotation without None
    optional: bool
    default: Any
    description: str
    bounds: tuple[tuple[str, float], ...]  # ("ge", 1), ("le", 200), ...

    @property
    def choices(self) -> tuple[str, ...]:
        return tuple(get_args(self.base)) if get_origin(self.base) is Literal else ()

    @property
    def nested(self) -> type[BaseModel] | None:
        if isinstance(self.base, type) and issubclass(self.base, BaseModel):
            return self.base
        return None

    @property
    def item_model(self) -> type[BaseModel] | None:
        """The model of a list's items (loras)."""
        if get_origin(self.base) is tuple:
            item = get_args(self.base)[0]
            if isinstance(item, type) and issubclass(item, BaseModel):
                return item
        return None


_BOUNDS = ("ge", "gt", "le", "lt")


def _specs(model: type[BaseModel]) -> dict[str, _Spec]:
    if PYDANTIC_V2:
        return {name: _spec_v2(name, f) for name, f in model.model_fields.items()}
    return {name: _spec_v1(name, f) for name, f in model.__fields__.items()}


def _spec_v2(name: str, field: Any) -> _Spec:
    annotation = field.annotation
    args = get_args(annotation)
    optional = type(None) in args and get_origin(annotation) in (Union, _union_type())
    base = next(a for a in args if a is not type(None)) if optional else annotation
    bounds = tuple(
        (key, getattr(m, key)) for m in field.metadata for key in _BOUNDS if hasattr(m, key)
    )
    return _Spec(
        name,
        base,
        optional,
        field.get_default(call_default_factory=True),
        field.description or "",
        bounds,
    )


def _spec_v1(name: str, field: Any) -> _Spec:  # pragma: no cover - pydantic 1 only
    info = field.field_info
    bounds = tuple(
        (key, getattr(info, key)) for key in _BOUNDS if getattr(info, key, None) is not None
    )
    base = field.outer_type_
    if isinstance(base, type) and not issubclass(base, BaseModel):
        # constrained types (ConstrainedIntValue, ...) subclass the plain type they constrain
        base = next((t for t in (bool, int, float, str) if issubclass(base, t)), base)
    return _Spec(
        name,
        base,
        bool(field.allow_none),
        field.get_default(),
        info.description or "",
        bounds,
    )


def _union_type() -> Any:
    import types

    return getattr(types, "UnionType", Union)


def _expectation(spec: _Spec, json_keys: bool = True) -> str:
    """What a valid value looks like, for error messages."""
    if spec.choices:
        text = "one of " + ", ".join(spec.choices)
    elif spec.base is bool:
        text = "true or false"
    elif spec.base is int:
        text = "a whole number" + _range(spec.bounds)
    elif spec.base is float:
        text = "a number" + _range(spec.bounds)
    elif spec.nested is not None:
        text = "an object with keys " + ", ".join(_specs(spec.nested))
    elif spec.item_model is not None:
        text = "a list of objects with keys " + ", ".join(_specs(spec.item_model))
    elif get_origin(spec.base) is dict:
        text = 'an object mapping a clip index to its prompt, e.g. {"2": "a fox"}'
    else:
        text = "non-empty text"
    return text + (" (or null for the default)" if spec.optional and json_keys else "")


def _range(bounds: tuple[tuple[str, float], ...]) -> str:
    limits = dict(bounds)
    if "ge" in limits and "le" in limits:
        return f" from {_num(limits['ge'])} to {_num(limits['le'])}"
    words = {"ge": ">= {}", "gt": "above {}", "le": "<= {}", "lt": "below {}"}
    parts = [words[key].format(_num(limits[key])) for key in _BOUNDS if key in limits]
    return " " + " and ".join(parts) if parts else ""


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


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
    naming = _Naming(_key_name, lambda loc: _value_at(data, loc), json_keys=True)
    return _validate({str(k): v for k, v in data.items()}, naming)


def options_to_dict(options: RenderOptions) -> dict[str, Any]:
    """JSON-ready, in field order (clip prompt keys as strings, sorted by index)."""
    return _dump(options)


def json_schema() -> dict[str, Any]:
    """The JSON schema of RenderOptions, for the API docs (each version's own dialect)."""
    if PYDANTIC_V2:
        return RenderOptions.model_json_schema()
    return RenderOptions.schema()  # pragma: no cover - pydantic 1 only


def _dump(model: BaseModel) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in _specs(type(model)):
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            value = _dump(value)
        elif isinstance(value, tuple):
            value = [_dump(v) if isinstance(v, BaseModel) else v for v in value]
        elif isinstance(value, dict):
            value = {str(k): value[k] for k in sorted(value)}
        out[name] = value
    return out


@dataclass(frozen=True)
class _Naming:
    """How errors name things: JSON key paths (API) or CLI flags, and the value given."""

    name_of: Callable[[tuple], tuple[str, str]]  # loc -> (key or flag, field inside a flag)
    value_of: Callable[[tuple], Any]  # loc -> the value as given, or _ABSENT
    json_keys: bool


def _validate(data: dict[str, Any], naming: _Naming) -> RenderOptions:
    try:
        options = RenderOptions(**data)
    except pydantic.ValidationError as exc:
        problems = [_describe(error, naming) for error in exc.errors()]
        raise OptionsError("; ".join(dict.fromkeys(problems))) from None
    if options.cache_threshold is not None and options.cache == "none":
        where, _ = naming.name_of(("cache_threshold",))
        cache, _ = naming.name_of(("cache",))
        raise OptionsError(f"{where} needs a step cache: set {cache} to first_block or mag")
    return options


# pydantic 1 and 2 name their error types differently; these are the ones worded specially.
_EXTRA = ("value_error.extra", "extra_forbidden")
_MISSING = ("value_error.missing", "missing")


def _describe(error: Mapping[str, Any], naming: _Naming) -> str:
    """One problem as `WHERE VALUE: how to fix it`, worded the same in both versions."""
    loc = tuple(error.get("loc") or ())
    kind = str(error.get("type", ""))
    if kind in _EXTRA:
        return _unknown_key(loc)
    where, inner = naming.name_of(loc)
    prefix = f"{inner}: " if inner else ""
    spec = _spec_at(loc)
    expected = ""
    if spec is not None:
        item = bool(loc) and isinstance(loc[-1], int) and spec.item_model is not None
        shown_spec = _item_spec(spec) if item else spec
        expected = "use " + _expectation(shown_spec, naming.json_keys)
    if kind in _MISSING:
        return f"{where}: {prefix}required" + (f"; {expected}" if expected else "")
    value = naming.value_of(loc)
    shown = f"{where} {value!r}" if value is not _ABSENT else where
    own = _own_message(error) if kind == "value_error" else ""  # worded by this module
    return f"{shown}: {prefix}{own or expected or error.get('msg', 'invalid value')}"


def _item_spec(spec: _Spec) -> _Spec:
    return _Spec(spec.name, spec.item_model, False, None, spec.description, ())


def _own_message(error: Mapping[str, Any]) -> str:
    """The text of a ValueError raised by a validator here (empty for `_Invalid`)."""
    cause = (error.get("ctx") or {}).get("error")
    if cause is not None:
        return str(cause)
    return str(error.get("msg", "")).removeprefix("Value error, ")


def _unknown_key(loc: tuple) -> str:
    parent = _model_at(loc[:-1])
    known = list(_specs(parent)) if parent else []
    key = str(loc[-1]) if loc else "?"
    where = ".".join(str(p) for p in loc[:-1] if not isinstance(p, int))
    place = f" in {where}" if where else ""
    close = difflib.get_close_matches(key, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown option {key!r}{place}{hint}; options here: {', '.join(known)}"


def _model_at(loc: tuple) -> type[BaseModel] | None:
    model: type[BaseModel] | None = RenderOptions
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        spec = _specs(model).get(str(part))
        model = spec and (spec.nested or spec.item_model)
    return model


def _spec_at(loc: tuple) -> _Spec | None:
    model: type[BaseModel] | None = RenderOptions
    spec = None
    for part in loc:
        if isinstance(part, int):
            continue
        if model is None:
            return None
        spec = _specs(model).get(str(part))
        if spec is None:
            return None
        model = spec.nested or spec.item_model
    return spec


_ABSENT = object()


def _value_at(data: Any, loc: tuple) -> Any:
    for part in loc:
        if isinstance(data, Mapping) and part in data:
            data = data[part]
        elif isinstance(data, Sequence) and not isinstance(data, str) and isinstance(part, int):
            data = data[part] if 0 <= part < len(data) else _ABSENT
        else:
            return _ABSENT
    return data


def _key_name(loc: tuple) -> tuple[str, str]:
    """The JSON key path of an error, e.g. loras[0].strength."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "render options", ""


# ----------------------------------------------------------------------------------------------
# Command line


@dataclass(frozen=True)
class _Cli:
    """How one field is given on the command line, where the default rule does not fit."""

    flag: str | None = None  # default: --field-name
    metavar: str | None = None
    repeat: bool = False  # the flag may be given many times; `parse` reads each
    parse: Callable[[str, str], Any] | None = None  # (flag, text) -> JSON value


def _parse_lora(flag: str, text: str) -> dict[str, Any]:
    """FILE[:STRENGTH], split on the last colon so C:\\loras\\x.safetensors:0.8 works."""
    head, sep, tail = text.rpartition(":")
    if sep and head:
        try:
            return {"path": head, "strength": float(tail)}
        except ValueError:
            pass
        drive = len(head) == 1 and head.isalpha()
        if not drive and "/" not in tail and "\\" not in tail:
            raise OptionsError(
                f"{flag} {text!r}: strength {tail!r} is not a number; "
                r"use FILE or FILE:STRENGTH, e.g. C:\loras\style.safetensors:0.8"
            )
    return {"path": text}


def _parse_clip_prompt(flag: str, text: str) -> tuple[str, str]:
    index, sep, prompt = text.partition("=")
    if not sep or not index.strip().isdigit() or not prompt.strip():
        raise OptionsError(
            f"{flag} {text!r}: use CLIP=TEXT with a 0-based clip number, "
            f'e.g. {flag} "2=a red fox in the snow"'
        )
    return index.strip(), prompt


_CLI: dict[tuple[str, ...], _Cli] = {
    ("size",): _Cli(metavar="WxH"),
    ("memory", "force"): _Cli(flag="--force-memory-plan"),
    ("loras",): _Cli(flag="--lora", metavar="FILE[:STRENGTH]", repeat=True, parse=_parse_lora),
    ("enhance", "enabled"): _Cli(flag="--enhance"),
    ("enhance", "model"): _Cli(flag="--enhance-model"),
    ("prompt_overrides",): _Cli(
        flag="--prompt", metavar="CLIP=TEXT", repeat=True, parse=_parse_clip_prompt
    ),
    ("init_image",): _Cli(metavar="IMAGE"),
}


@dataclass(frozen=True)
class _Flag:
    path: tuple[str, ...]
    spec: _Spec
    cli: _Cli

    @property
    def flag(self) -> str:
        return self.cli.flag or "--" + self.path[-1].replace("_", "-")

    @property
    def dest(self) -> str:
        return self.flag[2:].replace("-", "_")


def option_flags() -> tuple[_Flag, ...]:
    """One flag per leaf field of RenderOptions, nested models included."""
    return tuple(_walk(RenderOptions, ()))


def _walk(model: type[BaseModel], prefix: tuple[str, ...]) -> Iterator[_Flag]:
    for name, spec in _specs(model).items():
        path = (*prefix, name)
        cli = _CLI.get(path, _Cli())
        if spec.nested is not None and cli.parse is None:
            yield from _walk(spec.nested, path)
            continue
        scalar = spec.choices or spec.base in (bool, int, float, str)
        if not scalar and cli.parse is None:
            raise TypeError(f"RenderOptions.{'.'.join(path)}: add a _CLI entry to parse its flag")
        yield _Flag(path, spec, cli)


def add_option_arguments(parser: argparse.ArgumentParser) -> None:
    """Add a flag for every field; every default is None, meaning "not given"."""
    group = parser.add_argument_group("render options")
    for item in option_flags():
        spec, cli = item.spec, item.cli
        help_text = _help(spec)
        if spec.base is bool:
            group.add_argument(
                item.flag,
                dest=item.dest,
                action=argparse.BooleanOptionalAction,
                default=None,
                help=help_text,
            )
            continue
        metavar = cli.metavar or ("{" + ",".join(spec.choices) + "}" if spec.choices else None)
        group.add_argument(
            item.flag,
            dest=item.dest,
            metavar=metavar or item.path[-1].upper(),
            action="append" if cli.repeat else "store",
            default=None,
            help=help_text + (" (repeatable)" if cli.repeat else ""),
        )


def options_from_args(args: argparse.Namespace) -> RenderOptions:
    """Options from the flags the user gave (others keep their defaults); errors name the flag."""
    data: dict[str, Any] = {}
    raw: dict[tuple[str, ...], Any] = {}
    flags: dict[tuple[str, ...], str] = {}
    for item in option_flags():
        flags[item.path] = item.flag
        given = getattr(args, item.dest, None)
        if given is None:
            continue
        raw[item.path] = given
        value = given
        if item.cli.parse is not None:
            parsed = [item.cli.parse(item.flag, text) for text in _as_list(given)]
            value = dict(parsed) if get_origin(item.spec.base) is dict else parsed
        target = data
        for part in item.path[:-1]:
            target = target.setdefault(part, {})
        target[item.path[-1]] = value

    def name_of(loc: tuple) -> tuple[str, str]:
        path = tuple(str(p) for p in loc if not isinstance(p, int))
        for size in range(len(path), 0, -1):
            if path[:size] in flags:
                inner = ".".join(path[size:])
                return flags[path[:size]], inner
        return _key_name(loc)

    def value_of(loc: tuple) -> Any:
        path = tuple(str(p) for p in loc if not isinstance(p, int))
        for size in range(len(path), 0, -1):
            if path[:size] in raw:
                value = raw[path[:size]]
                index = next((p for p in loc if isinstance(p, int)), None)
                if isinstance(value, list) and index is not None and index < len(value):
                    return value[index]
                return " ".join(value) if isinstance(value, list) else value
        return _ABSENT

    return _validate(data, _Naming(name_of, value_of, json_keys=False))


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _help(spec: _Spec) -> str:
    text = spec.description
    if spec.default not in (None, (), {}) and spec.nested is None:
        shown = str(spec.default).lower() if isinstance(spec.default, bool) else spec.default
        text += f" (default: {shown})"
    return text.replace("%", "%%")
