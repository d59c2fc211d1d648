"""GPU acceptance: full-size Wan models with random weights on emulated 16 GB and 24 GB cards.

Why: a GPU machine is lent for minutes, with no network and no weights, and nothing of the CUDA
path (offload, group offload with streams, fp8 storage, VAE tiling, every VRAM figure) has run
on one. This one command builds the models, runs them, and brings back figures.

1. Build (`random_models.py`): Wan2.1-T2V-1.3B, Wan2.2-TI2V-5B, Wan2.1-T2V-14B, Wan2.2-T2V-A14B
   (both experts hard links of the 14B transformer's files), Wan2.1-VACE-1.3B, with one
   full-size UMT5-XXL text encoder hard-linked into each; random weights filled on the GPU,
   bfloat16 safetensors. Detection must name each the model it imitates. Built lazily, just
   before a model's runs; a transformer no later model shares is deleted after its runs (disk:
   at most about 45 GB at once; --keep keeps everything).
2. For each model and emulated card (`torch.cuda.set_per_process_memory_fraction`; the VRAM
   probe `wan.models.system.probe_system` reads the cap through `process_vram_cap`, so our
   planner plans for the card, not the GPU): one clip at the model's default size and frame
   count, 2 steps, through our render path (`ModelSession.open` + `generate`, as `Runner` does:
   memory plan, loading, OOM step-down), then the same clip through bare diffusers
   (`from_pretrained`, the same memory settings as plain diffusers calls, one pipeline call).
   Recorded: the plan, estimated vs measured peak VRAM (max allocated and reserved) and peak RAM
   (VmHWM, reset per side), load seconds, seconds per step (the second step; the first includes
   text encoding), decode seconds, OOM and what the step-down did, and ours/bare ratios.
   The RAM the planner sees is the machine's (e.g. 128 GB), not a 4080 PC's: said in the JSON.
3. Prints one table and writes JSON (--out, rewritten after every run, so a run cut short
   still brings back what finished).

Time (`--quick`: 1.3B, 5B and 14B at 16 GB; must stay under 8 minutes on one H200).
Measured here (the 2-core development VM, shared, CPU only): building the full-size 1.3B
transformer and VAE (3.1 GB bf16) took 31-43 s: in-place fill on the CPU 14-24 s, save_pretrained
8-11 s (0.27-0.38 GB/s; this VM's disk writes 0.14 GB/s with fdatasync, and safetensors' own
copy runs at 0.17-0.27 GB/s here under contention); configs, tokenizer and model_index 0.04-0.4 s
per model; detection milliseconds. The whole `--tiny` run: 15.5 s of CPU time.
Estimated for the H200 machine (not measured: no GPU here): the fill is milliseconds per GB on
the GPU; the write is bounded by the device-to-host copy and the disk, about 1-2 GB/s, so the
54 GB of `--quick` (UMT5-XXL 11.4, 14B 28.6, 5B 11.4 with its VAE, 1.3B 3.1) take 30-55 s (at
this VM's rate it would be 2.5-3.5 minutes). Then, both paths together per model: 1.3B at
832x480x81 about 60 s (two loads of 14 GB from the page cache, 2x2 steps of about 2 s, UMT5-XXL
on the CPU when the plan puts it there, 2 decodes of about 8 s); 5B at 1280x704x121 about 100 s
(offloaded under 16 GB: steps about 8 s, decodes about 25 s); 14B at 1280x720x81 about 200 s
(28.6 GB of weights offloaded through a 16 GB cap: steps about 30 s with CFG, loads about 25 s,
decodes about 20 s). Total about 7 minutes. `--deadline` (450 s with --quick) skips the runs that
would start after it, and the JSON keeps what finished.

    python benchmarks/gpu_acceptance.py --quick --out $OUT/gpu_acceptance.json
    python benchmarks/gpu_acceptance.py [--models ID ...] [--budgets 16 24] [--work DIR] [--keep]
    python benchmarks/gpu_acceptance.py --tiny   # CPU, smoke-size models: the suite's check
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from random_models import BuildSpec, build_model, transformer_cache, write_json
from render_common import (
    bare_memory_setup,
    peak_rss,
    planned,
    reset_peak_rss,
    settings_dict,
)

from wan.core.deforum.settings import parse_settings
from wan.errors import WanError
from wan.host.standalone import StandaloneHost
from wan.models.catalog import get_entry
from wan.models.identify import profile_for
from wan.options.render_options import parse_options
from wan.render.conditioning import first_request
from wan.render.job import prepare_job
from wan.render.model_session import ModelSession

GIB = 2**30
STEPS = 2
MODELS = (
    "Wan2.1-T2V-1.3B",
    "Wan2.1-VACE-1.3B",
    "Wan2.2-TI2V-5B",
    "Wan2.1-T2V-14B",
    "Wan2.2-T2V-A14B",
)
QUICK = ("Wan2.1-T2V-1.3B", "Wan2.2-TI2V-5B", "Wan2.1-T2V-14B")
TINY = {  # the smoke model of each family (--tiny)
    "Wan2.1-T2V-1.3B": "tiny-t2v",
    "Wan2.1-VACE-1.3B": "tiny-vace",
    "Wan2.2-TI2V-5B": "tiny-ti2v",
    "Wan2.2-T2V-A14B": "tiny-t2v-a14b",
}
EXIT_NEEDS_CUDA = 2

log = logging.getLogger("gpu_acceptance")


@dataclass
class Side:
    """One clip through one path."""

    ok: bool = False
    error: str = ""
    load: float = 0.0
    first_step: float = 0.0  # includes text encoding
    step: float = 0.0
    decode: float = 0.0
    total: float = 0.0
    vram_allocated: int = 0
    vram_reserved: int = 0
    ram_peak: int = 0
    frames: Any = field(default=None, repr=False)

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "frames"}


# ----------------------------------------------------------------------------------------------
# Measuring


def cuda() -> Any:
    import torch

    return torch.cuda if torch.cuda.is_available() else None


def start_side() -> float:
    gc.collect()
    if cuda():
        cuda().empty_cache()
        cuda().reset_peak_memory_stats()
    reset_peak_rss()
    return time.perf_counter()


def end_side(side: Side, started: float) -> Side:
    side.total = time.perf_counter() - started
    side.ram_peak = peak_rss()
    if cuda():
        cuda().synchronize()
        side.vram_allocated = int(cuda().max_memory_allocated())
        side.vram_reserved = int(cuda().max_memory_reserved())
    return side


def set_budget(gib: float | None) -> None:
    """Cap this process's CUDA allocations at `gib` (None: the whole card)."""
    if not cuda():
        return
    total = cuda().get_device_properties(0).total_memory
    cuda().set_per_process_memory_fraction(1.0 if gib is None else min(1.0, gib * GIB / total))


