"""Dual-clock denoising (wan/render/dual_clock.py) on every smoke family that takes it: what the
transformer sees at each step, read by a forward pre-hook on the real pipeline's transformers."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest
import torch

from tests.render.conftest import plain_call
from wan.errors import InternalError, OptionsError
from wan.options.render_options import CAMERA_STRONG, CAMERA_WEAK, parse_options
from wan.render import dual_clock
from wan.render.generate import ClipRequest, generate_clip

FRAMES = 5
STEPS = 8
WEAK, STRONG = 1, 3  # step indices of 0.125 and 0.375 of 8 steps
SEED = 11

# (model, mode, width, height): TI2V's 2.2 VAE and patch need sides that are multiples of 32
FAMILIES = [
    ("tiny-i2v", "i2v", 64, 48),
    ("tiny-i2v-a14b", "i2v", 64, 48),
    ("tiny-ti2v", "i2v", 64, 32),
    ("tiny-t2v", "t2v", 64, 48),
    ("tiny-t2v-a14b", "t2v", 64, 48),
]


def _guide(width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Random frames; a mask with the left half revealed in every frame and the top half revealed
    in frame 3 alone (latent frame 1 covers frames 1-4, so only there)."""
    frames = np.random.default_rng(5).integers(0, 256, (FRAMES, height, width, 3), dtype=np.uint8)
    mask = np.ones((FRAMES, height, width), np.uint8)
    mask[:, :, : width // 2] = 0
    mask[3, : height // 2] = 0
    return frames, mask


def _request(mode: str, width: int, height: int, **changes: Any) -> ClipRequest:
    frames, mask = _guide(width, height)
    base = ClipRequest(
        mode=mode,
        prompt="a lighthouse on a cliff at dusk",
        negative_prompt="blurry",
        num_frames=FRAMES,
        width=width,
        height=height,
        steps=STEPS,
        guidance=1.0,  # one transformer call per step
        guidance_2=1.0,
        seed=SEED,
        image=frames[0] if mode == "i2v" else None,
        guide=frames,
        guide_mask=mask,
        camera_weak=WEAK / STEPS,
        camera_strong=STRONG / STEPS,
    )
    return dataclasses.replace(base, **changes)


@contextmanager
def _trace(pipe: Any) -> Iterator[list[tuple[float, str, torch.Tensor]]]:
    """(timestep, expert, latents the transformer is given) for the first call of each step."""
    seen: list[tuple[float, str, torch.Tensor]] = []
    z_dim = pipe.vae.config.z_dim

    def hook(name: str) -> Callable[..., None]:
        def record(module: Any, args: Any, kwargs: dict[str, Any]) -> None:
            t = float(kwargs["timestep"].max())
            if not seen or seen[-1][0] != t:
                seen.append((t, name, kwargs["hidden_states"][:, :z_dim].detach().clone()))

        return record

    handles = [
        expert.register_forward_pre_hook(hook(name), with_kwargs=True)
        for name in ("transformer", "transformer_2")
        if (expert := getattr(pipe, name, None)) is not None
    ]
    try:
        yield seen
    finally:
        for handle in handles:
            handle.remove()


def _schedule(pipe: Any) -> tuple[list[float], torch.Tensor]:
    sched = type(pipe.scheduler).from_config(pipe.scheduler.config)
    sched.set_timesteps(STEPS)
    return [float(t) for t in sched.timesteps], sched.sigmas


def _latent_mask(pipe: Any, width: int, height: int) -> torch.Tensor:
    """The mask of `_guide` on the latent grid, written out by hand."""
    spatial = pipe.vae.config.scale_factor_spatial
    rows, cols = height // spatial, width // spatial
    grid = torch.ones((2, rows, cols), dtype=torch.bool)
    grid[:, :, : cols // 2] = False
    grid[1, : rows // 2] = False
    return grid[None, None]


@pytest.mark.parametrize(("model_id", "mode", "width", "height"), FAMILIES)
def test_guided_steps_hold_the_noised_guide_inside_the_mask(
    load, model_id: str, mode: str, width: int, height: int
) -> None:
    model = load(model_id)
    pipe = model.pipe
    request = _request(mode, width, height)
    with _trace(pipe) as seen:
        result = generate_clip(model, request)
    timesteps, sigmas = _schedule(pipe)
    # the run is the schedule's tail from the weak step
    assert [t for t, _, _ in seen] == timesteps[WEAK:]
    assert result.steps_run == STEPS - WEAK and result.guided_steps == (WEAK, STRONG)
    assert result.frames.shape == (FRAMES, height, width, 3)

    guide = dual_clock.encode_guide(pipe, request.guide, "cpu")
    noise = torch.randn(guide.shape, generator=torch.Generator("cpu").manual_seed(SEED))
    inside = _latent_mask(pipe, width, height).expand_as(guide).clone()
    # TI2V puts the image's latents in frame 0 of what the transformer sees
    first = 1 if mode == "i2v" and pipe.config.get("expand_timesteps") else 0
    inside[:, :, :first] = False
    outside = ~inside
    outside[:, :, :first] = False
    for index, (_, _, latents) in enumerate(seen, start=WEAK):
        sigma = sigmas[index]
        expected = (1 - sigma) * guide + sigma * noise
        if index == WEAK:  # denoising starts from the guide noised to the weak step, everywhere
            assert torch.equal(latents[:, :, first:], expected[:, :, first:])
        elif index < STRONG:
            assert torch.equal(latents[inside], expected[inside])
            assert (latents[outside] != expected[outside]).all()
        else:
            assert not torch.equal(latents[inside], expected[inside])


@pytest.mark.parametrize("model_id", ["tiny-t2v-a14b", "tiny-i2v-a14b"])
def test_two_experts_switch_at_the_same_step_and_guide_only_the_high_noise_one(
    load, model_id: str
) -> None:
    model = load(model_id)
    mode, width, height = next((m, w, h) for i, m, w, h in FAMILIES if i == model_id)
    with _trace(model.pipe) as plain:
        generate_clip(model, _request(mode, width, height, guide=None, guide_mask=None))
    # a strong clock past the hand-over is moved back to it
    request = _request(mode, width, height, camera_strong=0.75)
    with _trace(model.pipe) as guided:
        result = generate_clip(model, request)
    experts = [(t, name) for t, name, _ in guided]
    assert experts == [(t, name) for t, name, _ in plain][WEAK:]
    assert {name for _, name, _ in plain} == {"transformer", "transformer_2"}
    weak, strong = result.guided_steps
    assert all(name == "transformer" for _, name in experts[: strong - weak])
    assert experts[strong - weak][1] == "transformer_2"
    assert strong < 6 and "high-noise expert" in result.notes[0]


@pytest.mark.parametrize(("model_id", "mode", "width", "height"), FAMILIES)
def test_without_a_guide_the_clip_is_the_plain_pipeline_call(
    load, model_id: str, mode: str, width: int, height: int
) -> None:
    """camera=words: no guide on the request, and the frames are those of the pipeline called
    with the clip's own arguments, bit for bit."""
    from PIL import Image

    model = load(model_id)
    request = _request(mode, width, height, guide=None, guide_mask=None, steps=1)
    frames = generate_clip(model, request).frames
    pipe = model.image_pipe if mode == "i2v" else model.text_pipe
    extra: dict[str, Any] = {"image": Image.fromarray(request.image)} if mode == "i2v" else {}
    if model.two_experts:
        extra["guidance_scale_2"] = request.guidance_2
    plain = plain_call(
        pipe,
        request,
        SEED,
        **extra,
    )
    assert np.array_equal(frames, plain)


def test_video_to_video_is_one_clock_and_a_full_mask(load) -> None:
    """What text-only models did to continue a clip is the dual clock's special case, bit for
    bit: one clock (weak = strong = 1 - strength) and no mask (the guide everywhere)."""
    model = load("tiny-t2v")
    guided = _request("t2v", 64, 48, guide_mask=None, camera_weak=0.5, camera_strong=0.5)
    v2v = dataclasses.replace(
        guided, mode="v2v", guide=None, init_video=guided.guide, strength=0.5, guidance=5.0
    )
    expected = generate_clip(model, v2v)
    result = generate_clip(model, dataclasses.replace(guided, guidance=5.0))
    assert result.steps_run == expected.steps_run == STEPS // 2
    assert np.array_equal(result.frames, expected.frames)


def test_the_late_start_steps_as_the_full_schedule_begun_there(load) -> None:
    scheduler = load("tiny-t2v").pipe.scheduler
    full = type(scheduler).from_config(scheduler.config)
    full.set_timesteps(STEPS)
    full.set_begin_index(2)
    late = dual_clock.late_start_scheduler(scheduler, 2)
    late.set_timesteps(STEPS)
    assert torch.equal(late.timesteps, full.timesteps[2:])
    rng = torch.Generator().manual_seed(0)
    sample = torch.randn((1, 4, 2, 3, 3), generator=rng)
    a = b = sample
    for t in late.timesteps:
        output = torch.randn(sample.shape, generator=rng)
        a = full.step(output, t, a, return_dict=False)[0]
        b = late.step(output, t, b, return_dict=False)[0]
        assert torch.equal(a, b)


def test_the_mask_reaches_the_latent_grid_cell_by_cell() -> None:
    for temporal, spatial in ((4, 8), (4, 16)):
        mask = np.ones((9, 2 * spatial, 3 * spatial), np.uint8)
        mask[0, 0, 0] = 0  # latent frame 0 is frame 0 alone
        mask[4, spatial, 2 * spatial + 1] = 0  # frames 1-4 are latent frame 1
        mask[5, spatial - 1, spatial] = 0  # frames 5-8 are latent frame 2
        grid = dual_clock.latent_mask(mask, temporal, spatial)
        expected = np.ones((3, 2, 3), bool)
        expected[0, 0, 0] = expected[1, 1, 2] = expected[2, 0, 1] = False
        assert np.array_equal(grid, expected)
    with pytest.raises(InternalError, match="latent grid"):
        dual_clock.latent_mask(np.ones((6, 16, 16), np.uint8), 4, 8)


def test_clocks_are_fractions_of_the_steps() -> None:
    assert dual_clock.clock_steps(50, CAMERA_WEAK, CAMERA_STRONG) == dual_clock.Clocks(50, 2, 5)
    assert dual_clock.clock_steps(8, 0.0, 1.0) == dual_clock.Clocks(8, 0, 8)
    assert dual_clock.clock_steps(4, 0.99, 1.0).weak == 3  # at least one step runs
    with pytest.raises(InternalError, match="weak"):
        dual_clock.clock_steps(8, 0.5, 0.25)


def test_requests_a_guide_cannot_serve_are_refused(load) -> None:
    model = load("tiny-t2v")
    good = _request("t2v", 64, 48)
    with pytest.raises(InternalError, match="guide_mask"):
        generate_clip(model, dataclasses.replace(good, guide_mask=good.guide_mask[:, :8]))
    with pytest.raises(InternalError, match="dual-clock denoising takes"):
        v2v = dataclasses.replace(good, mode="v2v", init_video=good.guide, strength=1.0)
        generate_clip(model, v2v)
    with pytest.raises(InternalError, match="camera_weak"):
        generate_clip(model, dataclasses.replace(good, camera_weak=0.5, camera_strong=0.25))


def test_render_options_name_the_camera_and_its_clocks() -> None:
    options = parse_options({})
    assert (options.camera, options.camera_weak, options.camera_strong) == ("guide", 0.04, 0.1)
    assert parse_options({"camera": "words"}).camera == "words"
    with pytest.raises(OptionsError, match=r"camera_strong 0\.1 is below camera_weak 0\.2"):
        parse_options({"camera_weak": 0.2})
    with pytest.raises(OptionsError, match="camera 'orbit'"):
        parse_options({"camera": "orbit"})
