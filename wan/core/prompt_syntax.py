"""WebUI prompt syntax to the plain text Wan understands (pure, except `find_lora`).

Deforum prompts are written for Stable Diffusion in AUTOMATIC1111 / Forge, whose syntax means
nothing to Wan's UMT5 text encoder: attention weights would be read as literal brackets and
numbers. `clean_prompt` keeps the words and drops the syntax, in the WebUI's own reading order:

- `<lora:name:0.7>` / `<lyco:...>`: removed and returned as LoRA tags (weight 1.0 when not
  given; `te=` counts as the weight); other extra networks (`<hypernet:...>`) are removed with a
  warning;
- `BREAK` is removed; `a AND b:0.5` keeps every part's text, without its weight;
- `[from:to:when]` keeps `to` (or `from` when `to` is empty), `[a|b]` keeps `a`, both with a
  warning: Wan has no per-step prompt switching;
- `(word:1.2)`, `((word))`, `[word]` keep `word`; `\\(` `\\)` `\\[` `\\]` stay literal;
- spaces and stray commas are tidied.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

LORA_KINDS = ("lora", "lyco")
LORA_SUFFIX = ".safetensors"

# Escapes are parked on private-use characters while the syntax is taken apart.
_ESCAPES = {"\\\\": "\ue000", "\\(": "\ue001", "\\)": "\ue002", "\\[": "\ue003", "\\]": "\ue004"}
_RESTORE = {"\ue000": "\\", "\ue001": "(", "\ue002": ")", "\ue003": "[", "\ue004": "]"}
_ESCAPE = re.compile(r"\\[\\()\[\]]")
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)"
_EXTRA_NETWORK = re.compile(r"<(\w+):([^>]+)>")  # as the WebUI's extra_networks module
_BREAK = re.compile(r"\bBREAK\b")
_AND = re.compile(r"\bAND\b")
_AND_WEIGHT = re.compile(rf"\s*:\s*{_NUMBER}\s*$")
_INNER_BRACKETS = re.compile(r"\[([^\[\]]*)\]")
_ATTENTION_WEIGHT = re.compile(rf":\s*{_NUMBER}\s*\)")
_WHOLE_NUMBER = re.compile(rf"^\s*{_NUMBER}\s*$")


@dataclass(frozen=True)
class LoraTag:
    name: str
    weight: float = 1.0


@dataclass(frozen=True)
class CleanPrompt:
    text: str
    loras: tuple[LoraTag, ...] = ()
    warnings: tuple[str, ...] = ()


def clean_prompt(text: str) -> CleanPrompt:
    """The prompt as plain text, the LoRA tags it named, and what was dropped with a warning."""
    warnings: list[str] = []
    work = _ESCAPE.sub(lambda m: _ESCAPES[m[0]], text or "")
    work, loras = _take_extra_networks(work, warnings)
    work = _BREAK.sub(",", work)
    parts = _AND.split(work)
    if len(parts) > 1:
        warnings.append("'AND' composition is not supported by Wan: the parts are joined")
        work = ",".join(_AND_WEIGHT.sub("", part) for part in parts)
    work = _resolve_brackets(work, warnings)
    work = _ATTENTION_WEIGHT.sub(")", work)
    work = re.sub(r"[()\[\]]", " ", work)
    work = _tidy(work)
    for placeholder, literal in _RESTORE.items():
        work = work.replace(placeholder, literal)
    return CleanPrompt(work, tuple(loras), tuple(warnings))


def find_lora(name: str, folders: Iterable[Path | str]) -> Path | None:
    """`<name>.safetensors` in the LoRA folders or their subfolders, in any case.

    A name with a folder part (`styles/ink`) must match the end of the file's relative path.
    The first folder that has it wins; inside one, the shallowest file, then the first by name.
    """
    wanted = name.strip().replace("\\", "/").strip("/")
    if wanted.lower().endswith(LORA_SUFFIX):
        wanted = wanted[: -len(LORA_SUFFIX)]
    parts = tuple(p for p in wanted.lower().split("/") if p)
    if not parts:
        return None
    for folder in folders:
        root = Path(folder).expanduser()
        if not root.is_dir():
            continue
        matches = [
            path
            for path in root.rglob("*")
            if path.suffix.lower() == LORA_SUFFIX
            and _stem_parts(path, root)[-len(parts) :] == parts
            and path.is_file()
        ]
        if matches:
            return min(matches, key=lambda p: (len(p.relative_to(root).parts), str(p).lower()))
    return None


def _stem_parts(path: Path, root: Path) -> tuple[str, ...]:
    """The file's path below `root`, without the suffix, lower-case."""
    return tuple(path.relative_to(root).with_suffix("").as_posix().lower().split("/"))


