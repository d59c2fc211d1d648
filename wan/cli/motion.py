"""`python -m wan motion VIDEO`: the camera motion of any video, frame by frame, in Deforum's 2D
terms (dx, dy, zoom, angle), to compare a render with its settings or to copy a real shot's
motion into a settings file."""

from __future__ import annotations

import argparse

from wan.cli.output import print_json
from wan.errors import MotionInputError
from wan.render.motion_measure import FrameMotionEstimate, measure_motion, open_video


def add_command(commands: argparse._SubParsersAction) -> None:
    command = commands.add_parser(
        "motion", help="measure the camera motion of a video (dx, dy, zoom, angle per frame)"
    )
    command.add_argument("video", help="the video (mp4, webm, mov, gif: what ffmpeg reads)")
    command.add_argument("--json", action="store_true", help="machine-readable output")
    command.set_defaults(run=run_motion)


def run_motion(args: argparse.Namespace) -> int:
    video = open_video(args.video)
    estimates = measure_motion(video.frames)
    if not estimates:  # the container counted frames that do not decode
        raise MotionInputError(f"{args.video}: fewer than 2 frames decode; check the file")
    if args.json:
        print_json(
            {
                "fps": video.fps,
                "size": [video.width, video.height],
                "frames": [_entry(estimate) for estimate in estimates],
            }
        )
        return 0
    print(
        f"{args.video}: {len(estimates) + 1} frames at {video.fps:g} fps, "
        f"{video.width}x{video.height}; motion from the frame before, Deforum's 2D signs"
    )
    print(f"{'frame':>6} {'dx':>8} {'dy':>8} {'zoom':>8} {'angle':>8} {'confidence':>10}")
    for e in estimates:
        print(
            f"{e.frame:>6} {e.dx:>8.3f} {e.dy:>8.3f} {e.zoom:>8.4f} {e.angle:>8.3f} "
            f"{e.confidence:>10.2f}"
        )
    print(_summary(estimates))
    return 0


def _entry(estimate: FrameMotionEstimate) -> dict:
    return {
        "frame": estimate.frame,
        "dx": round(estimate.dx, 4),
        "dy": round(estimate.dy, 4),
        "zoom": round(estimate.zoom, 6),
        "angle": round(estimate.angle, 4),
        "confidence": estimate.confidence,
    }


def _summary(estimates: tuple[FrameMotionEstimate, ...]) -> str:
    count = len(estimates)
    mean = [sum(getattr(e, name) for e in estimates) / count for name in ("dx", "dy", "angle")]
    zoom = 1.0
    for e in estimates:
        zoom *= e.zoom
    confidence = sum(e.confidence for e in estimates) / count
    return (
        f"mean per frame: dx {mean[0]:.3f}, dy {mean[1]:.3f}, zoom {zoom ** (1 / count):.4f}, "
        f"angle {mean[2]:.3f}; mean confidence {confidence:.2f}"
    )
