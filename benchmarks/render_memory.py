"""Peak memory vs. clip count of `python -m wan render` (part 2 of render_overhead.py).

A 2-clip and a 12-clip Deforum settings file are rendered, each in a fresh process under a small
wrapper that prints `resource.getrusage(RUSAGE_CHILDREN).ru_maxrss` after its one child: the
render's peak RSS. Goal: the 12-clip render peaks at most 1.1x the 2-clip one (clips are
streamed from disk, never all in memory). Run through `benchmarks/render_overhead.py`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from render_common import MODEL, ROOT, frames_for, settings_dict, size_text

MEMORY_GOAL = 1.10
# The wrapper of one memory child: runs the render as its only child and prints its peak RSS.
WRAPPER = (
    "import resource, subprocess, sys\n"
    "code = subprocess.call(sys.argv[1:])\n"
    "scale = 1 if sys.platform == 'darwin' else 1024\n"  # ru_maxrss: bytes on macOS, KiB else
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * scale\n"
    "print(f'child peak rss bytes: {peak}')\n"
    "sys.exit(code)\n"
)


def measure_render_peak(
    clips: int, size: str, steps: int, tmp: Path, env: dict, attempt: int = 0
) -> int:
    width, height = size_text(size)
    path = tmp / f"memory_{clips}_clips.json"
    path.write_text(json.dumps(settings_dict(frames_for(clips), width, height)))
    out = tmp / f"memory_{clips}_clips_{attempt}"
    render = [sys.executable, "-m", "wan", "render", str(path), "--model", MODEL, "--size", size]
    render += ["--steps", str(steps), "--out", str(out), "--quiet"]
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", WRAPPER, *render], cwd=ROOT, env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"the {clips}-clip render failed:\n{result.stderr[-3000:]}")
    peak = int(re.search(r"child peak rss bytes: (\d+)", result.stdout).group(1))
    rendered = len(json.loads((out / "metadata.json").read_text())["clips"])
    if rendered != clips:
        raise SystemExit(f"the {clips}-clip render made {rendered} clips")
    print(f"  {clips:>2} clips: peak RSS {peak / 2**20:8.1f} MiB ({seconds:.0f} s)")
    return peak


def measure_memory(args, tmp: Path) -> float:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["WAN_OUTPUT_DIR"] = str(tmp / "outputs")
    few, many = args.mem_clips
    width, height = size_text(args.mem_size)
    print(
        f"python -m wan render --model {MODEL} --size {args.mem_size} --steps {args.mem_steps}, "
        f"each in a fresh process ({width * height * 3 * 17 / 2**20:.1f} MiB of uint8 frames "
        "per clip)"
    )
    peaks: dict[int, list[int]] = {few: [], many: []}
    for attempt in range(args.mem_repeat):  # alternating, like the overhead rounds
        for clips in (few, many) if attempt % 2 == 0 else (many, few):
            peaks[clips].append(
                measure_render_peak(clips, args.mem_size, args.mem_steps, tmp, env, attempt)
            )
    small, large = (float(np.median(peaks[n])) for n in (few, many))
    if args.mem_repeat > 1:
        print(f"  medians of {args.mem_repeat}: {small / 2**20:.1f} and {large / 2**20:.1f} MiB")
    ratio = large / small
    verdict = "met" if ratio <= MEMORY_GOAL else "NOT met"
    print(
        f"memory growth ratio ({many} clips / {few} clips peak RSS): {ratio:.3f} "
        f"(goal <= {MEMORY_GOAL}: {verdict})"
    )
    return ratio