def is_oom(exc: BaseException) -> bool:
    import torch

    return isinstance(exc, torch.OutOfMemoryError) or "out of memory" in str(exc).lower()


# ----------------------------------------------------------------------------------------------
# Our render path


@dataclass
class Clip:
    folder: Path
    job: Any
    request: Any


def prepare_clip(folder: Path, host: StandaloneHost, frames: int | None) -> Clip:
    """One clip of the model's default size and frame count (or `frames`), 2 steps, as a render
    plans it."""
    profile = profile_for(str(folder))
    width, height = profile.sizes[0]
    frames = frames or profile.max_clip_frames
    settings = parse_settings(settings_dict(frames, width, height, str(folder)))
    plan = planned(settings, str(folder))
    options = parse_options({"model": str(folder), "size": f"{width}x{height}", "steps": STEPS})
    job = prepare_job(plan, settings, options, host.store_config(), host.lora_dirs())
    return Clip(folder, job, first_request(job, plan.clips[0], None))


def run_ours(clip: Clip) -> tuple[Side, dict]:
    side, info = Side(), {}
    started = start_side()
    timings: dict[str, float] = {}
    session = None
    try:
        session = ModelSession.open(clip.job, timings)
        side.load = timings["load"]
        plan = session.plan
        info = {
            "plan": plan.summary if plan else "none",
            "plan_detail": plan.to_dict() if plan else None,
            "estimated_vram": plan.estimate.peak_vram if plan else 0,
            "estimated_ram": plan.estimate.peak_ram if plan else 0,
            "planner_free_vram": session.system.free_vram,
            "planner_free_ram": session.system.free_ram,
        }
        stamps: list[float] = []
        called = time.perf_counter()
        result = session.generate(
            clip.request, on_step=lambda *_: stamps.append(_now()), cancel=None
        )
        done = time.perf_counter()
        side.frames = result.frames
        _step_times(side, called, stamps, done)
        after = session.plan
        info["oom_step_down"] = (
            f"{plan.summary} -> {after.summary}" if after is not None and after is not plan else ""
        )
        info["final_plan"] = after
        side.ok = True
    except Exception as exc:  # OOM twice is a RenderError naming what was tried; any other
        side.error = _error_text(exc)  # failure is recorded too: the GPU is lent for minutes
        if not isinstance(exc, WanError):
            log.exception("our path failed on %s", clip.folder.name)
        info.setdefault("oom_step_down", "")
        info["final_plan"] = session.plan if session is not None else None
    finally:
        if session is not None:
            session.close()
        del session
    return end_side(side, started), info


