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
  A clip's prompt carries each expression's mean over the clip's frames (`clip_prompt`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from wan.core.deforum.expressions import evaluate, shown
from wan.core.deforum.schedules import is_lone_sign, is_number
from wan.core.deforum.settings import DeforumSettings
from wan.errors import SettingsError

_BACKTICK = re.compile(r"`[\s\S]*?`")
MEAN_DECIMALS = 3  # of a backtick value that changes over a clip (`clip_prompt`)
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
    return clip_prompt(text, (frame,), max_frames, key)


def clip_prompt(
    text: str, frames: Sequence[int] | np.ndarray, max_frames: int, key: str | None = None
) -> FramePrompt:
    """The prompt a clip made of `frames` carries: each backtick expression becomes its mean
    over the frames, then the text is split on --neg.

    Why the mean: Wan conditions every frame of a clip on one text, so the text stands for the
    whole clip, not one of its frames. A value at one frame (the start, the middle) is a sample
    that aliases a periodic weight: a weight alternating 0 / 1 every 5 frames reads 0 or 1 over a
    60-frame clip depending on where the clip starts, while the mean, 0.5, is the clip's balance.
    For a ramp the mean is the value at the middle, and a value that does not change over the
    frames is written exactly as Deforum writes it (``str(float)``); a changing one as its mean
    rounded to 3 decimals, so the text (and the plan's hash) does not depend on float noise.
    Clips are not split where a weight changes: a clip costs a whole generation and is at least
    5 model frames, a fast oscillation would cut the video into stubs that lose its continuity,
    and the weights are emphasis Wan's text encoder does not read (`wan.core.prompt_syntax` keeps
    the words): they reach the plan and the prompt enhancer. Prompt keys still cut clips.
    """
    frames = np.asarray(frames, dtype=np.int64)
    values: dict[str, str] = {}  # each distinct expression once: a prompt may repeat one

    def value(match: re.Match) -> str:
        raw = match.group()
        if raw not in values:
            values[raw] = _backtick_value(raw, frames, max_frames, key)
        return values[raw]

    evaluated = _BACKTICK.sub(value, text)
    positive, _, negative = evaluated.partition(_NEG)
    negative = negative.replace(_NEG, " ")
    return FramePrompt(_tidy(positive), _tidy(negative))


def prompt_for_frame(settings: DeforumSettings, frame: int) -> FramePrompt:
    keys = prompt_keys(settings)
    key = keys[key_index_for_frame(keys, frame)]
    return split_prompt(key.text, frame, settings.max_frames, key.key)


def _backtick_value(raw: str, frames: np.ndarray, max_frames: int, key: str | None) -> str:
    expression = raw[1:-1]
    if len(raw) < 3:
        return "1"  # Deforum: an empty `` is weight 1
    where = "" if key is None else f"prompts[{key!r}]: "
    frame = int(frames[0])

    def error(reason: str) -> SettingsError:
        return SettingsError(
            f"{where}prompt expression {shown(raw)} at frame {frame} cannot be evaluated: {reason}"
        )

    if is_lone_sign(expression):  # Deforum's number check passes it, float() does not
        raise error("a sign without a number")
    if is_number(expression):
        return str(float(expression))
    result = evaluate(expression, {"t": frames, "max_f": max_frames - 1}, error)
    per_frame = np.broadcast_to(result, frames.shape).astype(np.float64)
    if (per_frame == per_frame[0]).all():
        return str(float(per_frame[0]))  # Deforum's text of the value
    with np.errstate(all="ignore"):
        mean = float(np.mean(per_frame))
    return str(round(mean, MEAN_DECIMALS) + 0.0)  # + 0.0: no "-0.0"


def _tidy(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().strip(",").strip()
