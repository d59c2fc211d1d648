"""Text shown as it is inside a gr.Markdown (messages, errors, problems): paths, file patterns
such as `*/*.safetensors` and names with underscores would otherwise turn into emphasis."""

from __future__ import annotations

import re

_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~])")


def plain(text: object) -> str:
    """`text` with every character Markdown would read as markup escaped."""
    return _SPECIAL.sub(r"\\\1", str(text))
