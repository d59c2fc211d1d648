"""One seed per Deforum frame, following Deforum's seed behaviours.

Deforum starts from the resolved seed and calls `next_seed` after each generated frame:
- iter: +1 every `seed_iter_N` frames;  fixed: unchanged;  ladder: +2, -1, +2, -1, ...;
- alternate: +1, -1, +1, ...;  random: a new random seed each frame;
- schedule: the value of `seed_schedule` at the frame (``s`` in it is the resolved seed).
Deforum draws its random seeds from the global RNG; here they are drawn from an RNG seeded with
the resolved seed, so the same settings and resolved seed always give the same seeds. A seed of
-1 inside a seed schedule (Deforum's "random here") is drawn the same way.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np

from wan.errors import SettingsError

SEED_SPACE = 2**32


def frame_seeds(
    behavior: str,
    seed: int,
    max_frames: int,
    iter_n: int = 1,
    schedule: Sequence[float] | np.ndarray | None = None,
) -> tuple[int, ...]:
    """Seeds of frames 0..max_frames-1 for a resolved seed (never -1)."""
    if seed < 0:
        raise SettingsError(f"seed {seed} must be resolved (>= 0) before seeds are computed")
    calls = np.arange(max_frames, dtype=np.int64)  # next_seed calls before each frame
    if behavior == "iter":
        seeds = seed + (calls + iter_n - 1) // iter_n
    elif behavior == "fixed":
        seeds = np.full(max_frames, seed, dtype=np.int64)
    elif behavior == "ladder":
        seeds = seed + 2 * ((calls + 1) // 2) - calls // 2
    elif behavior == "alternate":
        seeds = seed + calls % 2
    elif behavior == "random":
        rng = random.Random(seed)
        return (seed, *(rng.randrange(SEED_SPACE) for _ in range(max_frames - 1)))
    elif behavior == "schedule":
        if schedule is None or len(schedule) != max_frames:
            raise SettingsError("seed_behavior 'schedule' needs the evaluated seed_schedule")
        return _scheduled(seed, schedule)
    else:
        raise SettingsError(f"seed_behavior {behavior!r} is unknown")
    return tuple(int(s) for s in seeds)


def _scheduled(seed: int, schedule: Sequence[float] | np.ndarray) -> tuple[int, ...]:
    rng = random.Random(seed)
    out = []
    for value in schedule:
        frame_seed = int(value)  # Deforum: int(series[frame]), truncation toward zero
        out.append(rng.randrange(SEED_SPACE) if frame_seed == -1 else frame_seed % SEED_SPACE)
    return tuple(out)
