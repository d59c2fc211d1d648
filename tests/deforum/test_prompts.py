import pytest

from wan.core.deforum import prompts as prompts_module
from wan.core.deforum.prompts import (
    clip_prompt,
    merge_prompt,
    prompt_for_frame,
    prompt_keys,
    split_prompt,
)
from wan.core.deforum.settings import parse_settings
from wan.errors import SettingsError


def settings(prompts, **extra):
    return parse_settings({"max_frames": 100, "prompts": prompts, **extra})


def test_merge_as_deforum_does():
    s = settings(
        {"0": "a cat"}, animation_prompts_positive="style", animation_prompts_negative="bad"
    )
    assert merge_prompt(s, "a cat") == "style a cat --neg bad"
    assert merge_prompt(s, "a cat --neg dog") == "style a cat --neg dog  bad"


def test_negative_field_loses_stray_neg_marker():
    s = settings({"0": "a"}, animation_prompts_negative="--neg blurry")
    assert prompt_for_frame(s, 0).negative == "blurry"


def test_step_function_and_first_prompt_covers_earlier_frames():
    s = settings({"10": "b", "50": "c"}, animation_prompts_negative="")
    assert [prompt_for_frame(s, f).positive for f in (0, 9, 10, 49, 50, 99)] == [
        "b", "b", "b", "b", "c", "c",
    ]  # fmt: skip


def test_expression_keys_with_max_f():
    s = settings({"0": "a", "max_f/2": "b", "max_f": "c"})
    assert [k.frame for k in prompt_keys(s)] == [0, 49, 99]


def test_keys_outside_are_ignored_unless_nothing_is_inside():
    assert [k.key for k in prompt_keys(settings({"0": "a", "500": "b", "-3": "c"}))] == ["0"]
    only_late = prompt_keys(settings({"500": "late"}))
    assert len(only_late) == 1 and only_late[0].frame == 0 and "late" in only_late[0].text


def test_duplicate_frames_last_wins():
    s = settings({"10": "first", "max_f-89": "second"})
    assert prompt_for_frame(s, 10).positive == "second"


def test_backticks_are_evaluated_per_frame():
    text = "a (cat:`1+0.5*sin(t/10)`) at `max_f`"
    assert split_prompt(text, 0, 100).positive == "a (cat:1.0) at 99.0"
    assert split_prompt(text, 10, 100).positive.startswith("a (cat:1.42073549240394")


def test_backtick_inside_sqrt_is_not_rewritten():
    # Deforum once replaced every 't' with the frame number, breaking sqrt(); we do not.
    assert split_prompt("x `sqrt(t)`", 16, 100).positive == "x 4.0"


def test_bad_backtick_is_a_clear_error():
    with pytest.raises(SettingsError, match="prompt expression `foo\\(t\\)` at frame 3"):
        split_prompt("x `foo(t)`", 3, 10)


def test_bad_key_is_a_clear_error():
    with pytest.raises(SettingsError, match="prompt key 'later'"):
        prompt_keys(settings({"0": "a", "later": "b"}))
    with pytest.raises(SettingsError, match=r"prompt key '2\.5'"):
        prompt_keys(settings({"0": "a", "2.5": "b"}))


def test_split_tidies_whitespace():
    assert split_prompt("  a   cat ,  --neg  dog  ", 0, 1) == split_prompt("a cat --neg dog", 0, 1)


def test_backtick_numexpr_cannot_compile_is_a_one_line_error():
    # numexpr raised NotImplementedError ("couldn't find matching opcode for 'round_ddi'").
    with pytest.raises(SettingsError) as info:
        split_prompt("(fur:`round(1+t/40,2)`)", 7, 100, key="0")
    message = str(info.value)
    assert message.startswith("prompts['0']: prompt expression `round(1+t/40,2)` at frame 7")
    assert "floor(x*100+0.5)/100" in message and "\n" not in message


def test_prompt_for_frame_names_the_key_of_a_bad_backtick():
    s = settings({"0": "a", "50": "b `sum(t)*prod(t)`"})  # numexpr's RuntimeError
    assert prompt_for_frame(s, 49).positive.startswith("a")
    with pytest.raises(SettingsError, match=r"prompts\['50'\]: .* at frame 60 "):
        prompt_for_frame(s, 60)


