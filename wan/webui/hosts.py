"""The AUTOMATIC1111 1.10 and Forge adapters: the Host protocol over the WebUI's own modules.

Only `scripts/wan_deforum.py` imports the host (`modules.*`, Forge's `backend.*`); it hands the
modules to `make_host`, so these classes run against stand-ins in the tests. Everything of the
host is read at use time (settings, flags, the state object, the lock).

GPU hand-over, per render (the Runner calls free_host_memory, then enters gpu_lock):
- gpu_lock() takes the data folder's file lock, then the host's `call_queue.queue_lock` (the lock
  txt2img, img2img and the host's API hold while they generate), and gives them back in reverse
  order. Nested entries in the same thread only count. While held, the render is the host's job
  in `shared.state` (see `webui_progress`).
- free_host_memory() frees the host's model only while this thread holds the lock: a txt2img may
  be sampling until then. Called before the lock (as the Runner does), it is remembered and done
  right after the lock is taken.
- AUTOMATIC1111: `sd_models.unload_model_weights(model)` with the model from
  `sd_models.model_data.sd_model`, and only when that is not None (passing the model keeps the
  host from evaluating `shared.sd_model`, whose getter loads a checkpoint), then
  `devices.torch_gc()`. A1111 1.10 has no lazy way back: `reload_model_weights` returns early
  while the same checkpoint is loaded, so a model left in RAM would make the next txt2img fail
  (the host pairs its own "Unload SD checkpoint to RAM" action with "Load SD checkpoint to VRAM").
  So the model is sent back with `sd_models.send_model_to_device` when the lock is given back,
  after Wan's weights are gone. With --medvram/--lowvram (`model.lowvram`) the host's own hooks
  bring each part back when it runs, so nothing is sent back.
- Forge: `backend.memory_management.unload_all_models()` when its `current_loaded_models` holds
  anything (with no checkpoint loaded, `model_data.sd_model` is a `FakeInitialModel`, which is
  not a model to unload), then `soft_empty_cache()`. Forge moves models back to the GPU itself
  when it next samples (`load_models_gpu`), so nothing is sent back.
- release() frees what Wan left (gc, empty the CUDA cache) and ends the host's progress.
"""

from __future__ import annotations

import gc
import logging
import threading
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

from wan.host.base import ProgressEvent
from wan.host.locks import file_gpu_lock
from wan.models.store import StoreConfig
from wan.webui.progress import StateProgress
from wan.webui.settings import (
    MODELS_DIR,
    OUTPUT_DIR,
    option_defaults_from,
    read_setting,
)

log = logging.getLogger(__name__)


class WebUIHost:
    """AUTOMATIC1111 1.10: the host's model is moved to RAM for the render and back after it."""

    name = "automatic1111"

    def __init__(
        self,
        shared: Any,
        sd_models: Any,
        devices: Any,
        call_queue: Any,
        paths: Any = None,
    ) -> None:
        self.shared = shared
        self.sd_models = sd_models
        self.devices = devices
        self.call_queue = call_queue
        self.paths = paths
        self.progress = StateProgress(lambda: getattr(self.shared, "state", None))
        self._owner: int | None = None  # thread holding the GPU lock
        self._depth = 0
        self._thread = threading.local()  # free_pending: asked before the lock was taken
        self._parked: Any = None  # the host's model while it waits in RAM
        self._host_torch: Any = None  # the host's torch settings while we render (torch_settings)

    # -- GPU hand-over --------------------------------------------------------------------

    def gpu_lock(self) -> AbstractContextManager:
        return _GpuHold(self)

    def holds_gpu(self) -> bool:
        return self._owner == threading.get_ident()

    def free_host_memory(self) -> None:
        if self.holds_gpu():
            self._free_host_model()
        else:
            self._thread.free_pending = True

    def release(self) -> None:
        self._thread.free_pending = False
        self._empty_cache()
        if not self.holds_gpu():
            self.progress.end()

    def _taken(self) -> None:
        """Just after the host's lock was taken."""
        from wan.host import torch_settings

        self._host_torch = torch_settings.current()
        torch_settings.apply(torch_settings.for_render())
        self.progress.begin()
        if getattr(self._thread, "free_pending", False):
            self._thread.free_pending = False
            self._free_host_model()

    def _giving_back(self) -> None:
        """Just before the host's lock is given back."""
        from wan.host import torch_settings

        try:
            if self._host_torch is not None:
                torch_settings.apply(self._host_torch)
                self._host_torch = None
            self._return_host_model()
        finally:
            self.progress.end()

    def _free_host_model(self) -> None:
        model_data = getattr(self.sd_models, "model_data", None)
        model = getattr(model_data, "sd_model", None)
        if model is None:
            log.debug("no host checkpoint loaded; nothing to unload")
        else:
            self.sd_models.unload_model_weights(model)
            if not getattr(model, "lowvram", False):
                self._parked = model
            log.info("host checkpoint moved to RAM for the Wan render")
        self._empty_cache()

    def _return_host_model(self) -> None:
        parked, self._parked = self._parked, None
        if parked is None:
            return
        if getattr(self.sd_models.model_data, "sd_model", None) is not parked:
            return  # the host loaded another checkpoint meanwhile; it owns that one
        self._empty_cache()  # Wan's weights leave before the host's come back
        self.sd_models.send_model_to_device(parked)
        log.info("host checkpoint back on the GPU")

    def _empty_cache(self) -> None:
        gc.collect()
        self.devices.torch_gc()

    def _queue_lock(self) -> Any:
        return getattr(self.call_queue, "queue_lock", None)

    # -- progress ---------------------------------------------------------------------------

    def report(self, event: ProgressEvent) -> None:
        log.debug("progress %s", event.to_dict())
        if self.holds_gpu():
            self.progress.update(event)

    def interrupted(self) -> bool:
        return self.holds_gpu() and self.progress.interrupted()

    # -- places and defaults -------------------------------------------------------------

    def root(self) -> Path:
        """The WebUI's folder."""
        return Path(getattr(self.paths, "script_path", None) or Path.cwd())

    def output_root(self) -> Path:
        opts = getattr(self.shared, "opts", None)
        for candidate in (
            self._flag("wan_output_dir"),
            read_setting(opts, OUTPUT_DIR),
            getattr(opts, "outdir_samples", "") if opts is not None else "",
        ):
            if isinstance(candidate, str) and candidate.strip():
                return self._resolve(candidate.strip())
        default = getattr(self.paths, "default_output_dir", None)
        return Path(default) if default else self.root() / "outputs"

    def lora_dirs(self) -> list[Path]:
        folder = self._flag("lora_dir")
        if folder:
            return [self._resolve(folder)]
        models = getattr(self.paths, "models_path", None)
        return [Path(models) / "Lora" if models else self.root() / "models" / "Lora"]

    def store_config(self) -> StoreConfig:
        setting = read_setting(getattr(self.shared, "opts", None), MODELS_DIR)
        return StoreConfig(
            models_dir_flag=self._flag("wan_models_dir") or None,
            setting_dir=str(self._resolve(setting)) if setting else None,
            host_root=str(self.root()),
        )

    def option_defaults(self) -> dict:
        return option_defaults_from(getattr(self.shared, "opts", None), _has_accelerator())

    def _flag(self, name: str) -> str | None:
        value = getattr(getattr(self.shared, "cmd_opts", None), name, None)
        return value if isinstance(value, str) and value.strip() else None

    def _resolve(self, folder: str) -> Path:
        """A relative folder is the WebUI's way: relative to its own folder."""
        path = Path(folder).expanduser()
        return path if path.is_absolute() else self.root() / path


