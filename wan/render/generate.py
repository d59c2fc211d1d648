"""One clip through diffusers' Wan pipelines: text, first image, VACE known frames, video-to-video.

The model is loaded once per render (`LoadedModel`); the other pipelines a clip may need (TI2V's
image mode, video-to-video) are built from the same component objects, so they add no second
copy of the weights. `generate_clip` turns a `ClipRequest` into uint8 frames and reports what it
had to change (`ClipResult.notes`), a per-step progress callback, cancel within one step, and
out-of-memory as `OutOfMemory` so that the runner can retry with a leaner memory plan.

What diffusers 0.35-0.39 does that callers rely on (read from its sources):
- VACE: `mask` 0 (black) keeps a frame (the "inactive" video), 1 (white) generates it; frames to
  generate are grey (0 in the pipeline's [-1, 1] range). Reference images are extra latent frames
  in front, dropped before decoding.
- Video-to-video runs `int(steps x strength)` of the `steps` scheduler timesteps, starting at
  `timesteps[steps - int(steps x strength)]`; a strength giving 0 steps would run none.
- Two experts: a timestep t >= boundary_ratio x num_train_timesteps runs `transformer` (high
  noise, `guidance_scale`), below it `transformer_2` (low noise, `guidance_scale_2`).
"""

from __future__ import annotations

import gc
import inspect
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from wan.errors import Cancelled, RenderError

log = logging.getLogger(__name__)

MODES = ("t2v", "i2v", "vace", "v2v")
# What each model task can generate; VACE does text-only (no control video) and first-image
# (a single known frame) too.
MODES_BY_TASK: dict[str, tuple[str, ...]] = {
    "t2v": ("t2v", "v2v"),
    "ti2v": ("t2v", "i2v"),
    "i2v": ("i2v",),
    "flf2v": ("i2v",),
    "vace": ("t2v", "i2v", "vace"),
}
GREY = 128  # pixel value of frames VACE is to generate: 0 in the pipeline's [-1, 1] range

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
    last_image: np.ndarray | None = None  # (H, W, 3) last frame for first+last-frame models


@dataclass(frozen=True)
class ClipResult:
    """The frames and what generation changed on the way (for metadata and the output)."""

    frames: np.ndarray  # (num_frames, H, W, 3) uint8
    notes: tuple[str, ...] = ()
    strength: float | None = None  # v2v: the strength actually used (after capping)
    steps_run: int = 0  # denoising steps actually run


class OutOfMemory(RenderError):
    """A clip ran out of memory; carries the request so the runner can retry it leaner."""

    def __init__(self, request: ClipRequest, detail: str) -> None:
        self.request = request
        self.detail = detail
        super().__init__(
            f"out of memory generating a {request.width}x{request.height}, "
            f"{request.num_frames}-frame {request.mode} clip ({detail}); a leaner memory plan "
            "(more offload, fp8, VAE tiling), a smaller size or fewer frames per clip needs less"
        )


class _StopRequested(Exception):
    """Raised from the step callback to leave the denoising loop at once."""


