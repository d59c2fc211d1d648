"""Prompt enhancement: the instruction, answer cleaning and checking, and the orchestration
(cache first, one model load for the misses, fallback to the rules, model closed at the end).

The model runs for real (tiny-qwen through transformers). tiny-qwen is built to answer one
sentence about a red fox in a snowy forest (`QWEN_ANSWER`): a good answer for FOX, a bad one for
prompts about anything else; the scripted copy of test_qwen answers another sentence.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.prompting.test_qwen import GOOD_SENTENCE, make_scripted_qwen, torch_threads
from wan.cli.main import main as cli_main
from wan.errors import ModelError, OptionsError
from wan.models.smoke import ensure_smoke_model
from wan.models.smoke_qwen import QWEN_ANSWER
from wan.models.store import InstalledModel, StoreConfig
from wan.prompting import enhance as enhance_module
from wan.prompting.answer import check_answer, clean_answer, count_words, detect_lang
from wan.prompting.cache import PromptCache, cache_key, default_cache_dir
from wan.prompting.enhance import enhance_prompts, key_parts, model_identity
from wan.prompting.instruction import (
    INSTRUCTION_VERSION,
    build_messages,
    system_text,
    user_text,
)
from wan.prompting.qwen import QwenEnhancer
from wan.prompting.request import EnhanceRequest, EnhanceResult
from wan.prompting.rules import enhance_rules_result

FOX = EnhanceRequest("a red fox in a snowy forest, masterpiece", "the camera slowly pans left")
TAGGED = EnhanceRequest(
    "a red fox in a snowy forest, (golden light:1.2), masterpiece, best quality <lora:fox_v2:0.8>",
    "the camera slowly pans left",
)
CAT_ZH = EnhanceRequest("一只猫在窗边睡觉", "the camera slowly pushes in", lang="zh")
FOX_TO_ZH = EnhanceRequest(TAGGED.prompt, TAGGED.motion, lang="zh")
FOXES = EnhanceRequest("foxes running through cities", "static camera")


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    with torch_threads(1):
        yield


@pytest.fixture(scope="module")
def tiny_qwen(smoke_root: Path) -> Path:
    """Built where `resolve("tiny-qwen")` looks ($WAN_SMOKE_DIR is the session's smoke_root)."""
    return ensure_smoke_model("tiny-qwen", root=smoke_root)


@pytest.fixture(scope="module")
def scripted(tiny_qwen: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_scripted_qwen(tiny_qwen, tmp_path_factory.mktemp("enh") / "tiny-qwen-fox")


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Any]]:
    """Counts loads, batches and closes of the real QwenEnhancer (which still runs)."""
    calls: dict[str, list[Any]] = {"load": [], "batch": [], "close": []}
    load, batch, close = QwenEnhancer.load, QwenEnhancer.enhance_batch, QwenEnhancer.close

    def counting_load(path: Any, *args: Any, **kwargs: Any) -> QwenEnhancer:
        calls["load"].append(Path(path))
        return load(path, *args, **kwargs)

    def counting_batch(self: QwenEnhancer, requests: Any, *args: Any, **kwargs: Any) -> Any:
        calls["batch"].append(list(requests))
        return batch(self, requests, *args, **kwargs)

    def counting_close(self: QwenEnhancer) -> None:
        calls["close"].append(self)
        close(self)

    monkeypatch.setattr(QwenEnhancer, "load", counting_load)
    monkeypatch.setattr(QwenEnhancer, "enhance_batch", counting_batch)
    monkeypatch.setattr(QwenEnhancer, "close", counting_close)
    return calls


def no_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the prompt model must not be loaded")

    monkeypatch.setattr(QwenEnhancer, "load", refuse)


# ----------------------------------------------------------------------------------------------
# Instruction


def test_messages_are_our_instruction_then_prompt_and_camera() -> None:
    messages = build_messages(TAGGED)
    assert [m["role"] for m in messages] == ["system", "user"]
    assert messages[0]["content"] == system_text("en")
    assert messages[1]["content"] == (
        f"Prompt: {TAGGED.prompt}\nCamera: the camera slowly pans left"
    )


