"""Deforum's W x H to a frame size the model supports (pure).

Wan models are trained at a few pixel counts (480p: 832x480, 720p: 1280x720, TI2V: 1280x704) and
need width and height on a grid (multiples of 16, or 32 for TI2V). Deforum animations come in any
size, so the render keeps Deforum's aspect ratio and moves to the model's nearest pixel count:

1. The size classes are the distinct pixel areas of the model's listed sizes.
2. The class whose area is nearest to Deforum's W*H is chosen (absolute difference; a tie goes
   to the smaller area, which is cheaper).
3. width = sqrt(area * r), height = sqrt(area / r) with r = W / H, each rounded to the nearest
   multiple of the model's grid (halves up), and at least one multiple. r is capped at 4:1 (or
   1:4): a sliver of the right area would be thousands of pixels long, beyond what Wan handles.

So 832x480 on a 480p model stays 832x480, 512x512 becomes 624x624 (sqrt(399360) = 631.9 -> 624
on a 16 grid), 720x1280 on TI2V-5B becomes 704x1280 and 513x301 becomes 832x480. An explicit
`--size` is used as given once it is on the grid.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from wan.core.profiles import ModelProfile
from wan.errors import OptionsError

_SIZE = re.compile(r"^\s*(\d+)\s*[xX×*]\s*(\d+)\s*$")
SIZE_HINT = "use WIDTHxHEIGHT with positive whole numbers, e.g. 832x480"
MAX_ASPECT = 4.0  # widest (or tallest) aspect ratio an automatic size keeps


@dataclass(frozen=True)
class SizeChoice:
    width: int
    height: int
    reason: str  # printed and recorded in plan.json

    @property
    def size(self) -> tuple[int, int]:
        return (self.width, self.height)

    def to_dict(self) -> dict:
        return {"width": self.width, "height": self.height, "reason": self.reason}


def parse_size(value: str | Sequence[int]) -> tuple[int, int]:
    """(width, height) from "832x480" or (832, 480); ValueError (no option name) otherwise."""
    if isinstance(value, str):
        match = _SIZE.match(value)
        if not match:
            raise ValueError(SIZE_HINT)
        width, height = int(match[1]), int(match[2])
    elif (
        isinstance(value, Sequence)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        width, height = int(value[0]), int(value[1])
    else:
        raise ValueError(SIZE_HINT)
    if width <= 0 or height <= 0:
        raise ValueError(SIZE_HINT)
    return width, height


def format_size(width: int, height: int) -> str:
    return f"{width}x{height}"


def choose_size(
    deforum_w: int,
    deforum_h: int,
    profile: ModelProfile,
    requested: str | Sequence[int] | None = None,
) -> SizeChoice:
    """The frame size to render at, and a one-line reason for the run's records."""
    multiple = max(1, int(profile.size_multiple))
    if requested is not None:
        return _requested(requested, profile, multiple)
    if deforum_w <= 0 or deforum_h <= 0:
        raise OptionsError(f"Deforum size {deforum_w}x{deforum_h}: W and H must be positive")
    if not profile.sizes:
        raise OptionsError(f"{profile.id} lists no sizes; give one with --size WIDTHxHEIGHT")
    deforum = format_size(deforum_w, deforum_h)
    if (deforum_w, deforum_h) in profile.sizes:
        return SizeChoice(
            deforum_w, deforum_h, f"{deforum}: Deforum's size, supported by the model"
        )
    reference = _size_class(deforum_w * deforum_h, profile.sizes)
    area = reference[0] * reference[1]
    ratio = min(max(deforum_w / deforum_h, 1 / MAX_ASPECT), MAX_ASPECT)
    width = _round_to(math.sqrt(area * ratio), multiple)
    height = _round_to(math.sqrt(area / ratio), multiple)
    aspect = _aspect(deforum_w, deforum_h)
    capped = f", capped at {MAX_ASPECT:g}:1" if ratio != deforum_w / deforum_h else ""
    reason = (
        f"{format_size(width, height)}: Deforum's {deforum} (aspect {aspect}{capped})"
        f" scaled to the model's nearest pixel count, {format_size(*reference)} ({area:,} px),"
        f" on multiples of {multiple}"
    )
    return SizeChoice(width, height, reason)


def nearest_valid(width: int, height: int, multiple: int) -> tuple[int, int]:
    """The size on the model's grid nearest to (width, height)."""
    return _round_to(width, multiple), _round_to(height, multiple)


def _requested(requested: str | Sequence[int], profile: ModelProfile, multiple: int) -> SizeChoice:
    try:
        width, height = parse_size(requested)
    except ValueError as exc:
        raise OptionsError(f"--size {requested!r}: {exc}") from None
    text = format_size(width, height)
    if width % multiple or height % multiple:
        near = format_size(*_suggestion(width, height, multiple, profile.sizes))
        raise OptionsError(
            f"--size {text}: {profile.id} needs width and height in multiples of {multiple}; "
            f"use --size {near}"
        )
    reason = f"{text}: set by --size"
    if (width, height) not in profile.sizes:
        listed = ", ".join(format_size(*s) for s in profile.sizes)
        reason += f" (not one of the model's trained sizes {listed}: quality may drop)"
    return SizeChoice(width, height, reason)


def _suggestion(
    width: int, height: int, multiple: int, trained: Sequence[tuple[int, int]]
) -> tuple[int, int]:
    """The nearest size on the grid; of two equally near (1280x720 on 32), a trained one."""
    candidates = [
        (w, h)
        for w in _nearest_multiples(width, multiple)
        for h in _nearest_multiples(height, multiple)
    ]
    return next((c for c in candidates if c in trained), nearest_valid(width, height, multiple))


def _nearest_multiples(value: int, multiple: int) -> list[int]:
    below = max(multiple, value // multiple * multiple)
    above = below + multiple
    distances = {below: abs(value - below), above: abs(above - value)}
    best = min(distances.values())
    return [m for m, d in distances.items() if d == best]


def _size_class(pixels: int, sizes: Sequence[tuple[int, int]]) -> tuple[int, int]:
    """The first listed size of the area nearest to `pixels` (ties: the smaller area)."""
    by_area: dict[int, tuple[int, int]] = {}
    for w, h in sizes:
        by_area.setdefault(w * h, (w, h))
    best = min(by_area, key=lambda a: (abs(a - pixels), a))
    return by_area[best]


def _round_to(value: float, multiple: int) -> int:
    """Nearest multiple (halves up), never below one multiple."""
    return max(multiple, math.floor(value / multiple + 0.5) * multiple)


def _aspect(width: int, height: int) -> str:
    divisor = math.gcd(width, height)
    w, h = width // divisor, height // divisor
    if w <= 50 and h <= 50:
        return f"{w}:{h}"
    return f"{width / height:.3g}:1" if width >= height else f"1:{height / width:.3g}"
