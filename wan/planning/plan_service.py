"""From a request (Deforum settings + Wan options) to a plan: shared by the CLI, API and tab.

Each front end turns its input into `DeforumSettings` and `RenderOptions`, then asks this module
for the plan and its JSON, so `wan plan`, `POST /wan/v1/plan` and the tab's Plan button always
agree. Nothing here loads model weights (a Qwen enhancer only when enhancement asks for one).

`plan_seed` is the one home of the seed rule (DESIGN.md, "Plan conventions"): every front end
resolves a seed of -1 through it, so Plan and Render of the same settings use the same seed.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Mapping
from typing import Any

from wan.core.deforum.seeds import SEED_SPACE
from wan.core.deforum.settings import DeforumSettings, load_settings
from wan.core.plan import CONTINUATION_OVERLAP, GenerationPlan, build_plan
from wan.errors import OptionsError, excerpt
from wan.models.identify import profile_for
from wan.models.store import StoreConfig
from wan.options.render_options import RenderOptions, parse_options
from wan.prompting.plan_prompts import enhance_plan
from wan.render.conditioning import planned_follow


def settings_from(source: str | Mapping[str, Any] | DeforumSettings) -> DeforumSettings:
    """A settings file, run folder or JSON object, validated and with Deforum's defaults."""
    if isinstance(source, DeforumSettings):
        return source
    return load_settings(source)


# What a derived seed does not depend on: the seed itself, and where the settings came from
# (the job queue rewrites an init image's path or data URL into its own copy).
_NOT_SEEDED = ("seed", "source", "init_image")


def plan_seed(settings: DeforumSettings, seed: int | None = None) -> int:
    """The concrete seed a plan of `settings` uses; `seed` is an override (None: not given).

    An explicit seed wins: the override when it is >= 0, else the settings' own when >= 0. A
    seed of -1 (Deforum's "random") becomes `derived_seed(settings)`, the same every time for
    the same settings, so `wan plan` and `wan render`, the tab's Plan and Render, and POST
    /plan and POST /jobs all agree. For another random seed, give one (`new_seed`).
    """
    chosen = settings.seed if seed is None else seed
    return derived_seed(settings) if chosen == -1 else chosen


def derived_seed(settings: DeforumSettings) -> int:
    """A seed in [0, 2**32) from the sha256 of the settings' canonical JSON (their content as
    `DeforumSettings.to_dict` records it, less the seed, the source name and the init image)."""
    content = {k: v for k, v in settings.to_dict().items() if k not in _NOT_SEEDED}
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:4], "big") % SEED_SPACE


def new_seed() -> int:
    """A fresh random seed, for a user who asks for one (the tab's Random button)."""
    return random.SystemRandom().randrange(SEED_SPACE)


def plan_for(settings: DeforumSettings, options: RenderOptions | Mapping | None) -> GenerationPlan:
    """The plan a render of `settings` with `options` follows (seed -1 resolved by plan_seed)."""
    options = parse_options(options)
    seed = plan_seed(settings, options.seed)
    overlap = options.overlap if options.overlap is not None else CONTINUATION_OVERLAP
    plan = build_plan(
        settings,
        profile_for(options.model),
        seed=seed,
        overlap=overlap,
        init_image=options.init_image or _run_frame(options.init_frame),
    )
    beyond = [index for index in options.prompt_overrides or {} if index >= len(plan.clips)]
    if beyond:
        raise OptionsError(
            f"prompt_overrides: clip {excerpt(beyond[0])} is not a clip of this plan, which has "
            f"{len(plan.clips)} clip(s) (0 to {len(plan.clips) - 1}); plan first to see them"
        )
    return plan


def _run_frame(number: int | None) -> str | None:
    """--init-frame N: the first clip starts from an image, the run's frame N."""
    return None if number is None else f"frame {number} of the run"


def plan_payload(
    plan: GenerationPlan, options: RenderOptions | None = None, enhanced: list | None = None
) -> dict[str, Any]:
    """The plan JSON of DESIGN.md, plus each clip's enhanced prompt and prompt override."""
    data = plan.to_dict()
    options = options if options is not None else parse_options(None)
    overrides = options.prompt_overrides or {}
    for clip, result in zip(data["clips"], enhanced or [None] * len(plan.clips), strict=True):
        if result is not None:
            clip["enhanced_prompt"] = result.text
            clip["enhance_source"] = result.source
            clip["enhance_warnings"] = list(result.warnings)
        if clip["index"] in overrides:
            clip["prompt_override"] = overrides[clip["index"]]
        clip["camera_follow"] = planned_follow(options, plan.model.task, plan.clips[clip["index"]])
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