def _take_extra_networks(text: str, warnings: list[str]) -> tuple[str, list[LoraTag]]:
    loras: list[LoraTag] = []

    def take(match: re.Match[str]) -> str:
        kind, args = match[1].lower(), match[2].split(":")
        if kind not in LORA_KINDS:
            what = "hypernetworks" if kind == "hypernet" else f"'{match[1]}' extra networks"
            warnings.append(f"removed {_literal(match[0])}: {what} do not apply to Wan")
            return " "
        name = args[0].strip()
        if not name:
            warnings.append(f"removed {_literal(match[0])}: it names no LoRA")
            return " "
        loras.append(LoraTag(_literal(name), _lora_weight(_literal(match[0]), args[1:], warnings)))
        return " "

    return _EXTRA_NETWORK.sub(take, text), loras


def _lora_weight(tag: str, args: list[str], warnings: list[str]) -> float:
    """The text-encoder / model multiplier as the WebUI reads it: 2nd positional or `te=`."""
    positional = [a.strip() for a in args if "=" not in a]
    named = {k.strip(): v for k, _, v in (a.partition("=") for a in args if "=" in a)}
    text = named.get("te", positional[0] if positional else None)
    if text is None or not text.strip():
        return 1.0
    try:
        return float(text)
    except ValueError:
        warnings.append(f"{tag}: weight {text.strip()!r} is not a number; using 1.0")
        return 1.0


def _resolve_brackets(text: str, warnings: list[str]) -> str:
    """Innermost [...] first: prompt editing and alternation resolved, plain [word] unwrapped."""

    def resolve(match: re.Match[str]) -> str:
        inner = match[1]
        options = _split_top(inner, "|")
        if len(options) > 1:
            warnings.append(f"alternation {_shown(match[0])} kept {_shown(options[0])}")
            return " " + options[0] + " "
        head, sep, when = inner.rpartition(":")
        if sep and _WHOLE_NUMBER.match(when):
            pieces = _split_top(head, ":")
            if len(pieces) <= 2:
                before, after = (pieces[0], pieces[1]) if len(pieces) == 2 else ("", pieces[0])
                kept = after if after.strip() else before
                warnings.append(
                    f"prompt editing {_shown(match[0])} kept {_shown(kept)} "
                    "(Wan has no per-step prompt switching)"
                )
                return " " + kept + " "
        return "\ue005" + inner + "\ue006"  # plain [word]: unwrapped below, once nothing is left

    previous = None
    while previous != text:
        previous, text = text, _INNER_BRACKETS.sub(resolve, text)
    return text.replace("\ue005", " ").replace("\ue006", " ")


def _split_top(text: str, separator: str) -> list[str]:
    """Split on `separator` outside parentheses."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += (char == "(") - (char == ")")
        if char == separator and depth <= 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [*parts, current]


def _shown(text: str) -> str:
    return repr(_literal(text).strip())


def _literal(text: str) -> str:
    """Text as the user wrote it (escapes and unwrapped brackets back in place)."""
    for placeholder, literal in {**_RESTORE, "\ue005": "[", "\ue006": "]"}.items():
        text = text.replace(placeholder, literal)
    return text


def _tidy(text: str) -> str:
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s*,[\s,]*", ", ", text)
    return text.strip(" ,")
