"""The camera guide (issue 14 item 3): the source carried along the camera path, one model frame
at a time, warped once per frame with the composed motion, with a mask of what was revealed."""

from __future__ import annotations

import numpy as np

from tests.render.test_deforum_warp import psnr
from wan.render.camera_guide import camera_guide
from wan.render.deforum_warp import FrameMotion, WarpSettings, warp_frame

FRAMES = 40
SOURCE = (np.random.default_rng(0).random((48, 64, 3)) * 255).astype(np.uint8)


def constant(**values: float) -> dict[str, np.ndarray]:
    return {name: np.full(FRAMES, value) for name, value in values.items()}


def test_a_2d_pan_reveals_a_strip_and_composes_into_one_warp():
    settings = WarpSettings(mode="2D", width=64, height=48)
    guide = camera_guide(SOURCE, constant(translation_x=2.0), settings, 0, 5, 16, 16)
    assert guide.frames.shape == (5, 48, 64, 3) and guide.masks.shape == (5, 48, 64)
    assert (guide.frames[0] == SOURCE).all() and guide.masks[0].all()
    # content moves right 2 px per frame: after 4 frames the 8 left columns are revealed
    assert (guide.masks[4][:, :8] == 0).all() and guide.masks[4][:, 8:].all()
    assert (guide.frames[4][:, 8:] == SOURCE[:, :-8]).all()  # moved whole, not re-blurred


def test_a_half_speed_model_takes_half_a_deforum_frame_per_model_frame():
    settings = WarpSettings(mode="2D", width=64, height=48)
    guide = camera_guide(SOURCE, constant(translation_x=4.0), settings, 0, 3, 8, 16)
    assert (guide.masks[2][:, :4] == 0).all() and guide.masks[2][:, 4:].all()


def test_the_first_3d_step_is_deforum_s_own_warp():
    """With the model's fps equal to Deforum's, model frame 1 is Deforum's warp at frame 1."""
    depth = np.linspace(1, 3, 48 * 64, dtype=np.float32).reshape(48, 64)
    settings = WarpSettings(mode="3D", width=64, height=48, padding_mode="zeros",
                            sampling_mode="bilinear")  # fmt: skip
    motion = dict(translation_x=6.0, rotation_3d_y=1.5, translation_z=4.0)
    guide = camera_guide(SOURCE, constant(**motion), settings, 0, 3, 16, 16, depth)
    deforum = warp_frame(SOURCE, FrameMotion(**motion), settings, depth)
    assert psnr(guide.frames[1], deforum) > 40


def test_a_still_3d_camera_keeps_the_source_and_a_move_reveals_behind_a_near_surface():
    near_left = np.ones((48, 64), np.float32)
    near_left[:, :32] = 5.0  # MiDaS: larger is nearer
    settings = WarpSettings(mode="3D", width=64, height=48, padding_mode="zeros",
                            sampling_mode="bilinear")  # fmt: skip
    still = camera_guide(SOURCE, {}, settings, 0, 3, 16, 16, near_left)
    assert all(np.abs(f.astype(int) - SOURCE).max() <= 1 for f in still.frames)
    assert still.masks.all()
    moved = camera_guide(SOURCE, constant(translation_x=10.0), settings, 0, 5, 16, 16, near_left)
    last = moved.masks[4]
    assert last[:, -2:].max() == 0  # 3D +translation_x moves content left: the right edge opens
    revealed_inside = (last[:, 2:-8] == 0).sum()
    assert revealed_inside > 0  # and the far side of the depth edge is disoccluded
    assert [m.mean() for m in moved.masks] == sorted((m.mean() for m in moved.masks), reverse=True)


def test_python_m_wan_guide_renders_the_plan_s_guide(tmp_path, capsys):
    """`python -m wan guide` as a user runs it (in this process): the orbit example's guide has
    one frame per model frame of the plan, written as a video."""
    import json

    from tests.conftest import EXAMPLES
    from wan.cli.main import main
    from wan.render.video import read_video_info

    out = tmp_path / "guide.mp4"
    argv = ["guide", str(EXAMPLES / "orbit-3d.json"), "--model", "tiny-t2v", "--size", "64x64"]
    assert main([*argv, "--out", str(out), "--json"]) == 0
    said = json.loads(capsys.readouterr().out)
    assert said["frames"] == 64 and said["clips"] == 4 and said["fps"] == 16
    assert read_video_info(out).frames == 64
    assert 0 < said["last_frame_from_clip_start"] <= 1
