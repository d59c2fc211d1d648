"""Tiny Wan transformers written as single-file checkpoints in Wan-AI's original key layout
(diffusers' key mapping inverted), or ComfyUI's, for the detection and loading tests."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import torch
from diffusers import WanTransformer3DModel, WanVACETransformer3DModel
from safetensors.torch import save_file

TINY: dict[str, Any] = {
    "patch_size": (1, 2, 2),
    "num_attention_heads": 2,
    "attention_head_dim": 12,
    "in_channels": 16,
    "out_channels": 16,
    "text_dim": 32,
    "freq_dim": 256,
    "ffn_dim": 32,
    "num_layers": 2,
    "cross_attn_norm": True,
    "qk_norm": "rms_norm_across_heads",
}
I2V_CLIP = {"in_channels": 36, "image_dim": 16, "added_kv_proj_dim": 24}
FLF2V = {**I2V_CLIP, "pos_embed_seq_len": 6}
TI2V = {"in_channels": 48, "out_channels": 48}
VACE = {"num_layers": 3, "vace_layers": [0, 2], "vace_in_channels": 96}


def tiny_model(seed: int = 0, **overrides: Any) -> Any:
    torch.manual_seed(seed)
    cls = WanVACETransformer3DModel if "vace_layers" in overrides else WanTransformer3DModel
    return cls(**{**TINY, **overrides}).eval()


_TOP = {
    "condition_embedder.time_embedder.linear_1": "time_embedding.0",
    "condition_embedder.time_embedder.linear_2": "time_embedding.2",
    "condition_embedder.time_proj": "time_projection.1",
    "condition_embedder.text_embedder.linear_1": "text_embedding.0",
    "condition_embedder.text_embedder.linear_2": "text_embedding.2",
    "condition_embedder.image_embedder.norm1": "img_emb.proj.0",
    "condition_embedder.image_embedder.ff.net.0.proj": "img_emb.proj.1",
    "condition_embedder.image_embedder.ff.net.2": "img_emb.proj.3",
    "condition_embedder.image_embedder.norm2": "img_emb.proj.4",
    "condition_embedder.image_embedder.pos_embed": "img_emb.emb_pos",
    "scale_shift_table": "head.modulation",
    "proj_out": "head.head",
}
_IN_BLOCK = {
    "attn1": "self_attn",
    "attn2": "cross_attn",
    "to_q": "q",
    "to_k": "k",
    "to_v": "v",
    "to_out.0": "o",
    "add_k_proj": "k_img",
    "add_v_proj": "v_img",
    "norm_added_k": "norm_k_img",
    "ffn.net.0.proj": "ffn.0",
    "ffn.net.2": "ffn.2",
    "norm2": "norm3",  # diffusers swapped the names of the cross-attention norm
    "scale_shift_table": "modulation",
    "proj_in": "before_proj",
    "proj_out": "after_proj",
}


def original_name(name: str) -> str:
    """The name Wan-AI's release uses for a diffusers transformer parameter."""
    block = re.match(r"^((?:vace_)?blocks\.\d+)\.(.+)$", name)
    if not block:
        for new, old in _TOP.items():
            if name == new or name.startswith(new + "."):
                return old + name[len(new) :]
        return name
    prefix, rest = block.groups()
    for new, old in sorted(_IN_BLOCK.items(), key=lambda item: -len(item[0])):
        rest = re.sub(rf"(^|\.){re.escape(new)}(\.|$)", rf"\g<1>{old}\g<2>", rest)
    return f"{prefix}.{rest}"


def to_original(state: dict[str, torch.Tensor], prefix: str = "") -> dict[str, torch.Tensor]:
    return {prefix + original_name(k): v.contiguous() for k, v in state.items()}


def write_checkpoint(
    path: Path, model: Any, layout: str = "original", metadata: dict[str, str] | None = None
) -> Path:
    state = model.state_dict()
    if layout == "original":
        state = to_original(state)
    elif layout == "comfyui":
        state = to_original(state, "model.diffusion_model.")
    save_file({k: v.contiguous() for k, v in state.items()}, str(path), metadata=metadata)
    return path
