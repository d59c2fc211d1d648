"""Parseq manifests read as Deforum reads them (pure): which schedules, prompts and seeds they
override, and with what per-frame values.

Deforum's `parseq_adapter.py` (docs/FACTS.md section 1, "Parseq") does this, and so does this
module:
- `parseq_manifest` empty (or blank): no Parseq. Otherwise it is the manifest's JSON text, or a
  URL (text starting with ``http``), which Deforum downloads. Here a URL needs its text fetched
  by the caller and put in its place (`settings.with_parseq_text`); the core downloads nothing.
  A settings file may also name a saved manifest by its path (`settings.load_settings`).
- A field is managed when the first entry of ``rendered_frames`` has it; the others fall back to
  the settings' schedules. The motion schedules (angle, zoom, translation_x/_y/_z,
  rotation_3d_x/_y/_z, perspective_flip_theta/_phi/_gamma) read ``<field>_delta`` when
  ``parseq_use_deltas`` is on (Parseq writes the per-frame change, zoom's as 1 + the change, and
  the absolute value at frame 0), ``<field>`` when it is off; every other schedule reads its
  Parseq field (`FIELDS`), never a delta. With deltas on, a manifest without ``<field>_delta``
  leaves that motion schedule to the settings, even when it has ``<field>``.
- ``parseq_non_schedule_overrides`` on: the animation has as many frames as ``rendered_frames``
  has entries, and ``options.output_fps`` / ``options.cadence`` (when set) replace fps and
  diffusion_cadence.
- Per-frame values: each entry's value goes to its ``frame`` (a later duplicate wins; entries at
  or past the frame count are unused); from the last entry's frame to the end, the last entry's
  value holds (a manifest shorter than max_frames).
- ``deforum_prompt`` in the first entry: the manifest gives every frame's prompt (``positive
  --neg negative``), used as written (no merge with the positive and negative prompt fields).
- ``seed`` in the first entry: the seed of every diffused frame is int() of the manifest's value,
  whatever seed_behavior says (as seed_behavior 'schedule' with the manifest's seeds).
Where Deforum would read a value that is not there (a frame missing from the middle, a managed
field missing from an entry, a null), it fails or renders NaN; here a `SettingsError` names the
setting, the entry, the frame and the field.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from wan.core.deforum.json_values import check_json_value
from wan.errors import SettingsError, excerpt
from wan.limits import Limits, current_limits, past_limit

SETTING = "parseq_manifest"

# Deforum schedule -> Parseq field, for the schedules read as deltas when parseq_use_deltas is on.
DELTA_FIELDS = MappingProxyType(
    {
        name: name
        for name in (
            "angle",
            "zoom",
            "translation_x",
            "translation_y",
            "translation_z",
            "rotation_3d_x",
            "rotation_3d_y",
            "rotation_3d_z",
            "perspective_flip_theta",
            "perspective_flip_phi",
            "perspective_flip_gamma",
        )
    }
)
# Deforum schedule -> Parseq field, never a delta. Deforum names some itself (fov, scale,
# noise, ...); the others it finds by dropping '_series' and '_schedule' from its own series'
# name (transform_center_x_series -> transform_center_x, aspect_ratio_series -> aspect_ratio).
FIELDS = MappingProxyType(
    {
        "perspective_flip_fv": "perspective_flip_fv",
        "transform_center_x": "transform_center_x",
        "transform_center_y": "transform_center_y",
        "fov_schedule": "fov",
        "aspect_ratio_schedule": "aspect_ratio",
        "near_schedule": "near",
        "far_schedule": "far",
        "strength_schedule": "strength",
        "noise_schedule": "noise",
        "contrast_schedule": "contrast",
        "cfg_scale_schedule": "scale",
        "steps_schedule": "steps_schedule",
        "noise_multiplier_schedule": "noise_multiplier",
        "seed_schedule": "seed",
        "subseed_schedule": "subseed",
        "subseed_strength_schedule": "subseed_strength",
    }
)
STRING_FIELDS = MappingProxyType(
    {"sampler_schedule": "sampler_schedule", "checkpoint_schedule": "checkpoint"}
)
PROMPT_FIELD = "deforum_prompt"
SEED_FIELD = "seed"
_UNSAFE_IN_TEXT = set(",:'\"()")  # a text schedule's value cannot hold these (schedules.py)
_PASTE = "paste the manifest's JSON (Parseq's 'Copy output' / the saved .json) into parseq_manifest"


@dataclass(frozen=True)
class ParseqValues:
    """What a manifest overrides: frame count, fps and cadence (when it sets them and
    parseq_non_schedule_overrides is on), the per-frame values of each managed schedule, the
    prompts and whether it gives the seeds; `notes` say where it does less than it seems to."""

    max_frames: int
    fps: float | None
    cadence: int | None
    schedules: Mapping[str, np.ndarray]  # Deforum schedule -> read-only float64, max_frames long
    texts: Mapping[str, tuple[str, ...]]  # text schedules (sampler, checkpoint)
    prompts: tuple[str, ...] | None  # every frame's prompt, "positive --neg negative"
    manages_seed: bool
    notes: tuple[str, ...]


def is_url(text: str) -> bool:
    """Deforum downloads a manifest that starts with 'http' (parseq_adapter.load_manifest)."""
    return text.strip().startswith("http")


def manifest_from_setting(value: Any, limits: Limits | None = None) -> dict[str, Any] | None:
    """The manifest of the `parseq_manifest` setting: None when empty, else its JSON text
    parsed. The core never downloads: a URL is a SettingsError saying what to do (a caller that
    fetched it puts the text in its place: `settings.with_parseq_text`)."""
    if value is None:
        return None
    if isinstance(value, Mapping):  # a manifest given as a JSON object rather than as text
        return _checked(dict(value), limits)
    if not isinstance(value, str):
        raise SettingsError(
            f"setting '{SETTING}' must be the manifest's JSON text or a URL, "
            f"got {type(value).__name__}"
        )
    if value.strip() in ("", "None"):
        return None
    if is_url(value):
        raise SettingsError(
            f"setting '{SETTING}' is a URL ({excerpt(value.strip())}) that was not downloaded "
            "(`python -m wan` and the tab download it; the API only when its server allows URL "
            f"inputs): open the URL, then {_PASTE}, or save it as a file and set {SETTING} to "
            "its path"
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise SettingsError(
            f"setting '{SETTING}': character {exc.start} is not valid Unicode (a lone "
            "surrogate); fix or remove it"
        ) from None
    try:
        manifest = json.loads(value)
    except json.JSONDecodeError as exc:
        raise SettingsError(
            f"setting '{SETTING}' is not a Parseq manifest: invalid JSON at line {exc.lineno}, "
            f"column {exc.colno} ({exc.msg}); {_PASTE}, or give a URL or the path of the "
            "saved manifest"
        ) from None
    return _checked(manifest, limits)


def _checked(manifest: Any, limits: Limits | None) -> dict[str, Any]:
    if not isinstance(manifest, Mapping):
        raise SettingsError(
            f"setting '{SETTING}' is JSON but not a Parseq manifest: a manifest is an object "
            f'with "rendered_frames"; got {type(manifest).__name__}'
        )
    check_json_value(manifest, SETTING, lambda reason: SettingsError(f"setting {reason}"), limits)
    frames = manifest.get("rendered_frames")
    if not isinstance(frames, list) or not frames:
        got = "none" if frames is None else excerpt(frames, 40)
        raise SettingsError(
            f"setting '{SETTING}' has no frames: a Parseq manifest lists them in "
            f'"rendered_frames" (got {got}); render the document in Parseq and copy its '
            "output again"
        )
    return dict(manifest)


def parseq_values(
    manifest: Mapping[str, Any],
    max_frames: int,
    use_deltas: bool = True,
    non_schedule_overrides: bool = True,
    limits: Limits | None = None,
) -> ParseqValues:
    """Deforum's values for a parsed manifest (see the module's docstring) over `max_frames`
    (the settings'; the manifest's own count when `non_schedule_overrides`)."""
    limits = limits or current_limits()
    entries = manifest["rendered_frames"]
    numbers = _frame_numbers(entries)
    options = manifest.get("options")
    options = options if isinstance(options, Mapping) else {}
    count = max_frames
    fps = cadence = None
    if non_schedule_overrides:
        count = len(entries)
        if count > limits.max_frames:
            where = f"setting '{SETTING}' (its {count} rendered_frames)"
            raise SettingsError(past_limit(where, count, "max_frames", limits.max_frames))
        fps = _option_fps(options.get("output_fps"), limits)
        cadence = _option_cadence(options.get("cadence"))
    first = entries[0]
    reader = _Reader(entries, numbers, count)
    schedules: dict[str, np.ndarray] = {}
    notes: list[str] = []
    for name, field in DELTA_FIELDS.items():
        wanted = f"{field}_delta" if use_deltas else field
        if wanted in first:
            schedules[name] = reader.floats(wanted)
        elif use_deltas and field in first:
            notes.append(
                f"{SETTING} has '{field}' but no '{field}_delta': with parseq_use_deltas on, "
                f"Deforum uses the settings' {name} schedule, and so does Wan; turn "
                "parseq_use_deltas off to use the manifest's values as they are"
            )
    for name, field in FIELDS.items():
        if field in first:
            schedules[name] = reader.floats(field)
    texts = {name: reader.texts(field) for name, field in STRING_FIELDS.items() if field in first}
    prompts = reader.prompts(PROMPT_FIELD) if PROMPT_FIELD in first else None
    if cadence is not None and cadence > 1:
        notes.append(
            f"{SETTING}'s options.cadence {cadence} is the diffusion_cadence: Wan generates "
            "every frame, so it only sets how often the seed advances (as in Deforum)"
        )
    if not non_schedule_overrides and len(entries) < max_frames:
        notes.append(
            f"{SETTING} has {len(entries)} frames and max_frames is {max_frames}: frames "
            f"{numbers[-1]} to {max_frames - 1} keep the manifest's last values (as in Deforum)"
        )
    return ParseqValues(
        max_frames=count,
        fps=fps,
        cadence=cadence,
        schedules=MappingProxyType(schedules),
        texts=MappingProxyType(texts),
        prompts=prompts,
        manages_seed=SEED_FIELD in first,
        notes=tuple(notes),
    )


def _frame_numbers(entries: Sequence[Any]) -> tuple[int, ...]:
    out = []
    for index, entry in enumerate(entries):
        where = f"setting '{SETTING}': rendered_frames[{index}]"
        if not isinstance(entry, Mapping):
            raise SettingsError(f"{where} is {excerpt(entry, 40)}; each frame must be an object")
        frame = entry.get("frame")
        if isinstance(frame, float) and frame.is_integer():
            frame = int(frame)
        if not isinstance(frame, int) or isinstance(frame, bool) or frame < 0:
            raise SettingsError(
                f'{where} has "frame": {excerpt(frame, 40)}; each frame needs its number '
                '(0, 1, 2, ...) as "frame"'
            )
        out.append(frame)
    return tuple(out)


def _option_fps(value: Any, limits: Limits) -> float | None:
    if not value:  # Deforum: unset or 0 leaves the settings' fps
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise SettingsError(
            f"setting '{SETTING}': options.output_fps is {excerpt(value, 40)}; it must be a "
            "number greater than 0"
        )
    if not math.isfinite(value) or value > limits.max_fps:
        raise SettingsError(
            past_limit(f"setting '{SETTING}': options.output_fps", value, "max_fps", limits.max_fps)
        )
    return float(value)


def _option_cadence(value: Any) -> int | None:
    if not value:  # Deforum: unset or 0 leaves the settings' diffusion_cadence
        return None
    whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if isinstance(value, bool) or not whole or value < 1 or value > 2**31 - 1:
        raise SettingsError(
            f"setting '{SETTING}': options.cadence is {excerpt(value, 40)}; it must be a whole "
            "number of frames, at least 1"
        )
    return int(value)


class _Reader:
    """Per-frame series of one field, built the way Deforum's `parseq_to_series` builds them."""

    def __init__(self, entries: Sequence[Mapping], numbers: Sequence[int], count: int) -> None:
        self.entries = entries
        self.frames = numbers
        self.count = count

    def series(self, field: str) -> list[Any]:
        missing = object()
        out: list[Any] = [missing] * self.count
        for index, frame in enumerate(self.frames):
            if frame < self.count:
                out[frame] = self._value(index, field)
        last = len(self.entries) - 1
        held = self._value(last, field)
        for frame in range(self.frames[last], self.count):
            out[frame] = held  # a manifest shorter than the animation: its last value holds
        if any(value is missing for value in out):
            first = next(f for f, value in enumerate(out) if value is missing)
            raise SettingsError(
                f"setting '{SETTING}' has no frame {first} in rendered_frames (it gives {field} "
                f"for frames up to {max(self.frames)}); render the document in Parseq again, "
                "or give every frame from 0"
            )
        return out

    def _value(self, index: int, field: str) -> Any:
        entry = self.entries[index]
        if field not in entry or entry[field] is None:
            state = "has no" if field not in entry else "has a null"
            raise SettingsError(
                f"setting '{SETTING}': rendered_frames[{index}] (frame {self.frames[index]}) "
                f"{state} '{field}', which the first frame manages; every frame needs it"
            )
        return entry[field]

    def _fail(self, field: str, frame: int, value: Any, must: str) -> SettingsError:
        return SettingsError(
            f"setting '{SETTING}': '{field}' at frame {frame} is {excerpt(value, 40)}; {must}"
        )

    def floats(self, field: str) -> np.ndarray:
        values = self.series(field)
        out = np.empty(self.count, dtype=np.float64)
        for frame, value in enumerate(values):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise self._fail(field, frame, value, "it must be a number")
            try:
                out[frame] = float(value)
            except OverflowError:
                raise self._fail(field, frame, value, "it must be a finite number") from None
            if not math.isfinite(out[frame]):
                raise self._fail(field, frame, value, "it must be a finite number")
        out.flags.writeable = False
        return out

    def texts(self, field: str) -> tuple[str, ...]:
        values = self.series(field)
        for frame, value in enumerate(values):
            if not isinstance(value, str) or not value.strip() or _UNSAFE_IN_TEXT & set(value):
                raise self._fail(field, frame, value, "it must be a name without , : ' \" ( or )")
        return tuple(value.strip() for value in values)

    def prompts(self, field: str) -> tuple[str, ...]:
        values = self.series(field)
        for frame, value in enumerate(values):
            if not isinstance(value, str):
                raise self._fail(field, frame, value, "it must be text")
        return tuple(values)


