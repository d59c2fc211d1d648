"""The rules enhancer: a Deforum prompt as the plain description Wan follows (pure, no model).

Wan's text encoder was trained on long descriptive captions, so a Stable Diffusion tag list
("masterpiece, 1girl, forest ruins, white hair") helps it less than a sentence saying the same.
This enhancer is always available (no download, no GPU) and never invents content: it only
reorders, joins and drops the tags it was given, then adds the camera and style sentences.

Decisions:

- Tag list or prose: a prompt that ends like a sentence, has a sentence break, or is long and
  has a finite verb ("is", "stands", ...) is prose and is kept as written; only the style and
  camera sentences are added. Everything this module writes ends like a sentence, which makes
  it idempotent: enhancing its own output adds nothing.
- Quality tags (QUALITY_TAGS, `score_9`, "trending on artstation", "4k", "best quality") rank
  images for SD training sets and describe nothing Wan can show: they are dropped. Detail tags
  ("highly detailed", "intricate", "sharp focus") do describe the picture and become the one
  phrase DETAIL_PHRASE. A quality tag written with emphasis is the user's explicit choice and is
  kept.
- Tags are sorted by their head noun (the last word before any preposition) into subject,
  actions ("looking at the viewer"), places ("in forest ruins"), time and weather ("at
  sunset"), attributes ("with white hair") and look ("sharp photo", "by an artist"), giving
  "A ... looking ... in ... at ..., with ... . Look, look, style terms." Booru counts become
  words ("1girl" -> "a girl"); person attributes with no subject get "A character".
  Instructions ("keep the same face", "inpaint the sky": see vace_intents) are not scene
  content and follow the description verbatim as their own sentence.
- Emphasis `(word:1.2)`, `[a:b:5]` and extra networks `<lora:name:0.5>` are kept byte for
  byte: the renderer converts them later (wan.render.prompt_syntax). In a tag list, extra
  networks move to the end of the text, where they change nothing for the renderer; prose
  keeps them where they are (only trailing ones stay after the added sentences).
- Merged Deforum prompts glue tags ("long hair best quality"): quality and detail words at the
  edges of a tag are removed as if they were tags of their own.
- A camera direction sentence is made from the `wan.motion` phrase: "The camera is static." or
  "The camera slowly pans right while pushing in."; an empty motion adds none. A camera
  sentence this module wrote for another motion is replaced, and camera tags in a tag list
  ("zoom in") are dropped with a warning: the clip's measured motion is what the warp does.
- Style terms (STYLE_TERMS) are added only when neither the term nor one of its keys is
  already in the prompt (case-insensitive, partial: "very cinematic" stops "cinematic
  lighting").
- "zh": this module cannot translate, so the tags stay as written (quality and camera tags
  dropped); the style terms and camera sentence are written in Chinese from ZH_CAMERA_PHRASES,
  which covers every phrase wan.motion makes. A phrase outside it stays English, with a warning.
- A `--neg` part (a merged Deforum prompt) is not enhanced: it is carried to the end as is.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from wan.prompting.request import EnhanceRequest, EnhanceResult
from wan.render.prompt_syntax import clean_prompt

log = logging.getLogger(__name__)

DETAIL_PHRASE = {"en": "highly detailed", "zh": "细节丰富"}
CHARACTER_SUBJECT = "a character"  # subject of person attributes that name no one


@dataclass(frozen=True)
class StyleTerm:
    """A look term added by a style; skipped when any key is already in the prompt."""

    en: str
    zh: str
    keys: tuple[str, ...] = ()

    @property
    def all_keys(self) -> tuple[str, ...]:
        return (self.en.lower(), self.zh, *self.keys)


STYLE_TERMS: dict[str, tuple[StyleTerm, ...]] = {
    "none": (),
    "cinematic": (
        StyleTerm("cinematic lighting", "电影感光影", ("cinematic", "电影感")),
        StyleTerm("shallow depth of field", "浅景深", ("depth of field", "bokeh", "景深")),
        StyleTerm("film grain", "胶片颗粒", ("grain", "颗粒")),
    ),
    "anime": (
        StyleTerm("anime style", "动漫风格", ("anime", "manga", "动漫", "动画", "漫画")),
        StyleTerm("cel shading", "赛璐璐上色", ("cel shad", "cel-shad", "赛璐璐")),
        StyleTerm("vibrant colors", "鲜艳色彩", ("vibrant", "鲜艳")),
    ),
    "photographic": (
        StyleTerm("photorealistic", "照片级写实", ("photoreal", "写实")),
        StyleTerm("natural lighting", "自然光", ("natural light", "自然光")),
        StyleTerm("35mm lens", "35毫米镜头", ("35mm", "35 mm", "35毫米")),
    ),
    "painterly": (
        StyleTerm("oil painting style", "油画风格", ("oil paint", "painterly", "油画")),
        StyleTerm("visible brushstrokes", "可见笔触", ("brushstroke", "brush stroke", "笔触")),
        StyleTerm("rich textures", "丰富质感", ("textur", "质感")),
    ),
    "3d": (
        StyleTerm("3D render", "3D渲染", ("3d", "三维")),
        StyleTerm("global illumination", "全局光照", ("global illumination", "全局光照")),
        StyleTerm("soft shadows", "柔和阴影", ("soft shadow", "柔和阴影")),
    ),
}

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


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# --- word lists ------------------------------------------------------------------------------

_QUALITY_WORDS = _words(
    "masterpiece masterwork best high higher highest top good great amazing quality absurdres "
    "highres hires 4k 8k 16k 32k uhd hd fhd ultra ultra-hd resolution res hdr award winning "
    "award-winning trending on artstation cgsociety pixiv deviantart wallpaper very aesthetic "
    "newest"
)
_QUALITY_CORE = _words(
    "masterpiece masterwork quality absurdres highres hires 4k 8k 16k 32k uhd hd fhd ultra-hd "
    "resolution hdr award award-winning trending wallpaper aesthetic newest"
)
_QUALITY_PATTERN = re.compile(r"^(?:score_\d+(?:_up)?|source_\w+|rating_\w+)$")
QUALITY_TAGS = ("masterpiece", "best quality", "4k", "8k", "ultra hd", "absurdres", "score_9")

_DETAIL_WORDS = _words(
    "highly ultra extremely very hyper super insanely intricate intricately detailed detail "
    "details sharp focus in fine crisp high ultra-detailed hyperdetailed hyper-detailed"
)
_DETAIL_CORE = _words(
    "detailed detail details intricate intricately focus ultra-detailed hyperdetailed "
    "hyper-detailed"
)

_COUNT = re.compile(r"^(\d+)(girl|boy|other)s?$")
_NUMBERS = ("no", "a", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_FILLER = frozenset({"solo", "solo focus"})

_PREPOSITIONS = _words(
    "of at in on with under near by from during over behind inside around through against among "
    "beside between above below into onto across along wearing holding"
)
_DETERMINERS = _words(
    "a an the this that these those my your his her its our their one two three four five six "
    "seven eight nine ten some many several few no every each another"
)
_BODY_HEADS = _words(
    "hair hairstyle eyes eye skin face lips mouth ears ear belly legs leg arms arm hands hand "
    "fingers body chest breasts shoulders neck teeth smile expression makeup freckles horns wings "
    "tail armor armour dress outfit clothes clothing shirt jacket coat hat helmet boots gloves "
    "skirt uniform kimono cloak robe cape tattoo tattoos earrings necklace jewelry scarf mask "
    "glasses sunglasses crown hood bangs ponytail braid braids beard mustache"
)
_SCENE_HEADS = _words(
    "ruins background landscape cityscape skyline interior room hall library forest woods jungle "
    "swamp marsh desert beach shore coast ocean sea underwater lake river waterfall mountain "
    "mountains hills valley canyon cave field fields meadow garden park street streets alley road "
    "bridge city town village castle palace temple church cathedral ground sky space galaxy "
    "nebula island islands countryside wasteland battlefield outdoors indoors kitchen bedroom "
    "classroom office station market harbor harbour port rooftop"
)
_ON_HEADS = _words("ground beach shore coast road bridge rooftop island field fields")
_NO_PREPOSITION = frozenset({"underwater", "outdoors", "indoors"})
_UNCOUNTABLE = _words(
    "ground grass sand snow water space fog mist rain darkness nature sunlight moonlight "
    "countryside wasteland outer"
)
_TIME_HEADS = _words(
    "sunset sunrise dusk dawn night nighttime twilight midnight noon morning evening afternoon "
    "daytime day hour"
)
_WEATHER_HEADS = _words("rain snow fog mist storm thunderstorm snowfall blizzard haze")
_LOOK_HEADS = _words(
    "lighting light lights photo photograph photography rays shot angle pose composition render "
    "style art artwork illustration painting drawing sketch depth bokeh focus grain palette "
    "colors colours tones atmosphere lens perspective aesthetic aesthetics realism effect "
    "effects anime manga cartoon comic watercolor watercolour engine closeup close-up portrait "
    "still"
)
_LOOK_WORDS = _words(
    "cinematic photorealistic hyperrealistic realistic volumetric bokeh octane unreal 3d 2d cgi "
    "dof monochrome sepia symmetrical symmetry vaporwave ukiyo-e"
)
_ADJECTIVES = _words(
    "beautiful cute epic dark bright moody colorful colourful vibrant ethereal dreamy gloomy "
    "serene peaceful minimalist minimal elegant gorgeous stunning majestic mysterious ominous "
    "whimsical cozy surreal foggy misty rainy snowy sunny cloudy stormy dusty hazy retro vintage "
    "futuristic grim gritty"
)
_ADJECTIVE_SUFFIXES = ("ic", "ical", "esque", "istic")
_MEDIUM = _words("manga anime cartoon comic watercolor watercolour ukiyo-e chibi")
_NOT_GERUNDS = _words(
    "lighting painting building clothing ceiling morning evening king ring wing string spring "
    "thing nothing something everything pudding wedding earring earrings sibling darling icing "
    "frosting bedding railing sling swing"
)
_INSTRUCTION_VERBS = _words(
    "keep use make add remove change replace inpaint outpaint extend continue mask match follow "
    "preserve maintain"
)
_OF_SUBJECT = re.compile(
    r"^(?:\w+\s+)*(?:portrait|photo|photograph|painting|drawing|illustration|sketch|render|shot|"
    r"close-?up)\s+of\s+\w"
)
_STYLE_STARTS = re.compile(r"^(?:by|art by|in the style of|style of|inspired by)\s", re.I)

# Camera words: a tag or sentence made only of these, naming a movement, is a camera direction.
_CAMERA_WORDS = _words(
    "the camera is static still fixed locked very slowly slow steadily steady quickly fast quick "
    "pans pan panning tilts tilt tilting trucks truck trucking moves move moving pedestal dolly "
    "dollies dollying zoom zooms zooming rolls roll rolling pushes push pushing pulls pull pulling "
    "in out left right up down forward backward clockwise counter-clockwise counterclockwise and "
    "then while speeding slowing movement motion"
)
_CAMERA_TRIGGERS = _words(
    "camera pan pans panning tilt tilts tilting truck trucks trucking pedestal dolly dollies "
    "dollying zoom zooms zooming pushes pushing pulls pulling"
)

# --- Chinese camera phrases ------------------------------------------------------------------

_ZH_MOVES: dict[tuple[str, str], str] = {
    ("pan", "left"): "向左摇动",
    ("pan", "right"): "向右摇动",
    ("tilt", "up"): "向上摇动",
    ("tilt", "down"): "向下摇动",
    ("truck", "left"): "向左横移",
    ("truck", "right"): "向右横移",
    ("pedestal", "up"): "上升",
    ("pedestal", "down"): "下降",
    ("zoom", "in"): "变焦推近",
    ("zoom", "out"): "变焦拉远",
    ("roll", "clockwise"): "顺时针旋转",
    ("roll", "counter-clockwise"): "逆时针旋转",
}
_EN_VERBS = {
    "pan": ("pans", "panning"),
    "tilt": ("tilts", "tilting"),
    "truck": ("trucks", "trucking"),
    "pedestal": ("moves", "moving"),
    "zoom": ("zooms", "zooming"),
    "roll": ("rolls", "rolling"),
}
_OPPOSITES = {
    "left": "right",
    "right": "left",
    "up": "down",
    "down": "up",
    "in": "out",
    "out": "in",
    "clockwise": "counter-clockwise",
    "counter-clockwise": "clockwise",
}


def _zh_phrase_table() -> dict[str, str]:
    """English fragments of wan.motion phrases -> Chinese, matched longest first."""
    table = {
        "static camera": "镜头固定不动",
        "the camera is static": "镜头固定不动",
        "the camera": "镜头",
        "very slowly": "非常缓慢地",
        "slowly": "缓慢地",
        "steadily": "平稳地",
        "quickly": "快速地",
        ", speeding up": "，并逐渐加速",
        ", slowing down": "，并逐渐减速",
        ", while": "，同时",
        "while": "，同时",
        "and then": "，然后",
        "and": "并",
        ",": "，",
        "pushes in": "向前推进",
        "pushing in": "向前推进",
        "pulls out": "向后拉远",
        "pulling out": "向后拉远",
    }
    for (movement, direction), zh in _ZH_MOVES.items():
        back = _ZH_MOVES[(movement, _OPPOSITES[direction])]
        for verb in _EN_VERBS[movement]:
            table[f"{verb} {direction}"] = zh
            table[f"{verb} {direction} and then {_OPPOSITES[direction]}"] = f"{zh}，然后{back}"
    return table


ZH_CAMERA_PHRASES: dict[str, str] = _zh_phrase_table()
_ZH_KEYS = sorted(ZH_CAMERA_PHRASES, key=len, reverse=True)
_ZH_CAMERA_CHARS = frozenset("".join(ZH_CAMERA_PHRASES.values()) + "，。")

# --- syntax ----------------------------------------------------------------------------------

_EXTRA_NETWORK = re.compile(r"<\w+:[^>]+>")  # as wan.render.prompt_syntax
_TRAILING_EXTRA = re.compile(r"(?:\s*<\w+:[^>]+>)+\s*$")
_NEG = "--neg"
_BREAK = re.compile(r"\bBREAK\b")
_SEPARATORS = ",，、\n;"
_TERMINAL = re.compile(r"[.!?。！？]\s*$")
_SENTENCE_BREAK = re.compile(r"[.!?](?=\s+[A-Z\"'(])|[。！？](?=.)")
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?。！？])\s+|(?<=[。！？])|(?<=[.!?])(?=[\u3400-\u9fff])")
_FINITE_VERB = re.compile(
    r"\b(?:is|are|was|were|has|have|had|stands|sits|walks|runs|flies|looks|holds|moves|becomes|"
    r"appears|shows|lies|floats|rises|falls|grows|glows|shines|covers|fills|wears|conveys)\b",
    re.I,
)
_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
_CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass(frozen=True)
class _Tag:
    raw: str  # as written, emphasis included
    plain: str  # lower-case words, WebUI syntax removed
    words: tuple[str, ...]
    head: str  # last word before a preposition
    emphasized: bool


@dataclass
class _Sorted:
    """Tags of a tag list by role, in prompt order."""

    subjects: list[str] = field(default_factory=list)
    counts: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    places: list[_Tag] = field(default_factory=list)
    times: list[_Tag] = field(default_factory=list)
    attributes: list[str] = field(default_factory=list)
    body: bool = False
    look: list[str] = field(default_factory=list)
    detail: bool = False
    camera: list[str] = field(default_factory=list)
    instructions: list[str] = field(default_factory=list)  # "keep the same face": kept verbatim
    kept: list[str] = field(default_factory=list)  # for "zh": every tag not dropped, as written
    dropped: list[str] = field(default_factory=list)


# --- public API ------------------------------------------------------------------------------


def enhance_rules(request: EnhanceRequest) -> str:
    """The request's prompt as a Wan prompt, by rules only (see the module docstring)."""
    return _enhance(request)[0]


