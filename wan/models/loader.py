"""Load a detected model as a diffusers pipeline, and run the smallest generation that proves it.

Always through the concrete pipeline class named by the detection (WanPipeline, ...), never
`DiffusionPipeline`: diffusers' base class ignores components passed for Wan's optional slots.
Only local files, only safetensors.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wan.core.tasks import takes_first_image
from wan.errors import ModelError
from wan.models.detect import Detection

log = logging.getLogger(__name__)


def torch_dtype(name: str):
    import torch

    try:
        return {"bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}[
            name
        ]
    except KeyError:
        raise ModelError(f"dtype {name!r} is not one of bfloat16, float16, float32") from None


def pipeline_class(detection: Detection, image_mode: bool = False):
    """The diffusers class for a detection; TI2V uses the image-to-video class for image input."""
    import diffusers

    name = detection.pipeline
    if image_mode and detection.task == "ti2v":
        name = "WanImageToVideoPipeline"
    cls = getattr(diffusers, name or "", None)
    if cls is None:
        raise ModelError(
            f"{detection.path}: pipeline {name!r} is not in diffusers {diffusers.__version__}; "
            "update diffusers (>= 0.35, < 0.40) or use a Wan Diffusers folder"
        )
    return cls


def load_pipeline(
    detection: Detection,
    dtype: str = "bfloat16",
    image_mode: bool = False,
    base_folder: Path | None = None,
):
    """A ready pipeline on the CPU (the memory plan moves it); single files need a base folder.

    A load that fails on a file is explained by the folder checks (`wan.models.validate`): a
    truncated text encoder is named with its fix, not shown as the loader's traceback."""
    try:
        return _load(detection, dtype, image_mode, base_folder)
    except (OSError, ValueError, RuntimeError, *_safetensors_errors()) as exc:
        raise _load_failure(detection, base_folder, exc) from None


def _load(detection: Detection, dtype: str, image_mode: bool, base_folder: Path | None):
    if detection.kind == "single_file":
        from wan.models.single_file_load import assemble_pipeline

        if base_folder is None:
            raise ModelError(
                f"{detection.path} holds only a transformer; it needs an installed base model of "
                "the same architecture for the text encoder, tokenizer and VAE "
                "(install the matching catalog model, e.g. `python -m wan download <id>`)"
            )
        return assemble_pipeline(detection.path, base_folder, torch_dtype(dtype))
    if detection.kind != "diffusers":
        raise ModelError(f"{detection.path}: not a Wan model ({'; '.join(detection.problems)})")
    cls = pipeline_class(detection, image_mode)
    return cls.from_pretrained(
        str(detection.path),
        torch_dtype=torch_dtype(dtype),
        local_files_only=True,
        use_safetensors=True,
    )


def _safetensors_errors() -> tuple[type[BaseException], ...]:
    """safetensors' own error (not an OSError): what transformers raises on a damaged file."""
    try:
        from safetensors import SafetensorError
    except ImportError:  # pragma: no cover - older safetensors
        return ()
    return (SafetensorError,)


def _load_failure(detection: Detection, base_folder: Path | None, exc: BaseException) -> ModelError:
    """The folder checks' verdict on what failed to load, else the loader's own reason."""
    from wan.models.validate import damage_message, validate_model

    folders = [Path(detection.path)] if detection.kind == "diffusers" else []
    folders += [base_folder] if base_folder is not None else []
    for folder in folders:
        report = validate_model(folder)
        if not report.ok:
            return ModelError(damage_message(report))
    reason = str(exc).splitlines()[0] if str(exc).strip() else ""
    return ModelError(
        f"{detection.path}: diffusers could not load it ({type(exc).__name__}: {reason}); "
        f"run `python -m wan check {detection.path}`"
    )


@dataclass(frozen=True)
class QuickRun:
    seconds: float
    frames: int
    steps: int
    width: int
    height: int
    shape: tuple[int, ...]

    def to_dict(self) -> dict:
        return {
            "seconds": round(self.seconds, 3),
            "frames": self.frames,
            "steps": self.steps,
            "size": [self.width, self.height],
            "shape": list(self.shape),
        }


def quick_generate(
    pipe,
    task: str,
    width: int,
    height: int,
    frames: int = 5,
    steps: int = 2,
    seed: int = 0,
    device: str = "cpu",
) -> QuickRun:
    """Generate a few frames with the inputs the task needs (grey image, half-known video)."""
    import torch
    from PIL import Image

    kwargs = {
        "prompt": "a lighthouse on a cliff",
        "height": height,
        "width": width,
        "num_frames": frames,
        "num_inference_steps": steps,
        "generator": torch.Generator(device="cpu").manual_seed(seed),
        "output_type": "np",
    }
    grey = Image.new("RGB", (width, height), (128, 128, 128))
    if takes_first_image(task):
        kwargs["image"] = grey
    if task == "vace":
        kwargs["video"] = [grey] * frames
        kwargs["mask"] = [Image.new("L", (width, height), 255)] * frames
    start = time.perf_counter()
    output = pipe(**kwargs).frames
    seconds = time.perf_counter() - start
    array = np.asarray(output)
    if not np.isfinite(array).all():
        raise ModelError("the test generation produced NaN or infinite values")
    return QuickRun(seconds, frames, steps, width, height, tuple(array.shape))
