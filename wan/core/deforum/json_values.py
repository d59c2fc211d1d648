"""Checks every JSON value from a user passes before anything else reads it (pure).

A lone surrogate (`"\\ud800"`, valid JSON, not valid Unicode) in any string once made every later
JSON answer and the subtitles fail, for all users of the queue; a list nested hundreds deep made
`dataclasses.asdict` recurse until Python gave up; a 5,000-character value came back in every
error about it. All are refused at the edge, naming where and the limit (wan/limits.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from wan.errors import WanError, excerpt
from wan.limits import Limits, current_limits


def check_json_value(
    value: Any, name: str, error: Callable[[str], WanError], limits: Limits | None = None
) -> None:
    """Raise `error(reason)` for text that is not valid Unicode or longer than the limit, or
    nesting deeper than the limit, anywhere in `value`; `name` names the value in the message
    (e.g. "wan"). Deforum settings nest 3 deep; Parseq manifests a few more."""
    limits = limits or current_limits()
    stack: list[tuple[Any, str, int]] = [(value, name, 0)]
    while stack:
        item, where, depth = stack.pop()
        if depth > limits.max_json_depth:
            raise error(
                f"{where}: nested more than {limits.max_json_depth} levels deep, the limit; "
                f"flatten it, or raise the limit with {Limits.env_name('max_json_depth')}"
            )
        if isinstance(item, str):
            _check_text(item, where, error, limits)
        elif isinstance(item, Mapping):
            for key, child in item.items():
                _check_text(str(key), f"{where} (a key)", error, limits)
                stack.append((child, f"{where}.{key}" if where else str(key), depth + 1))
        elif isinstance(item, list | tuple):
            stack.extend((child, f"{where}[{i}]", depth + 1) for i, child in enumerate(item))


def _check_text(text: str, where: str, error: Callable[[str], WanError], limits: Limits) -> None:
    if len(text) > limits.max_text_length:
        raise error(
            f"{where}: {excerpt(text)} is longer than the limit of {limits.max_text_length} "
            f"characters; shorten it, or raise the limit with "
            f"{Limits.env_name('max_text_length')}"
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise error(
            f"{where}: character {exc.start} is not valid Unicode (a lone surrogate such as "
            "\\ud800); fix or remove it"
        ) from None
