"""Dual-clock denoising: a clip that follows a guide video (training-free, on diffusers' pipelines).

Time-to-Move (Singer, Rotstein, Mann, Kimmel, Litany; arXiv 2511.08633) makes an image-to-video
model follow a crude motion video and a mask: encode the guide with the VAE; start denoising not
from pure noise but from the guide latents noised to a weak step; before every step until a
strong step, put the guide latents noised to that step back INSIDE the mask (outside it the
latents evolve freely from the weak step); from the strong step on everything evolves freely.
Two clocks: inside the mask the clip is held to the guide for longer than outside. For camera
motion the guide is our camera guide (`wan.render.camera_guide`): the source frame carried along
the clip's camera path, the mask 1 where a pixel comes from the source.

How it runs on the pipelines, unchanged:
- the run starts late: a copy of the pipeline's scheduler drops the first `weak` steps of the
  schedule (`late_start_scheduler`), so the pipeline runs timesteps[weak:] of the same schedule,
  exactly as the full schedule begun at that step (the pipeline's own v2v does the same with
  `set_begin_index`); a two-expert pipeline still switches expert on each timestep's value, so
  the switch falls on the same step as without the guide;
- the first latents are the `latents=` argument; the replacement happens in the step callback
  (`callback_on_step_end` may change `latents`), after the step that ends at the guided step;
- the guide is noised with the scheduler's own add-noise (flow matching: (1 - sigma) x0 +
  sigma noise), one noise tensor drawn once from the clip's generator: deterministic.

On VACE (`vace_camera` "clock") the same clock runs on VACE's latents; its control video stays as
without a guide (known frames kept, the rest generated), and a reference image's latent frames,
which the pipeline puts in front of the clip's, start from the reference's latents noised to the
weak step and are never held.

The mask goes to the latent grid with the VAE's own factors: latent frame 0 is frame 0, latent
frame k the k-th group of `scale_factor_temporal` frames after it; a cell is guided only where
EVERY pixel of its block (and of its frames) comes from the source. Time-to-Move samples one
pixel per cell instead; a cell that holds a revealed pixel would carry the guide's fill (stretched
border, holes) into the clip and hold the model to it, so revealed regions stay the model's.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from wan.errors import InternalError

if TYPE_CHECKING:  # generate imports this module at run time
    from wan.render.generate import ClipRequest
    from wan.render.loaded_model import LoadedModel

GUIDED_MODES = ("t2v", "i2v")  # clip modes that may follow a guide (a request's `guide` set)
VACE_GUIDED_MODES = ("t2v", "i2v", "vace")  # on a VACE model: its known-frame clips too


def guided_modes(task: str) -> tuple[str, ...]:
    """The clip modes a model of `task` may follow a guide in."""
    return VACE_GUIDED_MODES if task == "vace" else GUIDED_MODES


def uses_clock(model: LoadedModel, request: ClipRequest) -> bool:
    """Whether the request runs the dual clock: a guide, except on VACE in control mode (there
    the guide is VACE's control video, `wan.render.pipeline_args`)."""
    if request.guide is None:
        return False
    return model.task != "vace" or request.vace_camera == "clock"


@dataclass(frozen=True)
class Clocks:
    """Step indices into a schedule of `steps`: the run starts at `weak`; the steps weak ..
    strong-1 are guided (the mask region replaced before each); from `strong` on it is free."""

    steps: int
    weak: int
    strong: int

    @property
    def steps_run(self) -> int:
        return self.steps - self.weak


def clock_steps(steps: int, weak: float, strong: float) -> Clocks:
    """The clocks as step indices: fractions of the steps, halves rounded up; at least one step
    runs (weak <= steps - 1) and weak <= strong <= steps."""
    if steps < 1 or not 0.0 <= weak <= strong <= 1.0:
        raise InternalError(
            f"dual clock: weak {weak} and strong {strong} must satisfy 0 <= weak <= strong <= 1 "
            f"(fractions of {steps} steps)"
        )
    first = min(math.floor(weak * steps + 0.5), steps - 1)
    return Clocks(steps, first, min(max(math.floor(strong * steps + 0.5), first), steps))


def expert_limit(clocks: Clocks, timesteps: list[float], boundary: float) -> tuple[Clocks, str]:
    """Clocks whose guided steps all run on the high-noise expert (t >= boundary), and a note
    when the strong step had to move earlier for it (empty otherwise)."""
    low = next((j for j, t in enumerate(timesteps) if t < boundary), len(timesteps))
    strong = min(clocks.strong, max(low, clocks.weak))
    if strong == clocks.strong:
        return clocks, ""
    return Clocks(clocks.steps, clocks.weak, strong), (
        f"camera strong step {clocks.strong} of {clocks.steps} moved to {strong}: the guided steps "
        f"run on the high-noise expert, which hands over at step {low} (timestep {boundary:.0f})"
    )


def latent_mask(mask: np.ndarray, temporal: int, spatial: int) -> np.ndarray:
    """(N, H, W) pixel mask (nonzero = from the source) -> (1 + (N-1)/temporal, H/spatial,
    W/spatial) bool on the latent grid: a cell is True only if all its pixels are."""
    frames, height, width = mask.shape
    if (frames - 1) % temporal or height % spatial or width % spatial:
        raise InternalError(
            f"a {frames}x{height}x{width} mask does not fit the latent grid "
            f"(frames 1 + {temporal}n, sides multiples of {spatial})"
        )
    valid = np.asarray(mask) != 0
    groups = np.concatenate(
        [valid[:1], valid[1:].reshape(-1, temporal, height, width).all(axis=1)], axis=0
    )
    blocks = groups.reshape(len(groups), height // spatial, spatial, width // spatial, spatial)
    return blocks.all(axis=(2, 4))


def vae_factors(vae: Any) -> tuple[int, int]:
    """(temporal, spatial) compression of a Wan VAE, from its config (4, 8 for Wan 2.1; 4, 16
    for the Wan 2.2 VAE)."""
    config = vae.config
    return int(config.scale_factor_temporal), int(config.scale_factor_spatial)


def encode_guide(pipe: Any, frames: np.ndarray, device: Any) -> Any:
    """The guide's latents (1, z, T', H', W') float32, in the pipeline's latent normalisation:
    the pipeline's own preprocessing, the posterior's mode, (z - mean) / std from the VAE config."""
    from PIL import Image

    height, width = frames.shape[1:3]
    images = [Image.fromarray(np.ascontiguousarray(frame)).convert("RGB") for frame in frames]
    video = pipe.video_processor.preprocess_video(images, height=height, width=width)
    return _normalized_latents(pipe.vae, video, device)


def reference_latents(
    pipe: Any, references: list[Any], height: int, width: int, device: Any
) -> Any:
    """VACE's reference images as the latent frames the pipeline puts in front of the clip's
    (1, z, r, H', W') float32: its own preprocessing (fit and pad to the clip's size), each image
    encoded alone, the last one first, as `WanVACEPipeline.prepare_video_latents` does."""
    import torch

    _, _, processed = pipe.preprocess_conditions(
        None, None, references, 1, height, width, 1, torch.float32, device
    )
    encoded = [
        _normalized_latents(pipe.vae, image[None, :, None], device) for image in processed[0]
    ]
    return torch.cat(encoded[::-1], dim=2)


def _normalized_latents(vae: Any, video: Any, device: Any) -> Any:
    """(1, 3, T, H, W) video in [-1, 1] -> its latents' posterior mode, (z - mean) / std."""
    import torch

    latents = vae.encode(video.to(device=device, dtype=vae.dtype)).latent_dist.mode()
    latents = latents.to(torch.float32)
    shape = (1, vae.config.z_dim, 1, 1, 1)
    mean = torch.tensor(vae.config.latents_mean).view(shape).to(latents)
    inverse_std = 1.0 / torch.tensor(vae.config.latents_std).view(shape).to(latents)
    return (latents - mean) * inverse_std


class DualClock:
    """The guide's latents on one schedule: what the run starts from, what each guided step gets.

    `reference` is a scheduler with the full schedule set (`set_timesteps(steps)`); `noised(j)`
    is the guide latents noised to step j by the scheduler's own add-noise (`scale_noise` on
    schedulers without it), always with the same noise tensor.
    """

    def __init__(self, reference: Any, latents: Any, noise: Any, mask: Any, clocks: Clocks):
        self.reference = reference
        self.latents = latents
        self.noise = noise
        self.mask = mask  # bool, broadcastable to the latents
        self.clocks = clocks

    def noised(self, index: int) -> Any:
        sched = self.reference
        sched.set_begin_index(index)  # add-noise then reads sigma[index], no timestep lookup
        timestep = sched.timesteps[index : index + 1]
        if hasattr(sched, "add_noise"):
            return sched.add_noise(self.latents, self.noise, timestep)
        return sched.scale_noise(self.latents, timestep, self.noise)

    def initial(self) -> Any:
        """The run's first latents: the guide noised to the weak step, everywhere."""
        return self.noised(self.clocks.weak)

    def after_step(self, step: int, latents: Any) -> Any:
        """Latents after the run's `step` (0-based, counted from the weak step), with the mask
        region replaced when the next step is guided."""
        import torch

        following = self.clocks.weak + step + 1
        if following >= self.clocks.strong:
            return latents
        guide = self.noised(following).to(device=latents.device, dtype=latents.dtype)
        return torch.where(self.mask.to(latents.device), guide, latents)


def late_start_scheduler(scheduler: Any, skip: int) -> Any:
    """A new scheduler of `scheduler`'s class and config whose `set_timesteps(n)` drops the first
    `skip` steps of the n-step schedule."""
    late = _late_start_class(type(scheduler)).from_config(scheduler.config)
    late.skip_steps = skip
    return late


@functools.cache
def _late_start_class(base: type) -> type:
    class LateStart(base):  # type: ignore[valid-type, misc]
        """The schedule's timesteps and sigmas from `skip_steps` on: every index the step reads
        (sigma now and next, steps left for the final order) shifts alike, so each step is the
        full schedule's step at the same timestep."""

        skip_steps = 0

        def set_timesteps(self, *args: Any, **kwargs: Any) -> None:
            super().set_timesteps(*args, **kwargs)
            if self.skip_steps:
                self.timesteps = self.timesteps[self.skip_steps :]
                self.sigmas = self.sigmas[self.skip_steps :]
                self.num_inference_steps = len(self.timesteps)

    LateStart.__name__ = LateStart.__qualname__ = f"LateStart{base.__name__}"
    return LateStart


def prepare(
    model: LoadedModel, pipe: Any, kwargs: dict[str, Any], request: ClipRequest
) -> tuple[Any, dict[str, Any], DualClock, list[str]]:
    """(pipeline that starts at the weak step, its call arguments with the first latents, the
    clock for the step callback, notes) for a request with a guide."""
    import torch
    from diffusers.utils.torch_utils import randn_tensor

    notes: list[str] = []
    device = pipe._execution_device
    reference = type(pipe.scheduler).from_config(pipe.scheduler.config)
    reference.set_timesteps(request.steps, device=device)
    clocks = clock_steps(request.steps, request.camera_weak, request.camera_strong)
    if model.two_experts and model.boundary_ratio is not None:
        boundary = model.boundary_ratio * reference.config.num_train_timesteps
        clocks, note = expert_limit(clocks, [float(t) for t in reference.timesteps], boundary)
        if note:
            notes.append(note)
    guide = request.guide
    if guide is None:
        raise InternalError("dual clock without a guide")
    latents = encode_guide(pipe, guide, device)
    temporal, spatial = vae_factors(pipe.vae)
    pixels = request.guide_mask if request.guide_mask is not None else np.ones(guide.shape[:3])
    grid = latent_mask(pixels, temporal, spatial)
    if grid.shape != tuple(latents.shape[2:]):
        raise InternalError(f"latent mask {grid.shape} for latents {tuple(latents.shape)}")
    mask = torch.from_numpy(grid)[None, None].to(device)
    if kwargs.get("reference_images"):  # VACE: reference latent frames lead, never guided
        lead = reference_latents(pipe, kwargs["reference_images"], *guide.shape[1:3], device)
        latents = torch.cat([lead, latents], dim=2)
        mask = torch.cat(
            [torch.zeros_like(mask[:, :, :1]).expand(-1, -1, lead.shape[2], -1, -1), mask], dim=2
        )
    noise = randn_tensor(
        tuple(latents.shape), generator=kwargs["generator"], device=device, dtype=torch.float32
    )
    clock = DualClock(reference, latents, noise, mask, clocks)
    late = model.with_scheduler(pipe, late_start_scheduler(pipe.scheduler, clocks.weak))
    return late, {**kwargs, "latents": clock.initial()}, clock, notes
