"""One seed per Deforum frame, following Deforum's seed behaviours and its diffusion cadence.

Deforum (render.py's loop, seed.py's `next_seed`) diffuses one frame every `diffusion_cadence`
frames, at frames 0, c, 2c, ... ('Video Input' diffuses every frame), and the frames between are
its warped and blended in-betweens. The seed belongs to the diffusion step, not to the frame:
step k (frame k*c) uses the seed after k calls of `next_seed`, one call after each step:
- iter: +1 on calls 1, 1+N, 1+2N, ... (N = `seed_iter_N`), so step k has seed + ceil(k/N);
- fixed: unchanged;  ladder: +2, -1, +2, -1, ...;  alternate: +1, -1, +1, ...;
- random: a new random seed each step;
- schedule: the value of `seed_schedule` at the step's frame, int() of it (``s`` in it is the
  resolved seed).
A frame takes the seed of the last step at or before it (step floor(f / c)): the diffusion its
image is warped from (Deforum blends it toward the next step's). So frame 0 always has the
resolved seed, and with cadence 2 frame 71 has the seed of step 35, frame 70's (iter: seed + 35),
not seed + 71.
Deforum draws its random seeds from the global RNG; here they are drawn, one per step, from an
RNG seeded with the resolved seed, so the same settings and resolved seed always give the same
seeds. A seed of -1 inside a seed schedule (Deforum's "random here") is drawn the same way.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np

from wan.errors import SettingsError

SEED_SPACE = 2**32
VIDEO_INPUT = "Video Input"  # Deforum diffuses every frame of a video input, whatever the cadence


def seed_cadence(mode: str, diffusion_cadence: int) -> int:
    """Frames per diffusion step, as Deforum's render loop counts them (its `turbo_steps`)."""
    return 1 if mode == VIDEO_INPUT else max(1, int(diffusion_cadence))


def frame_seeds(
    behavior: str,
    seed: int,
    max_frames: int,
    iter_n: int = 1,
    schedule: Sequence[float] | np.ndarray | None = None,
    cadence: int = 1,
) -> tuple[int, ...]:
    """Seeds of frames 0..max_frames-1 for a resolved seed (never -1), one per diffusion step
    of `cadence` frames (see `seed_cadence`)."""
    if seed < 0:
        raise SettingsError(f"seed {seed} must be resolved (>= 0) before seeds are computed")
    if cadence < 1:
        raise SettingsError(f"diffusion_cadence {cadence} must be at least 1")
    step_frames = np.arange(0, max_frames, cadence, dtype=np.int64)  # the diffused frames
    steps = _step_seeds(behavior, seed, iter_n, schedule, max_frames, step_frames)
    return tuple(steps[f // cadence] for f in range(max_frames))


def _step_seeds(
    behavior: str,
    seed: int,
    iter_n: int,
    schedule: Sequence[float] | np.ndarray | None,
    max_frames: int,
    step_frames: np.ndarray,
) -> tuple[int, ...]:
    """The seed of each diffusion step (the frames `step_frames`)."""
    calls = np.arange(len(step_frames), dtype=np.int64)  # next_seed calls before each step
    if behavior == "iter":
        seeds = seed + (calls + iter_n - 1) // iter_n
    elif behavior == "fixed":
        seeds = np.full(len(calls), seed, dtype=np.int64)
    elif behavior == "ladder":
        seeds = seed + 2 * ((calls + 1) // 2) - calls // 2
    elif behavior == "alternate":
        seeds = seed + calls % 2
    elif behavior == "random":
        rng = random.Random(seed)
        return (seed, *(rng.randrange(SEED_SPACE) for _ in range(len(calls) - 1)))
    elif behavior == "schedule":
        if schedule is None or len(schedule) != max_frames:
            raise SettingsError("seed_behavior 'schedule' needs the evaluated seed_schedule")
        return _scheduled(seed, [schedule[int(f)] for f in step_frames])
    else:
        raise SettingsError(f"seed_behavior {behavior!r} is unknown")
    return tuple(int(s) for s in seeds)


def _scheduled(seed: int, values: Sequence[float]) -> tuple[int, ...]:
    rng = random.Random(seed)
    out = []
    for value in values:
        step_seed = int(value)  # Deforum: int(series[frame_idx]), truncation toward zero
        out.append(rng.randrange(SEED_SPACE) if step_seed == -1 else step_seed % SEED_SPACE)
    return tuple(out)
