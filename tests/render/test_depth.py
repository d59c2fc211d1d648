"""The depth estimator of the 3D warp: tiny-depth through the real loading path, its maps in the
convention of Deforum's warp, and `warp` / `guide` using it when no depth map is given."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.conftest import EXAMPLES, ROOT
from wan.errors import RenderError
from wan.models.store import StoreConfig
from wan.render.deforum_warp import WarpSettings, depth_to_z
from wan.render.depth import DepthEstimator, depth_for_warp

CASE = ROOT / "tests" / "fixtures" / "deforum_warp" / "p06_3d_translate_xy_midas"


@pytest.fixture(scope="module")
def estimator(smoke_root):
    with DepthEstimator.open("tiny-depth", StoreConfig(env={}), device="cpu") as opened:
        yield opened


def _frame(height: int = 48, width: int = 64) -> np.ndarray:
    return (np.random.default_rng(3).random((height, width, 3)) * 255).astype(np.uint8)


def test_a_frame_s_depth_has_its_size_and_is_finite(estimator):
    depth = estimator.depth(_frame())
    assert depth.shape == (48, 64) and depth.dtype == np.float32
    assert np.isfinite(depth).all() and depth.max() > depth.min()  # not flat: the warp uses it
    assert estimator.depth(_frame(30, 50)).shape == (30, 50)
    assert estimator.parameter_bytes == estimator.info.weights_bytes - _header(estimator) > 0
    with pytest.raises(RenderError, match="uint8 H x W x 3 RGB frame"):
        estimator.depth(np.zeros((48, 64), np.uint8))


def _header(estimator) -> int:
    """The safetensors header's bytes (file size less the float32 tensors)."""
    from wan.models.safetensors_header import read_safetensors_header

    header = read_safetensors_header(estimator.info.path / "model.safetensors")
    return 8 + header.header_bytes


def test_close_frees_the_model(smoke_root):
    opened = DepthEstimator.open("tiny-depth", StoreConfig(env={}), device="cpu")
    assert opened.loaded and opened.dtype == "float32"
    opened.close()
    opened.close()
    assert not opened.loaded and opened.parameter_bytes == 0
    with pytest.raises(RenderError, match="closed"):
        opened.depth(_frame())


def test_the_map_reaches_the_warp_as_the_same_scene_whatever_the_algorithm():
    """Inverse depth is MiDaS' convention; mirrored for the algorithms read as depth it gives
    the warp the same z; the legacy warp gets z in [1, 2], nearest 1."""
    shape = (24, 32)
    inverse = np.random.default_rng(1).random(shape).astype(np.float32) * 7 + 0.5
    midas = depth_to_z(depth_for_warp(inverse, "Midas-3-Hybrid"), WarpSettings(), shape)
    for name in ("Zoe", "AdaBins", "Leres", "Depth-Anything-V2-Small"):
        settings = WarpSettings(depth_algorithm=name)
        z = depth_to_z(depth_for_warp(inverse, name), settings, shape)
        assert np.abs(z - midas).max() < 1e-2, name  # the histogram bins: 0.0065 here
    legacy = depth_for_warp(inverse, "Zoe+AdaBins (old)")
    assert legacy.min() == 1.0 and legacy.max() == 2.0
    assert legacy.flat[np.argmax(inverse)] == 1.0  # the nearest pixel is nearest the camera
    assert (depth_for_warp(np.ones(shape), "Midas+AdaBins (old)") == 1.0).all()


def test_python_m_wan_warp_estimates_depth_without_depth_npy(tmp_path, capsys, smoke_root):
    from wan.cli.main import main

    out = tmp_path / "out.png"
    argv = ["warp", str(CASE / "settings.json"), "--image", str(CASE / "input.png")]
    argv += ["--frame", "4", "--steps", "2", "--out", str(out), "--depth-model", "tiny-depth"]
    assert main([*argv, "--json"]) == 0
    said = json.loads(capsys.readouterr().out)
    assert said["depth_model"].endswith("tiny-depth") and len(said["files"]) == 2
    assert all((tmp_path / f"out_{k}.png").is_file() for k in (1, 2))


def test_warp_names_what_is_wrong_with_the_depth_model(tmp_path, capsys):
    from wan.cli.main import main

    argv = ["warp", str(CASE / "settings.json"), "--image", str(CASE / "input.png")]
    argv += ["--frame", "4", "--out", str(tmp_path / "out.png")]
    assert main([*argv, "--depth-model", str(tmp_path)]) == 2
    assert "has no config.json: it is not a depth model folder" in capsys.readouterr().err
    assert main([*argv, "--frame", "99", "--depth-model", "tiny-depth"]) == 2
    assert "frames 99 to 99: the animation has frames 0 to 59" in capsys.readouterr().err


def test_python_m_wan_guide_uses_a_depth_model_or_says_it_uses_flat_depth(tmp_path, capsys):
    from wan.cli.main import main

    argv = ["guide", str(EXAMPLES / "orbit-3d.json"), "--model", "tiny-t2v", "--size", "64x64"]
    argv += ["--out", str(tmp_path / "guide.mp4"), "--json"]
    assert main([*argv, "--depth-model", "tiny-depth"]) == 0
    assert json.loads(capsys.readouterr().out)["depth_model"].endswith("tiny-depth")
    assert main([*argv, "--models-dir", str(tmp_path / "none")]) == 0
    said = capsys.readouterr()
    assert json.loads(said.out)["depth_model"] is None
    assert "is not installed, so the 3D camera guide uses flat depth" in said.err
