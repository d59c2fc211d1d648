"""Deforum settings in any style a user has, read into one immutable, validated value.

Three styles exist (see docs/FACTS.md section 1): settings saved from Deforum's UI, settings
Deforum writes next to a run's frames (``<timestring>_settings.txt``, prompts already merged with
the positive and negative parts), and legacy files from early 2023 (old key names, numbers stored
as strings).
`parse_settings` is pure; `load_settings` reads a file, a run folder or takes a dict.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from wan.core.deforum import defaults, parseq
from wan.core.deforum.json_values import check_json_value
from wan.core.deforum.seeds import SEED_SPACE
from wan.errors import SettingsError, excerpt, in_source
from wan.limits import Limits, current_limits, past_limit

MAX_INT32 = 2**31 - 1  # counts beyond this mean nothing to Deforum and overflow numpy
STYLE_UI = "ui-saved"
STYLE_RUN = "run-saved"
STYLE_LEGACY = "legacy"

EMPTY_PROMPTS_NOTE = (
    "prompts is empty: the video is made from an empty prompt (with the positive and negative "
    'prompt fields), as Deforum renders it; add prompts, e.g. {"0": "a forest"}'
)
NO_INIT_IMAGE_NOTE = (
    "use_init is on but init_image is empty: ignored, as Deforum does (the video starts from "
    "the prompt); set init_image or turn use_init off"
)

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off", ""}


@dataclass(frozen=True)
class DeforumSettings:
    """What a Wan render needs from a Deforum animation. Frame numbers are 0-based."""

    source: str
    style: str
    mode: str
    max_frames: int
    fps: float
    width: int
    height: int
    seed: int  # -1: random, resolved once by the plan
    seed_behavior: str
    seed_iter_n: int
    diffusion_cadence: int
    schedules: Mapping[str, str]  # every numeric and text schedule, by Deforum key
    prompts: tuple[tuple[str, str], ...]  # (key as written, prompt), in file order
    positive_prompt: str
    negative_prompt: str
    prompts_merged: bool  # run-saved files already hold the merged prompts
    use_init: bool
    init_image: str | None
    strength: float
    strength_0_no_init: bool
    add_soundtrack: str
    soundtrack_path: str
    batch_name: str
    raw: Mapping[str, Any] = field(repr=False, compare=False)  # the input, unknown keys included
    # where a Parseq manifest does less than it seems to (wan.core.deforum.parseq); plan notes
    parseq_notes: tuple[str, ...] = field(default=(), compare=False)
    # where reading changed what the file says, as Deforum does (use_init without an image,
    # empty prompts); plan notes
    notes: tuple[str, ...] = field(default=(), compare=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (what the plan and metadata record as the settings used)."""
        return {
            "source": self.source,
            "style": self.style,
            "animation_mode": self.mode,
            "max_frames": self.max_frames,
            "fps": self.fps,
            "W": self.width,
            "H": self.height,
            "seed": self.seed,
            "seed_behavior": self.seed_behavior,
            "seed_iter_N": self.seed_iter_n,
            "diffusion_cadence": self.diffusion_cadence,
            "prompts": dict(self.prompts),
            "positive_prompts": self.positive_prompt,
            "negative_prompts": self.negative_prompt,
            "prompts_merged": self.prompts_merged,
            "use_init": self.use_init,
            "init_image": self.init_image,
            "strength": self.strength,
            "add_soundtrack": self.add_soundtrack,
            "soundtrack_path": self.soundtrack_path,
            **dict(self.schedules),
        }


def load_settings(
    source: str | os.PathLike | Mapping[str, Any], parseq_text: str | None = None
) -> DeforumSettings:
    """Load settings from a dict, a settings file (.txt/.json) or a Deforum run folder.
    `parseq_text`: the text of a manifest that parseq_manifest names by URL, fetched by the
    caller (`parse_settings`; `wan.render.fetch.load_fetching` does both). A file's
    parseq_manifest may also be the path of a saved manifest (relative to the settings file),
    read here and put inline."""
    data, name = read_settings_data(source)
    return parse_settings(data, name, parseq_text=parseq_text)


