"""The word tokenizer the rules modules share, so tags and camera directions agree on a word.

`wan.prompting.tags` sorts tags by their words and `wan.prompting.camera_text` recognises camera
directions by theirs; both read words with WORD and build their word lists with `word_set`.
"""

from __future__ import annotations

import re

WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")  # a lower-case word ("close-up", "don't")


def word_set(text: str) -> frozenset[str]:
    """The space-separated words of `text`, as a set (for the word lists)."""
    return frozenset(text.split())
