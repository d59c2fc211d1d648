import json

import numpy as np
import pytest

from tests.conftest import FIXTURES
from wan.core.deforum.schedules import (
    evaluate_schedule,
    evaluate_schedules,
    evaluate_string_schedule,
    parse_keyframes,
)
from wan.errors import ScheduleError, WanError

CASES = json.loads((FIXTURES / "schedule_cases.json").read_text())["cases"]
VALUE_CASES = [c for c in CASES if "values" in c]
ERROR_CASES = [c for c in CASES if "error" in c]


def test_fixture_counts():
    assert len(CASES) == 435
    assert len(VALUE_CASES) == 426 and len(ERROR_CASES) == 9


@pytest.mark.parametrize("case", VALUE_CASES, ids=lambda c: c["schedule"][:40])
def test_values_equal_deforum_bit_for_bit(case):
    values = evaluate_schedule(case["schedule"], case["max_frames"], case["seed"], "x")
    assert values.dtype == np.float64
    assert values.tolist() == case["values"]


@pytest.mark.parametrize("case", ERROR_CASES, ids=lambda c: f"{c['error']}:{c['schedule']}")
def test_deforum_failures_become_clear_errors(case):
    with pytest.raises(ScheduleError) as info:
        evaluate_schedule(case["schedule"], case["max_frames"], case["seed"], "translation_x")
    error = info.value
    assert isinstance(error, WanError)
    assert error.setting == "translation_x"
    assert error.reason and isinstance(error.piece, str)
    assert "'translation_x'" in str(error)


@pytest.mark.parametrize(
    "schedule, reason",
    [
        ("3:(3), 6:(6)", "frame 0"),
        ("", "empty"),
        ("0:(foo)", "unknown name 'foo'"),
        ("0 (5)", "missing ':'"),
        ("0:(1,5)", "cannot contain a comma"),
        ("0:(1/0)", "division by zero"),
        ("0:(0), 1.5:(3)", "not a whole frame number"),
        ("0:(where(t>2, 1, 0))", "cannot contain a comma"),
        ("0:(0), 3:(1/(t-4))", "not a finite number at frame 4"),
        ("0:(sqrt(0-t))", "not a finite number at frame 1"),
        ("t:(1)", "unknown name 't'"),
    ],
)
def test_error_messages_name_the_reason(schedule, reason):
    with pytest.raises(ScheduleError, match=reason.replace("(", r"\(")):
        evaluate_schedule(schedule, 8, -1, "zoom")


def test_result_is_read_only():
    values = evaluate_schedule("0:(1)", 3)
    with pytest.raises(ValueError):
        values[0] = 2.0


def test_keys_outside_the_animation_are_dropped_and_last_duplicate_wins():
    assert evaluate_schedule("0:(1), -3:(9), 50:(9)", 4).tolist() == [1.0] * 4
    assert evaluate_schedule("0:(1), 2:(5), 2:(3)", 4).tolist() == [1.0, 2.0, 3.0, 3.0]


def test_expression_keys_use_max_f_and_seed():
    keys = parse_keyframes('0:(0), "max_f-1":(9), s%3:(1)', 10, seed=4)
    assert [k.frame for k in keys] == [0, 1, 8]  # max_f = 9


def test_expression_value_holds_until_next_key_and_interpolates_into_it():
    # frames 1-4 interpolate from 0 to sin(5), an expression value is a valid point
    values = evaluate_schedule("0:(0), 5:(sin(t)), 7:(2)", 9)
    assert values[5] == np.sin(5) and values[6] == np.sin(6)
    assert values[7] == 2.0 and values[8] == 2.0
    assert values[1] == pytest.approx(np.sin(5) / 5)


def test_single_frame_animation():
    assert evaluate_schedule("0:(3), 5:(1)", 1).tolist() == [3.0]


def test_string_schedule_forward_fills_unquoted_values():
    values = evaluate_string_schedule(
        '0: ("Euler a"), 2: ("DPM++ 2M")', 4, setting="sampler_schedule"
    )
    assert values == ("Euler a", "Euler a", "DPM++ 2M", "DPM++ 2M")


def test_evaluate_schedules_by_name():
    out = evaluate_schedules({"a": "0:(1)", "b": "0:(t)"}, 3, names=["b"])
    assert list(out) == ["b"] and out["b"].tolist() == [0.0, 1.0, 2.0]


def test_non_string_schedule_is_an_error():
    with pytest.raises(ScheduleError, match="must be a string"):
        parse_keyframes(5, 3, -1, "zoom")


def test_vectorised_equals_per_frame_numexpr_on_long_animation():
    import numexpr

    text = "0:(1.0025+0.002*sin(1.25*3.14*t/30)), 5000:(s%7 + t/3), 9000:(2)"
    values = evaluate_schedule(text, 10_000, seed=1234)
    for t in (0, 1, 4999, 5000, 8999):
        expression = "(1.0025+0.002*sin(1.25*3.14*t/30))" if t < 5000 else "(s%7 + t/3)"
        expected = float(
            numexpr.evaluate(expression, local_dict={"t": t, "s": 1234, "max_f": 9999})
        )
        assert values[t] == expected


@pytest.mark.parametrize(
    "schedule",
    [
        "0:(0), 4:(10**400)",  # OverflowError
        "0:(0), 4:(sum(t)*prod(t))",  # RuntimeError: reduction operations must occur last
        "0:(0), 4:(" + "+".join(["t"] * 5000) + ")",  # RecursionError
        "0:(0), 4:(" + "-" * 100000 + "t)",  # MemoryError
        "0:(0), 4:(arctan2(t))",  # NotImplementedError: no opcode (one argument of two)
        "0:(0), 4:(1j*t)",  # complex values
    ],
    ids=["overflow", "reduction", "recursion", "memory", "opcode", "complex"],
)
def test_every_numexpr_failure_names_setting_frame_and_piece(schedule):
    with pytest.raises(ScheduleError) as info:
        evaluate_schedule(schedule, 8, -1, "translation_x")
    message = str(info.value)
    assert message.startswith("'translation_x': ") and "\n" not in message
    assert info.value.frame == 4 and "at frame 4)" in message
    assert info.value.piece == schedule.split(", ")[1]


def test_expression_key_numexpr_failure_is_a_schedule_error():
    with pytest.raises(ScheduleError, match="too large"):
        evaluate_schedule("0:(0), 10**400:(1)", 8, -1, "zoom")


@pytest.mark.parametrize("value", ["(-)", "(+)", '"-"', "-"])
def test_a_lone_sign_value_is_a_schedule_error(value):
    # Deforum's number check passes a lone sign and float() then fails (a ValueError here too,
    # until the fuzzer found it: issue 12).
    with pytest.raises(ScheduleError, match="a sign without a number") as info:
        evaluate_schedule(f"0:(0), 4:{value}", 8, -1, "translation_y")
    assert info.value.setting == "translation_y" and info.value.frame == 4


def test_a_plain_number_past_the_largest_float_is_a_schedule_error():
    # float() reads 400 nines as inf, which reached the plan JSON as Infinity (issue 12).
    with pytest.raises(ScheduleError, match="too large for a number") as info:
        evaluate_schedule("0:(0), 2:(" + "9" * 400 + ")", 8, -1, "strength_schedule")
    assert info.value.frame == 2 and len(str(info.value)) < 300
    assert evaluate_schedule("0:(1" + "0" * 300 + ")", 2, -1, "x")[0] == 1e300
