"""Deforum schedule strings evaluated to per-frame values, exactly as Deforum computes them.

A schedule looks like ``0:(0), 30:(1.5), "max_f-1":(0)``. Deforum's evaluator
(`FrameInterpolater.parse_inbetweens`) works like this, and so does this module:

- The text is split on ``,`` and each piece on ``:``. A key that is a plain integer once quotes and
  parentheses are removed is that frame; any other key is a numexpr expression in ``max_f``
  (max_frames - 1) and ``s`` (the seed), truncated to an integer. Duplicate keys: the last wins.
  Keys below 0 or at/after max_frames are dropped silently. Frame 0 must have a key.
- A value that is a plain number once quotes and parentheses are removed is a numeric keyframe.
  Any other value is a numexpr expression in ``t`` (the frame index), ``max_f`` and ``s``,
  evaluated at every frame from its key up to the next key.
- Frames between numeric keyframes (and expression values) are linearly interpolated
  (``numpy.interp``, which is what pandas' linear interpolation calls); after the last key the
  value is held.

Deforum evaluates expressions one frame at a time. Here every expression segment is evaluated
once over an int64 frame array: numexpr gives the same bits for an array as for each scalar, so
the result is identical and many times faster. Where Deforum raised a raw KeyError, IndexError,
ZeroDivisionError or UnboundLocalError, or numexpr fails in any way
(`wan.core.deforum.expressions`), we raise `ScheduleError` naming the setting, the piece, the frame
and the reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from wan.core.deforum.expressions import evaluate, shown
from wan.errors import ScheduleError

# Deforum's check_is_number, kept as written (re.match with '$'): the same strings are numbers.
_NUMBER = re.compile(r"^(?=.)([+-]?([0-9]*)(\.([0-9]+))?)$")


@dataclass(frozen=True)
class Keyframe:
    """One parsed keyframe: the frame it starts at and the value text as written (stripped)."""

    frame: int
    text: str
    number: float | None  # the value when it is a plain number, else None (an expression)


def _sanitize(text: str) -> str:
    return text.replace("'", "").replace('"', "").replace("(", "").replace(")", "")


def is_number(text: str) -> bool:
    return _NUMBER.match(text) is not None


def is_lone_sign(text: str) -> bool:
    """'+' or '-' alone: Deforum's check_is_number calls it a number and float() then fails
    (a ValueError in Deforum); callers turn it into a clear error instead."""
    return is_number(text) and not any(char.isdigit() for char in text)


def _evaluate(setting: str, piece: str, expression: str, variables: dict, frame: int | None = None):
    """Run numexpr on one expression; every failure becomes a ScheduleError naming the piece
    and, for a value, the frame of its keyframe."""
    return evaluate(
        expression, variables, lambda reason: ScheduleError(setting, piece, reason, frame)
    )


def parse_keyframes(
    text: str, max_frames: int, seed: int, setting: str = ""
) -> tuple[Keyframe, ...]:
    """Parse a schedule string into its keyframes inside [0, max_frames), sorted by frame."""
    if not isinstance(text, str):
        raise ScheduleError(setting, repr(text), "a schedule must be a string like '0:(1.0)'")
    if text.strip() == "":
        raise ScheduleError(setting, text, "the schedule is empty; write at least '0:(value)'")
    max_f = max_frames - 1
    by_frame: dict[int, str] = {}
    previous = ""
    pieces = text.split(",")
    for index, piece in enumerate(pieces):
        if piece.strip() == "":
            raise ScheduleError(setting, text, _empty_piece(index, len(pieces)))
        parts = piece.split(":")
        if len(parts) < 2:
            hint = (
                "commas separate keyframes, so a value cannot contain a comma"
                if previous.count("(") > previous.count(")")
                else "write each keyframe as 'frame:(value)'"
            )
            raise ScheduleError(setting, piece.strip(), f"missing ':' ({hint})")
        frame = _parse_key(parts[0], max_f, seed, setting, piece)
        by_frame[frame] = parts[1].strip()
        previous = piece
    keyframes = []
    for frame in sorted(by_frame):
        if not 0 <= frame < max_frames:
            continue
        value = by_frame[frame]
        sanitized = _sanitize(value)
        if is_lone_sign(sanitized):
            raise ScheduleError(
                setting, f"{frame}:{value}", f"value {value!r} is a sign without a number", frame
            )
        number = float(sanitized) if is_number(sanitized) else None
        if number is not None and not np.isfinite(number):  # float() gives inf past 1.8e308
            raise ScheduleError(
                setting, shown(f"{frame}:{value}"), "the value is too large for a number", frame
            )
        keyframes.append(Keyframe(frame, value, number))
    if not keyframes or keyframes[0].frame != 0:
        raise ScheduleError(
            setting, text, "frame 0 has no value; a schedule must start with a '0:(...)' keyframe"
        )
    return tuple(keyframes)


def _empty_piece(index: int, count: int) -> str:
    """Why a schedule has an empty keyframe (Deforum refuses it too, with a numexpr error)."""
    if index == 0:
        return "the schedule starts with a comma; remove the comma before the first keyframe"
    if index == count - 1:
        return "the schedule ends with a comma; remove the comma after the last keyframe"
    return f"two commas in a row after keyframe {index}; remove one"


def _parse_key(key: str, max_f: int, seed: int, setting: str, piece: str) -> int:
    """A key is an integer frame, or an expression in max_f and s (truncated like int())."""
    sanitized = _sanitize(key.strip())
    if is_number(sanitized):
        try:
            return int(_sanitize(key))
        except ValueError:
            raise ScheduleError(
                setting, piece.strip(), f"key {sanitized!r} is not a whole frame number"
            ) from None
    expression = _strip_one_quote_pair(key.strip())
    if expression == "":
        raise ScheduleError(setting, piece.strip(), "a keyframe has no frame number before ':'")
    variables = {"max_f": max_f, "s": seed}
    value = _evaluate(setting, piece.strip(), expression, variables)
    if value.ndim != 0 or not np.isfinite(value):
        raise ScheduleError(setting, piece.strip(), f"key {key.strip()!r} is not a frame number")
    return int(value)


def _strip_one_quote_pair(key: str) -> str:
    """Deforum removes the first ' and " and the last ' and " of an expression key."""
    stripped = key.replace("'", "", 1).replace('"', "", 1)
    return stripped[::-1].replace("'", "", 1).replace('"', "", 1)[::-1]


