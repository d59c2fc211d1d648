"""The planner's view of any `--model` value: catalog id, smoke id, folder or checkpoint.

A catalog or smoke id needs nothing on disk to be planned for. A folder or file is detected
(configs and headers only) and matched to the catalog; a fine-tune takes the profile of the
model it is compatible with, and a Wan model the catalog does not know gets a profile derived
from its architecture (Wan 2.1 defaults; TI2V's 24 fps, 121 frames and 32-pixel multiple).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from wan.core.profiles import ModelProfile
from wan.core.tasks import task_of
from wan.errors import ModelError
from wan.models.catalog import get_entry, wan_entries
from wan.models.detect import Detection, detect_model

DEFAULT_MODEL = "Wan2.1-T2V-1.3B"


def profile_for(ref: str | None) -> ModelProfile:
    """The ModelProfile of a --model value (the default model when None)."""
    if ref is None:
        return get_entry(DEFAULT_MODEL).profile()
    path = Path(ref).expanduser()
    if not path.exists():
        looks_like_path = "/" in ref or "\\" in ref or ref.endswith(".safetensors")
        if looks_like_path and not ref.startswith("Wan-AI/"):
            raise ModelError(f"{ref}: no such model folder or checkpoint file")
        return get_entry(ref).profile()  # unknown ids raise ModelError listing the known ones
    detection = detect_model(path)
    if not detection.is_wan or detection.signature is None:
        problems = "; ".join(detection.problems) or "no Wan transformer found"
        raise ModelError(f"{path}: not a Wan model ({problems})")
    match = detection.match(wan_entries())
    if match.model_id is not None:
        return replace(get_entry(match.model_id).profile(), id=str(path))
    return derived_profile(detection)


def derived_profile(detection: Detection) -> ModelProfile:
    """A profile from the architecture alone, for Wan models the catalog does not list."""
    signature = detection.signature
    task = detection.task or "t2v"
    ti2v = task == "ti2v"
    return ModelProfile(
        id=str(detection.path),
        family="wan2.2" if ti2v or (signature and signature.experts == 2) else "wan2.1",
        task=task,
        native_fps=24 if ti2v else 16,
        max_clip_frames=121 if ti2v else 81,
        size_multiple=32 if ti2v else 16,
        sizes=((1280, 704), (704, 1280)) if ti2v else ((832, 480), (480, 832)),
        inputs=task_of(task).inputs,
    )
