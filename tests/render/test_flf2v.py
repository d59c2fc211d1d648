"""First-last-frame models (tiny-flf2v): detected as flf2v, an i2v clip with a first and a last
image, following the camera guide by the dual clock exactly as the image-to-video models
(tests/render/test_dual_clock.py); the guide's last frame is the last image when none is given."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from PIL import Image

from tests.render.conftest import plain_call
from tests.render.test_dual_clock import (
    FRAMES,
    SEED,
    STRONG,
    WEAK,
    _latent_mask,
    _request,
    _schedule,
    _trace,
)
from wan.errors import InternalError
from wan.render import dual_clock
from wan.render.generate import ClipRequest, generate_clip
from wan.render.loaded_model import LoadedModel

WIDTH, HEIGHT = 64, 48


def _flf2v(**changes: object) -> ClipRequest:
    last = np.random.default_rng(4).integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    return dataclasses.replace(_request("i2v", WIDTH, HEIGHT, last_image=last), **changes)


def test_tiny_flf2v_is_a_first_last_frame_model(smoke_model) -> None:
    from wan.models.smoke import CLIP_TOKENS

    model = smoke_model("tiny-flf2v")
    assert model.task == "flf2v" and model.modes == ("i2v",)
    assert LoadedModel(model.pipe).task == "flf2v"  # inferred from the pipeline too
    assert model.pipe.transformer.config.pos_embed_seq_len == 2 * CLIP_TOKENS


def test_guided_first_last_frame_clip_holds_the_noised_guide_inside_the_mask(smoke_model) -> None:
    model = smoke_model("tiny-flf2v")
    pipe = model.pipe
    request = _flf2v()
    with _trace(pipe) as seen:
        result = generate_clip(model, request)
    timesteps, sigmas = _schedule(pipe)
    assert [t for t, _, _ in seen] == timesteps[WEAK:]
    assert result.guided_steps == (WEAK, STRONG) and result.frames.shape[0] == FRAMES

    guide = dual_clock.encode_guide(pipe, request.guide, "cpu")
    noise = torch.randn(guide.shape, generator=torch.Generator("cpu").manual_seed(SEED))
    inside = _latent_mask(pipe, WIDTH, HEIGHT).expand_as(guide)
    for index, (_, _, latents) in enumerate(seen, start=WEAK):
        sigma = sigmas[index]
        expected = (1 - sigma) * guide + sigma * noise
        if index == WEAK:
            assert torch.equal(latents, expected)
        elif index < STRONG:
            assert torch.equal(latents[inside], expected[inside])
            assert (latents[~inside] != expected[~inside]).all()
        else:
            assert not torch.equal(latents[inside], expected[inside])


def test_the_last_image_is_the_guides_last_frame_unless_given(smoke_model) -> None:
    model = smoke_model("tiny-flf2v")
    request = _flf2v(steps=2, camera_weak=0.0, camera_strong=0.5)
    given = generate_clip(model, dataclasses.replace(request, last_image=request.guide[-1]))
    implied = generate_clip(model, dataclasses.replace(request, last_image=None))
    other = generate_clip(model, request)
    assert np.array_equal(given.frames, implied.frames)
    assert not np.array_equal(given.frames, other.frames)  # the last image counts


def test_without_a_guide_it_is_the_plain_first_last_frame_call(smoke_model) -> None:
    model = smoke_model("tiny-flf2v")
    request = _flf2v(guide=None, guide_mask=None, steps=1)
    frames = generate_clip(model, request).frames
    plain = plain_call(
        model.pipe,
        request,
        SEED,
        image=Image.fromarray(request.image),
        last_image=Image.fromarray(request.last_image),
    )
    assert np.array_equal(frames, plain)
    with pytest.raises(InternalError, match="needs last_image"):
        generate_clip(model, dataclasses.replace(request, last_image=None))