def enhance_rules_result(request: EnhanceRequest) -> EnhanceResult:
    """`enhance_rules` with the warnings the user should see, as source "rules"."""
    text, warnings = _enhance(request)
    return EnhanceResult(text, "rules", warnings)


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


def camera_sentence(motion: str, lang: str = "en") -> tuple[str, tuple[str, ...]]:
    """The camera direction sentence for a wan.motion phrase ("" for none), and warnings."""
    phrase = " ".join(motion.split()).rstrip(" .")
    if not phrase:
        return "", ()
    if lang == "zh":
        zh = translate_motion_zh(phrase)
        if zh is not None:
            return zh + "。", ()
        warning = f"camera motion {phrase!r} has no Chinese phrase; it is kept in English"
        return _english_camera_sentence(phrase), (warning,)
    return _english_camera_sentence(phrase), ()


def translate_motion_zh(phrase: str) -> str | None:
    """A wan.motion phrase in Chinese from ZH_CAMERA_PHRASES, or None if a part is unknown."""
    text = " ".join(phrase.lower().split()).rstrip(" .")
    out: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == " ":
            i += 1
            continue
        for key in _ZH_KEYS:
            end = i + len(key)
            if text.startswith(key, i) and (
                end == len(text) or not (text[end].isalnum() or text[end] == "-")
            ):
                out.append(ZH_CAMERA_PHRASES[key])
                i = end
                break
        else:
            return None
    result = "".join(out)
    if not result:
        return None
    return result if result.startswith("镜头") else "镜头" + result


