"""Deforum's own warp, matched: every case of tests/fixtures/deforum_warp (outputs of Deforum's
`anim_frame_warp` on synthetic images and depth maps; 2D, 3D, legacy, perspective flip, 8-step
chains) is reproduced by wan.render.deforum_warp at >= 40 dB PSNR, and the worst figure is
printed (`pytest -s`)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import ROOT
from wan.core.deforum.settings import load_settings
from wan.errors import SettingsError
from wan.render.deforum_warp import (
    FrameMotion,
    WarpSettings,
    depth_to_z,
    frame_motion,
    warp_frame,
    warp_schedules,
    warp_settings_of,
)

CASES = ROOT / "tests" / "fixtures" / "deforum_warp"
CASE_NAMES = [c["case"] for c in json.loads((CASES / "index.json").read_text())["cases"]]
MIN_PSNR = 40.0


def psnr(ours: np.ndarray, theirs: np.ndarray) -> float:
    mse = np.mean((ours.astype(np.float64) - theirs.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255**2 / mse))


def read_png(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def case_figures(name: str) -> list[float]:
    """PSNR of each step of a case against Deforum's output of that step."""
    folder = CASES / name
    case = json.loads((folder / "case.json").read_text())
    settings = load_settings(folder / "settings.json")
    schedules = warp_schedules(settings)
    depth = np.load(folder / "depth.npy") if (folder / "depth.npy").is_file() else None
    image = read_png(folder / "input.png")
    figures = []
    for step in range(1, case["steps"] + 1):
        motion = frame_motion(schedules, case["frame"] + step - 1)
        image = warp_frame(image, motion, warp_settings_of(settings), depth)
        expected = f"expected_{step}.png" if case["steps"] > 1 else "expected.png"
        figures.append(psnr(image, read_png(folder / expected)))
    return figures


def test_every_reference_case_is_matched():
    worst = {name: min(case_figures(name)) for name in CASE_NAMES}
    name = min(worst, key=worst.get)
    print(f"\ndeforum warp: worst case {name} at {worst[name]:.2f} dB over {len(worst)} cases")
    assert len(worst) == 12 and all(v >= MIN_PSNR for v in worst.values()), worst


def test_depth_is_equalised_as_deforum_does():
    shape = (4, 8)
    depth = np.linspace(1, 9, 32, dtype=np.float32).reshape(shape)
    midas = depth_to_z(depth, WarpSettings(depth_algorithm="Midas-3-Hybrid"), shape)
    zoe = depth_to_z(depth, WarpSettings(depth_algorithm="Zoe"), shape)
    assert midas.dtype == np.float32 and midas.min() >= 1.0 and midas.max() <= 2.0
    assert midas[-1, -1] == 1.0 and zoe[-1, -1] == 2.0  # MiDaS: larger is nearer
    assert np.allclose(depth_to_z(depth * 3 + 5, WarpSettings(), shape), midas)
    flat = depth_to_z(np.full(shape, 2.0), WarpSettings(), shape)
    assert (flat == 1.0).all()
    legacy = WarpSettings(depth_algorithm="Zoe+AdaBins (old)")
    assert (depth_to_z(depth, legacy, shape) == depth).all()


def test_bad_input_is_a_clear_error():
    image = np.zeros((8, 8, 3), np.uint8)
    settings = WarpSettings(mode="3D")
    with pytest.raises(SettingsError, match=r"the depth map is 4x4, the image 8x8"):
        warp_frame(image, FrameMotion(), settings, np.ones((4, 4), np.float32))
    with pytest.raises(SettingsError, match="8-bit colour image"):
        warp_frame(image.astype(np.float32), FrameMotion(), settings)


def test_python_m_wan_warp_matches_every_case(tmp_path, capsys):
    """The same cases through `python -m wan warp` as a user runs it (in this process)."""
    from wan.cli.main import main

    worst = 99.0
    for name in CASE_NAMES:
        folder = CASES / name
        case = json.loads((folder / "case.json").read_text())
        depth = ["--depth", str(folder / "depth.npy")] if (folder / "depth.npy").is_file() else []
        out = tmp_path / name / "out.png"
        argv = ["warp", str(folder / "settings.json"), "--image", str(folder / "input.png")]
        argv += ["--frame", str(case["frame"]), "--steps", str(case["steps"]), "--out", str(out)]
        assert main([*argv, *depth]) == 0, capsys.readouterr().err
        written = capsys.readouterr().out.split()
        assert len(written) == case["steps"]
        for step, path in enumerate(written, start=1):
            expected = f"expected_{step}.png" if case["steps"] > 1 else "expected.png"
            worst = min(worst, psnr(read_png(Path(path)), read_png(folder / expected)))
    assert worst >= MIN_PSNR, worst


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"--frame": "60"}, "frames 60 to 60: the animation has frames 0 to 59"),
        ({"--steps": "0"}, "frames 4 to 3"),
        ({"--depth": "wrong-shape"}, "of shape (4, 4); the image needs a numeric array of shape"),
        (
            {"--depth": None, "--models-dir": "no-models"},
            "Depth-Anything-V2-Small is not installed",
        ),
        ({"--image": "not-an-image"}, "not a readable image"),
    ],
)
def test_warp_refuses_bad_input_naming_it(tmp_path, capsys, change, says):
    from wan.cli.main import main

    folder = CASES / "p06_3d_translate_xy_midas"
    np.save(tmp_path / "wrong-shape.npy", np.ones((4, 4), np.float32))
    (tmp_path / "not-an-image").write_text("hello")
    flags = {
        "--image": str(folder / "input.png"),
        "--frame": "4",
        "--steps": "1",
        "--depth": str(folder / "depth.npy"),
        "--out": str(tmp_path / "out.png"),
    }
    for key, value in change.items():
        flags[key] = None if value is None else (
            str(tmp_path / f"{value}.npy") if key == "--depth" else
            str(tmp_path / value) if key == "--image" else value
        )  # fmt: skip
    argv = ["warp", str(folder / "settings.json")]
    argv += [item for key, value in flags.items() if value is not None for item in (key, value)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and says in err and err.count("\n") == 1, err


def test_the_warp_s_settings_are_read_like_every_other_setting():
    """They are read with the settings' own reader: a bad value names the setting."""
    from wan.core.deforum.settings import parse_settings

    settings = parse_settings({"animation_mode": "3D", "enable_perspective_flip": "maybe"})
    with pytest.raises(SettingsError, match="setting 'enable_perspective_flip' is 'maybe'"):
        warp_settings_of(settings)
    plain = warp_settings_of(parse_settings({"animation_mode": "3D", "border": "wrap"}))
    assert (plain.border, plain.sampling_mode, plain.use_depth) == ("wrap", "bicubic", True)
