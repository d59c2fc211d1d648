"""Issue 12, items 2, 3 and 9: the work one request may ask for is limited before any work
starts, each limit named with the variable that changes it; values that overflow are clear
errors; --json output is standard JSON; a huge input is never echoed whole."""

from __future__ import annotations

import json
import time

import pytest

from wan.cli.main import main
from wan.core.deforum.settings import parse_settings
from wan.core.plan import build_plan
from wan.errors import LimitError, OptionsError, PlanError, SettingsError, WanError
from wan.limits import DEFAULT_LIMITS, Limits, limits_from_env
from wan.models.identify import profile_for
from wan.options.render_options import parse_options
from wan.planning.plan_service import plan_for

SHORT = {"max_frames": 20, "prompts": {"0": "a cat"}}


def plan_cli(capsys, tmp_path, settings: dict, *flags: str) -> tuple[int, str, str]:
    """`python -m wan plan FILE --model tiny-t2v --json`: (exit code, stdout, stderr)."""
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({**SHORT, **settings}))
    code = main(["plan", str(path), "--model", "tiny-t2v", "--json", *flags])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        ({"max_frames": 10**9}, "setting 'max_frames' is 1000000000, past the limit of 20000"),
        ({"fps": 1e-9}, "is 304000000001, past the limit of 20000 frames"),  # model frames
        ({"fps": 1e300}, "setting 'fps' is 1e+300, past the limit of 240"),
        ({"W": 100000}, "setting 'W' is 100000, past the limit of 4096"),
    ],
)
def test_work_past_a_limit_is_refused_at_once(capsys, tmp_path, settings, says):
    """max_frames 10**9 or fps 1e-9 made `plan` compute until memory ran out."""
    started = time.monotonic()
    code, out, err = plan_cli(capsys, tmp_path, settings)
    assert time.monotonic() - started < 5
    assert code == 2 and out == "" and says in err, err
    assert err.count("\n") == 1 and "WAN_LIMIT_" in err


def test_a_limit_is_read_from_its_variable(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("WAN_LIMIT_MAX_FRAMES", "10")
    code, _, err = plan_cli(capsys, tmp_path, {})
    assert code == 2 and "past the limit of 10 frames" in err
    monkeypatch.setenv("WAN_LIMIT_MAX_FRAMES", "30")
    assert plan_cli(capsys, tmp_path, {})[0] == 0
    assert limits_from_env({}) is DEFAULT_LIMITS
    assert limits_from_env({"WAN_LIMIT_MAX_FPS": "60.5"}).max_fps == 60.5
    for bad in ("many", "0", "-3", "inf", "1.5e3x"):
        with pytest.raises(LimitError, match=r"WAN_LIMIT_MAX_STEPS=.* is not a positive whole"):
            limits_from_env({"WAN_LIMIT_MAX_STEPS": bad})


def test_the_limits_command_lists_them_and_their_variables(monkeypatch, capsys):
    monkeypatch.setenv("WAN_LIMIT_MAX_STEPS", "500")
    assert main(["limits", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data == {**DEFAULT_LIMITS.to_dict(), "max_steps": 500}
    assert main(["limits"]) == 0
    text = capsys.readouterr().out
    assert "max_steps         500" in text and "(default 200); WAN_LIMIT_MAX_STEPS" in text


def test_text_and_nesting_past_their_limits(monkeypatch):
    monkeypatch.setenv("WAN_LIMIT_MAX_TEXT_LENGTH", "50")
    with pytest.raises(SettingsError, match=r"prompts\.0: 'x.* is longer than the limit of 50"):
        parse_settings({"prompts": {"0": "x" * 51}})
    monkeypatch.setenv("WAN_LIMIT_MAX_JSON_DEPTH", "3")
    with pytest.raises(SettingsError, match="nested more than 3 levels deep, the limit"):
        parse_settings({"extra": [[[["deep"]]]]})


def test_planning_stops_at_its_time_limit():
    settings = parse_settings(SHORT)
    tight = Limits(max_plan_seconds=1e-9)
    said = r"planning took longer than the limit of 1e-09 seconds \(evaluating translation_x\)"
    with pytest.raises(LimitError, match=said):
        build_plan(settings, profile_for("tiny-t2v"), seed=1, limits=tight)


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"size": "100000x100000"}, "size 100000x100000: its larger side is 100000, past the"),
        ({"steps": 1000}, "steps is 1000, past the limit of 200 denoising steps"),
    ],
)
def test_options_past_a_limit(options, says):
    """size 100000x100000 was accepted (202) and then failed for RAM."""
    with pytest.raises(OptionsError) as caught:
        parse_options(options)
    assert says in str(caught.value)