def schedule_text(values: Sequence[float] | np.ndarray) -> str:
    """A Deforum schedule string whose evaluation (`schedules.evaluate_schedule`) gives exactly
    `values`: numeric keyframes only where Deforum's linear in-betweens (numpy.interp between
    two keys, the last value held) would not give the very same floats, so a constant or an
    exact ramp is two keys and anything else one per frame; each number is written in full (no
    exponent, which Deforum's number check refuses) with the digits that give back its float."""
    values = np.asarray(values, dtype=np.float64)
    last = len(values) - 1
    keys = [0]
    while keys[-1] < last:
        keys.append(_farthest_key(values, keys[-1]))
    if len(keys) > 1 and np.all(values[keys[-2] :] == values[keys[-2]]):
        keys.pop()  # the last value is held after the last key
    return ", ".join(f"{frame}:({_number(values[frame])})" for frame in keys)


def _farthest_key(values: np.ndarray, start: int) -> int:
    """A frame after `start`, as far as a doubling then halving search finds, up to which the
    in-betweens of keys at `start` and there are exactly `values`."""
    last = len(values) - 1
    good, bad = start + 1, None  # no frame in between: always exact
    while bad is None and good < last:
        trial = min(start + 2 * (good - start), last)
        if _exact_between(values, start, trial):
            good = trial
        else:
            bad = trial
    while bad is not None and bad - good > 1:
        middle = (good + bad) // 2
        if _exact_between(values, start, middle):
            good = middle
        else:
            bad = middle
    return good


