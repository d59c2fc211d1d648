"""Prompt enhancement for Wan: Deforum tag lists to the long, concrete prompts Wan follows.

`request` holds the shared types, `rules` the always-available enhancer (no model), `cache` the
on-disk store that keeps any enhancer from computing the same request twice. The Qwen enhancer
(`qwen`, `enhance`) is imported on its own: it pulls in the model stack.
"""

from __future__ import annotations

from wan.prompting.cache import PromptCache, cache_key, default_cache_dir
from wan.prompting.intents import vace_intents
from wan.prompting.request import LANGS, STYLES, EnhanceRequest, EnhanceResult
from wan.prompting.rules import enhance_rules, enhance_rules_result

__all__ = [
    "LANGS",
    "STYLES",
    "EnhanceRequest",
    "EnhanceResult",
    "PromptCache",
    "cache_key",
    "default_cache_dir",
    "enhance_rules",
    "enhance_rules_result",
    "vace_intents",
]
