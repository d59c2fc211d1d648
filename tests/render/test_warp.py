"""Deforum's 2D motion per model frame (unit conversion, sampling) and the signs of every camera
motion in the camera guide."""

from __future__ import annotations

import math

import numpy as np
import pytest

from wan.errors import ScheduleError
from wan.render.camera_guide import camera_guide
from wan.render.deforum_warp import WarpSettings
from wan.render.warp import WarpStep, model_steps

W, H = 128, 96
FRAMES = 40  # length of the test schedules


def _constant(**values: float) -> dict[str, np.ndarray]:
    return {key: np.full(FRAMES, float(value)) for key, value in values.items()}


def _one_step(size=(W, H), fps=16.0, model_fps=16.0, **values: float) -> WarpStep:
    (step,) = model_steps(_constant(**values), 0, 2, fps, model_fps, size, size)
    return step


def _guided(frame: np.ndarray, mode: str, **values: float) -> np.ndarray:
    """`frame` one model frame along the camera guide (Deforum's own warp, no depth)."""
    settings = WarpSettings(mode=mode, width=W, height=H)
    return camera_guide(frame, _constant(**values), settings, 0, 2, 16, 16).frames[1]


# Units and scaling --------------------------------------------------------------------------


def test_2d_values_scale_with_fps_and_size() -> None:
    schedules = _constant(translation_x=4, translation_y=4, zoom=1.01, angle=2)
    schedules |= _constant(transform_center_x=0.25, transform_center_y=0.75)
    steps = model_steps(schedules, 0, 5, 30, 16, (512, 512), (832, 480))
    assert len(steps) == 4
    step = steps[0]
    assert step.dx == pytest.approx(4 * 30 / 16 * (832 / 512))
    assert step.dy == pytest.approx(4 * 30 / 16 * (480 / 512))
    assert step.zoom == pytest.approx(1.01 ** (30 / 16))
    assert step.angle == pytest.approx(2 * 30 / 16)
    assert step.center == pytest.approx((0.25 * 832, 0.75 * 480))
    assert all(s == step for s in steps)


def test_velocities_are_sampled_at_each_model_frames_deforum_position() -> None:
    ramp = {"translation_x": np.arange(24, dtype=float)}  # value f at Deforum frame f
    steps = model_steps(ramp, 10, 9, 30, 16, (W, H), (W, H))
    r = 30 / 16
    positions = [min(10 + m * r, 23) for m in range(1, 9)]  # held past the schedule's end
    assert [s.dx for s in steps] == pytest.approx([p * r for p in positions])


def test_3d_keys_do_not_move_2d_and_missing_schedules_are_still() -> None:
    every = _constant(translation_x=3, translation_z=10, rotation_3d_y=5, zoom=1.1, angle=4)
    flat = model_steps(every, 0, 2, 16, 16, (W, H), (W, H))[0]
    assert (flat.dx, flat.zoom, flat.angle) == pytest.approx((3, 1.1, 4))
    still = model_steps({}, 0, 3, 30, 16, (W, H), (W, H))
    assert still == (WarpStep(0.0, 0.0, 1.0, 0.0, (W / 2, H / 2)),) * 2
    assert model_steps({}, 0, 1, 30, 16, (W, H), (W, H)) == ()


def test_bad_input() -> None:
    with pytest.raises(ScheduleError, match="zoom"):
        model_steps(_constant(zoom=np.inf), 0, 3, 16, 16, (W, H), (W, H))
    collapsed = model_steps(_constant(zoom=0), 0, 3, 16, 16, (W, H), (W, H))  # read as 1
    assert [step.zoom for step in collapsed] == [1.0, 1.0]
    nan_late = {"angle": np.array([0.0] * 30 + [np.nan] * 10)}
    model_steps(nan_late, 0, 5, 16, 16, (W, H), (W, H))  # the NaN lies beyond this clip
    with pytest.raises(ScheduleError, match="frame 30"):
        model_steps(nan_late, 28, 5, 16, 16, (W, H), (W, H))
    with pytest.raises(ValueError):
        model_steps({}, 0, 3, 0, 16, (W, H), (W, H))