@pytest.mark.parametrize(
    "expression",
    ["10**400", "1j", "sin(t, t)", "t and 1", "1.5%0", "+".join(["t"] * 5000), "-" * 100000 + "t"],
)
def test_every_numexpr_failure_in_a_backtick_is_a_settings_error(expression):
    with pytest.raises(SettingsError) as info:
        split_prompt(f"x `{expression}`", 3, 10)
    assert "at frame 3" in str(info.value) and "\n" not in str(info.value)


def test_a_prompt_key_numexpr_cannot_compile_is_a_settings_error():
    with pytest.raises(SettingsError, match=r"prompt key 'round\(max_f,1\)'.*floor"):
        prompt_keys(settings({"0": "a", "round(max_f,1)": "b"}))


@pytest.mark.parametrize("expression", ["-", "+"])
def test_a_backtick_holding_a_lone_sign_is_a_settings_error(expression):
    # Deforum's number check passes a lone sign; float() then raised a ValueError (issue 12).
    with pytest.raises(SettingsError, match=r"prompts\['0'\]: .* at frame 3 .*sign without"):
        split_prompt(f"x `{expression}`", 3, 10, key="0")


def test_a_repeated_backtick_is_evaluated_once(monkeypatch):
    # 25,000 copies of `t` in one prompt took seconds per clip, times every clip (issue 12).
    calls = []
    real = prompts_module.evaluate
    monkeypatch.setattr(prompts_module, "evaluate", lambda *a: calls.append(a[0]) or real(*a))
    assert split_prompt("a `t/2` " * 1000 + "b `t*2`", 4, 10).positive.endswith("2.0 b 8.0")
    assert calls == ["t/2", "t*2"]


ALTERNATING = "(cat:`where(floor(t/5)%2 == 0, 1.2, 0.4)`)"  # 1.2 for 5 frames, 0.4 for 5, ...


def test_a_clip_carries_the_mean_of_a_weight_over_its_frames():
    frames = range(60)
    assert clip_prompt(ALTERNATING, frames, 100).positive == "(cat:0.8)"  # 6 x 5 frames each
    # a single frame, or the start frame as before, would read either extreme
    assert split_prompt(ALTERNATING, 0, 100).positive == "(cat:1.2)"
    assert split_prompt(ALTERNATING, 5, 100).positive == "(cat:0.4)"
    # a ramp's mean is its value at the middle: t/100 over frames 10..50 is 0.3 at frame 30
    assert clip_prompt("x `t/100`", range(10, 51), 100).positive == "x 0.3"
    assert clip_prompt("x `t/100`", range(10, 51), 100) == split_prompt("x `t/100`", 30, 100)


def test_a_weight_that_does_not_change_is_written_as_deforum_writes_it():
    assert clip_prompt("(a:`0.1*3`)", range(40), 100).positive == "(a:0.30000000000000004)"
    assert clip_prompt("(a:`max_f/99`) --neg (b:`1.5`)", range(40), 100) == split_prompt(
        "(a:`max_f/99`) --neg (b:`1.5`)", 7, 100
    )
    assert clip_prompt(ALTERNATING, range(5, 10), 100).positive == "(cat:0.4)"


def test_a_changing_weight_is_rounded_to_3_decimals_never_minus_zero():
    assert clip_prompt("(a:`t/3`)", [0, 1], 100).positive == "(a:0.167)"
    assert clip_prompt("(a:`(t-1)/10000`)", [0, 1, 2], 100).positive == "(a:0.0)"  # mean 0
    assert clip_prompt("(a:`(t-1.5)/10000`)", [0, 1, 2], 100).positive == "(a:0.0)"  # -1e-4
    assert clip_prompt("--neg (b:`t`)", range(4), 100).negative == "(b:1.5)"


def test_a_bad_expression_in_a_clip_names_the_key_and_the_clip_s_first_frame():
    with pytest.raises(SettingsError, match=r"prompts\['7'\]: prompt expression `t\+` at frame 12"):
        clip_prompt("a `t+`", range(12, 30), 100, key="7")
