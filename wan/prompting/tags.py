"""Tag-list classification: a Deforum tag list split into tags, each sorted by what it says.

A tag's role (subject, action, place, time, attribute, look, detail, quality, camera, VACE
instruction) comes from its head noun and the word lists here; `sort_tags` groups a tag list by
role for wan.prompting.tag_sentence to write as a sentence. The rules in the wan.prompting.rules
docstring say what is dropped and why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from wan.core.prompt_syntax import clean_prompt
from wan.prompting.camera_text import is_camera_words
from wan.prompting.intents import VACE_INTENTS
from wan.prompting.words import WORD, word_set

_QUALITY_WORDS = word_set(
    "masterpiece masterwork best high higher highest top good great amazing quality absurdres "
    "highres hires 4k 8k 16k 32k uhd hd fhd ultra ultra-hd resolution res hdr award winning "
    "award-winning trending on artstation cgsociety pixiv deviantart wallpaper very aesthetic "
    "newest"
)
_QUALITY_CORE = word_set(
    "masterpiece masterwork quality absurdres highres hires 4k 8k 16k 32k uhd hd fhd ultra-hd "
    "resolution hdr award award-winning trending wallpaper aesthetic newest"
)
_QUALITY_PATTERN = re.compile(r"^(?:score_\d+(?:_up)?|source_\w+|rating_\w+)$")
QUALITY_TAGS = ("masterpiece", "best quality", "4k", "8k", "ultra hd", "absurdres", "score_9")

_DETAIL_WORDS = word_set(
    "highly ultra extremely very hyper super insanely intricate intricately detailed detail "
    "details sharp focus in fine crisp high ultra-detailed hyperdetailed hyper-detailed"
)
_DETAIL_CORE = word_set(
    "detailed detail details intricate intricately focus ultra-detailed hyperdetailed "
    "hyper-detailed"
)

_COUNT = re.compile(r"^(\d+)(girl|boy|other)s?$")
_NUMBERS = ("no", "a", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_FILLER = frozenset({"solo", "solo focus"})

PREPOSITIONS = word_set(
    "of at in on with under near by from during over behind inside around through against among "
    "beside between above below into onto across along wearing holding"
)
_BODY_HEADS = word_set(
    "hair hairstyle eyes eye skin face lips mouth ears ear belly legs leg arms arm hands hand "
    "fingers body chest breasts shoulders neck teeth smile expression makeup freckles horns wings "
    "tail armor armour dress outfit clothes clothing shirt jacket coat hat helmet boots gloves "
    "skirt uniform kimono cloak robe cape tattoo tattoos earrings necklace jewelry scarf mask "
    "glasses sunglasses crown hood bangs ponytail braid braids beard mustache"
)
_SCENE_HEADS = word_set(
    "ruins background landscape cityscape skyline interior room hall library forest woods jungle "
    "swamp marsh desert beach shore coast ocean sea underwater lake river waterfall mountain "
    "mountains hills valley canyon cave field fields meadow garden park street streets alley road "
    "bridge city town village castle palace temple church cathedral ground sky space galaxy "
    "nebula island islands countryside wasteland battlefield outdoors indoors kitchen bedroom "
    "classroom office station market harbor harbour port rooftop"
)
NO_PREPOSITION = frozenset({"underwater", "outdoors", "indoors"})
_TIME_HEADS = word_set(
    "sunset sunrise dusk dawn night nighttime twilight midnight noon morning evening afternoon "
    "daytime day hour"
)
WEATHER_HEADS = word_set("rain snow fog mist storm thunderstorm snowfall blizzard haze")
_LOOK_HEADS = word_set(
    "lighting light lights photo photograph photography rays shot angle pose composition render "
    "style art artwork illustration painting drawing sketch depth bokeh focus grain palette "
    "colors colours tones atmosphere lens perspective aesthetic aesthetics realism effect "
    "effects anime manga cartoon comic watercolor watercolour engine closeup close-up portrait "
    "still"
)
_LOOK_WORDS = word_set(
    "cinematic photorealistic hyperrealistic realistic volumetric bokeh octane unreal 3d 2d cgi "
    "dof monochrome sepia symmetrical symmetry vaporwave ukiyo-e"
)
_ADJECTIVES = word_set(
    "beautiful cute epic dark bright moody colorful colourful vibrant ethereal dreamy gloomy "
    "serene peaceful minimalist minimal elegant gorgeous stunning majestic mysterious ominous "
    "whimsical cozy surreal foggy misty rainy snowy sunny cloudy stormy dusty hazy retro vintage "
    "futuristic grim gritty"
)
_ADJECTIVE_SUFFIXES = ("ic", "ical", "esque", "istic")
_MEDIUM = word_set("manga anime cartoon comic watercolor watercolour ukiyo-e chibi")
_NOT_GERUNDS = word_set(
    "lighting painting building clothing ceiling morning evening king ring wing string spring "
    "thing nothing something everything pudding wedding earring earrings sibling darling icing "
    "frosting bedding railing sling swing"
)
_INSTRUCTION_VERBS = word_set(
    "keep use make add remove change replace inpaint outpaint extend continue mask match follow "
    "preserve maintain"
)
_OF_SUBJECT = re.compile(
    r"^(?:\w+\s+)*(?:portrait|photo|photograph|painting|drawing|illustration|sketch|render|shot|"
    r"close-?up)\s+of\s+\w"
)
_STYLE_STARTS = re.compile(r"^(?:by|art by|in the style of|style of|inspired by)\s", re.I)

_SEPARATORS = ",，、\n;"


@dataclass(frozen=True)
class Tag:
    """One tag of a tag list, read for sorting."""

    raw: str  # as written, emphasis included
    plain: str  # lower-case words, WebUI syntax removed
    words: tuple[str, ...]
    head: str  # last word before a preposition
    emphasized: bool


@dataclass
class SortedTags:
    """Tags of a tag list by role, in prompt order."""

    subjects: list[str] = field(default_factory=list)
    counts: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    places: list[Tag] = field(default_factory=list)
    times: list[Tag] = field(default_factory=list)
    attributes: list[str] = field(default_factory=list)
    body: bool = False
    look: list[str] = field(default_factory=list)
    detail: bool = False
    camera: list[str] = field(default_factory=list)
    instructions: list[str] = field(default_factory=list)  # "keep the same face": kept verbatim
    kept: list[str] = field(default_factory=list)  # for "zh": every tag not dropped, as written
    dropped: list[str] = field(default_factory=list)


def split_tags(text: str) -> list[str]:
    """Top-level comma-separated tags (commas inside emphasis brackets do not split)."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            current.append(text[i : i + 2])
            i += 2
            continue
        if char in "([":
            depth += 1
        elif char in ")]":
            depth = max(depth - 1, 0)
        if depth == 0 and char in _SEPARATORS:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
        i += 1
    parts.append("".join(current))
    return [" ".join(p.split()) for p in parts if p.strip()]