# Signs: the image content moves as docs/FACTS.md section 1 says -----------------------------------


def _marker(x: float, y: float) -> np.ndarray:
    """A bright, anti-aliased disc at (x, y) on a dark frame."""
    ys, xs = np.indices((H, W), dtype=np.float64)
    level = np.clip(6.5 - np.hypot(xs - x, ys - y), 0, 1)
    return np.repeat((20 + 220 * level)[..., None], 3, axis=2).round().astype(np.uint8)


def _centroid_and_size(frame: np.ndarray) -> tuple[float, float, float]:
    weight = np.clip(frame[..., 0].astype(np.float64) - 20, 0, None)  # bicubic undershoots
    ys, xs = np.indices(weight.shape)
    total = weight.sum()
    x, y = (weight * xs).sum() / total, (weight * ys).sum() / total
    spread = math.sqrt((weight * ((xs - x) ** 2 + (ys - y) ** 2)).sum() / total)
    return x, y, spread


SIGNS = [
    ("2D", "translation_x", 4, "right"),
    ("2D", "translation_y", 4, "down"),
    ("2D", "zoom", 1.1, "expands"),
    ("2D", "angle", 10, "counter-clockwise"),
    ("3D", "translation_x", 8, "left"),
    ("3D", "translation_y", 8, "down"),
    ("3D", "translation_z", 20, "expands"),
    ("3D", "rotation_3d_x", 2, "down"),
    ("3D", "rotation_3d_y", 2, "left"),
    ("3D", "rotation_3d_z", 10, "counter-clockwise"),
]


@pytest.mark.parametrize("mode, key, value, moves", SIGNS)
@pytest.mark.parametrize("sign", [1, -1])
def test_content_moves_the_documented_way(mode, key, value, moves, sign) -> None:
    if key == "zoom":
        value = value if sign > 0 else 1 / value
    else:
        value *= sign
    # The marker sits right of the centre on the horizontal centre line.
    cx, cy = W / 2, H / 2
    before = _marker(cx + 30, cy)
    x0, y0, size0 = _centroid_and_size(before)
    x1, y1, size1 = _centroid_and_size(_guided(before, mode, **{key: value}))
    dx, dy, grow = (x1 - x0) * sign, (y1 - y0) * sign, (size1 / size0 - 1) * sign
    across = 0.1 if mode == "2D" else 0.25  # 3D perspective bends a move a little
    expected = {
        "right": dx > 1 and abs(dy) < across,
        "left": dx < -1 and abs(dy) < across,
        "down": dy > 1 and abs(dx) < across,
        # Scaling about the centre: the marker moves outward and grows.
        "expands": dx > 1 and grow > 0.05 and abs(dy) < across,
        # Counter-clockwise on screen (y down): a point right of the centre moves up.
        "counter-clockwise": dy < -1,
    }[moves]
    assert expected, (
        f"{mode} {key}={value}: moved ({x1 - x0:+.2f}, {y1 - y0:+.2f}) px, size "
        f"x{size1 / size0:.3f}; content should move {moves} for a positive value"
    )


def test_transform_center_is_the_fixed_point_of_2d_zoom() -> None:
    before = _marker(W * 0.25, H * 0.25)
    x0, y0, s0 = _centroid_and_size(before)
    moved = _guided(before, "2D", zoom=1.2, transform_center_x=0.25, transform_center_y=0.25)
    x1, y1, s1 = _centroid_and_size(moved)
    assert (x1, y1) == pytest.approx((x0, y0), abs=0.2) and s1 > 1.1 * s0


def test_matrix_translates_first_then_scales_about_the_centre() -> None:
    """Deforum builds rot_mat @ trans_mat: a translation is scaled along with the image."""
    step = WarpStep(dx=10, dy=0, zoom=2, angle=0, center=(0, 0))
    assert step.matrix() @ np.array([1.0, 0.0, 1.0]) == pytest.approx([22, 0, 1])
