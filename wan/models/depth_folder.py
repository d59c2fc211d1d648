"""A depth estimator's folder: is it one, and is it whole? (JSON and safetensors headers only.)

A depth model is a transformers `AutoModelForDepthEstimation` folder: `config.json` naming a
`...ForDepthEstimation` class, `preprocessor_config.json` (how frames are resized and normalised)
and safetensors weights, never pickles: the catalog's Depth-Anything-V2-Small, tiny-depth, or any
such folder. `wan.models.depth_model` finds the folder a reference names; this module checks it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wan.errors import ModelError
from wan.models.catalog import DEFAULT_DEPTH_MODEL, CatalogEntry
from wan.models.detect import UNSAFE_SUFFIXES, read_json
from wan.models.safetensors_header import read_safetensors_header, size_problem

CONFIG = "config.json"
PROCESSOR = "preprocessor_config.json"
EXAMPLE = f"{DEFAULT_DEPTH_MODEL} (`python -m wan download {DEFAULT_DEPTH_MODEL}`)"


@dataclass(frozen=True)
class DepthModelInfo:
    """A checked depth model folder: where, its class, its catalog entry (if any), its size."""

    path: Path
    architecture: str
    model_type: str | None
    entry: CatalogEntry | None
    weights_bytes: int  # on disk, every *.safetensors
    params: int | None  # the catalog's count when known

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "kind": "depth",
            "architecture": self.architecture,
            "model_type": self.model_type,
            "id": self.entry.id if self.entry else None,
            "weights_bytes": self.weights_bytes,
            "params": self.params,
        }


def looks_like_depth_folder(path: str | Path) -> bool:
    """True when `path` is a folder whose config.json names a depth estimation class."""
    folder = Path(path)
    if not folder.is_dir() or (folder / "model_index.json").is_file():
        return False
    config, _ = read_json(folder / CONFIG)
    return config is not None and _depth_architecture(config) is not None


def check_depth_folder(path: str | Path, entry: CatalogEntry | None = None) -> DepthModelInfo:
    """The folder as a depth model, or a ModelError saying what is wrong and how to fix it."""
    folder = Path(path).expanduser()
    if folder.is_file():
        raise ModelError(
            f"{folder} is a single file; a depth model is a folder with {CONFIG}, {PROCESSOR} "
            f"and *.safetensors weights, e.g. {EXAMPLE}"
        )
    if not folder.is_dir():
        raise ModelError(f"{folder}: no such depth model folder")
    if (folder / "model_index.json").is_file():
        raise ModelError(
            f"{folder} is a diffusers pipeline (a video model), not a depth model; use e.g. "
            f"{EXAMPLE}"
        )
    if not (folder / CONFIG).is_file():
        raise ModelError(
            f"{folder} has no {CONFIG}: it is not a depth model folder; use e.g. {EXAMPLE}"
        )
    config, problem = read_json(folder / CONFIG)
    if config is None:
        raise ModelError(f"{folder} is not a usable depth model: {problem}")
    architecture = _depth_architecture(config)
    if architecture is None:
        named = ", ".join(config.get("architectures") or []) or config.get("model_type") or "?"
        raise ModelError(
            f"{folder}: {CONFIG} names {named}, not a depth estimation model "
            f"(AutoModelForDepthEstimation); use e.g. {EXAMPLE}"
        )
    if not (folder / PROCESSOR).is_file():
        raise ModelError(
            f"{folder} has no {PROCESSOR} (how frames are resized and normalised for the "
            "model); download the model again"
        )
    weights = sorted(folder.glob("*.safetensors"))
    if not weights:
        unsafe = sorted(p.name for p in folder.iterdir() if p.suffix in UNSAFE_SUFFIXES)
        found = (
            f" (it holds {', '.join(unsafe)}, which are not loaded, for safety)" if unsafe else ""
        )
        raise ModelError(
            f"{folder} has no *.safetensors weights{found}; download the model again with "
            f"`python -m wan download <id>` or use a safetensors copy"
        )
    for file in weights:
        header = read_safetensors_header(file)
        short = size_problem(header, file.stat().st_size)
        if short:
            raise ModelError(short)
    return DepthModelInfo(
        path=folder,
        architecture=architecture,
        model_type=config.get("model_type"),
        entry=entry,
        weights_bytes=sum(f.stat().st_size for f in weights),
        params=entry.params.depth_model if entry is not None else None,
    )


def _depth_architecture(config: dict[str, Any]) -> str | None:
    for name in config.get("architectures") or []:
        if isinstance(name, str) and name.endswith("ForDepthEstimation"):
            return name
    return None
