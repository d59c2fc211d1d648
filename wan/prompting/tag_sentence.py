"""The sorted tags of a tag list written as one description sentence (English or Chinese).

Grammar only: articles, prepositions and "and" lists turn wan.prompting.tags' groups into
"A girl looking at the viewer in forest ruins at sunset, with white hair." The roles
themselves are decided in wan.prompting.tags.
"""

from __future__ import annotations

from wan.prompting.tags import (
    NO_PREPOSITION,
    PREPOSITIONS,
    WEATHER_HEADS,
    SortedTags,
    Tag,
    make_tag,
)
from wan.prompting.words import word_set

CHARACTER_SUBJECT = "a character"  # subject of person attributes that name no one

_DETERMINERS = word_set(
    "a an the this that these those my your his her its our their one two three four five six "
    "seven eight nine ten some many several few no every each another"
)
_ON_HEADS = word_set("ground beach shore coast road bridge rooftop island field fields")
_UNCOUNTABLE = word_set(
    "ground grass sand snow water space fog mist rain darkness nature sunlight moonlight "
    "countryside wasteland outer"
)


def en_description(groups: SortedTags) -> str:
    """ "A ... looking ... in ... at ..., with ... ." from the sorted tags."""
    subject = _join_and(groups.counts) if groups.counts else ""
    if not subject and groups.subjects:
        subject = _with_article(make_tag(groups.subjects[0]))
    if not subject and (groups.body or groups.actions):
        subject = CHARACTER_SUBJECT
    places = [_place_words(tag, with_preposition=bool(subject)) for tag in groups.places]
    times = [_time_words(tag) for tag in groups.times]
    head = subject
    if groups.actions:
        head += " " + _join_and(groups.actions)
    if places:
        head += (" " if head else "") + _join_and(places)
    if times:
        head += (" " if head else "") + " ".join(times)
    attributes = list(groups.attributes)
    if attributes:
        head = head + ", with " + _join_and(attributes) if head else _join_and(attributes)
    sentences = [head.strip(), ", ".join(groups.instructions)]
    return " ".join(capitalize(s) + "." for s in sentences if s)


def zh_description(kept: list[str], text: str) -> str:
    """The tags as written (the rules enhancer cannot translate), as one Chinese sentence."""
    if not kept:
        return ""
    joiner = "，" if "，" in text else ", "
    return joiner.join(kept) + "。"


def _with_article(tag: Tag) -> str:
    """The subject with "a"/"an" if it is one countable thing with no determiner."""
    raw = tag.raw
    if tag.emphasized or not tag.words or not raw[:1].islower():
        return raw
    first, head = tag.words[0], tag.head
    if first in _DETERMINERS or first[0].isdigit():
        return raw
    if head in _UNCOUNTABLE or (head.endswith("s") and not head.endswith(("ss", "us", "is"))):
        return raw
    return f"{_article(raw)} {raw}"


def _article(word: str) -> str:
    low = word.lower()
    if low.startswith(("uni", "eu", "one", "use")):
        return "a"
    return "an" if low[:1] in "aeiou" or low.startswith(("hour", "honest")) else "a"


def _place_words(tag: Tag, with_preposition: bool) -> str:
    raw = tag.raw
    if not tag.words:
        return raw
    first = tag.words[0]
    if first in PREPOSITIONS or tag.plain in NO_PREPOSITION:
        return raw
    countable = tag.head not in _UNCOUNTABLE and not tag.head.endswith("s")
    if first not in _DETERMINERS and countable and not tag.emphasized:
        raw = f"{_article(raw)} {raw}"  # never inside brackets: emphasis stays as written
    if not with_preposition:
        return raw
    if tag.head == "background":
        return "against " + raw
    return ("on " if tag.head in _ON_HEADS else "in ") + raw


def _time_words(tag: Tag) -> str:
    raw = tag.raw
    if not tag.words or tag.words[0] in PREPOSITIONS:
        return raw
    head = tag.head
    if head in WEATHER_HEADS:
        countable = head in ("storm", "thunderstorm", "blizzard") and not tag.emphasized
        return ("in " + (_article(raw) + " " if countable else "")) + raw
    if head in ("morning", "evening", "afternoon"):
        return "in the " + raw
    if head in ("night", "day") and len(tag.words) > 1 and not tag.emphasized:
        return f"on {_article(raw)} {raw}"
    return "at " + raw


def _join_and(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def capitalize(text: str) -> str:
    """`text` with a lower-case first letter made upper-case (anything else as is)."""
    return text[:1].upper() + text[1:] if text[:1].isalpha() and text[:1].islower() else text
