"""Schedule evaluation speed: ours (numexpr over frame arrays) vs. per-frame evaluation.

Evaluates every numeric schedule of a 10,000-frame settings file whose schedules are expressions
(plus numeric keyframes in between), once with `wan.core.deforum.schedules.evaluate_schedule` and
once with a straightforward per-frame loop in the manner of Deforum's evaluator (one numexpr call
per frame), checks that the values are identical and prints the times and the ratio.

    .venv/bin/python benchmarks/schedules.py [--frames N] [--repeat R]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numexpr
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from wan.core.deforum import defaults
from wan.core.deforum.schedules import evaluate_schedule, parse_keyframes
from wan.core.deforum.settings import parse_settings

EXPRESSIONS = [
    "1.0025+0.002*sin(1.25*3.14*t/30)",
    "0.5*cos(t/7)+1",
    "-0.06*(cos(3.141*t/15)**100)+0.06",
    "exp(-t/5000)",
    "s%7 + t/3",
    "(t%50)/10",
    "max_f-t",
    "sqrt(t)/10",
]


def settings_dict(frames: int) -> dict:
    """Every numeric schedule: an expression, a numeric stretch, then another expression."""
    data = {"max_frames": frames, "seed": 1234, "prompts": {"0": "a"}}
    for index, name in enumerate(defaults.NUMERIC_SCHEDULES):
        first = EXPRESSIONS[index % len(EXPRESSIONS)]
        second = EXPRESSIONS[(index + 3) % len(EXPRESSIONS)]
        third_key, fourth_key = frames // 3, frames // 2
        data[name] = (
            f"0:({first}), {third_key}:(1.5), {third_key + 100}:(2.5), "
            f'{fourth_key}:({second}), "max_f-10":(0)'
        )
    return data


def per_frame(text: str, max_frames: int, seed: int) -> np.ndarray:
    """The straightforward evaluation: walk the frames, one numexpr call per expression frame."""
    keys = {k.frame: k for k in parse_keyframes(text, max_frames, seed)}
    values = np.full(max_frames, np.nan)
    current = None
    for frame in range(max_frames):
        if frame in keys:
            current = keys[frame]
            if current.number is not None:
                values[frame] = current.number
        if current.number is None:
            local = {"t": frame, "max_f": max_frames - 1, "s": seed}
            values[frame] = float(numexpr.evaluate(current.text, local_dict=local))
    known = np.flatnonzero(~np.isnan(values))
    values[-1] = values[known[-1]] if np.isnan(values[-1]) else values[-1]
    known = np.flatnonzero(~np.isnan(values))
    gaps = np.flatnonzero(np.isnan(values))
    values[gaps] = np.interp(gaps, known, values[known])
    return values


def timed(function, repeat: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    settings = parse_settings(settings_dict(args.frames), "benchmark")
    names = list(defaults.NUMERIC_SCHEDULES)

    def ours():
        return [evaluate_schedule(settings.schedules[n], args.frames, 1234, n) for n in names]

    def reference():
        return [per_frame(settings.schedules[n], args.frames, 1234) for n in names]

    ours_time, ours_values = timed(ours, args.repeat)
    ref_time, ref_values = timed(reference, 1)
    identical = all(a.tolist() == b.tolist() for a, b in zip(ours_values, ref_values, strict=True))
    print(f"schedules: {len(names)} x {args.frames} frames")
    print(f"per-frame evaluation: {ref_time * 1000:9.1f} ms")
    print(f"ours (vectorised):    {ours_time * 1000:9.1f} ms")
    print(f"ratio: {ref_time / ours_time:.1f}x faster, identical values: {identical}")
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
