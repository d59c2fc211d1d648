"""Fixtures of the render tests that load smoke models."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from wan.render.loaded_model import LoadedModel


@pytest.fixture(scope="module")
def smoke_model(smoke_root: Path) -> Callable[[str], LoadedModel]:
    """LoadedModel of a smoke model (float32, CPU, task as detected), loaded once per module."""
    from wan.models.detect import detect_model
    from wan.models.loader import load_pipeline
    from wan.models.smoke import ensure_smoke_model

    cache: dict[str, LoadedModel] = {}

    def get(model_id: str) -> LoadedModel:
        if model_id not in cache:
            detection = detect_model(ensure_smoke_model(model_id, smoke_root))
            pipe = load_pipeline(detection, dtype="float32")
            pipe.set_progress_bar_config(disable=True)
            cache[model_id] = LoadedModel(pipe, detection.task)
        return cache[model_id]

    return get


@pytest.fixture(scope="module")
def load(smoke_model: Callable[[str], LoadedModel]) -> Callable[[str], LoadedModel]:
    """The same loader under the name the generate and dual-clock tests use."""
    return smoke_model


def plain_call(pipe: Any, request: Any, seed: int, **inputs: Any) -> np.ndarray:
    """uint8 frames of the pipeline called directly with `request`'s text, size, steps and
    guidance and `inputs` (no wan code): what generate_clip must equal bit for bit."""
    import torch

    output = pipe(
        prompt=request.prompt,
        negative_prompt=request.negative_prompt,
        height=request.height,
        width=request.width,
        num_frames=request.num_frames,
        num_inference_steps=request.steps,
        guidance_scale=request.guidance,
        generator=torch.Generator("cpu").manual_seed(seed),
        output_type="np",
        **inputs,
    )
    return np.clip(np.rint(np.asarray(output.frames)[0] * 255.0), 0, 255).astype(np.uint8)
