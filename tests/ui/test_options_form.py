"""The Generate fields -> RenderOptions dict (and back), validated with the tab's labels."""

from __future__ import annotations

import pytest

from tests.ui.conftest import field_list
from wan.errors import OptionsError
from wan.options.render_options import merge_defaults, parse_options
from wan.ui.generate_actions import field_values
from wan.ui.options_form import (
    FIELDS,
    build_options,
    form_values,
    lora_strength_rows,
)


def values(**given):
    return dict(zip(FIELDS, field_list(**given), strict=True))


def test_fields_map_to_render_options():
    options = build_options(
        values(
            steps=4.0,
            guidance=5.5,
            seed=-1,
            loras=["loras/a.safetensors", "loras/b.safetensors"],
            lora_strengths=[["loras/b.safetensors", 1.2], ["loras/a.safetensors", 0.5]],
            offload="model",
            fp8="on",
            vae_tiling="off",
            attention="native",
            cache="mag",
            enhance=True,
            enhance_lang="zh",
            enhance_style="film noir",
            fps_mode="native",
            crossfade=True,
        ),
        {1: "a blue sea"},
    )
    assert options == {
        "model": "tiny-t2v",
        "size": "64x64",
        "steps": 4,
        "guidance": 5.5,
        "seed": -1,
        "loras": [
            {"path": "loras/a.safetensors", "strength": 0.5},
            {"path": "loras/b.safetensors", "strength": 1.2},
        ],
        "memory": {"offload": "model", "fp8": True, "vae_tiling": False, "attention": "native"},
        "cache": "mag",
        "enhance": {"enabled": True, "lang": "zh", "style": "film noir", "model": "rules"},
        "fps_mode": "native",
        "colour_match": True,
        "crossfade": True,
        "prompt_overrides": {"1": "a blue sea"},
    }
    parsed = parse_options(options)
    assert parsed.memory.fp8 is True and parsed.prompt_overrides == {1: "a blue sea"}


def test_auto_and_empty_fields_are_left_to_the_host_and_model():
    # gradio shows an empty number box as 0: steps and guidance 0 mean the model's own values
    options = build_options(values(model=None, size="auto", steps=0, guidance=0, seed=" "))
    assert "model" not in options and "size" not in options and "steps" not in options
    assert "guidance" not in options and "seed" not in options
    assert "memory" not in options and "enhance" not in options
    assert "guidance" not in build_options(values(guidance=float("nan")))


def test_the_seed_box_takes_text():
    assert build_options(values(seed=" 42 "))["seed"] == 42
    assert build_options(values(seed="0"))["seed"] == 0
    assert build_options(values(seed="-1"))["seed"] == -1


@pytest.mark.parametrize(
    ("given", "named"),
    [
        ({"steps": 2.5}, "Steps 2.5"),
        ({"seed": "lucky"}, "Seed 'lucky'"),
        ({"seed": "1.5"}, "Seed 1.5"),
        ({"size": "sixty"}, "Size 'sixty'"),
        ({"guidance": 99}, "Guidance 99"),
        ({"loras": ["a.safetensors"], "lora_strengths": [["a.safetensors", 9]]}, "LoRA strength 9"),
        ({"enhance": True, "enhance_lang": "fr"}, "Enhancement language 'fr'"),
        ({"offload": "everything"}, "Offload 'everything'"),
        ({"fp8": "maybe"}, "fp8 weights 'maybe'"),
        ({"init_image": "https://example.com/a.png"}, "Init image"),
        ({"last_image": "https://example.com/z.png"}, "Last image"),
    ],
)
def test_a_bad_field_is_named_as_the_tab_shows_it(given, named):
    with pytest.raises(OptionsError) as caught:
        build_options(values(**given))
    assert str(caught.value).startswith(named), str(caught.value)


def test_model_dropdown_label_and_file_wrappers_become_plain_values():
    class Uploaded:  # gradio 3.x hands functions a tempfile wrapper
        name = "/tmp/init.png"

    got = field_values(tuple(field_list(model="tiny-ti2v · text or image", init_image=Uploaded())))
    assert got["model"] == "tiny-ti2v" and got["init_image"] == "/tmp/init.png"
    # the box is hidden for a text-to-video model: what it still holds is not sent
    assert field_values(tuple(field_list(init_image=Uploaded())))["init_image"] is None
    # the last-image box shows for first-last-frame models only
    flf2v = field_values(tuple(field_list(model="tiny-flf2v", last_image=Uploaded())))
    assert flf2v["last_image"] == "/tmp/init.png" and build_options(flf2v)["last_image"]
    ti2v = field_values(tuple(field_list(model="tiny-ti2v", last_image=Uploaded())))
    assert ti2v["last_image"] is None


def test_form_values_show_a_runs_options_and_round_trip():
    options = build_options(
        values(
            steps=3,
            fp8="off",
            loras=["x.safetensors", "y.safetensors"],
            lora_strengths=[["x.safetensors", 0.25], ["y.safetensors", "1.5"]],
            enhance=True,
        )
    )
    shown = form_values(options)
    assert shown["steps"] == 3 and shown["fp8"] == "off" and shown["offload"] == "auto"
    assert (
        shown["guidance"] == 0 and shown["seed"] == "" and form_values({"seed": 7})["seed"] == "7"
    )
    assert shown["loras"] == ["x.safetensors", "y.safetensors"]
    assert shown["lora_strengths"] == [["x.safetensors", 0.25], ["y.safetensors", 1.5]]
    assert shown["enhance"] is True and shown["init_image"] is None
    assert build_options({**shown, "size": "64x64"}) == options


def test_host_defaults_fill_only_what_the_tab_left_out():
    merged = merge_defaults(
        {"model": "Wan2.1-T2V-1.3B", "memory": {"offload": "model"}, "enhance": {"model": "q"}},
        {"model": "tiny-t2v", "memory": {"fp8": True, "vae_tiling": None}},
    )
    assert merged == {
        "model": "tiny-t2v",
        "memory": {"offload": "model", "fp8": True},
        "enhance": {"model": "q"},
    }


def test_each_chosen_lora_has_its_own_strength_row():
    # a strength typed for a LoRA stays while others are chosen or dropped; a new one gets 1.0
    table = {"data": [["a.safetensors", 0.5], ["gone.safetensors", 2], ["", None]]}
    rows = lora_strength_rows(["b.safetensors", "a.safetensors"], table)
    assert rows == [["b.safetensors", 1.0], ["a.safetensors", 0.5]]
    assert lora_strength_rows(None, table) == []
    # a LoRA missing from the table (chosen just before Render) or an emptied cell: 1.0
    options = build_options(
        values(
            loras=["a.safetensors", "b.safetensors"],
            lora_strengths=[["b", 3], ["a.safetensors", float("nan")]],
        )
    )
    assert options["loras"] == [
        {"path": "a.safetensors", "strength": 1.0},
        {"path": "b.safetensors", "strength": 1.0},
    ]


def test_every_label_of_the_tab_names_a_real_option():
    """The tab's fields are a chosen subset of RenderOptions, mapped by hand: the map must not
    drift from the options (DESIGN.md, "One engine")."""
    from wan.options.checks import field_specs
    from wan.options.render_options import RenderOptions
    from wan.ui.options_form import LABELS

    specs = field_specs(RenderOptions)
    for path in LABELS:
        head, _, rest = path.partition(".")
        assert head in specs, path
        if rest:
            nested = specs[head].base
            inner = getattr(nested, "__args__", (nested,))[0]  # tuple[LoraOption, ...] -> item
            assert rest in field_specs(inner), path
