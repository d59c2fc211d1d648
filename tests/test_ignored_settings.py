"""The notes on ignored Deforum settings reach users: plan --json, the human plan output, the
plan payload of the API and tab, and the run folder's plan record."""

from __future__ import annotations

import json
from types import SimpleNamespace

from tests.conftest import FIXTURES
from wan.cli.main import main
from wan.planning.plan_service import plan_request
from wan.render.run_folder import plan_record

SIMPLE = FIXTURES / "deforum__tests_testdata_simple.input_settings.txt"

IGNORING = {
    "animation_mode": "2D",
    "max_frames": 17,
    "fps": 16,
    "seed": 3,
    "color_coherence": "HSV",
    "hybrid_composite": "Normal",
    "use_mask": True,
    "diffusion_cadence": 4,
    "prompts": {"0": "a lighthouse at dusk", "500": "a storm"},
}
EXPECTED = [
    "color_coherence = 'HSV' is ignored: Wan clips are colour-matched to the previous clip "
    "instead (render option colour_match)",
    "hybrid_composite = 'Normal' is ignored: hybrid video is not supported: no video is "
    "composited into the frames",
    "use_mask = True is ignored: masks are not supported: every frame is generated whole",
    "diffusion_cadence = 4 is ignored: Wan generates every frame: there are no in-between "
    "frames to warp and blend (the seeds still advance once per cadence, as in Deforum)",
    "prompt at frame 500 is past max_frames 17: never shown",
]


def _settings_file(tmp_path, data=IGNORING):
    path = tmp_path / "settings.txt"
    path.write_text(json.dumps(data))
    return str(path)


def test_plan_json_carries_the_notes(capsys, tmp_path):
    assert main(["plan", _settings_file(tmp_path), "--model", "tiny-t2v", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["notes"] == EXPECTED


def test_plan_json_of_plain_settings_has_an_empty_list(capsys, tmp_path):
    plain = {k: IGNORING[k] for k in ("animation_mode", "max_frames", "fps", "seed")}
    plain["prompts"] = {"0": "a lighthouse at dusk"}
    assert main(["plan", _settings_file(tmp_path, plain), "--model", "tiny-t2v", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["notes"] == []


def test_the_human_plan_prints_each_note_once(capsys, tmp_path):
    assert main(["plan", _settings_file(tmp_path), "--model", "tiny-t2v"]) == 0
    out = capsys.readouterr().out
    for note in EXPECTED:
        assert out.count(note) == 1, note
        assert f"note: {note}\n" in out


def test_the_human_plan_of_a_fixture_names_its_unshown_prompts(capsys):
    assert main(["plan", str(SIMPLE), "--model", "tiny-t2v"]) == 0
    out = capsys.readouterr().out
    for frame in (30, 60, 90):
        assert out.count(f"note: prompt at frame {frame} is past max_frames 5: never shown") == 1


def test_the_plan_payload_and_the_run_folder_record_carry_the_notes():
    plan, payload = plan_request(IGNORING, {"model": "tiny-t2v"})
    assert payload["notes"] == EXPECTED
    job = SimpleNamespace(
        plan=plan, hash="h", width=64, height=64, size_reason="", steps=2, guidance=5.0,
        guidance_2=None, flow_shift=None,
    )  # fmt: skip
    assert plan_record(job)["notes"] == EXPECTED  # what the runner writes to plan.json
