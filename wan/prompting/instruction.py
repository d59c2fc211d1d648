"""The instruction that tells a chat model how to rewrite a Deforum prompt for Wan (pure).

Deforum prompts are written for image models: tag lists with weights and LoRA tags, no time and
no camera. Wan follows long, concrete descriptions of a shot that say how things move and where
the camera goes. The instruction asks for exactly that, and for the parts a user chose on
purpose (subject, names, style words, weights, LoRA tags) to be kept as written, because
`wan.prompting.answer.check_answer` rejects answers that lose them.

The text is ours, written for Wan. It exists in English and in Chinese (the output language the
request asks for; a model follows an instruction best in the language it should answer in).
`INSTRUCTION_VERSION` is part of the prompt cache key: bump it whenever any text here changes,
or cached answers written for the old text would be reused.
"""

from __future__ import annotations

import math

from wan.errors import OptionsError
from wan.prompting.request import EnhanceRequest

INSTRUCTION_VERSION = "1"

DEFAULT_MAX_WORDS = 120
MIN_MAX_WORDS = 20  # below this there is no room for the subject, the scene and the camera
CJK_CHARS_PER_WORD = 1.5  # a Chinese word is about 1.5 characters: word limits in characters

# The look each style asks for, in the model's own words (rules has its own terms for tags).
STYLE_LOOKS: dict[str, dict[str, str]] = {
    "cinematic": {
        "en": "cinematic film look, dramatic lighting, shallow depth of field",
        "zh": "电影感画面，戏剧性的光线，浅景深",
    },
    "anime": {
        "en": "anime style, clean line art, vivid flat colours",
        "zh": "动漫风格，干净的线条，鲜艳的平涂色彩",
    },
    "photographic": {
        "en": "photorealistic, natural light, fine detail",
        "zh": "照片般真实，自然光，细节丰富",
    },
    "painterly": {
        "en": "painterly look, visible brush strokes, rich texture",
        "zh": "绘画质感，可见的笔触，丰富的纹理",
    },
    "3d": {
        "en": "3D render, soft global illumination, smooth materials",
        "zh": "三维渲染，柔和的全局光照，光滑的材质",
    },
}

_SYSTEM_EN = """\
You write prompts for Wan, a model that turns a text description into a short video clip. \
The user gives you a prompt written for an image model, often a list of tags, and the camera \
movement of the clip. Rewrite them as one description of the clip that Wan can film.

- Keep the subject, every name, every style word and the meaning of the prompt. Copy weighted \
terms such as (word:1.2) and tags such as <lora:name:0.8> exactly as written, character for \
character.
- Add concrete detail: the setting, what the subject looks like and does, the lighting and the \
time of day, the colours and the composition of the shot.
- Describe how things move in the scene, and state the given camera movement as a direction to \
the camera, for example "The camera slowly pans left across the valley." If the camera is \
static, say that it stays still.
- If a style is given, give the whole clip that look.
- Write in English, whatever the language of the prompt.
- Write one paragraph of {min_words} to {max_words} words.
- Answer with the prompt itself: no introduction, no title, no quotation marks, no lists, no \
markdown, no comments."""

_SYSTEM_ZH = """\
你为 Wan 编写提示词。Wan 是一个根据文字描述生成短视频片段的模型。\
用户会给出一条为图像模型写的提示词（常常是一串标签）以及这个片段的镜头运动。\
请把它们改写成一段 Wan 能够拍摄的片段描述。

- 保留主体、所有名字、所有风格词和提示词的原意。带权重的词如 (word:1.2) 和标签如 \
<lora:name:0.8> 必须逐字照抄，一个字符也不能改。
- 补充具体细节：场景、主体的外观和动作、光线和时间、色彩以及画面构图。
- 描述画面中的运动，并把给定的镜头运动写成对镜头的指示，例如“镜头缓缓向左摇过山谷。”\
如果镜头静止，就说明镜头保持不动。
- 如果给出了风格，让整个片段呈现这种风格。
- 无论提示词是什么语言，都用简体中文写。
- 写成一段话，{min_words}到{max_words}个字。
- 只回答提示词本身：不要开场白、标题、引号、列表、Markdown 或任何说明。"""

_LABELS = {
    "en": {"prompt": "Prompt: ", "camera": "Camera: ", "style": "Style: "},
    "zh": {"prompt": "提示词：", "camera": "镜头：", "style": "风格："},
}


def word_range(max_words: int, min_words: int | None = None) -> tuple[int, int]:
    """(min, max) words of an answer; min defaults to half of max."""
    if max_words < MIN_MAX_WORDS:
        raise OptionsError(
            f"the enhanced prompt limit of {max_words} words is too short; use at least "
            f"{MIN_MAX_WORDS} words (default {DEFAULT_MAX_WORDS})"
        )
    low = max_words // 2 if min_words is None else min_words
    if not 0 < low <= max_words:
        raise OptionsError(
            f"the enhanced prompt needs 1 to {max_words} words at least, got {min_words}"
        )
    return low, max_words


def system_text(lang: str, max_words: int = DEFAULT_MAX_WORDS, min_words: int | None = None) -> str:
    """The system message for answers in `lang`; Chinese limits are counted in characters."""
    low, high = word_range(max_words, min_words)
    if lang == "zh":
        low = math.floor(low * CJK_CHARS_PER_WORD)
        high = math.floor(high * CJK_CHARS_PER_WORD)
        return _SYSTEM_ZH.format(min_words=low, max_words=high)
    return _SYSTEM_EN.format(min_words=low, max_words=high)


def user_text(request: EnhanceRequest) -> str:
    """The user message: the prompt as written, its camera phrase and the style's look."""
    labels = _LABELS[request.lang]
    lines = [labels["prompt"] + request.prompt.strip()]
    camera = request.motion.strip()
    if camera:
        lines.append(labels["camera"] + camera)
    if request.style != "none":
        lines.append(labels["style"] + STYLE_LOOKS[request.style][request.lang])
    return "\n".join(lines)


def build_messages(
    request: EnhanceRequest, max_words: int = DEFAULT_MAX_WORDS, min_words: int | None = None
) -> list[dict[str, str]]:
    """The chat for one request: our system instruction, then the prompt and camera as user."""
    return [
        {"role": "system", "content": system_text(request.lang, max_words, min_words)},
        {"role": "user", "content": user_text(request)},
    ]
