"""The prompt of every frame, as Deforum builds it.

- Keys are frame numbers (``"30"``) or expressions in ``max_f`` (= max_frames - 1), such as
  ``"max_f/2"``; Deforum itself cannot evaluate ``max_f`` in prompt keys, we can.
- Prompts are a step function of the frame: a key's prompt holds until the next key, and the
  first prompt also covers the frames before its key. Keys outside the animation are ignored
  (unless no key is inside it, then the earliest one covers everything).
- Each prompt is merged with the positive and negative parts as Deforum does at run time,
  ``f"{pos} {val} {'' if '--neg' in val else '--neg'} {neg}"``, then split on ``--neg``.
  Files Deforum saved next to a run already hold merged prompts and are only split.
- Backtick expressions (`` `0.5+0.5*sin(t/10)` ``) are evaluated per frame with numexpr, with
  ``t`` the frame and ``max_f``; the text is replaced by the number (Deforum's `str(float)`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from wan.core.deforum.expressions import evaluate, shown
from wan.core.deforum.schedules import is_lone_sign, is_number
from wan.core.deforum.settings import DeforumSettings
from wan.errors import SettingsError

_BACKTICK = re.compile(r"`[\s\S]*?`")
_NEG = "--neg"


@dataclass(frozen=True)
class PromptKey:
    """A prompt keyframe: where it starts and its merged text (positive --neg negative)."""

    frame: int
    key: str
    text: str


@dataclass(frozen=True)
class FramePrompt:
    positive: str
    negative: str


def merge_prompt(settings: DeforumSettings, text: str) -> str:
    """Deforum's run-time merge of a prompt with the positive and negative prompt fields."""
    if settings.prompts_merged:
        return text
    negative = settings.negative_prompt.replace(_NEG, "")
    marker = "" if _NEG in text else _NEG
    return f"{settings.positive_prompt} {text} {marker} {negative}"


def prompt_keys(settings: DeforumSettings) -> tuple[PromptKey, ...]:
    """The prompt keyframes inside the animation, sorted by frame; a later duplicate wins."""
    by_frame: dict[int, PromptKey] = {}
    outside: list[PromptKey] = []
    for key, text in settings.prompts:
        frame = _key_frame(key, settings.max_frames)
        entry = PromptKey(frame, key, merge_prompt(settings, text))
        if 0 <= frame < settings.max_frames:
            by_frame[frame] = entry
        else:
            outside.append(entry)
    if not by_frame:
        earliest = min(outside, key=lambda k: k.frame)
        return (PromptKey(0, earliest.key, earliest.text),)
    return tuple(by_frame[f] for f in sorted(by_frame))


_KEY_FIX = 'write a frame number such as "30" or an expression in max_f such as "max_f/2"'


def _key_frame(key: str, max_frames: int) -> int:
    if is_number(key):
        try:
            return int(key)
        except ValueError:
            raise SettingsError(
                f"prompt key {key!r} is not a whole frame number; {_KEY_FIX}"
            ) from None
    value = evaluate(
        key,
        {"max_f": max_frames - 1},
        lambda reason: SettingsError(
            f"prompt key {shown(key)!r} is neither a frame number nor an expression "
            f"in max_f: {reason}; {_KEY_FIX}"
        ),
    )
    if np.ndim(value) != 0 or not np.isfinite(value):
        raise SettingsError(f"prompt key {key!r} does not give a frame number; {_KEY_FIX}")
    return int(value)


def key_index_for_frame(keys: tuple[PromptKey, ...], frame: int) -> int:
    """Index of the key whose prompt covers `frame` (the first key covers earlier frames)."""
    frames = [k.frame for k in keys]
    index = int(np.searchsorted(frames, frame, side="right")) - 1
    return max(index, 0)


def split_prompt(text: str, frame: int, max_frames: int, key: str | None = None) -> FramePrompt:
    """Evaluate backtick expressions at `frame`, then split positive / negative on --neg.

    `key` (the prompt's key in `prompts`) only serves to name the prompt in errors.
    """
    values: dict[str, str] = {}  # each distinct expression once: a prompt may repeat one

    def value(match: re.Match) -> str:
        raw = match.group()
        if raw not in values:
            values[raw] = _backtick_value(raw, frame, max_frames, key)
        return values[raw]

    evaluated = _BACKTICK.sub(value, text)
    positive, _, negative = evaluated.partition(_NEG)
    negative = negative.replace(_NEG, " ")
    return FramePrompt(_tidy(positive), _tidy(negative))


def prompt_for_frame(settings: DeforumSettings, frame: int) -> FramePrompt:
    keys = prompt_keys(settings)
    key = keys[key_index_for_frame(keys, frame)]
    return split_prompt(key.text, frame, settings.max_frames, key.key)


def _backtick_value(raw: str, frame: int, max_frames: int, key: str | None) -> str:
    expression = raw[1:-1]
    if len(raw) < 3:
        return "1"  # Deforum: an empty `` is weight 1
    where = "" if key is None else f"prompts[{key!r}]: "

    def error(reason: str) -> SettingsError:
        return SettingsError(
            f"{where}prompt expression {shown(raw)} at frame {frame} cannot be evaluated: {reason}"
        )

    if is_lone_sign(expression):  # Deforum's number check passes it, float() does not
        raise error("a sign without a number")
    if is_number(expression):
        return str(float(expression))
    value = evaluate(expression, {"t": frame, "max_f": max_frames - 1}, error)
    return str(float(value))


def _tidy(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().strip(",").strip()