class ForgeHost(WebUIHost):
    """Forge: its memory manager offloads the host's models and brings them back on its own."""

    name = "forge"

    def __init__(self, *args: Any, memory_management: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.memory_management = memory_management

    def _free_host_model(self) -> None:
        manager = self.memory_management
        loaded = getattr(manager, "current_loaded_models", None)
        if loaded is None or len(loaded) > 0:
            manager.unload_all_models()
            log.info("Forge models moved off the GPU for the Wan render")
        else:
            model = getattr(getattr(self.sd_models, "model_data", None), "sd_model", None)
            log.debug("Forge has nothing on the GPU (checkpoint: %s)", _model_label(model))
        self._empty_cache()

    def _return_host_model(self) -> None:
        """Nothing to do: Forge loads its models back to the GPU when it next samples."""

    def _empty_cache(self) -> None:
        gc.collect()
        self.memory_management.soft_empty_cache()


class _GpuHold(AbstractContextManager):
    """The file lock, then the host's queue lock; re-entrant in the thread that holds them."""

    def __init__(self, host: WebUIHost) -> None:
        self.host = host
        self.nested = False
        self.file_lock = file_gpu_lock()
        self.queue_lock: Any = nullcontext()

    def __enter__(self) -> _GpuHold:
        host = self.host
        if host.holds_gpu():
            self.nested = True
            host._depth += 1
            return self
        self.file_lock.acquire()
        try:
            self.queue_lock = host._queue_lock() or nullcontext()
            self.queue_lock.__enter__()
        except BaseException:
            self.file_lock.release()
            raise
        host._owner, host._depth = threading.get_ident(), 1
        try:
            host._taken()
        except BaseException:
            self._give_back()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self.nested:
            self.host._depth -= 1
            return
        self._give_back()

    def _give_back(self) -> None:
        host = self.host
        try:
            host._giving_back()
        finally:
            host._owner, host._depth = None, 0
            try:
                self.queue_lock.__exit__(None, None, None)
            finally:
                self.file_lock.release()


def _has_accelerator() -> bool:
    import torch

    mps = getattr(torch.backends, "mps", None)
    return torch.cuda.is_available() or bool(mps is not None and mps.is_available())


def _model_label(model: Any) -> str:
    if model is None:
        return "none"
    if type(model).__name__ == "FakeInitialModel":
        return "none (FakeInitialModel)"
    return type(model).__name__


def make_host(modules: Any) -> WebUIHost:
    """The adapter for the host whose modules `scripts/` imported (Forge when it has
    `backend.memory_management`, passed as `modules.memory_management`)."""
    kwargs = {
        "shared": modules.shared,
        "sd_models": modules.sd_models,
        "devices": modules.devices,
        "call_queue": modules.call_queue,
        "paths": getattr(modules, "paths_internal", None) or getattr(modules, "paths", None),
    }
    manager = getattr(modules, "memory_management", None)
    if manager is not None:
        return ForgeHost(memory_management=manager, **kwargs)
    return WebUIHost(**kwargs)
