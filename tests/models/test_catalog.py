"""The model catalog: data shape, lookups and references, profiles, and agreement with reality."""

from __future__ import annotations

import copy
import json

import pytest
import torch

from wan.core.profiles import IMAGE, LAST_IMAGE
from wan.errors import ModelError
from wan.models import smoke
from wan.models.catalog import (
    CATALOG_PATH,
    ModelRef,
    enhancer_entries,
    get_entry,
    load_catalog,
    parse_catalog,
    parse_model_ref,
    size_class,
    wan_entries,
)
from wan.models.identify import DEFAULT_MODEL, profile_for
from wan.models.params import block_parameters, transformer_parameters
from wan.models.signature import ModelSignature

OFFICIAL = (
    "Wan2.1-T2V-1.3B",
    "Wan2.1-T2V-14B",
    "Wan2.1-I2V-14B-480P",
    "Wan2.1-I2V-14B-720P",
    "Wan2.1-FLF2V-14B-720P",
    "Wan2.1-VACE-1.3B",
    "Wan2.1-VACE-14B",
    "Wan2.2-T2V-A14B",
    "Wan2.2-I2V-A14B",
    "Wan2.2-TI2V-5B",
)
ENHANCERS = ("Qwen2.5-0.5B-Instruct", "Qwen2.5-1.5B-Instruct", "Qwen2.5-3B-Instruct")
ENHANCERS += ("Qwen2.5-7B-Instruct",)


def raw_catalog() -> dict:
    return json.loads(CATALOG_PATH.read_text(encoding="utf-8"))


# ----------------------------------------------------------------------------------------------
# Content


def test_every_model_is_listed_once():
    ids = [e.id for e in load_catalog()]
    assert len(ids) == len({i.lower() for i in ids})
    assert set(OFFICIAL) <= set(ids) and set(ENHANCERS) <= set(ids)
    assert {e.id for e in load_catalog() if e.smoke and e.kind != "lora"} == set(smoke.SMOKE_IDS)
    assert {e.id for e in enhancer_entries()} == {*ENHANCERS, "tiny-qwen"}
    assert all(e.is_wan for e in wan_entries())


def test_repos_follow_the_hub_names():
    for entry in load_catalog():
        if entry.smoke:
            assert entry.repo is None
        elif entry.is_wan:
            assert entry.repo == f"Wan-AI/{entry.id}-Diffusers"
        elif entry.kind == "depth":
            assert entry.repo == f"depth-anything/{entry.id}-hf"
        elif entry.kind == "lora":
            assert entry.repo in ("lightx2v/Wan2.1-Distill-Loras", "lightx2v/Wan2.2-Distill-Loras")
        else:
            assert entry.repo == f"Qwen/{entry.id}"


@pytest.mark.parametrize(
    ("model", "steps", "guidance", "guidance_2", "boundary", "fps", "frames", "size"),
    [
        ("Wan2.1-T2V-1.3B", 50, 5.0, None, None, 16, 81, (832, 480)),
        ("Wan2.1-T2V-14B", 50, 5.0, None, None, 16, 81, (1280, 720)),
        ("Wan2.1-I2V-14B-480P", 40, 5.0, None, None, 16, 81, (832, 480)),
        ("Wan2.1-FLF2V-14B-720P", 50, 5.0, None, None, 16, 81, (1280, 720)),
        ("Wan2.1-VACE-1.3B", 50, 5.0, None, None, 16, 81, (832, 480)),
        ("Wan2.2-T2V-A14B", 40, 4.0, 3.0, 0.875, 16, 81, (1280, 720)),
        ("Wan2.2-I2V-A14B", 40, 3.5, 3.5, 0.9, 16, 81, (1280, 720)),
        ("Wan2.2-TI2V-5B", 50, 5.0, None, None, 24, 121, (1280, 704)),
    ],
)
def test_official_defaults(model, steps, guidance, guidance_2, boundary, fps, frames, size):
    entry = get_entry(model)
    assert entry.defaults is not None
    assert (entry.defaults.steps, entry.defaults.guidance) == (steps, guidance)
    assert entry.defaults.guidance_2 == guidance_2
    assert entry.boundary_ratio == boundary
    assert (entry.native_fps, entry.max_clip_frames, entry.default_size) == (fps, frames, size)