def _exact_between(values: np.ndarray, a: int, b: int) -> bool:
    inside = np.arange(a + 1, b)
    line = np.interp(inside, [a, b], [values[a], values[b]])
    return bool(np.array_equal(line, values[a + 1 : b]))


def text_schedule_text(values: Sequence[str]) -> str:
    """A text schedule (sampler, checkpoint) giving `values`, one key where the value changes."""
    keys = [f for f in range(len(values)) if f == 0 or values[f] != values[f - 1]]
    return ", ".join(f'{frame}:("{values[frame]}")' for frame in keys)


def prompt_runs(prompts: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """Per-frame prompts as prompt keys: (frame as text, prompt) where the prompt changes.

    Parseq blends prompts by writing weights that change every frame (``cat :0.93 AND dog
    :0.07``); a key per frame would cut the plan into the shortest clips. So a run of frames
    whose prompts differ only in their numbers is one key, each changing number written as a
    backtick expression in ``t`` that gives the manifest's value at every frame of the run
    (within the number's printed precision): piecewise linear, Parseq's usual blend, whose
    clip-level value is then its mean over the clip as for any backtick (`prompts.clip_prompt`).
    A run whose numbers follow no few straight pieces keeps a key per change."""
    out: list[tuple[str, str]] = []
    start = 0
    templates = [_template(text) for text in prompts]
    for frame in range(1, len(prompts) + 1):
        if frame < len(prompts) and templates[frame] == templates[start]:
            continue
        out.extend(_run_keys(prompts, start, frame))
        start = frame
    return tuple(out)


_NUMBER_IN_TEXT = re.compile(r"(?<![\w.`])[-+]?\d+(?:\.\d+)?(?![\w.`])")
_MAX_PIECES = 6  # straight pieces one weight's expression may have (numexpr nests a 'where' each)


def _template(text: str) -> str:
    """The prompt with its numbers masked; one that holds backticks is its own template (its
    numbers may be inside an expression: left as written)."""
    return "`" + text if "`" in text else _NUMBER_IN_TEXT.sub("#", text)


def _run_keys(prompts: Sequence[str], start: int, end: int) -> list[tuple[str, str]]:
    """The keys of frames start..end-1, whose prompts share one template."""
    texts = prompts[start:end]
    if all(text == texts[0] for text in texts):
        return [(str(start), texts[0])]
    slots = [_NUMBER_IN_TEXT.findall(text) for text in texts]
    pieces = []
    for index in range(len(slots[0])):
        written = [row[index] for row in slots]
        if all(w == written[0] for w in written):
            pieces.append(written[0])
            continue
        expression = _piecewise(start, [float(w) for w in written], _precision(written))
        if expression is None:
            return [(str(start + i), t) for i, t in enumerate(texts) if i == 0 or t != texts[i - 1]]
        pieces.append(f"`{expression}`")
    parts = iter(pieces)
    return [(str(start), _NUMBER_IN_TEXT.sub(lambda _: next(parts), texts[0]))]


def _precision(written: Sequence[str]) -> float:
    """One unit of the last printed decimal: a line through two rounded values is off by up to
    half a unit at each end, and each value by half a unit from the true one."""
    decimals = max((len(w.partition(".")[2]) for w in written), default=0)
    return 10.0**-decimals + 1e-12


def _piecewise(start: int, values: Sequence[float], tolerance: float) -> str | None:
    """A numexpr expression in t equal to values[i] at t = start + i within `tolerance`, made
    of at most _MAX_PIECES straight pieces; None if it needs more."""
    y = np.asarray(values, dtype=np.float64)
    ends = []  # the last index of each piece; a piece starts where the previous one ends
    first = 0
    while first < len(y) - 1:
        last = first + 1
        while last + 1 < len(y) and _straight(y, first, last + 1, tolerance):
            last += 1
        ends.append(last)
        if len(ends) > _MAX_PIECES:
            return None
        first = last
    expression = ""
    for index in reversed(range(len(ends))):
        a = ends[index - 1] if index else 0
        b = ends[index]
        slope = float(y[b] - y[a]) / (b - a)  # plain floats: numpy 2's repr names its type
        piece = f"{float(y[a])!r}+{slope!r}*(t-{start + a})"
        expression = piece if not expression else f"where(t<{start + b},{piece},{expression})"
    return expression


def _straight(y: np.ndarray, a: int, b: int, tolerance: float) -> bool:
    """Whether the line through points a and b passes within `tolerance` of every point between."""
    between = np.arange(a, b + 1)
    line = y[a] + (y[b] - y[a]) * (between - a) / (b - a)
    return bool(np.all(np.abs(line - y[a : b + 1]) <= tolerance))


def _number(value: float) -> str:
    text = np.format_float_positional(value, unique=True, trim="-")
    return "0" if text == "-0" else text
