"""The depth estimator of the 3D camera warp (shell: torch and transformers).

Deforum's 3D warp needs a depth map of the frame it moves; Deforum asks its depth model for one
every frame. Here the model is any transformers `AutoModelForDepthEstimation` folder (default
Depth-Anything-V2-Small, `wan.models.catalog.DEFAULT_DEPTH_MODEL`; tests use tiny-depth), loaded
from its folder only (`local_files_only`, safetensors, never the repo's own code).

The convention. Depth-Anything predicts relative inverse depth (disparity): larger = nearer, at
an arbitrary scale and offset, which is what MiDaS predicts and what Deforum's warp reads for
its "Midas-*" algorithms (tests/fixtures/deforum_warp/README.md). `DepthEstimator.depth` returns
exactly that, at the frame's size. Deforum's Depth-Anything fork (Tok/sd-forge-deforum) feeds
the same output to its warp the MiDaS way (inverted, nearest pixel nearest the camera).
`depth_for_warp` hands the map to `wan.render.deforum_warp` in the convention the settings'
`depth_algorithm` makes it read:
- "Midas-*" (Deforum's default): the map as predicted;
- "Zoe", "AdaBins", "Leres" (and any other name the warp reads as depth, larger = farther): the
  map mirrored (max + min - d). The warp equalises the map's histogram into [1, 2], so the mirror
  gives the z of the MiDaS reading of the original up to the 1024 histogram bins (0.0065 of the
  [1, 2] span on a random 32x24 map): the same scene, whatever algorithm the settings name;
- the "(old)" algorithms, which use the values as camera-space z: the map normalised into z in
  [1, 2], nearest 1, the span the new warp gives (a relative map has no metric scale to keep).

Keeping it loaded. `DepthEstimator.open` loads once; `depth` runs per frame; `close` frees it.
Measured here (CPU, 2 shared cores, torch 2.13, transformers 4.57; the real architecture with
random weights saved as its 99,173,660-byte model.safetensors, the size of the Hub file): built on
the meta device it has 24,785,089 parameters, 49.6 MB in float16 (99.1 MB in float32); loading
it from the folder takes 0.21 s the first time, 0.05 s when the file is in the page cache; one
832x480 frame takes 1.8 s on this CPU (6 to 7 s while the cores are shared). tiny-depth: 34,909
parameters (140 kB), 0.03 s to load, 5 ms a 64x48 frame. Both ways are cheap, but keeping it is
cheaper: 50 MB is 0.06 % of an 80 GB card and 0.2 % of Wan 2.1 14B's bf16 transformer (28.6 GB),
while freeing it before Wan loads means a reload (a file read, a transfer to the GPU, the host's
lock taken again) for every clip and, with Wan offloaded, waiting for memory Wan is using. So a
render keeps it loaded beside Wan and closes it at the end.

Used in a render, every call (open, depth, close) must run inside the host's GPU lock, as the
Wan model's own calls do; this module takes no lock itself.
"""

from __future__ import annotations

import gc
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np

from wan.errors import ModelError, RenderError
from wan.models.depth_folder import DepthModelInfo, check_depth_folder
from wan.models.depth_model import resolve_depth_model
from wan.models.store import StoreConfig

log = logging.getLogger(__name__)

_HALF_DEVICES = ("cuda", "mps")


