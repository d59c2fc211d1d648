"""`python -m wan warp`: Deforum's own warp of an image at one frame (or a chain of frames), to
see and check the camera motion of a settings file without a video model.

A 3D animation that warps with depth takes its depth from `--depth` (a .npy array, used at every
step) or, without it, from the depth model (`--depth-model`, default the catalog's
Depth-Anything-V2-Small), which estimates a fresh map of each step's input as Deforum does."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from wan.cli.output import print_json
from wan.errors import SettingsError, WanError
from wan.models.catalog import DEFAULT_DEPTH_MODEL
from wan.models.store import StoreConfig
from wan.render.deforum_warp import warp_chain, warp_settings_of
from wan.render.depth import DepthEstimator, depth_for_warp
from wan.render.fetch import load_fetching
from wan.render.image_header import decode_image


def add_command(commands: argparse._SubParsersAction) -> None:
    command = commands.add_parser(
        "warp", help="apply Deforum's camera warp of one frame (or several) to an image"
    )
    command.add_argument("settings", help="Deforum settings file (.txt/.json) or run folder")
    command.add_argument("--image", required=True, help="the image to warp (png, jpeg, webp)")
    command.add_argument("--frame", type=int, required=True, help="the frame whose motion applies")
    command.add_argument(
        "--depth", default=None, help="3D: a .npy depth map (H x W) in the depth model's convention"
    )
    command.add_argument(
        "--depth-model",
        default=None,
        help=f"3D without --depth: depth model id or folder (default {DEFAULT_DEPTH_MODEL})",
    )
    command.add_argument("--models-dir", default=None, help="models folder (or WAN_MODELS_DIR)")
    command.add_argument("--steps", type=int, default=1, help="chain K frames (OUT_1..OUT_K.png)")
    command.add_argument("--out", required=True, help="the output .png")
    command.add_argument("--json", action="store_true", help="print the files written as JSON")
    command.set_defaults(run=run_warp)


def run_warp(args: argparse.Namespace) -> int:
    settings = load_fetching(args.settings)  # a Parseq manifest URL downloaded
    image = decode_image(args.image, f"--image {args.image}")
    warp = warp_settings_of(settings)
    depth = _depth(args.depth, image.shape[:2]) if args.depth else None
    used_model = None
    if depth is None and settings.mode == "3D" and warp.use_depth:
        _check_frames(settings.max_frames, args.frame, args.steps)
        config = StoreConfig(models_dir_flag=args.models_dir)
        with DepthEstimator.open(args.depth_model, config) as estimator:
            used_model = str(estimator.info.path)
            frames = []
            for step in range(args.steps):
                source = frames[-1] if frames else image
                estimated = depth_for_warp(estimator.depth(source), warp.depth_algorithm)
                frames += warp_chain(source, settings, args.frame + step, 1, estimated)
    else:
        frames = warp_chain(image, settings, args.frame, args.steps, depth)
    out = Path(args.out)
    names = [out] if len(frames) == 1 else [_numbered(out, k) for k in range(1, len(frames) + 1)]
    out.parent.mkdir(parents=True, exist_ok=True)
    for name, frame in zip(names, frames, strict=True):
        _write_png(name, frame)
    if args.json:
        print_json({"files": [str(name) for name in names], "depth_model": used_model})
    else:
        print("\n".join(str(name) for name in names))
    return 0


def _check_frames(max_frames: int, frame: int, steps: int) -> None:
    """Before a depth model loads: the frames asked for exist (warp_chain says the same)."""
    if steps < 1 or frame < 0 or frame + steps - 1 >= max_frames:
        raise SettingsError(
            f"frames {frame} to {frame + steps - 1}: the animation has frames 0 to "
            f"{max_frames - 1}; give a frame (and steps) inside it"
        )


def _depth(path: str, shape: tuple[int, int]) -> np.ndarray:
    try:
        depth = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise WanError(
            f"--depth {path}: not a .npy array ({exc}); save one with numpy.save"
        ) from None
    if depth.ndim != 2 or depth.shape != shape or not np.issubdtype(depth.dtype, np.number):
        raise WanError(
            f"--depth {path}: a {depth.dtype} array of shape {depth.shape}; the image needs a "
            f"numeric array of shape {shape} (H x W, one value per pixel)"
        )
    return depth


def _numbered(out: Path, step: int) -> Path:
    return out.with_name(f"{out.stem}_{step}{out.suffix or '.png'}")


def _write_png(path: Path, frame: np.ndarray) -> None:
    from PIL import Image

    try:
        Image.fromarray(frame).save(path, format="PNG")
    except OSError as exc:
        raise WanError(f"--out {path}: cannot write the picture ({exc.strerror or exc})") from None
