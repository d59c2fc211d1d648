"""VACE follows the camera guide two ways (`ClipRequest.vace_camera`): "control", the guide's warped
pixels as VACE's control video (kept) and its revealed pixels generated, read from what the real
pipeline is given; "clock", dual-clock denoising on VACE's latents, read by a forward pre-hook on
its transformer as for the other families (tests/render/test_dual_clock.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from tests.render.conftest import plain_call
from tests.render.test_dual_clock import (
    SEED,
    STEPS,
    STRONG,
    WEAK,
    _guide,
    _latent_mask,
    _request,
    _schedule,
    _trace,
)
from wan.errors import InternalError
from wan.options.render_options import VACE_CAMERA, parse_options
from wan.render import dual_clock
from wan.render.generate import ClipRequest, generate_clip
from wan.render.pipeline_args import GREY

WIDTH, HEIGHT = 64, 48
KNOWN = 2  # the previous clip's last frames that lead the control video


def _vace(**changes: Any) -> ClipRequest:
    """A VACE clip continuing another: two known frames, a reference image, the guide."""
    frames, _ = _guide(WIDTH, HEIGHT)
    known = np.random.default_rng(8).integers(0, 256, (KNOWN, HEIGHT, WIDTH, 3), dtype=np.uint8)
    reference = np.random.default_rng(9).integers(0, 256, (40, 30, 3), dtype=np.uint8)
    base = _request("vace", WIDTH, HEIGHT, known_frames=known, reference_image=reference)
    assert np.array_equal(base.guide, frames)
    return dataclasses.replace(base, **changes)


@contextmanager
def _conditions(pipe: Any) -> Iterator[list[dict[str, Any]]]:
    """The control videos, masks and references the pipeline's class preprocesses (the clock
    runs a late-start copy of the pipeline), as uint8 arrays."""
    seen: list[dict[str, Any]] = []
    cls = type(pipe)
    original = cls.preprocess_conditions

    def spy(self: Any, video: Any, mask: Any, reference_images: Any, *args: Any) -> Any:
        if video is not None:  # not the clock's own encoding of the reference
            seen.append(
                {
                    "video": np.stack([np.asarray(f) for f in video]),
                    "mask": np.stack([np.asarray(m) for m in mask]),
                    "references": reference_images,
                }
            )
        return original(self, video, mask, reference_images, *args)

    cls.preprocess_conditions = spy
    try:
        yield seen
    finally:
        cls.preprocess_conditions = original


def test_control_keeps_the_warped_pixels_and_generates_the_revealed_ones(smoke_model) -> None:
    model = smoke_model("tiny-vace")
    request = _vace(vace_camera="control", steps=2)
    with _conditions(model.pipe) as seen, _trace(model.pipe) as steps:
        result = generate_clip(model, request)
    (given,) = seen
    kept = request.guide_mask != 0
    kept[:KNOWN] = True  # the known frames lead, every pixel kept
    expected = np.where(kept[..., None], request.guide, np.uint8(GREY))
    expected[:KNOWN] = request.known_frames
    assert np.array_equal(given["video"], expected)
    assert np.array_equal(given["mask"], np.where(kept, 0, 255))  # VACE: 0 keep, 1 generate
    assert given["references"] is not None and len(given["references"]) == 1
    # the guide is the control: the whole schedule runs, no clock
    assert len(steps) == 2 and result.guided_steps is None and result.steps_run == 2


def test_control_is_the_pipeline_called_with_that_video_and_mask(smoke_model) -> None:
    """What the control mode gives VACE is all it changes: the frames are those of the plain
    pipeline call with that control video and mask, bit for bit."""
    model = smoke_model("tiny-vace")
    request = _vace(vace_camera="control", steps=1, reference_image=None)
    with _conditions(model.pipe) as seen:
        frames = generate_clip(model, request).frames
    (given,) = seen
    plain = plain_call(
        model.pipe,
        request,
        SEED,
        video=[Image.fromarray(f) for f in given["video"]],
        mask=[Image.fromarray(m) for m in given["mask"]],
    )
    assert np.array_equal(frames, plain)


@pytest.mark.parametrize("mode", ["vace", "t2v"])
def test_clock_holds_the_noised_guide_inside_the_mask_on_vace_latents(
    smoke_model, mode: str
) -> None:
    """The clock on VACE: the control video as without a guide (known frames kept, the rest
    generated); the reference's latent frame in front starts from the reference noised to the
    weak step and is never held."""
    model = smoke_model("tiny-vace")
    pipe = model.pipe
    if mode == "vace":
        request = _vace(vace_camera="clock")
    else:  # a first clip from text: no known frames, no reference
        request = _request("t2v", WIDTH, HEIGHT, vace_camera="clock")
    with _trace(pipe) as seen, _conditions(pipe) as given:
        result = generate_clip(model, request)
    timesteps, sigmas = _schedule(pipe)
    assert [t for t, _, _ in seen] == timesteps[WEAK:]
    assert result.guided_steps == (WEAK, STRONG) and result.steps_run == STEPS - WEAK
    if mode == "vace":  # the control video is the one without a guide: known frames, then grey
        (control,) = given
        assert np.array_equal(control["video"][:KNOWN], request.known_frames)
        assert (control["video"][KNOWN:] == GREY).all()
        assert (control["mask"][:KNOWN] == 0).all() and (control["mask"][KNOWN:] == 255).all()
    else:  # a first clip from text on VACE: no control video at all
        assert given == []

    guide = dual_clock.encode_guide(pipe, request.guide, "cpu")
    lead = 0
    if request.reference_image is not None:
        refs = [Image.fromarray(request.reference_image)]
        reference = dual_clock.reference_latents(pipe, refs, HEIGHT, WIDTH, "cpu")
        lead = reference.shape[2]
        guide = torch.cat([reference, guide], dim=2)
    noise = torch.randn(guide.shape, generator=torch.Generator("cpu").manual_seed(SEED))
    inside = torch.zeros(guide.shape, dtype=torch.bool)
    inside[:, :, lead:] = _latent_mask(pipe, WIDTH, HEIGHT).expand_as(guide[:, :, lead:])
    outside = ~inside
    outside[:, :, :lead] = False
    for index, (_, _, latents) in enumerate(seen, start=WEAK):
        sigma = sigmas[index]
        expected = (1 - sigma) * guide + sigma * noise
        if index == WEAK:
            assert latents.shape == guide.shape and torch.equal(latents, expected)
        elif index < STRONG:
            assert torch.equal(latents[inside], expected[inside])
            assert (latents[outside] != expected[outside]).all()
            assert (latents[:, :, :lead] != expected[:, :, :lead]).all()
        else:
            assert not torch.equal(latents[inside], expected[inside])


def test_without_a_guide_vace_clips_are_unchanged(smoke_model) -> None:
    """camera=words: the frames of the plain pipeline call (known frames kept, rest grey)."""
    model = smoke_model("tiny-vace")
    request = _vace(guide=None, guide_mask=None, reference_image=None, steps=1)
    frames = generate_clip(model, request).frames
    grey = Image.new("RGB", (WIDTH, HEIGHT), (GREY,) * 3)
    plain = plain_call(
        model.pipe,
        request,
        SEED,
        video=[Image.fromarray(f) for f in request.known_frames] + [grey] * 3,
        mask=[Image.new("L", (WIDTH, HEIGHT), 0)] * KNOWN
        + [Image.new("L", (WIDTH, HEIGHT), 255)] * 3,
    )
    assert np.array_equal(frames, plain)


def test_vace_camera_is_an_option_with_control_the_default(smoke_model) -> None:
    assert parse_options({}).vace_camera == VACE_CAMERA == "control"
    assert parse_options({"vace_camera": "clock"}).vace_camera == "clock"
    assert ClipRequest.__dataclass_fields__["vace_camera"].default == "control"
    with pytest.raises(InternalError, match="vace_camera 'latents'"):
        generate_clip(smoke_model("tiny-vace"), _vace(vace_camera="latents"))
