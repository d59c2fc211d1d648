"""Single-file Wan checkpoints: what they are, from the tensor names and shapes of their header.

WebUI and ComfyUI users mostly have one `.safetensors` file holding a Wan transformer, in one of
three key layouts:

- original (Wan-AI's release): `patch_embedding.weight`, `blocks.N.self_attn.q.weight`,
  `blocks.N.cross_attn.k_img.weight` (I2V), `blocks.N.ffn.0.weight`, `text_embedding.0.weight`,
  `time_embedding.0.weight`, `img_emb.proj.1.weight` / `img_emb.emb_pos` (I2V / FLF2V),
  `vace_blocks.N.*` + `vace_patch_embedding.weight` (VACE), `head.head.weight`;
- comfyui: the same names under `model.diffusion_model.` (any other common prefix ending in
  `.` before `patch_embedding.weight` is stripped the same way);
- diffusers: `blocks.N.attn1.to_q.weight`, `condition_embedder.text_embedder.linear_1.weight`,
  `proj_out.weight`, `vace_blocks.N.proj_in.weight`, ...

Detection reads only the header (`safetensors_header`), which is cheap for a 28 GB file and needs
no torch. What a header cannot tell: the number of attention heads (weights store only their
total width; every released Wan model uses 128-wide heads, so that is assumed unless the file's
metadata names `num_heads`) and where VACE blocks attach (assumed evenly spaced from layer 0, as
in the released models). Loading (`single_file_load`) takes both from the base folder's
`config.json`, so neither guess matters there.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from wan.errors import ModelError
from wan.models.detect import WAN_NEEDS, Detection, signature_for_transformer
from wan.models.params import transformer_parameters
from wan.models.safetensors_header import (
    SafetensorsHeader,
    TensorInfo,
    main_dtype,
    read_safetensors_header,
    size_problem,
)
from wan.models.signature import TransformerShape, guess_task

COMFY_PREFIX = "model.diffusion_model."
ANCHOR = "patch_embedding.weight"

# What each shape field is read from: (original / ComfyUI name, diffusers name).
_KEYS = {
    "head": ("head.head.weight", "proj_out.weight"),
    "ffn": ("blocks.0.ffn.0.weight", "blocks.0.ffn.net.0.proj.weight"),
    "text": ("text_embedding.0.weight", "condition_embedder.text_embedder.linear_1.weight"),
    "time": ("time_embedding.0.weight", "condition_embedder.time_embedder.linear_1.weight"),
    "image": ("img_emb.proj.1.weight", "condition_embedder.image_embedder.ff.net.0.proj.weight"),
    "image_pos": ("img_emb.emb_pos", "condition_embedder.image_embedder.pos_embed"),
    "vace_patch": ("vace_patch_embedding.weight", "vace_patch_embedding.weight"),
}
_BLOCK = re.compile(r"^blocks\.(\d+)\.")
_VACE_BLOCK = re.compile(r"^vace_blocks\.(\d+)\.")


def detect_single_file(path: str | Path) -> Detection:
    """Detect a single-file checkpoint from its header: a Wan transformer, or what else it is."""
    path = Path(path)
    where = str(path)
    try:
        header = read_safetensors_header(path)
    except ModelError as exc:
        return Detection(where, "unknown", problems=(str(exc),))
    names = list(header.tensors)
    prefix = find_prefix(names)
    if prefix is None:
        return Detection(where, "not_wan", problems=(f"{where} {_what_else(names)}. {WAN_NEEDS}.",))
    tensors = {n[len(prefix) :]: t for n, t in header.tensors.items() if n.startswith(prefix)}
    if any(n.startswith(("motion_encoder.", "face_adapter.")) for n in tensors):
        msg = f"{where} is a Wan Animate checkpoint, which this extension does not run"
        return Detection(where, "unknown", problems=(msg,))
    layout = key_layout(tensors, prefix)
    try:
        shape, freq_dim, patch = infer_shape(tensors, layout == "diffusers", header.metadata)
    except ModelError as exc:
        return Detection(where, "unknown", layout=layout, problems=(f"{where}: {exc}",))
    except (IndexError, ValueError, ZeroDivisionError) as exc:
        msg = f"{where}: its tensor shapes are not those of a Wan transformer ({exc!r})"
        return Detection(where, "unknown", layout=layout, problems=(msg,))
    problems = _file_problems(path, header, tensors, shape)
    signature = signature_for_transformer(shape)
    return Detection(
        where,
        "single_file",
        signature=signature,
        pipeline=signature.pipeline,
        task=guess_task(signature),
        transformer_params=transformer_parameters(shape, freq_dim, patch),
        problems=tuple(problems),
        layout=layout,
        dtype=main_dtype(header.tensors.values()),
        expert=expert_from_name(path.name),
    )


def find_prefix(names: Iterable[str]) -> str | None:
    """The prefix before `patch_embedding.weight` ('' or e.g. 'model.diffusion_model.')."""
    for name in names:
        if name == ANCHOR or name.endswith("." + ANCHOR):
            return name[: -len(ANCHOR)]
    return None


def key_layout(tensors: Mapping[str, Any], prefix: str) -> str:
    """'diffusers', 'comfyui' (original names under model.diffusion_model.) or 'original'."""
    if _KEYS["text"][1] in tensors or _KEYS["head"][1] in tensors:
        return "diffusers"
    return "comfyui" if prefix == COMFY_PREFIX else "original"


def infer_shape(
    tensors: Mapping[str, TensorInfo], diffusers: bool, metadata: Mapping[str, str] | None = None
) -> tuple[TransformerShape, int, tuple[int, ...]]:
    """The transformer shape, time frequency width and patch size, from tensor shapes alone."""
    layers = _indices(tensors, _BLOCK)
    first = f"blocks.{min(layers)}." if layers else "blocks.0."

    def maybe(what: str) -> tuple[int, ...] | None:
        info = tensors.get(_KEYS[what][1 if diffusers else 0].replace("blocks.0.", first))
        return info.shape if info else None

    def need(what: str) -> tuple[int, ...]:
        found = maybe(what)
        if found is None:
            name = _KEYS[what][1 if diffusers else 0].replace("blocks.0.", first)
            raise ModelError(
                f"tensor {name!r} is missing, so this is not a complete Wan transformer (a LoRA "
                "or a partial file?): use a full transformer checkpoint"
            )
        return found

    patch_shape = tensors[ANCHOR].shape
    if len(patch_shape) != 5:
        raise ModelError(f"{ANCHOR} has shape {list(patch_shape)}, not the 5-D Conv3d of Wan")
    hidden, in_channels, patch = patch_shape[0], patch_shape[1], tuple(patch_shape[2:])
    head, ffn, text, time = need("head"), need("ffn"), need("text"), need("time")
    image, image_pos, vace_patch = maybe("image"), maybe("image_pos"), maybe("vace_patch")
    vace = _indices(tensors, _VACE_BLOCK)
    heads = _heads(hidden, metadata or {})
    num_layers = max(layers) + 1 if layers else 0
    shape = TransformerShape(
        num_layers=num_layers,
        num_attention_heads=heads,
        attention_head_dim=hidden // heads,
        in_channels=in_channels,
        out_channels=head[0] // math.prod(patch),
        ffn_dim=ffn[0],
        text_dim=text[1],
        image_dim=image[0] if image else None,
        pos_embed_seq_len=image_pos[1] if image_pos else None,
        vace_layers=vace_positions(num_layers, max(vace) + 1) if vace else None,
        vace_in_channels=vace_patch[1] if vace and vace_patch else None,
    )
    return shape, time[1], patch


def vace_positions(num_layers: int, vace_blocks: int) -> tuple[int, ...]:
    """Evenly spaced from 0, as released: 30 layers/15 blocks -> 0,2,..; 40/8 -> 0,5,..,35."""
    step = max(1, math.ceil(num_layers / vace_blocks))
    positions = tuple(range(0, num_layers, step))[:vace_blocks]
    return positions if len(positions) == vace_blocks else tuple(range(vace_blocks))


def expert_from_name(name: str) -> str | None:
    """Which A14B expert a file name says it is: '..high_noise..' -> transformer (the first
    expert, run at high noise), '..low_noise..' -> transformer_2; None if the name is silent."""
    lowered = name.lower().replace("-", "_")
    if "low_noise" in lowered or "lownoise" in lowered:
        return "transformer_2"
    if "high_noise" in lowered or "highnoise" in lowered:
        return "transformer"
    return None


def _indices(tensors: Iterable[str], pattern: re.Pattern[str]) -> set[int]:
    return {int(m.group(1)) for name in tensors if (m := pattern.match(name))}


def _heads(hidden: int, metadata: Mapping[str, str]) -> int:
    """Heads from the file's metadata when it records them, else 128-wide heads (all releases)."""
    candidates = [metadata.get("num_heads"), metadata.get("num_attention_heads")]
    try:
        config = json.loads(metadata.get("config", "{}"))
        if isinstance(config, dict):
            candidates += [config.get("num_heads"), config.get("num_attention_heads")]
    except json.JSONDecodeError:
        pass
    for value in candidates:
        if value is not None and str(value).isdigit() and hidden % int(value) == 0:
            return int(value)
    return hidden // 128 if hidden % 128 == 0 else 1


