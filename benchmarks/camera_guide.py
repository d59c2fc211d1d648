"""Camera geometry speed on this CPU: Deforum's 3D warp of one frame, and the camera guide per
model frame, at a model size (default 832x480), with a depth map; prints milliseconds.

    .venv/bin/python benchmarks/camera_guide.py [--size 832x480] [--frames 17] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from wan.render.camera_guide import camera_guide, test_card
from wan.render.deforum_warp import FrameMotion, WarpSettings, warp_frame

MOTION = {"translation_x": 2.0, "translation_z": 2.5, "rotation_3d_y": 0.4}


def best_of(repeat: int, work) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="832x480")
    parser.add_argument("--frames", type=int, default=17, help="model frames of the guide")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    image = test_card(width, height)
    depth = np.add.outer(np.linspace(1, 3, height), np.linspace(0, 1, width)).astype(np.float32)
    settings = WarpSettings(mode="3D", width=width, height=height)
    schedules = {name: np.full(200, value) for name, value in MOTION.items()}

    warp = best_of(args.repeat, lambda: warp_frame(image, FrameMotion(**MOTION), settings, depth))
    guide = best_of(
        args.repeat,
        lambda: camera_guide(image, schedules, settings, 0, args.frames, 16, 16, depth),
    )
    per_frame = guide / max(args.frames - 1, 1)
    print(f"size {width}x{height}, 3D, bicubic, depth map; best of {args.repeat}")
    print(f"Deforum 3D warp, one frame: {warp * 1000:.1f} ms")
    print(f"camera guide, per model frame ({args.frames} frames): {per_frame * 1000:.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
