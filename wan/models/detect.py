"""What is this model folder? Answered from JSON configs alone, without loading any weights.

`detect_model` reads a Diffusers folder's `model_index.json` and component configs and reduces
them to a `ModelSignature`, so that the catalog, the memory estimate and the UI can reason about
a 60 GB folder in milliseconds. A `.safetensors` file is handed to `single_file`, which reads its
tensor header instead. `wan.models.match` then says which known model it is, or which one it is
compatible with; `wan.models.params` counts its parameters.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from wan.models.match import CatalogEntryLike, MatchResult, match_catalog
from wan.models.params import transformer_parameters, weight_fields
from wan.models.signature import (
    ModelSignature,
    Task,
    TransformerShape,
    guess_task,
    pipeline_for_task,
    show_value,
)

logger = logging.getLogger(__name__)

Kind = Literal["diffusers", "single_file", "not_wan", "unknown"]

WAN_PIPELINES = (
    "WanPipeline",
    "WanImageToVideoPipeline",
    "WanVACEPipeline",
    "WanVideoToVideoPipeline",
)
WAN_TRANSFORMERS = ("WanTransformer3DModel", "WanVACETransformer3DModel")
VACE_TRANSFORMER = "WanVACETransformer3DModel"
TRANSFORMERS = ("transformer", "transformer_2")
UNSAFE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt")
EXAMPLE_REPO = "Wan-AI/Wan2.1-T2V-1.3B-Diffusers"
WAN_NEEDS = (
    "Wan needs a Wan Diffusers folder (model_index.json naming WanPipeline, "
    f"WanImageToVideoPipeline or WanVACEPipeline, e.g. a download of {EXAMPLE_REPO}) "
    "or a .safetensors Wan transformer checkpoint used with such a folder as its base"
)

# WanTransformer3DModel's constructor defaults: diffusers uses them for keys a config omits.
_DEFAULTS: dict[str, Any] = {
    "num_layers": 40,
    "num_attention_heads": 40,
    "attention_head_dim": 128,
    "in_channels": 16,
    "out_channels": 16,
    "ffn_dim": 13824,
    "text_dim": 4096,
    "freq_dim": 256,
    "patch_size": (1, 2, 2),
    "vace_layers": (0, 5, 10, 15, 20, 25, 30, 35),
    "vace_in_channels": 96,
}


@dataclass(frozen=True)
class Detection:
    """What a folder or file is; `problems` explain anything that keeps it from being used."""

    path: str
    kind: Kind
    signature: ModelSignature | None = None
    pipeline: str | None = None
    task: Task | None = None
    transformer_params: int | None = None  # one expert; estimated from the shape
    problems: tuple[str, ...] = ()
    layout: str | None = None  # single files: "original" | "comfyui" | "diffusers"
    dtype: str | None = None  # single files: dtype holding most of the bytes
    expert: str | None = None  # single files: "transformer" | "transformer_2" from the name
    components: tuple[tuple[str, str], ...] = ()  # Diffusers folders: (name, class)

    @property
    def is_wan(self) -> bool:
        return self.signature is not None

    def match(self, entries: Iterable[CatalogEntryLike]) -> MatchResult:
        """Match against the catalog; a single file only knows its transformer."""
        if self.signature is None:
            return MatchResult("unknown", None, message=f"{self.path}: not a Wan model")
        return match_catalog(self.signature, entries, transformer_only=self.kind == "single_file")

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "pipeline": self.pipeline,
            "task": self.task,
            "transformer_params": self.transformer_params,
            "signature": self.signature.to_dict() if self.signature else None,
            "layout": self.layout,
            "dtype": self.dtype,
            "expert": self.expert,
            "components": dict(self.components),
            "problems": list(self.problems),
        }


# ----------------------------------------------------------------------------------------------
# Pure: signatures and tasks


def shape_from_config(config: Mapping[str, Any]) -> TransformerShape:
    """A transformer `config.json` as a shape; missing keys take diffusers' defaults."""

    def get(key: str) -> Any:
        value = config.get(key)
        return _DEFAULTS[key] if value is None else value

    vace = config.get("_class_name") == VACE_TRANSFORMER
    return TransformerShape(
        num_layers=int(get("num_layers")),
        num_attention_heads=int(get("num_attention_heads")),
        attention_head_dim=int(get("attention_head_dim")),
        in_channels=int(get("in_channels")),
        out_channels=int(config.get("out_channels") or get("in_channels")),
        ffn_dim=int(get("ffn_dim")),
        text_dim=int(get("text_dim")),
        image_dim=_optional_int(config.get("image_dim")),
        pos_embed_seq_len=_optional_int(config.get("pos_embed_seq_len")),
        vace_layers=tuple(int(i) for i in get("vace_layers")) if vace else None,
        vace_in_channels=int(get("vace_in_channels")) if vace else None,
    )


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