def test_flow_shift_follows_the_size_class():
    assert get_entry("Wan2.1-T2V-14B").flow_shift_for(832, 480) == 3.0
    assert get_entry("Wan2.1-T2V-14B").flow_shift_for(1280, 720) == 5.0
    assert get_entry("Wan2.1-T2V-14B").flow_shift_for(720, 1280) == 5.0
    assert get_entry("Wan2.2-TI2V-5B").flow_shift_for(1280, 704) == 5.0
    assert get_entry("Wan2.1-T2V-1.3B").flow_shift_for(1280, 720) == 3.0  # nearest class listed
    assert (size_class(832, 480), size_class(1024, 576), size_class(1280, 704)) == (
        "480p",
        "480p",
        "720p",
    )
    with pytest.raises(ModelError, match="not a video model"):
        get_entry("Qwen2.5-3B-Instruct").flow_shift_for(832, 480)


def test_ti2v_and_versions():
    ti2v = get_entry("Wan2.2-TI2V-5B")
    assert (ti2v.pipeline, ti2v.image_pipeline) == ("WanPipeline", "WanImageToVideoPipeline")
    assert ti2v.size_multiple == 32 and ti2v.signature.expand_timesteps
    assert ti2v.signature.vae_z_dim == 48
    for entry in wan_entries():
        if entry.smoke:
            continue
        wanted = {"wan2.1": "0.33.0", "wan2.2": "0.35.0"}[entry.family]
        if entry.task in ("flf2v", "vace"):
            wanted = "0.34.0"
        assert entry.min_diffusers == wanted, entry.id


def test_architectures():
    sig = {e.id: e.signature for e in wan_entries()}
    small, big = sig["Wan2.1-T2V-1.3B"].transformer, sig["Wan2.1-T2V-14B"].transformer
    assert (small.num_layers, small.num_attention_heads, small.ffn_dim) == (30, 12, 8960)
    assert (big.num_layers, big.num_attention_heads, big.ffn_dim, big.hidden_size) == (
        40,
        40,
        13824,
        5120,
    )
    i2v = sig["Wan2.1-I2V-14B-480P"]
    assert (i2v.transformer.in_channels, i2v.transformer.image_dim, i2v.image_encoder) == (
        36,
        1280,
        True,
    )
    assert sig["Wan2.1-FLF2V-14B-720P"].transformer.pos_embed_seq_len == 514
    assert sig["Wan2.1-VACE-1.3B"].transformer.vace_layers == tuple(range(0, 30, 2))
    assert sig["Wan2.1-VACE-14B"].transformer.vace_layers == tuple(range(0, 40, 5))
    a14b = sig["Wan2.2-I2V-A14B"]
    assert (a14b.experts, a14b.transformer.in_channels, a14b.transformer.image_dim) == (2, 36, None)
    ti2v = sig["Wan2.2-TI2V-5B"].transformer
    assert (ti2v.num_layers, ti2v.num_attention_heads, ti2v.ffn_dim, ti2v.in_channels) == (
        30,
        24,
        14336,
        48,
    )


def test_signatures_round_trip_through_their_dicts():
    for entry in wan_entries():
        assert ModelSignature.from_dict(entry.signature.to_dict()) == entry.signature


# ----------------------------------------------------------------------------------------------
# Parameter counts


def test_transformer_formula_matches_the_stored_counts():
    """The documented formula (`transformer_parameters`) gives the JSON's counts for every model."""
    for entry in wan_entries():
        assert transformer_parameters(entry.signature.transformer) == entry.params.transformer, (
            entry.id
        )
    small = get_entry("Wan2.1-T2V-1.3B").params.transformer
    big = get_entry("Wan2.1-T2V-14B").params.transformer
    assert small == pytest.approx(1.42e9, rel=0.01)  # docs/FACTS.md: 1.42 B
    assert big == pytest.approx(1.43e10, rel=0.01)  # docs/FACTS.md: 14.3 B


@pytest.mark.parametrize(
    "model",
    ["Wan2.1-T2V-1.3B", "Wan2.1-FLF2V-14B-720P", "Wan2.1-VACE-1.3B", "Wan2.2-TI2V-5B"],
)
def test_transformer_formula_matches_diffusers(model):
    """The formula against the real module, built on the meta device (no memory, no weights)."""
    from diffusers import WanTransformer3DModel, WanVACETransformer3DModel

    shape = get_entry(model).signature.transformer
    kwargs = {
        "num_attention_heads": shape.num_attention_heads,
        "attention_head_dim": shape.attention_head_dim,
        "in_channels": shape.in_channels,
        "out_channels": shape.out_channels,
        "ffn_dim": shape.ffn_dim,
        "num_layers": shape.num_layers,
        "text_dim": shape.text_dim,
    }
    if shape.image_dim:
        kwargs |= {"image_dim": shape.image_dim, "added_kv_proj_dim": shape.hidden_size}
        kwargs["pos_embed_seq_len"] = shape.pos_embed_seq_len
    cls = WanTransformer3DModel
    if shape.vace_layers:
        cls = WanVACETransformer3DModel
        kwargs |= {"vace_layers": list(shape.vace_layers), "vace_in_channels": 96}
    with torch.device("meta"):
        module = cls(**kwargs)
    assert sum(p.numel() for p in module.parameters()) == transformer_parameters(shape)
    assert sum(p.numel() for p in module.blocks[0].parameters()) == block_parameters(shape)


