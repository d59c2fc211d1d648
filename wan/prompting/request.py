"""The request and result types shared by every prompt enhancer (pure, no model).

An `EnhanceRequest` carries everything that changes an enhanced prompt apart from the enhancer
itself: the clip's Deforum prompt as written, its camera phrase from `wan.core.motion`, the output
language and a style. Both the rules enhancer (`wan.prompting.rules`) and the Qwen enhancer
(`wan.prompting.qwen`) take one and return an `EnhanceResult`, so the renderer and the cache
treat them alike.

Accepted values:

- LANGS: "en" (English), "zh" (Chinese; Wan was trained on both).
- STYLES: "none" adds no terms; "cinematic", "anime", "photographic", "painterly", "3d" each add
  a short set of look terms (see `wan.prompting.rules.STYLE_TERMS`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from wan.errors import OptionsError

LANGS = ("en", "zh")
STYLES = ("none", "cinematic", "anime", "photographic", "painterly", "3d")
SOURCES = ("qwen", "rules", "cache")


def _check(name: str, value: object, accepted: tuple[str, ...]) -> None:
    if value not in accepted:
        listed = ", ".join(repr(a) for a in accepted)
        raise OptionsError(f"prompt enhancement {name} {value!r} is not supported; use {listed}")


@dataclass(frozen=True)
class EnhanceRequest:
    """One clip's prompt to enhance; validated on creation so enhancers can trust it."""

    prompt: str  # the clip's Deforum prompt as written (WebUI syntax included)
    motion: str  # the clip's camera phrase from wan.core.motion ("" or "static camera" allowed)
    lang: str = "en"  # output language, one of LANGS
    style: str = "none"  # one of STYLES

    def __post_init__(self) -> None:
        if not isinstance(self.prompt, str):
            raise OptionsError(f"prompt must be text, got {type(self.prompt).__name__}")
        if not isinstance(self.motion, str):
            raise OptionsError(f"camera motion must be text, got {type(self.motion).__name__}")
        _check("language", self.lang, LANGS)
        _check("style", self.style, STYLES)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class EnhanceResult:
    """An enhanced prompt, which enhancer made it, and what the user should know about it."""

    text: str  # the enhanced prompt
    source: str  # "qwen" | "rules" | "cache"
    warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check("source", self.source, SOURCES)
        object.__setattr__(self, "warnings", tuple(self.warnings))

    def to_dict(self) -> dict:
        return {"text": self.text, "source": self.source, "warnings": list(self.warnings)}
