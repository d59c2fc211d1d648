"""Memory estimate vs. reality: measured peaks of the smoke models, plans for the real ones.

1. For each smoke model: one small generation (64x64, 5 frames, 2 steps) in a fresh process,
   its measured peak next to the estimate. On a CPU the peak is the process's resident high-water
   mark (VmHWM in /proc/self/status); with CUDA also `torch.cuda.max_memory_allocated`.
   Tiny models weigh kilobytes: their peaks are the Python/torch baseline, which is what the
   RAM baseline constant stands for.
2. For each real catalog model at its default size and clip length: the plan chosen for a 16 GB
   GPU in a 64 GB PC and its estimate (no weights are loaded).
3. `--trace`: the working sets the estimate's constants come from, traced at real sizes on the
   meta device (live tensor bytes of diffusers' eager code, attention as a memory-efficient
   kernel), next to the estimate's numbers. `--trace-tiled` adds tiled VAE runs (minutes).

    .venv/bin/python benchmarks/memory_estimate.py [--models tiny-t2v ...] [--skip-measure]
        [--trace] [--trace-tiled] [--vram-gb 16] [--ram-gb 56]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from wan.models.catalog import get_entry, wan_entries
from wan.models.memory import GB, MemorySetup
from wan.models.memory_estimate import estimate_memory, token_bytes
from wan.models.optimize import choose_plan

log = logging.getLogger("memory_estimate")
SMOKE = ("tiny-t2v", "tiny-t2v-a14b", "tiny-i2v", "tiny-i2v-a14b", "tiny-ti2v", "tiny-vace")
FP32 = {
    "transformer_dtype": "float32",
    "text_encoder_dtype": "float32",
    "vae_dtype": "float32",
    "image_encoder_dtype": "float32",
}


def _status_bytes(key: str) -> int:
    text = Path("/proc/self/status").read_text()
    return int(re.search(rf"^{key}:\s+(\d+) kB", text, re.M).group(1)) * 1024


# ----------------------------------------------------------------------------------------------
# 1. Smoke models: measured in a child process each


def measure_one(model: str) -> dict:
    """Load, generate once, report peaks (runs in a fresh process: VmHWM is per process)."""
    import torch
    from diffusers import DiffusionPipeline
    from PIL import Image

    from wan.models.smoke import ensure_smoke_model

    folder = ensure_smoke_model(model)
    cuda = torch.cuda.is_available()
    device = "cuda" if cuda else "cpu"
    before = _status_bytes("VmRSS")
    pipe = DiffusionPipeline.from_pretrained(folder).to(device)
    pipe.set_progress_bar_config(disable=True)
    kwargs: dict = {"height": 64, "width": 64, "num_frames": 5, "num_inference_steps": 2}
    if model in ("tiny-i2v", "tiny-i2v-a14b"):
        kwargs["image"] = Image.new("RGB", (64, 64), (200, 80, 40))
    if model == "tiny-vace":
        kwargs["video"] = [Image.new("RGB", (64, 64))] * 5
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    pipe(prompt="a red fox in the snow", output_type="np", **kwargs)
    return {
        "model": model,
        "seconds": time.perf_counter() - start,
        "rss_before": before,
        "hwm": _status_bytes("VmHWM"),
        "vram": torch.cuda.max_memory_allocated() if cuda else None,
    }


def smoke_rows(models: list[str]) -> None:
    print("1. Smoke models: one 64x64, 5-frame, 2-step generation each (fresh process)")
    print(f"{'model':16s} {'estimate':>10s} {'measured':>10s} {'ratio':>6s}   growth over imports")
    for model in models:
        done = subprocess.run(
            [sys.executable, __file__, "--one", model], capture_output=True, text=True, check=False
        )
        if done.returncode:
            print(f"{model:16s} failed: {done.stderr.strip().splitlines()[-1:]}")
            continue
        m = json.loads(done.stdout.strip().splitlines()[-1])
        entry = get_entry(model)
        accel = m["vram"] is not None
        options = MemorySetup(accelerator=accel, conditioning="text", **FP32)
        est = estimate_memory(entry, 64, 64, 5, options)
        measured, estimated = (m["vram"], est.peak_vram) if accel else (m["hwm"], est.peak_ram)
        ratio = estimated / measured if measured else float("nan")
        growth = (m["hwm"] - m["rss_before"]) / 1e6
        model_part = (est.peak_ram - est.ram[0].bytes) / 1e6
        print(
            f"{model:16s} {estimated / GB:8.3f}GB {measured / GB:8.3f}GB {ratio:6.2f}   "
            f"{growth:7.1f} MB measured, {model_part:.1f} MB estimated beyond the baseline"
        )


# ----------------------------------------------------------------------------------------------
# 2. Real models: the plan for a 16 GB GPU


def real_rows(vram_gb: float, ram_gb: float) -> None:
    print(f"\n2. Catalog models at their default size on a {vram_gb:g} GB GPU, {ram_gb:g} GB RAM")
    print(f"{'model':24s} {'clip':>14s}  {'plan':50s} {'VRAM':>9s} {'phase':8s} {'RAM':>9s}")
    for entry in wan_entries():
        if entry.smoke:
            continue
        width, height = entry.default_size
        frames = entry.max_clip_frames
        clip = f"{width}x{height}x{frames}"
        try:
            plan = choose_plan(
                entry, width, height, frames, int(vram_gb * GB), int(ram_gb * GB), True
            )
        except Exception as exc:  # a MemoryPlanError names what does not fit
            print(f"{entry.id:24s} {clip:>14s}  does not fit: {str(exc)[:120]}")
            continue
        est = plan.estimate
        print(
            f"{entry.id:24s} {clip:>14s}  {plan.summary:50s} {est.peak_vram / GB:7.2f}GB "
            f"{est.peak_phase.name:8s} {est.peak_ram / GB:7.2f}GB"
        )


# ----------------------------------------------------------------------------------------------
# 3. Traces on the meta device


class LiveBytes:
    """Peak bytes of tensors created while active (weights and inputs are excluded)."""

    def __init__(self, *owners) -> None:
        import torch
        from torch.multiprocessing.reductions import StorageWeakRef
        from torch.utils._python_dispatch import TorchDispatchMode
        from torch.utils._pytree import tree_flatten

        ignore = set()
        for owner in owners:
            tensors = (
                [*owner.parameters(), *owner.buffers()] if hasattr(owner, "buffers") else [owner]
            )
            ignore |= {StorageWeakRef(t.untyped_storage()).cdata for t in tensors}
        live: dict = {}
        self.peak = 0
        tracker = self

        class Mode(TorchDispatchMode):
            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                out = func(*args, **(kwargs or {}))
                for t in tree_flatten(out)[0]:
                    if isinstance(t, torch.Tensor):
                        ref = StorageWeakRef(t.untyped_storage())
                        if ref.cdata not in live and ref.cdata not in ignore:
                            live[ref.cdata] = (ref, t.untyped_storage().nbytes())
                for key in [k for k, (r, _) in live.items() if r.expired()]:
                    del live[key]
                tracker.peak = max(tracker.peak, sum(n for _, n in live.values()))
                return out

        self.mode = Mode()


@contextlib.contextmanager
def _memory_efficient_attention():
    """Stand in for flash / memory-efficient SDPA (the meta device would use the math kernel)."""
    import torch.nn.functional as F

    original = F.scaled_dot_product_attention

    def attention(query, key, value, *args, **kwargs):
        return query.new_empty((*query.shape[:-1], value.shape[-1]))

    F.scaled_dot_product_attention = attention
    try:
        yield
    finally:
        F.scaled_dot_product_attention = original


def _traced(module, call, *inputs) -> int:
    import torch

    tracker = LiveBytes(module, *inputs)
    with torch.no_grad(), _memory_efficient_attention(), tracker.mode:
        call()
    return tracker.peak


def trace_transformer(model: str, width: int = 832, height: int = 480, frames: int = 81):
    import torch
    from diffusers import WanTransformer3DModel, WanVACETransformer3DModel

    entry = get_entry(model)
    sig = entry.signature
    s = sig.transformer
    kwargs = {
        "num_attention_heads": s.num_attention_heads,
        "attention_head_dim": s.attention_head_dim,
        "in_channels": s.in_channels,
        "out_channels": s.out_channels,
        "ffn_dim": s.ffn_dim,
        "num_layers": s.num_layers,
    }
    if s.image_dim:
        kwargs |= {"image_dim": s.image_dim, "added_kv_proj_dim": s.hidden_size}
    cls = WanTransformer3DModel
    if s.vace_layers:
        cls = WanVACETransformer3DModel
        kwargs |= {"vace_layers": list(s.vace_layers), "vace_in_channels": s.vace_in_channels}
    with torch.device("meta"):
        module = cls(**kwargs)
    keep = set(module._keep_in_fp32_modules or ())
    for name, param in module.named_parameters():  # as from_pretrained(torch_dtype=bf16) does
        param.data = param.data.to(torch.float32 if keep & set(name.split(".")) else torch.bfloat16)
    for buffer in module.buffers():
        buffer.data = buffer.data.to(torch.bfloat16)
    spatial = 16 if sig.vae_z_dim == 48 else 8
    latent = (1, s.in_channels, (frames - 1) // 4 + 1, height // spatial, width // spatial)
    tokens = latent[2] * latent[3] * latent[4] // 4

    def empty(*shape, dtype=torch.bfloat16):
        return torch.empty(*shape, device="meta", dtype=dtype)

    x, text = empty(*latent), empty(1, 512, s.text_dim)
    step = empty(*((1, tokens) if sig.expand_timesteps else (1,)), dtype=torch.long)
    extra = {}
    if s.vace_layers:
        extra["control_hidden_states"] = empty(1, s.vace_in_channels, *latent[2:])
    if s.image_dim:
        extra["encoder_hidden_states_image"] = empty(1, 257, s.image_dim)
    peak = _traced(module, lambda: module(x, step, text, return_dict=False, **extra), x, text)
    return peak / tokens, token_bytes(s, sig.expand_timesteps)


def trace_vae(wan22: bool, width: int, height: int, frames: int, decode: bool, tiled: bool):
    import torch
    from diffusers import AutoencoderKLWan

    config = {}
    if wan22:
        config = {
            "base_dim": 160,
            "decoder_base_dim": 256,
            "z_dim": 48,
            "is_residual": True,
            "in_channels": 12,
            "out_channels": 12,
            "scale_factor_spatial": 16,
            "patch_size": 2,
        }
    with torch.device("meta"):
        vae = AutoencoderKLWan(**config)
    if tiled:
        vae.enable_tiling()
    spatial = 16 if wan22 else 8
    if decode:
        z = torch.empty(1, 48 if wan22 else 16, (frames - 1) // 4 + 1, height // spatial,
                        width // spatial, device="meta")  # fmt: skip
        return _traced(vae, lambda: vae.decode(z), z)
    x = torch.empty(1, 3, frames, height, width, device="meta")
    return _traced(vae, lambda: vae.encode(x), x)


def trace_rows(tiled: bool) -> None:
    print("\n3. Traced working sets (meta device) vs the estimate")
    print("   transformer, bytes per token (832x480, 81 frames; TI2V 1280x704, 121 frames):")
    for model in ("Wan2.1-T2V-1.3B", "Wan2.1-T2V-14B", "Wan2.1-I2V-14B-480P",
                  "Wan2.1-VACE-1.3B", "Wan2.1-VACE-14B", "Wan2.2-TI2V-5B"):  # fmt: skip
        size = (1280, 704, 121) if model == "Wan2.2-TI2V-5B" else (832, 480, 81)
        traced, estimated = trace_transformer(model, *size)
        print(f"   {model:24s} traced {traced:9.0f}  estimate {estimated:9.0f}  "
              f"ratio {estimated / traced:.3f}")  # fmt: skip
    cases = [
        ("decode", False, 832, 480, 81, False),
        ("decode", False, 1280, 720, 81, False),
        ("decode", True, 1280, 704, 121, False),
        ("encode", False, 832, 480, 81, False),
        ("encode", True, 1280, 704, 1, False),
    ]
    if tiled:
        cases += [("decode", False, 1280, 720, 81, True), ("decode", True, 1280, 704, 121, True)]
    print("   VAE (float32), working bytes without the input video:")
    for kind, wan22, width, height, frames, is_tiled in cases:
        traced = trace_vae(wan22, width, height, frames, kind == "decode", is_tiled)
        entry = get_entry("Wan2.2-TI2V-5B" if wan22 else "Wan2.1-I2V-14B-720P")
        conditioning = "image" if frames == 1 else "video"
        options = MemorySetup(offload="model", vae_tiling=is_tiled, conditioning=conditioning)
        est = estimate_memory(entry, width, height, frames, options)
        work = next(p for p in est.phases if p.name == kind).working.bytes
        if kind == "encode":
            work -= 3 * frames * width * height * 4
        label = f"{'2.2' if wan22 else '2.1'} {kind} {width}x{height}x{frames}"
        label += " tiled" if is_tiled else ""
        print(f"   {label:32s} traced {traced / GB:6.2f} GB  estimate {work / GB:6.2f} GB  "
              f"ratio {work / traced:.3f}")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="*", default=list(SMOKE))
    parser.add_argument("--skip-measure", action="store_true", help="estimates only")
    parser.add_argument("--trace", action="store_true")
    parser.add_argument("--trace-tiled", action="store_true")
    parser.add_argument("--vram-gb", type=float, default=16.0)
    parser.add_argument("--ram-gb", type=float, default=56.0)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.one:
        print(json.dumps(measure_one(args.one)))
        return 0
    if not args.skip_measure:
        smoke_rows(args.models)
    real_rows(args.vram_gb, args.ram_gb)
    if args.trace or args.trace_tiled:
        trace_rows(args.trace_tiled)
    return 0


if __name__ == "__main__":
    sys.exit(main())
