"""Checks behind RenderOptions that read the same under pydantic 1 and 2.

AUTOMATIC1111 pins pydantic 1, Forge has pydantic 2. The version-specific parts (config,
validators, field details) sit behind the small adapters here; the input rules run before
pydantic's own parsing so both versions accept the same values; and a ValidationError of
either version becomes an `OptionsError` worded by this module, naming the JSON key or the CLI
flag. Imports no torch.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

import pydantic
from pydantic import BaseModel

from wan.core.sizes import format_size, parse_size
from wan.errors import OptionsError

PYDANTIC_V2: bool = int(pydantic.VERSION.split(".")[0]) >= 2

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://|^data:", re.IGNORECASE)

_Model = TypeVar("_Model", bound=BaseModel)


# ----------------------------------------------------------------------------------------------
# Version adapters


def before_validator(*names: str) -> Callable[[Any], Any]:
    """A field validator that runs before pydantic's own parsing, in either version."""
    if PYDANTIC_V2:
        return pydantic.field_validator(*names, mode="before")
    return pydantic.validator(*names, pre=True, allow_reuse=True)


if PYDANTIC_V2:

    class StrictModel(BaseModel):
        """Frozen, and unknown keys are errors (a typo must not be silently ignored)."""

        model_config = pydantic.ConfigDict(extra="forbid", frozen=True)

else:  # pragma: no cover - exercised by tests/render/pydantic1_check.py

    class StrictModel(BaseModel):  # type: ignore[no-redef]
        """Frozen, and unknown keys are errors (a typo must not be silently ignored)."""

        class Config:
            extra = "forbid"
            frozen = True


class _Invalid(ValueError):
    """A value of the wrong kind: the message is the field's expectation, worded later."""


# ----------------------------------------------------------------------------------------------
# Shared input rules (the same in both versions: pydantic 1 would turn 2.5 into 2 and 5 into "5")


def check_number(value: Any, whole: bool = False) -> Any:
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


