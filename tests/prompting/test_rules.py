"""wan.prompting.rules and request: Deforum tag lists to Wan prose, camera and style sentences."""

from __future__ import annotations

import itertools
import json
import re

import numpy as np
import pytest

from tests.conftest import FIXTURES, SETTINGS_FILES
from wan.core.deforum.settings import load_settings
from wan.core.motion import AXES, MODES, ORBIT_PAIRS, analyse_motion
from wan.core.plan import build_plan
from wan.errors import OptionsError, WanError
from wan.models.identify import profile_for
from wan.prompting import LANGS, STYLES, EnhanceRequest, EnhanceResult
from wan.prompting.camera_text import ZH_CAMERA_PHRASES, camera_sentence, translate_motion_zh
from wan.prompting.intents import VACE_INTENTS, vace_intents
from wan.prompting.rules import STYLE_TERMS, enhance_rules, enhance_rules_result

PAN_PUSH = "the camera slowly pans right while pushing in"
PAN_PUSH_ZH = "镜头缓慢地向右摇动，同时向前推进。"

# (prompt, motion, lang, style, expected). Prompts marked "fixture" are taken verbatim from
# tests/fixtures/deforum (test_fixture_prompts_are_real checks that they are there).
CASES = [
    pytest.param(  # fixture: deforum default settings, frame 0, without its --neg part
        "tiny cute swamp bunny, highly detailed, intricate, ultra hd, sharp photo, crepuscular "
        "rays, in focus, 4k, landscape",
        "the camera steadily pushes in",
        "en",
        "cinematic",
        "A tiny cute swamp bunny in a landscape. Sharp photo, crepuscular rays, highly detailed, "
        "cinematic lighting, shallow depth of field, film grain. The camera steadily pushes in.",
        id="fixture-bunny",
    ),
    pytest.param(  # fixture: deforum default settings, frame 30
        "anthropomorphic clean cat, surrounded by mandelbulb fractals, epic angle and pose, "
        "symmetrical, 3d, depth of field",
        PAN_PUSH,
        "en",
        "3d",
        "An anthropomorphic clean cat surrounded by mandelbulb fractals. Epic angle and pose, "
        "symmetrical, 3d, depth of field, global illumination, soft shadows. "
        "The camera slowly pans right while pushing in.",
        id="fixture-cat-3d-style-not-repeated",
    ),
    pytest.param(  # fixture: deforum default settings, frame 90
        "a beautiful durian, amazing award winning photography",
        "static camera",
        "en",
        "none",
        "A beautiful durian. Photography. The camera is static.",
        id="fixture-durian-static",
    ),
    pytest.param(  # fixture: brutalism, frame 0
        "Very gray concrete brutalist buildings, barren ground",
        "the camera steadily trucks left",
        "en",
        "photographic",
        "Very gray concrete brutalist buildings on barren ground. Photorealistic, natural "
        "lighting, 35mm lens. The camera steadily trucks left.",
        id="fixture-brutalism",
    ),
    pytest.param(  # fixture: brutalism, frame 90; no motion, no style
        "Completely overgrown buildings",
        "",
        "en",
        "none",
        "Completely overgrown buildings.",
        id="fixture-no-motion",
    ),
    pytest.param(  # fixture: legacy settings, manga tags with no subject named
        "best quality, perfect lighting, shiny skin, manga , looking at the viewer, forest ruins, "
        "golden black magical medival armor, exposed belly,white hair, golden eyes,long hair",
        "the camera zooms in, slowing down",
        "en",
        "anime",
        "A character looking at the viewer in forest ruins, with shiny skin, golden black magical "
        "medival armor, exposed belly, white hair, golden eyes and long hair. Perfect lighting, "
        "manga style, cel shading, vibrant colors. The camera zooms in, slowing down.",
        id="fixture-manga",
    ),
    pytest.param(  # fixture: brutalism positive prompt, already prose and "Very cinematic"
        "Brutalist Soviet Architecture is characterized by imposing concrete blocks, some "
        "decorative elements, and a stark, functional appearance, conveying the weight of Soviet "
        "authority, photos 4k hyper realistic, Extreme long shot, Very cinematic",
        "the camera slowly zooms out",
        "en",
        "cinematic",
        "Brutalist Soviet Architecture is characterized by imposing concrete blocks, some "
        "decorative elements, and a stark, functional appearance, conveying the weight of Soviet "
        "authority, photos 4k hyper realistic, Extreme long shot, Very cinematic. Shallow depth "
        "of field, film grain. The camera slowly zooms out.",
        id="fixture-prose",
    ),
    pytest.param(
        "masterpiece, 1girl, forest ruins, golden armor, white hair, (glowing eyes:1.2), "
        "<lora:x:0.5>",
        PAN_PUSH,
        "en",
        "cinematic",
        "A girl in forest ruins, with golden armor, white hair and (glowing eyes:1.2). Cinematic "
        "lighting, shallow depth of field, film grain. The camera slowly pans right while pushing "
        "in. <lora:x:0.5>",
        id="emphasis-and-lora",
    ),
    pytest.param(
        "((red fox)), [snowy forest], (night:0.8), <lora:foxes/red_fox:0.7>, <lyco:winter:te=0.4>",
        "static camera",
        "en",
        "painterly",
        "((red fox)) in [snowy forest] at (night:0.8). Oil painting style, visible brushstrokes, "
        "rich textures. The camera is static. <lora:foxes/red_fox:0.7> <lyco:winter:te=0.4>",
        id="all-emphasized",
    ),
    pytest.param(
        "A lone lighthouse keeper climbs the spiral stairs at dusk, his lantern swinging.",
        "the camera quickly tilts up",
        "en",
        "cinematic",
        "A lone lighthouse keeper climbs the spiral stairs at dusk, his lantern swinging. "
        "Cinematic lighting, shallow depth of field, film grain. The camera quickly tilts up.",
        id="sentence-kept",
    ),
    pytest.param(
        "",
        "static camera",
        "en",
        "cinematic",
        "Cinematic lighting, shallow depth of field, film grain. The camera is static.",
        id="empty",
    ),
    pytest.param(
        "score_9, 2girls, solo, city at night, heavy rain, white background, zoom in",
        "the camera moves up and then down",
        "en",
        "none",
        "Two girls in a city at night and against a white background in heavy rain. "
        "The camera moves up and then down.",
        id="booru-counts-camera-tag-dropped",
    ),
    pytest.param(
        "portrait of a woman, oil painting, by greg rutkowski, sunset",
        "the camera pans left and then right",
        "en",
        "painterly",
        "A portrait of a woman at sunset. Oil painting, by greg rutkowski, visible brushstrokes, "
        "rich textures. The camera pans left and then right.",
        id="artist-and-oil-painting",
    ),
    pytest.param(  # fixture: deforum default settings, frame 0 (shortened), in Chinese
        "tiny cute swamp bunny, highly detailed, sharp photo, landscape",
        PAN_PUSH,
        "zh",
        "cinematic",
        "tiny cute swamp bunny, sharp photo, landscape。细节丰富，电影感光影，浅景深，胶片颗粒。"
        + PAN_PUSH_ZH,
        id="zh-tags",
    ),
    pytest.param(
        "一只橘猫在森林里奔跑，阳光穿过树叶。",
        "static camera",
        "zh",
        "none",
        "一只橘猫在森林里奔跑，阳光穿过树叶。镜头固定不动。",
        id="zh-prose",
    ),
]

