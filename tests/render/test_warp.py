"""Camera warps for motion-guided continuation: unit conversion, signs, composition."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from wan.core.motion import LOG_SCALE_PER_Z_UNIT
from wan.errors import ScheduleError, SettingsError
from wan.render.warp import WarpStep, init_video, model_steps, warp_frame

W, H = 128, 96
FRAMES = 40  # length of the test schedules


def _constant(**values: float) -> dict[str, np.ndarray]:
    return {key: np.full(FRAMES, float(value)) for key, value in values.items()}


def _one_step(mode: str, size=(W, H), fps=16.0, model_fps=16.0, **values: float) -> WarpStep:
    (step,) = model_steps(_constant(**values), mode, 0, 2, fps, model_fps, size, size)
    return step


# Units and scaling --------------------------------------------------------------------------


def test_2d_values_scale_with_fps_and_size() -> None:
    schedules = _constant(translation_x=4, translation_y=4, zoom=1.01, angle=2)
    schedules |= _constant(transform_center_x=0.25, transform_center_y=0.75)
    steps = model_steps(schedules, "2D", 0, 5, 30, 16, (512, 512), (832, 480))
    assert len(steps) == 4
    step = steps[0]
    assert step.dx == pytest.approx(4 * 30 / 16 * (832 / 512))
    assert step.dy == pytest.approx(4 * 30 / 16 * (480 / 512))
    assert step.zoom == pytest.approx(1.01 ** (30 / 16))
    assert step.angle == pytest.approx(2 * 30 / 16)
    assert step.center == pytest.approx((0.25 * 832, 0.75 * 480))
    assert all(s == step for s in steps)


def test_3d_values_scale_with_fps_and_model_width() -> None:
    schedules = _constant(translation_x=1, translation_y=1, translation_z=1.75)
    step = model_steps(schedules, "3D", 0, 2, 16, 16, (512, 512), (832, 480))[0]
    px_per_unit = 1.8 * 832 / 512  # 1.8 px per unit at 512 px wide, whatever Deforum's size
    assert (step.dx, step.dy) == pytest.approx((-px_per_unit, px_per_unit))
    assert step.zoom == pytest.approx(1.009)
    assert step.center == (416, 240)
    faster = model_steps(schedules, "3D", 0, 2, 30, 16, (768, 432), (832, 480))[0]
    assert faster.dx == pytest.approx(-px_per_unit * 30 / 16)
    assert faster.zoom == pytest.approx(math.exp(1.75 * LOG_SCALE_PER_Z_UNIT * 30 / 16))


def test_3d_rotations_are_shifts_of_angle_over_fov_of_the_width() -> None:
    schedules = _constant(rotation_3d_x=7, rotation_3d_y=7, rotation_3d_z=3)
    step = model_steps(schedules, "3D", 0, 2, 30, 16, (512, 512), (832, 480))[0]
    assert step.dx == pytest.approx(-7 / 70 * 832 * 30 / 16)
    assert step.dy == pytest.approx(7 / 70 * 832 * 30 / 16)
    assert step.angle == pytest.approx(3 * 30 / 16)
    # A narrower field of view magnifies: more pixels per degree and per unit.
    narrow = model_steps(
        schedules | _constant(fov_schedule=35, translation_x=1), "3D", 0, 2, 16, 16, (W, H), (W, H)
    )[0]
    expected = -(1.8 * W / 512 * math.tan(math.radians(35)) / math.tan(math.radians(17.5)))
    assert narrow.dx == pytest.approx(expected - 7 / 35 * W)


def test_velocities_are_sampled_at_each_model_frames_deforum_position() -> None:
    ramp = {"translation_x": np.arange(24, dtype=float)}  # value f at Deforum frame f
    steps = model_steps(ramp, "2D", 10, 9, 30, 16, (W, H), (W, H))
    r = 30 / 16
    positions = [min(10 + m * r, 23) for m in range(1, 9)]  # held past the schedule's end
    assert [s.dx for s in steps] == pytest.approx([p * r for p in positions])


def test_mode_keys_and_defaults() -> None:
    every = _constant(translation_x=3, translation_z=10, rotation_3d_y=5, zoom=1.1, angle=4)
    flat = model_steps(every, "2D", 0, 2, 16, 16, (W, H), (W, H))[0]
    assert (flat.dx, flat.zoom, flat.angle) == pytest.approx((3, 1.1, 4))  # 3D keys ignored
    deep = model_steps(every, "3D", 0, 2, 16, 16, (W, H), (W, H))[0]
    assert deep.angle == 0 and deep.zoom == pytest.approx(math.exp(10 * LOG_SCALE_PER_Z_UNIT))
    still = model_steps({}, "2D", 0, 3, 30, 16, (W, H), (W, H))
    assert still == (WarpStep(0.0, 0.0, 1.0, 0.0, (W / 2, H / 2)),) * 2
    assert model_steps({}, "3D", 0, 1, 30, 16, (W, H), (W, H)) == ()


def test_bad_input() -> None:
    with pytest.raises(SettingsError, match="Video Input"):
        model_steps({}, "Video Input", 0, 3, 16, 16, (W, H), (W, H))
    with pytest.raises(ScheduleError, match="zoom"):
        model_steps(_constant(zoom=0), "2D", 0, 3, 16, 16, (W, H), (W, H))
    with pytest.raises(ScheduleError, match="fov"):
        model_steps(_constant(fov_schedule=0), "3D", 0, 3, 16, 16, (W, H), (W, H))
    nan_late = {"angle": np.array([0.0] * 30 + [np.nan] * 10)}
    model_steps(nan_late, "2D", 0, 5, 16, 16, (W, H), (W, H))  # the NaN lies beyond this clip
    with pytest.raises(ScheduleError, match="frame 30"):
        model_steps(nan_late, "2D", 28, 5, 16, 16, (W, H), (W, H))
    with pytest.raises(ValueError):
        model_steps({}, "2D", 0, 3, 0, 16, (W, H), (W, H))
    with pytest.raises(ValueError):
        warp_frame(np.zeros((H, W), np.uint8), _one_step("2D"))
    with pytest.raises(ValueError):
        warp_frame(np.zeros((H, W, 3), np.uint8), _one_step("2D"), border="mirror")


# Signs: the image content moves as docs/FACTS.md section 1 says -----------------------------------


def _marker(x: float, y: float) -> np.ndarray:
    """A bright, anti-aliased disc at (x, y) on a dark frame."""
    ys, xs = np.indices((H, W), dtype=np.float64)
    level = np.clip(6.5 - np.hypot(xs - x, ys - y), 0, 1)
    return np.repeat((20 + 220 * level)[..., None], 3, axis=2).round().astype(np.uint8)


def _centroid_and_size(frame: np.ndarray) -> tuple[float, float, float]:
    weight = frame[..., 0].astype(np.float64) - 20
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
    x1, y1, size1 = _centroid_and_size(warp_frame(before, _one_step(mode, **{key: value})))
    dx, dy, grow = (x1 - x0) * sign, (y1 - y0) * sign, (size1 / size0 - 1) * sign
    expected = {
        "right": dx > 1 and abs(dy) < 0.1,
        "left": dx < -1 and abs(dy) < 0.1,
        "down": dy > 1 and abs(dx) < 0.1,
        # Scaling about the centre: the marker moves outward and grows.
        "expands": dx > 1 and grow > 0.05 and abs(dy) < 0.1,
        # Counter-clockwise on screen (y down): a point right of the centre moves up.
        "counter-clockwise": dy < -1,
    }[moves]
    assert expected, (
        f"{mode} {key}={value}: moved ({x1 - x0:+.2f}, {y1 - y0:+.2f}) px, size "
        f"x{size1 / size0:.3f}; content should move {moves} for a positive value"
    )


def test_transform_center_is_the_fixed_point_of_2d_zoom() -> None:
    step = _one_step("2D", zoom=1.2, transform_center_x=0.25, transform_center_y=0.25)
    before = _marker(W * 0.25, H * 0.25)
    x0, y0, s0 = _centroid_and_size(before)
    x1, y1, s1 = _centroid_and_size(warp_frame(before, step))
    assert (x1, y1) == pytest.approx((x0, y0), abs=0.2) and s1 > 1.1 * s0


def test_matrix_translates_first_then_scales_about_the_centre() -> None:
    """Deforum builds rot_mat @ trans_mat: a translation is scaled along with the image."""
    step = WarpStep(dx=10, dy=0, zoom=2, angle=0, center=(0, 0))
    assert step.matrix() @ np.array([1.0, 0.0, 1.0]) == pytest.approx([22, 0, 1])


# warp_frame and init_video ------------------------------------------------------------------


def _smooth_image() -> np.ndarray:
    rng = np.random.default_rng(3)
    noise = cv2.GaussianBlur(rng.uniform(0, 255, (H, W, 3)).astype(np.float32), (0, 0), 3)
    return cv2.normalize(noise, None, 30, 220, cv2.NORM_MINMAX).astype(np.uint8)


def test_warp_frame_replicates_the_border() -> None:
    image = _smooth_image()
    moved = warp_frame(image, WarpStep(5, 0, 1, 0, (W / 2, H / 2)))
    assert np.array_equal(moved[:, 5:], image[:, :-5])
    assert all(np.array_equal(moved[:, c], image[:, 0]) for c in range(5))
    wrapped = warp_frame(image, WarpStep(5, 0, 1, 0, (W / 2, H / 2)), border="wrap")
    assert np.array_equal(wrapped, np.roll(image, 5, axis=1))


def test_init_video_starts_with_the_frame_and_has_one_frame_per_step() -> None:
    image = _smooth_image()
    steps = model_steps(_constant(translation_x=2), "2D", 0, 9, 16, 16, (W, H), (W, H))
    video = init_video(image, steps)
    assert video.shape == (9, H, W, 3) and video.dtype == np.uint8
    assert np.array_equal(video[0], image)
    assert np.array_equal(video[4][:, 8:], image[:, :-8])  # 4 steps of 2 px
    assert init_video(image, ()).shape == (1, H, W, 3)


def test_init_video_composes_like_repeated_steps() -> None:
    steps = [
        WarpStep(1.3, -0.7, 1.02, 1.5, (W / 2, H / 2)),
        WarpStep(-0.4, 0.9, 0.99, -0.8, (W * 0.3, H * 0.6)),
        WarpStep(2.1, 0.2, 1.03, 2.0, (W / 2, H / 2)),
        WarpStep(0.5, 1.1, 1.0, -1.2, (W * 0.7, H * 0.4)),
    ] * 2
    inner = (slice(16, -16), slice(16, -16))
    image, marker = _smooth_image(), _marker(W / 2 + 20, H / 2 - 10)
    video, marker_video = init_video(image, steps), init_video(marker, steps)
    repeated, repeated_marker = image, marker
    for k, step in enumerate(steps, start=1):
        repeated = warp_frame(repeated, step)
        repeated_marker = warp_frame(repeated_marker, step)
        # Same geometry: the marker lands in the same place either way.
        here, there = _centroid_and_size(marker_video[k]), _centroid_and_size(repeated_marker)
        assert here[:2] == pytest.approx(there[:2], abs=0.1), (k, here, there)
        # Only interpolation error separates the images (repeated resampling blurs a little).
        error = np.abs(video[k][inner].astype(int) - repeated[inner]).mean()
        moved = np.abs(video[k][inner].astype(int) - image[inner]).mean()
        assert error < 2.0 and error < 0.1 * moved, (k, error, moved)
