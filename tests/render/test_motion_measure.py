"""`python -m wan motion`: known camera motions made by warping a textured image, written as mp4 by
our own writer and read back through the command, are recovered within 0.3 px, 0.003 zoom and
0.15 degrees per frame (issue 14 item 4); a flat video gives no motion and confidence 0; a video
of one frame and a file that is no video exit 2 with one line."""

from __future__ import annotations

import json
import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from wan.cli.main import main
from wan.render.deforum_warp import FrameMotion, WarpSettings, warp_frame
from wan.render.motion_measure import measure_motion, to_deforum
from wan.render.video import write_video

W, H = 256, 192
FRAMES = 8
FPS = 16.0
PX, ZOOM, DEG = 0.3, 0.003, 0.15  # the tolerances of the issue

# (dx, dy, zoom, angle) per frame, in Deforum's signs
MOTIONS = {
    "pan-right": (3.0, 0.0, 1.0, 0.0),
    "tilt-up": (0.0, -2.5, 1.0, 0.0),
    "zoom-in": (0.0, 0.0, 1.02, 0.0),
    "zoom-out": (0.0, 0.0, 0.98, 0.0),
    "roll": (0.0, 0.0, 1.0, 1.5),
    "pan-zoom-roll": (2.0, -1.0, 1.01, 0.8),
    "all-backwards": (-1.5, 2.5, 0.99, -1.2),
}


def deforum_matrix(dx: float, dy: float, zoom: float, angle: float) -> np.ndarray:
    """Deforum's 2D step as a 3x3 matrix: rotation and zoom about the centre after the shift."""
    rotation = np.vstack([cv2.getRotationMatrix2D((W / 2, H / 2), angle, zoom), [0, 0, 1]])
    return rotation @ np.array([[1, 0, dx], [0, 1, dy], [0, 0, 1]], np.float64)


@pytest.fixture(scope="module")
def texture() -> np.ndarray:
    """Smooth noise at three scales on a canvas twice the frame: detail that H.264 keeps, and room
    for every motion so that no frame shows a border."""
    rng = np.random.default_rng(14)
    canvas = np.zeros((2 * H, 2 * W), np.float32)
    for sigma, weight in ((1.5, 0.5), (4.0, 1.0), (12.0, 1.0)):
        noise = cv2.GaussianBlur(
            rng.standard_normal(canvas.shape).astype(np.float32), (0, 0), sigma
        )
        canvas += weight * noise / noise.std()
    grey = (canvas - canvas.min()) / (canvas.max() - canvas.min()) * 255
    return np.stack([grey, np.roll(grey, 7, 0), np.roll(grey, 5, 1)], -1).astype(np.uint8)


def moving_frames(texture: np.ndarray, motion: tuple[float, ...]) -> list[np.ndarray]:
    """Frame k is the canvas's centre seen after k steps of `motion`, each frame warped from the
    canvas itself (never from the frame before, which would blur the chain)."""
    step = deforum_matrix(*motion)
    crop = np.array([[1, 0, -W / 2], [0, 1, -H / 2], [0, 0, 1]], np.float64)
    frames, total = [], np.eye(3)
    for _ in range(FRAMES):
        frames.append(cv2.warpPerspective(texture, total @ crop, (W, H), flags=cv2.INTER_CUBIC))
        total = step @ total
    return frames


def run_motion(capsys, path: Path, *flags: str) -> tuple[int, str, str]:
    code = main(["motion", str(path), *flags])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("motion", MOTIONS.values(), ids=MOTIONS.keys())
