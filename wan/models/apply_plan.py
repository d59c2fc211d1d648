"""Applying an optimisation plan to a loaded pipeline (shell: touches torch and diffusers).

`apply_plan` makes the calls `plan_calls` lists on the pipeline and records what it skipped (on a
CPU, what needs an accelerator): the `AppliedPlan` is metadata of the run. `encode_prompts`
encodes prompts on the CPU when the plan keeps the text encoder there;
`available_attention_backends` says which attention backends this environment offers.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wan.models.optimize import OptimizationPlan
from wan.models.pipeline_calls import PipelineCall, is_accelerator, plan_calls

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AppliedPlan:
    plan: OptimizationPlan
    device: str
    applied: tuple[PipelineCall, ...]
    skipped: tuple[tuple[PipelineCall, str], ...]  # (call, why it was not made)

    @property
    def text_encoder_device(self) -> str:
        on_cpu = self.plan.text_encoder_on_cpu or not is_accelerator(self.device)
        return "cpu" if on_cpu else self.device

    def to_metadata(self) -> dict[str, Any]:
        return {
            "plan": self.plan.summary,
            "device": self.device,
            "reasons": dict(self.plan.reasons),
            "warnings": list(self.plan.warnings),
            "estimate": {
                "peak_vram": self.plan.estimate.peak_vram,
                "peak_ram": self.plan.estimate.peak_ram,
                "peak_phase": self.plan.estimate.peak_phase.name,
            },
            "calls": [c.to_dict() for c in self.applied],
            "skipped": [{**c.to_dict(), "skipped_because": why} for c, why in self.skipped],
        }


def apply_plan(pipe: Any, plan: OptimizationPlan, device: str = "cuda") -> AppliedPlan:
    """Make the plan's calls on `pipe`; on a CPU, skip (and record) what needs an accelerator."""
    import torch

    components = [n for n, m in pipe.components.items() if isinstance(m, torch.nn.Module)]
    accel = is_accelerator(device)
    applied, skipped = [], []
    for call in plan_calls(plan, components, device):
        if call.needs_accelerator and not accel:
            skipped.append((call, f"needs an accelerator; running on {device}"))
            continue
        try:
            perform_call(pipe, call)
        except RuntimeError as exc:
            if "requires accelerator" not in str(exc):
                raise
            skipped.append((call, str(exc).splitlines()[0]))
            continue
        applied.append(call)
    for call, why in skipped:
        log.info("skipped %s: %s", call.name, why)
    log.info("memory plan for %s on %s: %s", plan.model_id, device, plan.summary)
    return AppliedPlan(plan, device, tuple(applied), tuple(skipped))


def perform_call(pipe: Any, call: PipelineCall) -> None:
    """Make one planned call on `pipe` (names and string values mapped to diffusers/torch)."""
    kwargs = {k: _torch_value(k, v) for k, v in call.kwargs}
    target = getattr(pipe, call.target) if call.target else pipe
    if call.method == "apply_group_offloading":
        from diffusers.hooks import apply_group_offloading

        apply_group_offloading(target, **kwargs)
    elif call.method == "remove_hook_from_module":
        from accelerate.hooks import remove_hook_from_module

        remove_hook_from_module(target, **kwargs)
    elif call.method == "enable_cache":
        target.enable_cache(_cache_config(kwargs))
    elif call.method == "to":
        target.to(kwargs["device"])
    elif call.method == "enable_layerwise_casting":
        # compute in the dtype the pipeline was loaded in: another one breaks the next layer
        kwargs["compute_dtype"] = _main_dtype(target)
        target.enable_layerwise_casting(**kwargs)
    else:
        getattr(target, call.method)(**kwargs)


def _main_dtype(module: Any) -> Any:
    """The dtype most of a module's weights are in (a few norms may be kept in float32)."""
    from collections import Counter

    counts = Counter()
    for parameter in module.parameters():
        counts[parameter.dtype] += parameter.numel()
    return counts.most_common(1)[0][0]


def _torch_value(key: str, value: Any) -> Any:
    import torch

    if key.endswith("dtype"):
        return getattr(torch, value)
    if key.endswith("device"):
        return torch.device(value)
    return value


def _cache_config(kwargs: Mapping[str, Any]) -> Any:
    from diffusers.hooks import FirstBlockCacheConfig, MagCacheConfig

    if kwargs["kind"] == "first_block":
        return FirstBlockCacheConfig(threshold=kwargs["threshold"])
    from wan.models.magcache import mag_settings

    published = mag_settings()  # MagCache's own K and retention for Wan (magcache_ratios.json)
    return MagCacheConfig(
        threshold=kwargs["threshold"],
        mag_ratios=list(kwargs["mag_ratios"]),
        num_inference_steps=kwargs["num_inference_steps"],
        max_skip_steps=published.max_skip_steps,
        retention_ratio=published.retention_ratio,
    )


def available_attention_backends() -> frozenset[str]:
    """Attention backends usable here: `native` always; flash/sage if importable and known."""
    try:
        from diffusers.models.attention_dispatch import AttentionBackendName
    except ImportError:
        return frozenset({"native"})
    known = {b.value for b in AttentionBackendName}
    packages = {"flash": "flash_attn", "sage": "sageattention"}
    found = {
        name
        for name, package in packages.items()
        if name in known and importlib.util.find_spec(package) is not None
    }
    return frozenset({"native", *found})


def encode_prompts(
    pipe: Any,
    applied: AppliedPlan,
    prompt: str | list[str],
    negative_prompt: str | list[str] | None = None,
    guidance: bool = True,
    max_sequence_length: int = 512,
) -> dict[str, Any]:
    """Keyword arguments for the pipeline call: the prompts, or embeddings made on the CPU."""
    if not applied.plan.text_encoder_on_cpu or not is_accelerator(applied.device):
        return {"prompt": prompt, "negative_prompt": negative_prompt}
    import torch

    positive, negative = pipe.encode_prompt(
        prompt=prompt,
        negative_prompt=negative_prompt,
        do_classifier_free_guidance=guidance,
        max_sequence_length=max_sequence_length,
        device=torch.device("cpu"),
    )
    target = pipe._execution_device
    return {
        "prompt_embeds": positive.to(target),
        "negative_prompt_embeds": negative.to(target) if negative is not None else None,
    }
