"""How much work one request may ask for, so no settings file or API call can exhaust the machine.

Every limit has a default that real Deforum animations stay far below, and an environment
variable that raises or lowers it (`WAN_LIMIT_MAX_FRAMES=50000`); `python -m wan limits` and
`GET /wan/v1/limits` show the values in force. A value past a limit is refused before any work
starts, with a message naming the setting, the limit and the variable that changes it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from wan.errors import LimitError

ENV_PREFIX = "WAN_LIMIT_"


@dataclass(frozen=True)
class Limits:
    """The limits in force; each field's metadata says what it bounds."""

    max_frames: int = 20_000  # frames of one animation, Deforum's and the model's (fps converted)
    max_fps: float = 240.0  # frames per second of the animation
    max_side: int = 4096  # width or height of a video, in pixels
    max_steps: int = 200  # denoising steps per clip
    max_image_pixels: int = 40_000_000  # width x height of an init image, read from its header
    max_image_bytes: int = 50_000_000  # size of an init image file or decoded data URL
    max_json_depth: int = 32  # nesting of settings, options and API bodies
    max_text_length: int = 100_000  # characters of one string (a prompt, a schedule)
    max_plan_seconds: float = 30.0  # time the schedules and the plan of one animation may take
    max_download_bytes: int = 200_000_000  # size of one downloaded input (a soundtrack, a manifest)
    max_download_seconds: float = 60.0  # time one download of an input URL may take

    @staticmethod
    def env_name(name: str) -> str:
        return ENV_PREFIX + name.upper()

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


DEFAULT_LIMITS = Limits()
HELP = {
    "max_frames": "frames of one animation (Deforum's, and the model's after fps conversion)",
    "max_fps": "frames per second of an animation",
    "max_side": "width or height of a video, in pixels",
    "max_steps": "denoising steps per clip",
    "max_image_pixels": "pixels (width x height) of an init image",
    "max_image_bytes": "bytes of an init image",
    "max_json_depth": "nesting depth of settings, options and API bodies",
    "max_text_length": "characters of one text value (a prompt, a schedule)",
    "max_plan_seconds": "seconds the schedules and plan of one animation may take",
    "max_download_bytes": "bytes of one downloaded input (init image, soundtrack, Parseq manifest)",
    "max_download_seconds": "seconds one download of an input URL may take",
}


def limits_from_env(environ: Mapping[str, str] | None = None) -> Limits:
    """The limits with every `WAN_LIMIT_<NAME>` of `environ` (default os.environ) applied."""
    environ = os.environ if environ is None else environ
    changed: dict[str, Any] = {}
    for field in fields(Limits):
        raw = environ.get(Limits.env_name(field.name))
        if raw is None or not raw.strip():
            continue
        kind = int if field.type in (int, "int") else float
        try:
            value = kind(raw.strip())
        except ValueError:
            value = None
        if value is None or not value > 0 or value == float("inf"):
            raise LimitError(
                f"{Limits.env_name(field.name)}={raw!r} is not a positive "
                f"{'whole number' if kind is int else 'number'}; unset it for the default "
                f"{getattr(DEFAULT_LIMITS, field.name)}"
            )
        changed[field.name] = value
    return Limits(**changed) if changed else DEFAULT_LIMITS


def current_limits() -> Limits:
    """The limits in force now (read from the environment each time: cheap, and a test or a
    host can change them without restarting)."""
    return limits_from_env()


def check_at_most(
    value: float, limit: str, where: str, limits: Limits | None = None, fix: str = "lower it"
) -> None:
    """Raise LimitError naming `where` (the setting) when `value` is past the limit `limit`."""
    limits = limits or current_limits()
    bound = getattr(limits, limit)
    if value > bound:
        raise LimitError(past_limit(where, value, limit, bound, fix))


def past_limit(where: str, value: float, limit: str, bound: float, fix: str = "lower it") -> str:
    """The one wording of a value past a limit; `fix` says what the user can do instead."""
    return (
        f"{where} is {_number(value)}, past the limit of {_number(bound)} {HELP[limit]}; {fix}, "
        f"or raise the limit with {Limits.env_name(limit)}"
    )


def _number(value: float) -> str:
    """Whole numbers in full (40000000, not 4e+07); others as Python's shortest form."""
    if isinstance(value, int) or (abs(value) < 1e15 and float(value).is_integer()):
        return str(int(value))
    return f"{value:g}"
