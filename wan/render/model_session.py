"""The model of one render: loaded once, fitted to memory, kept across clips, freed at the end.

Also where out-of-memory is handled: the clip is retried once with the memory plan one step
leaner; a second failure is an error that lists what was tried.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from wan.errors import OutOfMemory, RenderError, WanError
from wan.models.apply_plan import AppliedPlan, apply_plan
from wan.models.loader import load_pipeline
from wan.models.optimize import OptimizationPlan, choose_plan
from wan.models.system import SystemInfo, probe_system
from wan.options.choices import OFFLOADS
from wan.options.render_options import options_to_dict
from wan.render.generate import ClipRequest, generate_clip
from wan.render.image_header import decode_image
from wan.render.job import RenderJob, init_image_name
from wan.render.loaded_model import LoadedModel
from wan.render.lora import load_loras, lora_bytes_per_expert

log = logging.getLogger(__name__)


@dataclass
class ModelSession:
    job: RenderJob
    system: SystemInfo
    pipe: Any
    model: LoadedModel
    plan: OptimizationPlan | None
    applied: AppliedPlan | None
    timings: dict[str, float]
    notes: list[str] = field(default_factory=list)

    @classmethod
    def open(cls, job: RenderJob, timings: dict[str, float]) -> ModelSession:
        start = time.perf_counter()
        system = probe_system()
        plan = _memory_plan(job, system) if job.entry is not None else None
        pipe, model, applied = _build(job, system, plan)
        timings["load"] = time.perf_counter() - start
        return cls(job, system, pipe, model, plan, applied, timings)

    def init_image_array(self) -> np.ndarray | None:
        """The init image at the render size, or None."""
        if not self.job.init_image:
            return None
        where = init_image_name(self.job.init_image, self.job.options)
        return decode_image(self.job.init_image, where, (self.job.width, self.job.height))

    def last_image_array(self) -> np.ndarray | None:
        """The last image (`--last-image`, FLF2V models) at the render size, or None: the last
        clip's last frame."""
        if not self.job.last_image:
            return None
        where = f"--last-image {self.job.last_image}"
        return decode_image(self.job.last_image, where, (self.job.width, self.job.height))

    def generate(self, request: ClipRequest, on_step: Callable[[int, int], None], cancel):
        start = time.perf_counter()
        try:
            result = generate_clip(self.model, request, on_step=on_step, cancel=cancel)
        except OutOfMemory as first:
            result = self._retry_leaner(request, on_step, cancel, first)
        self.timings["denoise"] = self.timings.get("denoise", 0.0) + time.perf_counter() - start
        self.notes += list(result.notes)
        return result

    def _retry_leaner(self, request, on_step, cancel, error: OutOfMemory):
        tried = [self.plan.summary if self.plan else "no memory plan"]
        leaner = _leaner_plan(self.job, self.system, self.plan)
        if leaner is None:
            raise RenderError(
                f"out of GPU memory on clip at {request.width}x{request.height}, "
                f"{request.num_frames} frames with {tried[0]}, and no leaner memory plan is left. "
                "Lower --size or the frames per clip, or close other GPU programs"
            ) from None
        log.warning("out of memory with %s; retrying once with %s", tried[0], leaner.summary)
        # hooks of one plan do not stack with another's: load afresh with the leaner plan
        self.model = self.pipe = None  # type: ignore[assignment]
        self.close_memory()
        self.pipe, self.model, self.applied = _build(self.job, self.system, leaner)
        self.plan = leaner
        tried.append(leaner.summary)
        try:
            return generate_clip(self.model, request, on_step=on_step, cancel=cancel)
        except OutOfMemory:
            raise RenderError(
                "out of GPU memory twice; tried: " + "; then ".join(tried) + ". Lower --size, "
                "use --offload group_leaf --fp8, or close other GPU programs"
            ) from None

    def close_memory(self) -> None:
        gc.collect()
        try:
            import torch

            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        except ImportError:  # pragma: no cover - torch is a requirement
            pass

    def close(self) -> None:
        """Drop every reference to the weights so the host can have the GPU back."""
        self.model = None  # type: ignore[assignment]
        self.pipe = None
        self.close_memory()

    def metadata(self) -> dict[str, Any]:
        return {
            "device": self.system.accelerator or "cpu",
            "gpu": self.system.gpu_name,
            "memory_plan": self.applied.to_metadata() if self.applied else None,
            "notes": list(dict.fromkeys(self.notes)),
        }


