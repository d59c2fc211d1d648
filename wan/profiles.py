"""What the planner needs to know about a model, and built-in profiles for the Wan families.

A `ModelProfile` is deliberately small: frame rate, clip length limits, size rules and the inputs
the model takes. The models catalog (a later step) will produce these from its data; until then
the built-in table below describes the official Wan 2.1 / 2.2 Diffusers releases and the tiny
smoke models used by tests and the demo.
"""

from __future__ import annotations

from dataclasses import dataclass

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


_480P = ((832, 480), (480, 832))
_720P = ((1280, 720), (720, 1280))


def _profile(id, family, task, fps=16, frames=81, multiple=16, sizes=_480P, inputs=()):
    return ModelProfile(id, family, task, fps, frames, multiple, sizes, frozenset(inputs))


BUILTIN_PROFILES: dict[str, ModelProfile] = {
    p.id: p
    for p in (
        _profile("Wan2.1-T2V-1.3B", "wan2.1", "t2v"),
        _profile("Wan2.1-T2V-14B", "wan2.1", "t2v", sizes=_720P + _480P),
        _profile("Wan2.1-I2V-14B-480P", "wan2.1", "i2v", inputs=[IMAGE]),
        _profile("Wan2.1-I2V-14B-720P", "wan2.1", "i2v", sizes=_720P, inputs=[IMAGE]),
        _profile(
            "Wan2.1-FLF2V-14B-720P", "wan2.1", "flf2v", sizes=_720P, inputs=[IMAGE, LAST_IMAGE]
        ),
        _profile("Wan2.1-VACE-1.3B", "wan2.1", "vace", inputs=[VIDEO, REFERENCE]),
        _profile(
            "Wan2.1-VACE-14B", "wan2.1", "vace", sizes=_720P + _480P, inputs=[VIDEO, REFERENCE]
        ),
        _profile("Wan2.2-T2V-A14B", "wan2.2", "t2v", sizes=_720P + _480P),
        _profile("Wan2.2-I2V-A14B", "wan2.2", "i2v", sizes=_720P + _480P, inputs=[IMAGE]),
        _profile(
            "Wan2.2-TI2V-5B", "wan2.2", "ti2v", 24, 121, 32, ((1280, 704), (704, 1280)), [IMAGE]
        ),
        # Tiny randomly initialised models for tests and the demo (built locally, never downloaded).
        _profile("tiny-t2v", "wan2.1", "t2v", frames=17, sizes=((64, 64),)),
        _profile("tiny-t2v-a14b", "wan2.2", "t2v", frames=17, sizes=((64, 64),)),
        _profile("tiny-i2v", "wan2.1", "i2v", frames=17, sizes=((64, 64),), inputs=[IMAGE]),
        _profile("tiny-i2v-a14b", "wan2.2", "i2v", frames=17, sizes=((64, 64),), inputs=[IMAGE]),
        _profile("tiny-ti2v", "wan2.2", "ti2v", 24, 17, 32, ((64, 64),), [IMAGE]),
        _profile(
            "tiny-vace", "wan2.1", "vace", frames=17, sizes=((64, 64),), inputs=[VIDEO, REFERENCE]
        ),
    )
}

DEFAULT_PROFILE = "Wan2.1-T2V-1.3B"


def get_profile(model_id: str | None) -> ModelProfile:
    """The built-in profile of a model id (any case, with or without 'Wan-AI/', '-Diffusers')."""
    if model_id is None:
        return BUILTIN_PROFILES[DEFAULT_PROFILE]
    name = model_id.strip()
    name = name.removeprefix("Wan-AI/").removesuffix("-Diffusers")
    for key, profile in BUILTIN_PROFILES.items():
        if key.lower() == name.lower():
            return profile
    known = ", ".join(BUILTIN_PROFILES)
    raise PlanError(f"unknown model {model_id!r}; known models: {known}")