# Requests for the property tests: every case above, plus the fixture prompts with motions.
MOTIONS = ("", "static camera", PAN_PUSH, "the camera quickly zooms in, speeding up")
EXTRA_PROMPTS = (
    "a cat, cinematic, (film grain:1.1)",
    "1girl, (masterpiece:1.3), [from:to:0.5], \\(not emphasis\\), BREAK, river",
    "a cat --neg ugly, blurry",
    "<lora:only:1>",
    "masterpiece, best quality, 8k",
)


def fixture_prompts() -> list[str]:
    """Every prompt of every fixture settings file, as written (positive part)."""
    prompts = []
    for path in SETTINGS_FILES:
        data = json.loads(path.read_text(encoding="utf-8"))
        for key in ("prompts", "animation_prompts"):
            values = data.get(key) or {}
            if isinstance(values, str):
                values = json.loads(values)
            prompts += [v.partition("--neg")[0].strip() for v in values.values()]
        for key in ("positive_prompts", "animation_prompts_positive"):
            if data.get(key):
                prompts.append(data[key])
    return sorted(set(prompts))


def emphasis_groups(text: str) -> list[str]:
    """Top-level (...) and [...] groups, escapes excluded: what must survive byte for byte."""
    groups, depth, start, i = [], 0, 0, 0
    while i < len(text):
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char in "([":
            if depth == 0:
                start = i
            depth += 1
        elif char in ")]" and depth:
            depth -= 1
            if depth == 0:
                groups.append(text[start : i + 1])
        i += 1
    return groups