# ----------------------------------------------------------------------------------------------
# Reading folders (small JSON files only)


def detect_model(path: str | Path) -> Detection:
    """Detect what `path` is: a Diffusers folder, a single-file checkpoint, or something else."""
    path = Path(path).expanduser()
    where = str(path)
    if not path.exists():
        fix = "check the path, or pick an installed model or a catalog id"
        return Detection(where, "unknown", problems=(f"{where} does not exist: {fix}",))
    if path.is_file():
        return _detect_file(path)
    index = path / "model_index.json"
    if not index.is_file():
        return _detect_plain_folder(path)
    data, problem = read_json(index)
    if data is None:
        return Detection(where, "unknown", problems=(str(problem),))
    pipeline = str(data.get("_class_name") or "")
    if pipeline in WAN_PIPELINES:
        return _detect_diffusers(path, data)
    if pipeline.startswith("Wan"):
        supported = ", ".join(WAN_PIPELINES)
        msg = f"{where}: {pipeline} is a Wan pipeline this extension does not run ({supported})"
        return Detection(where, "unknown", pipeline=pipeline, problems=(msg,))
    looks = f"a {pipeline} folder" if pipeline else "a Diffusers folder without a _class_name"
    msg = f"{where} is {looks} (model_index.json), not a Wan model. {WAN_NEEDS}."
    return Detection(where, "not_wan", pipeline=pipeline or None, problems=(msg,))