def test_instruction_asks_for_what_wan_needs() -> None:
    text = system_text("en")
    for phrase in (
        "Wan",
        "(word:1.2)",
        "<lora:name:0.8>",
        "exactly as written",
        "every name",
        "lighting",
        "composition",
        "camera movement",
        "Write in English",
        "one paragraph of 60 to 120 words",
        "no introduction",
        "no quotation marks",
        "no lists",
        "no markdown",
    ):
        assert phrase in text, phrase
    assert "40 to 80 words" in system_text("en", max_words=80)
    assert "30 to 80 words" in system_text("en", max_words=80, min_words=30)
    assert isinstance(INSTRUCTION_VERSION, str) and INSTRUCTION_VERSION


def test_chinese_output_gets_a_chinese_instruction_counted_in_characters() -> None:
    text = system_text("zh")
    assert "简体中文" in text and "90到180个字" in text
    assert "(word:1.2)" in text and "<lora:name:0.8>" in text
    assert user_text(CAT_ZH) == "提示词：一只猫在窗边睡觉\n镜头：the camera slowly pushes in"


def test_style_is_given_and_an_empty_motion_is_left_out() -> None:
    request = EnhanceRequest("a lighthouse", "", style="cinematic")
    assert user_text(request) == (
        "Prompt: a lighthouse\nStyle: cinematic film look, dramatic lighting, "
        "shallow depth of field"
    )


def test_a_word_limit_too_small_is_refused() -> None:
    with pytest.raises(OptionsError, match="at least 20 words"):
        build_messages(FOX, max_words=5)
    with pytest.raises(OptionsError, match="at least 20 words"):
        enhance_prompts([FOX], model="rules", max_words=5)


# ----------------------------------------------------------------------------------------------
# Cleaning answers

S = "A red fox walks in the snow."

CLEAN_CASES = [
    ("plain", S, S),
    ("greeting and label", f'Sure! Here is the enhanced prompt:\n\n"{S}"', S),
    ("label", f"Enhanced prompt: {S}", S),
    ("happy to help", f"Sure, I'd be happy to help! Here is the prompt: {S}", S),
    ("label on its own line", f"Here is the rewritten prompt\n{S}", S),
    ("not a greeting", "Great white sharks circle a boat.", "Great white sharks circle a boat."),
    ("bold label", f"**Enhanced Prompt:** {S}", S),
    ("here's", "Here's a rewritten version: A *red* fox walks in the snow.", S),
    ("think block", f"<think>The user wants a fox.</think>\n\n{S}", S),
    ("unclosed think", "<think>The user wants a fox. Let me think about the snow", ""),
    ("think closed only", f"they want a fox.</think> {S}", S),
    ("cut off", f"{S} The camera slowly pans left while the fox", S),
    ("curly quotes", f"“{S}”", S),
    ("lone opening quote", f'"{S}', S),
    ("trailing chatter", f"{S}\n\nLet me know if you would like any changes!", S),
    ("code fence", f"```\n{S}\n```", S),
    ("spaces and lines", "  A red   fox\nwalks in the snow.  ", S),
    (
        "heading and list",
        "# Prompt\n\n- A red fox\n- It walks in the snow",
        "A red fox. It walks in the snow.",
    ),
    (
        "trailing tags are not a cut-off sentence",
        "A red fox walks in (golden light:1.2). <lora:fox_v2:0.8>",
        "A red fox walks in (golden light:1.2). <lora:fox_v2:0.8>",
    ),
    (
        "no full sentence at all",
        "red fox, snowy forest, 1.5x speed",
        "red fox, snowy forest, 1.5x speed",
    ),
    (
        "chinese greeting and cut-off",
        "好的，以下是改写后的提示词：\n一只红狐狸在雪林中行走。镜头缓缓向左摇，狐",
        "一只红狐狸在雪林中行走。",
    ),
]


@pytest.mark.parametrize(
    ("raw", "expected"), [c[1:] for c in CLEAN_CASES], ids=[c[0] for c in CLEAN_CASES]
)
def test_clean_answer(raw: str, expected: str) -> None:
    assert clean_answer(raw) == expected