class LoadedModel:
    """The pipeline of one render and the pipelines derived from it, sharing its components.

    `pipe` comes from `load_pipeline` (+ LoRAs + `apply_plan`); `task` is the detection's or the
    catalog entry's task (inferred from the pipeline when None). `applied`, when set, makes
    prompts encode where the memory plan keeps the text encoder.
    """

    def __init__(
        self,
        pipe: Any,
        task: str | None = None,
        entry: Any = None,
        applied: Any = None,
    ) -> None:
        self.pipe = pipe
        self.task = task or infer_task(pipe)
        if self.task not in MODES_BY_TASK:
            raise RenderError(f"model task {self.task!r} cannot generate video clips")
        self.entry = entry
        self.applied = applied
        self._derived: dict[str, Any] = {}

    @property
    def boundary_ratio(self) -> float | None:
        value = _config(self.pipe).get("boundary_ratio")
        return float(value) if value is not None else None

    @property
    def two_experts(self) -> bool:
        """Both experts present and switched by a boundary (Wan 2.2 A14B)."""
        return (
            getattr(self.pipe, "transformer_2", None) is not None
            and getattr(self.pipe, "transformer", None) is not None
            and self.boundary_ratio is not None
        )

    @property
    def modes(self) -> tuple[str, ...]:
        return MODES_BY_TASK[self.task]

    @property
    def text_pipe(self) -> Any:
        """The pipeline for text-only clips (TI2V loaded in image mode gets a WanPipeline)."""
        import diffusers

        if self.task == "vace" or isinstance(self.pipe, diffusers.WanPipeline):
            return self.pipe
        return self._shared("text", diffusers.WanPipeline)

    @property
    def image_pipe(self) -> Any:
        """The first-image pipeline; for TI2V built on the text pipeline's components."""
        import diffusers

        if isinstance(self.pipe, diffusers.WanImageToVideoPipeline):
            return self.pipe
        return self._shared(
            "image", diffusers.WanImageToVideoPipeline, image_encoder=None, image_processor=None
        )

    @property
    def v2v_pipe(self) -> Any:
        """Video-to-video on one transformer: the low-noise expert of a two-expert model."""
        import diffusers

        low = self.pipe.transformer
        if self.two_experts or low is None:
            low = self.pipe.transformer_2
        return self._shared("v2v", diffusers.WanVideoToVideoPipeline, transformer=low)

    def _shared(self, key: str, cls: type, **overrides: Any) -> Any:
        """A `cls` pipeline on the same component objects (rebuilt if the main one's change)."""
        wanted = _shared_kwargs(self.pipe, cls, overrides)
        cached = self._derived.get(key)
        if cached is not None and all(
            getattr(cached, name, None) is value
            for name, value in wanted.items()
            if not isinstance(value, (int, float, bool)) and value is not None
        ):
            return cached
        derived = cls(**wanted)
        progress = getattr(self.pipe, "_progress_bar_config", None)
        if progress is not None:
            derived.set_progress_bar_config(**progress)
        self._derived[key] = derived
        log.debug("built %s on the components of %s", cls.__name__, type(self.pipe).__name__)
        return derived


def load_model(
    detection: Any,
    dtype: str = "bfloat16",
    base_folder: Any = None,
    entry: Any = None,
) -> LoadedModel:
    """Load a detected model on the CPU as a `LoadedModel` (apply LoRAs and the plan after)."""
    from wan.models.loader import load_pipeline

    pipe = load_pipeline(detection, dtype=dtype, base_folder=base_folder)
    return LoadedModel(pipe, detection.task, entry)


def infer_task(pipe: Any) -> str:
    """The task a pipeline object serves, from its class and config."""
    name = type(pipe).__name__
    expand = bool(_config(pipe).get("expand_timesteps"))
    if name == "WanVACEPipeline":
        return "vace"
    if expand:
        return "ti2v"
    if name == "WanImageToVideoPipeline":
        return "i2v"
    if name in ("WanPipeline", "WanVideoToVideoPipeline"):
        return "t2v"
    raise RenderError(f"{name} is not a Wan video pipeline this extension can drive")


# ----------------------------------------------------------------------------------------------
# Video-to-video strength


def v2v_timesteps(scheduler: Any, steps: int, strength: float) -> list[float]:
    """The timesteps WanVideoToVideoPipeline will run for `steps` and `strength` (its own math)."""
    sched = type(scheduler).from_config(scheduler.config)
    sched.set_timesteps(steps)
    timesteps = [float(t) for t in sched.timesteps]
    count = min(int(steps * strength), steps)
    start = max(steps - count, 0)
    return timesteps[start * sched.order :]


