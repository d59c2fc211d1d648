"""Single-file checkpoints: header-only detection in every key layout, and loading through
diffusers' from_single_file against a local base folder (weights compared with the source)."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import pytest
import torch
from diffusers import WanTransformer3DModel
from diffusers.loaders.single_file_utils import convert_wan_transformer_to_diffusers
from safetensors.torch import save_file

from wan.errors import ModelError
from wan.models.detect import detect_model
from wan.models.params import transformer_parameters
from wan.models.safetensors_header import SafetensorsHeaderError, read_safetensors_header
from wan.models.single_file import detect_single_file, expert_from_name, find_prefix, vace_positions
from wan.models.single_file_load import (
    assemble_pipeline,
    assign_experts,
    load_single_file_transformer,
)
from wan.models.smoke import ensure_smoke_model

from .checkpoints import (
    FLF2V,
    I2V_CLIP,
    TI2V,
    VACE,
    original_name,
    tiny_model,
    to_original,
    write_checkpoint,
)


def write_base(root: Path, model: Any) -> Path:
    """A base folder with only transformer/config.json: all the loader reads from a base."""
    model.save_config(root / "transformer")
    return root


def assert_same_weights(loaded: Any, source: Any) -> None:
    ours, theirs = loaded.state_dict(), source.state_dict()
    assert set(ours) == set(theirs)
    for name, tensor in theirs.items():
        assert torch.equal(ours[name].to(tensor.dtype), tensor), name


# ----------------------------------------------------------------------------------------------
# The helper itself: diffusers' converter must map our original names back exactly


@pytest.mark.parametrize(
    "overrides", [{}, I2V_CLIP, FLF2V, VACE], ids=["t2v", "i2v", "flf2v", "vace"]
)
def test_inverse_mapping_round_trips_through_diffusers(overrides: dict[str, Any]) -> None:
    state = tiny_model(**overrides).state_dict()
    names = {original_name(k): k for k in state}
    assert len(names) == len(state)
    converted = convert_wan_transformer_to_diffusers({k: k for k in names})
    # diffusers has no rule for FLF2V's img_emb.emb_pos (single_file renames it before loading)
    converted = {k.replace("img_emb.emb_pos", "condition_embedder.image_embedder.pos_embed"): v
                 for k, v in converted.items()}  # fmt: skip
    assert {k: names[v] for k, v in converted.items()} == {k: k for k in state}
    assert "blocks.0.self_attn.q.weight" in names
    assert "head.head.weight" in names


# ----------------------------------------------------------------------------------------------
# Header reading


def test_header_matches_safe_open(tmp_path: Path) -> None:
    from safetensors import safe_open

    path = write_checkpoint(tmp_path / "wan.safetensors", tiny_model())
    header = read_safetensors_header(path)
    with safe_open(str(path), "pt") as handle:
        for name in handle.keys():  # noqa: SIM118 (safe_open is not a mapping)
            assert header.tensors[name].shape == tuple(handle.get_slice(name).get_shape())
    assert header.expected_size == path.stat().st_size


@pytest.mark.parametrize(
    "content",
    [b"\x01\x02", struct.pack("<Q", 10**12) + b"{}", struct.pack("<Q", 4) + b"{no}"],
    ids=["short", "huge-length", "bad-json"],
)
def test_corrupt_headers_raise_a_model_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.safetensors"
    path.write_bytes(content)
    with pytest.raises(SafetensorsHeaderError, match=r"bad\.safetensors") as info:
        read_safetensors_header(path)
    assert isinstance(info.value, ModelError)
    assert info.value.fix


def test_offsets_that_do_not_tile_the_data_are_corrupt(tmp_path: Path) -> None:
    header = {"a": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}
    raw = json.dumps(header).encode()
    path = tmp_path / "gap.safetensors"
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + bytes(12))
    with pytest.raises(SafetensorsHeaderError, match="gap or overlap"):
        read_safetensors_header(path)


# ----------------------------------------------------------------------------------------------
# Detection


@pytest.mark.parametrize("layout", ["original", "comfyui", "diffusers"])
def test_detects_a_t2v_checkpoint_in_every_layout(tmp_path: Path, layout: str) -> None:
    model = tiny_model()
    path = write_checkpoint(tmp_path / "wan_t2v.safetensors", model, layout)
    detection = detect_model(path)
    assert detection.kind == "single_file"
    assert detection.layout == layout
    assert detection.problems == ()
    assert detection.task == "t2v" and detection.pipeline == "WanPipeline"
    assert detection.dtype == "fp32"
    shape = detection.signature.transformer
    assert (shape.num_layers, shape.hidden_size, shape.ffn_dim, shape.text_dim) == (2, 24, 32, 32)
    assert (shape.in_channels, shape.out_channels) == (16, 16)
    assert shape.image_dim is None and shape.vace_layers is None
    assert detection.transformer_params == sum(p.numel() for p in model.parameters())
    assert json.loads(json.dumps(detection.to_dict()))["layout"] == layout


@pytest.mark.parametrize(
    ("overrides", "task", "pipeline"),
    [
        (I2V_CLIP, "i2v", "WanImageToVideoPipeline"),
        (FLF2V, "flf2v", "WanImageToVideoPipeline"),
        (TI2V, "ti2v", "WanPipeline"),
        (VACE, "vace", "WanVACEPipeline"),
        ({"in_channels": 36}, "i2v", "WanImageToVideoPipeline"),  # Wan 2.2 I2V-A14B expert
    ],
    ids=["i2v-clip", "flf2v", "ti2v", "vace", "i2v-a14b-expert"],
)
def test_detects_each_architecture(
    tmp_path: Path, overrides: dict[str, Any], task: str, pipeline: str
) -> None:
    model = tiny_model(**overrides)
    detection = detect_single_file(write_checkpoint(tmp_path / "m.safetensors", model))
    assert (detection.kind, detection.task, detection.pipeline) == ("single_file", task, pipeline)
    shape, config = detection.signature.transformer, model.config
    assert shape.in_channels == config.in_channels
    assert shape.image_dim == config.image_dim
    assert shape.pos_embed_seq_len == config.pos_embed_seq_len
    if "vace_layers" in overrides:
        assert shape.vace_layers == (0, 2) and shape.vace_in_channels == 96
    if task == "ti2v":
        assert detection.signature.vae_z_dim == 48 and detection.signature.expand_timesteps
    assert detection.signature.image_encoder == (config.image_dim is not None)
    assert detection.transformer_params == sum(p.numel() for p in model.parameters())


def test_heads_come_from_metadata_or_128_wide_heads(tmp_path: Path) -> None:
    path = write_checkpoint(tmp_path / "m.safetensors", tiny_model(), metadata={"num_heads": "2"})
    shape = detect_single_file(path).signature.transformer
    assert (shape.num_attention_heads, shape.attention_head_dim) == (2, 12)
    wide = tiny_model(num_attention_heads=2, attention_head_dim=128, num_layers=1)
    shape = detect_single_file(write_checkpoint(tmp_path / "w.safetensors", wide)).signature
    assert (shape.transformer.num_attention_heads, shape.transformer.attention_head_dim) == (2, 128)


def test_vace_positions_follow_the_releases() -> None:
    assert vace_positions(30, 15) == tuple(range(0, 30, 2))  # VACE 1.3B
    assert vace_positions(40, 8) == (0, 5, 10, 15, 20, 25, 30, 35)  # VACE 14B
    assert vace_positions(3, 2) == (0, 2)


def test_prefix_and_expert_names() -> None:
    assert find_prefix(["model.diffusion_model.patch_embedding.weight"]) == "model.diffusion_model."
    assert find_prefix(["vace_patch_embedding.weight", "patch_embedding.weight"]) == ""
    assert find_prefix(["vace_patch_embedding.weight"]) is None
    assert expert_from_name("wan2.2_t2v_low_noise_14B_fp16.safetensors") == "transformer_2"
    assert expert_from_name("Wan2.2-T2V-A14B-HighNoise-Q8.safetensors") == "transformer"
    assert expert_from_name("wan2.1_t2v_1.3B.safetensors") is None


@pytest.mark.parametrize(
    ("tensors", "expected"),
    [
        ({"blocks.0.self_attn.q.lora_down.weight": [4, 24]}, "LoRA"),
        ({"model.diffusion_model.input_blocks.0.0.weight": [4, 4]}, "Stable Diffusion"),
        ({"decoder.middle.0.residual.0.gamma": [4]}, "VAE"),
        ({"encoder.block.0.layer.0.SelfAttention.q.weight": [4, 4]}, "text encoder"),
        ({"something.else": [4]}, "not a Wan transformer"),
    ],
)
def test_other_files_are_named_plainly(
    tmp_path: Path, tensors: dict[str, list[int]], expected: str
) -> None:
    path = tmp_path / "other.safetensors"
    save_file({k: torch.zeros(s) for k, s in tensors.items()}, str(path))
    detection = detect_model(path)
    assert detection.kind == "not_wan"
    assert expected in detection.problems[0] and "Wan needs" in detection.problems[0]


def test_truncated_incomplete_and_fp8_scaled_files_report_problems(tmp_path: Path) -> None:
    path = write_checkpoint(tmp_path / "cut.safetensors", tiny_model())
    path.write_bytes(path.read_bytes()[:-100])
    assert "truncated" in detect_single_file(path).problems[0]

    state = to_original(tiny_model().state_dict())
    partial = {k: v for k, v in state.items() if not k.startswith("blocks.0.")}
    save_file(partial, str(tmp_path / "partial.safetensors"))
    assert (
        "blocks 0 are missing" in detect_single_file(tmp_path / "partial.safetensors").problems[0]
    )

    scaled = {**state, "scaled_fp8": torch.zeros(1)}
    save_file(scaled, str(tmp_path / "scaled.safetensors"))
    assert "fp8 scaled" in detect_single_file(tmp_path / "scaled.safetensors").problems[0]


def test_missing_core_tensor_is_unknown(tmp_path: Path) -> None:
    state = to_original(tiny_model().state_dict())
    del state["head.head.weight"]
    save_file(state, str(tmp_path / "nohead.safetensors"))
    detection = detect_single_file(tmp_path / "nohead.safetensors")
    assert detection.kind == "unknown" and "head.head.weight" in detection.problems[0]


def test_odd_tensor_shapes_are_unknown(tmp_path: Path) -> None:
    state = to_original(tiny_model().state_dict())
    state["text_embedding.0.weight"] = torch.zeros(24)  # 1-D: no text width to read
    save_file(state, str(tmp_path / "odd.safetensors"))
    detection = detect_single_file(tmp_path / "odd.safetensors")
    assert detection.kind == "unknown" and "not those of a Wan transformer" in detection.problems[0]


def test_pickle_checkpoints_are_not_opened(tmp_path: Path) -> None:
    path = tmp_path / "wan.ckpt"
    path.write_bytes(b"not even a pickle")
    detection = detect_model(path)
    assert detection.kind == "unknown" and ".safetensors" in detection.problems[0]
    with pytest.raises(ModelError, match=r"only \.safetensors"):
        load_single_file_transformer(path, None, torch.float32, base_folder=tmp_path)


# ----------------------------------------------------------------------------------------------
# Loading through diffusers


@pytest.mark.parametrize("layout", ["original", "comfyui", "diffusers"])
def test_loads_against_the_smoke_base(smoke_root: Path, tmp_path: Path, layout: str) -> None:
    base = ensure_smoke_model("tiny-t2v", root=smoke_root)
    config = json.loads((base / "transformer" / "config.json").read_text())
    source = tiny_model(seed=7, rope_max_seq_len=config["rope_max_seq_len"])
    path = write_checkpoint(tmp_path / "finetune.safetensors", source, layout)
    loaded = load_single_file_transformer(path, None, torch.float32, base_folder=base)
    assert type(loaded) is WanTransformer3DModel
    assert_same_weights(loaded, source)
    half = load_single_file_transformer(path, None, torch.bfloat16, base_folder=base)
    assert half.proj_out.weight.dtype == torch.bfloat16


@pytest.mark.parametrize("overrides", [I2V_CLIP, FLF2V, VACE], ids=["i2v-clip", "flf2v", "vace"])
def test_loads_image_and_vace_models(tmp_path: Path, overrides: dict[str, Any]) -> None:
    source = tiny_model(seed=3, **overrides)
    base = write_base(tmp_path / "base", tiny_model(**overrides))
    path = write_checkpoint(tmp_path / "m.safetensors", source, "comfyui")
    loaded = load_single_file_transformer(path, None, torch.float32, base_folder=base)
    assert type(loaded) is type(source)
    assert_same_weights(loaded, source)


def test_a_checkpoint_that_does_not_fit_the_base_is_refused(tmp_path: Path) -> None:
    base = write_base(tmp_path / "base", tiny_model())
    path = write_checkpoint(tmp_path / "i2v.safetensors", tiny_model(**I2V_CLIP))
    with pytest.raises(ModelError, match=r"does not fit .*in_channels 36 vs 16"):
        load_single_file_transformer(path, None, torch.float32, base_folder=base)
    with pytest.raises(ModelError, match=r"no-base/transformer/config\.json is missing"):
        load_single_file_transformer(path, None, torch.float32, base_folder=tmp_path / "no-base")


def test_a_checkpoint_missing_weights_is_refused(tmp_path: Path) -> None:
    base = write_base(tmp_path / "base", tiny_model())
    state = to_original(tiny_model().state_dict())
    del state["blocks.1.cross_attn.norm_k.weight"]
    save_file(state, str(tmp_path / "m.safetensors"))
    with pytest.raises(ModelError, match=r"not in the file \(e.g. blocks.1.attn2.norm_k.weight"):
        load_single_file_transformer(
            tmp_path / "m.safetensors", None, torch.float32, base_folder=base
        )


def test_assign_experts() -> None:
    high, low, plain = Path("x_high_noise.safetensors"), Path("x_low_noise.sft"), Path("ft.sft")
    both = ["transformer", "transformer_2"]
    assert assign_experts([plain], ["transformer"]) == {"transformer": plain}
    assert assign_experts([high, low], both) == {"transformer": high, "transformer_2": low}
    assert assign_experts([plain], both, expert="low_noise") == {"transformer_2": plain}
    with pytest.raises(ModelError, match="does not say which one"):
        assign_experts([plain], both)
    with pytest.raises(ModelError, match="both replace transformer"):
        assign_experts([high, high], both)
    with pytest.raises(ModelError, match="one transformer"):
        assign_experts([plain], ["transformer"], expert="low_noise")
    with pytest.raises(ModelError, match="not one of"):
        assign_experts([plain], both, expert="middle")


def test_assemble_pipeline_swaps_the_transformer(smoke_root: Path, tmp_path: Path) -> None:
    base = ensure_smoke_model("tiny-t2v", root=smoke_root)
    config = json.loads((base / "transformer" / "config.json").read_text())
    source = tiny_model(seed=11, rope_max_seq_len=config["rope_max_seq_len"])
    path = write_checkpoint(tmp_path / "ft.safetensors", source)
    pipe = assemble_pipeline(path, base, torch.float32)
    assert type(pipe).__name__ == "WanPipeline"
    assert_same_weights(pipe.transformer, source)


def test_assemble_pipeline_on_a_two_expert_base(smoke_root: Path, tmp_path: Path) -> None:
    base = ensure_smoke_model("tiny-t2v-a14b", root=smoke_root)
    config = json.loads((base / "transformer_2" / "config.json").read_text())
    source = tiny_model(seed=5, rope_max_seq_len=config["rope_max_seq_len"])
    low = write_checkpoint(tmp_path / "ft_low_noise.safetensors", source)
    pipe = assemble_pipeline(low, base, torch.float32)
    assert_same_weights(pipe.transformer_2, source)
    original = WanTransformer3DModel.from_pretrained(base, subfolder="transformer")
    assert_same_weights(pipe.transformer, original)
    plain = write_checkpoint(tmp_path / "ft.safetensors", source)
    with pytest.raises(ModelError, match="two experts"):
        assemble_pipeline(plain, base, torch.float32)
    pipe = assemble_pipeline(plain, base, torch.float32, expert="high_noise")
    assert_same_weights(pipe.transformer, source)


def test_assemble_pipeline_needs_a_wan_base(tmp_path: Path) -> None:
    path = write_checkpoint(tmp_path / "ft.safetensors", tiny_model())
    (tmp_path / "sd").mkdir()
    (tmp_path / "sd" / "model_index.json").write_text('{"_class_name": "StableDiffusionPipeline"}')
    with pytest.raises(ModelError, match="cannot serve as the base"):
        assemble_pipeline(path, tmp_path / "sd", torch.float32)


def test_parameter_formula_counts_tiny_models() -> None:
    for overrides in ({}, I2V_CLIP, FLF2V, TI2V, VACE):
        model = tiny_model(**overrides)
        detection_shape = _shape_of(model)
        assert transformer_parameters(detection_shape) == sum(p.numel() for p in model.parameters())


def _shape_of(model: Any) -> Any:
    from wan.models.detect import shape_from_config

    return shape_from_config({**model.config, "_class_name": type(model).__name__})
