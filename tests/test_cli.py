import json
import subprocess
import sys

import pytest

from tests.conftest import EXAMPLES, FIXTURES, ROOT
from wan.cli import main

SIMPLE = FIXTURES / "deforum__tests_testdata_simple.input_settings.txt"
DEFAULT_3D = FIXTURES / "deforum__scripts_default_settings.txt"


def run_json(capsys, *argv):
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_schedules_json(capsys):
    data = run_json(capsys, "schedules", str(SIMPLE), "--json")
    assert data["max_frames"] == 5
    for name in ("translation_x", "zoom", "strength_schedule", "noise_schedule",
                 "cfg_scale_schedule", "seed_schedule", "rotation_3d_y"):  # fmt: skip
        assert len(data["schedules"][name]) == 5
    assert data["schedules"]["zoom"][0] == 1.0025


def test_schedules_use_the_resolved_seed(capsys):
    data = run_json(capsys, "schedules", str(DEFAULT_3D), "--json", "--seed", "99")
    assert data["seed"] == 99 and data["schedules"]["seed_schedule"][0] == 99.0


def test_plan_json_contract(capsys):
    data = run_json(capsys, "plan", str(DEFAULT_3D), "--json", "--seed", "7")
    assert (data["fps"], data["model_fps"], data["frames"], data["seed"]) == (15, 16, 120, 7)
    assert data["model"] == "Wan2.1-T2V-1.3B" and len(data["hash"]) == 16
    clip = data["clips"][0]
    assert clip["start_frame"] == 0 and clip["num_frames"] % 4 == 1
    assert clip["motion"]["phrase"] and "translation_z" in clip["motion"]["axes"]


def test_plan_is_deterministic_for_a_seed(capsys):
    first = run_json(
        capsys, "plan", str(DEFAULT_3D), "--json", "--seed", "7", "--model", "Wan2.2-TI2V-5B"
    )
    second = run_json(
        capsys, "plan", str(DEFAULT_3D), "--json", "--seed", "7", "--model", "Wan2.2-TI2V-5B"
    )
    assert first == second and first["model_fps"] == 24


def test_plan_human_output_and_plot(capsys, tmp_path):
    picture = tmp_path / "sub" / "motion.png"
    assert main(["plan", str(EXAMPLES / "orbit-3d.json"), "--plot", str(picture)]) == 0
    out = capsys.readouterr().out
    assert "clip 0: frames 0-" in out and "camera:" in out and "seed 1234" in out
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_random_seed_is_resolved_and_reported(capsys):
    data = run_json(capsys, "plan", str(SIMPLE), "--json")
    assert data["seed"] == 1  # the file's own seed
    data = run_json(capsys, "plan", str(DEFAULT_3D), "--json")  # seed -1 in the file
    assert 0 <= data["seed"] < 2**32


@pytest.mark.parametrize(
    "argv, message",
    [
        (["plan", "missing.txt"], "no such settings file"),
        (["plan", str(SIMPLE), "--model", "nope"], "unknown model 'nope'"),
        (["plan", str(SIMPLE), "--overlap", "99"], "overlap 99"),
        (["plan", str(SIMPLE), "--seed", "-5"], "--seed -5"),
    ],
)
def test_bad_input_exits_2_with_one_line(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_bad_schedule_in_file(capsys, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"prompts": {"0": "a"}, "translation_x": "0:(0), 10:(foo)"}))
    assert main(["schedules", str(bad)]) == 2
    assert "'translation_x': unknown name 'foo'" in capsys.readouterr().err


def test_python_dash_m_entry_point(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "wan", "plan", "does-not-exist.json"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