def make_tag(raw: str) -> Tag:
    """`raw` read as a tag: its plain words and head noun, and whether it has emphasis."""
    plain = clean_prompt(raw).text.lower()
    words = tuple(WORD.findall(plain))
    before = words
    for i, word in enumerate(words[1:], start=1):
        if word in PREPOSITIONS:
            before = words[:i]
            break
    emphasized = re.search(r"(?<!\\)[()\[\]]", raw) is not None
    return Tag(raw, plain, words, before[-1] if before else "", emphasized)


def sort_tags(raws: list[str], has_motion: bool) -> SortedTags:
    """The tags by role; with `has_motion`, camera tags are dropped (the motion is described)."""
    groups = SortedTags()
    seen: set[str] = set()
    for raw in raws:
        tag = make_tag(raw.strip().rstrip(" .;:") if "(" not in raw else raw.strip())
        if not tag.emphasized:
            core, edges = _strip_noise_edges(tag.raw)
            if edges:
                groups.detail = groups.detail or bool(edges & _DETAIL_CORE)
                tag = make_tag(core)
        if not tag.plain or tag.raw.lower() in seen:
            continue
        seen.add(tag.raw.lower())
        role = _role(tag, has_motion)
        if role in ("quality", "filler"):
            groups.dropped.append(tag.raw)
            continue
        if role == "camera":
            groups.camera.append(tag.raw)
            continue
        if role == "detail":
            groups.detail = True
            continue
        groups.kept.append(tag.raw)
        if role == "count":
            groups.counts.append(_count_words(tag.plain))
        elif role == "body":
            groups.attributes.append(tag.raw)
            groups.body = True
        elif role == "place":
            groups.places.append(tag)
        elif role == "time":
            groups.times.append(tag)
        elif role == "look":
            groups.look.append(_look_words(tag))
        elif role == "action":
            groups.actions.append(tag.raw)
        elif role == "instruction":
            groups.instructions.append(tag.raw)
        elif not groups.subjects and not groups.counts:
            groups.subjects.append(tag.raw)
        else:
            groups.attributes.append(tag.raw)
    return groups