def _error_text(exc: BaseException) -> str:
    first = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {first[:200]}"


def _now() -> float:
    if cuda():
        cuda().synchronize()
    return time.perf_counter()


def _step_times(side: Side, called: float, stamps: list[float], done: float) -> None:
    side.first_step = stamps[0] - called
    side.step = (stamps[-1] - stamps[0]) / (len(stamps) - 1) if len(stamps) > 1 else 0.0
    side.decode = done - stamps[-1]


# ----------------------------------------------------------------------------------------------
# Bare diffusers with the same memory settings


def run_bare(clip: Clip, plan: Any, device: str) -> Side:
    import torch
    from diffusers import DiffusionPipeline

    side = Side()
    started = start_side()
    pipe = None
    try:
        began = time.perf_counter()
        pipe = DiffusionPipeline.from_pretrained(
            str(clip.folder), torch_dtype=getattr(torch, clip.job.dtype), local_files_only=True
        )
        if clip.job.flow_shift is not None:
            config = pipe.scheduler.config
            pipe.scheduler = type(pipe.scheduler).from_config(
                config, flow_shift=clip.job.flow_shift
            )
        pipe.set_progress_bar_config(disable=True)
        bare_memory_setup(pipe, plan, device)
        side.load = time.perf_counter() - began
        kwargs = bare_call(pipe, clip, plan, device)
        stamps: list[float] = []

        def on_step(_pipe, _step, _timestep, tensors):
            stamps.append(_now())
            return tensors

        called = time.perf_counter()
        output = pipe(**kwargs, callback_on_step_end=on_step)
        frames = np.asarray(output.frames)[0]
        side.frames = np.clip(np.rint(frames * 255.0), 0, 255).astype(np.uint8)
        _step_times(side, called, stamps, time.perf_counter())
        side.ok = True
    except Exception as exc:
        side.error = ("out of memory: " if is_oom(exc) else "") + _error_text(exc)
        if not is_oom(exc):
            log.exception("bare diffusers failed on %s", clip.folder.name)
    finally:
        del pipe
    return end_side(side, started)


def bare_call(pipe: Any, clip: Clip, plan: Any, device: str) -> dict:
    import torch

    job, request = clip.job, clip.request
    kwargs: dict[str, Any] = {
        "height": request.height,
        "width": request.width,
        "num_frames": request.num_frames,
        "num_inference_steps": request.steps,
        "guidance_scale": request.guidance,
        "generator": torch.Generator(device="cpu").manual_seed(int(request.seed) & (2**64 - 1)),
        "output_type": "np",
    }
    if getattr(pipe.config, "boundary_ratio", None) is not None:
        kwargs["guidance_scale_2"] = job.guidance_2 if job.guidance_2 is not None else job.guidance
    if plan is not None and plan.text_encoder_on_cpu and device != "cpu":
        positive, negative = pipe.encode_prompt(
            prompt=request.prompt,
            negative_prompt=request.negative_prompt,
            do_classifier_free_guidance=request.guidance > 1.0,
            device=torch.device("cpu"),
        )
        kwargs |= {"prompt_embeds": positive, "negative_prompt_embeds": negative}
    else:
        kwargs |= {"prompt": request.prompt, "negative_prompt": request.negative_prompt}
    return kwargs


# ----------------------------------------------------------------------------------------------
# The run


def model_runs(args) -> list[tuple[str, float | None]]:
    """(model, budget GiB or None on a CPU) in order: each model's budgets together."""
    budgets = [None] if args.tiny else args.budgets
    return [(m, b) for m in args.models for b in budgets]


