"""wan.planning.motion_plot: the camera motion PNG for 2D and 3D, for 1 and for 10,000 frames."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from wan.core.motion import analyse_motion
from wan.errors import PlanError
from wan.planning.motion_plot import motion_figure, plot_motion

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def clips_for(values, mode: str, frames: int, length: int = 81) -> list[tuple[int, int, str]]:
    """Clips of `length` frames that share their boundary frame, as a planner would make them."""
    clips = []
    for start in range(0, max(frames - 1, 1), length - 1):
        end = min(start + length - 1, frames - 1)
        clips.append((start, end, analyse_motion(values, mode, start, end, 512).phrase))
    return clips


def assert_png(path: Path, min_bytes: int = 10_000) -> np.ndarray:
    import matplotlib.image

    assert path.read_bytes()[:8] == PNG_SIGNATURE
    assert path.stat().st_size > min_bytes
    image = matplotlib.image.imread(path)
    assert image.shape[0] > 300 and image.shape[1] > 1000
    return image


def test_2d_plot(tmp_path):
    frames = np.arange(300)
    values = {
        "translation_x": np.full(300, 2.0),
        "zoom": 1 + 0.01 * np.sin(frames / 40),
        "angle": np.linspace(0, 1, 300),
    }
    path = tmp_path / "nested" / "motion_2d.png"
    returned = plot_motion(values, "2D", clips_for(values, "2D", 300), path, title="2D example")
    assert returned == path
    assert_png(path)


def test_3d_plot_with_string_path(tmp_path):
    frames = np.arange(250)
    values = {
        "translation_z": np.where(frames < 120, 1.75, -1.0),
        "rotation_3d_y": 0.3 * np.sin(frames / 30),
        "translation_x": np.linspace(0, -2, 250),
    }
    path = plot_motion(values, "3D", clips_for(values, "3D", 250), str(tmp_path / "m.png"))
    assert isinstance(path, Path)
    # Six schedule rows make it taller than the four of 2D.
    assert assert_png(path).shape[0] > 800


def test_one_frame_and_no_clips(tmp_path):
    assert_png(
        plot_motion({"zoom": np.array([1.02])}, "2D", [(0, 0, "static camera")], tmp_path / "a.png")
    )
    assert_png(plot_motion({}, "3D", [], tmp_path / "b.png"))


def test_ten_thousand_frames(tmp_path):
    frames = np.arange(10_000)
    values = {"translation_x": np.sin(frames / 100), "translation_z": np.cos(frames / 300)}
    clips = clips_for(values, "3D", 10_000)
    started = time.perf_counter()
    path = plot_motion(values, "3D", clips, tmp_path / "long.png")
    assert time.perf_counter() - started < 20  # typically well under 2 s
    assert_png(path)


def test_bad_mode_and_clip_are_plan_errors(tmp_path):
    with pytest.raises(PlanError, match="Video Input"):
        plot_motion({}, "Video Input", [], tmp_path / "x.png")
    with pytest.raises(PlanError, match=r"5\.\.2"):
        plot_motion({}, "2D", [(5, 2, "")], tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_importing_does_not_import_matplotlib():
    code = "import sys, wan.planning.motion_plot; assert 'matplotlib' not in sys.modules"
    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-c", code], cwd=root, check=True)


def varied_clips(count: int, mode: str, length: int = 61):
    """`count` clips of `length` frames whose phrases differ (sways, orbits, pushes...)."""
    frames = (length - 1) * count + 1
    t = np.arange(frames)
    values = {
        "translation_x": 2 * np.sin(2 * np.pi * t / 300),
        "translation_y": np.linspace(-1, 1, frames),
        "zoom": np.where((t // 200) % 2 == 0, 1.01, 0.995),
        "angle": 0.4 * np.sin(2 * np.pi * t / 20) * ((t // 250) % 2),
        "translation_z": np.where((t // 200) % 2 == 0, 1.75, -0.5),
        "rotation_3d_y": -0.5 * np.sin(2 * np.pi * t / 300),
        "rotation_3d_z": 0.4 * np.sin(2 * np.pi * t / 20) * ((t // 250) % 2),
    }
    return values, clips_for(values, mode, frames, length)


def boxes_overlap(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


@pytest.mark.parametrize(("count", "mode"), [(1, "3D"), (4, "3D"), (18, "2D"), (60, "2D")])
def test_labels_never_overlap_and_every_phrase_is_shown_whole(count, mode):
    values, clips = varied_clips(count, mode)
    fig = motion_figure(values, mode, clips, title=f"{count} clips")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    text_ax, plots = fig.axes[0], fig.axes[1:]
    labels = [t for t in text_ax.texts if t.get_text()]
    table = [t for t in fig.texts if t.get_text() and t is not fig._suptitle]
    page = fig.bbox
    boxes = {id(t): t.get_window_extent(renderer) for t in labels + table}
    title = fig._suptitle.get_window_extent(renderer)
    obstacles = [title] + [ax.get_tightbbox(renderer) for ax in plots]
    for group in (labels, table):
        for i, one in enumerate(group):
            box = boxes[id(one)]
            assert one.get_rotation() == 0
            assert page.x0 <= box.x0 and box.x1 <= page.x1 + 0.5, one.get_text()
            assert page.y0 <= box.y0 and box.y1 <= page.y1, one.get_text()
            for other in group[i + 1 :]:
                assert not boxes_overlap(box, boxes[id(other)]), (one.get_text(), other.get_text())
            for obstacle in obstacles:
                assert not boxes_overlap(box, obstacle), one.get_text()
    # Every phrase is written whole, above its clip or in the table.
    shown = " ".join(" ".join(t.get_text().split()) for t in labels + table)
    for _, _, phrase in clips:
        assert phrase in shown
    assert "..." not in shown
    if count >= 18:  # too many to write above the clips: numbers there, phrases in the table
        assert table and all(re.fullmatch(r"\d+(-\d+)?", t.get_text()) for t in labels)
        assert len(labels) >= min(count, 18) // 2
    else:
        assert not table
