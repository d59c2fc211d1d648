"""Loading single-file Wan checkpoints into a pipeline built from an installed base folder.

`load_single_file_transformer` and `assemble_pipeline` go through diffusers' `from_single_file`
with the config of an installed base Diffusers folder (never the network). Before reading any
weights the file's shape is compared with the base's config and its tensor names with what the
base's transformer needs, so a wrong pairing is reported in one sentence instead of a
size-mismatch traceback or silently uninitialised weights. The shell of the single-file code:
diffusers, accelerate and safetensors' torch reader are imported here only, inside the loaders.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wan.errors import ModelError
from wan.models.detect import (
    TRANSFORMERS,
    VACE_TRANSFORMER,
    Detection,
    detect_model,
    read_json,
    shape_from_config,
)
from wan.models.params import weight_fields
from wan.models.signature import ModelSignature
from wan.models.single_file import detect_single_file, expert_from_name, find_prefix, key_layout

if TYPE_CHECKING:
    import torch

logger = logging.getLogger(__name__)

# diffusers' converter (convert_wan_transformer_to_diffusers) has no rule for FLF2V's emb_pos.
_EXTRA_RENAMES = {"img_emb.emb_pos": "condition_embedder.image_embedder.pos_embed"}
_EXPERT_NAMES = {
    "transformer": "transformer",
    "high_noise": "transformer",
    "high": "transformer",
    "transformer_2": "transformer_2",
    "low_noise": "transformer_2",
    "low": "transformer_2",
}


def load_single_file_transformer(
    path: str | Path,
    signature: ModelSignature | None,
    dtype: torch.dtype,
    *,
    base_folder: str | Path,
    subfolder: str = "transformer",
) -> Any:
    """Load a single-file Wan transformer with the config of an installed base Diffusers folder.

    `signature` is the file's detected signature (detected here when None). The base must hold
    the same architecture (`base_folder/<subfolder>/config.json`); only local files are read.
    """
    path, base_folder = Path(path), Path(base_folder)
    detection = _usable_detection(path, signature)
    config = _base_config(base_folder, subfolder)
    _check_fits_base(path, detection, base_folder, subfolder, config)
    cls = _transformer_class(config)
    state = _load_state(path, cls, base_folder, subfolder, config)
    logger.info(
        "loading %s into %s with %s/%s/config.json", path, cls.__name__, base_folder, subfolder
    )
    model = cls.from_single_file(
        state,
        config=str(base_folder),
        subfolder=subfolder,
        torch_dtype=dtype,
        local_files_only=True,
    )
    unset = [name for name, p in model.named_parameters() if p.device.type == "meta"]
    if unset:
        raise ModelError(
            f"{path}: {len(unset)} weights of the transformer were not in the file (e.g. "
            f"{unset[0]}): it does not fit {base_folder}; use the base model it was made from"
        )
    return model


def assign_experts(
    files: Sequence[Path], base_experts: Sequence[str], expert: str | None = None
) -> dict[str, Path]:
    """Which transformer of the base each file replaces: {"transformer" | "transformer_2": file}.

    One-expert bases: the single file replaces `transformer`. Two-expert (A14B) bases: an
    explicit `expert` ("high_noise"/"transformer" or "low_noise"/"transformer_2") wins for a
    single file; otherwise the file name decides ("high_noise" -> transformer, the expert run
    first at high noise; "low_noise" -> transformer_2). The other expert stays the base's.
    """
    if not files:
        raise ModelError("no single-file checkpoint given: pass the .safetensors file to load")
    wanted = _expert_name(expert) if expert is not None else None
    if len(base_experts) < 2:
        if len(files) > 1 or wanted not in (None, "transformer"):
            raise ModelError(
                f"the base has one transformer; it cannot take {len(files)} file(s) as "
                f"{expert or 'two experts'}: pass one file and no expert, or use a two-expert base"
            )
        return {"transformer": files[0]}
    if wanted is not None and len(files) > 1:
        raise ModelError("expert= applies to one file; name two files *high_noise* / *low_noise*")
    assigned: dict[str, Path] = {}
    for file in files:
        target = wanted or expert_from_name(file.name)
        if target is None:
            raise ModelError(
                f"{file}: the base has two experts (transformer = high noise, transformer_2 = low "
                "noise) and the file name does not say which one this is: pass expert="
                "'high_noise' or 'low_noise', or rename the file to contain high_noise/low_noise"
            )
        if target in assigned:
            raise ModelError(
                f"{assigned[target]} and {file} both replace {target}: give one high_noise and "
                "one low_noise file"
            )
        assigned[target] = file
    return assigned


def assemble_pipeline(
    single_file_path: str | Path | Sequence[str | Path],
    base_folder: str | Path,
    dtype: torch.dtype,
    *,
    expert: str | None = None,
) -> Any:
    """The base Diffusers pipeline with its transformer(s) replaced by single-file checkpoints.

    Everything else (text encoder, VAE, scheduler, image encoder, the other expert) comes from
    `base_folder`, local files only; the replaced transformers are never loaded from the base.
    """
    import diffusers

    base_folder = Path(base_folder)
    files = (
        [Path(single_file_path)]
        if isinstance(single_file_path, (str, Path))
        else [Path(p) for p in single_file_path]
    )
    base = detect_model(base_folder)
    if base.kind != "diffusers":
        details = "; ".join(base.problems) or f"it is {base.kind}"
        raise ModelError(
            f"{base_folder} cannot serve as the base of {files[0].name} ({details}): pick an "
            "installed Wan Diffusers folder of the same model"
        )
    base_experts = [name for name, _ in base.components if name in TRANSFORMERS]
    replaced = {
        subfolder: load_single_file_transformer(
            file, None, dtype, base_folder=base_folder, subfolder=subfolder
        )
        for subfolder, file in assign_experts(files, base_experts, expert).items()
    }
    # The concrete class, not DiffusionPipeline: diffusers 0.39's DiffusionPipeline.from_pretrained
    # checks passed components against its own (empty) _optional_components, so a passed
    # `transformer` (optional in Wan pipelines) is silently replaced by the base folder's.
    pipeline_class = getattr(diffusers, str(base.pipeline))
    pipe = pipeline_class.from_pretrained(
        str(base_folder), torch_dtype=dtype, local_files_only=True, **replaced
    )
    for subfolder, model in replaced.items():
        if getattr(pipe, subfolder) is not model:
            raise RuntimeError(f"diffusers did not keep the passed {subfolder}")
    return pipe


def _expert_name(expert: str) -> str:
    name = _EXPERT_NAMES.get(expert.strip().lower().replace("-", "_"))
    if name is None:
        choices = ", ".join(sorted(_EXPERT_NAMES))
        raise ModelError(f"expert={expert!r} is not one of: {choices}")
    return name


def _usable_detection(path: Path, signature: ModelSignature | None) -> Detection:
    if path.suffix.lower() != ".safetensors":
        raise ModelError(
            f"{path}: only .safetensors checkpoints are loaded (pickle files can run code): "
            "use a .safetensors version of it"
        )
    detection = detect_single_file(path)
    if detection.kind != "single_file" or detection.signature is None:
        raise ModelError("; ".join(detection.problems) or f"{path} is not a Wan transformer")
    if detection.problems:  # truncated, incomplete or fp8-scaled: none of them loads right
        raise ModelError("; ".join(detection.problems))
    if signature is not None and weight_fields(signature.transformer) != weight_fields(
        detection.signature.transformer
    ):
        raise ModelError(f"{path} changed since it was detected: detect it again")
    return detection


def _base_config(base_folder: Path, subfolder: str) -> dict[str, Any]:
    config, problem = read_json(base_folder / subfolder / "config.json")
    if config is None:
        raise ModelError(
            f"{base_folder} cannot serve as a base: {problem}. The base must be an installed Wan "
            "Diffusers folder of the model the checkpoint was made from"
        )
    return config


def _check_fits_base(
    path: Path, detection: Detection, base_folder: Path, subfolder: str, config: Mapping[str, Any]
) -> None:
    """Same weight-level architecture as the base's transformer, else one clear sentence."""
    assert detection.signature is not None
    ours = weight_fields(detection.signature.transformer)
    theirs = weight_fields(shape_from_config(config))
    diffs = [f"{k} {ours[k]} vs {theirs[k]}" for k in ours if ours[k] != theirs[k]]
    if diffs:
        raise ModelError(
            f"{path.name} does not fit {base_folder}/{subfolder} ({'; '.join(diffs)}, file vs "
            f"base): it is a {detection.task} model of another size or kind; choose a base folder "
            "of the model this checkpoint was made from"
        )


