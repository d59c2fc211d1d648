"""Mutated Deforum settings, the way users and attackers get them wrong (seeded, no I/O but the
reading of the real settings files they start from).

Case `index` of seed `seed` depends on nothing else, so one case can be rebuilt alone from the
two numbers a report gives. Each case records the mutations applied to it, for grouping hangs.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BASE_FILES = (
    *sorted((ROOT / "tests" / "fixtures" / "deforum").glob("*.txt")),
    *sorted((ROOT / "examples").glob("*.json")),
)

SCALAR_KEYS = ("max_frames", "fps", "W", "H", "seed", "seed_iter_N", "diffusion_cadence")
SCALAR_KEYS += ("strength", "use_init", "strength_0_no_init", "init_image", "animation_mode")
SCALAR_KEYS += ("seed_behavior", "add_soundtrack", "soundtrack_path", "batch_name")
SCHEDULE_KEYS = ("angle", "zoom", "translation_x", "translation_y", "translation_z")
SCHEDULE_KEYS += ("rotation_3d_x", "rotation_3d_y", "rotation_3d_z", "strength_schedule")
SCHEDULE_KEYS += ("seed_schedule", "noise_schedule", "cfg_scale_schedule", "steps_schedule")
SCHEDULE_KEYS += ("sampler_schedule", "checkpoint_schedule", "fov_schedule")
PROMPT_TEXT_KEYS = ("animation_prompts_positive", "animation_prompts_negative")
PROMPT_TEXT_KEYS += ("positive_prompts", "negative_prompts")

WRONG_TYPES: tuple[Any, ...] = ("abc", "", " ", [], [1, 2], {}, {"a": 1}, None, True, False)
WRONG_TYPES += (0, -1, 1.5, "1e308", "NaN", "nan", "inf", "-Infinity", "0x10", "1_000", "٣")
HUGE_TINY: tuple[Any, ...] = (1e308, -1e308, 1e-300, -1e-300, 2**64, -(2**64), 2**63, 2**31)
HUGE_TINY += (2**53 + 1, 10**400, float("nan"), float("inf"), float("-inf"), 0, -0.0, 0.5)
HUGE_TINY += ("1e308", "-1e308", "1e-300", "NaN", "Infinity", "1e400", str(2**64), "-0")
HUGE_COUNTS: tuple[Any, ...] = (10**5, 10**6, 10**9, 2**31 - 1, 2**31, 2**63, 1e12, 1e308)
HUGE_COUNTS += (100_000.0, "1000000", 1e-300, 0.001, 1e-9, 0, -1, -(2**31))

KEY_PIECES = ("0", "", " ", "-5", "-1", "1", "10", "max_f", "max_f/2", "'max_f-1'", '"max_f-2"')
KEY_PIECES += ("1e10", "99999999999999999999", "0.5", "(", ")", "s", "t", "nan", "2**64")
KEY_PIECES += ("max_f*1e300", "1/0", "-max_f", "s*s*s", "where(1,0,1)", "1e-300", "0x1", "٣")
VALUE_PIECES = ("(0)", "(1)", "(", "0:(", "(1", "1)", "((((1))))", "()", "", " ", "(-1)")
VALUE_PIECES += ("(sin(t))", "(round(t,2))", "(round(t))", "(foo(t))", "(t**1000)", "(1/0)")
VALUE_PIECES += ("(t/0)", "(10**400)", "(`t`)", "(where(t>5,1,0))", "(1e308*10)", "(arcsin(2))")
VALUE_PIECES += ("(log(0))", "(log(-1))", "(exp(1000))", "(t%0)", "(sqrt(-1))", "('abc')")
VALUE_PIECES += ('("x")', "(True)", "(t>5)", "(complex(1,2))", "(contains('a','b'))", "(s)")
VALUE_PIECES += ("(max_f)", "(t**-1)", "(-t**0.5)", "(1e-300/1e300)", "(t<<2)", "(~t)")
VALUE_PIECES += ("(t if t else 1)", "(lambda: 1)", "(__import__('os'))", "(t.real)", "(é)")
VALUE_PIECES += ("(s**s)", "(2**63)", "(-2**63)", "(arctan2(t))", "(abs())", "(t[0])")
VALUE_PIECES += ("(1 2)", "(1,2)", "(t;1)", "(1e)", "(.)", "(-)", "(+1)", "(0.5e-3)", "(nan)")
BACKTICKS = ("`t`", "`1/0`", "``", "`foo(t)`", "`", "`round(t,2)`", "`t**1000`", "`max_f`")
BACKTICKS += ("`log(0)`", "`'a'`", "`s`", "`exp(t*100)`", "`1e308*10`", "`(`", "`t>1`")
BACKTICKS += ("`" + "+".join(["t"] * 3000) + "`", "`" + "(" * 300 + "1" + ")" * 300 + "`")
PROMPT_KEYS = ("max_f/2", "max_f*1e300", "1/0", "-5", "1e400", "nan", "2**64", "abc", "", " ")
PROMPT_KEYS += ("99999999999999999999", "0.5", "t", "'0'", "s", "-max_f", "max_f+1", "1e308")
PROMPT_KEYS += ("round(max_f,2)", "foo(1)", "(", "0:(", "`t`", "٣", "0" * 400, "max_f**max_f")
UNICODE = ("é", "ß", "你好", "\u202e", "\u200b", "\x00", "\ufeff", "\U0001d11e", "\ud800")
UNICODE += ("\udfff", "\r\n", "\t", "\\", '"', "'", "--neg", "--neg --neg", "ﬁ", "İ")


@dataclass(frozen=True)
class Case:
    """One mutated settings file: its text as the CLI would read it, and what was done to it."""

    seed: int
    index: int
    base: str
    mutations: tuple[str, ...]
    text: str


def load_bases() -> list[tuple[str, dict[str, Any]]]:
    """The real settings files the mutations start from, by file name."""
    return [(p.name, json.loads(p.read_text(encoding="utf-8-sig"))) for p in BASE_FILES]


def make_case(seed: int, index: int, bases: list[tuple[str, dict[str, Any]]]) -> Case:
    """Case `index` of the run seeded `seed`: a base file with one to four mutations."""
    rng = random.Random(f"{seed}:{index}")
    name, base = rng.choice(bases)
    data: Any = copy.deepcopy(base)
    done = []
    for _ in range(rng.choice((1, 1, 2, 2, 3, 4))):
        label, mutate = rng.choice(RARE_MUTATIONS if rng.random() < 0.005 else MUTATIONS)
        data = mutate(rng, data) if isinstance(data, dict) else data
        done.append(label)
    text = json.dumps(data, indent=rng.choice((None, 4)), ensure_ascii=rng.random() < 0.5)
    if rng.random() < 0.01:
        text, label = _mangle_text(rng, text)
        done.append(label)
    return Case(seed, index, name, tuple(done), text)


def _any_key(rng: random.Random, data: dict) -> str:
    pool = list(data) + list(SCALAR_KEYS) + list(SCHEDULE_KEYS) + ["prompts"]
    return rng.choice(pool)


def _wrong_type(rng: random.Random, data: dict) -> dict:
    data[_any_key(rng, data)] = copy.deepcopy(rng.choice(WRONG_TYPES))
    return data


def _huge_tiny(rng: random.Random, data: dict) -> dict:
    key = rng.choice(SCALAR_KEYS + SCHEDULE_KEYS)
    value = rng.choice(HUGE_TINY)
    if key in SCHEDULE_KEYS and rng.random() < 0.5 and not isinstance(value, float):
        value = f"0: ({value})"
    data[key] = value
    return data


def _huge_count(rng: random.Random, data: dict) -> dict:
    data[rng.choice(("max_frames", "fps", "W", "H", "seed_iter_N", "diffusion_cadence"))] = (
        rng.choice(HUGE_COUNTS)
    )
    return data


def _schedule_syntax(rng: random.Random, data: dict) -> dict:
    pieces = []
    for _ in range(rng.choice((1, 1, 2, 3, 5))):
        pieces.append(f"{rng.choice(KEY_PIECES)}:{rng.choice(VALUE_PIECES)}")
    if rng.random() < 0.7:
        pieces.insert(0, "0:(0)")
    separator = rng.choice((",", ", ", ",,", " ,", ":", ";"))
    text = separator.join(pieces) + rng.choice(("", "", ",", ":", ")", "("))
    data[rng.choice(SCHEDULE_KEYS)] = text
    return data


def _long_expression(rng: random.Random, data: dict) -> dict:
    size = rng.choice((100, 1000, 10_000, 50_000))
    term = rng.choice(("t", "sin(t)", "1", "(t*2)", "max_f", "s"))
    body = rng.choice(
        (
            "+".join([term] * size),
            "(" * min(size, 2000) + term + ")" * min(size, 2000),
            "-" * size + "1",
            "1" * size,
            "0." + "1" * size,
            "sin(" * min(size, 500) + "t" + ")" * min(size, 500),
        )
    )
    data[rng.choice(SCHEDULE_KEYS)] = f"0:({body})"
    return data


def _prompt_keys(rng: random.Random, data: dict) -> dict:
    prompts = data.get("prompts")
    prompts = dict(prompts) if isinstance(prompts, dict) else {"0": "a forest"}
    for _ in range(rng.choice((1, 2, 3))):
        prompts[rng.choice(PROMPT_KEYS)] = rng.choice(("a lake", "a city --neg fog", "`t`"))
    data["prompts"] = prompts
    return data


def _prompt_text(rng: random.Random, data: dict) -> dict:
    prompts = data.get("prompts")
    prompts = dict(prompts) if isinstance(prompts, dict) else {"0": "a forest"}
    key = rng.choice([*prompts, "0"])
    words = [rng.choice(("a lake", "(glow:1.2)", *BACKTICKS, *UNICODE)) for _ in range(3)]
    text = " ".join(words)
    if rng.random() < 0.1:
        text *= rng.choice((100, 10_000))
    if rng.random() < 0.3:
        data[rng.choice(PROMPT_TEXT_KEYS)] = text
    else:
        prompts[key] = text
        data["prompts"] = prompts
    return data


def _prompts_shape(rng: random.Random, data: dict) -> dict:
    prompts = data.get("prompts", {"0": "a"})
    data[rng.choice(("prompts", "animation_prompts"))] = rng.choice(
        (
            json.dumps(prompts),
            json.dumps(prompts)[:-3],
            list(prompts.values()) if isinstance(prompts, dict) else [],
            {},
            {"0": None},
            {"0": 1},
            {"0": ["a"]},
            "",
            "a forest",
            None,
            {str(i): f"p{i}" for i in range(rng.choice((50, 2000)))},
        )
    )
    return data


def _negative_frames(rng: random.Random, data: dict) -> dict:
    frame = rng.choice((-1, -5, -1000, -(2**40)))
    if rng.random() < 0.5:
        data[rng.choice(SCHEDULE_KEYS)] = f"{frame}:(1), 0:(0)"
    else:
        prompts = data.get("prompts")
        prompts = dict(prompts) if isinstance(prompts, dict) else {}
        prompts[str(frame)] = "before the start"
        data["prompts"] = prompts
    return data


def _unicode(rng: random.Random, data: dict) -> dict:
    key = rng.choice([*data, *SCALAR_KEYS, *SCHEDULE_KEYS, *PROMPT_TEXT_KEYS])
    char = rng.choice(UNICODE)
    value = data.get(key)
    if isinstance(value, str) and rng.random() < 0.7:
        at = rng.randrange(len(value) + 1)
        data[key] = value[:at] + char + value[at:]
    elif rng.random() < 0.5:
        data[char + key] = value
    else:
        data[key] = char
    return data


def _remove_keys(rng: random.Random, data: dict) -> dict:
    important = ["prompts", "max_frames", "animation_mode", "fps", "W", "seed", "zoom"]
    for key in rng.sample([*data, *important], k=min(len(data), rng.choice((1, 3, 10, 50)))):
        data.pop(key, None)
    return data


def _unknown_keys(rng: random.Random, data: dict) -> dict:
    value: Any = rng.choice(WRONG_TYPES + HUGE_TINY)
    if rng.random() < 0.2:
        for _ in range(rng.choice((10, 31, 33, 100))):
            value = [value] if rng.random() < 0.5 else {"k": value}
    if rng.random() < 0.05:
        value = list(range(100_000))
    data[rng.choice(("wan", "x", "", " ", "__proto__", "max_frames ", "Max_Frames", "é"))] = value
    return data


def _enums(rng: random.Random, data: dict) -> dict:
    choices = {
        "animation_mode": ("2D", "3D", "Video Input", "Interpolation", "2d", " 3D", "", None, 3),
        "seed_behavior": ("iter", "fixed", "random", "ladder", "alternate", "schedule", "x", ""),
        "use_init": (True, False, "true", "yes", 2, "maybe"),
        "init_image": ("", "None", "https://x/y.png", "/etc/passwd", "a.png", "\x00", None),
        "strength_0_no_init": (True, "no", 0.5, None),
        "add_soundtrack": ("None", "File", "Init Video", "", None, 1),
    }
    key = rng.choice(list(choices))
    data[key] = rng.choice(choices[key])
    return data


def _seeds(rng: random.Random, data: dict) -> dict:
    data["seed"] = rng.choice((-1, 0, 2**32 - 1, 2**32, -2, "abc", 1.5, "-1", 2**63, 1e20))
    data["seed_behavior"] = rng.choice(("schedule", "random", "iter", "ladder", "alternate"))
    if rng.random() < 0.5:
        data["seed_schedule"] = rng.choice(
            ("0:(s)", "0:(-1)", "0:(s*1e300)", "0:(2**40)", "0:(-2**40)", "0:(t*s)", "0:(1e19)")
        )
    if rng.random() < 0.3:
        data["seed_iter_N"] = rng.choice((0, 1, 7, 2**31 - 1, -3))
    return data


def _legacy_style(rng: random.Random, data: dict) -> dict:
    if "prompts" in data and rng.random() < 0.5:
        data["animation_prompts"] = data.pop("prompts")
    else:
        data["positive_prompts"] = rng.choice(("", "a", "--neg", 1))
        data["negative_prompts"] = rng.choice(("", "b", None))
    data[rng.choice(("flip_2d_perspective", "controlnet_x"))] = rng.choice((True, "0"))
    return data


def _replace_whole(rng: random.Random, data: dict) -> Any:
    return rng.choice(([], "settings", 1, None, [data], True, {"": {}}))


def _mangle_text(rng: random.Random, text: str) -> tuple[str, str]:
    """Damage the file itself (rare: every one of these is a JSON error before any setting)."""
    choice = rng.randrange(4)
    if choice == 0:
        return text[: rng.randrange(len(text) + 1)], "truncated"
    if choice == 1:
        return "\ufeff" + text, "bom"
    if choice == 2:
        return text.replace(":", "=", 1), "not-json"
    return "", "empty-file"


MUTATIONS: tuple[tuple[str, Callable[[random.Random, dict], Any]], ...] = (
    ("wrong-type", _wrong_type),
    ("huge-tiny", _huge_tiny),
    ("huge-count", _huge_count),
    ("schedule-syntax", _schedule_syntax),
    ("schedule-syntax", _schedule_syntax),
    ("schedule-syntax", _schedule_syntax),
    ("long-expression", _long_expression),
    ("prompt-keys", _prompt_keys),
    ("prompt-keys", _prompt_keys),
    ("prompt-text", _prompt_text),
    ("prompt-text", _prompt_text),
    ("prompts-shape", _prompts_shape),
    ("negative-frames", _negative_frames),
    ("unicode", _unicode),
    ("remove-keys", _remove_keys),
    ("unknown-keys", _unknown_keys),
    ("enums", _enums),
    ("seeds", _seeds),
    ("legacy-style", _legacy_style),
)
RARE_MUTATIONS = (("replace-whole", _replace_whole),)
