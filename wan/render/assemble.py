"""From checkpointed clips to the final frame stream, one clip in memory at a time.

Clip i > 0 starts with `overlap` frames that show the same moments as the end of clip i-1: they
are dropped, or cross-faded into the previous clip's tail. The last clip is trimmed to the
animation's last model frame. The model-frame stream is then resampled to the output fps (by
default exactly max_frames frames at Deforum's fps).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from wan.core.plan import GenerationPlan
from wan.render.checkpoints import load_clip
from wan.render.frames import resample_stream, splice


def model_frame_stream(
    run_dir: Path, plan: GenerationPlan, crossfade: bool
) -> Iterator[np.ndarray]:
    """Every model frame of the animation in order, read clip by clip from the checkpoints."""
    held: np.ndarray | None = None  # the previous clip's tail, kept for the join
    for clip in plan.clips:
        frames, _ = load_clip(run_dir, clip.index)
        frames = frames[: clip.model_end - clip.model_start + 1]  # the last clip is trimmed
        if held is not None and clip.overlap:
            join = splice(held, frames, clip.overlap, crossfade=crossfade)
            yield from join.replace_tail if len(join.replace_tail) else held  # blended or as is
            frames = join.new_frames
        elif held is not None:
            yield from held
        keep = _next_overlap(plan, clip)
        if keep:
            yield from frames[:-keep]
            held = frames[-keep:]
        else:
            yield from frames
            held = None
    if held is not None:
        yield from held


def _next_overlap(plan: GenerationPlan, clip) -> int:
    following = clip.index + 1
    return plan.clips[following].overlap if following < len(plan.clips) else 0


def output_stream(
    run_dir: Path, plan: GenerationPlan, fps_mode: str, crossfade: bool
) -> tuple[Iterator[np.ndarray], float, int]:
    """(frames, fps, count) of the final video."""
    frames = model_frame_stream(run_dir, plan, crossfade)
    if fps_mode == "native":
        return frames, plan.model_fps, plan.model_frames
    return resample_stream(frames, plan.model_fps, plan.fps, plan.frames), plan.fps, plan.frames