def test_component_counts():
    for entry in wan_entries():
        if entry.smoke:
            continue
        p = entry.params
        assert p.text_encoder == pytest.approx(5.7e9, rel=0.01)  # UMT5-XXL
        vae = 7.0e8 if entry.signature.vae_z_dim == 48 else 1.27e8
        assert p.vae == pytest.approx(vae, rel=0.01)
        assert p.image_encoder == (630_766_080 if entry.signature.image_encoder else 0)
    assert get_entry("Qwen2.5-7B-Instruct").params.language_model == pytest.approx(7.6e9, rel=0.01)


# ----------------------------------------------------------------------------------------------
# References and lookups


@pytest.mark.parametrize(
    ("text", "ref"),
    [
        ("Wan2.1-T2V-1.3B", ModelRef("Wan2.1-T2V-1.3B")),
        (" wan2.2-ti2v-5b ", ModelRef("wan2.2-ti2v-5b")),
        (
            "Wan-AI/Wan2.1-T2V-14B-Diffusers@main",
            ModelRef("Wan-AI/Wan2.1-T2V-14B-Diffusers", "main"),
        ),
        ("Wan2.1-T2V-1.3B@refs/pr/3#fp16", ModelRef("Wan2.1-T2V-1.3B", "refs/pr/3", "fp16")),
        ("Wan2.1-T2V-1.3B#bf16", ModelRef("Wan2.1-T2V-1.3B", None, "bf16")),
    ],
)
def test_parse_model_ref(text, ref):
    assert parse_model_ref(text) == ref
    assert parse_model_ref(str(ref)) == ref


@pytest.mark.parametrize("text", ["", "a b", "x@", "x#", "x@a@b", "x#a#b", "@main", "x#fp 16"])
def test_parse_model_ref_rejects(text):
    with pytest.raises(ModelError, match=r"ID\[@REVISION\]\[#VARIANT\]"):
        parse_model_ref(text)


@pytest.mark.parametrize(
    "text",
    [
        "Wan2.2-TI2V-5B",
        "wan2.2-ti2v-5b",
        "Wan-AI/Wan2.2-TI2V-5B-Diffusers",
        "wan-ai/wan2.2-ti2v-5b-diffusers",
        "Wan2.2-TI2V-5B-Diffusers",
        "Wan-AI/Wan2.2-TI2V-5B",
        "Wan2.2-TI2V-5B@main#bf16",
    ],
)
def test_get_entry_aliases(text):
    assert get_entry(text).id == "Wan2.2-TI2V-5B"


def test_get_entry_enhancers_and_unknown():
    assert get_entry("Qwen/Qwen2.5-3B-Instruct").id == "Qwen2.5-3B-Instruct"
    assert get_entry("TINY-QWEN").kind == "enhancer"
    with pytest.raises(ModelError, match=r"unknown model 'nope'; video models: Wan2\.1-T2V-1\.3B"):
        get_entry("nope")


# ----------------------------------------------------------------------------------------------
# Profiles (the planner's view of a catalog entry)


def test_profiles_come_from_the_catalog():
    for entry in wan_entries():
        profile = profile_for(entry.id)
        assert profile == entry.profile()
        assert profile.max_clip_frames == entry.max_clip_frames
        assert profile.sizes == entry.sizes
    assert profile_for(None).id == DEFAULT_MODEL
    assert profile_for("Wan2.1-FLF2V-14B-720P").inputs == frozenset({IMAGE, LAST_IMAGE})
    assert profile_for("tiny-vace").takes("video") and profile_for("tiny-vace").takes("reference")
    assert not profile_for("tiny-vace").takes("mask")  # the planner does not reason about masks


def test_enhancers_have_no_profile():
    with pytest.raises(ModelError, match="prompt model"):
        profile_for("Qwen2.5-0.5B-Instruct")
    with pytest.raises(ModelError, match="prompt model"):
        get_entry("tiny-qwen").profile()
    with pytest.raises(ModelError, match="unknown model 'nope'"):
        profile_for("nope")


