"""VACE intent detection: the VACE tasks a prompt asks for in words ("keep the same face").

They are for the renderer, which decides what to do with them; the rules enhancer
(wan.prompting.tags) uses the same patterns to keep such instructions out of the scene
description. The prompt text is not changed.
"""

from __future__ import annotations

import re

from wan.core.prompt_syntax import clean_prompt

# Intent name -> pattern, in the order vace_intents reports them. See vace_intents.
VACE_INTENTS: dict[str, re.Pattern[str]] = {
    "reference": re.compile(r"\breferences?\b(?!\s+sheets?\b)"),
    "same_character": re.compile(
        r"\b(?:same|consistent|identical)\s+(?:character|person|subject|identity|outfit|"
        r"protagonist)s?\b|\bkeep(?:ing)?\s+the\s+(?:character|person|subject)\b"
    ),
    "same_face": re.compile(
        r"\b(?:same|consistent|identical)\s+faces?\b|\bkeep(?:ing)?\s+the\s+face\b"
        r"|\bface\s+consistency\b"
    ),
    "inpaint": re.compile(r"\bin-?paint(?:s|ed|ing)?\b"),
    "outpaint": re.compile(
        r"\bout-?paint(?:s|ed|ing)?\b|\buncrop(?:ped)?\b"
        r"|\bexpand(?:s|ed|ing)?\s+the\s+(?:canvas|frame|image|view)\b"
    ),
    "mask": re.compile(
        r"\bmasking\b|\bmask(?:ed)?\s+(?:areas?|regions?|parts?)\b"
        r"|\b(?:inside|outside|within)\s+the\s+mask\b"
    ),
    "extend": re.compile(
        r"\b(?:extend|continue)(?:s|d|ed|ing)?\s+(?:the\s+|this\s+|previous\s+|last\s+)?"
        r"(?:video|clip|shot|scene|animation|footage|sequence|frames?)\b"
        r"|\b(?:video|clip|shot)\s+extension\b"
    ),
}


def vace_intents(text: str) -> tuple[str, ...]:
    """The VACE tasks a prompt asks for in words, as names from VACE_INTENTS, in that order.

    The renderer decides what to do with them; the prompt text is not changed. Meanings:
    "reference" (a reference image or subject: R2V), "same_character" / "same_face" (keep the
    identity of the previous clip or a reference), "inpaint" (regenerate a masked region),
    "outpaint" (grow the canvas), "mask" (an explicit masked area), "extend" (continue the
    previous clip's frames). Matching reads the text without WebUI syntax, so LoRA names do not
    count, and needs context where a word is also an object: "a man in a mask", "extended arms"
    and "character reference sheet" are not intents.
    """
    plain = clean_prompt(text or "").text.lower()
    return tuple(name for name, pattern in VACE_INTENTS.items() if pattern.search(plain))