# ----------------------------------------------------------------------------------------------
# Checking answers

GOOD_TAGGED = (
    "A red fox walks through a snowy forest under (golden light:1.2), its breath steaming in the "
    "cold air, as the camera slowly pans left across the pines. <lora:fox_v2:0.8>"
)
CHECK_CASES = [
    # (id, request, answer, max_words, expected problem or None for a good answer)
    ("good, tags kept", TAGGED, GOOD_TAGGED, 120, None),
    ("rules' own prompt", FOX, enhance_rules_result(FOX).text, 120, None),
    ("most words kept is enough", FOXES, "A fox runs through the busy city at night.", 120, None),
    (
        "translated: words not compared, LoRA kept",
        FOX_TO_ZH,
        "一只红狐狸穿过白雪覆盖的森林，金色的光洒在它身上，镜头缓缓向左摇。<lora:fox_v2:0.8>",
        120,
        None,
    ),
    ("chinese kept", CAT_ZH, "一只橘猫在洒满阳光的窗边安静地睡觉，镜头缓缓推进。", 120, None),
    ("empty", FOX, "", 120, "empty"),
    ("too long", FOX, "A red fox walks in the snowy forest. " * 5, 20, "more than the limit"),
    ("wrong language", FOX, "一只红狐狸在雪林中行走，镜头缓缓向左摇。", 120, "not in English"),
    ("subject lost", FOX, "A cat sleeps on a wooden table by the window.", 120, "drops"),
    ("lora weight changed", TAGGED, GOOD_TAGGED.replace(":0.8>", ":1.0>"), 120, "<lora:fox_v2"),
    ("emphasis changed", TAGGED, GOOD_TAGGED.replace(":1.2)", ":1.3)"), 120, "(golden light"),
    ("lora lost in translation", FOX_TO_ZH, "一只红狐狸穿过白雪覆盖的森林。", 120, "<lora:fox_v2"),
    ("looping", FOX, "The red fox runs in the snowy forest. " * 3, 120, "repeats"),
    ("chinese subject lost", CAT_ZH, "一座灯塔矗立在悬崖上，海浪拍打礁石。", 120, "drops"),
    ("no words", FOX, "... !!!", 120, "no words"),
]


@pytest.mark.parametrize(
    ("request_", "answer", "max_words", "expected"),
    [c[1:] for c in CHECK_CASES],
    ids=[c[0] for c in CHECK_CASES],
)
def test_check_answer(
    request_: EnhanceRequest, answer: str, max_words: int, expected: str | None
) -> None:
    problems = check_answer(request_, answer, max_words)
    if expected is None:
        assert problems == []
    else:
        assert problems and any(expected in p for p in problems), problems


def test_language_and_word_count() -> None:
    assert detect_lang("A red fox") == "en"
    assert detect_lang("一只红狐狸 <lora:fox_v2:0.8> in snow") == "zh"
    assert detect_lang("1.2, 3") is None
    assert count_words("A red fox walks.") == 4
    assert count_words("一只红狐狸") == 4  # 5 characters / 1.5 per word, rounded up


# ----------------------------------------------------------------------------------------------
# Orchestration


def test_rules_need_no_model(monkeypatch: pytest.MonkeyPatch) -> None:
    no_loading(monkeypatch)
    results = enhance_prompts([FOX, CAT_ZH], model="Rules")
    assert [r.source for r in results] == ["rules", "rules"]
    assert results[0] == enhance_rules_result(FOX)


def test_a_model_not_installed_is_an_error_not_a_fallback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_loading(monkeypatch)
    config = StoreConfig(models_dir_flag=str(tmp_path / "models"), hf_cache_dir=str(tmp_path))
    with pytest.raises(ModelError, match=r"Qwen2\.5-1\.5B-Instruct is not installed.*download"):
        enhance_prompts([FOX], model="Qwen2.5-1.5B-Instruct", store_config=config)


