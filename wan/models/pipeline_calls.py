"""The exact calls an optimisation plan makes on a diffusers pipeline (pure).

`plan_calls` maps an `OptimizationPlan` (`wan.models.optimize`) to `PipelineCall`s, in order:
fp8 layerwise casting, attention backend, step cache, VAE tiling, then the placement (resident,
model CPU offload, or group offload by block / leaf). Calls that need an accelerator say so;
`wan.models.apply_plan` makes them on a loaded pipeline.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from wan.models.optimize import OptimizationPlan

FP8 = {"storage_dtype": "float8_e4m3fn", "compute_dtype": "bfloat16"}


@dataclass(frozen=True)
class PipelineCall:
    """One call on a pipeline: `name` is `method` (on the pipeline) or `component.method`."""

    name: str
    kwargs: tuple[tuple[str, Any], ...] = ()
    needs_accelerator: bool = False
    reason: str = ""

    @property
    def target(self) -> str | None:
        return self.name.rpartition(".")[0] or None

    @property
    def method(self) -> str:
        return self.name.rpartition(".")[2]

    def kwargs_dict(self) -> dict[str, Any]:
        return dict(self.kwargs)

    def to_dict(self) -> dict[str, Any]:
        return {
            "call": self.name,
            "kwargs": {k: list(v) if isinstance(v, tuple) else v for k, v in self.kwargs},
            "needs_accelerator": self.needs_accelerator,
            "reason": self.reason,
        }


def plan_calls(
    plan: OptimizationPlan, pipeline_components: Iterable[str], device: str
) -> tuple[PipelineCall, ...]:
    """The calls `apply_plan` makes, in order, on a pipeline with these components."""
    present = set(pipeline_components)
    accel = is_accelerator(device)
    experts = [name for name in ("transformer", "transformer_2") if name in present]
    calls: list[PipelineCall] = []
    if plan.fp8:
        for name in experts:
            calls.append(
                PipelineCall(
                    f"{name}.enable_layerwise_casting",
                    tuple(FP8.items()),
                    reason="store weights in fp8, compute in bf16",
                )
            )
    if plan.attention != "native":
        for name in experts:
            calls.append(
                PipelineCall(
                    f"{name}.set_attention_backend",
                    (("backend", plan.attention),),
                    needs_accelerator=True,
                    reason=f"{plan.attention} attention kernels (CUDA)",
                )
            )
    if plan.cache != "none":
        for name in experts:
            calls.append(
                PipelineCall(f"{name}.enable_cache", _cache_kwargs(plan), reason="step cache")
            )
    if plan.vae_tiling and "vae" in present:
        calls.append(PipelineCall("vae.enable_tiling", reason="VAE works on 256 px tiles"))
    calls += _placement_calls(plan, present, experts, device, accel)
    return tuple(calls)


def _cache_kwargs(plan: OptimizationPlan) -> tuple[tuple[str, Any], ...]:
    kwargs: list[tuple[str, Any]] = [("kind", plan.cache), ("threshold", plan.cache_threshold)]
    if plan.cache == "mag":
        kwargs += [("mag_ratios", plan.mag_ratios), ("num_inference_steps", plan.cache_steps)]
    return tuple(kwargs)


def _placement_calls(plan, present: set[str], experts: list[str], device: str, accel: bool):
    modules = [n for n in ("text_encoder", "image_encoder", *experts, "vae") if n in present]
    if plan.offload == "none":
        return [PipelineCall(f"{n}.to", (("device", device),), reason="resident") for n in modules]
    if plan.offload == "model":
        calls = [
            PipelineCall(
                "enable_model_cpu_offload",
                (("device", device),),
                needs_accelerator=True,
                reason="one component on the GPU at a time",
            )
        ]
        if plan.text_encoder_on_cpu and "text_encoder" in present:
            calls += [
                PipelineCall(
                    "text_encoder.remove_hook_from_module",
                    (("recurse", True),),
                    needs_accelerator=True,
                    reason="take UMT5 out of the offload chain",
                ),
                PipelineCall(
                    "text_encoder.to",
                    (("device", "cpu"),),
                    needs_accelerator=True,
                    reason="prompts are encoded on the CPU",
                ),
            ]
        return calls
    stream = plan.use_stream and accel
    common = (
        ("onload_device", device),
        ("offload_device", "cpu"),
        ("use_stream", stream),
        ("non_blocking", stream),
    )
    calls = []
    for name in modules:
        if name in experts and plan.offload == "group_block":
            kwargs = (*common, ("offload_type", "block_level"), ("num_blocks_per_group", 1))
            reason = "two blocks on the GPU at a time"
        else:
            kwargs = (*common, ("offload_type", "leaf_level"))
            reason = "one layer on the GPU at a time"
        method = "enable_group_offload" if name in (*experts, "vae") else "apply_group_offloading"
        # diffusers' ModuleGroup reads torch.accelerator.current_accelerator(): None on a CPU.
        calls.append(
            PipelineCall(f"{name}.{method}", kwargs, needs_accelerator=True, reason=reason)
        )
    return calls


def is_accelerator(device: str) -> bool:
    return not str(device).lower().startswith("cpu")
