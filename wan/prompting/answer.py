"""A chat model's answer made usable as a Wan prompt, and checked before it is trusted (pure).

Small instruct models do not always answer with the prompt alone: they greet, label the answer,
wrap it in quotes or markdown, think aloud in <think> blocks, list instead of writing a
paragraph, and stop mid-sentence when the token limit is reached. `clean_answer` removes all of
that. `check_answer` then says what is still wrong: an answer that lost the user's subject or
LoRA tags would render a different video than the one asked for, so the caller falls back to
the rules enhancer rather than use it.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from wan.core.prompt_syntax import clean_prompt
from wan.prompting.instruction import CJK_CHARS_PER_WORD
from wan.prompting.request import EnhanceRequest

LANG_NAMES = {"en": "English", "zh": "Chinese"}
ZH_SHARE = 0.25  # share of CJK among letters from which a text counts as Chinese
KEEP_SHARE = 2 / 3  # share of the prompt's content words an answer must keep
REPEAT_NGRAM = 5  # an answer in which one run of this many words comes back...
REPEAT_TIMES = 3  # ...this many times is looping, not describing

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_CHAR = re.compile(f"[{_CJK}]")
_LATIN_LETTER = re.compile(r"[^\W\d_]")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W\d_]+)?")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Prompt syntax of the WebUI and Deforum (wan.core.prompt_syntax reads the rest).
_TAG = re.compile(r"<\w+:[^>]+>")  # extra networks: <lora:name:0.8>, <hypernet:...>
_WEIGHTED = re.compile(r"\([^()]*:\s*[-+]?(?:\d+\.?\d*|\.\d+)\s*\)")  # (word:1.2)
_NEG = re.compile(r"--neg\b.*", re.S)

_STOP_WORDS = _words(
    """
    a an the and or but nor of in on at to into onto over under through across along around
    between behind near above below beside upon within without with by for from as than then
    is are was were be been being am it its this that these those there here his her hers
    their theirs my your our he she they we you me him them us one some any all no not each
    every other another such only own same both few more most very so too just also like
    while when where who whom which what can will has have had do does did up down out off
    s t
    """
)
# Words that ask an image model for quality, not for content; a rewrite may drop them.
_QUALITY_WORDS = _words(
    """
    masterpiece best quality high highres hires absurdres lowres detailed detail details
    highly ultra intricate sharp focus trending artstation cgsociety deviantart pixiv octane
    render rendered unreal engine award winning hd hdr uhd resolution beautiful amazing
    stunning perfect professional wallpaper extremely
    """
)
_ZH_STOP_CHARS = frozenset("的了在是和与及一个着把被这那其之也都很")

# Chatter around the answer.
_LEAD = tuple(
    re.compile(p, re.I)
    for p in (
        # "Sure!" / "Sure, I'd be happy to help." (not "Great white sharks ...")
        r"^(?:sure|certainly|of course|okay|ok|absolutely|great|alright)\s*[,!.]\s*"
        r"(?:[^.!?:\n]*\b(?:here|help|happy|prompt|rewrit\w*|enhanc\w*|version)\b"
        r"[^.!?:\n]*[.!?:]\s*)?",
        r"^(?:here is|here's|here are|below is)\b[^\n:]*:\s*",
        r"^(?:the\s+)?(?:enhanced|rewritten|improved|revised|final|new|expanded|wan|video)?"
        r"\s*(?:prompt|description|version|answer|output)\s*:\s*",
        r"^(?:好的|当然|没问题|可以)[，,！!。.]\s*",
        r"^(?:以下是|下面是|这是)[^：:\n]*[：:]\s*",
        r"^(?:改写后的|优化后的|扩写后的|增强后的)?(?:提示词|描述|视频描述)\s*[：:]\s*",
    )
)
# A line of its own that only announces the answer: "Here is the rewritten prompt".
_ANNOUNCE = re.compile(
    r"^(?:here is|here's|below is)\b[^:.!?]*\b(?:prompt|version|description)\b[^:.!?]*$", re.I
)
_TRAIL = re.compile(
    r"(?:^|(?<=[.!?。！？]))\s*(?:let me know|i hope|hope this|feel free|if you(?:'d| would) like"
    r"|note:|希望|如果需要|如需)[^\n]*$",
    re.I,
)
_THINK_BLOCK = re.compile(r"<think>.*?</think>", re.S | re.I)
_BULLET = re.compile(r"^(?:[-*+•·]|\d{1,2}[.)])\s+")
_HEADING = re.compile(r"^#{1,6}\s+")
_RULE = re.compile(r"^(?:[-*_=]\s*){3,}$")
_QUOTES = {'"': '"', "'": "'", "“": "”", "‘": "’", "「": "」", "『": "』", "«": "»"}
_CLOSERS = "[" + re.escape("\"'”’」』»)]") + "]"
# A sentence ends at . ! ? before a space or the end (not inside 1.2), or at a CJK stop.
_SENTENCE_END = re.compile(rf"(?:[.!?…]+{_CLOSERS}*(?=\s|$)|[。！？]+{_CLOSERS}*)")
_TAIL_SYNTAX = re.compile(rf"^(?:[\s,;，、]|{_TAG.pattern}|{_WEIGHTED.pattern})*$")


# ----------------------------------------------------------------------------------------------
# Cleaning


def clean_answer(text: str) -> str:
    """The prompt inside a chat answer: one paragraph, no chatter, no markup, no cut-off end."""
    text = _drop_thinking(str(text).replace("\r\n", "\n").replace("\r", "\n"))
    text = " ".join(_plain_lines(text))
    text = _strip_lead(text)
    text = text.replace("**", "").replace("`", "")
    text = re.sub(r"(?<!\w)\*(?=\S)|(?<=\S)\*(?!\w)", "", text)  # *italic*, not a*b
    text = _strip_quotes(_strip_lead(_strip_quotes(text)))
    text = _TRAIL.sub("", text)
    text = _tidy_spaces(text)
    return _tidy_spaces(_strip_quotes(_cut_to_last_sentence(text)))


def _drop_thinking(text: str) -> str:
    """Remove <think> blocks; an unclosed one runs to the end, a lone </think> from the start."""
    text = _THINK_BLOCK.sub(" ", text)
    lower = text.lower()
    if "</think>" in lower:
        text = text[lower.rindex("</think>") + len("</think>") :]
        lower = text.lower()
    if "<think>" in lower:
        text = text[: lower.index("<think>")]
    return text


def _plain_lines(text: str) -> list[str]:
    """Lines without markdown structure; list items end as sentences so they read as prose."""
    lines = [line.strip() for line in text.split("\n")]
    content = [line for line in lines if line and not line.startswith("```")]
    has_body = any(not _HEADING.match(line) and not _RULE.match(line) for line in content)
    out = []
    for line in content:
        if _RULE.match(line) or (has_body and _HEADING.match(line)):
            continue
        line = _HEADING.sub("", line)
        line = re.sub(r"^>\s?", "", line)
        if _BULLET.match(line):
            line = _BULLET.sub("", line).strip()
            if line and not re.search(r"[.!?。！？:：]$", line):
                line += "。" if _CJK_CHAR.search(line[-1]) else "."
        if line:
            out.append(line)
    if len(out) > 1 and _ANNOUNCE.match(out[0]):
        out.pop(0)
    return out


def _strip_lead(text: str) -> str:
    """Remove greetings and labels before the prompt, however many are stacked."""
    text = text.strip()
    changed = True
    while changed and text:
        changed = False
        for pattern in _LEAD:
            stripped = pattern.sub("", text, count=1).strip()
            if stripped != text and stripped:
                text, changed = stripped, True
    return text


def _strip_quotes(text: str) -> str:
    """Quotes around the whole answer, and a lone opening quote left by a cut-off answer."""
    text = text.strip()
    while len(text) >= 2 and text[0] in _QUOTES:
        closing = _QUOTES[text[0]]
        if text.endswith(closing) and closing not in text[1:-1]:
            text = text[1:-1].strip()
        elif closing not in text[1:]:
            text = text[1:].strip()
        else:
            break
    return text


def _tidy_spaces(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(rf"(?<=[{_CJK}，。！？、；：])\s+(?=[{_CJK}，。！？、；：])", "", text)
    return re.sub(r"\s+([,.;:!?])(?=\s|$)", r"\1", text)


def _cut_to_last_sentence(text: str) -> str:
    """Drop an unfinished last sentence (the token limit), keeping trailing tags and weights."""
    ends = list(_SENTENCE_END.finditer(text))
    if not ends:
        return text  # no full sentence at all (a tag list): nothing better to keep
    tail = text[ends[-1].end() :]
    if _TAIL_SYNTAX.match(tail):
        return text
    return text[: ends[-1].end()]


# ----------------------------------------------------------------------------------------------
# Language, words, prompt syntax


def detect_lang(text: str) -> str | None:
    """'zh' when CJK characters are a real share of the letters, 'en' otherwise, None if none."""
    text = _TAG.sub(" ", text)
    cjk = len(_CJK_CHAR.findall(text))
    letters = len(_LATIN_LETTER.findall(_CJK_CHAR.sub(" ", text)))
    if cjk + letters == 0:
        return None
    return "zh" if cjk / (cjk + letters) >= ZH_SHARE else "en"


def count_words(text: str) -> int:
    """Words of the text; Chinese characters count as 1/CJK_CHARS_PER_WORD of a word each."""
    cjk = len(_CJK_CHAR.findall(text))
    rest = _CJK_CHAR.sub(" ", text).split()
    words = sum(1 for token in rest if re.search(r"[^\W_]", token))
    return words + math.ceil(cjk / CJK_CHARS_PER_WORD)


def prompt_tags(prompt: str) -> list[str]:
    """LoRA and other <...> tags of a prompt, as written."""
    return list(dict.fromkeys(_TAG.findall(_NEG.sub("", prompt))))


def weighted_terms(prompt: str) -> list[str]:
    """Weighted emphasis such as (word:1.2), as written."""
    return list(dict.fromkeys(_WEIGHTED.findall(_NEG.sub("", prompt))))


def content_words(prompt: str) -> list[str]:
    """The words that say what the prompt shows: no syntax, stop words or quality tags."""
    text = _CJK_CHAR.sub(" ", clean_prompt(_NEG.sub("", prompt)).text)
    words = []
    for match in _WORD.finditer(text):
        word = re.sub(r"^\d+", "", match.group().lower().replace("’", "'"))  # 1girl, 8k
        if len(word) < 2:
            continue
        if word in _STOP_WORDS or word in _QUALITY_WORDS:
            continue
        words.append(word)
    return list(dict.fromkeys(words))


def _stem(word: str) -> str:
    """Crude English stem: enough to match fox/foxes, city/cities, walk/walks."""
    word = word.lower().replace("’", "'").removesuffix("'s")
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ches", "shes", "sses", "xes", "zes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _kept(stem: str, answer_stems: set[str]) -> bool:
    """A prompt word is kept if the answer has it, or a longer or shorter form of it."""
    if stem in answer_stems:
        return True
    return any(
        (a.startswith(stem) or stem.startswith(a)) and min(len(a), len(stem)) >= 4
        for a in answer_stems
    )


def missing_words(prompt: str, answer: str) -> tuple[list[str], int]:
    """(content words of the prompt the answer lacks, how many content words there are)."""
    words = content_words(prompt)
    answer_stems = {_stem(m.group()) for m in _WORD.finditer(_CJK_CHAR.sub(" ", answer))}
    missing = [w for w in words if not _kept(_stem(w), answer_stems)]
    return missing, len(words)


def missing_chars(prompt: str, answer: str) -> tuple[list[str], int]:
    """For Chinese: (content characters of the prompt the answer lacks, how many there are)."""
    text = _TAG.sub(" ", _NEG.sub("", prompt))
    chars = list(dict.fromkeys(c for c in _CJK_CHAR.findall(text) if c not in _ZH_STOP_CHARS))
    return [c for c in chars if c not in answer], len(chars)


def _tokens(text: str) -> list[str]:
    """Words, and each Chinese character as a word (for repetition)."""
    return [t.lower() for t in re.findall(rf"[{_CJK}]|[^\W_]+", text)]


def _loops(text: str) -> bool:
    tokens = _tokens(text)
    grams = Counter(
        tuple(tokens[i : i + REPEAT_NGRAM]) for i in range(len(tokens) - REPEAT_NGRAM + 1)
    )
    return bool(grams) and max(grams.values()) >= REPEAT_TIMES


# ----------------------------------------------------------------------------------------------
# Checking


def check_answer(request: EnhanceRequest, answer: str, max_words: int) -> list[str]:
    """What makes a cleaned answer unusable for this request; an empty list means use it."""
    if not answer.strip():
        return ["the answer is empty"]
    problems = []
    words = count_words(answer)
    if words > max_words:
        problems.append(f"the answer has {words} words, more than the limit of {max_words}")
    lang = detect_lang(answer)
    if lang is None:
        problems.append("the answer has no words")
    elif lang != request.lang:
        problems.append(
            f"the answer is in {LANG_NAMES[lang]}, not in {LANG_NAMES[request.lang]} as asked"
        )
    if _loops(answer):
        problems.append("the answer repeats itself")
    lost = [tag for tag in prompt_tags(request.prompt) if tag not in answer]
    if detect_lang(request.prompt) in (None, request.lang):
        lost += [term for term in weighted_terms(request.prompt) if term not in answer]
        if request.lang == "zh":
            missing, total = missing_chars(request.prompt, answer)
        else:
            missing, total = missing_words(request.prompt, answer)
        if total and total - len(missing) < math.ceil(total * KEEP_SHARE - 1e-9):
            problems.append(f"the answer drops the prompt's words: {', '.join(missing[:8])}")
    if lost:
        problems.append(f"the answer changes or drops tags of the prompt: {' '.join(lost)}")
    return problems
