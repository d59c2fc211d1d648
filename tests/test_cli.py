import json
import subprocess
import sys

import pytest

from tests.conftest import EXAMPLES, FIXTURES, ROOT
from wan.cli.main import main

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


# One tiny-t2v clip; seed -1, the seed of most real settings files.
RANDOM_SEED = {
    "animation_mode": "2D",
    "max_frames": 17,
    "fps": 16,
    "W": 64,
    "H": 64,
    "seed": -1,
    "translation_x": "0: (1)",
    "prompts": {"0": "a lighthouse at dusk"},
}


def test_a_seed_of_minus_one_plans_the_same_seed_and_hash_every_time(capsys):
    first = run_json(capsys, "plan", str(DEFAULT_3D), "--json")  # seed -1 in the file
    assert run_json(capsys, "plan", str(DEFAULT_3D), "--json") == first
    another_process = subprocess.run(
        [sys.executable, "-m", "wan", "plan", str(DEFAULT_3D)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert f"seed {first['seed']}, plan {first['hash']}" in another_process.stdout
    assert run_json(capsys, "schedules", str(DEFAULT_3D), "--json")["seed"] == first["seed"]
    for seed in ("7", "-1"):  # an explicit seed wins; -1 asks for the same derived seed
        given = run_json(capsys, "plan", str(DEFAULT_3D), "--json", "--seed", seed)
        assert given["seed"] == (7 if seed == "7" else first["seed"])


def test_a_render_uses_the_seed_its_plan_shows(capsys, tmp_path, smoke_root):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps(RANDOM_SEED))
    plan = run_json(capsys, "plan", str(path), "--model", "tiny-t2v", "--json")
    for flags, seed in (((), plan["seed"]), (("--seed", "7"), 7)):
        folder = tmp_path / f"run-{seed}"
        code = main([
            "render", str(path), *flags, *("--model", "tiny-t2v", "--size", "64x64"),
            *("--steps", "2", "--quiet", "--out", str(folder)),
            *("--output-dir", str(tmp_path / "outputs")),
        ])  # fmt: skip
        assert code == 0, capsys.readouterr().err
        metadata = json.loads((folder / "metadata.json").read_text())
        recorded = json.loads((folder / "plan.json").read_text())
        assert metadata["options"]["seed"] == recorded["seed"] == seed
        assert [clip["seed"] for clip in metadata["clips"]] == [seed]
    assert recorded["hash"] != plan["hash"]  # seed 7's plan
    recorded = json.loads((tmp_path / f"run-{plan['seed']}" / "plan.json").read_text())
    assert recorded["hash"] == plan["hash"]


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
    assert f"error: {bad}: 'translation_x': unknown name 'foo'" in capsys.readouterr().err


def test_python_dash_m_entry_point(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "wan", "plan", "does-not-exist.json"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_backtick_numexpr_cannot_compile_exits_2_naming_prompt_frame_expression(tmp_path):
    path = tmp_path / "fur.json"
    path.write_text(json.dumps({"max_frames": 20, "prompts": {"0": "(fur:`round(1+t/40,2)`)"}}))
    result = subprocess.run(
        [sys.executable, "-m", "wan", "plan", str(path), "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(f"error: {path}: prompts['0']: ")
    assert result.stderr.count("\n") == 1
    assert "`round(1+t/40,2)` at frame 0" in result.stderr and "Traceback" not in result.stderr


def test_schedule_numexpr_failure_exits_2_naming_setting_frame_expression(capsys, tmp_path):
    path = tmp_path / "overflow.json"
    path.write_text(json.dumps({"prompts": {"0": "a"}, "translation_x": "0:(0), 10:(10**400)"}))
    for command in ("schedules", "plan"):
        assert main([command, str(path), "--json"]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"error: {path}: 'translation_x': ") and err.count("\n") == 1
        assert "(in '10:(10**400)' at frame 10)" in err


# Bad files: (name, settings, which commands refuse it, what the one-line error says after the
# file's name). `schedules` reads no prompts, so a bad prompt refuses `plan` only.
BAD_FILES = [
    ("leading-comma", {"translation_x": ", 0:(1), 10:(2)"}, ("schedules", "plan"),
     "'translation_x': the schedule starts with a comma; remove the comma before the first "
     "keyframe (in ', 0:(1), 10:(2)')"),
    ("trailing-comma", {"zoom": "0:(1), 10:(1.02),"}, ("schedules", "plan"),
     "'zoom': the schedule ends with a comma; remove the comma after the last keyframe"),
    ("double-comma", {"angle": "0:(0),, 10:(2)"}, ("schedules", "plan"),
     "'angle': two commas in a row after keyframe 1; remove one"),
    ("unbalanced", {"translation_y": "0:(0), 10:(sin(t/5)"}, ("schedules", "plan"),
     "'translation_y': the parentheses do not balance: 2 '(' and 1 ')'; close each '(' with a "
     "')' (in '10:(sin(t/5)' at frame 10)"),
    ("extra-paren", {"translation_x": "0:(t/5))"}, ("schedules", "plan"),
     "the parentheses do not balance: 1 '(' and 2 ')'; remove the extra ')'"),
    ("bad-expression", {"translation_x": "0:(0), 10:(2 +* t)"}, ("schedules", "plan"),
     "'translation_x': not a valid expression"),
    ("unknown-name", {"strength_schedule": "0:(0.6), 5:(0.6*wobble)"}, ("schedules", "plan"),
     "'strength_schedule': unknown name 'wobble'"),
    ("bad-prompt-key", {"prompts": {"0": "a", "zero": "b"}}, ("plan",),
     "prompt key 'zero' is neither a frame number nor an expression in max_f: unknown name "
     "'zero' (expressions here can use max_f); write a frame number such as \"30\" or an "
     "expression in max_f such as \"max_f/2\""),
    ("fractional-prompt-key", {"prompts": {"0": "a", "2.5": "b"}}, ("plan",),
     "prompt key '2.5' is not a whole frame number; write a frame number such as \"30\""),
    ("bad-backtick", {"prompts": {"0": "a (b:`1+`)"}}, ("plan",),
     "prompts['0']: prompt expression `1+` at frame 0 cannot be evaluated"),
    ("bad-parseq-json", {"parseq_manifest": '{"rendered_frames": [{"frame": 0,'},
     ("schedules", "plan"), "setting 'parseq_manifest' is not a Parseq manifest: invalid JSON"),
    ("parseq-without-frames", {"parseq_manifest": '{"options": {"output_fps": 20}}'},
     ("schedules", "plan"), "setting 'parseq_manifest' has no frames"),
]  # fmt: skip


@pytest.mark.parametrize("name, data, commands, says", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_every_error_in_a_file_names_the_file_and_the_fix(capsys, tmp_path, name, data, commands,
                                                          says):  # fmt: skip
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps({"max_frames": 20, "prompts": {"0": "a"}, **data}))
    for command in ("schedules", "plan"):
        code = main([command, str(path), "--json"])
        out, err = capsys.readouterr()
        if command not in commands:
            assert code == 0, err
            continue
        assert code == 2 and out == "" and err.count("\n") == 1
        assert err.startswith(f"error: {path}: ") and says in err, err


def test_python_dash_m_names_the_file_of_a_bad_schedule_and_a_bad_prompt(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"prompts": {"zero": "a"}, "translation_x": ", 0:(1), 10:(2)"}))
    for command, says in (
        ("schedules", "'translation_x': the schedule starts with a comma"),
        ("plan", "prompt key 'zero' is neither a frame number"),  # prompts are read first
    ):
        result = subprocess.run(
            [sys.executable, "-m", "wan", command, str(path)],
            cwd=ROOT, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert result.returncode == 2 and result.stdout == ""
        assert result.stderr.startswith(f"error: {path}: {says}"), result.stderr
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_a_closed_stdout_ends_quietly(tmp_path):
    path = tmp_path / "long.json"  # schedules --json prints megabytes: far more than a pipe holds
    path.write_text(json.dumps({"max_frames": 20000, "prompts": {"0": "a"}}))
    process = subprocess.Popen(
        [sys.executable, "-m", "wan", "schedules", str(path), "--json"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout.read(10) == b'{"max_fram'
    process.stdout.close()  # like `| head -c 10`
    err = process.stderr.read().decode()
    assert process.wait(timeout=120) == 141
    assert "Traceback" not in err and "BrokenPipeError" not in err and err == ""


def _parseq_file(tmp_path):
    """Settings with an inline Parseq manifest (Parseq's format): 24 frames at 20 fps, a
    steady pan (translation_x_delta 2 per frame), a prompt change at frame 12, seeds 500+."""
    frames = [
        {
            "frame": f,
            "translation_x": 2.0 * f, "translation_x_delta": 2.0, "translation_x_pc": 100 * f / 23,
            "strength": 0.6, "strength_delta": 0.6 if f == 0 else 0, "strength_pc": 100,
            "seed": 500 + f, "seed_delta": 500 if f == 0 else 1, "subseed": 500 + f,
            "subseed_strength": 0,
            "deforum_prompt": "a harbour at dawn --neg fog" if f < 12 else "a night market",
        }
        for f in range(24)
    ]  # fmt: skip
    manifest = {"options": {"output_fps": 20, "cadence": 1}, "rendered_frames": frames}
    path = tmp_path / "parseq.json"
    settings = {"max_frames": 120, "fps": 15, "translation_x": "0:(-5)", "prompts": {"0": "x"}}
    path.write_text(json.dumps({**settings, "parseq_manifest": json.dumps(manifest)}))
    return str(path)


def test_schedules_follow_an_inline_parseq_manifest(capsys, tmp_path):
    data = run_json(capsys, "schedules", _parseq_file(tmp_path), "--json")
    assert data["max_frames"] == 24  # the manifest's frames (parseq_non_schedule_overrides)
    assert data["schedules"]["translation_x"] == [2.0] * 24  # its deltas, not the settings' -5
    assert data["schedules"]["strength_schedule"] == [0.6] * 24
    assert data["schedules"]["seed_schedule"] == [500.0 + f for f in range(24)]


def test_plan_follows_an_inline_parseq_manifest(capsys, tmp_path):
    data = run_json(capsys, "plan", _parseq_file(tmp_path), "--json", "--seed", "1")
    assert (data["fps"], data["frames"], data["notes"]) == (20, 24, [])
    first, last = data["clips"][0], data["clips"][-1]
    assert (first["prompt"], first["negative_prompt"]) == ("a harbour at dawn", "fog")
    assert last["prompt"] == "a night market" and last["start_frame"] >= 10
    assert first["seed"] == 500 and last["seed"] == 500 + last["start_frame"]
    assert "translation_x" in first["motion"]["axes"]


def test_a_render_follows_an_inline_parseq_manifest(capsys, tmp_path, smoke_root):
    folder = tmp_path / "run"
    code = main([
        "render", _parseq_file(tmp_path), *("--model", "tiny-t2v", "--size", "64x48"),
        *("--steps", "2", "--quiet", "--out", str(folder)),
        *("--output-dir", str(tmp_path / "outputs")),
    ])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    recorded = json.loads((folder / "plan.json").read_text())
    assert (recorded["frames"], recorded["fps"]) == (24, 20)  # the manifest's, not 120 at 15
    assert all(clip["seed"] == 500 + clip["start_frame"] for clip in recorded["clips"])
    assert recorded["clips"][-1]["prompt"] == "a night market"