def _strip_noise_edges(raw: str) -> tuple[str, frozenset[str]]:
    """A tag without quality or detail words at either end ("long hair best quality", as
    Deforum's merge of the positive prompt makes), and the words removed."""
    words = raw.split()
    noise = _QUALITY_WORDS | _DETAIL_WORDS
    core = _QUALITY_CORE | _DETAIL_CORE

    def run_length(sequence: list[str]) -> int:
        n = 0
        while n < len(sequence) and sequence[n].lower().strip(".,;:!") in noise:
            n += 1
        # A run without a core word ("sitting on") is not noise.
        return n if any(w.lower().strip(".,;:!") in core for w in sequence[:n]) else 0

    start = run_length(words)
    end = len(words) - run_length(words[::-1])
    if start >= end:
        return raw, frozenset()  # all noise: the tag as a whole is quality or detail
    removed = frozenset(w.lower().strip(".,;:!") for w in words[:start] + words[end:])
    return " ".join(words[start:end]), removed


def _role(tag: Tag, has_motion: bool) -> str:
    """What a tag says: quality, detail, count, filler, camera, body, place, time, look, ..."""
    words, head = set(tag.words), tag.head
    if _is_quality(tag):
        return "look" if tag.emphasized else "quality"
    if words <= _DETAIL_WORDS and words & _DETAIL_CORE:
        return "look" if tag.emphasized else "detail"
    if _COUNT.match(tag.plain) and not tag.emphasized:
        return "count"
    if tag.plain in _FILLER:
        return "filler"
    if is_camera_words(tag.plain):
        return "camera" if has_motion else "look"  # with no measured motion, the user's word
    if not tag.words:
        return "noun"  # no Latin words (Chinese, say): nothing to sort it by
    if tag.words[0] in _INSTRUCTION_VERBS or any(
        p.search(tag.plain) for p in VACE_INTENTS.values()
    ):
        return "instruction"
    if _STYLE_STARTS.match(tag.plain):
        return "look"
    if head in _BODY_HEADS:
        return "body"
    if head in _SCENE_HEADS or tag.plain in NO_PREPOSITION:
        return "place"
    if head in _TIME_HEADS or head in WEATHER_HEADS:
        return "time"
    if _OF_SUBJECT.match(tag.plain):
        return "noun"  # "portrait of a woman" names its subject
    if head in _LOOK_HEADS or words & _LOOK_WORDS or _is_adjective(tag):
        return "look"
    first = tag.words[0] if tag.words else ""
    participle = (
        first.endswith("ed") and len(tag.words) > 1 and tag.words[1] in ("by", "with", "in", "on")
    )
    if (first.endswith("ing") and len(first) > 4 and first not in _NOT_GERUNDS) or participle:
        return "action"
    return "noun"


def _is_quality(tag: Tag) -> bool:
    if _QUALITY_PATTERN.match(tag.plain):
        return True
    words = set(tag.words)
    return bool(words) and words <= _QUALITY_WORDS and bool(words & _QUALITY_CORE)


def _is_adjective(tag: Tag) -> bool:
    if len(tag.words) != 1:
        return False
    word = tag.words[0]
    return word in _ADJECTIVES or word.endswith(_ADJECTIVE_SUFFIXES)


def _count_words(plain: str) -> str:
    match = _COUNT.match(plain)
    assert match is not None
    number, kind = int(match[1]), {"other": "person"}.get(match[2], match[2])
    if number == 1:
        return f"a {kind}"
    plural = "people" if kind == "person" else kind + "s"
    return f"{_NUMBERS[number] if number < len(_NUMBERS) else number} {plural}"


def _look_words(tag: Tag) -> str:
    if not tag.emphasized and len(tag.words) == 1 and tag.words[0] in _MEDIUM:
        return f"{tag.raw} style"
    return tag.raw
