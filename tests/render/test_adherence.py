"""wan.render.adherence and camera_plot: the requested camera motion of known settings, the
figure of a video that is exactly the requested motion (0 error), of a still and of a flat one,
and adherence.png (issue 14 item 5)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image

from wan.render.adherence import (
    CameraTimeline,
    CameraTrack,
    adherence,
    clip_camera,
    fit_similarity,
    from_record,
    measured_motion,
    requested_motion,
)
from wan.render.camera_guide import camera_guide
from wan.render.camera_plot import plot_adherence
from wan.render.deforum_warp import WarpSettings
from wan.render.warp import model_steps

FRAMES = 40  # Deforum frames of every schedule below


def still(**values: float) -> dict[str, np.ndarray]:
    return {name: np.full(FRAMES, value) for name, value in values.items()}


def texture(width: int, height: int, seed: int = 5) -> np.ndarray:
    """Smooth noise at three scales: corners everywhere that survive a warp."""
    rng = np.random.default_rng(seed)
    canvas = np.zeros((height, width), np.float32)
    for sigma, weight in ((1.5, 0.5), (4.0, 1.0), (12.0, 1.0)):
        noise = cv2.GaussianBlur(
            rng.standard_normal(canvas.shape).astype(np.float32), (0, 0), sigma
        )
        canvas += weight * noise / noise.std()
    grey = (canvas - canvas.min()) / (canvas.max() - canvas.min()) * 255
    return np.stack([grey, np.roll(grey, 7, 0), np.roll(grey, 5, 1)], -1).astype(np.uint8)


@pytest.mark.parametrize(
    "fps, model_fps, deforum, model, expected",
    [
        (32, 16, (128, 96), (64, 48), 3.0 * 2 * 64 / 128),  # 2 Deforum frames per model frame
        (20, 16, (64, 48), (64, 48), 3.0 * 1.25),
        (16, 16, (64, 48), (128, 96), 3.0 * 2),  # Deforum pixels are half the model's
    ],
)
def test_a_2d_pan_asks_for_its_pixels_per_model_frame(fps, model_fps, deforum, model, expected):
    warp = WarpSettings(mode="2D", width=deforum[0], height=deforum[1])
    asked = requested_motion(still(translation_x=3.0), warp, 0, 9, fps, model_fps, model)
    assert len(asked) == 8 and [m.frame for m in asked] == list(range(1, 9))
    for motion in asked:
        assert motion.dx == pytest.approx(expected)
        assert (motion.dy, motion.zoom, motion.angle) == pytest.approx((0.0, 1.0, 0.0))


def test_a_2d_turn_about_another_centre_is_the_same_transform_about_the_frame_centre():
    schedules = still(angle=2.0, zoom=1.02, translation_y=-1.5, transform_center_x=0.2,
                      transform_center_y=0.9)  # fmt: skip
    warp = WarpSettings(mode="2D", width=64, height=48)
    size = (64, 48)
    asked = requested_motion(schedules, warp, 3, 5, 16, 16, size)
    steps = model_steps(schedules, 3, 5, 16, 16, (64, 48), size)
    for motion, step in zip(asked, steps, strict=True):
        assert np.allclose(motion.matrix(size), step.matrix(), atol=1e-9)
    assert asked[0].dx != pytest.approx(0.0, abs=0.1)  # the off-centre turn moves the centre


def test_a_similarity_fit_recovers_a_similarity_exactly():
    points = np.random.default_rng(1).uniform(0, 100, (50, 2))
    true = cv2.getRotationMatrix2D((30, 40), 7.0, 1.1) + np.array([[0, 0, 2.0], [0, 0, -3.0]])
    fitted, residual = fit_similarity(points, points @ true[:, :2].T + true[:, 2])
    assert np.allclose(fitted, true, atol=1e-9) and residual < 1e-9


@pytest.mark.parametrize("degrees, tolerance", [(0.25, 0.1), (1.0, None)])
def test_a_3d_turn_asks_for_the_shift_its_guide_is_measured_to_make(degrees, tolerance):
    """rotation_3d_y moves the picture left; Deforum's exact warp of a textured frame (the
    camera guide) measured with motion_measure shows that shift. Past a pixel of keystone the
    measurement's consensus sits within fit_px of the least-squares fit, and the figure does
    not count that against the video."""
    size = (192, 128)
    warp = WarpSettings(mode="3D", width=384, height=256)
    schedules = still(rotation_3d_y=degrees)
    asked = requested_motion(schedules, warp, 0, 5, 16, 16, size)
    guide = camera_guide(texture(*size), schedules, warp, 0, 5, 16, 16)
    seen = measured_motion(guide.frames)
    for want, got in zip(asked, seen, strict=True):
        assert want.dx < -0.5 and abs(want.dy) < 0.01 and want.zoom == pytest.approx(1, abs=1e-3)
        assert abs(got.dx - want.dx) <= (tolerance or want.fit_px)
    figure = adherence(asked, seen, size)
    assert figure.score > 0.95 and figure.excluded == 0


def exact_video(first: np.ndarray, asked, size) -> list[np.ndarray]:
    """`first` carried along the requested motion: frame k warped once by steps 1..k."""
    frames, total = [first], np.eye(3)
    for motion in asked:
        total = motion.matrix(size) @ total
        frames.append(cv2.warpPerspective(first, total, size, borderMode=cv2.BORDER_REFLECT_101))
    return frames


def test_a_video_that_is_exactly_the_requested_motion_has_no_error(tmp_path):
    size = (128, 96)
    warp = WarpSettings(mode="2D", width=128, height=96)
    schedules = still(translation_x=1.5, translation_y=-0.7, zoom=1.01, angle=0.6,
                      transform_center_x=0.3)  # fmt: skip
    asked = requested_motion(schedules, warp, 0, 9, 16, 16, size)
    record = clip_camera(asked, measured_motion(exact_video(texture(*size), asked, size)), size, 16)
    figure = record["adherence"]
    assert figure["frames"] == 8 and figure["excluded"] == 0
    assert figure["error_px"] < 0.05 and figure["score"] > 0.97
    assert figure["motion_px"] > 2.0 and figure["fit_px"] == 0.0
    assert from_record(record["requested"])[0].dx == pytest.approx(asked[0].dx, abs=1e-4)
    track = CameraTrack(0, 0, 1.0, asked, from_record(record["measured"]), figure)
    path = plot_adherence(CameraTimeline(size, 16, (track,)), tmp_path / "adherence.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_still_video_of_a_pan_scores_0_and_a_flat_one_is_not_measured(tmp_path):
    size = (128, 96)
    warp = WarpSettings(mode="2D", width=128, height=96)
    asked = requested_motion(still(translation_x=2.0), warp, 0, 5, 16, 16, size)
    frozen = adherence(asked, measured_motion([texture(*size)] * 5), size)
    assert frozen.score == 0.0 and frozen.error_px == pytest.approx(2.0, abs=0.05)
    assert frozen.bias["dx"] == pytest.approx(-2.0, abs=0.05)  # it moved 2 px less than asked
    flat = adherence(asked, measured_motion([np.full((96, 128, 3), 128, np.uint8)] * 5), size)
    assert (flat.error_px, flat.score, flat.frames, flat.excluded) == (None, None, 0, 4)
    assert flat.motion_px == pytest.approx(2.0)
    track = CameraTrack(0, 0, 1.0, asked, (), flat.to_dict())
    assert plot_adherence(CameraTimeline(size, 16, (track,)), tmp_path / "a.png").is_file()


def test_the_plan_plot_shows_the_requested_motion(tmp_path):
    """`plan --plot` (and the tab's Plan) draw the requested motion below the schedules: the
    picture grows by the four panels, and the timeline is the render's (the model's size)."""
    from wan.core.deforum.settings import parse_settings
    from wan.core.plan import CONTINUATION_OVERLAP, build_plan
    from wan.models.identify import profile_for
    from wan.planning.motion_plot import plan_camera, plot_motion

    settings = parse_settings(
        {"animation_mode": "3D", "max_frames": 30, "fps": 16, "W": 64, "H": 48,
         "rotation_3d_y": "0: (0.5)", "translation_z": "0: (2)", "prompts": {"0": "a sea"}}
    )  # fmt: skip
    plan = build_plan(settings, profile_for("tiny-t2v"), seed=1, overlap=CONTINUATION_OVERLAP)
    camera = plan_camera(settings, plan, (64, 48))
    assert [t.index for t in camera.tracks] == [c.index for c in plan.clips]
    assert all(m.dx < 0 and m.zoom > 1 for t in camera.tracks for m in t.requested)
    plain = plot_motion({}, "3D", [], tmp_path / "plain.png")
    both = plot_motion({}, "3D", [], tmp_path / "both.png", requested=camera)
    assert Image.open(both).height > Image.open(plain).height


def test_a_still_video_of_an_orbit_does_not_score_as_followed():
    """An orbit around a flat scene is mostly keystone (truck and pan cancel in the picture's
    centre): the fit allowance is capped at half the move, so standing still scores low."""
    size = (256, 144)
    warp = WarpSettings(mode="3D", width=256, height=144)
    asked = requested_motion(
        still(translation_x=2.0, rotation_3d_y=-0.55), warp, 0, 5, 16, 16, size
    )
    assert all(a.fit_px > 0 for a in asked)
    frozen = adherence(asked, measured_motion([texture(*size)] * 5), size)
    assert frozen.score is not None and frozen.score < 0.6