# ----------------------------------------------------------------------------------------------
# Validation


def _broken(model_id: str, **changes) -> dict:
    data = copy.deepcopy(raw_catalog())
    for item in data["models"]:
        if item["id"] == model_id:
            for path, value in changes.items():
                target = item
                *parents, leaf = path.split("__")
                for key in parents:
                    target = target[key]
                target[leaf] = value
    return data


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"task": "t2i"}, "task 't2i'"),
        ({"kind": "lora"}, "kind 'lora'"),
        ({"max_clip_frames": 80}, "4n\\+1"),
        ({"sizes": [[830, 480]]}, "multiple of 16"),
        ({"pipeline": "WanImageToVideoPipeline"}, "signature.pipeline"),
        ({"defaults__guidance_2": 3.0}, "guidance_2 iff two experts"),
        ({"defaults__flow_shift": {"720p": 5.0}}, "default size's class"),
        ({"repo": None}, "Hub 'repo'"),
        ({"signature__experts": 2}, "two experts"),
        ({"params": {"transformer": 1}}, "params needs"),
        ({"inputs": ["image"]}, "takes 'text'"),
        ({"defaults": None}, "malformed"),
    ],
)
def test_validation_names_the_model_and_the_problem(changes, message):
    with pytest.raises(ModelError, match=rf"catalog.json: model 'Wan2.1-T2V-1.3B': .*{message}"):
        parse_catalog(_broken("Wan2.1-T2V-1.3B", **changes))


def test_validation_of_the_document():
    with pytest.raises(ModelError, match="'models' list"):
        parse_catalog({"models": []})
    data = raw_catalog()
    data["models"].append(copy.deepcopy(data["models"][0]))
    with pytest.raises(ModelError, match="also used by"):
        parse_catalog(data)
    data = raw_catalog()
    data["models"][1]["repo"] = data["models"][0]["repo"]
    with pytest.raises(ModelError, match="also used by"):
        parse_catalog(data)


def test_the_shipped_file_is_valid_and_cached():
    assert parse_catalog(raw_catalog()) == load_catalog()
    assert load_catalog() is load_catalog()


# ----------------------------------------------------------------------------------------------
# Smoke models: the catalog's values are the ones smoke.py builds


def _built_signature(pipe) -> tuple[ModelSignature, dict[str, int]]:
    cfg = pipe.transformer.config
    vace = cfg.get("vace_layers")
    shape = {
        "num_layers": cfg.num_layers,
        "num_attention_heads": cfg.num_attention_heads,
        "attention_head_dim": cfg.attention_head_dim,
        "in_channels": cfg.in_channels,
        "out_channels": cfg.out_channels,
        "ffn_dim": cfg.ffn_dim,
        "text_dim": cfg.text_dim,
        "image_dim": cfg.image_dim,
        "pos_embed_seq_len": cfg.pos_embed_seq_len,
        "vace_layers": list(vace) if vace is not None else None,
        "vace_in_channels": cfg.get("vace_in_channels") if vace is not None else None,
    }
    signature = ModelSignature.from_dict(
        {
            "pipeline": type(pipe).__name__,
            "transformer": shape,
            "experts": 2 if getattr(pipe, "transformer_2", None) is not None else 1,
            "boundary_ratio": pipe.config.get("boundary_ratio"),
            "vae_z_dim": pipe.vae.config.z_dim,
            "image_encoder": getattr(pipe, "image_encoder", None) is not None,
            "expand_timesteps": bool(pipe.config.get("expand_timesteps") or False),
        }
    )
    counts = {
        name: sum(p.numel() for p in module.parameters())
        for name, module in pipe.components.items()
        if isinstance(module, torch.nn.Module) and name != "transformer_2"
    }
    return signature, counts


@pytest.mark.parametrize("model", smoke.WAN_SMOKE_IDS)
def test_smoke_entries_match_the_built_models(model, smoke_root):
    from diffusers import DiffusionPipeline

    pipe = DiffusionPipeline.from_pretrained(smoke.ensure_smoke_model(model, root=smoke_root))
    signature, counts = _built_signature(pipe)
    entry = get_entry(model)
    assert signature == entry.signature
    assert counts == entry.params.to_dict()


def test_smoke_enhancer_matches_the_built_model(smoke_root):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(smoke.ensure_smoke_model("tiny-qwen", smoke_root))
    assert (
        sum(p.numel() for p in model.parameters()) == get_entry("tiny-qwen").params.language_model
    )