# --- enhancement -----------------------------------------------------------------------------


def _enhance(request: EnhanceRequest) -> tuple[str, tuple[str, ...]]:
    warnings: list[str] = []
    positive, marker, negative = request.prompt.partition(_NEG)
    if marker:
        warnings.append(
            "the prompt has a '--neg' part; it is not enhanced and is kept at the end "
            "(negative prompts belong in the negative prompt)"
        )
    camera, camera_warnings = camera_sentence(request.motion, request.lang)
    warnings += camera_warnings
    if _is_prose(_TRAILING_EXTRA.sub("", positive)):
        sentences, extras = _enhance_prose(positive, camera, request, warnings)
    else:
        sentences, extras = _enhance_tags(positive, camera, request, warnings)
    joiner = "" if request.lang == "zh" else " "
    text = joiner.join(s for s in sentences if s)
    text = " ".join(part for part in (text, *extras) if part)
    if marker:
        text = f"{text} {_NEG} {negative.strip()}".strip()
    return text, tuple(warnings)


def _is_prose(text: str) -> bool:
    """Written as sentences rather than as a tag list (see the module docstring)."""
    plain = clean_prompt(text).text
    if not plain:
        return False
    if _TERMINAL.search(plain) or _SENTENCE_BREAK.search(plain):
        return True
    return len(plain.split()) >= 12 and bool(_FINITE_VERB.search(plain))


