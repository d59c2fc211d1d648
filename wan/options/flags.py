"""Command-line flags generated from the RenderOptions fields.

`add_option_arguments` adds one flag per leaf field (help text from the field descriptions;
--lora and --prompt are parsed here) and `options_from_args` reads back only the flags the user
gave, so errors name the flag. Imports no torch.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, get_origin

from pydantic import BaseModel

from wan.errors import OptionsError
from wan.options.checks import ABSENT, ErrorNaming, FieldSpec, field_specs, json_key_name
from wan.options.render_options import RenderOptions, validate_options


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
    ("last_image",): _Cli(metavar="IMAGE"),
}


@dataclass(frozen=True)
class _Flag:
    path: tuple[str, ...]
    spec: FieldSpec
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
    for name, spec in field_specs(model).items():
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
        return json_key_name(loc)

    def value_of(loc: tuple) -> Any:
        path = tuple(str(p) for p in loc if not isinstance(p, int))
        for size in range(len(path), 0, -1):
            if path[:size] in raw:
                value = raw[path[:size]]
                index = next((p for p in loc if isinstance(p, int)), None)
                if isinstance(value, list) and index is not None and index < len(value):
                    return value[index]
                return " ".join(value) if isinstance(value, list) else value
        return ABSENT

    return validate_options(data, ErrorNaming(name_of, value_of, json_keys=False))


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _help(spec: FieldSpec) -> str:
    text = spec.description
    if spec.default not in (None, (), {}) and spec.nested is None:
        shown = str(spec.default).lower() if isinstance(spec.default, bool) else spec.default
        text += f" (default: {shown})"
    return text.replace("%", "%%")
