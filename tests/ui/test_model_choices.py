"""The model dropdown's labels, the init-image rule, sizes, LoRAs and the default model."""

from __future__ import annotations

import pytest

from wan.models.store import StoreConfig
from wan.ui.generate_actions import GenerateActions
from wan.ui.model_choices import (
    choice_for,
    default_choice,
    image_need,
    lora_files,
    model_choices,
    ref_from_choice,
    size_choices,
)


@pytest.fixture
def choices(tmp_path):
    return model_choices(StoreConfig(models_dir_flag=str(tmp_path / "models")))


def test_labels_say_what_each_model_takes_and_give_the_reference_back(choices):
    labels = {c.ref: c.label for c in choices}
    assert labels["tiny-t2v"] == (
        "tiny-t2v · text to video · smoke model (tiny, random: output is noise)"
    )
    assert labels["Wan2.1-I2V-14B-480P"] == (
        "Wan2.1-I2V-14B-480P · image to video, needs an init image · "
        "not installed (download it in Models)"
    )
    assert "text or image to video" in labels["Wan2.2-TI2V-5B"]
    assert all(ref_from_choice(c.label) == c.ref for c in choices)
    assert ref_from_choice("/models/my-wan") == "/models/my-wan"
    assert ref_from_choice("  ") is None
    assert choice_for("TINY-T2V", choices) == labels["tiny-t2v"]
    assert choice_for("/models/my-wan", choices) == "/models/my-wan"
    # nothing installed here: catalog models come before the smoke models
    assert not any(c.installed for c in choices)
    assert choices[-1].smoke and not choices[0].smoke


def test_an_installed_model_comes_first_and_is_the_default(tmp_path):
    folder = tmp_path / "models" / "Wan2.1-T2V-1.3B-Diffusers"
    folder.mkdir(parents=True)
    (folder / "model_index.json").write_text("{}")
    choices = model_choices(StoreConfig(models_dir_flag=str(tmp_path / "models")))
    assert choices[0].ref == "Wan2.1-T2V-1.3B" and choices[0].installed
    assert choices[0].label.endswith(" · installed")
    assert default_choice({}, choices) == choices[0].label
    assert ref_from_choice(default_choice({"model": "tiny-ti2v"}, choices)) == "tiny-ti2v"


def test_without_installed_models_the_default_is_the_catalogs(choices):
    assert ref_from_choice(default_choice({}, choices)) == "Wan2.1-T2V-1.3B"


@pytest.mark.parametrize(
    ("ref", "need"),
    [
        ("tiny-t2v", "none"),
        ("Wan2.1-T2V-14B", "none"),
        ("tiny-i2v", "required"),
        ("Wan2.2-I2V-A14B", "required"),
        ("Wan2.1-FLF2V-14B-720P", "required"),
        ("tiny-ti2v", "optional"),
        ("Wan2.1-VACE-1.3B", "optional"),
        ("no-such-model", "none"),
        (None, "none"),
    ],
)
def test_the_init_image_shows_only_for_models_that_take_one(ref, need):
    assert image_need(ref) == need


def test_changing_the_model_updates_sizes_and_the_init_image(host, idle_queue):
    actions = GenerateActions(idle_queue, host)
    sizes, image = actions.model_changed("tiny-i2v · image to video", "832x480")
    assert sizes["choices"] == ["auto", "64x64"] and sizes["value"] == "auto"
    assert image["visible"] is True and "required" in image["label"]
    sizes, image = actions.model_changed("Wan2.1-T2V-14B", "832x480")
    assert sizes["value"] == "832x480" and image["visible"] is False
    assert size_choices("Wan2.1-T2V-1.3B") == ["auto", "832x480", "480x832"]


def test_lora_files_are_found_in_subfolders(tmp_path):
    (tmp_path / "a" / "style").mkdir(parents=True)
    (tmp_path / "a" / "style" / "ink.safetensors").write_bytes(b"")
    (tmp_path / "a" / "notes.txt").write_text("")
    found = lora_files([tmp_path / "a", tmp_path / "missing"])
    assert found == [str(tmp_path / "a" / "style" / "ink.safetensors")]


def test_the_memory_estimate_is_shown_for_this_machine(host, idle_queue):
    actions = GenerateActions(idle_queue, host)
    text = actions.estimate(
        "tiny-t2v", "64x64", "auto", "auto", "auto", "auto", "auto", False, "quality"
    )
    assert text.startswith("**Memory plan** on ") and "at 64x64, 17 frames per clip" in text
    forced = actions.estimate(
        "Wan2.1-T2V-1.3B", "auto", "none", "on", "auto", "auto", "auto", 0, "quality"
    )
    assert "fp8: set by you" in forced or "Does not fit" in forced
    assert "Offload 'everywhere'" in actions.estimate(
        "tiny-t2v", "auto", "everywhere", "auto", "auto", "auto", "auto", False, "quality"
    )


def installed_copy(tmp_path, smoke_root, truncate: bool) -> StoreConfig:
    """tiny-t2v's files installed as Wan2.1-T2V-1.3B; with `truncate`, its transformer's
    weights cut short (what `check` calls NOT USABLE)."""
    import shutil

    from wan.models.smoke import ensure_smoke_model

    folder = tmp_path / "models" / "Wan2.1-T2V-1.3B-Diffusers"
    shutil.copytree(ensure_smoke_model("tiny-t2v", root=smoke_root), folder)
    if truncate:
        weights = folder / "transformer" / "diffusion_pytorch_model.safetensors"
        weights.write_bytes(weights.read_bytes()[:-100])
    return StoreConfig(models_dir_flag=str(tmp_path / "models"))


def test_an_unusable_installed_model_is_labelled_so_and_never_preselected(tmp_path, smoke_root):
    """It became the tab's default model in both gradio versions."""
    choices = model_choices(installed_copy(tmp_path, smoke_root, truncate=True))
    [broken] = [c for c in choices if c.installed]
    assert not broken.usable and "NOT USABLE: transformer/" in broken.label
    assert default_choice({}, choices) is None  # nothing usable but smoke models is installed
    assert default_choice({"model": "Wan2.1-T2V-1.3B"}, choices) is None  # not even if named
    assert ref_from_choice(default_choice({"model": "tiny-t2v"}, choices)) == "tiny-t2v"
    assert ref_from_choice(broken.label) == "Wan2.1-T2V-1.3B"


def test_a_usable_installed_model_is_the_default(tmp_path, smoke_root):
    choices = model_choices(installed_copy(tmp_path, smoke_root, truncate=False))
    assert choices[0].usable and choices[0].label.endswith(" · installed")
    assert default_choice({}, choices) == choices[0].label


@pytest.mark.parametrize("truncate", [True, False])
def test_the_tab_built_by_gradio_preselects_only_a_usable_model(
    tmp_path, smoke_root, host, idle_queue, truncate
):
    from tests.ui.conftest import config_of
    from wan.ui import build_tab

    installed_copy(tmp_path, smoke_root, truncate)
    config = config_of(build_tab(idle_queue, host))
    [dropdown] = [c for c in config["components"] if c["props"].get("elem_id") == "wan_model"]
    value = dropdown["props"].get("value")
    if truncate:
        assert not value and any("NOT USABLE" in str(c) for c in dropdown["props"]["choices"])
    else:
        assert ref_from_choice(value) == "Wan2.1-T2V-1.3B"
