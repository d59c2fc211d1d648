"""`python -m wan guide`: the whole animation's camera guide rendered from an image in seconds,
so a user sees the camera path (and what it reveals) before spending GPU minutes.

A 3D animation that warps with depth gets the depth of its first frame from the depth model:
`--depth-model` names one (an error when it cannot be used); without it the catalog default is
used when it is installed, else the preview says so and uses flat depth (a preview never
downloads; `python -m wan download Depth-Anything-V2-Small` fetches it)."""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from wan.cli.output import print_json
from wan.core.deforum.settings import DeforumSettings, load_settings
from wan.core.sizes import choose_size
from wan.models.catalog import DEFAULT_DEPTH_MODEL
from wan.models.depth_model import depth_model_installed
from wan.models.identify import profile_for
from wan.models.store import StoreConfig
from wan.planning.plan_service import plan_for
from wan.render.camera_guide import plan_guide, shaded, test_card
from wan.render.deforum_warp import WarpSettings, warp_schedules, warp_settings_of
from wan.render.depth import DepthEstimator, depth_for_warp
from wan.render.image_header import decode_image
from wan.render.video import write_video


def add_command(commands: argparse._SubParsersAction) -> None:
    command = commands.add_parser(
        "guide", help="preview the camera path: the camera guide video, no video model"
    )
    command.add_argument("settings", help="Deforum settings file (.txt/.json) or run folder")
    command.add_argument("--image", default=None, help="the first frame (default: a test card)")
    command.add_argument("--model", default=None, help="the model whose size and fps to use")
    command.add_argument("--size", default=None, help="WIDTHxHEIGHT (default: the model's)")
    command.add_argument(
        "--depth-model",
        default=None,
        help=f"3D: depth model id or folder (default {DEFAULT_DEPTH_MODEL} when installed, "
        "else flat depth)",
    )
    command.add_argument("--models-dir", default=None, help="models folder (or WAN_MODELS_DIR)")
    command.add_argument("--out", required=True, help="the guide video (.mp4)")
    command.add_argument("--json", action="store_true", help="print the result as JSON")
    command.set_defaults(run=run_guide)


def run_guide(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    settings = load_settings(args.settings)
    profile = profile_for(args.model)
    size = choose_size(settings.width, settings.height, profile, args.size)
    source = (
        decode_image(args.image, f"--image {args.image}", size.size)
        if args.image
        else test_card(size.width, size.height)
    )
    schedules = warp_schedules(settings)
    warp = warp_settings_of(settings)
    depth, depth_model = _source_depth(source, settings, warp, args)
    plan = plan_for(settings, {"model": args.model})
    guide = plan_guide(source, plan, schedules, warp, depth)
    video = write_video(shaded(guide), args.out, profile.native_fps, keep_frames=False)
    seconds = time.perf_counter() - started
    kept = float(guide.masks[-1].mean())  # of the last clip's first frame
    if args.json:
        print_json({
            "video": str(video.path), "frames": video.frames, "fps": profile.native_fps,
            "size": list(size.size), "clips": len(plan.clips), "seconds": round(seconds, 2),
            "last_frame_from_clip_start": round(kept, 3), "depth_model": depth_model,
        })  # fmt: skip
    else:
        print(
            f"{video.frames} model frames at {profile.native_fps:g} fps, {size.width}x"
            f"{size.height}, {len(plan.clips)} clip(s), in {seconds:.1f} s; the last frame keeps "
            f"{kept:.0%} of its clip's first (darker: revealed, for the video model to invent)"
        )
        print(video.path)
    return 0


def _source_depth(
    source: np.ndarray, settings: DeforumSettings, warp: WarpSettings, args: argparse.Namespace
) -> tuple[np.ndarray | None, str | None]:
    """The first frame's depth in the warp's convention and the model's folder, or (None, None)
    when the warp reads no depth or, by default, no depth model is installed."""
    if settings.mode != "3D" or not warp.use_depth:
        return None, None
    config = StoreConfig(models_dir_flag=args.models_dir)
    if args.depth_model is None and not depth_model_installed(None, config):
        print(
            f"note: the depth model {DEFAULT_DEPTH_MODEL} is not installed, so this preview uses "
            f"flat depth; `python -m wan download {DEFAULT_DEPTH_MODEL}` fetches it",
            file=sys.stderr,
        )
        return None, None
    with DepthEstimator.open(args.depth_model, config) as estimator:
        depth = depth_for_warp(estimator.depth(source), warp.depth_algorithm)
        return depth, str(estimator.info.path)
