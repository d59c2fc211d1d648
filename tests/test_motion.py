"""wan.core.motion: sign conventions, intensity, trend, span rule and phrases of camera motion."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest

from wan.core.motion import (
    AXES,
    INTENSITY_LEVELS,
    INTENSITY_THRESHOLDS,
    LOG_SCALE_PER_Z_UNIT,
    MODES,
    ClipMotion,
    analyse_motion,
    positive_meaning,
)
from wan.errors import PlanError, WanError

FRAMES = 100
WIDTH = 512


def schedules(**values) -> dict[str, np.ndarray]:
    """Per-frame arrays of FRAMES frames; a scalar becomes a constant schedule."""
    return {
        key: np.full(FRAMES, float(v)) if np.isscalar(v) else np.asarray(v, dtype=np.float64)
        for key, v in values.items()
    }


def axis(motion: ClipMotion, key: str):
    return next(a for a in motion.axes if a.key == key)


SIGNS = [
    # mode, key, value, movement, direction, words in the phrase
    ("2D", "translation_x", 1.0, "pan", "left", "pans left"),
    ("2D", "translation_x", -1.0, "pan", "right", "pans right"),
    ("2D", "translation_y", 1.0, "pedestal", "up", "moves up"),
    ("2D", "translation_y", -1.0, "pedestal", "down", "moves down"),
    ("2D", "zoom", 1.01, "zoom", "in", "zooms in"),
    ("2D", "zoom", 0.99, "zoom", "out", "zooms out"),
    ("2D", "angle", 1.0, "roll", "clockwise", "rolls clockwise"),
    ("2D", "angle", -1.0, "roll", "counter-clockwise", "rolls counter-clockwise"),
    ("3D", "translation_x", 1.0, "truck", "right", "trucks right"),
    ("3D", "translation_x", -1.0, "truck", "left", "trucks left"),
    ("3D", "translation_y", 1.0, "pedestal", "up", "moves up"),
    ("3D", "translation_y", -1.0, "pedestal", "down", "moves down"),
    ("3D", "translation_z", 1.0, "dolly", "forward", "pushes in"),
    ("3D", "translation_z", -1.0, "dolly", "backward", "pulls out"),
    ("3D", "rotation_3d_x", 1.0, "tilt", "up", "tilts up"),
    ("3D", "rotation_3d_x", -1.0, "tilt", "down", "tilts down"),
    ("3D", "rotation_3d_y", 1.0, "pan", "right", "pans right"),
    ("3D", "rotation_3d_y", -1.0, "pan", "left", "pans left"),
    ("3D", "rotation_3d_z", 1.0, "roll", "clockwise", "rolls clockwise"),
    ("3D", "rotation_3d_z", -1.0, "roll", "counter-clockwise", "rolls counter-clockwise"),
]


@pytest.mark.parametrize(("mode", "key", "value", "movement", "direction", "words"), SIGNS)
def test_sign_conventions(mode, key, value, movement, direction, words):
    motion = analyse_motion(schedules(**{key: value}), mode, 0, 80, WIDTH)
    moved = axis(motion, key)
    assert (moved.movement, moved.direction, moved.trend) == (movement, direction, "steady")
    assert moved.intensity != "still"
    assert [a.key for a in motion.moving] == [key]
    assert motion.phrase.startswith("the camera ")
    assert words in motion.phrase
    if direction == "clockwise":
        assert "counter-clockwise" not in motion.phrase


def test_positive_meaning_labels():
    assert positive_meaning("2D", "translation_x") == "pans left"
    assert positive_meaning("2D", "translation_y") == "moves up"
    assert positive_meaning("2D", "zoom") == "zooms in"
    assert positive_meaning("3D", "rotation_3d_y") == "pans right"
    assert positive_meaning("3D", "translation_z") == "pushes in"


@pytest.mark.parametrize("mode", MODES)
def test_still_and_missing_keys_are_a_static_camera(mode):
    neutral = schedules(translation_x=0, translation_y=0, zoom=1, angle=0, translation_z=0)
    for values in (neutral, {}):
        motion = analyse_motion(values, mode, 0, 50, WIDTH)
        assert motion.phrase == "static camera"
        assert motion.moving == ()
        assert [a.key for a in motion.axes] == list(AXES[mode])
        assert {a.intensity for a in motion.axes} == {"still"}
        assert {a.direction for a in motion.axes} == {""}


def test_2d_ignores_3d_keys_and_3d_ignores_2d_keys():
    only_3d = schedules(translation_z=5, rotation_3d_x=2, rotation_3d_y=2, rotation_3d_z=2)
    assert analyse_motion(only_3d, "2D", 0, 80, WIDTH).phrase == "static camera"
    only_2d = schedules(zoom=1.05, angle=3)
    assert analyse_motion(only_2d, "3D", 0, 80, WIDTH).phrase == "static camera"
    assert [a.key for a in analyse_motion(only_2d, "3D", 0, 80, WIDTH).axes] == list(AXES["3D"])


def test_constant_velocity_is_a_steady_move_not_a_still_camera():
    motion = analyse_motion(schedules(translation_x=2), "2D", 0, 80, WIDTH)
    pan = axis(motion, "translation_x")
    assert (pan.net, pan.peak, pan.trend) == (2.0, 2.0, "steady")
    assert pan.total == pytest.approx(80 * 2 / WIDTH)
    assert pan.intensity == "moderate"
    assert motion.phrase == "the camera steadily pans left"


# Per-frame value that gives a whole-span `total` of t over n moving frames.
VALUE_FOR_TOTAL = {
    ("2D", "translation_x"): lambda t, n: t * WIDTH / n,
    ("3D", "translation_y"): lambda t, n: t * 512 / 1.8 / n,
    ("2D", "angle"): lambda t, n: t / n,
    ("3D", "rotation_3d_y"): lambda t, n: t / n,
    ("2D", "zoom"): lambda t, n: (1 + t) ** (1 / n),
    ("3D", "translation_z"): lambda t, n: math.log(1 + t) / n / LOG_SCALE_PER_Z_UNIT,
}
KIND = {"translation_x": "translation", "translation_y": "translation", "angle": "rotation"}
KIND |= {"rotation_3d_y": "rotation", "zoom": "scale", "translation_z": "scale"}


@pytest.mark.parametrize(("mode", "key"), list(VALUE_FOR_TOTAL))
@pytest.mark.parametrize("level", range(4))
def test_intensity_boundaries(mode, key, level):
    bound = INTENSITY_THRESHOLDS[KIND[key]][level]
    for factor, expected in ((0.98, INTENSITY_LEVELS[level]), (1.02, INTENSITY_LEVELS[level + 1])):
        value = VALUE_FOR_TOTAL[mode, key](bound * factor, 40)
        moved = axis(analyse_motion(schedules(**{key: value}), mode, 10, 50, WIDTH), key)
        assert moved.total == pytest.approx(bound * factor)
        assert moved.intensity == expected, (key, bound, factor)


def test_zoom_out_total_is_the_scale_change():
    moved = axis(analyse_motion(schedules(zoom=0.99), "2D", 0, 40, WIDTH), "zoom")
    assert moved.total == pytest.approx(1 - 0.99**40)
    assert moved.net == pytest.approx(0.99)


@pytest.mark.parametrize(
    ("values", "trend"),
    [
        (np.linspace(0.5, 3.0, FRAMES), "speeds up"),
        (np.linspace(3.0, 0.5, FRAMES), "slows down"),
        (np.linspace(2.0, 2.5, FRAMES), "steady"),
        (np.where(np.arange(FRAMES) < 50, 2.0, -2.0), "reverses"),
        (np.where(np.arange(FRAMES) < 95, 2.0, -2.0), "steady"),  # a 5% wobble is not a reversal
        (3.0 * np.sin(np.arange(FRAMES) / 20), "reverses"),  # there and back: one turn
        (3.0 * np.sin(np.arange(FRAMES) / 8), "oscillates"),  # turns at 25, 50, 75
    ],
)
def test_trend(values, trend):
    moved = axis(
        analyse_motion(schedules(translation_x=values), "2D", 0, 99, WIDTH), "translation_x"
    )
    assert moved.trend == trend


def test_trend_words_in_the_phrase():
    faster = analyse_motion(
        schedules(translation_x=np.linspace(-0.3, -1.5, FRAMES)), "3D", 0, 80, WIDTH
    )
    assert faster.phrase == "the camera trucks left, speeding up"
    slower = analyse_motion(
        schedules(rotation_3d_y=np.linspace(1, 0.1, FRAMES)), "3D", 0, 80, WIDTH
    )
    assert slower.phrase.endswith("pans right, slowing down")
    turning = np.where(np.arange(FRAMES) < 40, 1.0, -1.0)
    back = analyse_motion(schedules(translation_z=turning), "3D", 0, 80, WIDTH)
    assert axis(back, "translation_z").direction == "forward"  # where it starts
    assert back.phrase == "the camera quickly pushes in and then pulls out"
    pan = analyse_motion(schedules(translation_x=-turning), "2D", 0, 80, WIDTH)
    assert pan.phrase == "the camera pans right and then left"


def test_one_frame_span_uses_that_frame():
    values = np.zeros(FRAMES)
    values[5] = 100.0
    one = analyse_motion(schedules(translation_x=values), "2D", 5, 5, WIDTH)
    assert axis(one, "translation_x").total == pytest.approx(100 / WIDTH)
    assert one.phrase == "the camera steadily pans left"
    # A longer span counts the motion INTO its frames after the first, so frame 5 counts for
    # 4..5 but not for 5..6.
    assert analyse_motion(schedules(translation_x=values), "2D", 4, 5, WIDTH).moving
    assert analyse_motion(schedules(translation_x=values), "2D", 5, 6, WIDTH).moving == ()
    last = analyse_motion(schedules(translation_x=values), "2D", FRAMES - 1, FRAMES - 1, WIDTH)
    assert last.phrase == "static camera"


def test_to_dict_is_json_ready():
    motion = analyse_motion(
        schedules(zoom=1.02, angle=np.linspace(-1, 1, FRAMES)), "2D", 0, 99, WIDTH
    )
    data = json.loads(json.dumps(motion.to_dict()))
    assert (data["mode"], data["start_frame"], data["end_frame"]) == ("2D", 0, 99)
    assert data["phrase"] == motion.phrase
    assert list(data["axes"]) == list(AXES["2D"])
    assert data["axes"]["zoom"]["direction"] == "in"
    assert set(data["axes"]["angle"]) == {
        "key", "movement", "direction", "net", "peak", "total", "intensity", "trend", "period"
    }  # fmt: skip
    assert data["orbits"] == []


def test_huge_zoom_stays_finite_and_json_ready():
    motion = analyse_motion({"zoom": np.full(10_000, 1.5)}, "2D", 0, 9_999, WIDTH)
    assert math.isfinite(axis(motion, "zoom").total)
    json.dumps(motion.to_dict(), allow_nan=False)


def test_phrase_orders_movements_strongest_first_and_keeps_three():
    values = schedules(
        translation_z=0.05,  # scale change ~0.02 of a 0.40 strong bound: 0.05
        rotation_3d_y=0.1,  # 8 degrees of 45: 0.18, gentle
        translation_x=3.0,  # 0.84 of the image width: strong
        rotation_3d_z=0.02,  # 1.6 degrees: subtle, but weaker than the dolly
    )
    motion = analyse_motion(values, "3D", 0, 80, WIDTH)
    assert [a.key for a in motion.moving] == [
        "translation_x", "rotation_3d_y", "translation_z", "rotation_3d_z"
    ]  # fmt: skip
    assert motion.phrase == "the camera quickly trucks right while panning right and pushing in"
    slow = analyse_motion(schedules(rotation_3d_y=0.1, translation_z=0.05), "3D", 0, 80, WIDTH)
    assert slow.phrase == "the camera slowly pans right while pushing in"
    zoom = analyse_motion(schedules(zoom=1.01, angle=0.1), "2D", 0, 80, WIDTH)
    assert zoom.phrase == "the camera quickly zooms in while rolling clockwise"


def test_phrases_are_well_formed_for_random_schedules():
    rng = np.random.default_rng(7)
    for _ in range(200):
        mode = MODES[rng.integers(2)]
        values = {}
        for key in AXES[mode]:
            kind = rng.choice(["still", "constant", "ramp", "wave"])
            scale = 0.01 if key == "zoom" else rng.choice([0.01, 0.3, 3.0])
            base = {"still": 0, "constant": 1, "ramp": np.linspace(0, 2, FRAMES)}.get(kind)
            wave = np.sin(np.arange(FRAMES) / rng.uniform(2, 20))
            curve = wave if base is None else base * np.ones(FRAMES)
            values[key] = (1.0 if key == "zoom" else 0.0) + scale * rng.choice([-1, 1]) * curve
        phrase = analyse_motion(values, mode, 0, int(rng.integers(0, FRAMES)), WIDTH).phrase
        assert phrase == "static camera" or phrase.startswith("the camera ")
        assert "  " not in phrase and ",," not in phrase and " ," not in phrase
        assert phrase.isascii() and not phrase.endswith((",", " "))
        assert phrase.count(" while ") <= 1


@pytest.mark.parametrize("mode", ["2d", "", "Interpolation"])
def test_bad_mode_is_a_plan_error(mode):
    with pytest.raises(PlanError, match="'2D', '3D'") as error:
        analyse_motion({}, mode, 0, 10, WIDTH)
    assert repr(mode) in str(error.value)
    assert isinstance(error.value, WanError)


@pytest.mark.parametrize(("start", "end"), [(10, 5), (-1, 5), (0, FRAMES), (FRAMES, FRAMES)])
def test_bad_span_is_a_plan_error(start, end):
    with pytest.raises(PlanError, match=re.escape(f"{start}..{end}")):
        analyse_motion(schedules(translation_x=1), "2D", start, end, WIDTH)


def test_unusable_values_are_plan_errors():
    zoom = np.ones(FRAMES)
    zoom[7] = 0.0
    with pytest.raises(PlanError, match=r"'zoom'.*frame 7"):
        analyse_motion({"zoom": zoom}, "2D", 0, 20, WIDTH)
    angle = np.zeros(FRAMES)
    angle[3] = np.nan
    with pytest.raises(PlanError, match=r"'angle'.*frame 3"):
        analyse_motion({"angle": angle}, "2D", 0, 20, WIDTH)
    with pytest.raises(PlanError, match="width"):
        analyse_motion({}, "2D", 0, 20, 0)


@pytest.mark.parametrize(
    ("mode", "key", "values"),
    [
        ("2D", "translation_x", 1e308),
        ("2D", "angle", -1e308),
        ("3D", "translation_z", 1e308),
        ("3D", "rotation_3d_y", np.tile([1e308, -1e308], FRAMES // 2)),
    ],
)
def test_values_whose_sum_overflows_are_plan_errors_not_infinity(mode, key, values):
    # The plan printed Infinity / NaN in motion.net and motion.total (found by the settings
    # fuzzer, issue 12): finite values whose movement adds up past the largest float.
    with pytest.raises(PlanError, match=rf"'{key}' moves too far to measure in frames 0\.\.20"):
        analyse_motion(schedules(**{key: values}), mode, 0, 20, WIDTH)


def test_large_values_that_add_up_to_a_number_still_plan():
    motion = analyse_motion(schedules(translation_x=1e300), "2D", 0, 20, WIDTH)
    assert axis(motion, "translation_x").intensity == "strong"
    json.dumps(motion.to_dict(), allow_nan=False)


# One word for 2D translation_y (issue 16): it slides the picture, content down for a positive
# value (tests/render/test_warp.py, SIGNS), no turn: "moves up" as in 3D, never "tilts".
def test_2d_translation_y_moves_the_camera_it_does_not_tilt():
    for value, words in ((2.0, "moves up"), (-2.0, "moves down")):
        phrase = analyse_motion(schedules(translation_y=value), "2D", 0, 80, WIDTH).phrase
        assert phrase == f"the camera steadily {words}"
    ramp = analyse_motion(schedules(translation_y=np.linspace(0, 2, FRAMES)), "2D", 0, 80, WIDTH)
    assert "tilt" not in ramp.phrase


T = np.arange(FRAMES)


def wave(period: float, amplitude: float = 1.0, phase: float = 0.0) -> np.ndarray:
    return amplitude * np.sin(2 * np.pi * T / period + phase)


@pytest.mark.parametrize(
    ("mode", "key", "values", "span", "words", "period"),
    [
        # A 10-frame sway swinging twice in a 20-frame clip: read before as "pans right and
        # then left".
        ("2D", "translation_x", wave(10, 4), 20, "sways left and right", 10),
        ("3D", "translation_x", wave(24, 2), 80, "sways left and right", 24),
        ("3D", "rotation_3d_y", wave(16, 0.5), 80, "sways left and right", 16),
        # A pulsing zoom: read before as "zooms in, slowing down" or similar.
        ("2D", "zoom", 1 + wave(20, 0.01), 80, "pulses in and out", 20),
        ("3D", "translation_z", wave(30, 3), 80, "pulses in and out", 30),
        ("2D", "angle", wave(16, 0.5), 80, "rocks from side to side", 16),
        ("3D", "rotation_3d_z", wave(16, 0.5), 80, "rocks from side to side", 16),
        ("2D", "translation_y", wave(30, 3), 80, "bobs up and down", 30),
        ("3D", "translation_y", wave(30, 3), 80, "bobs up and down", 30),
        ("3D", "rotation_3d_x", wave(30, 0.5), 80, "nods up and down", 30),
    ],
)
def test_oscillations_are_named_with_their_period(mode, key, values, span, words, period):
    motion = analyse_motion(schedules(**{key: values}), mode, 0, span, WIDTH)
    moved = axis(motion, key)
    assert moved.trend == "oscillates"
    assert moved.period == pytest.approx(period, abs=0.5)
    assert motion.phrase.startswith("the camera ") and motion.phrase.endswith(words)
    assert "and then" not in motion.phrase


def test_oscillation_needs_two_turns_and_ignores_small_wobbles():
    # One turn (there and back) is a reversal, not a sway.
    once = analyse_motion(schedules(translation_x=wave(60)), "2D", 0, 59, WIDTH)
    assert once.phrase.endswith("pans left and then right")
    assert axis(once, "translation_x").period == 0
    # There and back with a short tail the first way: still one turn.
    tail = np.where(T < 40, 2.0, -2.0)
    tail[75:78] = 0.5
    assert analyse_motion(schedules(translation_x=tail), "2D", 0, 80, WIDTH).phrase == (
        "the camera pans left and then right"
    )
    # A steady pan with a small ripple never turns: still a pan.
    ripple = analyse_motion(schedules(translation_x=2 + wave(8, 0.5)), "2D", 0, 80, WIDTH)
    assert ripple.phrase == "the camera steadily pans left"
    # An oscillating axis among others reads in the gerund.
    both = analyse_motion(
        schedules(translation_x=3.0, zoom=1 + wave(20, 0.002)), "2D", 0, 80, WIDTH
    )
    assert both.phrase == "the camera quickly pans left while pulsing in and out"


@pytest.mark.parametrize(
    ("values", "phrase"),
    [
        # Truck right, pan left: the camera travels right around what it looks at.
        ({"translation_x": 1.0, "rotation_3d_y": -0.3}, "the camera steadily orbits right"),
        ({"translation_x": -1.0, "rotation_3d_y": 0.3}, "the camera steadily orbits left"),
        # One as much as 3 times the other still holds a subject at some depth.
        ({"translation_x": 1.0, "rotation_3d_y": -0.9}, "the camera quickly orbits right"),
        ({"translation_y": 1.0, "rotation_3d_x": -0.3}, "the camera steadily orbits up"),
        ({"translation_y": -1.0, "rotation_3d_x": 0.3}, "the camera steadily orbits down"),
        (
            {"translation_x": wave(30, 3), "rotation_3d_y": wave(30, -1)},
            "the camera quickly orbits left and right",
        ),
    ],
)
def test_a_truck_with_an_opposite_pan_is_an_orbit(values, phrase):
    motion = analyse_motion(schedules(**values), "3D", 0, 80, WIDTH)
    assert motion.phrase == phrase + " around the subject"
    (orbit,) = motion.orbits
    assert set(orbit.keys) == set(values) and orbit.cancel <= 0.6
    data = json.loads(json.dumps(motion.to_dict()))
    assert data["orbits"][0]["direction"] == orbit.direction
    assert {a.key for a in motion.moving} == set(values)  # each axis keeps its own numbers


def test_what_is_not_an_orbit():
    # Truck and pan the same way: the view sweeps, nothing is held.
    same = analyse_motion(schedules(translation_x=3.0, rotation_3d_y=0.1), "3D", 0, 80, WIDTH)
    assert same.phrase == "the camera quickly trucks right while panning right"
    assert same.orbits == ()
    # A pan far too strong for the truck (x10 in image terms): the subject slides away.
    pan = analyse_motion(schedules(translation_x=0.2, rotation_3d_y=-0.6), "3D", 0, 80, WIDTH)
    assert pan.orbits == () and "orbit" not in pan.phrase
    # 2D has no orbit: one affine map of a flat picture holds no subject while the rest turns.
    flat = analyse_motion(schedules(translation_x=4.0, angle=-1.0), "2D", 0, 80, WIDTH)
    assert flat.orbits == () and "orbit" not in flat.phrase
    # An orbit among other moves keeps its place by strength.
    push = analyse_motion(
        schedules(translation_x=-2.0, rotation_3d_y=0.5, translation_z=1.0), "3D", 0, 80, WIDTH
    )
    assert push.phrase == "the camera quickly orbits left around the subject while pushing in"