def check_properties(request: EnhanceRequest, text: str) -> None:
    positive = request.prompt.partition("--neg")[0]
    camera, _ = camera_sentence(request.motion, request.lang)
    if camera:
        assert text.count(camera) == 1, text
    else:
        assert "The camera" not in text.replace(request.prompt, "")
    for tag in re.findall(r"<\w+:[^>]+>", positive) + emphasis_groups(positive):
        assert tag in text, f"{tag!r} not kept byte for byte in {text!r}"
    low, prompt_low = text.lower(), request.prompt.lower()
    for term in STYLE_TERMS[request.style]:
        word = (term.zh if request.lang == "zh" else term.en).lower()
        assert low.count(word) <= max(1, prompt_low.count(word)), f"{word!r} repeated: {text!r}"
    again = enhance_rules(EnhanceRequest(text, request.motion, request.lang, request.style))
    assert again == text, "enhancing an enhanced prompt must add nothing"


@pytest.mark.parametrize(("prompt", "motion", "lang", "style", "expected"), CASES)
def test_expected_outputs(prompt, motion, lang, style, expected):
    request = EnhanceRequest(prompt, motion, lang, style)
    assert enhance_rules(request) == expected
    check_properties(request, expected)


def test_fixture_prompts_are_real():
    prompts = fixture_prompts()
    for param in CASES:
        prompt = param.values[0]
        if "fixture" in param.id and param.values[2] == "en":
            assert any(prompt in p for p in prompts), prompt
    assert len(CASES) >= 12


@pytest.mark.parametrize("prompt", fixture_prompts() + list(EXTRA_PROMPTS))
@pytest.mark.parametrize("motion", MOTIONS)
def test_properties_on_fixture_prompts(prompt, motion):
    for lang, style in itertools.product(LANGS, ("none", "cinematic", "3d")):
        request = EnhanceRequest(prompt, motion, lang, style)
        check_properties(request, enhance_rules(request))


@pytest.mark.parametrize("path", SETTINGS_FILES, ids=lambda p: p.name)
def test_real_plans_clip_prompts(path):
    """The prompts and camera phrases the renderer really has (Deforum merges included)."""
    plan = build_plan(load_settings(path), profile_for("Wan2.1-T2V-1.3B"), seed=1)
    for clip in plan.clips:
        for lang in LANGS:
            request = EnhanceRequest(clip.prompt, clip.motion.phrase, lang, "cinematic")
            result = enhance_rules_result(request)
            check_properties(request, result.text)
            assert "best quality" not in result.text  # merged quality tags are still dropped
            assert result.source == "rules"


def test_quality_tags_dropped_but_emphasized_kept():
    text = enhance_rules(
        EnhanceRequest("masterpiece, best quality, 4k, (masterpiece:1.2), a cat", "static camera")
    )
    assert text == "A cat. (masterpiece:1.2). The camera is static."
    only = enhance_rules_result(EnhanceRequest("masterpiece, best quality, 8k", ""))
    assert only.text == "" and "describes no picture" in only.warnings[0]


def test_detail_tags_become_one_phrase():
    text = enhance_rules(EnhanceRequest("a cat, highly detailed, intricate, sharp focus", ""))
    assert text == "A cat. Highly detailed."


def test_style_terms_not_repeated_partial_match():
    text = enhance_rules(EnhanceRequest("a cat, very cinematic, bokeh", "", style="cinematic"))
    assert text == "A cat. Very cinematic, bokeh, film grain."
    assert text.lower().count("cinematic") == 1


def test_camera_tags_dropped_with_warning_only_when_motion_known():
    result = enhance_rules_result(EnhanceRequest("a cat, static camera, zoom in", PAN_PUSH))
    assert result.text == "A cat. The camera slowly pans right while pushing in."
    assert "dropped camera tags 'static camera', 'zoom in'" in result.warnings[0]
    assert enhance_rules(EnhanceRequest("a cat, zoom in", "")) == "A cat. Zoom in."