def _enhance_prose(
    text: str, camera: str, request: EnhanceRequest, warnings: list[str]
) -> tuple[list[str], list[str]]:
    """Prose is kept; an old generated camera sentence is replaced; style terms are added."""
    trailing = _TRAILING_EXTRA.search(text)
    extras = _EXTRA_NETWORK.findall(trailing.group()) if trailing else []
    body = text[: trailing.start()] if trailing else text
    body = body.strip()
    sentences = [s for s in _SENTENCE_SPLIT.split(body) if s.strip()]
    kept = []
    for sentence in sentences:
        if camera and _same_sentence(sentence, camera):
            camera = ""  # already there
            kept.append(sentence)
        elif camera and _is_camera_sentence(sentence):
            warnings.append(f"replaced the camera direction {sentence.strip()!r} with {camera!r}")
        else:
            kept.append(sentence)
    if len(kept) != len(sentences):
        body = ("" if request.lang == "zh" else " ").join(s.strip() for s in kept)
    if body and not _TERMINAL.search(body):
        body += "。" if _CJK.search(body[-1]) else "."
    style = _style_sentence([], request, body.lower())
    return [body, style, camera], extras


def _enhance_tags(
    text: str, camera: str, request: EnhanceRequest, warnings: list[str]
) -> tuple[list[str], list[str]]:
    extras = _EXTRA_NETWORK.findall(text)
    tags = _split_tags(_BREAK.sub(",", _EXTRA_NETWORK.sub(" ", text)))
    groups = _sort_tags(tags, has_motion=bool(camera))
    if groups.dropped:
        log.debug("dropped quality tags %s", groups.dropped)
    if groups.camera:
        warnings.append(
            "dropped camera tags "
            + ", ".join(repr(t) for t in groups.camera)
            + ": the clip's camera motion is described instead"
        )
    if request.lang == "zh":
        description = _zh_description(groups.kept, text)
    else:
        description = _en_description(groups)
    if not description:
        reason = "it has only quality or camera tags" if tags else "it is empty"
        warnings.append(f"the prompt describes no picture: {reason}")
    look = [] if request.lang == "zh" else [*groups.look]
    if groups.detail:
        look.append(DETAIL_PHRASE[request.lang])
    haystack = (text + " " + description + " " + " ".join(look)).lower()
    style = _style_sentence(look, request, haystack)
    return [description, style, camera], extras


