"""Shrinks a failing settings file to the keys (and prompts) the failure needs, so a report
shows a reproducer of a few lines instead of a 300-key Deforum file."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

MAX_TRIES = 400


def shrink(text: str, fails: Callable[[str], bool]) -> str:
    """The smallest settings text found that still `fails` (the text itself if none)."""
    try:
        data = json.loads(text)
    except ValueError:
        return text
    if not isinstance(data, dict):
        return text
    tries = [0]

    def still_fails(candidate: dict[str, Any]) -> bool:
        tries[0] += 1
        return tries[0] <= MAX_TRIES and fails(json.dumps(candidate, indent=4))

    if not still_fails(data):
        return text
    data = _drop_items(data, still_fails)
    for key in ("prompts", "animation_prompts"):
        if isinstance(data.get(key), dict):
            data = {**data, key: _drop_items(data[key], _inside(data, key, still_fails))}
    return json.dumps(data, indent=4)


def _inside(data: dict[str, Any], key: str, fails: Callable[[dict[str, Any]], bool]):
    """`fails` for a candidate value of data[key] (the rest of data kept)."""
    return lambda value: fails({**data, key: value})


def _drop_items(data: dict[str, Any], fails: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """Remove chunks of keys, halving the chunk size down to one key (delta debugging)."""
    keys = list(data)
    size = max(1, len(keys) // 2)
    while keys:
        index = 0
        while index < len(keys):
            kept = keys[:index] + keys[index + size :]
            if fails({k: data[k] for k in kept}):
                keys = kept
            else:
                index += size
        if size == 1:
            break
        size = max(1, size // 2)
    return {k: data[k] for k in keys}
