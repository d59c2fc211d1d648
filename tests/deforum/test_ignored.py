"""Deforum settings the render ignores: one note per setting in use, none at the defaults."""

from __future__ import annotations

import pytest

from tests.conftest import FIXTURES, ROOT
from wan.core.deforum.ignored import RULES, ignored_notes, ignored_settings
from wan.core.deforum.settings import load_settings, parse_settings
from wan.core.plan import build_plan
from wan.models.identify import profile_for

# A value that puts each rule's setting in use (a Deforum user could have saved it).
IN_USE = {
    "color_coherence": "LAB",
    "color_force_grayscale": True,
    "hybrid_composite": "Normal",
    "hybrid_motion": "Optical Flow",
    "use_mask": True,
    "use_noise_mask": "true",
    "use_mask_video": True,
    "diffusion_cadence": 3,
    "optical_flow_cadence": "RAFT",
    "optical_flow_redo_generation": "DIS Fine",
    "diffusion_redo": "2",
    "enable_perspective_flip": True,
    "noise_schedule": "0: (0.02)",
    "noise_multiplier_schedule": "0: (1.1)",
    "contrast_schedule": "0: (0.9)",
    "cfg_scale_schedule": "0: (12)",
    "steps": 40,
    "steps_schedule": "0: (25)",
    "sampler": "DPM++ 2M Karras",
    "sampler_schedule": '0: ("Euler a")',
    "checkpoint_schedule": '0: ("model1.ckpt")',
    "subseed_schedule": "0: (1)",
    "clipskip_schedule": "0: (2)",
    "use_looper": True,
    "resume_from_timestring": True,
    "frame_interpolation_engine": "FILM",
    "r_upscale_video": True,
    "tiling": True,
    "restore_faces": True,
    "controlnet_enabled": True,
    **{f"cn_{unit}_enabled": True for unit in range(1, 6)},
}

# The same settings switched off or at Deforum's default: no note.
OFF = {
    "color_coherence": "None",
    "color_force_grayscale": False,
    "hybrid_composite": "None",
    "hybrid_motion": "None",
    "use_mask": False,
    "use_noise_mask": "false",
    "use_mask_video": False,
    "diffusion_cadence": 1,
    "optical_flow_cadence": "None",
    "optical_flow_redo_generation": "None",
    "diffusion_redo": "0",
    "enable_perspective_flip": False,
    "noise_schedule": "0: (0.065)",
    "noise_multiplier_schedule": "0:(1.05)",
    "contrast_schedule": "0: (1.0)",
    "cfg_scale_schedule": "0: (7)",
    "steps": 25,
    "steps_schedule": "0: (40)",  # used by Deforum only with enable_steps_scheduling
    "sampler": "Euler a",
    "sampler_schedule": '0: ("DDIM")',
    "checkpoint_schedule": '0: ("model1.ckpt")',
    "subseed_schedule": "0: (1)",
    "clipskip_schedule": "0: (2)",
    "use_looper": False,
    "resume_from_timestring": False,
    "frame_interpolation_engine": "None",
    "r_upscale_video": False,
    "tiling": False,
    "restore_faces": False,
    "controlnet_enabled": False,
    **{f"cn_{unit}_enabled": False for unit in range(1, 6)},
}


def _in_use(rule) -> dict:
    data = {rule.setting: IN_USE[rule.setting], "animation_mode": rule.modes[0]}
    if rule.requires:
        data[rule.requires] = True
    return data


def test_every_rule_has_an_example():
    assert {r.setting for r in RULES} == set(IN_USE) == set(OFF)
    assert len({r.setting for r in RULES}) == len(RULES)  # one rule, so one note, per setting


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.setting)
def test_each_ignored_setting_in_use_gives_exactly_one_note_naming_it(rule):
    found = ignored_settings(parse_settings(_in_use(rule)))
    assert [item.setting for item in found] == [rule.setting]
    notes = ignored_notes(parse_settings(_in_use(rule)))
    assert len(notes) == 1 and notes[0].startswith(f"{rule.setting} = ")
    assert repr(IN_USE[rule.setting])[:20] in notes[0] and rule.reason in notes[0]


def test_defaults_give_no_note():
    assert ignored_notes(parse_settings({})) == ()
    for mode in ("2D", "3D"):
        assert ignored_notes(parse_settings({**OFF, "animation_mode": mode})) == ()


def test_a_schedule_switch_that_is_off_hides_its_schedule():
    for rule in RULES:
        if rule.requires:
            data = {**_in_use(rule), rule.requires: False}
            assert ignored_notes(parse_settings(data)) == (), rule.setting