def _file_problems(
    path: Path,
    header: SafetensorsHeader,
    tensors: Mapping[str, TensorInfo],
    shape: TransformerShape,
) -> list[str]:
    problems = []
    missing = sorted(set(range(shape.num_layers)) - _indices(tensors, _BLOCK))
    if missing:
        problems.append(
            f"{path}: transformer blocks {', '.join(map(str, missing[:8]))} are missing: the file "
            "is incomplete; download it again"
        )
    if "scaled_fp8" in tensors or any(n.endswith(".scale_weight") for n in tensors):
        problems.append(
            f"{path} is a ComfyUI 'fp8 scaled' checkpoint: diffusers cannot apply its weight "
            "scales; use the bf16 or fp16 (or plain fp8_e4m3fn) version of this model"
        )
    wrong_size = size_problem(header, path.stat().st_size)
    if wrong_size:
        problems.append(wrong_size)
    return problems


def _what_else(names: Sequence[str]) -> str:
    """A plain description of a non-Wan-transformer safetensors file, from its tensor names."""
    lowered = [n.lower() for n in names]
    if not names:
        return "holds no tensors"
    if any("lora" in n for n in lowered):
        return "is a LoRA (lora_* tensors), not a model: load it as a LoRA on a Wan model"
    if any("input_blocks." in n for n in names):
        return "is a Stable Diffusion (UNet) checkpoint, not a Wan transformer"
    if any(n.startswith(("double_blocks.", "model.diffusion_model.double_blocks.")) for n in names):
        return "is a Flux checkpoint, not a Wan transformer"
    if any(
        "decoder.middle" in n or n.startswith(("decoder.", "first_stage_model.")) for n in names
    ):
        return "is a VAE, not a Wan transformer"
    if any(n.startswith(("encoder.block.", "shared.")) for n in names):
        return "is a T5 text encoder, not a Wan transformer"
    shown = ", ".join(sorted(names)[:3])
    return f"is not a Wan transformer: it has no {ANCHOR} (first of {len(names)} names: {shown})"