def _style_sentence(look: list[str], request: EnhanceRequest, haystack: str) -> str:
    """The look tags and the style terms not yet in `haystack`, as one sentence."""
    items = [*look]
    for term in STYLE_TERMS[request.style]:
        if not any(_contains(haystack, key) for key in term.all_keys):
            items.append(term.zh if request.lang == "zh" else term.en)
    if not items:
        return ""
    if request.lang == "zh":
        return "，".join(items) + "。"
    return _capitalize(", ".join(items)) + "."


def _contains(haystack: str, key: str) -> bool:
    """`key` in `haystack` at a word start (partial at the end: "textur" finds "textures")."""
    key = key.lower()
    if _CJK.search(key):
        return key in haystack
    return re.search(r"(?<![a-z0-9])" + re.escape(key), haystack) is not None


def _english_camera_sentence(phrase: str) -> str:
    low = phrase.lower()
    if low in ("static camera", "the camera is static"):
        return "The camera is static."
    if low.startswith("the camera "):
        return "The camera " + phrase[len("the camera ") :] + "."
    return f"Camera movement: {phrase}."


def _same_sentence(a: str, b: str) -> bool:
    def norm(s: str) -> str:
        return " ".join(s.lower().split()).rstrip(".。 ")

    return norm(a) == norm(b)


