"""How big a Wan transformer is and which of its fields the weights fix, from its shape alone.

Kept apart from `signature` (plain data) and used by detection, catalog matching and
single-file loading alike: a parameter count for a 60 GB model without loading it, and the
fields two transformers must share for one's weights to load into the other's architecture.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from wan.models.signature import TransformerShape

# Fields whose difference means the weights of one model do not fit the other's architecture.
WEIGHT_FIELDS = (
    "num_layers",
    "hidden_size",
    "in_channels",
    "out_channels",
    "ffn_dim",
    "text_dim",
    "image_dim",
    "pos_embed_seq_len",
    "vace_blocks",
    "vace_in_channels",
)


def block_parameters(shape: TransformerShape) -> int:
    """Parameter count of one Wan transformer block (as diffusers builds `WanTransformerBlock`).

    With d = hidden size and f = ffn_dim:
      self-attention  q, k, v, o: 4*d*d + 4d, plus RMS q/k norms: 2d
      cross-attention the same, plus (image models) k_img, v_img: 2*d*d + 2d and norm_k_img: d
      cross-attn norm (affine LayerNorm, cross_attn_norm=True in every Wan model): 2d
      feed-forward    d -> f -> d: 2*d*f + f + d
      modulation      6d
    """
    d, f = shape.hidden_size, shape.ffn_dim
    attention = 4 * d * d + 4 * d + 2 * d
    block = 2 * attention + 2 * d + (2 * f * d + f + d) + 6 * d
    if shape.image_dim is not None:
        block += 2 * d * d + 2 * d + d
    return block


def transformer_parameters(
    shape: TransformerShape, freq_dim: int = 256, patch_size: Sequence[int] = (1, 2, 2)
) -> int:
    """Parameter count of one Wan transformer (one expert), from its shape (no weights needed).

    With d = hidden size and p = prod(patch_size): `num_layers` blocks (`block_parameters`).
    Outside the blocks: patch embedding in*d*p + d; time embedding freq*d + d + d*d + d;
    time projection d*6d + 6d; text embedding text_dim*d + d + d*d + d; image embedding
    (image models, width i) 2i + i*i + i + i*d + d + 2d, plus pos_embed seq_len*i (FLF2V);
    head d*out*p + out*p; head modulation 2d. VACE adds its patch embedding vace_in*d*p + d and
    one block per vace layer with an output projection d*d + d, the first also an input
    projection d*d + d. Assumes qk_norm "rms_norm_across_heads" and added_kv_proj_dim = d, as
    every released Wan model. Checked against real module counts in the tests.
    """
    d, p = shape.hidden_size, math.prod(patch_size)
    block = block_parameters(shape)
    total = shape.num_layers * block
    total += shape.in_channels * d * p + d  # patch embedding
    total += freq_dim * d + d + d * d + d  # time embedding
    total += d * 6 * d + 6 * d  # time projection
    total += shape.text_dim * d + d + d * d + d  # text embedding
    if shape.image_dim is not None:
        i = int(shape.image_dim)
        total += 2 * i + i * i + i + i * d + d + 2 * d + (shape.pos_embed_seq_len or 0) * i
    total += d * shape.out_channels * p + shape.out_channels * p + 2 * d  # head
    if shape.vace_layers is not None:
        vace_blocks = len(shape.vace_layers)
        total += int(shape.vace_in_channels or 0) * d * p + d
        total += vace_blocks * (block + d * d + d) + (d * d + d if vace_blocks else 0)
    return total


def weight_fields(shape: TransformerShape) -> dict[str, Any]:
    """The shape as the weights see it: heads are not stored, only their total width."""
    return {
        "num_layers": shape.num_layers,
        "hidden_size": shape.hidden_size,
        "in_channels": shape.in_channels,
        "out_channels": shape.out_channels,
        "ffn_dim": shape.ffn_dim,
        "text_dim": shape.text_dim,
        "image_dim": shape.image_dim,
        "pos_embed_seq_len": shape.pos_embed_seq_len,
        "vace_blocks": len(shape.vace_layers) if shape.vace_layers is not None else None,
        "vace_in_channels": shape.vace_in_channels,
    }