def evaluate_schedule(text: str, max_frames: int, seed: int = -1, setting: str = "") -> np.ndarray:
    """Per-frame float64 values of a numeric schedule, equal bit for bit to Deforum's.

    The array is read-only so that it can be shared safely by the immutable core.
    """
    if max_frames < 1:
        raise ScheduleError(setting, str(max_frames), "max_frames must be at least 1")
    keyframes = parse_keyframes(text, max_frames, seed, setting)
    values = np.full(max_frames, np.nan, dtype=np.float64)
    max_f = max_frames - 1
    for index, key in enumerate(keyframes):
        end = keyframes[index + 1].frame if index + 1 < len(keyframes) else max_frames
        if key.number is not None:
            values[key.frame] = key.number
            continue
        frames = np.arange(key.frame, end, dtype=np.int64)
        piece = f"{key.frame}:{key.text}"
        variables = {"t": frames, "max_f": max_f, "s": seed}
        result = _evaluate(setting, piece, key.text, variables, key.frame)
        segment = np.broadcast_to(result, frames.shape).astype(np.float64)
        bad = ~np.isfinite(segment)
        if bad.any():
            frame = int(frames[np.argmax(bad)])
            raise ScheduleError(
                setting, piece, f"the value is not a finite number at frame {frame}"
            )
        values[key.frame : end] = segment
    _fill_between_keys(values)
    values.flags.writeable = False
    return values


def _fill_between_keys(values: np.ndarray) -> None:
    """Deforum: last frame takes the last known value, then linear interpolation fills the gaps."""
    known = ~np.isnan(values)
    if known.all():
        return
    last = len(values) - 1
    if not known[last]:
        values[last] = values[np.flatnonzero(known)[-1]]
        known[last] = True
    where = np.flatnonzero(known)
    gaps = np.flatnonzero(~known)
    values[gaps] = np.interp(gaps, where, values[where])


def evaluate_string_schedule(
    text: str, max_frames: int, seed: int = -1, setting: str = ""
) -> tuple[str, ...]:
    """Per-frame values of a text schedule (sampler, checkpoint, ...): forward-filled, unquoted."""
    keyframes = parse_keyframes(text, max_frames, seed, setting)
    out: list[str] = []
    for index, key in enumerate(keyframes):
        end = keyframes[index + 1].frame if index + 1 < len(keyframes) else max_frames
        out.extend([_sanitize(key.text)] * (end - key.frame))
    return tuple(out)


def evaluate_schedules(
    schedules: Mapping[str, str],
    max_frames: int,
    seed: int = -1,
    names: Iterable[str] | None = None,
) -> dict[str, np.ndarray]:
    """Evaluate several numeric schedules by name (all of `schedules` when `names` is None)."""
    chosen = schedules if names is None else names
    return {name: evaluate_schedule(schedules[name], max_frames, seed, name) for name in chosen}