def read_json(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    """A JSON object file, or None and a message saying what is wrong with it and what to do."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, f"{path} is missing: download the model again"
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, f"{path} cannot be read as JSON ({exc}): download this file again"
    if not isinstance(data, dict):
        return None, f"{path} is not a JSON object: download this file again"
    return data, None


def components_of(model_index: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """Components a model_index.json names: {name: (library, class)}, null entries left out."""
    found: dict[str, tuple[str, str]] = {}
    for name, value in model_index.items():
        if name.startswith("_") or not isinstance(value, list) or len(value) != 2:
            continue
        if value[0] is not None and value[1] is not None:
            found[name] = (str(value[0]), str(value[1]))
    return found


def _detect_diffusers(path: Path, index: Mapping[str, Any]) -> Detection:
    where, pipeline = str(path), str(index["_class_name"])
    components = components_of(index)
    problems: list[str] = []
    experts = [name for name in TRANSFORMERS if name in components]
    configs = {name: _component_config(path, name, problems) for name in experts}
    shapes = {
        name: shape
        for name, cfg in configs.items()
        if cfg is not None and (shape := _shape_or_problem(path, name, cfg, problems))
    }
    classes = tuple((name, cls) for name, (_, cls) in components.items())
    if not shapes:
        if not experts:
            problems.append(
                f"{where}/model_index.json names no transformer: download the model again"
            )
        return Detection(
            where, "unknown", pipeline=pipeline, problems=tuple(problems), components=classes
        )
    main = next(iter(shapes))
    shape, config = shapes[main], configs[main] or {}
    problems += _transformer_problems(path, configs, shapes, main)
    signature = ModelSignature(
        pipeline=pipeline,
        transformer=shape,
        experts=len(experts),
        boundary_ratio=_optional_float(index.get("boundary_ratio")),
        vae_z_dim=_vae_z_dim(path, "vae" in components, problems),
        image_encoder="image_encoder" in components,
        expand_timesteps=bool(index.get("expand_timesteps") or False),
    )
    problems += _pipeline_problems(path, signature, components)
    try:
        patch = tuple(int(n) for n in config.get("patch_size") or (1, 2, 2))
        params = transformer_parameters(shape, int(config.get("freq_dim") or 256), patch)
    except (TypeError, ValueError):
        params = transformer_parameters(shape)
    return Detection(
        where,
        "diffusers",
        signature=signature,
        pipeline=pipeline,
        task=guess_task(signature),
        transformer_params=params,
        problems=tuple(problems),
        components=classes,
    )


def _shape_or_problem(
    path: Path, name: str, config: Mapping[str, Any], problems: list[str]
) -> TransformerShape | None:
    """A hand-edited config with a wrong value type is reported, not a traceback."""
    try:
        return shape_from_config(config)
    except (TypeError, ValueError) as exc:
        problems.append(
            f"component {name}: {path / name / 'config.json'} has an invalid value ({exc}): "
            "restore the file from the model's download"
        )
        return None


def _component_config(path: Path, name: str, problems: list[str]) -> dict[str, Any] | None:
    config, problem = read_json(path / name / "config.json")
    if problem:
        problems.append(f"component {name}: {problem}")
    return config


def _transformer_problems(
    path: Path,
    configs: Mapping[str, dict[str, Any] | None],
    shapes: Mapping[str, TransformerShape],
    main: str,
) -> list[str]:
    problems = []
    for name, config in configs.items():
        cls = (config or {}).get("_class_name")
        if config is not None and cls not in WAN_TRANSFORMERS:
            problems.append(
                f"component {name}: {path / name / 'config.json'} names {cls!r}, not a Wan "
                f"transformer ({', '.join(WAN_TRANSFORMERS)}): download the model again"
            )
    for name, shape in shapes.items():
        if name != main and weight_fields(shape) != weight_fields(shapes[main]):
            problems.append(
                f"component {name}: its shape differs from {main} "
                f"({_shape_diff(shape, shapes[main])}); the two experts of a Wan 2.2 model "
                f"share one architecture: download {name} of the same model again"
            )
    return problems


def _shape_diff(a: TransformerShape, b: TransformerShape) -> str:
    wa, wb = weight_fields(a), weight_fields(b)
    return ", ".join(
        f"{k} {show_value(wa[k])} vs {show_value(wb[k])}" for k in wa if wa[k] != wb[k]
    )


def _vae_z_dim(path: Path, present: bool, problems: list[str]) -> int:
    if not present:
        problems.append(f"{path}/model_index.json names no vae: download the model again")
        return 16
    config = _component_config(path, "vae", problems)
    return int((config or {}).get("z_dim") or 16)


def _pipeline_problems(
    path: Path, signature: ModelSignature, components: Mapping[str, tuple[str, str]]
) -> list[str]:
    """Consistency of the parts: mixed-up folders show up here before any weights load."""
    problems: list[str] = []
    shape = signature.transformer
    if signature.experts == 2 and signature.boundary_ratio is None:
        problems.append(
            f"{path}/model_index.json: two experts but no boundary_ratio, so transformer_2 "
            'would never run: add "boundary_ratio" (0.875 for T2V-A14B, 0.9 for I2V-A14B)'
        )
    if shape.image_dim is not None and not signature.image_encoder:
        problems.append(
            f"{path}: the transformer takes CLIP image embeddings (image_dim {shape.image_dim}) "
            "but model_index.json names no image_encoder: download the model again"
        )
    if "text_encoder" in components:
        config, _ = read_json(path / "text_encoder" / "config.json")
        width = (config or {}).get("d_model")
        if width is not None and int(width) != shape.text_dim:
            problems.append(
                f"component text_encoder: width {width} but the transformer expects text_dim "
                f"{shape.text_dim}: the folder mixes parts of different models; download it again"
            )
    if shape.image_dim is not None and signature.image_encoder:
        config, _ = read_json(path / "image_encoder" / "config.json")
        config = config or {}
        width = config.get("hidden_size") or (config.get("vision_config") or {}).get("hidden_size")
        if width is not None and int(width) != shape.image_dim:
            problems.append(
                f"component image_encoder: width {width} but the transformer expects image_dim "
                f"{shape.image_dim}: the folder mixes parts of different models"
            )
    return problems


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _detect_file(path: Path) -> Detection:
    where = str(path)
    suffix = path.suffix.lower()
    if suffix == ".safetensors":
        from wan.models.single_file import detect_single_file

        return detect_single_file(path)
    if suffix in UNSAFE_SUFFIXES:
        msg = (
            f"{where} is a pickle-based checkpoint ({suffix}); only .safetensors checkpoints are "
            "read, because loading a pickle can run code: use a .safetensors version of it"
        )
        return Detection(where, "unknown", problems=(msg,))
    if suffix == ".gguf":
        msg = f"{where} is a GGUF file; diffusers loads Wan from .safetensors: use one of those"
        return Detection(where, "unknown", problems=(msg,))
    msg = f"{where} is a {suffix or 'plain'} file, not a model. {WAN_NEEDS}."
    return Detection(where, "not_wan", problems=(msg,))


def _detect_plain_folder(path: Path) -> Detection:
    """A folder without model_index.json: say what it looks like and what to point at instead."""
    where = str(path)
    names = sorted(p.name for p in path.iterdir() if not p.name.startswith("."))
    if not names:
        return Detection(where, "not_wan", problems=(f"{where} is empty. {WAN_NEEDS}.",))
    if any(_is_original_release_file(n) for n in names):
        msg = (
            f"{where} is an original Wan release (its .pth VAE / T5 files), not the Diffusers "
            "layout: download the -Diffusers version of the model (Wan-AI/<name>-Diffusers), or "
            "use its .safetensors transformer file as a single-file checkpoint with a base"
        )
        return Detection(where, "unknown", problems=(msg,))
    config, _ = read_json(path / "config.json") if "config.json" in names else (None, None)
    cls = (config or {}).get("_class_name")
    if config is not None and cls in WAN_TRANSFORMERS:
        return _detect_lone_transformer(path, config)
    checkpoints = [n for n in names if n.endswith(".safetensors")]
    if checkpoints:
        shown = ", ".join(checkpoints[:3]) + (", ..." if len(checkpoints) > 3 else "")
        msg = (
            f"{where} has no model_index.json but holds {len(checkpoints)} .safetensors file(s) "
            f"({shown}): to use one as a single-file checkpoint, point at the file itself"
        )
        return Detection(where, "unknown", problems=(msg,))
    looks = f"a {cls} component folder" if cls else "a folder without model_index.json"
    return Detection(where, "not_wan", problems=(f"{where} is {looks}. {WAN_NEEDS}.",))


def _detect_lone_transformer(path: Path, config: Mapping[str, Any]) -> Detection:
    """A transformer/ folder on its own: a Wan model part, usable only inside a whole folder."""
    where, cls = str(path), config.get("_class_name")
    problems: list[str] = []
    shape = _shape_or_problem(path.parent, path.name, config, problems)
    msg = (
        f"{where} is a single Wan transformer ({cls}, config.json) without "
        "model_index.json: point at the Diffusers folder that contains it, or place it as "
        "transformer/ inside a Wan Diffusers folder of the same model"
    )
    if shape is not None:
        signature = signature_for_transformer(shape)
        return Detection(
            where,
            "unknown",
            signature=signature,
            pipeline=signature.pipeline,
            task=guess_task(signature),
            transformer_params=transformer_parameters(signature.transformer),
            problems=(msg,),
        )
    return Detection(where, "unknown", problems=(msg, *problems))


def _is_original_release_file(name: str) -> bool:
    """Files of Wan-AI's original (non-Diffusers) repos: models_t5_*.pth, Wan2.1_VAE.pth."""
    return name.startswith("models_t5_") or (name.startswith("Wan2.") and name.endswith(".pth"))


def signature_for_transformer(shape: TransformerShape) -> ModelSignature:
    """The most likely model around a lone transformer: one expert, CLIP if it takes image
    embeddings, the Wan 2.2 VAE and expanded timesteps for 48-channel (TI2V) latents."""
    ti2v = shape.in_channels == 48 and shape.out_channels == 48 and shape.vace_layers is None
    probe = ModelSignature(
        pipeline="WanPipeline",
        transformer=shape,
        vae_z_dim=48 if ti2v else 16,
        image_encoder=shape.image_dim is not None,
        expand_timesteps=ti2v,
    )
    return ModelSignature(
        pipeline=pipeline_for_task(guess_task(probe)),
        transformer=shape,
        vae_z_dim=probe.vae_z_dim,
        image_encoder=probe.image_encoder,
        expand_timesteps=probe.expand_timesteps,
    )
