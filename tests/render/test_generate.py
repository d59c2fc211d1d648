"""generate_clip on every smoke architecture, in every mode it supports (tiny random models)."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

from wan.errors import Cancelled, InternalError, OutOfMemory, RenderError, WanError
from wan.render.generate import ClipRequest, generate_clip
from wan.render.strength import fit_strength, v2v_timesteps

SIZE = 64
FRAMES = 5


def _frames(count: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (count, SIZE, SIZE, 3), dtype=np.uint8)


IMAGE = _frames(1, 1)[0]
VIDEO = _frames(FRAMES, 2)


def request(mode: str, **changes: Any) -> ClipRequest:
    base = ClipRequest(
        mode=mode,
        prompt="a red fox running through a snowy forest",
        negative_prompt="blurry",
        num_frames=FRAMES,
        width=SIZE,
        height=SIZE,
        steps=2,
        guidance=5.0,
        guidance_2=None,
        seed=7,
    )
    inputs: dict[str, Any] = {
        "i2v": {"image": IMAGE},
        "vace": {"known_frames": VIDEO[:2], "reference_image": _frames(1, 3)[0, :48]},
        "v2v": {"init_video": VIDEO, "strength": 0.5},
    }.get(mode, {})
    return dataclasses.replace(base, **{**inputs, **changes})


CASES = [
    ("tiny-t2v", "t2v"),
    ("tiny-t2v", "v2v"),
    ("tiny-t2v-a14b", "t2v"),
    ("tiny-t2v-a14b", "v2v"),
    ("tiny-ti2v", "t2v"),
    ("tiny-ti2v", "i2v"),
    ("tiny-i2v", "i2v"),
    ("tiny-i2v-a14b", "i2v"),
    ("tiny-vace", "vace"),
    ("tiny-vace", "t2v"),
    ("tiny-vace", "i2v"),
]


@pytest.mark.parametrize(("model_id", "mode"), CASES)
def test_every_architecture_generates_each_mode(load, model_id: str, mode: str) -> None:
    steps: list[tuple[int, int]] = []
    result = generate_clip(load(model_id), request(mode), on_step=lambda s, t: steps.append((s, t)))
    assert result.frames.shape == (FRAMES, SIZE, SIZE, 3)
    assert result.frames.dtype == np.uint8
    assert result.frames.std() > 0
    expected = 1 if mode == "v2v" else 2  # v2v at strength 0.5 runs int(2 x 0.5) steps
    assert steps == [(i, expected) for i in range(1, expected + 1)]
    assert result.steps_run == expected
    assert result.notes == ()


def test_same_request_gives_the_same_frames_and_seed_matters(load) -> None:
    model = load("tiny-t2v")
    first = generate_clip(model, request("t2v")).frames
    again = generate_clip(model, request("t2v")).frames
    other = generate_clip(model, request("t2v", seed=8)).frames
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


def test_derived_pipelines_share_the_loaded_components(load) -> None:
    import diffusers

    single = load("tiny-t2v")
    v2v = single.v2v_pipe
    assert isinstance(v2v, diffusers.WanVideoToVideoPipeline)
    assert v2v.text_encoder is single.pipe.text_encoder
    assert v2v.vae is single.pipe.vae
    assert v2v.transformer is single.pipe.transformer
    assert single.v2v_pipe is v2v  # built once

    two = load("tiny-t2v-a14b")
    assert two.two_experts
    assert two.v2v_pipe.transformer is two.pipe.transformer_2  # the low-noise expert
    assert two.v2v_pipe.text_encoder is two.pipe.text_encoder

    ti2v = load("tiny-ti2v")
    image = ti2v.image_pipe
    assert isinstance(image, diffusers.WanImageToVideoPipeline)
    assert image.config.expand_timesteps is True
    assert image.transformer is ti2v.pipe.transformer
    assert image.text_encoder is ti2v.pipe.text_encoder
    assert ti2v.text_pipe is ti2v.pipe


def _count_forwards(monkeypatch: pytest.MonkeyPatch, module: Any) -> list[int]:
    calls: list[int] = []
    original = module.forward

    def forward(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, "forward", forward)
    return calls


def test_two_experts_switch_with_both_guidances(load, monkeypatch) -> None:
    model = load("tiny-t2v-a14b")
    high = _count_forwards(monkeypatch, model.pipe.transformer)
    low = _count_forwards(monkeypatch, model.pipe.transformer_2)
    # 4 steps: timesteps 999, 900 (>= 875: high noise), 750, 500 (low noise); cond + uncond
    generate_clip(model, request("t2v", steps=4, guidance=4.0, guidance_2=3.0))
    assert (len(high), len(low)) == (4, 4)
    assert model.pipe._guidance_scale_2 == 3.0


def test_v2v_on_two_experts_caps_strength_below_the_boundary(load, monkeypatch) -> None:
    model = load("tiny-t2v-a14b")
    high = _count_forwards(monkeypatch, model.pipe.transformer)
    low = _count_forwards(monkeypatch, model.pipe.transformer_2)
    steps: list[tuple[int, int]] = []
    result = generate_clip(
        model,
        request("v2v", steps=4, strength=0.9, guidance_2=3.0),
        on_step=lambda s, t: steps.append((s, t)),
    )
    assert result.strength == 0.5
    assert result.steps_run == 2
    assert steps == [(1, 2), (2, 2)]
    assert len(result.notes) == 1
    assert "capped to 0.5" in result.notes[0]
    assert "875" in result.notes[0]
    assert (len(high), len(low)) == (0, 4)  # the low-noise expert alone
    assert model.v2v_pipe._guidance_scale == 3.0  # the low-noise expert's guidance

    kept = generate_clip(model, request("v2v", steps=4, strength=0.5))
    assert kept.strength == 0.5
    assert kept.notes == ()


def test_fit_strength_follows_the_pipeline_timesteps(load) -> None:
    scheduler = load("tiny-t2v").pipe.scheduler
    # 10 steps with flow shift 3: 999, 964, 923, 875, 818, ...; 875 itself is high noise
    strength, count, notes = fit_strength(scheduler, 10, 1.0, 0.875)
    assert (strength, count) == (0.6, 6)
    assert v2v_timesteps(scheduler, 10, strength)[0] < 875
    assert len(v2v_timesteps(scheduler, 10, strength)) == 6
    assert "capped" in notes[0]
    assert fit_strength(scheduler, 10, 0.35, 0.875) == (0.35, 3, [])
    assert fit_strength(scheduler, 10, 0.35, None) == (0.35, 3, [])
    low, count, notes = fit_strength(scheduler, 4, 0.1, None)
    assert count == 1 and int(4 * low) == 1 and "one step" in notes[0]
    assert fit_strength(scheduler, 7, 1.0, None) == (1.0, 7, [])
    from wan.render.strength import _strength_for

    for steps in range(1, 121):
        for wanted in range(1, steps + 1):
            assert int(steps * _strength_for(wanted, steps)) == wanted


def test_vace_gets_known_frames_then_grey_with_mask_zero_for_known(load, monkeypatch) -> None:
    model = load("tiny-vace")
    pipe = model.pipe
    seen: dict[str, Any] = {}
    original = pipe.preprocess_conditions

    def spy(video, mask, reference_images, *args: Any, **kwargs: Any):
        seen.update(video=video, mask=mask, reference_images=reference_images)
        out = original(video, mask, reference_images, *args, **kwargs)
        seen["processed_mask"] = out[1]
        return out

    monkeypatch.setattr(pipe, "preprocess_conditions", spy)
    reference = _frames(1, 3)[0, :48]
    generate_clip(model, request("vace", known_frames=VIDEO[:2], reference_image=reference))
    video = [np.asarray(frame) for frame in seen["video"]]
    assert len(video) == FRAMES
    assert np.array_equal(video[0], VIDEO[0]) and np.array_equal(video[1], VIDEO[1])
    assert all((frame == 128).all() for frame in video[2:])
    masks = [np.asarray(m) for m in seen["mask"]]
    assert [int(m.max()) for m in masks] == [0, 0, 255, 255, 255]
    processed = seen["processed_mask"]  # diffusers' own reading: 0 keeps, 1 generates
    assert processed[:, :, :2].max().item() == 0.0
    assert processed[:, :, 2:].min().item() == 1.0
    assert len(seen["reference_images"]) == 1
    assert np.array_equal(np.asarray(seen["reference_images"][0]), reference)

    seen.clear()
    generate_clip(model, request("i2v"))  # a first image is VACE's single known frame
    assert np.array_equal(np.asarray(seen["video"][0]), IMAGE)
    assert [int(np.asarray(m).max()) for m in seen["mask"]] == [0, 255, 255, 255, 255]
    assert seen["reference_images"] is None


@pytest.mark.parametrize("model_id", ["tiny-i2v", "tiny-i2v-a14b", "tiny-ti2v"])
def test_first_image_reaches_the_pipeline(load, monkeypatch, model_id: str) -> None:
    model = load(model_id)
    pipe = model.image_pipe
    seen = []
    original = pipe.prepare_latents

    def spy(image, *args: Any, **kwargs: Any):
        seen.append(image.detach().cpu().numpy())
        return original(image, *args, **kwargs)

    monkeypatch.setattr(pipe, "prepare_latents", spy)
    generate_clip(model, request("i2v"))
    expected = IMAGE.transpose(2, 0, 1)[None].astype(np.float32) / 255.0 * 2.0 - 1.0
    assert len(seen) == 1
    np.testing.assert_allclose(seen[0], expected, atol=1e-6)


def test_cancel_stops_within_one_step_and_leaves_the_pipeline_usable(load) -> None:
    model = load("tiny-t2v")
    baseline = generate_clip(model, request("t2v", steps=4)).frames
    steps: list[tuple[int, int]] = []
    with pytest.raises(Cancelled, match="step 2 of 4") as info:
        generate_clip(
            model,
            request("t2v", steps=4),
            on_step=lambda s, t: steps.append((s, t)),
            cancel=lambda: len(steps) >= 2,
        )
    assert not isinstance(info.value, WanError)  # a cancel is not an input error
    assert steps == [(1, 4), (2, 4)]  # no third step
    again = generate_clip(model, request("t2v", steps=4)).frames
    assert np.array_equal(again, baseline)

    steps.clear()
    with pytest.raises(Cancelled):
        generate_clip(
            model, request("t2v"), on_step=lambda s, t: steps.append((s, t)), cancel=lambda: True
        )
    assert steps == []


@pytest.mark.parametrize(
    "error",
    [
        lambda torch: torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB"),
        lambda torch: RuntimeError("MPS backend out of memory (MPS allocated: 1 GB)"),
    ],
    ids=["OutOfMemoryError", "RuntimeError"],
)
def test_out_of_memory_is_raised_with_the_request(load, monkeypatch, error) -> None:
    import torch

    model = load("tiny-t2v")
    clip = request("t2v")

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise error(torch)

    monkeypatch.setattr(model.pipe.transformer, "forward", boom)
    with pytest.raises(OutOfMemory) as info:
        generate_clip(model, clip)
    assert isinstance(info.value, RenderError)
    assert info.value.request is clip
    assert "out of memory" in str(info.value)
    monkeypatch.undo()
    assert generate_clip(model, clip).frames.shape == (FRAMES, SIZE, SIZE, 3)


def test_other_errors_are_not_out_of_memory(load, monkeypatch) -> None:
    model = load("tiny-t2v")

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("mat1 and mat2 shapes cannot be multiplied")

    monkeypatch.setattr(model.pipe.transformer, "forward", boom)
    with pytest.raises(RuntimeError, match="shapes"):
        generate_clip(model, request("t2v"))


@pytest.mark.parametrize(
    ("model_id", "clip", "message"),
    [
        ("tiny-i2v", request("t2v"), "cannot generate t2v"),
        ("tiny-ti2v", request("v2v"), "cannot generate v2v"),
        ("tiny-t2v", request("vace"), "cannot generate vace"),
        ("tiny-t2v", request("t2v", num_frames=6), "4n\\+1"),
        ("tiny-t2v", request("t2v", width=72), "multiples of 16"),
        ("tiny-ti2v", request("t2v", width=48), "multiples of 32"),
        ("tiny-i2v", request("i2v", image=None), "needs image"),
        ("tiny-i2v", request("i2v", image=IMAGE[:32]), "expected uint8"),
        ("tiny-vace", request("vace", known_frames=_frames(6)), "known frames"),
        ("tiny-t2v", request("v2v", strength=None), "strength"),
        ("tiny-t2v", request("v2v", init_video=VIDEO[:3]), "init_video"),
        ("tiny-t2v", request("paint"), "not one of"),
    ],
)
def test_requests_the_pipeline_would_alter_are_refused(load, model_id, clip, message) -> None:
    """The renderer builds requests from a checked plan: a refused one is a bug, not input."""
    with pytest.raises(InternalError, match=message) as refused:
        generate_clip(load(model_id), clip)
    assert "this is a bug" in str(refused.value) and not isinstance(refused.value, WanError)


def test_float_frames_become_rounded_uint8() -> None:
    from wan.render.generate import _to_uint8

    frames = np.array([0.0, 0.6 / 255, 0.4 / 255, 1.0, 1.2, -0.1], dtype=np.float32)
    assert _to_uint8(frames).tolist() == [0, 1, 0, 255, 255, 0]
    assert _to_uint8(np.array([0.5], dtype=np.float32)).tolist() == [128]
    with pytest.raises(RenderError, match="NaN"):
        _to_uint8(np.array([np.nan], dtype=np.float32))
