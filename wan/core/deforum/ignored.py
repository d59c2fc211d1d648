"""Deforum settings that change Deforum's output but that a Wan render does not use.

`ignored_settings(settings)` is pure: one `IgnoredSetting` per such setting that the file
actually uses (on, or changed from Deforum's default; a key the file lacks is never reported),
plus one per prompt key that falls outside the animation. The plan carries their text as its
`notes`, so `wan plan`, plan.json, POST /plan and the tab say once, per setting, what is ignored
and why.

What a render DOES use (so is never listed here): animation_mode, max_frames, fps, W x H, seed,
seed_behavior, seed_iter_N, seed_schedule (seed_behavior 'schedule'), diffusion_cadence for the
seeds only (Deforum advances its seed once per diffused frame), the prompts with the
positive and negative prompt fields, the camera schedules of the mode (2D: translation_x/_y,
zoom, angle, transform_center_x/_y; 3D: translation_x/_y/_z, rotation_3d_x/_y/_z, fov_schedule,
aspect_ratio_schedule), the warp's settings the camera guide follows (border, padding_mode,
sampling_mode, use_depth_warping, depth_algorithm, aspect_ratio_use_old_formula),
strength_schedule, use_init with init_image, add_soundtrack with soundtrack_path, and a Parseq
manifest (parseq_manifest, parseq_use_deltas, parseq_non_schedule_overrides), whose values
replace the settings' where Deforum lets them (`wan.core.deforum.parseq`): what the rules below
say of a schedule then holds for the manifest's values too.
'Video Input' renders from its video (`wan.render.guide_source`); 'Interpolation' is read
(`schedules` evaluates it) and refused by the plan.

The rules are data (`RULES`): the setting, when it counts as in use, and why it is ignored.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from wan.core.deforum.prompts import _key_frame as key_frame
from wan.core.deforum.prompts import prompt_keys
from wan.core.deforum.settings import DeforumSettings

_TRUE = {"true", "1", "yes", "on"}
# enable_* switches that Deforum turns on when a file lacks them (args.py defaults).
_SWITCHES_ON = frozenset({"enable_noise_multiplier_scheduling"})
_VALUE_LIMIT = 40  # characters of a value quoted in a note (a Parseq manifest can be huge)


@dataclass(frozen=True)
class IgnoredSetting:
    """One ignored setting in use: its key, its value as written, and why it is ignored."""

    setting: str
    value: Any
    reason: str

    @property
    def text(self) -> str:
        return f"{self.setting} = {_shown(self.value)} is ignored: {self.reason}"


@dataclass(frozen=True)
class Rule:
    setting: str
    in_use: Callable[[Any], bool]  # given the raw value (present in the file)
    reason: str
    requires: str | None = None  # an enable_* switch that must be on for Deforum to use it
    unless: str | None = None  # a switch that, when on, makes Deforum use another setting
    modes: tuple[str, ...] = ("2D", "3D")  # the animation modes in which Deforum uses it


def _on(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    return isinstance(value, str) and value.strip().lower() in _TRUE


def _not(*off: Any) -> Callable[[Any], bool]:
    """In use unless the value is one of `off` (text compared without case; None is off)."""
    words = {str(o).strip().lower() for o in off}
    return lambda value: value is not None and str(value).strip().lower() not in words


def _changed(default: Any) -> Callable[[Any], bool]:
    """In use when it differs from Deforum's default (schedules compared without spaces)."""

    def test(value: Any) -> bool:
        if value is None:
            return False
        try:
            return float(value) != float(default)
        except (TypeError, ValueError, OverflowError):  # 10**400 is no float: compare as text
            return _squeeze(value) != _squeeze(default)

    return test


def _above(limit: float) -> Callable[[Any], bool]:
    def test(value: Any) -> bool:
        try:
            return float(value) > limit
        except OverflowError:  # an int past any float is above every limit
            return not str(value).strip().startswith("-")
        except (TypeError, ValueError):
            return False

    return test


def _always(value: Any) -> bool:
    return value is not None


