"""The generation plan: a Deforum animation cut into Wan clips.

Conventions (also in DESIGN.md):
- ``fps`` is the Deforum fps, ``model_fps`` the model's native fps.
- ``start_frame`` / ``end_frame`` are 0-based, inclusive Deforum frames; ``model_start`` /
  ``model_end`` are the same span in model frames. Deforum frame f is model frame
  ``round(f * model_fps / fps)``, rounding halves up. The animation covers model frames
  ``0 .. round((max_frames - 1) * model_fps / fps)``.
- Every clip generates ``num_frames`` = 4n+1 model frames, at least 5 and at most the model's
  limit. Consecutive clips share ``overlap`` model frames (the next clip's first ``overlap``
  frames are the previous clip's last ones). The last clip is trimmed: it may generate more
  frames than remain, and ``model_end`` is the animation's last model frame.
- An animation shorter than one minimal clip is one 5-frame clip.
- Clip boundaries fall on prompt keys where possible (within 2 model frames, since clip lengths
  are 4n+1). Keys whose prompt does not change are not boundaries. Keys closer to the previous
  boundary than a minimal clip are merged: the clip takes the prompt covering most of its frames
  and lists the others in ``merged_prompts``. Spans longer than one clip are split evenly.
- A clip's prompt carries each backtick expression's mean over the clip's frames where that
  prompt is in force (`wan.core.deforum.prompts.clip_prompt` says why).
- The final video has exactly ``max_frames`` frames at the Deforum fps (the renderer resamples).

Pure: same settings, profile, seed and overlap give the same plan and the same hash.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from wan.core.deforum import defaults
from wan.core.deforum.degenerate import usable_motion
from wan.core.deforum.ignored import ignored_notes
from wan.core.deforum.prompts import clip_prompt, prompt_keys
from wan.core.deforum.schedules import evaluate_schedule
from wan.core.deforum.seeds import frame_seeds, seed_cadence
from wan.core.deforum.settings import DeforumSettings, is_url
from wan.core.motion import ClipMotion, analyse_motion
from wan.core.profiles import ModelProfile
from wan.errors import LimitError, PlanError, in_source
from wan.limits import Limits, current_limits, past_limit

# Every continuation reuses at least the previous clip's last frame (first image, known frame or
# the first frame of the warped init video), so rendered clips share one frame by default.
CONTINUATION_OVERLAP = 1
ROUNDING_SLACK = 2  # model frames a boundary may sit from its prompt key (4n+1 lengths)

CONDITION_TEXT = "text"
CONDITION_INIT_IMAGE = "init_image"
CONDITION_CONTINUE = "continue"


@dataclass(frozen=True)
class Clip:
    index: int
    start_frame: int
    end_frame: int
    model_start: int
    model_end: int
    num_frames: int  # generated model frames (4n+1); more than the span only for the last clip
    overlap: int  # model frames shared with the previous clip
    prompt: str
    negative_prompt: str
    merged_prompts: tuple[str, ...]
    motion: ClipMotion
    seed: int
    strength: float  # Deforum's strength_schedule at start_frame (how much of the past is kept)
    conditioning: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "start_frame": self.start_frame,
            "end_frame": self.end_frame,
            "model_start": self.model_start,
            "model_end": self.model_end,
            "num_frames": self.num_frames,
            "overlap": self.overlap,
            "prompt": self.prompt,
            "negative_prompt": self.negative_prompt,
            "merged_prompts": list(self.merged_prompts),
            "motion": self.motion.to_dict(),
            "seed": self.seed,
            "strength": self.strength,
            "conditioning": self.conditioning,
        }


@dataclass(frozen=True)
class GenerationPlan:
    source: str
    mode: str
    fps: float
    frames: int  # Deforum max_frames: the final video's frame count
    width: int  # Deforum W x H
    height: int
    model: ModelProfile
    seed: int  # resolved
    seed_behavior: str
    overlap: int
    clips: tuple[Clip, ...]
    settings: DeforumSettings | None = field(default=None, compare=False, repr=False)
    # Deforum settings in use that the render ignores, one line each (wan.core.deforum.ignored);
    # recorded, not hashed: they follow from the settings and change nothing the render does.
    notes: tuple[str, ...] = ()

    @property
    def model_fps(self) -> float:
        return self.model.native_fps

    @property
    def model_frames(self) -> int:
        return self.clips[-1].model_end + 1

    def _content(self) -> dict[str, Any]:
        return {
            "fps": self.fps,
            "model_fps": self.model_fps,
            "frames": self.frames,
            "model_frames": self.model_frames,
            "model": self.model.id,
            "mode": self.mode,
            "width": self.width,
            "height": self.height,
            "seed": self.seed,
            "seed_behavior": self.seed_behavior,
            "overlap": self.overlap,
            "clips": [clip.to_dict() for clip in self.clips],
        }

    @property
    def hash(self) -> str:
        """Stable across runs and machines: sha256 of the canonical JSON of the plan's content."""
        canonical = json.dumps(self._content(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        return {
            **self._content(),
            "source": self.source,
            "hash": self.hash,
            "notes": list(self.notes),
        }


def to_model_frame(frame: int, fps: float, model_fps: float) -> int:
    """Deforum frame -> model frame: round(f * model_fps / fps), halves rounded up."""
    return math.floor(frame * model_fps / fps + 0.5)


def clip_length_up(needed: int) -> int:
    """The smallest 4n+1 that is >= needed."""
    return 4 * max(0, math.ceil((needed - 1) / 4)) + 1


def clip_length_nearest(needed: int) -> int:
    """The 4n+1 nearest to needed (ties go to the longer clip)."""
    return 4 * math.floor((needed - 1) / 4 + 0.5) + 1


def build_plan(
    settings: DeforumSettings,
    profile: ModelProfile,
    seed: int,
    overlap: int = 0,
    limits: Limits | None = None,
    init_image: str | None = None,
) -> GenerationPlan:
    """Cut the animation into clips for `profile`. `seed` is the resolved seed (not -1).
    `limits` (default: those in force) bound the model frames and the time planning takes;
    `init_image` is the render's init image option (--init-image, wan.init_image)."""
    limits = limits or current_limits()
    deadline = time.monotonic() + limits.max_plan_seconds
    if seed < 0:
        raise PlanError(f"seed {seed}: resolve -1 to a concrete seed before planning")
    if settings.mode not in defaults.SUPPORTED_MODES:
        raise PlanError(
            f"{settings.source}: animation_mode '{settings.mode}' is a Deforum mode Wan does not "
            "render yet (`python -m wan schedules` evaluates its schedules); set animation_mode "
            "to " + " or ".join(f"'{mode}'" for mode in defaults.SUPPORTED_MODES)
        )
    min_new = profile.min_clip_frames  # every clip adds at least this many new frames
    if overlap < 0 or clip_length_up(overlap + min_new) > profile.max_clip_frames:
        raise PlanError(
            f"overlap {overlap} does not fit {profile.id}: use 0 to "
            f"{profile.max_clip_frames - min_new} model frames"
        )
    with in_source(settings.source):  # the file's schedules and prompts: errors name it
        return _build(settings, profile, seed, overlap, limits, init_image, deadline)


def _build(
    settings: DeforumSettings,
    profile: ModelProfile,
    seed: int,
    overlap: int,
    limits: Limits,
    init_image: str | None,
    deadline: float,
) -> GenerationPlan:
    """`build_plan` once its arguments are checked: all of it reads the settings."""
    min_new = profile.min_clip_frames
    to_model = lambda f: to_model_frame(f, settings.fps, profile.native_fps)  # noqa: E731
    total = to_model(settings.max_frames - 1) + 1
    if total > limits.max_frames:
        where = (
            f"{settings.source}: the model's video (max_frames {settings.max_frames} at fps "
            f"{settings.fps:g}, made at {profile.id}'s {profile.native_fps:g} fps)"
        )
        raise LimitError(past_limit(where, total, "max_frames", limits.max_frames))
    keys = prompt_keys(settings)
    key_frames = np.asarray([k.frame for k in keys], dtype=np.int64)
    key_models = [to_model(k.frame) for k in keys]
    targets = _boundary_targets(keys, key_models, total)
    groups = _prompt_groups(keys)
    spans = _cut(total, targets, overlap, min_new, profile.max_clip_frames)

    names = _schedule_names(settings)
    schedules = {}
    for name in names:  # one at a time: a schedule of thousands of expressions takes seconds
        _check_time(deadline, limits, f"evaluating {name}")
        text = settings.schedules[name]
        schedules[name] = evaluate_schedule(text, settings.max_frames, seed, name)
    schedules, motion_notes = usable_motion(schedules, settings.mode)  # zoom 0: degenerate.py
    seeds = frame_seeds(
        settings.seed_behavior,
        seed,
        settings.max_frames,
        settings.seed_iter_n,
        schedules.get("seed_schedule"),
        seed_cadence(settings.mode, settings.diffusion_cadence),
    )
    deforum_of_model = _deforum_span_finder(settings.max_frames, settings.fps, profile.native_fps)
    clips = []
    for index, (model_start, model_end, length, merged_keys) in enumerate(spans):
        _check_time(deadline, limits, f"at clip {index} of {len(spans)}")
        clip_overlap = overlap if index else 0
        start_frame, end_frame = deforum_of_model(model_start, model_end)
        chosen, merged = _choose_prompt(
            key_models, groups, model_start + clip_overlap, model_end, merged_keys
        )
        in_force = _frames_in_force(key_frames, groups, start_frame, end_frame)
        text = clip_prompt(
            keys[chosen].text, in_force(chosen), settings.max_frames, keys[chosen].key
        )
        others = tuple(
            clip_prompt(keys[i].text, in_force(i), settings.max_frames, keys[i].key).positive
            for i in merged
        )
        clips.append(
            Clip(
                index=index,
                start_frame=start_frame,
                end_frame=end_frame,
                model_start=model_start,
                model_end=model_end,
                num_frames=length,
                overlap=clip_overlap,
                prompt=text.positive,
                negative_prompt=text.negative,
                merged_prompts=tuple(dict.fromkeys(p for p in others if p != text.positive)),
                motion=analyse_motion(
                    schedules, settings.mode, start_frame, end_frame, settings.width
                ),
                seed=seeds[start_frame],
                strength=float(schedules["strength_schedule"][start_frame]),
                conditioning=_conditioning(index, init_image_used(settings, init_image)),
            )
        )
    return GenerationPlan(
        source=settings.source,
        mode=settings.mode,
        fps=settings.fps,
        frames=settings.max_frames,
        width=settings.width,
        height=settings.height,
        model=profile,
        seed=seed,
        seed_behavior=settings.seed_behavior,
        overlap=overlap,
        clips=tuple(clips),
        settings=settings,
        notes=(
            *ignored_notes(settings),
            *settings.notes,
            *motion_notes,
            *_init_image_notes(init_image_used(settings, init_image)),
        ),
    )


def _init_image_notes(image: str | None) -> tuple[str, ...]:
    """Where the init image comes from when that is not a local file: the render downloads it."""
    if is_url(image):
        return (
            f"init image {image} is a URL: `render` and the tab download it when the render is "
            "queued (checked to be an image within the limits, kept with the job); the API only "
            "when its server allows URL inputs",
        )
    return ()


def _check_time(deadline: float, limits: Limits, doing: str) -> None:
    """Planning stops once it has taken longer than the limit (checked between schedules and
    between clips)."""
    if time.monotonic() > deadline:
        raise LimitError(
            f"planning took longer than the limit of {limits.max_plan_seconds:g} seconds "
            f"({doing}); shorten the animation or simplify its expressions, "
            f"or raise the limit with {Limits.env_name('max_plan_seconds')}"
        )


def _schedule_names(settings: DeforumSettings) -> list[str]:
    motion = {"2D": defaults.MOTION_2D, "3D": defaults.MOTION_3D}.get(settings.mode, ())
    names = [*motion, "strength_schedule"]  # Video Input: no camera (wan.core.motion)
    if settings.seed_behavior == "schedule":
        names.append("seed_schedule")
    return names


def _boundary_targets(keys, key_models: list[int], total: int) -> list[tuple[int, int]]:
    """(model frame, key index) of keys where the prompt changes, inside the animation."""
    targets = []
    for index in range(1, len(keys)):
        if keys[index].text == keys[index - 1].text:
            continue
        if 0 < key_models[index] < total:
            targets.append((key_models[index], index))
    return targets


def _cut(total: int, targets, overlap: int, min_new: int, max_len: int):
    """Walk the model frames and cut clips: [(model_start, model_end, length, merged_keys)]."""
    spans = []
    next_new = 0  # first model frame that no clip covers yet
    start = 0
    pending = list(targets)
    while next_new < total:
        clip_overlap = overlap if spans else 0
        min_len = clip_length_up(min_new + clip_overlap)
        max_new = max_len - clip_overlap
        merged = []
        while pending and pending[0][0] - next_new < min_new:
            merged.append(pending.pop(0)[1])  # too close to this clip's start: merged into it
        target = pending[0][0] if pending else total
        remaining = target - next_new
        pieces = math.ceil(remaining / max_new)
        needed = math.floor(remaining / pieces + 0.5) + clip_overlap
        if not pending and pieces == 1:
            length = max(min_len, clip_length_up(needed))
        else:
            length = min(max_len, max(min_len, clip_length_nearest(needed)))
        end = start + length - 1
        spans.append((start, min(end, total - 1), length, tuple(merged)))
        if pending and pieces == 1:
            pending.pop(0)  # this clip was cut for that key: reached, within the rounding slack
        next_new = end + 1
        start = next_new - overlap
    return spans


def _prompt_groups(keys) -> np.ndarray:
    """For each key, the index of the first key of its run of identical prompts."""
    groups = np.arange(len(keys))
    for index in range(1, len(keys)):
        if keys[index].text == keys[index - 1].text:
            groups[index] = groups[index - 1]
    return groups


def _choose_prompt(key_models, groups, first_new: int, last: int, merged_keys):
    """The prompt covering most of the clip's new frames, and the others worth listing."""
    frames = np.arange(first_new, last + 1)
    owners = np.maximum(np.searchsorted(np.asarray(key_models), frames, side="right") - 1, 0)
    owners = groups[owners]
    counts = np.bincount(owners, minlength=len(key_models))
    chosen = int(np.argmax(counts))
    # Where keys were merged, every prompt that lost its frames is listed; elsewhere a prompt
    # that only covers a rounding offset at the clip's edge is not.
    slack = 0 if merged_keys else ROUNDING_SLACK
    present = {int(o) for o in owners if counts[o] > slack}
    merged = {int(groups[k]) for k in merged_keys}
    return chosen, sorted((merged | present) - {chosen})


def _frames_in_force(key_frames: np.ndarray, groups: np.ndarray, start: int, end: int):
    """For a key (a group head), the Deforum frames of the clip start..end where its prompt is
    in force: the frames its backtick expressions are averaged over (`clip_prompt`); the whole
    clip if none is (a merged prompt, or a rounding offset at the clip's edge)."""
    frames = np.arange(start, end + 1, dtype=np.int64)
    owners = groups[np.maximum(np.searchsorted(key_frames, frames, side="right") - 1, 0)]

    def in_force(key: int) -> np.ndarray:
        mine = frames[owners == groups[key]]
        return mine if len(mine) else frames

    return in_force


def _deforum_span_finder(max_frames: int, fps: float, model_fps: float):
    """Map a model span back to the inclusive Deforum frames whose model frame lies inside it."""
    mapped = np.floor(np.arange(max_frames) * model_fps / fps + 0.5).astype(np.int64)

    def span(model_start: int, model_end: int) -> tuple[int, int]:
        first = int(np.searchsorted(mapped, model_start, side="left"))
        last = int(np.searchsorted(mapped, model_end, side="right")) - 1
        first = min(first, max_frames - 1)
        return first, max(first, last)

    return span


def init_image_used(settings: DeforumSettings, option: str | None) -> str | None:
    """The image a render's first clip starts from: the init image option, else Deforum's
    init_image when use_init is on (the one rule the plan's label and the render share)."""
    return option or (settings.init_image if settings.use_init else None)


def _conditioning(index: int, init_image: str | None) -> str:
    if index > 0:
        return CONDITION_CONTINUE
    return CONDITION_INIT_IMAGE if init_image else CONDITION_TEXT