def test_a_video_model_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    no_loading(monkeypatch)
    pipeline = tmp_path / "some-wan-model"
    pipeline.mkdir()
    (pipeline / "model_index.json").write_text("{}")
    with pytest.raises(ModelError, match="not a prompt model"):
        enhance_prompts([FOX], model=str(pipeline), cache=PromptCache(tmp_path / "cache"))
    with pytest.raises(OptionsError, match="no prompt model"):
        enhance_prompts([FOX], model=" ")


def test_tiny_qwen_answers_through_the_real_path(
    tiny_qwen: Path, tmp_path: Path, spy: dict[str, list[Any]]
) -> None:
    cache = PromptCache(tmp_path / "cache")
    (result,) = enhance_prompts([FOX], model="tiny-qwen", cache=cache)
    assert result.source == "qwen"  # generated, cleaned and checked: not the rules fallback
    assert result.text == QWEN_ANSWER and result.warnings == ()
    assert check_answer(FOX, result.text, 120) == []  # keeps the subject: red fox, snowy forest
    assert len(spy["load"]) == len(spy["batch"]) == len(spy["close"]) == 1
    (again,) = enhance_prompts([FOX], model="tiny-qwen", cache=cache)
    assert again == EnhanceResult(QWEN_ANSWER, "cache")


def test_a_bad_answer_falls_back_to_the_rules(
    tiny_qwen: Path, tmp_path: Path, spy: dict[str, list[Any]]
) -> None:
    cache = PromptCache(tmp_path / "cache")
    (result,) = enhance_prompts([FOXES], model="tiny-qwen", cache=cache)
    assert result.source == "rules"  # the fox sentence is about a forest, not cities
    assert result.text == enhance_rules_result(FOXES).text
    assert len(result.warnings) == 1
    assert "tiny-qwen's answer was not used" in result.warnings[0]
    assert "drops the prompt's words: running, cities" in result.warnings[0]
    assert "rules enhancer wrote this prompt" in result.warnings[0]
    assert len(spy["load"]) == len(spy["close"]) == 1
    assert not (tmp_path / "cache").exists()  # a fallback is not cached: the model is asked again
    enhance_prompts([FOXES], model="tiny-qwen", cache=cache)
    assert len(spy["load"]) == 2


