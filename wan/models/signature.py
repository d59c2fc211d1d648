"""What a Wan model is, reduced to the facts that tell models apart (pure data).

Detection (`detect.py`) reads a signature from a Diffusers folder's `model_index.json` and
component configs, or from a single-file checkpoint's tensor names and shapes; the catalog
(`catalog.json`) stores the signature of every known model. Matching compares the two.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from wan.core.tasks import TASK_IDS, task_of

Task = Literal[TASK_IDS]


@dataclass(frozen=True)
class TransformerShape:
    """The architecture of one Wan transformer (one expert)."""

    num_layers: int
    num_attention_heads: int
    attention_head_dim: int
    in_channels: int
    out_channels: int
    ffn_dim: int
    text_dim: int = 4096
    image_dim: int | None = None  # CLIP image embedding width (Wan 2.1 I2V / FLF2V)
    pos_embed_seq_len: int | None = None  # first+last frame models
    vace_layers: tuple[int, ...] | None = None  # VACE models
    vace_in_channels: int | None = None

    @property
    def hidden_size(self) -> int:
        return self.num_attention_heads * self.attention_head_dim


@dataclass(frozen=True)
class ModelSignature:
    pipeline: str  # diffusers class in model_index.json: WanPipeline, WanImageToVideoPipeline, ...
    transformer: TransformerShape
    experts: int = 1  # 2: transformer_2 present (Wan 2.2 A14B)
    boundary_ratio: float | None = None
    vae_z_dim: int = 16  # 48 for the Wan 2.2 VAE
    image_encoder: bool = False  # CLIP image encoder component present
    expand_timesteps: bool = False  # Wan 2.2 TI2V

    def to_dict(self) -> dict:
        data = asdict(self)
        vace = data["transformer"]["vace_layers"]
        data["transformer"]["vace_layers"] = list(vace) if vace is not None else None
        return data

    @classmethod
    def from_dict(cls, data: dict) -> ModelSignature:
        shape = dict(data["transformer"])
        if shape.get("vace_layers") is not None:
            shape["vace_layers"] = tuple(shape["vace_layers"])
        return cls(**{**data, "transformer": TransformerShape(**shape)})


def guess_task(signature: ModelSignature) -> Task:
    """The generation task a signature is built for (VACE > TI2V > FLF2V > I2V > T2V)."""
    shape = signature.transformer
    if shape.vace_layers is not None or signature.pipeline == "WanVACEPipeline":
        return "vace"
    if signature.expand_timesteps or signature.vae_z_dim == 48:
        return "ti2v"
    if shape.pos_embed_seq_len is not None:
        return "flf2v"
    if shape.in_channels > shape.out_channels or signature.pipeline == "WanImageToVideoPipeline":
        return "i2v"
    return "t2v"


def pipeline_for_task(task: Task) -> str:
    """The diffusers pipeline class that runs a task (TI2V text-to-video runs in WanPipeline)."""
    return task_of(task).pipeline


def show_value(value: Any) -> str:
    """A field value as messages show it (here and in `match`): tuples as lists, None as none."""
    return "none" if value is None else str(list(value) if isinstance(value, tuple) else value)
