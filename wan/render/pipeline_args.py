"""The keyword arguments of one clip's pipeline call, per mode: t2v, i2v, VACE, v2v.

What diffusers 0.35-0.39 does that callers rely on (read from its sources):
- VACE: `mask` 0 (black) keeps a pixel (the "inactive" video), 1 (white) generates it (the mask
  is per pixel: a camera guide keeps its warped pixels and has the revealed ones generated);
  pixels to generate are grey (0 in the pipeline's [-1, 1] range). Reference images are extra
  latent frames in front, dropped before decoding.
- Two-expert pipelines take `guidance_scale_2` for the low-noise expert; video-to-video runs that
  expert alone, with its guidance (see `wan.render.strength`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from wan.render.loaded_model import LoadedModel, pipe_config
from wan.render.strength import fit_strength

if TYPE_CHECKING:  # generate imports this module at run time
    from wan.render.generate import ClipRequest

GREY = 128  # pixel value of frames VACE is to generate: 0 in the pipeline's [-1, 1] range


def call_arguments(
    model: LoadedModel, request: ClipRequest
) -> tuple[Any, dict[str, Any], list[str], float | None, int]:
    """(pipeline, keyword arguments, notes, v2v strength, steps to run) for a request."""
    import torch

    notes: list[str] = []
    strength: float | None = None
    total = request.steps
    kwargs: dict[str, Any] = {
        "height": request.height,
        "width": request.width,
        "num_frames": request.num_frames,
        "num_inference_steps": request.steps,
        "generator": torch.Generator(device="cpu").manual_seed(_seed(request.seed)),
        "output_type": "np",
    }
    guidance = request.guidance
    mode = request.mode
    if model.task == "vace" and (mode == "i2v" or (mode == "t2v" and request.guide is not None)):
        mode = "vace"  # the first image is VACE's single known frame; the guide its control
    if mode == "t2v":
        pipe = model.text_pipe
    elif mode == "i2v":
        pipe = model.image_pipe
        kwargs["image"] = _pil(request.image)
        last = request.last_image
        if last is None and model.task == "flf2v" and request.guide is not None:
            last = request.guide[-1]  # the camera guide ends where the clip is to end
        if last is not None:
            if model.task == "ti2v":
                notes.append("the last image was ignored: TI2V models take a first image only")
            else:
                kwargs["last_image"] = _pil(last)
    elif mode == "vace":
        pipe = model.pipe
        kwargs.update(_vace_inputs(request))
    else:  # v2v
        pipe = model.v2v_pipe
        boundary = model.boundary_ratio if model.two_experts else None
        if model.two_experts and request.guidance_2 is not None:
            guidance = request.guidance_2  # the low-noise expert's guidance
        strength, total, more = fit_strength(
            pipe.scheduler, request.steps, float(request.strength or 0.0), boundary
        )
        notes += more
        kwargs["video"] = [_pil(frame) for frame in request.init_video]  # type: ignore[union-attr]
        kwargs["strength"] = strength
        del kwargs["num_frames"]  # the video's length is the clip's
    kwargs["guidance_scale"] = guidance
    if pipe_config(pipe).get("boundary_ratio") is not None and mode != "v2v":
        kwargs["guidance_scale_2"] = (
            request.guidance_2 if request.guidance_2 is not None else request.guidance
        )
    kwargs.update(_prompt_arguments(model, pipe, request, guidance))
    return pipe, kwargs, notes, strength, total


def _vace_inputs(request: ClipRequest) -> dict[str, Any]:
    """Control video with its mask (0 keep, 1 generate; frames to generate grey); reference.

    The known frames lead, kept whole. With a guide in "control" mode the other frames are the
    guide's: its warped pixels kept (the camera), the revealed ones grey and generated; in
    "clock" mode, or without a guide, they are all generated (the dual clock holds the latents).
    """
    known = request.known_frames
    if known is None and request.mode == "i2v":
        known = request.image[None]  # type: ignore[index]
    size = (request.num_frames, request.height, request.width)
    control = np.full((*size, 3), GREY, np.uint8)
    generate = np.full(size, 255, np.uint8)
    guided = request.guide is not None and request.vace_camera == "control"
    if guided:
        kept = np.ones(size, bool) if request.guide_mask is None else request.guide_mask != 0
        control[kept] = request.guide[kept]  # type: ignore[index]
        generate[kept] = 0
    inputs: dict[str, Any] = {}
    if known is not None:
        control[: len(known)] = known
        generate[: len(known)] = 0
    if known is not None or guided:
        inputs["video"] = [_pil(frame) for frame in control]
        inputs["mask"] = [_grey(plane) for plane in generate]
    if request.reference_image is not None:
        inputs["reference_images"] = [_pil(request.reference_image)]
    return inputs


def _prompt_arguments(
    model: LoadedModel, pipe: Any, request: ClipRequest, guidance: float
) -> dict[str, Any]:
    if model.applied is None:
        return {"prompt": request.prompt, "negative_prompt": request.negative_prompt}
    from wan.models.apply_plan import encode_prompts

    return encode_prompts(
        pipe, model.applied, request.prompt, request.negative_prompt, guidance=guidance > 1.0
    )


def _pil(array: np.ndarray | None) -> Any:
    from PIL import Image

    return Image.fromarray(np.ascontiguousarray(array)).convert("RGB")


def _grey(plane: np.ndarray) -> Any:
    from PIL import Image

    return Image.fromarray(np.ascontiguousarray(plane))  # uint8 (H, W): mode L


def _seed(seed: int) -> int:
    return int(seed) & 0xFFFF_FFFF_FFFF_FFFF