def test_a_fallback_warning_is_shown_once_per_clip(
    tiny_qwen: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The warning travels in the result, which the caller shows; it is not logged as well."""
    results = enhance_prompts(
        [FOXES, FOX, CAT_ZH], model="tiny-qwen", cache=PromptCache(tmp_path / "cache")
    )
    assert [len(r.warnings) for r in results] == [1, 0, 1]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]

    # The CLI as a user runs it: no logging set up, so a logged warning would reach stderr
    # through Python's last-resort handler, next to the CLI's own "warning: ..." line.
    monkeypatch.setattr(logging.root, "handlers", [])
    monkeypatch.setenv("WAN_CACHE_DIR", str(tmp_path / "cli-cache"))
    assert cli_main(["enhance", FOXES.prompt, "--model", "tiny-qwen"]) == 0
    err = capsys.readouterr().err
    assert err.count("was not used") == 1, err


def test_a_good_answer_is_used_cached_and_then_read_without_the_model(
    scripted: Path, tmp_path: Path, spy: dict[str, list[Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = PromptCache(tmp_path / "cache")
    (result,) = enhance_prompts([FOX], model=str(scripted), cache=cache)
    assert result.source == "qwen"
    assert result.text == GOOD_SENTENCE
    assert result.warnings == ()
    assert spy["load"] == [scripted] and len(spy["close"]) == 1

    no_loading(monkeypatch)
    (again,) = enhance_prompts([FOX], model=str(scripted), cache=cache)
    assert again.source == "cache"
    assert again.text == GOOD_SENTENCE
    entries = list((tmp_path / "cache").rglob("*.json"))
    assert len(entries) == 1
    parts = json.loads(entries[0].read_text())["parts"]
    assert parts["instruction"] == INSTRUCTION_VERSION
    assert parts["prompt"] == FOX.prompt and parts["motion"] == FOX.motion
    assert parts["model"]["folder"] == "tiny-qwen-fox"
    assert parts["decoding"]["do_sample"] is False


def test_same_requests_give_the_same_results(
    tiny_qwen: Path, scripted: Path, tmp_path: Path
) -> None:
    requests = [FOX, TAGGED, CAT_ZH]
    for name, model in (("tiny", "tiny-qwen"), ("scripted", str(scripted))):
        runs = [
            enhance_prompts(
                requests,
                model=model,
                cache=PromptCache(tmp_path / f"{name}-{run}"),  # fresh: both runs generate
                max_new_tokens=64,
            )
            for run in range(2)
        ]
        assert runs[0] == runs[1]
        assert all(r.source in ("qwen", "rules") for r in runs[0])


def test_all_clips_go_through_one_load_and_one_batch(
    scripted: Path, tmp_path: Path, spy: dict[str, list[Any]]
) -> None:
    cache = PromptCache(tmp_path / "cache")
    (warm,) = enhance_prompts([FOXES], model=str(scripted), cache=cache)
    assert warm.source == "rules"  # the scripted sentence is about a fox, not cities

    fox_left = EnhanceRequest(FOX.prompt, "the camera quickly pans left")
    requests = [FOX, FOXES, fox_left, FOX, TAGGED]
    spy["load"].clear(), spy["batch"].clear(), spy["close"].clear()
    results = enhance_prompts(requests, model=str(scripted), cache=cache)
    assert len(spy["load"]) == 1 and len(spy["close"]) == 1
    assert spy["batch"] == [[FOX, FOXES, fox_left, TAGGED]]  # one batch, each request once
    assert [r.source for r in results] == ["qwen", "rules", "qwen", "qwen", "rules"]
    assert results[0] == results[3]
    assert "(golden light:1.2)" in results[4].warnings[0]  # the answer lost the user's tags

    spy["load"].clear()
    again = enhance_prompts(requests, model=str(scripted), cache=cache)
    assert [r.source for r in again] == ["cache", "rules", "cache", "cache", "rules"]
    assert len(spy["load"]) == 1 and spy["batch"][-1] == [FOXES, TAGGED]  # only the misses


def test_the_model_is_closed_when_generation_fails(
    scripted: Path, tmp_path: Path, spy: dict[str, list[Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(self: QwenEnhancer, *args: Any, **kwargs: Any) -> list[str]:
        raise RuntimeError("out of memory")

    monkeypatch.setattr(QwenEnhancer, "enhance_batch", fail)
    with pytest.raises(RuntimeError, match="out of memory"):
        enhance_prompts([FOX], model=str(scripted), cache=PromptCache(tmp_path))
    assert len(spy["load"]) == len(spy["close"]) == 1


def test_no_cache_given_uses_the_default_folder(scripted: Path) -> None:
    (result,) = enhance_prompts([FOX], model=str(scripted))
    assert result.source in ("qwen", "cache")
    assert default_cache_dir().is_dir()  # $WAN_CACHE_DIR of the test session


def test_every_part_of_the_key_matters(
    tiny_qwen: Path, scripted: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    identity = model_identity(InstalledModel(tiny_qwen, "smoke", "tiny-qwen"))
    base = cache_key(key_parts(identity, FOX, 120, 256))
    other_model = model_identity(InstalledModel(scripted, "path", None))
    variants = [
        key_parts(other_model, FOX, 120, 256),
        key_parts(identity, EnhanceRequest("a red fox", FOX.motion), 120, 256),
        key_parts(identity, EnhanceRequest(FOX.prompt, "static camera"), 120, 256),
        key_parts(identity, EnhanceRequest(FOX.prompt, FOX.motion, lang="zh"), 120, 256),
        key_parts(identity, EnhanceRequest(FOX.prompt, FOX.motion, style="anime"), 120, 256),
        key_parts(identity, FOX, 80, 256),
        key_parts(identity, FOX, 120, 128),
    ]
    keys = {cache_key(parts) for parts in variants}
    assert base not in keys and len(keys) == len(variants)
    assert identity["smoke"]["id"] == "tiny-qwen"
    monkeypatch.setattr(enhance_module, "INSTRUCTION_VERSION", "next")
    assert cache_key(key_parts(identity, FOX, 120, 256)) != base