def run(args) -> list[dict]:
    device = "cuda" if cuda() else "cpu"
    work = Path(args.work or tempfile.mkdtemp(prefix="wan-gpu-acceptance-"))
    work.mkdir(parents=True, exist_ok=True)
    host = StandaloneHost(output_dir=str(work / "outputs"), lora_folders=[str(work / "loras")])
    records: list[dict] = []
    started = time.perf_counter()
    built: dict[str, dict] = {}
    runs = model_runs(args)
    try:
        for index, (model, budget) in enumerate(runs):
            record: dict[str, Any] = {"model": model, "budget_gib": budget, "device": device}
            records.append(record)
            if args.deadline and time.perf_counter() - started > args.deadline:
                record["skipped"] = f"past the {args.deadline:.0f} s deadline"
                print(f"{model} at {budget} GiB: skipped ({record['skipped']})", flush=True)
                _save(args, records, started)
                continue
            set_budget(None)
            folder = work / "models" / model
            try:
                if model not in built:
                    built[model] = build(args, model, folder, work / "shared", device)
                record["build"] = built[model]
                clip = prepare_clip(folder, host, args.frames)
            except Exception as exc:  # recorded; the other models still run
                log.exception("could not build or plan %s", model)
                record["error"] = _error_text(exc)
                _save(args, records, started)
                continue
            record["clip"] = {
                "size": [clip.job.width, clip.job.height],
                "frames": clip.request.num_frames,
                "steps": clip.request.steps,
                "guidance": clip.request.guidance,
                "dtype": clip.job.dtype,
            }
            set_budget(budget)
            ours, info = run_ours(clip)
            final = info.pop("final_plan")
            bare = run_bare(clip, final, device)
            record |= info
            record["ours"], record["bare"] = ours.to_dict(), bare.to_dict()
            record["same_frames"] = bool(
                ours.ok and bare.ok and np.array_equal(ours.frames, bare.frames)
            )
            record["ratios"] = ratios(ours, bare)
            print(row_text(record), flush=True)
            _save(args, records, started)
            later = {m for m, _ in runs[index + 1 :]}
            if not args.keep and model not in later:
                free_disk(args, model, later, work)
    finally:
        set_budget(None)
        if not args.work and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return records


def free_disk(args, model: str, later: set[str], work: Path) -> None:
    """Delete a model once its runs are over, and its transformer unless a later model shares
    it (the A14B experts are the 14B's files)."""
    shutil.rmtree(work / "models" / model, ignore_errors=True)
    mine = transformer_cache(get_entry(_built_id(args, model)), args.dtype)
    if all(transformer_cache(get_entry(_built_id(args, m)), args.dtype) != mine for m in later):
        shutil.rmtree(work / "shared" / mine, ignore_errors=True)


def _built_id(args, model: str) -> str:
    return TINY[model] if args.tiny else model


def build(args, model: str, folder: Path, shared: Path, device: str) -> dict:
    target = _built_id(args, model)
    spec = BuildSpec(target, text="smoke" if args.tiny else "xxl", device=device, dtype=args.dtype)
    began = time.perf_counter()
    report = build_model(spec, folder, shared, lambda line: print(line, flush=True))
    seconds = time.perf_counter() - began
    written = report.bytes_written
    print(
        f"built {model} ({target}) in {seconds:.1f} s: {written / 1e9:.2f} GB written, linked "
        f"{', '.join(report.linked) or 'nothing'}; detected as {report.detected}",
        flush=True,
    )
    return {
        "imitates": target,
        "detected": report.detected,
        "seconds": seconds,
        "parts": report.seconds,
        "bytes_written": written,
        "linked": report.linked,
    }


def ratios(ours: Side, bare: Side) -> dict:
    if not (ours.ok and bare.ok):
        return {}
    out = {}
    for name in ("load", "step", "decode", "total"):
        a, b = getattr(ours, name), getattr(bare, name)
        out[name] = a / b if b > 0 else None
    return out


def _save(args, records: list[dict], started: float) -> None:
    if args.out:
        data = {
            "elapsed_s": time.perf_counter() - started,
            "steps": STEPS,
            "note": "RAM the planner saw is this machine's; budgets are torch allocation caps",
            "records": records,
        }
        write_json(Path(args.out), data)


# ----------------------------------------------------------------------------------------------
# The table