def fit_strength(
    scheduler: Any, steps: int, strength: float, boundary_ratio: float | None
) -> tuple[float, int, list[str]]:
    """(strength to pass, steps it runs, notes): at least one step, below the expert boundary.

    With `boundary_ratio` (a two-expert model run on its low-noise expert alone), the first
    timestep must be < boundary_ratio x num_train_timesteps: the high-noise expert would run it.
    """
    notes: list[str] = []
    sched = type(scheduler).from_config(scheduler.config)
    sched.set_timesteps(steps)
    timesteps = [float(t) for t in sched.timesteps]
    order = int(getattr(sched, "order", 1))
    wanted = min(int(steps * strength), steps)
    count = max(wanted, 1)
    if wanted < 1:
        notes.append(
            f"strength {strength:.3g} runs no step of {steps}; raised to {1 / steps:.3g} (one step)"
        )
    if boundary_ratio is not None:
        boundary = boundary_ratio * sched.config.num_train_timesteps
        fits = [n for n in range(count, 0, -1) if timesteps[(steps - n) * order] < boundary]
        if not fits:
            raise RenderError(
                f"no video-to-video strength keeps the first of {steps} steps below the expert "
                f"boundary {boundary:.0f}; use more steps"
            )
        if fits[0] < count:
            capped = fits[0]
            notes.append(
                f"strength {strength:.3g} capped to {capped / steps:.3g} ({capped} of {steps} "
                f"steps): video-to-video on a two-expert model runs the low-noise expert alone, "
                f"so it must start below the expert boundary (timestep {boundary:.0f}, "
                f"boundary_ratio {boundary_ratio:g}); first timestep "
                f"{timesteps[(steps - capped) * order]:.0f}"
            )
            count = capped
    if count == wanted:
        return strength, count, notes
    return _strength_for(count, steps), count, notes


def _strength_for(count: int, steps: int) -> float:
    """The smallest float strength s with int(steps x s) == count (float-safe)."""
    value = min(count / steps, 1.0)
    while int(steps * value) < count and value < 1.0:
        value = math.nextafter(value, 2.0)
    return value


