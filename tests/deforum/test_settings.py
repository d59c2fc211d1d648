import json

import pytest

from tests.conftest import FIXTURES, SETTINGS_FILES
from wan.core.deforum.settings import (
    STYLE_LEGACY,
    STYLE_RUN,
    STYLE_UI,
    load_settings,
    parse_settings,
)
from wan.errors import SettingsError


def test_every_fixture_file_is_found():
    missing = [str(path) for path in SETTINGS_FILES if not path.is_file()]
    assert not missing, f"Deforum settings fixtures missing from the repository: {missing}"
    assert sorted(FIXTURES.glob("*.txt")) == SETTINGS_FILES  # none goes untested


@pytest.mark.parametrize("path", SETTINGS_FILES, ids=lambda p: p.name)
def test_every_fixture_file_loads(path):
    settings = load_settings(path)
    assert settings.mode in ("2D", "3D")
    assert settings.max_frames >= 1 and settings.fps > 0
    assert settings.prompts and all(isinstance(text, str) for _, text in settings.prompts)
    assert settings.schedules["translation_x"]
    json.dumps(settings.to_dict())


def test_styles_are_recognised():
    styles = {p.name: load_settings(p).style for p in SETTINGS_FILES}
    assert styles["zeuscsc__deforum_settings_legacy.txt"] == STYLE_LEGACY
    assert styles["deforum__scripts_default_settings.txt"] == STYLE_RUN
    assert styles["SirSatly__deforum_brutalism_settings.txt"] == STYLE_UI


def test_legacy_numbers_stored_as_text_and_missing_keys():
    settings = load_settings(FIXTURES / "zeuscsc__deforum_settings_legacy.txt")
    assert settings.diffusion_cadence == 2  # stored as "2"
    assert settings.fps == 15  # missing: Deforum's default
    assert settings.init_image.startswith("https://")  # a URL is fine while use_init is off
    assert settings.raw["controlnet_module"] == "openpose"  # unknown keys are kept


def test_run_saved_prompts_are_already_merged():
    settings = load_settings(FIXTURES / "deforum__scripts_default_settings.txt")
    assert settings.prompts_merged and settings.negative_prompt == "nsfw, nude"


def test_run_folder_loads_its_newest_settings_file(tmp_path):
    data = json.loads((FIXTURES / "deforum__scripts_default_settings.txt").read_text())
    (tmp_path / "20230101000000_settings.txt").write_text(json.dumps({**data, "max_frames": 10}))
    (tmp_path / "20240101000000_settings.txt").write_text(json.dumps({**data, "max_frames": 20}))
    assert load_settings(tmp_path).max_frames == 20


def test_empty_folder_is_a_clear_error(tmp_path):
    with pytest.raises(SettingsError, match=r"no '\*_settings\.txt'"):
        load_settings(tmp_path)


def test_dict_with_defaults():
    settings = load_settings({"prompts": {"0": "a cat"}})
    assert (settings.mode, settings.max_frames, settings.fps) == ("2D", 120, 15)
    assert (settings.width, settings.height, settings.seed) == (512, 512, -1)
    assert settings.schedules["zoom"] == "0: (1.0025+0.002*sin(1.25*3.14*t/30))"
    assert settings.negative_prompt == "nsfw, nude"
    assert settings.source == "<dict>"


def test_prompts_as_json_text_and_legacy_key():
    settings = parse_settings({"animation_prompts": '{"0": "a", "10": "b"}'})
    assert settings.prompts == (("0", "a"), ("10", "b"))


def test_bare_number_schedule_is_constant():
    assert parse_settings({"translation_x": 2}).schedules["translation_x"] == "0: (2)"


@pytest.mark.parametrize(
    "data, message",
    [
        ({"max_frames": 0}, "'max_frames' is 0; it must be at least 1"),
        ({"max_frames": "ten"}, "'max_frames' is 'ten'; it must be a number"),
        ({"max_frames": 2.5}, "'max_frames' is 2.5; it must be a whole number"),
        ({"fps": 0}, "'fps' is 0.0; it must be greater than 0"),
        ({"fps": "nan"}, "'fps' is 'nan'; it must be a finite number"),
        ({"W": -5}, "'W' is -5"),
        ({"H": True}, "'H' is True; it must be a number"),
        ({"seed": -7}, "'seed' is -7"),
        ({"use_init": "maybe"}, "'use_init' is 'maybe'; it must be true or false"),
        ({"animation_mode": "4D"}, "is not a Deforum mode"),
        ({"seed_behavior": "wobble"}, "seed_behavior 'wobble' is unknown"),
        ({"prompts": ["a"]}, "'prompts' must be an object"),
        ({"prompts": {"0": 5}}, "prompts\\['0'\\] must be text"),
        ({"prompts": "{not json"}, "'prompts' is text but not a JSON object"),
        ({"zoom": ["0:(1)"]}, "'zoom' must be a schedule string"),
    ],
)
def test_bad_values_name_the_key(data, message):
    with pytest.raises(SettingsError, match=message):
        parse_settings(data, "s.json")


def test_not_a_dict():
    with pytest.raises(SettingsError, match="must be a JSON object, got list"):
        parse_settings([1, 2])


def test_bad_files(tmp_path):
    with pytest.raises(SettingsError, match="no such settings file"):
        load_settings(tmp_path / "missing.txt")
    broken = tmp_path / "broken.txt"
    broken.write_text('{"max_frames": 10,\n "fps": }')
    with pytest.raises(SettingsError, match="invalid JSON at line 2, column"):
        load_settings(broken)


@pytest.mark.parametrize("mode", ["Video Input", "Interpolation"])
def test_every_deforum_mode_is_read(mode):
    """`schedules` evaluates every file Deforum evaluates: the plan refuses what Wan cannot
    render (tests/test_plan_deforum_refusals.py)."""
    assert parse_settings({"animation_mode": mode}).mode == mode


def test_empty_prompts_read_as_one_empty_prompt_with_a_note():
    settings = parse_settings({"prompts": {}})
    assert settings.prompts == (("0", ""),)
    assert any("prompts is empty" in note for note in settings.notes)


@pytest.mark.parametrize("image", [None, "", "None"])
def test_use_init_without_an_image_is_off_with_a_note(image):
    settings = parse_settings({"use_init": True, "init_image": image})
    assert not settings.use_init and settings.init_image is None
    assert any("use_init is on but init_image is empty: ignored" in n for n in settings.notes)


def test_a_url_init_image_is_kept_for_the_render_to_download():
    settings = parse_settings({"use_init": True, "init_image": "https://x/y.png"})
    assert settings.use_init and settings.init_image == "https://x/y.png" and not settings.notes


def test_local_init_image_is_kept():
    settings = parse_settings({"use_init": "true", "init_image": "C:/img/start.png"})
    assert settings.use_init and settings.init_image == "C:/img/start.png"


def test_settings_are_immutable():
    settings = parse_settings({})
    with pytest.raises(AttributeError):
        settings.max_frames = 3
    with pytest.raises(TypeError):
        settings.schedules["zoom"] = "0:(1)"