def _is_camera_sentence(sentence: str) -> bool:
    """A camera direction as this module writes it, in English or Chinese."""
    text = sentence.strip()
    if text.startswith("镜头"):
        return set(text) <= _ZH_CAMERA_CHARS
    low = text.lower().rstrip(". ")
    if low.startswith("camera movement:"):
        return True
    return low.startswith("the camera ") and _is_camera_words(low)


def _is_camera_words(text: str) -> bool:
    words = _WORD.findall(text.lower())
    return (
        bool(words)
        and len(words) == len(text.replace(",", " ").split())
        and set(words) <= _CAMERA_WORDS
        and bool(set(words) & _CAMERA_TRIGGERS)
    )


# --- tag lists -------------------------------------------------------------------------------


def _split_tags(text: str) -> list[str]:
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


def _make_tag(raw: str) -> _Tag:
    plain = clean_prompt(raw).text.lower()
    words = tuple(_WORD.findall(plain))
    before = words
    for i, word in enumerate(words[1:], start=1):
        if word in _PREPOSITIONS:
            before = words[:i]
            break
    emphasized = re.search(r"(?<!\\)[()\[\]]", raw) is not None
    return _Tag(raw, plain, words, before[-1] if before else "", emphasized)


def _sort_tags(raws: list[str], has_motion: bool) -> _Sorted:
    groups = _Sorted()
    seen: set[str] = set()
    for raw in raws:
        tag = _make_tag(raw.strip().rstrip(" .;:") if "(" not in raw else raw.strip())
        if not tag.emphasized:
            core, edges = _strip_noise_edges(tag.raw)
            if edges:
                groups.detail = groups.detail or bool(edges & _DETAIL_CORE)
                tag = _make_tag(core)
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


