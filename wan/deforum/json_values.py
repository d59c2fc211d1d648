"""Checks every JSON value from a user passes before anything else reads it (pure).

A lone surrogate (`"\\ud800"`, valid JSON, not valid Unicode) in any string once made every later
JSON answer and the subtitles fail, for all users of the queue; a list nested hundreds deep made
`dataclasses.asdict` recurse until Python gave up. Both are refused at the edge, naming where.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from wan.errors import WanError

MAX_DEPTH = 32  # Deforum settings nest 3 deep; Parseq manifests a few more


def check_json_value(value: Any, name: str, error: Callable[[str], WanError]) -> None:
    """Raise `error(reason)` for text that is not valid Unicode or nesting deeper than
    MAX_DEPTH anywhere in `value`; `name` names the value in the message (e.g. "wan")."""
    stack: list[tuple[Any, str, int]] = [(value, name, 0)]
    while stack:
        item, where, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise error(f"{where}: nested more than {MAX_DEPTH} levels deep; flatten it")
        if isinstance(item, str):
            _check_text(item, where, error)
        elif isinstance(item, Mapping):
            for key, child in item.items():
                _check_text(str(key), f"{where} (a key)", error)
                stack.append((child, f"{where}.{key}" if where else str(key), depth + 1))
        elif isinstance(item, list | tuple):
            stack.extend((child, f"{where}[{i}]", depth + 1) for i, child in enumerate(item))


def _check_text(text: str, where: str, error: Callable[[str], WanError]) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise error(
            f"{where}: character {exc.start} is not valid Unicode (a lone surrogate such as "
            "\\ud800); fix or remove it"
        ) from None
