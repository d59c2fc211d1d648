"""From a request (Deforum settings + Wan options) to a plan: shared by the CLI, API and tab.

Each front end turns its input into `DeforumSettings` and `RenderOptions`, then asks this module
for the plan and its JSON, so `wan plan`, `POST /wan/v1/plan` and the tab's Plan button always
agree. Nothing here loads model weights (a Qwen enhancer only when enhancement asks for one).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wan.deforum.seeds import resolve_seed
from wan.deforum.settings import DeforumSettings, load_settings
from wan.models.identify import profile_for
from wan.models.store import StoreConfig
from wan.plan import CONTINUATION_OVERLAP, GenerationPlan, build_plan
from wan.render.options import RenderOptions, parse_options


def settings_from(source: str | Mapping[str, Any] | DeforumSettings) -> DeforumSettings:
    """A settings file, run folder or JSON object, validated and with Deforum's defaults."""
    if isinstance(source, DeforumSettings):
        return source
    return load_settings(source)


def plan_for(settings: DeforumSettings, options: RenderOptions | Mapping | None) -> GenerationPlan:
    """The plan a render of `settings` with `options` follows (seed -1 drawn here, once)."""
    options = parse_options(options)
    seed = resolve_seed(options.seed if options.seed is not None else settings.seed)
    overlap = options.overlap if options.overlap is not None else CONTINUATION_OVERLAP
    return build_plan(settings, profile_for(options.model), seed=seed, overlap=overlap)


def enhance_plan(plan: GenerationPlan, options: RenderOptions, config: StoreConfig) -> list:
    """Each clip's EnhanceResult (rules or Qwen) for the clips without a prompt override."""
    from wan.prompting.enhance import enhance_prompts
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


def plan_payload(
    plan: GenerationPlan, options: RenderOptions | None = None, enhanced: list | None = None
) -> dict[str, Any]:
    """The plan JSON of DESIGN.md, plus each clip's enhanced prompt and prompt override."""
    data = plan.to_dict()
    overrides = (options.prompt_overrides if options is not None else None) or {}
    for clip, result in zip(data["clips"], enhanced or [None] * len(plan.clips), strict=True):
        if result is not None:
            clip["enhanced_prompt"] = result.text
            clip["enhance_source"] = result.source
            clip["enhance_warnings"] = list(result.warnings)
        if clip["index"] in overrides:
            clip["prompt_override"] = overrides[clip["index"]]
    data["smoke"] = plan.model.smoke
    return data


def plan_request(
    settings: str | Mapping[str, Any] | DeforumSettings,
    options: RenderOptions | Mapping | None,
    config: StoreConfig | None = None,
) -> tuple[GenerationPlan, dict[str, Any]]:
    """Plan and its JSON; prompts enhanced when the options turn enhancement on."""
    options = parse_options(options)
    plan = plan_for(settings_from(settings), options)
    enhanced = None
    if options.enhance.enabled:
        enhanced = enhance_plan(plan, options, config or StoreConfig())
    return plan, plan_payload(plan, options, enhanced)