def test_known_motions_are_recovered_from_an_mp4(tmp_path, capsys, texture, motion) -> None:
    path = tmp_path / "moving.mp4"
    write_video(moving_frames(texture, motion), path, FPS)
    code, out, err = run_motion(capsys, path, "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["fps"] == FPS and payload["size"] == [W, H]
    assert [entry["frame"] for entry in payload["frames"]] == list(range(1, FRAMES))
    dx, dy, zoom, angle = motion
    for entry in payload["frames"]:
        assert abs(entry["dx"] - dx) < PX and abs(entry["dy"] - dy) < PX, entry
        assert abs(entry["zoom"] - zoom) < ZOOM and abs(entry["angle"] - angle) < DEG, entry
        assert entry["confidence"] > 0.5, entry


def test_the_signs_are_those_of_deforums_own_warp(texture) -> None:
    """One step of wan.render.deforum_warp (replicate border, as Deforum) is measured as the
    settings it was made with: the figures can be pasted into a settings file."""
    frame = texture[H // 2 : H // 2 + H, W // 2 : W // 2 + W].copy()
    motion = FrameMotion(translation_x=2.5, translation_y=-1.5, zoom=1.015, angle=-1.0)
    warped = warp_frame(frame, motion, WarpSettings(width=W, height=H))
    (estimate,) = measure_motion([frame, warped])
    assert estimate.dx == pytest.approx(2.5, abs=PX) and estimate.dy == pytest.approx(-1.5, abs=PX)
    assert estimate.zoom == pytest.approx(1.015, abs=ZOOM)
    assert estimate.angle == pytest.approx(-1.0, abs=DEG)


def test_to_deforum_inverts_deforums_matrix() -> None:
    matrix = deforum_matrix(4.0, -3.0, 1.05, 12.0)[:2]
    assert to_deforum(matrix, (W, H)) == pytest.approx((4.0, -3.0, 1.05, 12.0))


def test_a_flat_grey_video_has_no_motion_and_no_confidence(tmp_path, capsys) -> None:
    path = tmp_path / "grey.mp4"
    write_video([np.full((H, W, 3), 128, np.uint8)] * 4, path, FPS)
    code, out, err = run_motion(capsys, path, "--json")
    assert code == 0, err
    frames = json.loads(out)["frames"]
    assert len(frames) == 3
    for entry in frames:
        assert (entry["dx"], entry["dy"], entry["zoom"], entry["angle"]) == (0, 0, 1, 0)
        assert entry["confidence"] == 0


def test_noise_a_cut_and_a_flat_frame_never_raise() -> None:
    """Sensor-like noise on grey, a frame of unrelated content and a black frame: figures, never
    an exception, and no confident motion where there is none to see."""
    rng = np.random.default_rng(0)
    noisy = np.clip(128 + rng.normal(0, 2, (H, W, 3)), 0, 255).astype(np.uint8)
    unrelated = [rng.integers(0, 256, (H, W, 3), dtype=np.uint8) for _ in range(2)]
    black = np.zeros((H, W, 3), np.uint8)
    estimates = measure_motion([noisy, *unrelated, black, black])
    assert [e.frame for e in estimates] == [1, 2, 3, 4]
    for e in estimates:
        assert all(math.isfinite(v) for v in (e.dx, e.dy, e.zoom, e.angle))
        assert 0 <= e.confidence < 0.2, e


def test_text_output_has_a_line_per_frame_and_a_summary(tmp_path, capsys, texture) -> None:
    path = tmp_path / "pan.mp4"
    write_video(moving_frames(texture, MOTIONS["pan-right"])[:3], path, FPS)
    code, out, _ = run_motion(capsys, path)
    lines = out.splitlines()
    assert code == 0 and len(lines) == 1 + 1 + 2 + 1, out
    assert lines[0].startswith(f"{path}: 3 frames at 16 fps, {W}x{H}")
    first = lines[2].split()
    assert first[0] == "1" and abs(float(first[1]) - 3) < PX, lines[2]
    assert lines[-1].startswith("mean per frame: dx 3.0") and "mean confidence" in lines[-1]


def test_a_video_of_one_frame_exits_2(tmp_path, capsys) -> None:
    path = tmp_path / "still.mp4"
    write_video([np.zeros((H, W, 3), np.uint8)], path, FPS)
    code, out, err = run_motion(capsys, path, "--json")
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert err.startswith(f"error: {path}: 1 frame;") and "at least 2 frames" in err


def test_a_file_that_is_not_a_video_exits_2(tmp_path, capsys) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a video\n")
    code, out, err = run_motion(capsys, path)
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert err.startswith(f"error: {path}: cannot be read as a video"), err