def test_generated_camera_sentence_replaced_user_sentence_kept():
    old = enhance_rules(EnhanceRequest("a cat", "the camera quickly tilts up"))
    result = enhance_rules_result(EnhanceRequest(old, PAN_PUSH))
    assert result.text == "A cat. The camera slowly pans right while pushing in."
    assert "replaced the camera direction" in result.warnings[0]
    mine = "A cat sleeps. The camera follows a bird outside."
    assert enhance_rules(EnhanceRequest(mine, "static camera")) == mine + " The camera is static."
    zh = enhance_rules(EnhanceRequest("一只猫。镜头快速地向上摇动。", PAN_PUSH, "zh"))
    assert zh == "一只猫。" + PAN_PUSH_ZH


def test_neg_part_carried_unchanged():
    result = enhance_rules_result(EnhanceRequest("a cat --neg ugly, (blurry:1.2)", "static camera"))
    assert result.text == "A cat. The camera is static. --neg ugly, (blurry:1.2)"
    assert "--neg" in result.warnings[0]


def test_zh_camera_sentence_and_untranslatable_phrase():
    assert camera_sentence("static camera", "zh") == ("镜头固定不动。", ())
    assert camera_sentence(PAN_PUSH, "zh") == (PAN_PUSH_ZH, ())
    assert camera_sentence("", "zh") == ("", ())
    result = enhance_rules_result(EnhanceRequest("a cat", "the camera wobbles", "zh"))
    assert result.text == "a cat。The camera wobbles."
    assert "no Chinese phrase" in result.warnings[0]
    assert translate_motion_zh("the camera wobbles") is None


