"""The camera guide's cost per clip against the clip's denoise time (issue 15): measured on a smoke
model here, and estimated for Wan2.1-T2V-1.3B at 832x480, 81 frames, 50 steps on an RTX 4080.

A guided clip adds to an unguided one: the guide itself (Deforum's warp of the source for every
model frame, on the CPU: `wan.render.conditioning.clip_guide`), the VAE encode of the guide
(`wan.render.dual_clock.encode_guide`) and, in 3D, one depth map of the source (not counted: ~5
ms on a GPU for Depth-Anything-V2-Small, 1.8 s on this CPU; `wan/render/depth.py`). Its denoise
is shorter (the run starts at the weak clock), which this leaves out: the ratio is an upper bound.

    .venv/bin/python benchmarks/guide_cost.py [--size 64x64] [--steps 2] [--frames 81]

`render_overhead.py` prints the same section.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from render_common import MODEL, frames_for, planned, settings_dict, size_text

from wan.core.deforum.settings import parse_settings
from wan.host.standalone import StandaloneHost
from wan.models.catalog import get_entry
from wan.models.speed_estimate import GPU_TFLOPS, clip_seconds
from wan.options.render_options import parse_options
from wan.render.camera_guide import camera_guide, test_card
from wan.render.conditioning import clip_guide
from wan.render.deforum_warp import WarpSettings
from wan.render.dual_clock import encode_guide
from wan.render.generate import ClipRequest
from wan.render.job import prepare_job
from wan.render.model_session import ModelSession

ESTIMATE_MODEL, ESTIMATE_SIZE, ESTIMATE_FRAMES, ESTIMATE_STEPS = (
    "Wan2.1-T2V-1.3B",
    (832, 480),
    81,
    50,
)
ESTIMATE_GPU = "RTX 4080"
VAE_ENCODE_SHARE = 0.05  # the VAE's encode of a clip against its denoise: half of the estimate's
#                          OTHER_SHARE (text encoder and VAE together, wan.models.speed_estimate)


def measure_smoke(size: str, steps: int, tmp: Path) -> float:
    """(guide + encode) / denoise of one continuation clip of the smoke model; prints the parts."""
    width, height = size_text(size)
    settings = parse_settings(settings_dict(frames_for(2), width, height))
    plan = planned(settings)
    host = StandaloneHost(output_dir=str(tmp / "outputs"))
    options = parse_options({"model": MODEL, "size": size, "steps": steps})
    job = prepare_job(plan, settings, options, host.store_config(), host.lora_dirs())
    clip = plan.clips[1]
    source = test_card(job.width, job.height)
    timings: dict[str, float] = {}
    session = ModelSession.open(job, timings)
    try:
        start = time.perf_counter()
        guide = clip_guide(job, clip, source)
        warp = time.perf_counter() - start
        start = time.perf_counter()
        encode_guide(session.model.text_pipe, guide.frames, "cpu")
        encode = time.perf_counter() - start
        request = ClipRequest(
            mode="t2v", prompt="a fox", negative_prompt="", num_frames=clip.num_frames,
            width=job.width, height=job.height, steps=steps, guidance=job.guidance,
            guidance_2=None, seed=1,
        )  # fmt: skip
        start = time.perf_counter()
        session.generate(request, on_step=lambda *_: None, cancel=lambda: False)
        denoise = time.perf_counter() - start
    finally:
        session.close()
    ratio = (warp + encode) / denoise
    print(f"   {MODEL} at {job.width}x{job.height}, {clip.num_frames} frames, {steps} steps: "
          f"guide {warp * 1000:.0f} ms + encode {encode * 1000:.0f} ms against the clip's "
          f"generation {denoise:.2f} s")  # fmt: skip
    print(
        f"   guide cost per clip, smoke model: {ratio:.3f} of the clip's denoise time "
        "(a smoke transformer is tiny, so the guide weighs far more than at real size)"
    )
    return ratio


def estimate_real(frames: int = ESTIMATE_FRAMES) -> float:
    """The same ratio for the real model: the guide measured here at 832x480, the encode and the
    denoise estimated (wan.models.speed_estimate's arithmetic, an RTX 4080)."""
    width, height = ESTIMATE_SIZE
    schedules = {"translation_x": np.full(200, 2.0), "rotation_3d_y": np.full(200, -0.5)}
    source = test_card(width, height)
    times = {}
    for mode in ("2D", "3D"):
        start = time.perf_counter()
        camera_guide(source, schedules, WarpSettings(mode, width, height), 0, frames, 16, 16)
        times[mode] = time.perf_counter() - start
    entry = get_entry(ESTIMATE_MODEL)
    shape = entry.signature.transformer
    tokens = ((frames - 1) // 4 + 1) * (height // 16) * (width // 16)
    denoise = clip_seconds(
        entry.params.transformer, shape.num_layers, shape.hidden_size, tokens, ESTIMATE_STEPS,
        entry.defaults.guidance, tflops=GPU_TFLOPS[ESTIMATE_GPU],
    ).seconds  # fmt: skip
    encode = VAE_ENCODE_SHARE * denoise
    worst = max(times.values())
    ratio = (worst + encode) / denoise
    print(f"   {ESTIMATE_MODEL} at {width}x{height}, {frames} frames, {ESTIMATE_STEPS} steps on an "
          f"{ESTIMATE_GPU} (estimated denoise {denoise:.0f} s): guide measured here "
          f"{times['2D']:.1f} s (2D) / {times['3D']:.1f} s (3D) on the CPU, encode estimated "
          f"{encode:.1f} s")  # fmt: skip
    print(
        f"   guide cost per clip, {ESTIMATE_MODEL} (estimated): {ratio:.3f} of the clip's "
        "denoise time"
    )
    return ratio


def measure_guide_cost(args, tmp: Path) -> None:
    """The section `render_overhead.py` prints."""
    measure_smoke(args.size, args.steps or 2, tmp)
    estimate_real(args.guide_frames)


def main() -> int:
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="64x64")
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--guide-frames", type=int, default=ESTIMATE_FRAMES)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        measure_guide_cost(args, Path(folder))
    return 0


if __name__ == "__main__":
    sys.exit(main())
