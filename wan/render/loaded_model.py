"""The model of one render (`LoadedModel`) and the pipelines derived from it.

The model is loaded once per render; the other pipelines a clip may need (TI2V's image mode,
video-to-video on the low-noise expert) are built from the same component objects, so they add
no second copy of the weights.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any

from wan.core.tasks import TASKS
from wan.errors import RenderError

log = logging.getLogger(__name__)


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
        if self.task not in TASKS:
            raise RenderError(f"model task {self.task!r} cannot generate video clips")
        self.entry = entry
        self.applied = applied
        self._derived: dict[str, Any] = {}

    @property
    def boundary_ratio(self) -> float | None:
        value = pipe_config(self.pipe).get("boundary_ratio")
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
        return TASKS[self.task].modes

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

    def with_scheduler(self, pipe: Any, scheduler: Any) -> Any:
        """`pipe`'s class on `pipe`'s components with another scheduler (one clip's; not kept)."""
        cls = type(pipe)
        derived = cls(**_shared_kwargs(pipe, cls, {"scheduler": scheduler}))
        _copy_progress(self.pipe, derived)
        return derived

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
        _copy_progress(self.pipe, derived)
        self._derived[key] = derived
        log.debug("built %s on the components of %s", cls.__name__, type(self.pipe).__name__)
        return derived


def _copy_progress(source: Any, derived: Any) -> None:
    progress = getattr(source, "_progress_bar_config", None)
    if progress is not None:
        derived.set_progress_bar_config(**progress)


def infer_task(pipe: Any) -> str:
    """The task a pipeline object serves, from its class and config."""
    name = type(pipe).__name__
    expand = bool(pipe_config(pipe).get("expand_timesteps"))
    if name == "WanVACEPipeline":
        return "vace"
    if expand:
        return "ti2v"
    if name == "WanImageToVideoPipeline":
        transformer = pipe.transformer if pipe.transformer is not None else pipe.transformer_2
        first_last = getattr(transformer, "config", {}).get("pos_embed_seq_len") is not None
        return "flf2v" if first_last else "i2v"
    if name in ("WanPipeline", "WanVideoToVideoPipeline"):
        return "t2v"
    raise RenderError(f"{name} is not a Wan video pipeline this extension can drive")


def pipe_config(pipe: Any) -> dict[str, Any]:
    """A pipeline's config as a plain dict (empty when it has none)."""
    return dict(getattr(pipe, "config", {}) or {})


def _shared_kwargs(pipe: Any, cls: type, overrides: dict[str, Any]) -> dict[str, Any]:
    """Constructor arguments of `cls` taken from `pipe`'s components and config."""
    components = dict(pipe.components)
    config = pipe_config(pipe)
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
