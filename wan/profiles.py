"""What the planner needs to know about a model, and built-in profiles for the Wan families.

A `ModelProfile` is deliberately small: frame rate, clip length limits, size rules and the inputs
the model takes. The models catalog (`wan/models/catalog.json`) is the one source of these values:
`BUILTIN_PROFILES` holds the profile of every Wan model it lists, the official Wan 2.1 / 2.2
Diffusers releases and the tiny smoke models used by tests and the demo.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from wan.errors import PlanError

# Inputs a model can take besides text.
IMAGE = "image"  # first frame (image-to-video, TI2V)
LAST_IMAGE = "last_image"  # last frame (first-last-frame models)
VIDEO = "video"  # control video + mask (VACE)
REFERENCE = "reference"  # reference images (VACE)


@dataclass(frozen=True)
class ModelProfile:
    id: str
    family: str  # "wan2.1" | "wan2.2"
    task: str  # "t2v" | "i2v" | "ti2v" | "flf2v" | "vace"
    native_fps: float
    max_clip_frames: int  # 4n+1
    size_multiple: int  # width and height must be multiples of this
    sizes: tuple[tuple[int, int], ...]  # supported (width, height), first is the default
    inputs: frozenset[str] = frozenset()
    min_clip_frames: int = 5

    def takes(self, kind: str) -> bool:
        return kind in self.inputs

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "family": self.family,
            "task": self.task,
            "native_fps": self.native_fps,
            "max_clip_frames": self.max_clip_frames,
            "min_clip_frames": self.min_clip_frames,
            "size_multiple": self.size_multiple,
            "sizes": [list(s) for s in self.sizes],
            "inputs": sorted(self.inputs),
        }


DEFAULT_PROFILE = "Wan2.1-T2V-1.3B"


def __getattr__(name: str) -> Any:
    """`BUILTIN_PROFILES` is built from the catalog on first use (the catalog imports us)."""
    if name == "BUILTIN_PROFILES":
        return _builtin_profiles()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@functools.cache
def _builtin_profiles() -> dict[str, ModelProfile]:
    """Profiles of every Wan model in the catalog (official releases and smoke models), by id."""
    from wan.models.catalog import wan_entries

    return {entry.id: entry.profile() for entry in wan_entries()}


def get_profile(model_id: str | None) -> ModelProfile:
    """The profile of a catalog model (id, 'Wan-AI/<id>-Diffusers' or repo name; any case)."""
    from wan.errors import ModelError
    from wan.models.catalog import get_entry

    if model_id is None:
        return _builtin_profiles()[DEFAULT_PROFILE]
    try:
        entry = get_entry(model_id)
    except ModelError as exc:
        raise PlanError(str(exc)) from None
    if not entry.is_wan:
        entry.profile()  # raises PlanError: a prompt model is not a video model
    return _builtin_profiles()[entry.id]
