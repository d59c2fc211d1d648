"""The rules enhancer: a Deforum prompt as the plain description Wan follows (pure, no model).

Wan's text encoder was trained on long descriptive captions, so a Stable Diffusion tag list
("masterpiece, 1girl, forest ruins, white hair") helps it less than a sentence saying the same.
This enhancer is always available (no download, no GPU) and never invents content: it only
reorders, joins and drops the tags it was given, then adds the camera and style sentences.

This module decides prose or tag list and puts the parts together, with the style terms.
The parts: `tags` sorts a tag list by role, `tag_sentence` writes the sorted tags as a
sentence, `camera_text` writes and recognises camera sentences (en/zh), `intents` finds the
VACE instructions a prompt gives in words.

Decisions:

- Tag list or prose: a prompt that ends like a sentence, has a sentence break, or is long and
  has a finite verb ("is", "stands", ...) is prose and is kept as written; only the style and
  camera sentences are added. Everything this module writes ends like a sentence, which makes
  it idempotent: enhancing its own output adds nothing.
- Quality tags (tags.QUALITY_TAGS, `score_9`, "trending on artstation", "4k", "best
  quality") rank images for SD training sets and describe nothing Wan can show: they are
  dropped. Detail tags ("highly detailed", "intricate", "sharp focus") do describe the picture
  and become the one phrase DETAIL_PHRASE. A quality tag written with emphasis is the user's
  explicit choice and is kept.
- Tags are sorted by their head noun (the last word before any preposition) into subject,
  actions ("looking at the viewer"), places ("in forest ruins"), time and weather ("at
  sunset"), attributes ("with white hair") and look ("sharp photo", "by an artist"), giving
  "A ... looking ... in ... at ..., with ... . Look, look, style terms." Booru counts become
  words ("1girl" -> "a girl"); person attributes with no subject get "A character".
  Instructions ("keep the same face", "inpaint the sky": see intents.vace_intents) are not
  scene content and follow the description verbatim as their own sentence.
- Emphasis `(word:1.2)`, `[a:b:5]` and extra networks `<lora:name:0.5>` are kept byte for
  byte: the renderer converts them later (wan.core.prompt_syntax). In a tag list, extra
  networks move to the end of the text, where they change nothing for the renderer; prose
  keeps them where they are (only trailing ones stay after the added sentences).
- Merged Deforum prompts glue tags ("long hair best quality"): quality and detail words at the
  edges of a tag are removed as if they were tags of their own.
- A camera direction sentence is made from the `wan.core.motion` phrase: "The camera is static." or
  "The camera slowly pans right while pushing in."; an empty motion adds none. A camera
  sentence this module wrote for another motion is replaced, and camera tags in a tag list
  ("zoom in") are dropped with a warning: the clip's measured motion is what the warp does.
- Style terms (STYLE_TERMS) are added only when neither the term nor one of its keys is
  already in the prompt (case-insensitive, partial: "very cinematic" stops "cinematic
  lighting").
- "zh": this module cannot translate, so the tags stay as written (quality and camera tags
  dropped); the style terms and camera sentence are written in Chinese from
  camera_text.ZH_CAMERA_PHRASES, which covers every phrase wan.core.motion makes. A phrase outside
  it stays English, with a warning.
- A `--neg` part (a merged Deforum prompt) is not enhanced: it is carried to the end as is.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from wan.core.prompt_syntax import clean_prompt
from wan.prompting.camera_text import camera_sentence, is_camera_sentence
from wan.prompting.request import EnhanceRequest, EnhanceResult
from wan.prompting.tag_sentence import capitalize, en_description, zh_description
from wan.prompting.tags import sort_tags, split_tags

log = logging.getLogger(__name__)

DETAIL_PHRASE = {"en": "highly detailed", "zh": "细节丰富"}


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

# --- syntax ----------------------------------------------------------------------------------

_EXTRA_NETWORK = re.compile(r"<\w+:[^>]+>")  # as wan.core.prompt_syntax
_TRAILING_EXTRA = re.compile(r"(?:\s*<\w+:[^>]+>)+\s*$")
_NEG = "--neg"
_BREAK = re.compile(r"\bBREAK\b")
_TERMINAL = re.compile(r"[.!?。！？]\s*$")
_SENTENCE_BREAK = re.compile(r"[.!?](?=\s+[A-Z\"'(])|[。！？](?=.)")
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?。！？])\s+|(?<=[。！？])|(?<=[.!?])(?=[\u3400-\u9fff])")
_FINITE_VERB = re.compile(
    r"\b(?:is|are|was|were|has|have|had|stands|sits|walks|runs|flies|looks|holds|moves|becomes|"
    r"appears|shows|lies|floats|rises|falls|grows|glows|shines|covers|fills|wears|conveys)\b",
    re.I,
)
_CJK = re.compile(r"[\u3400-\u9fff]")


def enhance_rules(request: EnhanceRequest) -> str:
    """The request's prompt as a Wan prompt, by rules only (see the module docstring)."""
    return _enhance(request)[0]


def enhance_rules_result(request: EnhanceRequest) -> EnhanceResult:
    """`enhance_rules` with the warnings the user should see, as source "rules"."""
    text, warnings = _enhance(request)
    return EnhanceResult(text, "rules", warnings)


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
        elif camera and is_camera_sentence(sentence):
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
    tags = split_tags(_BREAK.sub(",", _EXTRA_NETWORK.sub(" ", text)))
    groups = sort_tags(tags, has_motion=bool(camera))
    if groups.dropped:
        log.debug("dropped quality tags %s", groups.dropped)
    if groups.camera:
        warnings.append(
            "dropped camera tags "
            + ", ".join(repr(t) for t in groups.camera)
            + ": the clip's camera motion is described instead"
        )
    if request.lang == "zh":
        description = zh_description(groups.kept, text)
    else:
        description = en_description(groups)
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
    return capitalize(", ".join(items)) + "."


def _contains(haystack: str, key: str) -> bool:
    """`key` in `haystack` at a word start (partial at the end: "textur" finds "textures")."""
    key = key.lower()
    if _CJK.search(key):
        return key in haystack
    return re.search(r"(?<![a-z0-9])" + re.escape(key), haystack) is not None


def _same_sentence(a: str, b: str) -> bool:
    def norm(s: str) -> str:
        return " ".join(s.lower().split()).rstrip(".。 ")

    return norm(a) == norm(b)
