"""What the clip planner needs to know about a model.

A `ModelProfile` is deliberately small: frame rate, clip length limits, size rules and the inputs
the model takes. The models catalog (`wan/models/catalog.json`) is the one source of the values:
`CatalogEntry.profile()` builds them, and `wan.models.identify.profile_for` gives the profile of
any --model value (catalog id, smoke id, folder or checkpoint).
"""

from __future__ import annotations

from dataclasses import dataclass

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
    smoke: bool = False  # a tiny random model: its output is noise

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