def test_a_scheduled_steps_or_sampler_replaces_the_plain_setting():
    data = {"steps": 40, "enable_steps_scheduling": True, "steps_schedule": "0: (40)"}
    assert [i.setting for i in ignored_settings(parse_settings(data))] == ["steps_schedule"]
    data = {"sampler": "DDIM", "enable_sampler_scheduling": True, "sampler_schedule": '0:("x")'}
    assert [i.setting for i in ignored_settings(parse_settings(data))] == ["sampler_schedule"]


def test_settings_of_the_other_mode_give_no_note():
    flip = {"animation_mode": "3D", "enable_perspective_flip": True}
    assert ignored_notes(parse_settings(flip)) == ()
    # the camera guide follows Deforum's border and padding: no note in either mode
    assert ignored_notes(parse_settings({"animation_mode": "2D", "border": "wrap"})) == ()
    assert ignored_notes(parse_settings({"animation_mode": "3D", "padding_mode": "zeros"})) == ()


def test_long_values_are_cut_in_the_note():
    coherence = "LAB" + " " * 1000
    (note,) = ignored_notes(parse_settings({"color_coherence": coherence}))
    assert note.startswith("color_coherence = 'LAB ") and len(note) < 200
    assert f"({len(coherence)} characters)" in note


def test_prompt_keys_past_max_frames_are_named_once_each():
    data = {"max_frames": 120, "prompts": {"0": "a", "60": "b", "500": "c", "max_f+5": "d"}}
    notes = ignored_notes(parse_settings(data))
    assert notes == (
        "prompt at frame 500 is past max_frames 120: never shown",
        "prompt at frame 124 ('max_f+5') is past max_frames 120: never shown",
    )
    data = {"max_frames": 120, "prompts": {"-5": "a", "0": "b", "120": "c"}}
    assert ignored_notes(parse_settings(data)) == (
        "prompt at frame -5 is before frame 0: never shown",
        "prompt at frame 120 is past max_frames 120: never shown",
    )


def test_a_lone_prompt_past_max_frames_is_shown_so_not_named():
    assert ignored_notes(parse_settings({"max_frames": 10, "prompts": {"50": "a"}})) == ()


def test_a_fixture_gives_the_notes_a_deforum_user_would_expect():
    simple = load_settings(FIXTURES / "deforum__tests_testdata_simple.input_settings.txt")
    assert ignored_notes(simple) == (
        "color_coherence = 'LAB' is ignored: Wan clips are colour-matched to the previous clip "
        "instead (render option colour_match)",
        "noise_schedule = '0: (0.04)' is ignored: Wan adds no per-frame noise: each clip is "
        "denoised from its own seed's noise",
        "steps = 1 is ignored: Wan uses its own step count (render option steps)",
        "prompt at frame 30 is past max_frames 5: never shown",
        "prompt at frame 60 is past max_frames 5: never shown",
        "prompt at frame 90 is past max_frames 5: never shown",
    )
    legacy = load_settings(FIXTURES / "zeuscsc__deforum_settings_legacy.txt")
    assert [i.setting for i in ignored_settings(legacy)] == [
        "color_coherence",
        "diffusion_cadence",
        "sampler",
        "controlnet_enabled",
    ]


def test_the_plan_carries_the_notes_without_changing_its_hash():
    profile = profile_for("tiny-t2v")
    plain = build_plan(parse_settings({}), profile, seed=1)
    noted = build_plan(parse_settings({"use_mask": True, "tiling": True}), profile, seed=1)
    assert plain.notes == () and plain.to_dict()["notes"] == []
    assert noted.to_dict()["notes"] == list(noted.notes) and len(noted.notes) == 2
    assert noted.hash == plain.hash


def test_schedules_are_compared_without_spaces_and_bare_numbers_are_constant():
    for value in ("0:(0.065)", " 0: (0.065) ", 0.065):
        assert ignored_notes(parse_settings({"noise_schedule": value})) == (), value
    (note,) = ignored_notes(parse_settings({"noise_schedule": 0.1}))
    assert note.startswith("noise_schedule = 0.1 is ignored")


def test_the_noise_multiplier_switch_is_on_when_a_file_lacks_it():
    data = {"noise_multiplier_schedule": "0: (1.2)"}
    assert [i.setting for i in ignored_settings(parse_settings(data))] == [
        "noise_multiplier_schedule"
    ]


def test_the_readme_table_gives_every_ignored_setting_its_reason():
    """The README's settings table says what the plan's notes say (diffusion_cadence is
    listed there as honoured differently: it still drives the seeds)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for rule in RULES:
        if rule.setting != "diffusion_cadence":
            assert f"| `{rule.setting}` | {rule.reason} |" in readme, rule.setting
    assert "| `diffusion_cadence` | Wan generates every frame" in readme
