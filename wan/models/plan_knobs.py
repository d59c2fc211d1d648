"""The four memory knobs of an optimisation plan, what each costs, and how they are named (pure).

A candidate placement sets each knob; each costs speed or quality (the plan is the cheapest
candidate that fits, see `wan.models.optimize`):

    offload      none 0 | model CPU offload 1 | group offload by block 3 | by layer (leaf) 10
    fp8          +4  transformer weights stored as float8_e4m3fn, computed in bf16
    vae_tiling   +1  VAE encodes/decodes 256 px tiles
    text on CPU  +2  prompts encoded by the CPU (only with model offload, see `optimize`)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from wan.options.choices import OFFLOADS

OFFLOAD_COST = {"none": 0, "model": 1, "group_block": 3, "group_leaf": 10}
FP8_COST, TILING_COST, TEXT_CPU_COST = 4, 1, 2
KNOBS = ("offload", "fp8", "vae_tiling", "text_encoder_on_cpu")
OFFLOAD_NAMES = {
    "none": "no offload",
    "model": "model CPU offload",
    "group_block": "group offload by block",
    "group_leaf": "group offload by layer",
}


@dataclass(frozen=True)
class Knobs:
    offload: str
    fp8: bool
    vae_tiling: bool
    text_encoder_on_cpu: bool

    @property
    def cost(self) -> float:
        return (
            OFFLOAD_COST[self.offload]
            + FP8_COST * self.fp8
            + TILING_COST * self.vae_tiling
            + TEXT_CPU_COST * self.text_encoder_on_cpu
        )


def candidate_knobs(has_accelerator: bool) -> list[Knobs]:
    """Every placement worth trying on this kind of device."""
    offloads = OFFLOADS if has_accelerator else ("none",)
    out = []
    for offload in offloads:
        for fp8 in (False, True):
            for tiling in (False, True):
                for text_cpu in (False, True):
                    if text_cpu and offload != "model":
                        continue  # see `optimize`'s doc: only model offload keeps devices right
                    out.append(Knobs(offload, fp8, tiling, text_cpu))
    return out


def agrees(knobs: Knobs, given: Mapping[str, Any]) -> bool:
    return all(getattr(knobs, name) == given[name] for name in KNOBS if name in given)


def one_step_cheaper(knobs: Knobs, name: str) -> Knobs | None:
    """The same knobs with `name` one step cheaper, or None when it is already the cheapest."""
    value = getattr(knobs, name)
    if name == "offload":
        index = OFFLOADS.index(value)
        return replace(knobs, offload=OFFLOADS[index - 1]) if index else None
    if not value:
        return None
    return replace(knobs, **{name: False})


def knob_text(name: str, value: Any) -> str:
    if name == "offload":
        return OFFLOAD_NAMES[value]
    labels = {
        "fp8": ("fp8 weight storage", "bf16 weights"),
        "vae_tiling": ("VAE tiling", "an untiled VAE"),
        "text_encoder_on_cpu": ("text encoder on the CPU", "the text encoder on the GPU"),
    }
    on, off = labels[name]
    return on if value else off


def knobs_summary(k: Knobs) -> str:
    parts = [OFFLOAD_NAMES[k.offload]]
    parts += ["fp8"] if k.fp8 else []
    parts += ["VAE tiling"] if k.vae_tiling else []
    parts += ["text encoder on CPU"] if k.text_encoder_on_cpu else []
    return " + ".join(parts)
