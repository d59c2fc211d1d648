"""The prompts of a whole plan enhanced: one request per clip that has no prompt override, each
with its clip's camera phrase. Used by the plan's JSON (enhanced prompts shown before a render)
and by the render itself."""

from __future__ import annotations

from wan.core.plan import GenerationPlan
from wan.models.store import StoreConfig
from wan.options.render_options import RenderOptions


def enhance_plan(plan: GenerationPlan, options: RenderOptions, config: StoreConfig) -> list:
    """Each clip's EnhanceResult (rules or Qwen), None for the clips with a prompt override."""
    from wan.prompting.enhance import enhance_prompts  # loads transformers only when used
    from wan.prompting.request import EnhanceRequest

    enhance = options.enhance
    overrides = options.prompt_overrides or {}
    clips = [c for c in plan.clips if c.index not in overrides]
    requests = [
        EnhanceRequest(c.prompt, c.motion.phrase, enhance.lang, enhance.style) for c in clips
    ]
    results = enhance_prompts(requests, model=enhance.model, store_config=config)
    by_index = dict(zip((c.index for c in clips), results, strict=True))
    return [by_index.get(c.index) for c in plan.clips]