# ----------------------------------------------------------------------------------------------
# Generation


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
    pipe, kwargs, notes, strength, total = _call_arguments(model, request)
    callback = _StepCallback(on_step, cancel, total)
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
        raise RenderError(
            f"the pipeline returned {frames.shape[0]} frames, {request.num_frames} were asked "
            "for: this is a bug"
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
    return ClipResult(frames, tuple(notes), strength, callback.done)


class _StepCallback:
    """diffusers' `callback_on_step_end`: progress after each step, then the cancel check."""

    def __init__(self, on_step: OnStep | None, cancel: CancelCheck | None, total: int) -> None:
        self.on_step = on_step
        self.cancel = cancel
        self.total = total
        self.done = 0

    def __call__(self, pipe: Any, step: int, timestep: Any, kwargs: dict) -> dict:
        self.total = int(getattr(pipe, "_num_timesteps", 0) or self.total)
        self.done = step + 1
        if self.on_step is not None:
            self.on_step(self.done, self.total)
        if self.cancel is not None and self.cancel():
            raise _StopRequested
        return kwargs


def _call_arguments(
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
    if mode == "i2v" and model.task == "vace":
        mode = "vace"  # the first image is VACE's single known frame
    if mode == "t2v":
        pipe = model.text_pipe
    elif mode == "i2v":
        pipe = model.image_pipe
        kwargs["image"] = _pil(request.image)
        if request.last_image is not None:
            if model.task == "ti2v":
                notes.append("the last image was ignored: TI2V models take a first image only")
            else:
                kwargs["last_image"] = _pil(request.last_image)
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
    if _config(pipe).get("boundary_ratio") is not None and mode != "v2v":
        kwargs["guidance_scale_2"] = (
            request.guidance_2 if request.guidance_2 is not None else request.guidance
        )
    kwargs.update(_prompt_arguments(model, pipe, request, guidance))
    return pipe, kwargs, notes, strength, total


def _vace_inputs(request: ClipRequest) -> dict[str, Any]:
    """Control video (known frames, then grey) with its mask (0 keep, 1 generate); reference."""
    from PIL import Image

    known = request.known_frames
    if known is None and request.mode == "i2v":
        known = request.image[None]  # type: ignore[index]
    inputs: dict[str, Any] = {}
    if known is not None:
        size = (request.width, request.height)
        grey = Image.new("RGB", size, (GREY, GREY, GREY))
        keep, generate = Image.new("L", size, 0), Image.new("L", size, 255)
        rest = request.num_frames - len(known)
        inputs["video"] = [_pil(frame) for frame in known] + [grey] * rest
        inputs["mask"] = [keep] * len(known) + [generate] * rest
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


def _check_request(model: LoadedModel, request: ClipRequest) -> None:
    """Refuse what the pipelines would silently change (size, frame count) or fail on."""
    if request.mode not in MODES:
        raise RenderError(f"clip mode {request.mode!r} is not one of {', '.join(MODES)}")
    if request.mode not in model.modes:
        raise RenderError(
            f"a {model.task} model cannot generate {request.mode} clips "
            f"(it does {', '.join(model.modes)})"
        )
    pipe = model.pipe
    temporal = int(getattr(pipe, "vae_scale_factor_temporal", 4))
    if request.num_frames < 1 or (request.num_frames - 1) % temporal:
        raise RenderError(
            f"{request.num_frames} frames per clip: Wan clips have {temporal}n+1 frames "
            f"(e.g. {temporal * max((request.num_frames - 1) // temporal, 1) + 1})"
        )
    multiple = _size_multiple(pipe)
    if (
        request.width % multiple
        or request.height % multiple
        or min(request.width, request.height) < multiple
    ):
        raise RenderError(
            f"{request.width}x{request.height}: this model needs width and height that are "
            f"multiples of {multiple}"
        )
    if request.steps < 1:
        raise RenderError(f"{request.steps} steps: at least 1 is needed")
    frame = (request.height, request.width, 3)
    if request.mode == "i2v":
        _check_array("image", request.image, frame)
        if request.last_image is not None:
            _check_array("last_image", request.last_image, frame)
    if request.mode == "vace" and request.known_frames is not None:
        known = request.known_frames
        _check_array("known_frames", known, (len(known), *frame))
        if not 1 <= len(known) <= request.num_frames:
            raise RenderError(
                f"{len(known)} known frames for a {request.num_frames}-frame VACE clip: "
                f"give 1 to {request.num_frames}"
            )
    if request.reference_image is not None:
        ref = request.reference_image
        _check_array("reference_image", ref, (*ref.shape[:2], 3) if ref.ndim == 3 else (0, 0, 3))
    if request.mode == "v2v":
        _check_array("init_video", request.init_video, (request.num_frames, *frame))
        if request.strength is None or not 0.0 < request.strength <= 1.0:
            raise RenderError(f"video-to-video strength {request.strength}: give a value in (0, 1]")


def _check_array(name: str, array: np.ndarray | None, shape: tuple[int, ...]) -> None:
    if array is None:
        raise RenderError(f"this clip needs {name} (uint8 array of shape {shape})")
    if array.dtype != np.uint8 or tuple(array.shape) != tuple(shape):
        raise RenderError(
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


def _pil(array: np.ndarray | None) -> Any:
    from PIL import Image

    return Image.fromarray(np.ascontiguousarray(array)).convert("RGB")


def _seed(seed: int) -> int:
    return int(seed) & 0xFFFF_FFFF_FFFF_FFFF


def _config(pipe: Any) -> dict[str, Any]:
    return dict(getattr(pipe, "config", {}) or {})


def _shared_kwargs(pipe: Any, cls: type, overrides: dict[str, Any]) -> dict[str, Any]:
    """Constructor arguments of `cls` taken from `pipe`'s components and config."""
    components = dict(pipe.components)
    config = _config(pipe)
    kwargs: dict[str, Any] = {}
    for name, param in inspect.signature(cls.__init__).parameters.items():
        if name == "self" or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if name in overrides:
            kwargs[name] = overrides[name]
        elif name in components:
            kwargs[name] = components[name]
        elif name in config and not isinstance(config[name], (list, tuple)):
            kwargs[name] = config[name]
        elif param.default is inspect.Parameter.empty:
            raise RenderError(f"{type(pipe).__name__} has no {name} for {cls.__name__}")
    return kwargs
