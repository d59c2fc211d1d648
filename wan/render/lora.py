"""Wan LoRAs on a loaded pipeline, through diffusers' own loader (peft backend).

diffusers' `load_lora_weights` converts the usual Wan LoRA layouts (diffusers, original
`diffusion_model.*`, ComfyUI/Kijai, musubi `lora_unet_*`) and loads into `transformer`; for a
two-expert model the same file is loaded a second time with `load_into_transformer_2=True` under
the same adapter name, so `set_adapters` weights both experts. A LoRA published for one expert
(lightx2v's Wan 2.2 high-noise and low-noise pair, known to the catalog by file name:
`lora_expert`) goes into that expert only: `transformer` is the high-noise expert,
`transformer_2` the low-noise one. lightx2v's files use the original `diffusion_model.*` key
layout, which diffusers converts (`_convert_non_diffusers_wan_lora_to_diffusers`) when it reads
them. Only .safetensors files are read:
pickled checkpoints can run code. Load LoRAs before the memory plan is applied (offload hooks and
fp8 layer casting are set up around the final modules). Pipelines derived from the same
components (TI2V image mode, video-to-video) see the adapters too: they live in the modules.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from wan.errors import RenderError

log = logging.getLogger(__name__)

SUFFIX = ".safetensors"
# the expert components of a two-expert pipeline a LoRA goes into, by its catalog `expert`
_TARGETS = {
    "both": ("transformer", "transformer_2"),
    "high_noise": ("transformer",),
    "low_noise": ("transformer_2",),
}


def lora_file_hash(path: Path) -> str:
    """sha256 of the file (hex), so the plan hash changes when a LoRA file does."""
    from wan.models.store import file_sha256

    path = Path(path)
    try:
        return file_sha256(path)
    except FileNotFoundError:
        raise RenderError(f"LoRA file {path} does not exist; check the path or remove it") from None
    except OSError as exc:
        raise RenderError(f"LoRA file {path} cannot be read ({exc.strerror or exc})") from None


def lora_expert(path: Path) -> str:
    """'both', or the expert a published per-expert LoRA is for (the catalog, by file name)."""
    from wan.models.catalog import lora_entries

    name = Path(path).name
    for entry in lora_entries():
        if entry.lora is not None and Path(entry.lora.file).name == name:
            return entry.lora.expert
    return "both"


def lora_bytes_per_expert(loras: Sequence[tuple[Path, float]]) -> int:
    """The LoRA weights the busier expert holds (file sizes: peft keeps them unmerged), for the
    memory plan; a missing file counts nothing (it is refused when loaded)."""
    per_expert = {"transformer": 0, "transformer_2": 0}
    for path, _ in loras:
        size = Path(path).stat().st_size if Path(path).is_file() else 0
        for component in _TARGETS[lora_expert(path)]:
            per_expert[component] += size
    return max(per_expert.values())


def adapter_name(index: int, path: Path) -> str:
    """A unique peft adapter name (no dots: peft keys modules by it)."""
    stem = re.sub(r"[^A-Za-z0-9_]+", "_", Path(path).stem).strip("_") or "lora"
    return f"lora{index}_{stem[:48]}"


def check_lora_file(path: Path) -> Path:
    """The path, if it is an existing .safetensors file; else a RenderError naming it."""
    path = Path(path)
    if path.suffix.lower() != SUFFIX:
        raise RenderError(
            f"LoRA {path}: only {SUFFIX} files are loaded ({path.suffix or 'no suffix'} files "
            "can run code when read); convert it or use the .safetensors release"
        )
    if not path.is_file():
        raise RenderError(f"LoRA file {path} does not exist; check the path or remove it")
    return path


# A LoRA's down (A) matrices read the layer's input: [rank, in_features].
_DOWN = re.compile(r"(?:lora_A|lora_down)(?:\.[\w-]+)?\.weight$")


def check_lora_fits(path: Path, hidden_size: int | None) -> None:
    """Before any weights load: a .safetensors file holding LoRA weights whose layers are as
    wide as the model's (`hidden_size`: the transformer's width; None: not checked). A LoRA
    for another model was refused only once the model had loaded, after diffusers' multi-line
    size mismatch."""
    from wan.errors import ModelError
    from wan.models.safetensors_header import read_safetensors_header

    path = check_lora_file(path)
    try:
        header = read_safetensors_header(path)
    except ModelError as exc:
        raise RenderError(f"LoRA {path}: {exc}") from None
    widths = Counter(
        info.shape[1]
        for name, info in header.tensors.items()
        if _DOWN.search(name) and len(info.shape) == 2
    )
    if not widths:
        raise RenderError(
            f"LoRA {path}: no LoRA weights in it (no lora_A / lora_down tensors among its "
            f"{len(header.tensors)}); is it a LoRA file?"
        )
    if hidden_size is not None and hidden_size not in widths:
        width = widths.most_common(1)[0][0]
        raise RenderError(
            f"LoRA {path.name} was made for a model {width} wide, this model is {hidden_size} "
            "wide: use a LoRA made for this model (e.g. a Wan 1.3B LoRA on a 1.3B model)"
        )


def load_loras(
    pipe: Any, loras: Sequence[tuple[Path, float]], two_experts: bool
) -> tuple[str, ...]:
    """Load each (file, strength) as an adapter on `pipe`, activate all at their strengths."""
    if not loras:
        return ()
    paths = [check_lora_file(path) for path, _ in loras]
    _require_peft()
    names: list[str] = []
    for index, path in enumerate(paths):
        name = adapter_name(index, path)
        if name in _adapters(pipe):
            pipe.delete_adapters(name)
        _load_one(pipe, path, name, two_experts)
        names.append(name)
    weights = [float(strength) for _, strength in loras]
    pipe.set_adapters(names, weights)
    for name, path, weight in zip(names, paths, weights, strict=True):
        log.info("LoRA %s at strength %g as adapter %s", path.name, weight, name)
    return tuple(names)


def _load_one(pipe: Any, path: Path, name: str, two_experts: bool) -> None:
    wanted = list(_TARGETS[lora_expert(path)]) if two_experts else ["transformer"]
    targets = [{"load_into_transformer_2": True} if c == "transformer_2" else {} for c in wanted]
    try:
        for extra in targets:
            pipe.load_lora_weights(
                str(path.parent),
                weight_name=path.name,  # a folder + file name never reaches for the Hub
                local_files_only=True,
                use_safetensors=True,
                adapter_name=name,
                **extra,
            )
    except RenderError:
        raise
    except Exception as exc:  # diffusers/peft raise ValueError, KeyError, RuntimeError, ...
        _forget(pipe, name)
        detail = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
        raise RenderError(
            f"LoRA {path} cannot be loaded into this model ({type(exc).__name__}: "
            f"{_shorten(detail or 'no detail')}); use a LoRA made for this Wan model and size"
        ) from None
    loaded = _adapters(pipe, per_component=True)
    missing = [c for c in wanted if name not in loaded.get(c, [])]
    if missing:
        _forget(pipe, name)
        raise RenderError(
            f"LoRA {path} matches no layer of this model's {' and '.join(missing)}; "
            "use a LoRA made for this Wan model"
        )


def _shorten(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _adapters(pipe: Any, per_component: bool = False) -> Any:
    try:
        listed = dict(pipe.get_list_adapters())
    except Exception:  # no adapter loaded anywhere yet
        listed = {}
    if per_component:
        return listed
    return {name for names in listed.values() for name in names}


def _forget(pipe: Any, name: str) -> None:
    """Remove a half-loaded adapter so that the pipeline stays usable."""
    if name not in _adapters(pipe):
        return
    try:
        pipe.delete_adapters(name)
    except Exception:
        log.warning("could not remove the half-loaded LoRA adapter %s", name, exc_info=True)


def _require_peft() -> None:
    from diffusers.utils import USE_PEFT_BACKEND

    if not USE_PEFT_BACKEND:
        raise RenderError(
            "LoRAs need the peft package (>= 0.17), which diffusers uses to load them: "
            "install the extension's requirements (pip install 'peft>=0.17,<1') and restart"
        )