def check_flag(value: Any) -> Any:
    """true/false, also as 0/1 or their usual words (forms and query strings send text)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    text = value.strip().lower() if isinstance(value, str) else None
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise _Invalid()


def check_text(value: Any) -> Any:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _Invalid()
    return value.strip()


def check_size(value: Any) -> str | None:
    if value is None:
        return None
    return format_size(*parse_size(value))


def check_local_path(value: Any) -> Any:
    value = check_text(value)
    if isinstance(value, str) and _URL.match(value):
        raise ValueError("URLs are not downloaded: save the image and give its local path")
    return value


def model_schema(model: type[BaseModel]) -> dict[str, Any]:
    """A model's JSON schema, in each pydantic version's own dialect."""
    if PYDANTIC_V2:
        return model.model_json_schema()
    return model.schema()  # pragma: no cover - pydantic 1 only


def fields_set(model: BaseModel) -> set[str]:
    """The fields a model was given explicitly (not left to their defaults)."""
    if PYDANTIC_V2:
        return set(model.model_fields_set)
    return set(model.__fields_set__)  # pragma: no cover - pydantic 1 only


def check_clip_prompts(value: Any) -> dict[int, str]:
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
    if not text.isdecimal() or not text.isascii():
        raise ValueError(f"clip index {key!r}: use a clip number 0, 1, 2, ... (0 is the first)")
    return int(text)


# ----------------------------------------------------------------------------------------------
# Field introspection (the two versions store field details differently)


@dataclass(frozen=True)
class FieldSpec:
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


def field_specs(model: type[BaseModel]) -> dict[str, FieldSpec]:
    if PYDANTIC_V2:
        return {name: _spec_v2(name, f) for name, f in model.model_fields.items()}
    return {name: _spec_v1(name, f) for name, f in model.__fields__.items()}


def _spec_v2(name: str, field: Any) -> FieldSpec:
    annotation = field.annotation
    args = get_args(annotation)
    optional = type(None) in args and get_origin(annotation) in (Union, _union_type())
    base = next(a for a in args if a is not type(None)) if optional else annotation
    bounds = tuple(
        (key, getattr(m, key)) for m in field.metadata for key in _BOUNDS if hasattr(m, key)
    )
    return FieldSpec(
        name,
        base,
        optional,
        field.get_default(call_default_factory=True),
        field.description or "",
        bounds,
    )


def _spec_v1(name: str, field: Any) -> FieldSpec:  # pragma: no cover - pydantic 1 only
    info = field.field_info
    bounds = tuple(
        (key, getattr(info, key)) for key in _BOUNDS if getattr(info, key, None) is not None
    )
    base = field.outer_type_
    if isinstance(base, type) and not issubclass(base, BaseModel):
        # constrained types (ConstrainedIntValue, ...) subclass the plain type they constrain
        base = next((t for t in (bool, int, float, str) if issubclass(base, t)), base)
    return FieldSpec(
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


def _expectation(spec: FieldSpec, json_keys: bool = True) -> str:
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
        text = "an object with keys " + ", ".join(field_specs(spec.nested))
    elif spec.item_model is not None:
        text = "a list of objects with keys " + ", ".join(field_specs(spec.item_model))
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
# ValidationErrors as OptionsError messages


@dataclass(frozen=True)
class ErrorNaming:
    """How errors name things: JSON key paths (API) or CLI flags, and the value given."""

    name_of: Callable[[tuple], tuple[str, str]]  # loc -> (key or flag, field inside a flag)
    value_of: Callable[[tuple], Any]  # loc -> the value as given, or ABSENT
    json_keys: bool


def validate_model(model: type[_Model], data: dict[str, Any], naming: ErrorNaming) -> _Model:
    """`model(**data)`, with a ValidationError of either version raised as an OptionsError."""
    try:
        return model(**data)
    except pydantic.ValidationError as exc:
        problems = [_describe(error, naming, model) for error in exc.errors()]
        raise OptionsError("; ".join(dict.fromkeys(problems))) from None


# pydantic 1 and 2 name their error types differently; these are the ones worded specially.
_EXTRA = ("value_error.extra", "extra_forbidden")
_MISSING = ("value_error.missing", "missing")


def _describe(error: Mapping[str, Any], naming: ErrorNaming, root: type[BaseModel]) -> str:
    """One problem as `WHERE VALUE: how to fix it`, worded the same in both versions."""
    loc = tuple(error.get("loc") or ())
    kind = str(error.get("type", ""))
    if kind in _EXTRA:
        return _unknown_key(loc, root)
    where, inner = naming.name_of(loc)
    prefix = f"{inner}: " if inner else ""
    spec = _spec_at(loc, root)
    expected = ""
    if spec is not None:
        item = bool(loc) and isinstance(loc[-1], int) and spec.item_model is not None
        shown_spec = _item_spec(spec) if item else spec
        expected = "use " + _expectation(shown_spec, naming.json_keys)
    if kind in _MISSING:
        return f"{where}: {prefix}required" + (f"; {expected}" if expected else "")
    value = naming.value_of(loc)
    shown = f"{where} {value!r}" if value is not ABSENT else where
    own = _own_message(error) if kind == "value_error" else ""  # worded by this module
    return f"{shown}: {prefix}{own or expected or error.get('msg', 'invalid value')}"


def _item_spec(spec: FieldSpec) -> FieldSpec:
    return FieldSpec(spec.name, spec.item_model, False, None, spec.description, ())


def _own_message(error: Mapping[str, Any]) -> str:
    """The text of a ValueError raised by a validator here (empty for `_Invalid`)."""
    cause = (error.get("ctx") or {}).get("error")
    if cause is not None:
        return str(cause)
    return str(error.get("msg", "")).removeprefix("Value error, ")


def _unknown_key(loc: tuple, root: type[BaseModel]) -> str:
    parent = _model_at(loc[:-1], root)
    known = list(field_specs(parent)) if parent else []
    key = str(loc[-1]) if loc else "?"
    where = ".".join(str(p) for p in loc[:-1] if not isinstance(p, int))
    place = f" in {where}" if where else ""
    close = difflib.get_close_matches(key, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown option {key!r}{place}{hint}; options here: {', '.join(known)}"


def _model_at(loc: tuple, root: type[BaseModel]) -> type[BaseModel] | None:
    model: type[BaseModel] | None = root
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        spec = field_specs(model).get(str(part))
        model = spec and (spec.nested or spec.item_model)
    return model


def _spec_at(loc: tuple, root: type[BaseModel]) -> FieldSpec | None:
    model: type[BaseModel] | None = root
    spec = None
    for part in loc:
        if isinstance(part, int):
            continue
        if model is None:
            return None
        spec = field_specs(model).get(str(part))
        if spec is None:
            return None
        model = spec.nested or spec.item_model
    return spec


ABSENT = object()


def value_at(data: Any, loc: tuple) -> Any:
    for part in loc:
        if isinstance(data, Mapping) and part in data:
            data = data[part]
        elif isinstance(data, Sequence) and not isinstance(data, str) and isinstance(part, int):
            data = data[part] if 0 <= part < len(data) else ABSENT
        else:
            return ABSENT
    return data


def json_key_name(loc: tuple) -> tuple[str, str]:
    """The JSON key path of an error, e.g. loras[0].strength."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "render options", ""