def _transformer_class(config: Mapping[str, Any]) -> Any:
    import diffusers

    name = config.get("_class_name")
    if name not in ("WanTransformer3DModel", VACE_TRANSFORMER):
        raise ModelError(f"the base's transformer is {name!r}, not a Wan transformer")
    return getattr(diffusers, name)


def _load_state(
    path: Path, cls: Any, base_folder: Path, subfolder: str, config: Mapping[str, Any]
) -> dict[str, Any]:
    """The file's tensors (safetensors, no pickle), renamed so diffusers' converter takes them;
    names the base's transformer does not use are dropped, names it needs must all be there."""
    from accelerate import init_empty_weights
    from diffusers.loaders.single_file_utils import convert_wan_transformer_to_diffusers
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        names = list(handle.keys())
        prefix = find_prefix(names) or ""
        ours = {n: n[len(prefix) :] for n in names if n.startswith(prefix)}
        ours = {n: _EXTRA_RENAMES.get(short, short) for n, short in ours.items()}
        with init_empty_weights():
            expected = set(cls.from_config(dict(config)).state_dict())
        diffusers_layout = key_layout(set(ours.values()), prefix) == "diffusers"
        if diffusers_layout:
            converted = {short: short for short in ours.values()}
        else:
            converted = convert_wan_transformer_to_diffusers({s: s for s in ours.values()})
        missing = sorted(expected - set(converted))
        if missing:
            raise ModelError(
                f"{path}: {len(missing)} weights the base's transformer needs are not in the file "
                f"(e.g. {', '.join(missing[:3])}): it does not fit {base_folder}/{subfolder}; use "
                "the base model it was made from, or a complete transformer checkpoint"
            )
        keep = {converted[k] for k in expected}
        dropped = len(ours) - len(keep)
        if dropped:
            logger.warning("%s: ignoring %d tensors the transformer does not use", path, dropped)
        return {short: handle.get_tensor(full) for full, short in ours.items() if short in keep}