def _squeeze(value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = f"0: ({value})"  # a bare number is a constant schedule (as settings.py reads it)
    return re.sub(r"\s+", "", str(value))


_NOISE = "Wan adds no per-frame noise: each clip is denoised from its own seed's noise"
_STEPS = "Wan uses its own step count (render option steps)"
_SAMPLER = "Wan samples with its own flow-matching scheduler"
_CONTROLNET = "ControlNet is not used by Wan"
_CADENCE = "Wan generates every frame: there are no in-between frames"

RULES: tuple[Rule, ...] = (
    Rule(
        "color_coherence",
        _not("None"),
        "Wan clips are colour-matched to the previous clip instead (render option colour_match)",
    ),
    Rule("color_force_grayscale", _on, "frames are not made grey: the video stays in colour"),
    Rule(
        "hybrid_composite",
        _not("None", False),
        "hybrid video is not supported: no video is composited into the frames",
    ),
    Rule(
        "hybrid_motion",
        _not("None"),
        "hybrid video is not supported: the camera follows the motion schedules only",
    ),
    Rule("use_mask", _on, "masks are not supported: every frame is generated whole"),
    Rule("use_noise_mask", _on, "noise masks are not supported: noise covers every frame whole"),
    Rule("use_mask_video", _on, "mask videos are not supported: every frame is generated whole"),
    Rule(
        "diffusion_cadence",
        _above(1),
        _CADENCE + " to warp and blend (the seeds still advance once per cadence, as in Deforum)",
    ),
    Rule("optical_flow_cadence", _not("None"), _CADENCE + " to blend with optical flow"),
    Rule(
        "optical_flow_redo_generation",
        _not("None"),
        "each frame is generated once: there is no redo pass",
    ),
    Rule("diffusion_redo", _not("0"), "each frame is generated once: there is no redo pass"),
    Rule(
        "enable_perspective_flip",
        _on,
        "perspective flip is not applied: the camera follows the 2D motion schedules only",
        modes=("2D",),
    ),
    Rule("noise_schedule", _changed("0: (0.065)"), _NOISE),
    Rule(
        "noise_multiplier_schedule",
        _changed("0: (1.05)"),
        _NOISE,
        requires="enable_noise_multiplier_scheduling",
    ),
    Rule("contrast_schedule", _changed("0: (1.0)"), "frame contrast is not adjusted"),
    Rule(
        "cfg_scale_schedule",
        _changed("0: (7)"),
        "Wan uses its own guidance (render option guidance)",
    ),
    Rule("steps", _changed(25), _STEPS, unless="enable_steps_scheduling"),
    Rule("steps_schedule", _always, _STEPS, requires="enable_steps_scheduling"),
    Rule("sampler", _changed("Euler a"), _SAMPLER, unless="enable_sampler_scheduling"),
    Rule("sampler_schedule", _always, _SAMPLER, requires="enable_sampler_scheduling"),
    Rule(
        "checkpoint_schedule",
        _always,
        "the Wan model is the one the render is given (render option model)",
        requires="enable_checkpoint_scheduling",
    ),
    Rule(
        "subseed_schedule",
        _always,
        "Wan has no subseeds: each clip uses the seed of its first frame",
        requires="enable_subseed_scheduling",
    ),
    Rule(
        "clipskip_schedule",
        _always,
        "CLIP skip is a Stable Diffusion setting: Wan's text encoder has no such layers",
        requires="enable_clipskip_scheduling",
    ),
    Rule(
        "use_looper",
        _on,
        "guided images (init_images) are not used: only init_image can start the video",
    ),
    Rule(
        "resume_from_timestring",
        _on,
        "Deforum's own run is not resumed: resume a Wan render with render --resume",
    ),
    Rule(
        "frame_interpolation_engine",
        _not("None"),
        "frames are not interpolated: the video has max_frames frames at fps",
    ),
    Rule("r_upscale_video", _on, "the video is not upscaled"),
    Rule("tiling", _on, "tiling is a Stable Diffusion setting: Wan frames do not tile"),
    Rule("restore_faces", _on, "face restoration is not applied"),
    Rule("controlnet_enabled", _on, _CONTROLNET),  # legacy (early 2023) files
    *(Rule(f"cn_{unit}_enabled", _on, _CONTROLNET) for unit in range(1, 6)),
)


def ignored_settings(settings: DeforumSettings) -> tuple[IgnoredSetting, ...]:
    """Every ignored setting `settings` uses, in `RULES` order, then the unused prompt keys."""
    raw = settings.raw
    found = [
        IgnoredSetting(rule.setting, raw[rule.setting], rule.reason)
        for rule in RULES
        if _applies(rule, raw, settings.mode)
    ]
    parseq = [_ParseqNote("parseq_manifest", None, note) for note in settings.parseq_notes]
    return (*found, *parseq, *_unshown_prompts(settings))


def ignored_notes(settings: DeforumSettings) -> tuple[str, ...]:
    """The text of each ignored setting in use (what the plan records as `notes`)."""
    return tuple(dict.fromkeys(item.text for item in ignored_settings(settings)))


def _applies(rule: Rule, raw: Mapping[str, Any], mode: str) -> bool:
    if rule.setting not in raw or mode not in rule.modes:
        return False
    if rule.requires is not None and not _on(raw.get(rule.requires, rule.requires in _SWITCHES_ON)):
        return False
    if rule.unless is not None and _on(raw.get(rule.unless)):
        return False
    return rule.in_use(raw[rule.setting])


@dataclass(frozen=True)
class _ParseqNote(IgnoredSetting):
    """Where a Parseq manifest does less than it seems to (`DeforumSettings.parseq_notes`)."""

    @property
    def text(self) -> str:
        return self.reason


@dataclass(frozen=True)
class _PromptNote(IgnoredSetting):
    """A prompt key outside the animation: 'prompt at frame 500 is past max_frames 120: ...'."""

    @property
    def text(self) -> str:
        return f"{self.reason}: never shown"


def _unshown_prompts(settings: DeforumSettings) -> list[IgnoredSetting]:
    """Prompt keys outside frames 0..max_frames-1 (unless one of them covers the animation)."""
    shown = {key.key for key in prompt_keys(settings)}
    out = []
    for key, _ in settings.prompts:
        if key in shown:
            continue
        frame = key_frame(key, settings.max_frames)
        if frame >= settings.max_frames:
            where = f"is past max_frames {settings.max_frames}"
        elif frame < 0:
            where = "is before frame 0"
        else:
            continue  # a key at the same frame as a later one: that later prompt wins
        at = "" if key == str(frame) else f" ({key!r})"
        out.append(_PromptNote(f"prompts[{key!r}]", key, f"prompt at frame {frame}{at} {where}"))
    return out


def _shown(value: Any) -> str:
    text = repr(value)
    if len(text) > _VALUE_LIMIT:
        return f"{text[: _VALUE_LIMIT - 3]}... ({len(str(value))} characters)"
    return text
