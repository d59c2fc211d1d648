"""Detection from configs alone (hand-made folders shaped like the released models, the smoke
models, other kinds of folders) and matching signatures against catalog entries."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from wan.models.detect import detect_model, shape_from_config
from wan.models.match import describe, match_catalog
from wan.models.params import transformer_parameters
from wan.models.signature import ModelSignature, TransformerShape, guess_task

T2V_13B = {"num_attention_heads": 12, "ffn_dim": 8960, "num_layers": 30}
T2V_14B = {"num_attention_heads": 40, "ffn_dim": 13824, "num_layers": 40}
I2V_14B = {**T2V_14B, "in_channels": 36, "image_dim": 1280, "added_kv_proj_dim": 5120}
TI2V_5B = {"num_attention_heads": 24, "ffn_dim": 14336, "num_layers": 30}
TI2V_5B |= {"in_channels": 48, "out_channels": 48}


def transformer_config(cls: str = "WanTransformer3DModel", **overrides: Any) -> dict[str, Any]:
    """A transformer config.json as the released -Diffusers repos write it."""
    return {
        "_class_name": cls,
        "_diffusers_version": "0.33.0",
        "added_kv_proj_dim": None,
        "attention_head_dim": 128,
        "cross_attn_norm": True,
        "eps": 1e-06,
        "ffn_dim": 8960,
        "freq_dim": 256,
        "image_dim": None,
        "in_channels": 16,
        "num_attention_heads": 12,
        "num_layers": 30,
        "out_channels": 16,
        "patch_size": [1, 2, 2],
        "qk_norm": "rms_norm_across_heads",
        "rope_max_seq_len": 1024,
        "text_dim": 4096,
        **overrides,
    }


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def write_folder(
    root: Path,
    pipeline: str,
    transformer: dict[str, Any],
    *,
    experts: int = 1,
    boundary_ratio: float | None = None,
    vae_z_dim: int = 16,
    clip: bool = False,
    expand_timesteps: bool | None = None,
) -> Path:
    """model_index.json and component configs (no weights: detection reads none)."""
    index: dict[str, Any] = {
        "_class_name": pipeline,
        "_diffusers_version": "0.35.0",
        "scheduler": ["diffusers", "UniPCMultistepScheduler"],
        "text_encoder": ["transformers", "UMT5EncoderModel"],
        "tokenizer": ["transformers", "T5TokenizerFast"],
        "transformer": ["diffusers", transformer["_class_name"]],
        "transformer_2": ["diffusers", transformer["_class_name"]]
        if experts == 2
        else [None, None],
        "vae": ["diffusers", "AutoencoderKLWan"],
        "boundary_ratio": boundary_ratio,
    }
    if expand_timesteps is not None:
        index["expand_timesteps"] = expand_timesteps
    if clip:
        index["image_encoder"] = ["transformers", "CLIPVisionModel"]
        index["image_processor"] = ["transformers", "CLIPImageProcessor"]
        write_json(root / "image_encoder" / "config.json", {"hidden_size": 1280})
    elif pipeline == "WanImageToVideoPipeline":
        index["image_encoder"] = [None, None]
        index["image_processor"] = [None, None]
    write_json(root / "model_index.json", index)
    write_json(root / "transformer" / "config.json", transformer)
    if experts == 2:
        write_json(root / "transformer_2" / "config.json", transformer)
    write_json(
        root / "vae" / "config.json", {"_class_name": "AutoencoderKLWan", "z_dim": vae_z_dim}
    )
    write_json(root / "text_encoder" / "config.json", {"d_model": 4096})
    write_json(root / "scheduler" / "scheduler_config.json", {"flow_shift": 3.0})
    return root


# Released models: (folder spec, task, experts, transformer parameters in billions)
RELEASED: dict[str, tuple[dict[str, Any], str, int, float]] = {
    "Wan2.1-T2V-1.3B": ({"transformer": transformer_config(**T2V_13B)}, "t2v", 1, 1.42),
    "Wan2.1-T2V-14B": ({"transformer": transformer_config(**T2V_14B)}, "t2v", 1, 14.29),
    "Wan2.1-I2V-14B-480P": (
        {"pipeline": "WanImageToVideoPipeline", "transformer": transformer_config(**I2V_14B)}
        | {"clip": True},
        "i2v",
        1,
        16.39,
    ),
    "Wan2.1-FLF2V-14B-720P": (
        {"pipeline": "WanImageToVideoPipeline", "clip": True}
        | {"transformer": transformer_config(**I2V_14B, pos_embed_seq_len=514)},
        "flf2v",
        1,
        16.40,
    ),
    "Wan2.1-VACE-1.3B": (
        {"pipeline": "WanVACEPipeline"}
        | {
            "transformer": transformer_config(
                "WanVACETransformer3DModel",
                **T2V_13B,
                vace_layers=list(range(0, 30, 2)),
                vace_in_channels=96,
            )
        },
        "vace",
        1,
        2.15,
    ),
    "Wan2.1-VACE-14B": (
        {"pipeline": "WanVACEPipeline"}
        | {
            "transformer": transformer_config(
                "WanVACETransformer3DModel",
                **T2V_14B,
                vace_layers=[0, 5, 10, 15, 20, 25, 30, 35],
                vace_in_channels=96,
            )
        },
        "vace",
        1,
        17.34,
    ),
    "Wan2.2-T2V-A14B": (
        {"transformer": transformer_config(**T2V_14B), "experts": 2, "boundary_ratio": 0.875},
        "t2v",
        2,
        14.29,
    ),
    "Wan2.2-I2V-A14B": (
        {"pipeline": "WanImageToVideoPipeline", "experts": 2, "boundary_ratio": 0.9}
        | {"transformer": transformer_config(**T2V_14B, in_channels=36)},
        "i2v",
        2,
        14.29,
    ),
    "Wan2.2-TI2V-5B": (
        {"transformer": transformer_config(**TI2V_5B), "vae_z_dim": 48, "expand_timesteps": True},
        "ti2v",
        1,
        5.00,
    ),
}


def write_released(root: Path, name: str) -> Path:
    spec = dict(RELEASED[name][0])
    pipeline = spec.pop("pipeline", "WanPipeline")
    transformer = spec.pop("transformer")
    return write_folder(root / name, pipeline, transformer, **spec)


@pytest.mark.parametrize("name", sorted(RELEASED))
def test_detects_each_released_architecture(tmp_path: Path, name: str) -> None:
    _, task, experts, billions = RELEASED[name]
    detection = detect_model(write_released(tmp_path, name))
    assert detection.kind == "diffusers"
    assert detection.problems == ()
    assert detection.task == task
    signature = detection.signature
    assert signature is not None and signature.experts == experts
    assert round(detection.transformer_params / 1e9, 2) == billions
    assert signature.pipeline == detection.pipeline
    assert dict(detection.components)["transformer"].startswith("Wan")
    data = json.loads(json.dumps(detection.to_dict()))
    assert ModelSignature.from_dict(data["signature"]) == signature


def test_released_signature_details(tmp_path: Path) -> None:
    a14b = detect_model(write_released(tmp_path, "Wan2.2-T2V-A14B")).signature
    assert (a14b.experts, a14b.boundary_ratio) == (2, 0.875)
    i2v = detect_model(write_released(tmp_path, "Wan2.1-I2V-14B-480P")).signature
    assert i2v.image_encoder and i2v.transformer.image_dim == 1280
    i2v_a14b = detect_model(write_released(tmp_path, "Wan2.2-I2V-A14B")).signature
    assert not i2v_a14b.image_encoder and i2v_a14b.transformer.image_dim is None
    ti2v = detect_model(write_released(tmp_path, "Wan2.2-TI2V-5B")).signature
    assert (ti2v.vae_z_dim, ti2v.expand_timesteps) == (48, True)
    vace = detect_model(write_released(tmp_path, "Wan2.1-VACE-14B")).signature
    assert vace.transformer.vace_layers == (0, 5, 10, 15, 20, 25, 30, 35)
    flf2v = detect_model(write_released(tmp_path, "Wan2.1-FLF2V-14B-720P")).signature
    assert flf2v.transformer.pos_embed_seq_len == 514


def test_a_finetune_with_an_unusual_shape_is_still_a_wan_model(tmp_path: Path) -> None:
    config = transformer_config(num_layers=24, ffn_dim=6000)
    detection = detect_model(write_folder(tmp_path / "ft", "WanPipeline", config))
    assert detection.kind == "diffusers" and detection.problems == ()
    assert detection.signature.transformer.num_layers == 24


def test_missing_keys_take_diffusers_defaults() -> None:
    shape = shape_from_config({"_class_name": "WanTransformer3DModel", "out_channels": None})
    assert (shape.num_layers, shape.hidden_size, shape.out_channels) == (40, 5120, 16)


# ----------------------------------------------------------------------------------------------
# Not Wan, not a model, broken


def test_a_stable_diffusion_folder_is_not_wan(tmp_path: Path) -> None:
    folder = tmp_path / "sd15"
    write_json(folder / "model_index.json", {"_class_name": "StableDiffusionPipeline"})
    detection = detect_model(folder)
    assert detection.kind == "not_wan" and detection.signature is None
    message = detection.problems[0]
    assert "StableDiffusionPipeline" in message and "Wan Diffusers folder" in message


def test_an_empty_folder_and_a_missing_path(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    empty = detect_model(tmp_path / "empty")
    assert empty.kind == "not_wan" and "is empty" in empty.problems[0]
    missing = detect_model(tmp_path / "nowhere")
    assert missing.kind == "unknown" and "does not exist" in missing.problems[0]


def test_folders_without_model_index(tmp_path: Path) -> None:
    lone = tmp_path / "lone"
    write_json(lone / "config.json", transformer_config(**T2V_13B))
    detection = detect_model(lone)
    assert detection.kind == "unknown" and detection.task == "t2v"
    assert "without model_index.json" in detection.problems[0]

    files = tmp_path / "checkpoints"
    files.mkdir()
    (files / "a.safetensors").write_bytes(b"")
    assert "point at the file itself" in detect_model(files).problems[0]

    original = tmp_path / "Wan2.1-T2V-1.3B"
    original.mkdir()
    (original / "Wan2.1_VAE.pth").write_bytes(b"")
    assert "-Diffusers version" in detect_model(original).problems[0]

    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("hello")
    assert detect_model(other).kind == "not_wan"


def test_unsupported_wan_pipeline(tmp_path: Path) -> None:
    write_json(tmp_path / "model_index.json", {"_class_name": "WanAnimatePipeline"})
    detection = detect_model(tmp_path)
    assert detection.kind == "unknown" and "does not run" in detection.problems[0]


def test_broken_folders_report_where_and_what(tmp_path: Path) -> None:
    folder = write_released(tmp_path, "Wan2.1-T2V-1.3B")
    (folder / "transformer" / "config.json").unlink()
    detection = detect_model(folder)
    assert detection.kind == "unknown"
    assert (
        "transformer" in detection.problems[0] and "config.json is missing" in detection.problems[0]
    )

    folder = write_released(tmp_path, "Wan2.1-T2V-14B")
    (folder / "model_index.json").write_text("{not json")
    assert "cannot be read as JSON" in detect_model(folder).problems[0]


def test_invalid_config_values_are_reported(tmp_path: Path) -> None:
    config = transformer_config(num_layers="thirty")
    detection = detect_model(write_folder(tmp_path / "bad", "WanPipeline", config))
    assert detection.kind == "unknown"
    assert "transformer" in detection.problems[0] and "invalid value" in detection.problems[0]


def test_inconsistent_parts_are_problems(tmp_path: Path) -> None:
    folder = write_folder(
        tmp_path / "a14b", "WanPipeline", transformer_config(**T2V_14B), experts=2
    )
    write_json(folder / "text_encoder" / "config.json", {"d_model": 2048})
    problems = detect_model(folder).problems
    assert any("no boundary_ratio" in p for p in problems)
    assert any("text_encoder: width 2048" in p for p in problems)

    folder = write_folder(
        tmp_path / "i2v", "WanImageToVideoPipeline", transformer_config(**I2V_14B)
    )
    assert any("names no image_encoder" in p for p in detect_model(folder).problems)


# ----------------------------------------------------------------------------------------------
# Smoke models (built by wan.models.smoke): detection and the parameter formula on real modules

SMOKE = {
    "tiny-t2v": ("t2v", 1),
    "tiny-t2v-a14b": ("t2v", 2),
    "tiny-i2v": ("i2v", 1),
    "tiny-i2v-a14b": ("i2v", 2),
    "tiny-ti2v": ("ti2v", 1),
    "tiny-vace": ("vace", 1),
    "tiny-flf2v": ("flf2v", 1),
}


@pytest.mark.parametrize("model_id", sorted(SMOKE))
def test_detects_each_smoke_model(smoke_root: Path, model_id: str) -> None:
    import diffusers

    from wan.models.smoke import ensure_smoke_model

    folder = ensure_smoke_model(model_id, root=smoke_root)
    detection = detect_model(folder)
    task, experts = SMOKE[model_id]
    assert detection.kind == "diffusers", detection.problems
    assert detection.problems == ()
    assert (detection.task, detection.signature.experts) == (task, experts)
    cls = getattr(diffusers, dict(detection.components)["transformer"])
    model = cls.from_pretrained(folder, subfolder="transformer")
    assert detection.transformer_params == sum(p.numel() for p in model.parameters())


# ----------------------------------------------------------------------------------------------
# Matching


def signature(**shape: Any) -> ModelSignature:
    base = {"num_layers": 40, "num_attention_heads": 40, "attention_head_dim": 128}
    base |= {"in_channels": 16, "out_channels": 16, "ffn_dim": 13824}
    return ModelSignature("WanPipeline", TransformerShape(**{**base, **shape}))


def entry(model_id: str, sig: ModelSignature | None) -> SimpleNamespace:
    return SimpleNamespace(id=model_id, signature=sig, kind="wan" if sig else "enhancer")


T2V14 = signature()
A14B = replace(T2V14, experts=2, boundary_ratio=0.875)
T2V13 = signature(num_layers=30, num_attention_heads=12, ffn_dim=8960)
I2V = replace(signature(in_channels=36, image_dim=1280), pipeline="WanImageToVideoPipeline")
I2V = replace(I2V, image_encoder=True)
CATALOG = [
    entry("qwen", None),
    entry("Wan2.1-T2V-1.3B", T2V13),
    entry("Wan2.1-T2V-14B", T2V14),
    entry("Wan2.2-T2V-A14B", A14B),
    entry("Wan2.1-I2V-14B-480P", I2V),
    entry("Wan2.1-I2V-14B-720P", I2V),
]


def test_exact_match_and_identical_entries() -> None:
    assert match_catalog(A14B, CATALOG).model_id == "Wan2.2-T2V-A14B"
    result = match_catalog(I2V, CATALOG)
    assert (result.status, result.model_id, result.also) == (
        "exact",
        "Wan2.1-I2V-14B-480P",
        ("Wan2.1-I2V-14B-720P",),
    )


def test_a_finetune_is_compatible_with_its_closest_relative() -> None:
    finetune = replace(A14B, boundary_ratio=0.9)
    result = match_catalog(finetune, CATALOG)
    assert (result.status, result.model_id) == ("compatible", "Wan2.2-T2V-A14B")
    assert result.differences == ("boundary_ratio: 0.9 here, 0.875 in Wan2.2-T2V-A14B",)
    assert result.message.startswith("compatible with Wan2.2-T2V-A14B")
    deeper = signature(num_layers=30, num_attention_heads=12, ffn_dim=9000)
    result = match_catalog(deeper, CATALOG)
    assert result.model_id == "Wan2.1-T2V-1.3B"
    assert result.differences == ("ffn_dim: 9000 here, 8960 in Wan2.1-T2V-1.3B",)


def test_unknown_models_say_what_they_are() -> None:
    odd = signature(in_channels=20)
    result = match_catalog(odd, CATALOG)
    assert (result.status, result.model_id) == ("unknown", None)
    assert result.message.startswith("unknown Wan model: ") and "20/16" in result.message
    assert match_catalog(T2V14, []).status == "unknown"


def test_transformer_only_matching_for_single_files() -> None:
    # A single file of one 14B expert cannot tell Wan 2.1 14B from a Wan 2.2 A14B expert.
    shape = replace(T2V14.transformer, num_attention_heads=1, attention_head_dim=5120)
    lone = replace(T2V14, transformer=shape)  # a file does not store its head count
    result = match_catalog(lone, CATALOG, transformer_only=True)
    assert (result.status, result.model_id, result.also) == (
        "exact",
        "Wan2.1-T2V-14B",
        ("Wan2.2-T2V-A14B",),
    )
    assert match_catalog(lone, CATALOG).status == "compatible"


def test_tasks_and_descriptions() -> None:
    assert guess_task(T2V14) == "t2v" and guess_task(I2V) == "i2v"
    assert guess_task(replace(T2V14, vae_z_dim=48)) == "ti2v"
    assert "2 experts" in describe(A14B) and "14.29 B" in describe(A14B)
    assert transformer_parameters(T2V13.transformer) == 1_418_996_800
