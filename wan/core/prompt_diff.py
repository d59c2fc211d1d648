"""Prompts shown side by side, each cut to what sets it apart (pure).

Deforum prompt schedules often repeat one long description and change a few words per key;
cut at a fixed length, every clip's prompt then read the same in the plan text. The tab's clip
table and `python -m wan plan` both show clips through `differing_parts`.
"""

from __future__ import annotations

from collections.abc import Sequence

SHARED_CHARS = 60  # prompts sharing a start (or an end) this long show only what differs
LEAD_WORDS = 3  # the shared start's last words kept before the differing part


def shared_ends(texts: Sequence[str]) -> tuple[str, str]:
    """(start, end) all the different texts share, cut at word boundaries; each is "" unless
    it is at least SHARED_CHARS long."""
    distinct = sorted(set(texts))
    if len(distinct) < 2:
        return "", ""
    start = _common_start(distinct)
    if not all(len(t) == len(start) or t[len(start)].isspace() for t in distinct):
        start = start[: start.rfind(" ") + 1]  # back to the last whole word
    rests = [t[len(start) :] for t in distinct]
    end = _common_start([r[::-1] for r in rests])[::-1]
    if not all(len(r) == len(end) or r[-len(end) - 1].isspace() for r in rests if end):
        end = end[end.find(" ") :] if " " in end else ""  # forward to the next whole word
    return (
        start if len(start.strip()) >= SHARED_CHARS else "",
        end if len(end.strip()) >= SHARED_CHARS else "",
    )


def differing_parts(texts: Sequence[str]) -> list[str]:
    """Each text shortened to what sets it apart from the others when they share a long start
    or end: "...last words of the shared start <differing part> ...". Different texts never
    come out the same (a text that would is shown whole)."""
    start, end = shared_ends(texts)
    if not start and not end:
        return list(texts)
    lead = " ".join(start.split()[-LEAD_WORDS:])
    shown = []
    for text in texts:
        middle = text[len(start) : len(text) - len(end)].strip()
        if not middle:
            shown.append(text)
            continue
        head = f"...{lead} " if start else ""
        shown.append(f"{head}{middle}{' ...' if end else ''}")
    by_shown: dict[str, set[str]] = {}
    for text, short in zip(texts, shown, strict=True):
        by_shown.setdefault(short, set()).add(text)
    pairs = zip(texts, shown, strict=True)
    return [text if len(by_shown[short]) > 1 else short for text, short in pairs]


def _common_start(texts: Sequence[str]) -> str:
    """The characters all `texts` begin with."""
    first, last = min(texts), max(texts)
    size = 0
    while size < min(len(first), len(last)) and first[size] == last[size]:
        size += 1
    return first[:size]