def _role(tag: _Tag, has_motion: bool) -> str:
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
    if _is_camera_words(tag.plain):
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
    if head in _SCENE_HEADS or tag.plain in _NO_PREPOSITION:
        return "place"
    if head in _TIME_HEADS or head in _WEATHER_HEADS:
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


def _is_quality(tag: _Tag) -> bool:
    if _QUALITY_PATTERN.match(tag.plain):
        return True
    words = set(tag.words)
    return bool(words) and words <= _QUALITY_WORDS and bool(words & _QUALITY_CORE)


def _is_adjective(tag: _Tag) -> bool:
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


def _look_words(tag: _Tag) -> str:
    if not tag.emphasized and len(tag.words) == 1 and tag.words[0] in _MEDIUM:
        return f"{tag.raw} style"
    return tag.raw


def _en_description(groups: _Sorted) -> str:
    """ "A ... looking ... in ... at ..., with ... ." from the sorted tags."""
    subject = _join_and(groups.counts) if groups.counts else ""
    if not subject and groups.subjects:
        subject = _with_article(_make_tag(groups.subjects[0]))
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
    return " ".join(_capitalize(s) + "." for s in sentences if s)


def _zh_description(kept: list[str], text: str) -> str:
    """The tags as written (this module cannot translate), as one Chinese sentence."""
    if not kept:
        return ""
    joiner = "，" if "，" in text else ", "
    return joiner.join(kept) + "。"


def _with_article(tag: _Tag) -> str:
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


def _place_words(tag: _Tag, with_preposition: bool) -> str:
    raw = tag.raw
    if not tag.words:
        return raw
    first = tag.words[0]
    if first in _PREPOSITIONS or tag.plain in _NO_PREPOSITION:
        return raw
    countable = tag.head not in _UNCOUNTABLE and not tag.head.endswith("s")
    if first not in _DETERMINERS and countable and not tag.emphasized:
        raw = f"{_article(raw)} {raw}"  # never inside brackets: emphasis stays as written
    if not with_preposition:
        return raw
    if tag.head == "background":
        return "against " + raw
    return ("on " if tag.head in _ON_HEADS else "in ") + raw


def _time_words(tag: _Tag) -> str:
    raw = tag.raw
    if not tag.words or tag.words[0] in _PREPOSITIONS:
        return raw
    head = tag.head
    if head in _WEATHER_HEADS:
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


def _capitalize(text: str) -> str:
    return text[:1].upper() + text[1:] if text[:1].isalpha() and text[:1].islower() else text