def _build(job: RenderJob, system: SystemInfo, plan: OptimizationPlan | None):
    """Load the pipeline, set the flow shift, add LoRAs, apply the memory plan."""
    device = system.accelerator or "cpu"
    pipe = _quietly(load_pipeline, job.detection, dtype=job.dtype, base_folder=job.base_folder)
    pipe.set_progress_bar_config(disable=True)  # progress goes through the host and callback
    _set_flow_shift(pipe, job.flow_shift)
    if job.loras:
        load_loras(pipe, job.loras, job.two_experts)  # before the plan's hooks
    applied = apply_plan(pipe, plan, device) if plan is not None else None
    if plan is None and system.accelerator:
        pipe.to(device)
    return pipe, LoadedModel(pipe, job.task, job.entry, applied), applied


def _quietly(function, *args, **kwargs):
    """Run without diffusers' own progress bars (ours reports through the host), then leave
    them as they were: the WebUI or a script may have turned them off itself."""
    from diffusers.utils import logging as diffusers_logging

    was_enabled = diffusers_logging.is_progress_bar_enabled()
    diffusers_logging.disable_progress_bar()
    try:
        return function(*args, **kwargs)
    finally:
        if was_enabled:
            diffusers_logging.enable_progress_bar()


def _set_flow_shift(pipe: Any, shift: float | None) -> None:
    if shift is None or "flow_shift" not in getattr(pipe.scheduler, "config", {}):
        return
    pipe.scheduler = type(pipe.scheduler).from_config(pipe.scheduler.config, flow_shift=shift)


def _memory_plan(job: RenderJob, system: SystemInfo) -> OptimizationPlan:
    frames = max(c.num_frames for c in job.plan.clips)
    overrides = _overrides(job)
    return choose_plan(
        job.entry,
        job.width,
        job.height,
        frames,
        system.free_vram,
        system.free_ram,
        system.has_accelerator,
        overrides,
        depth_model_params=_depth_params(job),
        lora_bytes=lora_bytes_per_expert(job.loras),
    )


def _depth_params(job: RenderJob) -> int:
    """The depth model's parameters (the catalog's count, else its float32 file size / 4)."""
    info = job.depth_model
    if info is None:
        return 0
    return info.params or info.weights_bytes // 4


def _overrides(job: RenderJob) -> dict[str, Any]:
    memory = options_to_dict(job.options)["memory"] or {}
    given = {k: v for k, v in memory.items() if v is not None}
    if job.options.cache and job.options.cache != "none":
        given["cache"] = job.options.cache
        if job.options.cache_threshold is not None:
            given["cache_threshold"] = job.options.cache_threshold
        given["steps"] = job.steps
    return given


# Each step is tried in order, on top of what the current plan already does: more offload first
# (accelerators only), then fp8 weights, then VAE tiling, then offload by layer.
LEANER_STEPS = (
    {"offload": "model"},
    {"offload": "group_block"},
    {"fp8": True},
    {"vae_tiling": True},
    {"offload": "group_leaf"},
)


def _leaner_plan(job: RenderJob, system: SystemInfo, plan: OptimizationPlan | None):
    """One step leaner than `plan`, or None when nothing leaner is possible here."""
    if plan is None:
        return None
    current = {"offload": plan.offload, "fp8": plan.fp8, "vae_tiling": plan.vae_tiling}
    for step in LEANER_STEPS:
        wanted = {**current, **step}
        offload_down = OFFLOADS.index(wanted["offload"]) < OFFLOADS.index(plan.offload)
        if wanted == current or offload_down:
            continue
        try:
            return choose_plan(
                job.entry,
                job.width,
                job.height,
                max(c.num_frames for c in job.plan.clips),
                system.free_vram,
                system.free_ram,
                system.has_accelerator,
                {**_overrides(job), **wanted, "force": True},
                lora_bytes=lora_bytes_per_expert(job.loras),
            )
        except WanError:
            continue
    return None