def test_raising_the_steps_limit_lets_more_steps_through(monkeypatch):
    monkeypatch.setenv("WAN_LIMIT_MAX_STEPS", "1000")
    assert parse_options({"steps": 1000}).steps == 1000


def test_a_prompt_override_for_a_clip_the_plan_lacks_is_refused():
    options = {"model": "tiny-t2v", "prompt_overrides": {"99999999999999999999": "a fox"}}
    with pytest.raises(OptionsError, match=r"clip 99999999999999999999 is not a clip of this"):
        plan_for(parse_settings(SHORT), options)
    plan = plan_for(parse_settings(SHORT), {**options, "prompt_overrides": {"0": "a fox"}})
    assert plan.clips[0].index == 0


def test_motion_that_overflows_is_an_error_not_infinity_in_the_json(capsys, tmp_path):
    """`plan --json` printed non-standard `Infinity` for {"translation_x": 1e308}."""
    code, out, err = plan_cli(capsys, tmp_path, {"translation_x": 1e308})
    assert code == 2 and out == ""
    named = f"error: {tmp_path / 'settings.json'}: schedule 'translation_x' moves too far"
    assert err.startswith(f"{named} to measure in frames 0")
    assert err.count("\n") == 1  # numpy's overflow warning is not printed
    with pytest.raises(PlanError):
        plan_for(parse_settings({**SHORT, "translation_x": "0:(1e308)"}), {"model": "tiny-t2v"})
    code, out, _ = plan_cli(capsys, tmp_path, {"translation_x": 1e300})
    json.loads(out, parse_constant=lambda name: pytest.fail(f"{name} in the plan JSON"))


def test_a_huge_input_is_not_echoed_whole_in_errors(capsys, tmp_path):
    """19 messages repeated the whole 5,000-character input."""
    long = "1+" * 3000 + "1"  # too deep for numexpr
    for settings in (
        {"translation_x": f"0:({long})"},
        {"W": "9" * 5000 + "x"},
        {"prompts": {"0": "a cat", "1+1+": "x"}, "seed_behavior": "a" * 5000},
    ):
        code, _, err = plan_cli(capsys, tmp_path, settings)
        assert code == 2 and len(err) < 600, err


def test_out_naming_an_existing_file_says_so(capsys, tmp_path):
    settings = tmp_path / "s.json"
    settings.write_text(json.dumps(SHORT))
    existing = tmp_path / "notes.txt"
    existing.write_text("mine")
    code = main(["render", str(settings), "--model", "tiny-t2v", "--out", str(existing)])
    err = capsys.readouterr().err
    assert code == 2 and f"--out {existing}: this is a file, not a folder" in err, err
    assert existing.read_text() == "mine"


def test_every_limit_error_is_bad_input():
    assert issubclass(LimitError, WanError)


@pytest.mark.parametrize("key", ["seed_iter_N", "max_frames", "fps"])
def test_a_whole_number_past_any_float_is_a_clear_error(capsys, tmp_path, key):
    """Found by the settings fuzzer: {"seed_iter_N": 10**400} raised OverflowError."""
    code, out, err = plan_cli(capsys, tmp_path, {key: 10**400})
    assert code == 2 and out == "" and err.startswith("error: ") and len(err) < 300, err


def test_an_ignored_setting_past_any_float_is_only_noted(capsys, tmp_path):
    """{"cfg_scale_schedule": 10**400} raised OverflowError while the notes were made."""
    code, out, _ = plan_cli(capsys, tmp_path, {"cfg_scale_schedule": 10**400})
    assert code == 0 and "cfg_scale_schedule" in json.dumps(json.loads(out)["notes"])
