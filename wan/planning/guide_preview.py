"""The camera guide preview: the whole plan's camera guide written as a video, so a user sees the
camera path (and what it reveals, darker) before spending GPU minutes. The CLI's `guide` and the
tab's "Preview camera" both write it here.

A 3D animation that warps with depth gets each clip's first frame's depth from the depth model
(`wan.models.depth_model.depth_model_to_use` says which), as a render does. The preview runs
the depth model on the CPU: it never waits for, nor takes, the GPU a render may be using.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wan.core.deforum.settings import DeforumSettings
from wan.core.sizes import choose_size
from wan.models.depth_model import depth_model_to_use
from wan.models.store import StoreConfig
from wan.options.render_options import RenderOptions, parse_options
from wan.planning.plan_service import plan_for
from wan.render.camera_guide import plan_guide, shaded, test_card
from wan.render.deforum_warp import warp_schedules, warp_settings_of
from wan.render.depth import DepthEstimator, depth_for_warp
from wan.render.guide_source import frame_source, source_guide
from wan.render.image_header import decode_image
from wan.render.video import write_video


@dataclass(frozen=True)
class GuidePreview:
    """What was written, for the message under it."""

    video: Path
    frames: int
    fps: float
    size: tuple[int, int]
    clips: int
    seconds: float
    kept: float  # share of the last clip's first frame still seen in the last frame
    depth_model: str | None = None  # the depth model's folder, when one gave the depth
    notes: tuple[str, ...] = ()

    def describe(self) -> str:
        width, height = self.size
        return (
            f"{self.frames} model frames at {self.fps:g} fps, {width}x{height}, {self.clips} "
            f"clip(s), in {self.seconds:.1f} s; the last frame keeps {self.kept:.0%} of its clip's "
            "first (darker: revealed, for the video model to invent)"
        )


def write_guide_preview(
    settings: DeforumSettings,
    options: RenderOptions | Mapping | None,
    out: str | Path,
    image: str | None = None,
    image_name: str = "--image",
    depth_model: str | None = None,
    config: StoreConfig | None = None,
) -> GuidePreview:
    """The guide of the plan `options` give (model, size, seed), from `image` (a file; default a
    test card), as the video `out`. `image_name` names the image in errors (the option or field
    that gave it); `depth_model` and `config`: see the module docstring."""
    started = time.perf_counter()
    options = parse_options(options)
    plan = plan_for(settings, options)
    size = choose_size(settings.width, settings.height, plan.model, options.size)
    frames = frame_source(settings, options, digest=False)
    if frames is not None:  # a re-render or Video Input: the frames are the guide
        guide = source_guide(frames, 0, plan.model_frames, plan.fps, plan.model_fps, size.size)
        return _written(guide, plan, size.size, out, started, None, ())
    source = (
        decode_image(image, f"{image_name} {image}", size.size)
        if image
        else test_card(size.width, size.height)
    )
    warp = warp_settings_of(settings)
    estimator, notes = None, []
    if settings.mode == "3D" and warp.use_depth:
        info, note = depth_model_to_use(depth_model, config or StoreConfig())
        estimator = DepthEstimator.load(info, device="cpu") if info is not None else None
        notes += [note] if note else []
    try:
        depth_of = _depth_function(estimator, warp.depth_algorithm)
        guide = plan_guide(source, plan, warp_schedules(settings), warp, depth_of)
    finally:
        if estimator is not None:
            estimator.close()
    depth_used = str(estimator.info.path) if estimator is not None else None
    return _written(guide, plan, size.size, out, started, depth_used, tuple(notes))


def _written(guide, plan, size, out, started: float, depth_model, notes) -> GuidePreview:
    video = write_video(shaded(guide), out, plan.model_fps, keep_frames=False)
    return GuidePreview(
        video=video.path,
        frames=video.frames,
        fps=plan.model_fps,
        size=size,
        clips=len(plan.clips),
        seconds=time.perf_counter() - started,
        kept=float(guide.masks[-1].mean()),
        depth_model=depth_model,
        notes=notes,
    )


def _depth_function(
    estimator: DepthEstimator | None, algorithm: str
) -> Callable[[np.ndarray], np.ndarray] | None:
    if estimator is None:
        return None
    return lambda frame: depth_for_warp(estimator.depth(frame), algorithm)
