"""The camera direction sentence, in English or Chinese, for a wan.core.motion phrase.

The rules enhancer ends every prompt with the clip's measured camera motion ("The camera slowly
pans right while pushing in." / "镜头缓慢地向右摇动，同时向前推进。") and must recognise such a
sentence, or a camera tag, to replace it. ZH_CAMERA_PHRASES covers every phrase wan.core.motion
makes; a phrase outside it stays English, with a warning.
"""

from __future__ import annotations

from wan.core.motion import OPPOSITE, ORBIT_WORDS, SWINGS, VERBS
from wan.prompting.words import WORD, word_set

# Camera words: a tag or sentence made only of these, naming a movement, is a camera direction.
_CAMERA_WORDS = word_set(
    "the camera is static still fixed locked very slowly slow steadily steady quickly fast quick "
    "pans pan panning tilts tilt tilting trucks truck trucking moves move moving pedestal dolly "
    "dollies dollying zoom zooms zooming rolls roll rolling pushes push pushing pulls pull pulling "
    "in out left right up down forward backward clockwise counter-clockwise counterclockwise and "
    "then while speeding slowing movement motion orbits orbit orbiting around subject sways sway "
    "swaying bobs bobbing nods nodding pulses pulsing rocks rocking from side to"
)
_CAMERA_TRIGGERS = word_set(
    "camera pan pans panning tilt tilts tilting truck trucks trucking pedestal dolly dollies "
    "dollying zoom zooms zooming pushes pushing pulls pulling orbit orbits orbiting sways swaying "
    "bobbing nodding pulsing rocking"
)  # not "rock", "rocks", "pulse", "bob", "nod": alone, a tag with those is likely not the camera

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

# An oscillating movement (wan.core.motion.SWINGS) by its words, and an orbit by its direction.
_ZH_SWINGS = {
    "left and right": "左右摇摆",
    "up and down": "上下起伏",
    "in and out": "反复推近拉远",
    "from side to side": "左右来回摇晃",
}
_ZH_NOD = "上下来回俯仰"  # tilt: nods up and down
_ZH_ORBIT = {
    "left": "向左环绕主体",
    "right": "向右环绕主体",
    "up": "向上环绕主体",
    "down": "向下环绕主体",
    "left and right": "左右来回环绕主体",
    "up and down": "上下来回环绕主体",
}


def _zh_phrase_table() -> dict[str, str]:
    """English fragments of wan.core.motion phrases -> Chinese, matched longest first."""
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
        back = _ZH_MOVES[(movement, OPPOSITE[direction])]
        for verb in VERBS[movement]:
            table[f"{verb} {direction}"] = zh
            table[f"{verb} {direction} and then {OPPOSITE[direction]}"] = f"{zh}，然后{back}"
    for movement, (third, ing, both) in SWINGS.items():
        for verb in (third, ing):
            table[f"{verb} {both}"] = _ZH_NOD if movement == "tilt" else _ZH_SWINGS[both]
    third, ing, around = ORBIT_WORDS
    for verb in (third, ing):
        for direction, zh in _ZH_ORBIT.items():
            table[f"{verb} {direction} {around}"] = zh
            if direction in OPPOSITE:
                back = _ZH_ORBIT[OPPOSITE[direction]]
                table[f"{verb} {direction} and then {OPPOSITE[direction]} {around}"] = (
                    f"{zh}，然后{back}"
                )
    return table


ZH_CAMERA_PHRASES: dict[str, str] = _zh_phrase_table()
_ZH_KEYS = sorted(ZH_CAMERA_PHRASES, key=len, reverse=True)
_ZH_CAMERA_CHARS = frozenset("".join(ZH_CAMERA_PHRASES.values()) + "，。")


def camera_sentence(motion: str, lang: str = "en") -> tuple[str, tuple[str, ...]]:
    """The camera direction sentence for a wan.core.motion phrase ("" for none), and warnings."""
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
    """A wan.core.motion phrase in Chinese from ZH_CAMERA_PHRASES, or None if a part is unknown."""
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


def _english_camera_sentence(phrase: str) -> str:
    low = phrase.lower()
    if low in ("static camera", "the camera is static"):
        return "The camera is static."
    if low.startswith("the camera "):
        return "The camera " + phrase[len("the camera ") :] + "."
    return f"Camera movement: {phrase}."


def is_camera_sentence(sentence: str) -> bool:
    """A camera direction as `camera_sentence` writes it, in English or Chinese."""
    text = sentence.strip()
    if text.startswith("镜头"):
        return set(text) <= _ZH_CAMERA_CHARS
    low = text.lower().rstrip(". ")
    if low.startswith("camera movement:"):
        return True
    return low.startswith("the camera ") and is_camera_words(low)


def is_camera_words(text: str) -> bool:
    """Only camera words (_CAMERA_WORDS), naming a movement: a camera tag ("zoom in")."""
    words = WORD.findall(text.lower())
    return (
        bool(words)
        and len(words) == len(text.replace(",", " ").split())
        and set(words) <= _CAMERA_WORDS
        and bool(set(words) & _CAMERA_TRIGGERS)
    )
