"""The animation the render benchmarks use: a 2D Deforum settings dict for the tiny-t2v smoke
model (or any model), the frame count that plans N full clips, small parsing helpers, and the
peak resident memory of a phase (Linux: VmHWM, reset through /proc/self/clear_refs), the memory
plan as a diffusers user writes it, and a clip request as plain diffusers-call values."""

from __future__ import annotations

import re
import resource
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from wan.core.deforum.settings import DeforumSettings, parse_settings  # noqa: E402
from wan.core.plan import CONTINUATION_OVERLAP, GenerationPlan, build_plan  # noqa: E402
from wan.models.identify import profile_for  # noqa: E402
from wan.render.generate import ClipRequest  # noqa: E402
from wan.render.strength import fit_strength  # noqa: E402

MODEL = "tiny-t2v"
SEED = 7


def settings_dict(max_frames: int, width: int, height: int, model: str = MODEL) -> dict:
    """A 2D Deforum animation at the model's fps: camera motion, two prompts, strength 0.65."""
    return {
        "animation_mode": "2D",
        "max_frames": max_frames,
        "fps": profile_for(model).native_fps,
        "W": width,
        "H": height,
        "seed": SEED,
        "translation_x": "0: (2)",
        "zoom": "0: (1.01)",
        "strength_schedule": "0: (0.65)",
        "prompts": {
            "0": "a red fox running through a snowy forest at sunrise",
            "16": "a small boat drifts on calm blue water",
        },
        "animation_prompts_negative": "blurry",
    }


def frames_for(clips: int) -> int:
    """Deforum max_frames that makes `clips` full-length clips (Deforum fps = model fps)."""
    profile = profile_for(MODEL)
    length = profile.max_clip_frames
    frames = length + (length - CONTINUATION_OVERLAP) * (clips - 1)
    plan = planned(parse_settings(settings_dict(frames, 64, 64)))
    if len(plan.clips) != clips or any(c.num_frames != length for c in plan.clips):
        raise SystemExit(f"max_frames {frames} does not plan {clips} clips of {length} frames")
    return frames


def planned(settings: DeforumSettings, model: str = MODEL) -> GenerationPlan:
    return build_plan(settings, profile_for(model), seed=SEED, overlap=CONTINUATION_OVERLAP)


def size_text(text: str) -> tuple[int, int]:
    width, height = (int(v) for v in text.lower().split("x"))
    return width, height


def reset_peak_rss() -> bool:
    """Start a new resident-memory high-water mark for this process (Linux); False elsewhere."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_rss() -> int:
    """Bytes: the high-water mark since the last reset (VmHWM), else the process's ru_maxrss."""
    try:
        status = Path("/proc/self/status").read_text()
        return int(re.search(r"^VmHWM:\s+(\d+) kB", status, re.M).group(1)) * 1024
    except (OSError, AttributeError):
        scale = 1 if sys.platform == "darwin" else 1024
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def bare_memory_setup(pipe: Any, plan: Any, device: str) -> None:
    """The plan's knobs as a diffusers user writes them (no wan code)."""
    import torch

    experts = [pipe.transformer, getattr(pipe, "transformer_2", None)]
    experts = [m for m in experts if m is not None]
    if plan is not None and plan.fp8:
        for module in experts:
            module.enable_layerwise_casting(
                storage_dtype=torch.float8_e4m3fn, compute_dtype=module.dtype
            )
    if plan is not None and plan.vae_tiling:
        pipe.vae.enable_tiling()
    if device == "cpu":
        return
    if plan is None or plan.offload == "none":
        pipe.to(device)
    elif plan.offload == "model":
        pipe.enable_model_cpu_offload(device=device)
        if plan.text_encoder_on_cpu:
            from accelerate.hooks import remove_hook_from_module

            remove_hook_from_module(pipe.text_encoder, recurse=True)
            pipe.text_encoder.to("cpu")
    else:
        from diffusers.hooks import apply_group_offloading

        stream = bool(plan.use_stream)
        common = {"onload_device": device, "offload_device": "cpu", "use_stream": stream}
        common["non_blocking"] = stream
        for module in experts:
            if plan.offload == "group_block":
                module.enable_group_offload(
                    offload_type="block_level", num_blocks_per_group=1, **common
                )
            else:
                module.enable_group_offload(offload_type="leaf_level", **common)
        pipe.vae.enable_group_offload(offload_type="leaf_level", **common)
        apply_group_offloading(pipe.text_encoder, offload_type="leaf_level", **common)


@dataclass(frozen=True)
class DirectCall:
    """Plain values for one diffusers call (what generate_clip passes, without wan objects)."""

    v2v: bool
    prompt: str
    negative_prompt: str
    num_frames: int
    width: int
    height: int
    steps: int
    guidance: float
    seed: int
    init_video: np.ndarray | None
    strength: float | None


def direct_call(request: ClipRequest, scheduler) -> DirectCall:
    if request.mode not in ("t2v", "v2v"):
        raise SystemExit(f"{request.mode} clip: this benchmark drives text-to-video models only")
    strength = None
    if request.mode == "v2v":  # the strength the runner passes (at least one step)
        strength = fit_strength(scheduler, request.steps, float(request.strength), None)[0]
    return DirectCall(
        v2v=request.mode == "v2v",
        prompt=request.prompt,
        negative_prompt=request.negative_prompt,
        num_frames=request.num_frames,
        width=request.width,
        height=request.height,
        steps=request.steps,
        guidance=request.guidance,
        seed=int(request.seed) & 0xFFFF_FFFF_FFFF_FFFF,
        init_video=request.init_video,
        strength=strength,
    )


def bare_pipeline(job: Any) -> Any:
    """WanPipeline as a diffusers user loads it: the job's folder and dtype, its flow shift, no
    progress bar (no wan code)."""
    import torch
    from diffusers import WanPipeline

    pipe = WanPipeline.from_pretrained(
        str(job.model_path), torch_dtype=getattr(torch, job.dtype), local_files_only=True
    )
    if job.flow_shift is not None:
        config = pipe.scheduler.config
        pipe.scheduler = type(pipe.scheduler).from_config(config, flow_shift=job.flow_shift)
    pipe.set_progress_bar_config(disable=True)
    return pipe