class DepthEstimator:
    """A loaded depth model and its image processor: `open` (or `load`), `depth`, `close`."""

    def __init__(self, model: Any, processor: Any, info: DepthModelInfo, device: str) -> None:
        self._model = model
        self._processor = processor
        self.info = info
        self.device = device
        self.dtype = str(next(model.parameters()).dtype).removeprefix("torch.")

    @classmethod
    def open(
        cls,
        model_ref: str | None,
        store_config: StoreConfig,
        device: str | None = None,
        dtype: Any = None,
    ) -> DepthEstimator:
        """Find (`wan.models.depth_model`), check and load a depth model; None: the default."""
        return cls.load(resolve_depth_model(model_ref, store_config), device, dtype)

    @classmethod
    def load(
        cls, model: DepthModelInfo | str | Path, device: str | None = None, dtype: Any = None
    ) -> DepthEstimator:
        """Load a checked depth model folder. Device None: the accelerator, else the CPU; dtype
        None: float16 on an accelerator, float32 on the CPU."""
        import torch
        from transformers import AutoImageProcessor, AutoModelForDepthEstimation

        info = model if isinstance(model, DepthModelInfo) else check_depth_folder(model)
        device = device or _default_device()
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise ModelError(
                f"the depth model was asked to run on {device}, but torch sees no CUDA GPU; "
                "leave the device unset (automatic) or use 'cpu'"
            )
        if dtype is None:
            dtype = torch.float16 if device.startswith(_HALF_DEVICES) else torch.float32
        elif isinstance(dtype, str):
            from wan.models.loader import torch_dtype

            dtype = torch_dtype(dtype)
        start = time.perf_counter()
        try:
            processor = AutoImageProcessor.from_pretrained(
                str(info.path), local_files_only=True, trust_remote_code=False, use_fast=False
            )
            net = AutoModelForDepthEstimation.from_pretrained(
                str(info.path),
                local_files_only=True,
                use_safetensors=True,
                trust_remote_code=False,
            )
        except (OSError, ValueError, KeyError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            raise ModelError(
                f"{info.path}: transformers could not load it as a depth model "
                f"({type(exc).__name__}: {first}); use a Depth-Anything folder with safetensors "
                "weights (models that need their own code are not run)"
            ) from None
        net.to(device=device, dtype=dtype).eval()
        log.info(
            "loaded depth model %s on %s (%s) in %.2f s",
            info.path.name,
            device,
            str(dtype).removeprefix("torch."),
            time.perf_counter() - start,
        )
        return cls(net, processor, info, device)

    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def parameter_bytes(self) -> int:
        """The memory its weights hold where they are (0 once closed)."""
        if self._model is None:
            return 0
        return sum(p.numel() * p.element_size() for p in self._model.parameters())

    def depth(self, frame: np.ndarray) -> np.ndarray:
        """Relative inverse depth (larger = nearer) of a uint8 H x W x 3 RGB frame: float32 H x W.

        The model sees the frame as its processor prepares it; the prediction is resized back to
        the frame's size (bicubic, as transformers' own post-processing does).
        """
        import torch

        if self._model is None:
            raise RenderError("this depth model was closed; open it again")
        image = np.asarray(frame)
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise RenderError(
                f"a depth map needs a uint8 H x W x 3 RGB frame, not a {image.dtype} array of "
                f"shape {image.shape}"
            )
        height, width = image.shape[:2]
        batch = self._processor(
            images=image, return_tensors="pt", input_data_format="channels_last"
        )
        pixels = batch["pixel_values"].to(
            device=self.device, dtype=next(self._model.parameters()).dtype
        )
        with torch.inference_mode():
            predicted = self._model(pixel_values=pixels).predicted_depth
            resized = torch.nn.functional.interpolate(
                predicted[:, None].float(),
                size=(height, width),
                mode="bicubic",
                align_corners=False,
            )
        return resized[0, 0].cpu().numpy().astype(np.float32)

    def close(self) -> None:
        """Free the model (and its GPU memory); safe to call twice."""
        if self._model is None:
            return
        self._model = None
        self._processor = None
        gc.collect()
        try:
            import torch
        except ImportError:  # pragma: no cover - torch is there when a model was loaded
            return
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            torch.mps.empty_cache()
        log.info("unloaded depth model %s", self.info.path.name)

    def __enter__(self) -> DepthEstimator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def depth_for_warp(inverse_depth: np.ndarray, depth_algorithm: str) -> np.ndarray:
    """An estimator's map (inverse depth, larger = nearer) in the convention Deforum's warp reads
    for `depth_algorithm` (see the module docstring): float32, same shape."""
    values = np.asarray(inverse_depth, dtype=np.float32)
    name = str(depth_algorithm).lower()
    if "(old)" in name:
        low, high = float(np.min(values)), float(np.max(values))
        if not (np.isfinite(values).all() and low < high):
            return np.ones_like(values)
        return (2.0 - (values - low) / (high - low)).astype(np.float32)
    if name.startswith("midas"):
        return values
    return (np.max(values) + np.min(values) - values).astype(np.float32)


def _default_device() -> str:
    from wan.models.system import probe_system

    return probe_system().accelerator or "cpu"
