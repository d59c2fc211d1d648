"""Video-to-video strength: which timesteps a strength runs, and fitting it to a model.

What diffusers 0.35-0.39 does that callers rely on (read from its sources):
- Video-to-video runs `int(steps x strength)` of the `steps` scheduler timesteps, starting at
  `timesteps[steps - int(steps x strength)]`; a strength giving 0 steps would run none.
- Two experts: a timestep t >= boundary_ratio x num_train_timesteps runs `transformer` (high
  noise, `guidance_scale`), below it `transformer_2` (low noise, `guidance_scale_2`).
"""

from __future__ import annotations

import math
from typing import Any

from wan.errors import RenderError


def v2v_timesteps(scheduler: Any, steps: int, strength: float) -> list[float]:
    """The timesteps WanVideoToVideoPipeline will run for `steps` and `strength` (its own math)."""
    sched = type(scheduler).from_config(scheduler.config)
    sched.set_timesteps(steps)
    timesteps = [float(t) for t in sched.timesteps]
    count = min(int(steps * strength), steps)
    start = max(steps - count, 0)
    return timesteps[start * sched.order :]


def fit_strength(
    scheduler: Any, steps: int, strength: float, boundary_ratio: float | None
) -> tuple[float, int, list[str]]:
    """(strength to pass, steps it runs, notes): at least one step, below the expert boundary.

    With `boundary_ratio` (a two-expert model run on its low-noise expert alone), the first
    timestep must be < boundary_ratio x num_train_timesteps: the high-noise expert would run it.
    """
    notes: list[str] = []
    sched = type(scheduler).from_config(scheduler.config)
    sched.set_timesteps(steps)
    timesteps = [float(t) for t in sched.timesteps]
    order = int(getattr(sched, "order", 1))
    wanted = min(int(steps * strength), steps)
    count = max(wanted, 1)
    if wanted < 1:
        notes.append(
            f"strength {strength:.3g} runs no step of {steps}; raised to {1 / steps:.3g} (one step)"
        )
    if boundary_ratio is not None:
        boundary = boundary_ratio * sched.config.num_train_timesteps
        fits = [n for n in range(count, 0, -1) if timesteps[(steps - n) * order] < boundary]
        if not fits:
            raise RenderError(
                f"no video-to-video strength keeps the first of {steps} steps below the expert "
                f"boundary {boundary:.0f}; use more steps"
            )
        if fits[0] < count:
            capped = fits[0]
            notes.append(
                f"strength {strength:.3g} capped to {capped / steps:.3g} ({capped} of {steps} "
                f"steps): video-to-video on a two-expert model runs the low-noise expert alone, "
                f"so it must start below the expert boundary (timestep {boundary:.0f}, "
                f"boundary_ratio {boundary_ratio:g}); first timestep "
                f"{timesteps[(steps - capped) * order]:.0f}"
            )
            count = capped
    if count == wanted:
        return strength, count, notes
    return _strength_for(count, steps), count, notes


def _strength_for(count: int, steps: int) -> float:
    """The smallest float strength s with int(steps x s) == count (float-safe)."""
    value = min(count / steps, 1.0)
    while int(steps * value) < count and value < 1.0:
        value = math.nextafter(value, 2.0)
    return value
