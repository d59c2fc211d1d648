"""Files Deforum runs are planned (issue 16 item 1): what changes meaning comes with a note, and
only what Wan cannot render (Video Input, Interpolation) is refused, by the plan, not the reader."""

import numpy as np
import pytest

from tests.test_cli import run_json
from wan.cli.main import main
from wan.core.deforum.degenerate import usable_motion
from wan.core.deforum.settings import parse_settings
from wan.core.plan import CONDITION_INIT_IMAGE, build_plan
from wan.errors import PlanError, ScheduleError
from wan.models.identify import profile_for
from wan.render.warp import sample_schedule

T2V = profile_for("Wan2.1-T2V-1.3B")
HYBRID_ZOOM = {  # as the hybrid-video file Deforum ran: zoom 0 at frame 1, 1 after
    "animation_mode": "2D",
    "max_frames": 30,
    "zoom": "0: (1.0), 1: (0.0), 2: (1.0)",
    "hybrid_composite": "Normal",
    "prompts": {"0": "a lake"},
}


@pytest.mark.parametrize("mode", ["Interpolation"])  # Video Input renders from its video
def test_a_mode_wan_cannot_render_is_refused_by_the_plan_naming_mode_and_file(mode):
    settings = parse_settings({"animation_mode": mode}, "run.txt")
    with pytest.raises(PlanError, match=f"^run.txt: animation_mode '{mode}' is a Deforum mode"):
        build_plan(settings, T2V, seed=1)


def test_schedules_evaluates_video_input_and_empty_prompts(capsys, tmp_path):
    path = tmp_path / "video-input.txt"
    path.write_text('{"animation_mode": "Video Input", "prompts": {}, "max_frames": 6}')
    data = run_json(capsys, "schedules", str(path), "--json", "--seed", "3")
    assert data["max_frames"] == 6 and len(data["schedules"]["zoom"]) == 6


def test_empty_prompts_plan_one_empty_prompt_with_a_note():
    settings = parse_settings(
        {"prompts": {}, "max_frames": 20, "animation_prompts_positive": "oil"}
    )
    plan = build_plan(settings, T2V, seed=1)
    assert [clip.prompt for clip in plan.clips] == ["oil"]
    assert any(note.startswith("prompts is empty") for note in plan.notes)


def test_use_init_without_an_image_plans_from_text_with_a_note():
    settings = parse_settings({"use_init": True, "init_image": "", "max_frames": 20})
    plan = build_plan(settings, T2V, seed=1)
    assert plan.clips[0].conditioning == "text"
    assert any("use_init is on but init_image is empty: ignored" in n for n in plan.notes)


def test_a_url_init_image_plans_as_an_init_image_with_a_note():
    url = "https://example.com/start.png"
    settings = parse_settings({"use_init": True, "init_image": url, "max_frames": 20})
    plan = build_plan(settings, T2V, seed=1)
    assert plan.clips[0].conditioning == CONDITION_INIT_IMAGE
    assert any(n.startswith(f"init image {url} is a URL") for n in plan.notes)


def test_zoom_zero_plans_as_no_zoom_with_the_frame_and_value():
    plan = build_plan(parse_settings(HYBRID_ZOOM, "hybrid.txt"), T2V, seed=1)
    (note,) = [n for n in plan.notes if n.startswith("zoom is")]
    assert note.startswith("zoom is 0 at frame 1:") and "read as 1 (no zoom)" in note
    assert (
        plan.clips[0].motion.phrase
        == build_plan(parse_settings({**HYBRID_ZOOM, "zoom": "0: (1.0)"}), T2V, seed=1)
        .clips[0]
        .motion.phrase
    )


def test_zoom_notes_count_what_they_do_not_list():
    values = np.array([1.0, 0, 0, -1, 0, 0, 0, 0, 1.0])
    fixed, notes = usable_motion({"zoom": values}, "2D")
    assert fixed["zoom"].tolist() == [1.0] * 9
    assert "-1 at frame 3" in notes[0] and "and 2 more frame(s)" in notes[0]
    assert usable_motion({"zoom": values}, "3D") == ({"zoom": values}, ())


def test_the_guide_reads_zoom_zero_as_one_and_still_refuses_nan(caplog):
    positions = np.array([0.5, 1.0, 1.5])
    zoom = np.array([1.0, 0.0, 1.0])
    assert sample_schedule({"zoom": zoom}, "zoom", positions).tolist() == [1.0, 1.0, 1.0]
    assert "zoom is 0 at frame 1" in caplog.text
    with pytest.raises(ScheduleError, match="unusable value nan"):
        sample_schedule({"zoom": np.array([1.0, np.nan])}, "zoom", positions[:1])


def test_plan_cli_refuses_a_missing_local_init_image_naming_it(capsys, tmp_path):
    path = tmp_path / "s.txt"
    path.write_text('{"use_init": true, "init_image": "nowhere.png", "max_frames": 10}')
    assert main(["plan", str(path)]) == 2
    err = capsys.readouterr().err
    assert "nowhere.png" in err and "no such file" in err
