"""One clip through diffusers' Wan pipelines: text, first image (and last, FLF2V), VACE known
frames, video-to-video, and text or first image following a guide video (dual-clock denoising,
`wan.render.dual_clock`; on VACE also the guide as its control video, `ClipRequest.vace_camera`).

`generate_clip` turns a `ClipRequest` into uint8 frames on a `LoadedModel` and reports what it
had to change (`ClipResult.notes`), a per-step progress callback, cancel within one step, and
out-of-memory as `OutOfMemory` so that the runner can retry with a leaner memory plan. The call's
arguments come from `wan.render.pipeline_args`, the video-to-video strength math from
`wan.render.strength`.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from wan.core.tasks import CLIP_MODES
from wan.errors import Cancelled, InternalError, OutOfMemory, RenderError
from wan.options.choices import VACE_CAMERA_MODES
from wan.options.render_options import CAMERA_STRONG, CAMERA_WEAK, VACE_CAMERA
from wan.render import dual_clock
from wan.render.loaded_model import LoadedModel
from wan.render.pipeline_args import call_arguments

log = logging.getLogger(__name__)


OnStep = Callable[[int, int], None]
CancelCheck = Callable[[], bool]


@dataclass(frozen=True)
class ClipRequest:
    """Everything one clip's generation needs; arrays are uint8 RGB at the clip's size."""

    mode: str  # "t2v" | "i2v" | "vace" | "v2v"
    prompt: str
    negative_prompt: str
    num_frames: int
    width: int
    height: int
    steps: int
    guidance: float
    guidance_2: float | None
    seed: int
    image: np.ndarray | None = None  # (H, W, 3) first frame for i2v (TI2V image mode too)
    known_frames: np.ndarray | None = None  # (k, H, W, 3) VACE frames kept at the start
    reference_image: np.ndarray | None = None  # (h, w, 3) VACE identity reference, any size
    init_video: np.ndarray | None = None  # (num_frames, H, W, 3) for v2v
    strength: float | None = None  # v2v denoise strength (1 = all noise)
    # (H, W, 3) last frame for first+last-frame models; FLF2V with a guide and none: guide[-1]
    last_image: np.ndarray | None = None
    # Follow `guide` inside `guide_mask` (t2v and i2v; VACE also vace). None: not at all.
    guide: np.ndarray | None = None  # (num_frames, H, W, 3) the camera guide's frames
    guide_mask: np.ndarray | None = None  # (num_frames, H, W) 1 = from the source; None: all 1
    camera_weak: float = CAMERA_WEAK  # fraction of the steps skipped: the run starts there
    camera_strong: float = CAMERA_STRONG  # fraction of the steps before which the mask is held
    # How a VACE model follows the guide: "control" (the guide's pixels kept in VACE's control
    # video, the revealed ones generated; the clocks unused) or "clock" (dual-clock denoising)
    vace_camera: str = VACE_CAMERA


@dataclass(frozen=True)
class ClipResult:
    """The frames and what generation changed on the way (for metadata and the output)."""

    frames: np.ndarray  # (num_frames, H, W, 3) uint8
    notes: tuple[str, ...] = ()
    strength: float | None = None  # v2v: the strength actually used (after capping)
    steps_run: int = 0  # denoising steps actually run
    guided_steps: tuple[int, int] | None = None  # dual clock: (weak, strong) step indices used


class _StopRequested(Exception):
    """Raised from the step callback to leave the denoising loop at once."""


def generate_clip(
    model: LoadedModel,
    request: ClipRequest,
    on_step: OnStep | None = None,
    cancel: CancelCheck | None = None,
) -> ClipResult:
    """Generate one clip; raises Cancelled within one step of `cancel()` turning true."""
    import torch

    _check_request(model, request)
    if cancel is not None and cancel():
        raise Cancelled("cancelled before the clip started; finished clips are kept")
    pipe, kwargs, notes, strength, total = call_arguments(model, request)
    clock = None
    if dual_clock.uses_clock(model, request):
        pipe, kwargs, clock, more = dual_clock.prepare(model, pipe, kwargs, request)
        notes += more
        total = clock.clocks.steps_run
    callback = _StepCallback(on_step, cancel, total, clock)
    start = time.perf_counter()
    out_of_memory: str | None = None
    try:
        output = pipe(**kwargs, callback_on_step_end=callback)
    except _StopRequested:
        _settle(model, pipe)
        log.info("clip cancelled after step %d of %d", callback.done, callback.total)
        raise Cancelled(
            f"cancelled at step {callback.done} of {callback.total}; finished clips are kept"
        ) from None
    except BaseException as exc:
        if not _is_out_of_memory(exc, torch):
            _settle(model, pipe)
            raise
        out_of_memory = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    _settle(model, pipe)
    if out_of_memory is not None:
        # outside the except block: the traceback no longer holds the step's tensors
        _free_memory(torch)
        raise OutOfMemory(request, out_of_memory)
    frames = _to_uint8(np.asarray(output.frames)[0])
    if frames.shape[0] != request.num_frames:
        raise InternalError(
            f"the pipeline returned {frames.shape[0]} frames, {request.num_frames} were asked for"
        )
    log.debug(
        "%s clip %dx%d x%d in %.2f s",
        request.mode,
        request.width,
        request.height,
        request.num_frames,
        time.perf_counter() - start,
    )
    for note in notes:
        log.info("%s", note)
    guided = (clock.clocks.weak, clock.clocks.strong) if clock is not None else None
    return ClipResult(frames, tuple(notes), strength, callback.done, guided)


class _StepCallback:
    """diffusers' `callback_on_step_end`: the dual clock's replacement, progress after each step,
    then the cancel check."""

    def __init__(
        self,
        on_step: OnStep | None,
        cancel: CancelCheck | None,
        total: int,
        clock: dual_clock.DualClock | None = None,
    ) -> None:
        self.on_step = on_step
        self.cancel = cancel
        self.total = total
        self.clock = clock
        self.done = 0

    def __call__(self, pipe: Any, step: int, timestep: Any, kwargs: dict) -> dict:
        if self.clock is not None:
            kwargs["latents"] = self.clock.after_step(step, kwargs["latents"])
        self.total = int(getattr(pipe, "_num_timesteps", 0) or self.total)
        self.done = step + 1
        if self.on_step is not None:
            self.on_step(self.done, self.total)
        if self.cancel is not None and self.cancel():
            raise _StopRequested
        return kwargs


def _check_request(model: LoadedModel, request: ClipRequest) -> None:
    """Refuse what the pipelines would silently change (size, frame count) or fail on. The
    renderer builds every request from a checked plan and size: a refusal here is a bug."""
    if request.mode not in CLIP_MODES:
        raise InternalError(f"clip mode {request.mode!r} is not one of {', '.join(CLIP_MODES)}")
    if request.mode not in model.modes:
        raise InternalError(
            f"a {model.task} model cannot generate {request.mode} clips "
            f"(it does {', '.join(model.modes)})"
        )
    pipe = model.pipe
    temporal = int(getattr(pipe, "vae_scale_factor_temporal", 4))
    if request.num_frames < 1 or (request.num_frames - 1) % temporal:
        raise InternalError(
            f"{request.num_frames} frames per clip: Wan clips have {temporal}n+1 frames "
            f"(e.g. {temporal * max((request.num_frames - 1) // temporal, 1) + 1})"
        )
    multiple = _size_multiple(pipe)
    if (
        request.width % multiple
        or request.height % multiple
        or min(request.width, request.height) < multiple
    ):
        raise InternalError(
            f"{request.width}x{request.height}: this model needs width and height that are "
            f"multiples of {multiple}"
        )
    if request.steps < 1:
        raise InternalError(f"{request.steps} steps: at least 1 is needed")
    frame = (request.height, request.width, 3)
    if request.mode == "i2v":
        _check_array("image", request.image, frame)
        if request.last_image is not None:
            _check_array("last_image", request.last_image, frame)
        elif model.task == "flf2v" and request.guide is None:
            raise InternalError(
                "a first-last-frame (FLF2V) clip needs last_image (or a guide, whose last frame "
                "is then the last image)"
            )
    if request.mode == "vace" and request.known_frames is not None:
        known = request.known_frames
        _check_array("known_frames", known, (len(known), *frame))
        if not 1 <= len(known) <= request.num_frames:
            raise InternalError(
                f"{len(known)} known frames for a {request.num_frames}-frame VACE clip: "
                f"give 1 to {request.num_frames}"
            )
    if request.reference_image is not None:
        ref = request.reference_image
        _check_array("reference_image", ref, (*ref.shape[:2], 3) if ref.ndim == 3 else (0, 0, 3))
    if request.guide is not None:
        _check_guide(model, request, frame)
    if request.mode == "v2v":
        _check_array("init_video", request.init_video, (request.num_frames, *frame))
        if request.strength is None or not 0.0 < request.strength <= 1.0:
            raise InternalError(
                f"video-to-video strength {request.strength}: give a value in (0, 1]"
            )


def _check_guide(model: LoadedModel, request: ClipRequest, frame: tuple[int, int, int]) -> None:
    modes = dual_clock.guided_modes(model.task)
    if request.mode not in modes:
        raise InternalError(
            f"a guide with a {request.mode} clip: dual-clock denoising takes "
            f"{' or '.join(modes)} clips (on a {model.task} model)"
        )
    if model.task == "vace" and request.vace_camera not in VACE_CAMERA_MODES:
        raise InternalError(
            f"vace_camera {request.vace_camera!r}: give one of {', '.join(VACE_CAMERA_MODES)}"
        )
    _check_array("guide", request.guide, (request.num_frames, *frame))
    if request.guide_mask is not None:
        _check_array("guide_mask", request.guide_mask, (request.num_frames, *frame[:2]))
    if not 0.0 <= request.camera_weak <= request.camera_strong <= 1.0:
        raise InternalError(
            f"camera_weak {request.camera_weak} and camera_strong {request.camera_strong}: "
            "give 0 <= weak <= strong <= 1"
        )


def _check_array(name: str, array: np.ndarray | None, shape: tuple[int, ...]) -> None:
    if array is None:
        raise InternalError(f"this clip needs {name} (uint8 array of shape {shape})")
    if array.dtype != np.uint8 or tuple(array.shape) != tuple(shape):
        raise InternalError(
            f"{name} is {array.dtype} {tuple(array.shape)}; expected uint8 {tuple(shape)}"
        )


def _size_multiple(pipe: Any) -> int:
    """Width/height multiple: VAE downscale x transformer patch (16 Wan 2.1, 32 Wan 2.2 VAE)."""
    spatial = int(getattr(pipe, "vae_scale_factor_spatial", 8))
    transformer = pipe.transformer if pipe.transformer is not None else pipe.transformer_2
    patch = transformer.config.patch_size
    return spatial * int(patch[1])


def _settle(model: LoadedModel, pipe: Any) -> None:
    """What diffusers does at the end of a call: reset cache hooks, re-arm model offload.

    A derived pipeline has no offload hooks of its own: the main pipeline re-arms them.
    """
    for target in {id(pipe): pipe, id(model.pipe): model.pipe}.values():
        try:
            target.maybe_free_model_hooks()
        except Exception:  # never hide the error that brought us here
            log.warning("could not reset the pipeline's hooks", exc_info=True)


def _is_out_of_memory(exc: BaseException, torch: Any) -> bool:
    names = (
        getattr(torch, "OutOfMemoryError", None),
        getattr(torch.cuda, "OutOfMemoryError", None),
    )
    kinds = tuple(k for k in names if k is not None)
    if kinds and isinstance(exc, kinds):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def _free_memory(torch: Any) -> None:
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def _to_uint8(frames: np.ndarray) -> np.ndarray:
    """Float [0, 1] frames as uint8 (round, clip); NaN means the dtype overflowed."""
    if not np.isfinite(frames).all():
        raise RenderError(
            "the model produced NaN or infinite values (float16 often overflows with Wan): "
            "use dtype bfloat16 or float32"
        )
    return np.clip(np.rint(frames * 255.0), 0, 255).astype(np.uint8)