HEADER = (
    f"{'model':18s} {'card':>5s} {'plan':42s} {'est VRAM':>8s} {'alloc':>6s} {'resv':>6s} "
    f"{'est RAM':>7s} {'RAM':>6s} {'load':>6s} {'s/step':>7s} {'decode':>6s} {'OOM':4s} "
    f"{'ours s':>7s} {'bare s':>7s} {'ratio':>6s}"
)


def row_text(r: dict) -> str:
    card = "cpu" if r["budget_gib"] is None else f"{r['budget_gib']:g}G"
    if "skipped" in r:
        return f"{r['model']:18s} {card:>5s} skipped: {r['skipped']}"
    if "error" in r:
        return f"{r['model']:18s} {card:>5s} FAILED before the runs: {r['error']}"
    ours, bare = r["ours"], r["bare"]
    oom = "yes" if r.get("oom_step_down") or not ours["ok"] else "no"
    ratio = r["ratios"].get("total")
    line = (
        f"{r['model']:18s} {card:>5s} {r.get('plan', '?')[:42]:42s} "
        f"{_gb(r.get('estimated_vram', 0)):>8s} {_gb(ours['vram_allocated']):>6s} "
        f"{_gb(ours['vram_reserved']):>6s} {_gb(r.get('estimated_ram', 0)):>7s} "
        f"{_gb(ours['ram_peak']):>6s} {ours['load']:6.1f} {ours['step']:7.2f} "
        f"{ours['decode']:6.1f} {oom:4s} {ours['total']:7.1f} {bare['total']:7.1f} "
        f"{ratio if ratio is not None else float('nan'):6.3f}"
    )
    if r.get("oom_step_down"):
        line += f"\n  OOM step-down: {r['oom_step_down']}"
    for name, side in (("ours", ours), ("bare", bare)):
        if side["error"]:
            line += f"\n  {name} failed: {side['error']}"
    return line


def _gb(value: int) -> str:
    return f"{value / 1e9:.1f}G" if value >= 1e8 else f"{value / 1e6:.0f}M"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="1.3B, 5B and 14B at 16 GB (< 8 min)")
    mode.add_argument("--tiny", action="store_true", help="smoke-size models on the CPU")
    parser.add_argument("--models", nargs="+", default=None, choices=MODELS)
    parser.add_argument("--budgets", nargs="+", type=float, default=None, help="GiB (16 24)")
    parser.add_argument(
        "--out",
        default=os.path.join(os.environ["OUT"], "gpu_acceptance.json")
        if "OUT" in os.environ
        else None,
        help="JSON results, rewritten after every run (default: $OUT/gpu_acceptance.json if set)",
    )
    parser.add_argument("--work", default=None, help="where models are built (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the built models")
    parser.add_argument(
        "--frames", type=int, default=None, help="frames per clip (default: the model's; --tiny 5)"
    )
    parser.add_argument("--deadline", type=float, default=None, help="seconds; later runs skip")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from diffusers.utils import logging as diffusers_logging

    diffusers_logging.disable_progress_bar()  # one table, no bars
    if not args.tiny and cuda() is None:
        what = "--quick" if args.quick else "a full run"
        print(
            f"gpu_acceptance {what} needs CUDA (torch.cuda.is_available() is False here); "
            "run it on a GPU machine, or use --tiny for the CPU check",
            file=sys.stderr,
        )
        return EXIT_NEEDS_CUDA
    if args.tiny:
        args.models = args.models or list(TINY)
        unknown = [m for m in args.models if m not in TINY]
        if unknown:
            parser.error(f"--tiny has no smoke model for {', '.join(unknown)}")
        args.budgets, args.dtype = [None], "float32"
        args.frames = args.frames or 5  # the suite's budget: the smoke VAE is slow at 17 frames
    else:
        args.models = args.models or list(QUICK if args.quick else MODELS)
        args.budgets = args.budgets or ([16.0] if args.quick else [16.0, 24.0])
        args.dtype = "bfloat16"
        if args.quick and args.deadline is None:
            args.deadline = 450.0
    began = time.perf_counter()
    print(HEADER, flush=True)
    records = run(args)
    print(f"\n{HEADER}")
    for record in records:
        print(row_text(record))
    failed = [r["model"] for r in records if "error" in r or ("ours" in r and not r["ours"]["ok"])]
    print(f"done in {time.perf_counter() - began:.0f} s; our path failed on: {failed or 'none'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