def camera_phrases() -> set[str]:
    """Phrases wan.core.motion makes: each axis both ways, steady, speeding, slowing, reversing,
    oscillating, at several intensities, alone and with up to two other axes; and orbits."""
    frames = 60
    ramp = np.linspace(0.2, 1.8, frames)
    shapes = {
        "steady": np.ones(frames),
        "speeds": ramp,
        "slows": ramp[::-1],
        "reverses": np.where(np.arange(frames) < frames // 2, 1.0, -1.0),
        "oscillates": np.sin(2 * np.pi * np.arange(frames) / 15),
    }
    scales = {"translation": (0.05, 0.5, 8.0), "rotation": (0.03, 0.3, 2.0), "z": (0.2, 3.0, 20.0)}
    phrases = set()
    for mode in MODES:
        for count in (1, 2, 3):
            for keys in itertools.combinations(AXES[mode], count):
                for shape, sign, level in itertools.product(shapes, (1, -1), range(3)):
                    schedules = {}
                    for n, key in enumerate(keys):
                        kind = (
                            "z"
                            if key in ("zoom", "translation_z")
                            else "rotation"
                            if "rotation" in key or key == "angle"
                            else "translation"
                        )
                        amount = scales[kind][(level + n) % 3] * sign * shapes[shape]
                        amount = shapes["steady"] * amount if n else amount
                        values = np.exp(amount * 0.005) if key == "zoom" else amount
                        schedules[key] = np.concatenate(([values[0]], values))
                    motion = analyse_motion(schedules, mode, 0, frames, 512)
                    phrases.add(motion.phrase)
    for (move, turn), shape, sign, level in itertools.product(
        ORBIT_PAIRS, shapes, (1, -1), range(3)
    ):
        curve = np.concatenate(([0.0], shapes[shape]))
        schedules = {move: sign * scales["translation"][level] * 2 * curve}
        schedules[turn] = -sign * scales["rotation"][level] * curve
        schedules["translation_z" if level else "rotation_3d_z"] = 0.5 * curve
        phrases.add(analyse_motion(schedules, "3D", 0, frames, 512).phrase)
    return phrases


def test_every_motion_phrase_has_a_chinese_sentence():
    phrases = camera_phrases()
    for needed in ("very slowly", "steadily", "quickly", "speeding up", "slowing down", "while"):
        assert any(needed in p for p in phrases), needed
    assert any("and then" in p for p in phrases) and "static camera" in phrases
    for needed in ("sways", "pulses", "rocks", "bobs", "nods", "orbits", "orbiting"):
        assert any(needed in p for p in phrases), needed
    assert len(phrases) > 100
    for phrase in phrases:
        zh = translate_motion_zh(phrase)
        assert zh is not None, phrase
        assert not re.search(r"[A-Za-z]", zh), (phrase, zh)
        sentence, warnings = camera_sentence(phrase, "zh")
        assert sentence == zh + "。" and not warnings
        text = enhance_rules(EnhanceRequest("a cat", phrase, "zh"))
        assert text.count(sentence) == 1


def test_phrase_table_values_are_chinese():
    assert ZH_CAMERA_PHRASES["static camera"] == "镜头固定不动"
    for english, chinese in ZH_CAMERA_PHRASES.items():
        assert english == english.lower() and not re.search(r"[A-Za-z]", chinese)


@pytest.mark.parametrize(
    ("text", "intents"),
    [
        ("a knight, keep the same character, forest", ("same_character",)),
        ("same face as the reference image", ("reference", "same_face")),
        ("inpaint the sky, (masked area:1.2)", ("inpaint", "mask")),
        ("outpainting, expand the canvas", ("outpaint",)),
        ("extend the video, continue the previous clip", ("extend",)),
        ("a girl, consistent character, face consistency", ("same_character", "same_face")),
        ("a man wearing a mask, arms extended, character reference sheet", ()),
        ("<lora:inpaint_helper:1>, a cat", ()),
        ("", ()),
    ],
)
def test_vace_intents(text, intents):
    assert vace_intents(text) == intents
    assert set(intents) <= set(VACE_INTENTS)


def test_instructions_kept_as_their_own_sentence():
    text = enhance_rules(EnhanceRequest("a knight, keep the same character, forest", ""))
    assert text == "A knight in a forest. Keep the same character."


def test_request_validation_and_dicts():
    request = EnhanceRequest("a cat", "static camera", "zh", "anime")
    assert request.to_dict() == {
        "prompt": "a cat",
        "motion": "static camera",
        "lang": "zh",
        "style": "anime",
    }
    with pytest.raises(OptionsError, match=r"language 'fr'.*'en', 'zh'"):
        EnhanceRequest("a cat", "", lang="fr")
    with pytest.raises(OptionsError, match=r"style 'noir'.*'none', 'cinematic'.*'3d'"):
        EnhanceRequest("a cat", "", style="noir")
    with pytest.raises(WanError):
        EnhanceRequest(None, "")  # type: ignore[arg-type]
    result = enhance_rules_result(EnhanceRequest("a cat", "the camera wobbles", "zh"))
    assert result.to_dict() == {"text": result.text, "source": "rules", "warnings": [
        "camera motion 'the camera wobbles' has no Chinese phrase; it is kept in English"
    ]}  # fmt: skip
    assert json.loads(json.dumps(result.to_dict()))["source"] == "rules"
    with pytest.raises(OptionsError, match="source 'gpt'"):
        EnhanceResult("x", "gpt")


def test_every_style_has_terms_in_both_languages():
    assert set(STYLE_TERMS) == set(STYLES)
    for style in STYLES:
        for term in STYLE_TERMS[style]:
            assert term.en and term.zh and not re.search(r"[A-Za-z]{2,}", term.zh.replace("D", ""))


def test_fixtures_present():
    assert FIXTURES.is_dir() and SETTINGS_FILES


def test_sway_and_orbit_sentences_are_replaced_and_rock_tags_kept():
    sway = "the camera slowly sways left and right"
    old = enhance_rules(EnhanceRequest("a cat", sway))
    assert old == "A cat. The camera slowly sways left and right."
    orbit = "the camera orbits right around the subject while pulsing in and out"
    result = enhance_rules_result(EnhanceRequest(old, orbit))
    assert (
        result.text == "A cat. The camera orbits right around the subject while pulsing in and out."
    )
    assert "replaced the camera direction" in result.warnings[0]
    assert enhance_rules(EnhanceRequest(old, orbit, "zh")).endswith(
        "镜头向右环绕主体，同时反复推近拉远。"
    )
    # "rocks" and "pulse" are also things in a picture: such a tag stays.
    kept = enhance_rules_result(EnhanceRequest("sea, rocks, pulse", "static camera"))
    assert "rocks" in kept.text.lower() and "pulse" in kept.text.lower()
    assert not any("dropped camera tags" in w for w in kept.warnings)