def read_settings_data(source: str | os.PathLike | Mapping[str, Any]) -> tuple[Any, str]:
    """(the settings as the file holds them, not yet validated; the name errors give them): a
    dict as it is, a settings file's JSON, a run folder's newest settings file's JSON. A
    saved manifest's path in parseq_manifest is replaced by its text."""
    if isinstance(source, Mapping):
        return source, "<dict>"
    path = Path(source)
    if path.is_dir():
        path = find_run_settings(path)
    if not path.is_file():
        raise SettingsError(f"{path}: no such settings file; give a Deforum settings .txt/.json")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: cannot be read as text ({exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SettingsError(
            f"{path}: not a Deforum settings file: invalid JSON at line {exc.lineno}, "
            f"column {exc.colno} ({exc.msg})"
        ) from None
    if isinstance(data, Mapping):
        data = _manifest_file_inline(data, path)
    return data, str(path)


def _manifest_file_inline(data: Mapping[str, Any], path: Path) -> Mapping[str, Any]:
    """The settings with a parseq_manifest that names a saved manifest file replaced by the
    file's text (so the settings stand alone, as a job stores them)."""
    value = data.get(parseq.SETTING)
    if not isinstance(value, str) or value.strip() in ("", "None") or parseq.is_url(value):
        return data
    if value.lstrip().startswith(("{", "[")):
        return data  # JSON text
    manifest = Path(value.strip()).expanduser()
    manifest = manifest if manifest.is_absolute() else path.parent / manifest
    if not manifest.is_file():
        raise SettingsError(
            f"{path}: setting '{parseq.SETTING}' is neither a manifest's JSON, a URL nor a "
            f"file: {manifest} does not exist; paste the manifest's JSON or give the path of "
            "the saved manifest"
        )
    try:
        text = manifest.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(
            f"{path}: setting '{parseq.SETTING}': {manifest} cannot be read as text ({exc})"
        ) from None
    return with_parseq_text(data, text)


def with_parseq_text(data: Mapping[str, Any], text: str) -> dict[str, Any]:
    """Settings whose parseq_manifest (a URL, a path) is replaced by the manifest's text, the
    place it came from kept as parseq_manifest_source: the hook for a caller that fetched it,
    and what a job should store, so that the settings alone give the same animation."""
    origin = data.get(parseq.SETTING)
    return {**data, parseq.SETTING: text, f"{parseq.SETTING}_source": origin}


def find_run_settings(folder: Path) -> Path:
    """The settings file of a Deforum run folder: the newest ``*_settings.txt`` by timestring."""
    found = sorted(folder.glob("*_settings.txt"))
    if not found:
        raise SettingsError(
            f"{folder}: no '*_settings.txt' in this folder; give a Deforum run folder "
            "(outputs/img2img-images/<batch>) or the settings file itself"
        )
    return found[-1]


def parse_settings(
    data: Any,
    source: str = "<dict>",
    limits: Limits | None = None,
    parseq_text: str | None = None,
) -> DeforumSettings:
    """Validate a settings dict; missing keys take Deforum's defaults, unknown keys are kept.
    Counts, fps and sizes past `limits` (default: those in force) are refused here, before any
    schedule is evaluated. A Parseq manifest (parseq_manifest) overrides what Deforum lets it
    (`wan.core.deforum.parseq`); `parseq_text` is the manifest's text when parseq_manifest is a
    URL the caller fetched (`with_parseq_text`: the settings with it inline)."""
    if not isinstance(data, Mapping):
        raise SettingsError(f"{source}: settings must be a JSON object, got {type(data).__name__}")
    limits = limits or current_limits()
    if parseq_text is not None:
        data = with_parseq_text(data, parseq_text)
    plain = {k: v for k, v in data.items() if k != parseq.SETTING}  # a manifest is checked whole
    check_json_value(plain, "", lambda reason: SettingsError(f"{source}: setting {reason}"), limits)
    raw = _rename_legacy(data)
    read = _Reader(raw, source, limits)
    mode = read.scalar("animation_mode")
    if mode not in defaults.ANIMATION_MODES:  # a mode Wan cannot render is refused by the plan
        raise SettingsError(
            f"{source}: animation_mode {excerpt(mode)} is not a Deforum mode; set "
            "animation_mode to " + ", ".join(f"'{m}'" for m in defaults.ANIMATION_MODES)
        )
    seed_behavior = read.scalar("seed_behavior")
    if seed_behavior not in defaults.SEED_BEHAVIORS:
        raise SettingsError(
            f"{source}: seed_behavior {excerpt(seed_behavior)} is unknown; use one of "
            + ", ".join(defaults.SEED_BEHAVIORS)
        )
    max_frames = read.within_limit("max_frames", "max_frames")
    fps = read.positive("fps", "max_fps")
    cadence = read.at_least("diffusion_cadence", 1)
    schedules = read.schedules()
    with in_source(source):
        values = _parseq_values(read, max_frames)
    if values is not None and values.prompts is not None:
        # Deforum takes the manifest's prompts as they are: no positive / negative fields
        positive, negative, prompts, merged = "", "", parseq.prompt_runs(values.prompts), True
    else:
        positive, negative, prompts, merged = _prompt_parts(raw, read)
    if values is not None:
        max_frames = values.max_frames
        fps = values.fps or fps
        cadence = values.cadence or cadence
        for name, series in values.schedules.items():
            schedules[name] = parseq.schedule_text(series)
        for name, texts in values.texts.items():
            schedules[name] = parseq.text_schedule_text(texts)
        if values.manages_seed:
            seed_behavior = "schedule"  # Deforum: the manifest's seed on every diffused frame
    notes = [] if prompts else [EMPTY_PROMPTS_NOTE]
    prompts = prompts or (("0", ""),)
    use_init, init_image, init_note = _init_image(read)
    notes += init_note
    return DeforumSettings(
        source=source,
        style=_style(raw),
        mode=mode,
        max_frames=max_frames,
        fps=fps,
        width=read.within_limit("W", "max_side"),
        height=read.within_limit("H", "max_side"),
        seed=read.seed(),
        seed_behavior=seed_behavior,
        seed_iter_n=read.at_least("seed_iter_N", 1),
        diffusion_cadence=cadence,
        schedules=MappingProxyType(schedules),
        prompts=prompts,
        positive_prompt=positive,
        negative_prompt=negative,
        prompts_merged=merged,
        use_init=use_init,
        init_image=init_image,
        strength=read.scalar("strength"),
        strength_0_no_init=read.scalar("strength_0_no_init"),
        add_soundtrack=read.scalar("add_soundtrack"),
        soundtrack_path=read.scalar("soundtrack_path") or "",
        batch_name=read.scalar("batch_name") or "",
        raw=MappingProxyType(dict(raw)),
        parseq_notes=() if values is None else values.notes,
        notes=tuple(notes),
    )


def _parseq_values(read: _Reader, max_frames: int) -> parseq.ParseqValues | None:
    """The Parseq manifest's values, None without one (`wan.core.deforum.parseq`)."""
    manifest = parseq.manifest_from_setting(read.raw.get(parseq.SETTING), limits=read.limits)
    if manifest is None:
        return None
    return parseq.parseq_values(
        manifest,
        max_frames,
        use_deltas=read.scalar("parseq_use_deltas"),
        non_schedule_overrides=read.scalar("parseq_non_schedule_overrides"),
        limits=read.limits,
    )


def _rename_legacy(data: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(data)
    for old, new in defaults.LEGACY_KEYS.items():
        if old in out and new not in out:
            out[new] = out.pop(old)
    return out


def _style(raw: Mapping[str, Any]) -> str:
    if "animation_prompts_positive" not in raw and (
        "positive_prompts" in raw or "negative_prompts" in raw
    ):
        return STYLE_RUN
    legacy_markers = any(k.startswith("controlnet_") for k in raw) or any(
        k in raw for k in defaults.LEGACY_KEYS
    )
    numbers_as_text = any(
        isinstance(raw.get(k), str) and kind in (int, float)
        for k, (_, kind) in defaults.SCALARS.items()
    )
    return STYLE_LEGACY if legacy_markers or numbers_as_text else STYLE_UI


def _prompt_parts(raw: Mapping[str, Any], read: _Reader) -> tuple[str, str, tuple, bool]:
    merged = _style(raw) == STYLE_RUN
    prefix = "" if merged else "animation_"
    positive = read.text(f"{prefix}prompts_positive", defaults.DEFAULT_POSITIVE_PROMPT)
    negative = read.text(f"{prefix}prompts_negative", defaults.DEFAULT_NEGATIVE_PROMPT)
    prompts = raw.get("prompts", defaults.DEFAULT_PROMPTS)
    if isinstance(prompts, str):
        try:
            prompts = json.loads(prompts)
        except json.JSONDecodeError as exc:
            raise SettingsError(
                f"{read.source}: 'prompts' is text but not a JSON object of frame -> prompt "
                f"({exc.msg} at line {exc.lineno}, column {exc.colno})"
            ) from None
    if not isinstance(prompts, Mapping):
        raise SettingsError(
            f"{read.source}: 'prompts' must be an object of frame -> prompt, "
            f'e.g. {{"0": "a forest"}}; got {type(prompts).__name__}'
        )
    items = []
    for key, value in prompts.items():
        if not isinstance(value, str):
            kind = type(value).__name__
            raise SettingsError(
                f"{read.source}: prompts[{excerpt(str(key))}] must be text, got {kind}"
            )
        items.append((str(key).strip(), value))
    return positive, negative, tuple(items), merged


def _init_image(read: _Reader) -> tuple[bool, str | None, list[str]]:
    """(use_init, init_image, notes). use_init without an image is off, as Deforum skips the
    init image then; a URL is kept as it is: the render downloads it (`wan.render.fetch`)."""
    use_init = read.scalar("use_init")
    value = read.scalar("init_image")
    if value is None or value.strip() in ("", "None"):
        value = None
    if use_init and value is None:
        return False, None, [NO_INIT_IMAGE_NOTE]
    return use_init, value, []


def is_url(value: object) -> bool:
    """An http(s) address: what Deforum downloads for init_image and soundtrack_path."""
    return isinstance(value, str) and value.strip().lower().startswith(("http://", "https://"))


def setting(settings: DeforumSettings, key: str) -> Any:
    """A plain setting of defaults.SCALARS the summary does not keep (e.g. the warp's border),
    read from the input with Deforum's default and the same checks as the others."""
    return _Reader(settings.raw, settings.source, current_limits()).scalar(key)


class _Reader:
    """Reads one settings dict key by key, naming the key in every error."""

    def __init__(self, raw: Mapping[str, Any], source: str, limits: Limits) -> None:
        self.raw = raw
        self.source = source
        self.limits = limits

    def fail(self, key: str, reason: str) -> SettingsError:
        return SettingsError(f"{self.source}: setting '{key}' {reason}")

    def scalar(self, key: str) -> Any:
        default, kind = defaults.SCALARS[key]
        value = self.raw.get(key, default)
        if value is None:
            return default
        converter = {int: self._int, float: self._float, bool: self._bool, str: self._str}[kind]
        return converter(key, value)

    def text(self, key: str, default: str) -> str:
        value = self.raw.get(key, default)
        return default if value is None else self._str(key, value)

    def at_least(self, key: str, low: int, high: int = MAX_INT32) -> int:
        value = self.scalar(key)
        if value < low:
            raise self.fail(key, f"is {value}; it must be at least {low}")
        if value > high:
            raise self.fail(key, f"is {value}; it must be at most {high}")
        return value

    def within_limit(self, key: str, limit: str) -> int:
        """A count from 1 up to the limit `limit` (frames, pixels)."""
        value = self.at_least(key, 1)
        self._check_limit(key, value, limit)
        return value

    def positive(self, key: str, limit: str) -> float:
        value = self.scalar(key)
        if not value > 0:
            raise self.fail(key, f"is {value}; it must be greater than 0")
        self._check_limit(key, value, limit)
        return value

    def _check_limit(self, key: str, value: float, limit: str) -> None:
        bound = getattr(self.limits, limit)
        if value > bound:
            where = f"{self.source}: setting '{key}'"
            raise SettingsError(past_limit(where, value, limit, bound))

    def seed(self) -> int:
        value = self.scalar("seed")
        if not -1 <= value < SEED_SPACE:
            raise self.fail(
                "seed",
                f"is {value}; use -1 for a random seed or a number from 0 to {SEED_SPACE - 1}",
            )
        return value

    def schedules(self) -> dict[str, str]:
        out = {}
        for table in (defaults.NUMERIC_SCHEDULES, defaults.STRING_SCHEDULES):
            for key, default in table.items():
                value = self.raw.get(key, default)
                if value is None:
                    value = default
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    value = f"0: ({value})"  # a bare number is a constant schedule
                if not isinstance(value, str):
                    raise self.fail(
                        key, f"must be a schedule string like '0: (1.0)', got {excerpt(value)}"
                    )
                out[key] = value
        return out

    def _int(self, key: str, value: Any) -> int:
        number = self._float(key, value)
        if number != int(number):
            raise self.fail(key, f"is {excerpt(value)}; it must be a whole number")
        return int(number)

    def _float(self, key: str, value: Any) -> float:
        if isinstance(value, bool):
            raise self.fail(key, f"is {excerpt(value)}; it must be a number")
        try:
            number = float(value.strip() if isinstance(value, str) else value)
        except OverflowError:  # a whole number of 400 digits: no float holds it
            raise self.fail(key, f"is {excerpt(value)}; it must be a finite number") from None
        except (TypeError, ValueError):
            raise self.fail(key, f"is {excerpt(value)}; it must be a number") from None
        if not math.isfinite(number):
            raise self.fail(key, f"is {excerpt(value)}; it must be a finite number")
        return number

    def _bool(self, key: str, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise self.fail(key, f"is {excerpt(value)}; it must be true or false")

    def _str(self, key: str, value: Any) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        raise self.fail(key, f"must be text, got {type(value).__name__}")
