"""Render overhead at real size on the CPU (`render_overhead.py --full-size`, its section 3): a
random-weight Wan2.1-T2V-1.3B, one clip by `Runner.run` and by plain diffusers with the memory
plan ours chose, each phase compared (see render_overhead.py's docstring)."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from random_models import BuildSpec, build_model
from render_common import (
    bare_memory_setup,
    bare_pipeline,
    direct_call,
    peak_rss,
    planned,
    reset_peak_rss,
    settings_dict,
    size_text,
)

from wan.core.deforum.settings import parse_settings
from wan.host.standalone import StandaloneHost
from wan.models.optimize import choose_plan
from wan.models.system import probe_system
from wan.options.render_options import parse_options
from wan.render import runner as runner_module
from wan.render.checkpoints import load_clip
from wan.render.conditioning import first_request
from wan.render.generate import ClipRequest
from wan.render.job import RenderJob, prepare_job
from wan.render.runner import Runner

FULL_MODEL = "Wan2.1-T2V-1.3B"


def measure_full_size(args, tmp: Path) -> float:
    """Plain diffusers, then Runner.run, on one full-size 1.3B clip; returns the total ratio."""
    import gc

    from diffusers.utils import logging as diffusers_logging

    diffusers_logging.disable_progress_bar()
    width, height = size_text(args.size)
    start = time.perf_counter()
    spec = BuildSpec(FULL_MODEL, text="narrow", device="cpu", dtype="bfloat16")
    built = build_model(spec, tmp / FULL_MODEL, tmp / "shared")
    print(
        f"built {FULL_MODEL} with random weights ({built.bytes_written / 1e9:.2f} GB bfloat16, "
        f"narrow UMT5 stand-in) in {time.perf_counter() - start:.0f} s: fill "
        f"{built.seconds['fill']:.1f} s, safetensors write {built.seconds['write']:.1f} s "
        f"({built.bytes_written / 1e9 / built.seconds['write']:.2f} GB/s); detected as "
        f"{built.detected}"
    )
    folder = str(tmp / FULL_MODEL)
    settings = parse_settings(settings_dict(args.frames, width, height, folder))
    plan = planned(settings, folder)
    host = StandaloneHost(output_dir=str(tmp / "outputs"), lora_folders=[str(tmp / "loras")])
    given = {"model": folder, "size": args.size, "steps": args.steps, "dtype": args.dtype}
    if args.guidance is not None:
        given["guidance"] = args.guidance
    options = parse_options(given)
    job = prepare_job(plan, settings, options, host.store_config(), host.lora_dirs())
    request = first_request(job, plan.clips[0], None)
    print(
        f"one clip: {job.width}x{job.height}, {request.num_frames} frames, {job.steps} steps, "
        f"guidance {job.guidance:g}, {job.dtype} on the CPU ({os.cpu_count()} cores)"
    )

    system = probe_system()  # the plan ModelSession will choose, for diffusers' side too
    memory = choose_plan(
        job.entry, job.width, job.height, request.num_frames, system.free_vram,
        system.free_ram, system.has_accelerator, {},
    )  # fmt: skip
    reset_peak_rss()
    previews = [0.0]
    original = runner_module.clip_preview

    def timed_preview(*a, **k):
        began = time.perf_counter()
        try:
            return original(*a, **k)
        finally:
            previews[0] += time.perf_counter() - began

    runner_module.clip_preview = timed_preview
    try:
        began = time.perf_counter()
        result = Runner().run(plan=plan, options=options, host=host, run_dir=tmp / "full_run")
        wall = time.perf_counter() - began
    finally:
        runner_module.clip_preview = original
    metadata = json.loads((result.run_dir / "metadata.json").read_text())
    timings = metadata["timings"]
    writing = timings.get("write", 0.0) + previews[0]
    ours = {
        "load": timings["load"],
        "denoise": timings["denoise"],
        "decode": timings["decode"],
        "total": wall - writing,
        "peak_rss": peak_rss(),
    }
    used = ((metadata.get("session") or {}).get("memory_plan") or {}).get("plan")
    print(f"memory plan: {used} (free RAM {system.free_ram / 2**30:.1f} GiB at the start)")
    if used != memory.summary:
        print(f"WARNING: diffusers' side gets {memory.summary}: the free RAM changed meanwhile")
    print(f"  ours:      {_phase_line(ours)} (+ {writing:.1f} s writing mp4s and the run folder)")
    gc.collect()

    reset_peak_rss()
    bare, frames = bare_clip(job, request, memory)
    bare["peak_rss"] = peak_rss()
    print(f"  diffusers: {_phase_line(bare)} (the same memory settings)")
    same = np.array_equal(load_clip(result.run_dir, 0)[0], frames)
    print(f"{'phase':>8} {'diffusers s':>12} {'ours s':>9} {'ours/diffusers':>15}")
    for name in ("load", "denoise", "decode", "total"):
        print(f"{name:>8} {bare[name]:12.2f} {ours[name]:9.2f} {ours[name] / bare[name]:15.3f}")
    rss = ours["peak_rss"] / bare["peak_rss"]
    print(
        f"peak RSS: diffusers {bare['peak_rss'] / 2**30:.2f} GiB, ours "
        f"{ours['peak_rss'] / 2**30:.2f} GiB, ours/diffusers {rss:.3f}"
    )
    print(f"same frames as diffusers: {same}")
    ratio = ours["total"] / bare["total"]
    print(f"full-size overhead ratio (ours / diffusers, total): {ratio:.3f}")
    return ratio


def bare_clip(job: RenderJob, request: ClipRequest, memory) -> tuple[dict, np.ndarray]:
    """Plain diffusers: from_pretrained, flow shift, the memory plan's settings as plain
    diffusers calls, one call timed by its step callbacks."""
    import torch

    start = time.perf_counter()
    pipe = bare_pipeline(job)
    bare_memory_setup(pipe, memory, "cpu")
    loaded = time.perf_counter()
    stamps: list[float] = []

    def on_step(_pipe, _step, _timestep, tensors):
        stamps.append(time.perf_counter())
        return tensors

    call = direct_call(request, pipe.scheduler)
    output = pipe(
        prompt=call.prompt,
        negative_prompt=call.negative_prompt,
        height=call.height,
        width=call.width,
        num_frames=call.num_frames,
        num_inference_steps=call.steps,
        guidance_scale=call.guidance,
        generator=torch.Generator(device="cpu").manual_seed(call.seed),
        output_type="np",
        callback_on_step_end=on_step,
    )
    frames = np.clip(np.rint(np.asarray(output.frames)[0] * 255.0), 0, 255).astype(np.uint8)
    done = time.perf_counter()
    del pipe, output
    phases = {
        "load": loaded - start,
        "denoise": stamps[-1] - loaded,
        "decode": done - stamps[-1],
        "total": done - start,
    }
    return phases, frames


def _phase_line(phases: dict) -> str:
    return (
        f"load {phases['load']:.1f} s, denoise {phases['denoise']:.1f} s, decode "
        f"{phases['decode']:.1f} s, total {phases['total']:.1f} s, peak RSS "
        f"{phases['peak_rss'] / 2**30:.2f} GiB"
    )
