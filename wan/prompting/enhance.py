"""Enhance every clip prompt of a render: the rules, or a Qwen model with cache and fallback.

The order of work follows what is expensive. Cached answers need no model at all; only the
misses load the model, once, and go through it as one batch; the model is closed before this
function returns, so its memory is free when the Wan model loads next. Each answer is cleaned
and checked (`wan.prompting.answer`): a clip whose answer is unusable gets the rules
enhancer's prompt and a warning saying why, so one bad answer never stops a render. Only good
answers are cached.

A model that is not installed is an error, not a silent fallback: the user asked for it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from wan.errors import ModelError, OptionsError
from wan.models.catalog import CatalogEntry, get_entry
from wan.models.smoke import SMOKE_MARKER
from wan.models.store import ORIGIN_FILE, InstalledModel, StoreConfig, resolve
from wan.prompting.answer import check_answer, clean_answer
from wan.prompting.cache import PromptCache, cache_key, default_cache_dir
from wan.prompting.instruction import DEFAULT_MAX_WORDS, INSTRUCTION_VERSION, word_range
from wan.prompting.qwen import (
    DEFAULT_MAX_NEW_TOKENS,
    QwenEnhancer,
    check_folder,
    decoding_settings,
)
from wan.prompting.request import EnhanceRequest, EnhanceResult
from wan.prompting.rules import enhance_rules_result

log = logging.getLogger(__name__)

RULES = "rules"


def enhance_prompts(
    requests: Iterable[EnhanceRequest],
    model: str = RULES,
    store_config: StoreConfig | None = None,
    cache: PromptCache | None = None,
    max_words: int = DEFAULT_MAX_WORDS,
    *,
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
    device: str | None = None,
) -> list[EnhanceResult]:
    """One result per request, in order; `cache` None uses the default prompt cache folder.

    `model` is "rules" (no model), or a prompt model's catalog id, smoke id or folder.
    """
    requests = list(requests)
    word_range(max_words)  # a bad limit is reported before anything loads
    name = str(model).strip()
    if not name:
        raise OptionsError("no prompt model given; use 'rules' or a prompt model id or folder")
    if name.lower() == RULES:
        return [enhance_rules_result(request) for request in requests]
    if not requests:
        return []

    installed = resolve(name, store_config or StoreConfig())
    folder, params = _enhancer_folder(installed)
    cache = cache if cache is not None else PromptCache(default_cache_dir())
    identity = model_identity(installed)
    model_name = str(identity["id"])
    results: list[EnhanceResult | None] = [None] * len(requests)
    misses: dict[str, list[int]] = {}  # key -> the clips asking for it (asked once)
    parts: dict[str, dict[str, Any]] = {}
    for index, request in enumerate(requests):
        request_parts = key_parts(identity, request, max_words, max_new_tokens)
        key = cache_key(request_parts)
        text = cache.get(key)
        if text is not None:
            results[index] = EnhanceResult(text, "cache")
        else:
            misses.setdefault(key, []).append(index)
            parts[key] = request_parts
    log.info(
        "prompt enhancement with %s: %d cached, %d to generate",
        name,
        len(requests) - sum(len(i) for i in misses.values()),
        len(misses),
    )

    if misses:
        unique = [requests[indices[0]] for indices in misses.values()]
        enhancer = QwenEnhancer.load(folder, device=device, params=params)
        try:
            answers = enhancer.enhance_batch(
                unique, max_new_tokens=max_new_tokens, max_words=max_words
            )
        finally:
            enhancer.close()
        for (key, indices), request, raw in zip(misses.items(), unique, answers, strict=True):
            result = accept_answer(request, raw, max_words, model_name=model_name)
            if result.source == "qwen":
                _store(cache, key, result.text, parts[key])
            for index in indices:
                results[index] = result
    return [result for result in results if result is not None]


def accept_answer(
    request: EnhanceRequest, raw: str, max_words: int, model_name: str = "the prompt model"
) -> EnhanceResult:
    """The cleaned answer if it passes the checks, else the rules prompt with the reasons."""
    text = clean_answer(raw)
    problems = check_answer(request, text, max_words)
    if not problems:
        return EnhanceResult(text, "qwen")
    # Logged at info: the warning travels in the result, and every caller shows it (the CLI
    # prints it; logged as a warning too, Python's last-resort handler printed it twice).
    log.info(
        "%s's answer for %r was not used (%s); using the rules enhancer",
        model_name,
        request.prompt[:60],
        "; ".join(problems),
    )
    rules = enhance_rules_result(request)
    warning = (
        f"{model_name}'s answer was not used ({'; '.join(problems)}); "
        "the rules enhancer wrote this prompt instead"
    )
    return EnhanceResult(rules.text, "rules", (*rules.warnings, warning))


def key_parts(
    identity: dict[str, Any], request: EnhanceRequest, max_words: int, max_new_tokens: int
) -> dict[str, Any]:
    """Everything that decides an answer: model, instruction, request, limits, decoding."""
    return {
        "enhancer": "qwen",
        "model": identity,
        "instruction": INSTRUCTION_VERSION,  # the part PromptCache.prune reads
        "prompt": request.prompt,
        "motion": request.motion,
        "lang": request.lang,
        "style": request.style,
        "max_words": max_words,
        "decoding": decoding_settings(max_new_tokens),
    }


def model_identity(installed: InstalledModel) -> dict[str, Any]:
    """What tells one model's weights from another's without reading them.

    The catalog id, the folder name (a Hub cache snapshot is named by its commit), the
    revision the store found, the download record, the smoke build marker, and the names and
    sizes of the weight files.
    """
    folder = Path(installed.path)
    entry = _catalog_entry(installed)
    return {
        "id": entry.id if entry is not None else installed.entry_id or folder.name,
        "folder": folder.name,
        "revision": installed.revision,
        "origin": _read_json(folder / ORIGIN_FILE),
        "smoke": _read_json(folder / SMOKE_MARKER),
        "weights": sorted([f.name, f.stat().st_size] for f in folder.glob("*.safetensors")),
    }


def _enhancer_folder(installed: InstalledModel) -> tuple[Path, int | None]:
    """The model's folder and catalog parameter count; a video model is refused by name."""
    entry = _catalog_entry(installed)
    if entry is not None and entry.kind != "enhancer":
        raise ModelError(
            f"{entry.id} is a video model, not a prompt model; use 'rules' or a prompt "
            "model such as Qwen2.5-1.5B-Instruct"
        )
    params = (entry.params.language_model or None) if entry is not None else None
    return check_folder(installed.path), params


def _catalog_entry(installed: InstalledModel) -> CatalogEntry | None:
    """The catalog entry the store found the model under (None for a plain folder)."""
    if not installed.entry_id:
        return None
    try:
        return get_entry(installed.entry_id)
    except ModelError:
        return None


def _store(cache: PromptCache, key: str, text: str, parts: dict[str, Any]) -> None:
    """A cache that cannot be written costs time later, not this render."""
    try:
        cache.put(key, text, parts)
    except OSError as exc:
        log.warning("could not cache an enhanced prompt: %s", exc)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
