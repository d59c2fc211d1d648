"""Single-file Wan checkpoints: what they are (from the safetensors header) and how to load them.

WebUI and ComfyUI users mostly have one `.safetensors` file holding a Wan transformer, in one of
three key layouts:

- original (Wan-AI's release): `patch_embedding.weight`, `blocks.N.self_attn.q.weight`,
  `blocks.N.cross_attn.k_img.weight` (I2V), `blocks.N.ffn.0.weight`, `text_embedding.0.weight`,
  `time_embedding.0.weight`, `img_emb.proj.1.weight` / `img_emb.emb_pos` (I2V / FLF2V),
  `vace_blocks.N.*` + `vace_patch_embedding.weight` (VACE), `head.head.weight`;
- comfyui: the same names under `model.diffusion_model.` (any other common prefix ending in
  `.` before `patch_embedding.weight` is stripped the same way);
- diffusers: `blocks.N.attn1.to_q.weight`, `condition_embedder.text_embedder.linear_1.weight`,
  `proj_out.weight`, `vace_blocks.N.proj_in.weight`, ...

Detection reads only the header (8-byte length + JSON: names, dtypes, shapes, offsets), which is
cheap for a 28 GB file and needs no torch. What a header cannot tell: the number of attention
heads (weights store only their total width; every released Wan model uses 128-wide heads, so
that is assumed unless the file's metadata names `num_heads`) and where VACE blocks attach
(assumed evenly spaced from layer 0, as in the released models). Loading takes both from the
base folder's `config.json`, so neither guess matters there.

Loading (`load_single_file_transformer`, `assemble_pipeline`) goes through diffusers'
`from_single_file` with the config of an installed base Diffusers folder (never the network).
Before reading any weights the file's shape is compared with the base's config and its tensor
names with what the base's transformer needs, so a wrong pairing is reported in one sentence
instead of a size-mismatch traceback or silently uninitialised weights.
"""

from __future__ import annotations

import json
import logging
import math
import re
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wan.errors import ModelError
from wan.models.detect import (
    TRANSFORMERS,
    VACE_TRANSFORMER,
    WAN_NEEDS,
    Detection,
    detect_model,
    guess_task,
    read_json,
    shape_from_config,
    signature_for_transformer,
    transformer_parameters,
    weight_fields,
)
from wan.models.signature import ModelSignature, TransformerShape

if TYPE_CHECKING:
    import torch

logger = logging.getLogger(__name__)

MAX_HEADER_BYTES = 100_000_000  # the limit safetensors itself enforces
DTYPE_BYTES = {
    "BOOL": 1,
    "U8": 1,
    "I8": 1,
    "F8_E4M3": 1,
    "F8_E5M2": 1,
    "F8_E8M0": 1,
    "I16": 2,
    "U16": 2,
    "F16": 2,
    "BF16": 2,
    "I32": 4,
    "U32": 4,
    "F32": 4,
    "I64": 8,
    "U64": 8,
    "F64": 8,
}
DTYPE_NAMES = {
    "BF16": "bf16",
    "F16": "fp16",
    "F32": "fp32",
    "F64": "fp64",
    "F8_E4M3": "fp8_e4m3fn",
    "F8_E5M2": "fp8_e5m2",
}
COMFY_PREFIX = "model.diffusion_model."
ANCHOR = "patch_embedding.weight"

# What each shape field is read from: (original / ComfyUI name, diffusers name).
_KEYS = {
    "head": ("head.head.weight", "proj_out.weight"),
    "ffn": ("blocks.0.ffn.0.weight", "blocks.0.ffn.net.0.proj.weight"),
    "text": ("text_embedding.0.weight", "condition_embedder.text_embedder.linear_1.weight"),
    "time": ("time_embedding.0.weight", "condition_embedder.time_embedder.linear_1.weight"),
    "image": ("img_emb.proj.1.weight", "condition_embedder.image_embedder.ff.net.0.proj.weight"),
    "image_pos": ("img_emb.emb_pos", "condition_embedder.image_embedder.pos_embed"),
    "vace_patch": ("vace_patch_embedding.weight", "vace_patch_embedding.weight"),
}
# diffusers' converter (convert_wan_transformer_to_diffusers) has no rule for FLF2V's emb_pos.
_EXTRA_RENAMES = {"img_emb.emb_pos": "condition_embedder.image_embedder.pos_embed"}
_BLOCK = re.compile(r"^blocks\.(\d+)\.")
_VACE_BLOCK = re.compile(r"^vace_blocks\.(\d+)\.")
_EXPERT_NAMES = {
    "transformer": "transformer",
    "high_noise": "transformer",
    "high": "transformer",
    "transformer_2": "transformer_2",
    "low_noise": "transformer_2",
    "low": "transformer_2",
}


@dataclass(frozen=True)
class TensorInfo:
    dtype: str
    shape: tuple[int, ...]
    start: int
    end: int


@dataclass(frozen=True)
class SafetensorsHeader:
    """A safetensors file's table of contents; `expected_size` is what an intact file measures."""

    path: str
    header_bytes: int
    tensors: Mapping[str, TensorInfo]
    metadata: Mapping[str, str]

    @property
    def data_bytes(self) -> int:
        return max((t.end for t in self.tensors.values()), default=0)

    @property
    def expected_size(self) -> int:
        return 8 + self.header_bytes + self.data_bytes


class SafetensorsHeaderError(ModelError):
    """A safetensors header that cannot be read; `what` and `fix` are kept apart for reports."""

    def __init__(self, what: str, fix: str = "download this file again") -> None:
        self.what, self.fix = what, fix
        super().__init__(f"{what}; {fix}")


# ----------------------------------------------------------------------------------------------
# Reading headers (no torch)


def read_safetensors_header(path: str | Path) -> SafetensorsHeader:
    """Parse the header; raises SafetensorsHeaderError naming the file if it is not valid.

    Checks what safetensors checks at load time except the total file size, which the caller
    compares with `expected_size` (a short file is a truncated download, not a bad header).
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            prefix = handle.read(8)
            if len(prefix) < 8:
                raise SafetensorsHeaderError(
                    f"{path}: {size} bytes, too short for a safetensors file"
                )
            (length,) = struct.unpack("<Q", prefix)
            if length > MAX_HEADER_BYTES or length > size - 8:
                raise SafetensorsHeaderError(
                    f"{path}: the header length ({length} bytes) does not fit the file ({size} "
                    "bytes): the file is not safetensors or is corrupt"
                )
            raw = handle.read(length)
    except OSError as exc:
        raise SafetensorsHeaderError(
            f"{path} cannot be read ({exc})", "check that it exists and is readable"
        ) from exc
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SafetensorsHeaderError(
            f"{path}: the safetensors header is not valid JSON ({exc})"
        ) from exc
    if not isinstance(data, dict):
        raise SafetensorsHeaderError(f"{path}: the safetensors header is not a JSON object")
    metadata = data.pop("__metadata__", None) or {}
    tensors = {name: _tensor_info(path, name, entry) for name, entry in data.items()}
    _check_offsets(path, tensors)
    meta = {str(k): str(v) for k, v in metadata.items()} if isinstance(metadata, dict) else {}
    return SafetensorsHeader(str(path), length, tensors, meta)


def _tensor_info(path: Path, name: str, entry: Any) -> TensorInfo:
    try:
        dtype = str(entry["dtype"])
        shape = tuple(int(n) for n in entry["shape"])
        start, end = (int(n) for n in entry["data_offsets"])
    except (TypeError, KeyError, ValueError) as exc:
        raise SafetensorsHeaderError(
            f"{path}: tensor {name!r} has a malformed header entry ({exc!r}), the file is corrupt"
        ) from exc
    expected = math.prod(shape) * DTYPE_BYTES.get(dtype, 0)
    if start < 0 or end < start or (dtype in DTYPE_BYTES and end - start != expected):
        raise SafetensorsHeaderError(
            f"{path}: tensor {name!r} ({dtype} {list(shape)}) has offsets {start}..{end}, which "
            "do not match its size: the file is corrupt"
        )
    return TensorInfo(dtype, shape, start, end)


def _check_offsets(path: Path, tensors: Mapping[str, TensorInfo]) -> None:
    """Tensors must tile the data area with no gap or overlap, as safetensors requires."""
    position = 0
    for name, info in sorted(tensors.items(), key=lambda item: (item[1].start, item[1].end)):
        if info.start != position:
            raise SafetensorsHeaderError(
                f"{path}: tensor {name!r} starts at byte {info.start} of the data, expected "
                f"{position} (a gap or overlap): the file is corrupt"
            )
        position = info.end


def size_problem(header: SafetensorsHeader, actual: int) -> str | None:
    """A message when the file's size is not what its header says (a truncated download)."""
    if actual == header.expected_size:
        return None
    if actual < header.expected_size:
        what = f"is truncated: {actual} bytes, its header needs {header.expected_size}"
    else:
        what = f"has {actual - header.expected_size} bytes beyond its last tensor"
    return f"{header.path} {what} (an interrupted or damaged download): download it again"


# ----------------------------------------------------------------------------------------------
# Detection


def detect_single_file(path: str | Path) -> Detection:
    """Detect a single-file checkpoint from its header: a Wan transformer, or what else it is."""
    path = Path(path)
    where = str(path)
    try:
        header = read_safetensors_header(path)
    except ModelError as exc:
        return Detection(where, "unknown", problems=(str(exc),))
    names = list(header.tensors)
    prefix = find_prefix(names)
    if prefix is None:
        return Detection(where, "not_wan", problems=(f"{where} {_what_else(names)}. {WAN_NEEDS}.",))
    tensors = {n[len(prefix) :]: t for n, t in header.tensors.items() if n.startswith(prefix)}
    if any(n.startswith(("motion_encoder.", "face_adapter.")) for n in tensors):
        msg = f"{where} is a Wan Animate checkpoint, which this extension does not run"
        return Detection(where, "unknown", problems=(msg,))
    layout = key_layout(tensors, prefix)
    try:
        shape, freq_dim, patch = infer_shape(tensors, layout == "diffusers", header.metadata)
    except ModelError as exc:
        return Detection(where, "unknown", layout=layout, problems=(f"{where}: {exc}",))
    except (IndexError, ValueError, ZeroDivisionError) as exc:
        msg = f"{where}: its tensor shapes are not those of a Wan transformer ({exc!r})"
        return Detection(where, "unknown", layout=layout, problems=(msg,))
    problems = _file_problems(path, header, tensors, shape)
    signature = signature_for_transformer(shape)
    return Detection(
        where,
        "single_file",
        signature=signature,
        pipeline=signature.pipeline,
        task=guess_task(signature),
        transformer_params=transformer_parameters(shape, freq_dim, patch),
        problems=tuple(problems),
        layout=layout,
        dtype=main_dtype(header.tensors.values()),
        expert=expert_from_name(path.name),
    )


def find_prefix(names: Iterable[str]) -> str | None:
    """The prefix before `patch_embedding.weight` ('' or e.g. 'model.diffusion_model.')."""
    for name in names:
        if name == ANCHOR or name.endswith("." + ANCHOR):
            return name[: -len(ANCHOR)]
    return None


def key_layout(tensors: Mapping[str, Any], prefix: str) -> str:
    """'diffusers', 'comfyui' (original names under model.diffusion_model.) or 'original'."""
    if _KEYS["text"][1] in tensors or _KEYS["head"][1] in tensors:
        return "diffusers"
    return "comfyui" if prefix == COMFY_PREFIX else "original"


def infer_shape(
    tensors: Mapping[str, TensorInfo], diffusers: bool, metadata: Mapping[str, str] | None = None
) -> tuple[TransformerShape, int, tuple[int, ...]]:
    """The transformer shape, time frequency width and patch size, from tensor shapes alone."""
    layers = _indices(tensors, _BLOCK)
    first = f"blocks.{min(layers)}." if layers else "blocks.0."

    def maybe(what: str) -> tuple[int, ...] | None:
        info = tensors.get(_KEYS[what][1 if diffusers else 0].replace("blocks.0.", first))
        return info.shape if info else None

    def need(what: str) -> tuple[int, ...]:
        found = maybe(what)
        if found is None:
            name = _KEYS[what][1 if diffusers else 0].replace("blocks.0.", first)
            raise ModelError(
                f"tensor {name!r} is missing, so this is not a complete Wan transformer (a LoRA "
                "or a partial file?): use a full transformer checkpoint"
            )
        return found

    patch_shape = tensors[ANCHOR].shape
    if len(patch_shape) != 5:
        raise ModelError(f"{ANCHOR} has shape {list(patch_shape)}, not the 5-D Conv3d of Wan")
    hidden, in_channels, patch = patch_shape[0], patch_shape[1], tuple(patch_shape[2:])
    head, ffn, text, time = need("head"), need("ffn"), need("text"), need("time")
    image, image_pos, vace_patch = maybe("image"), maybe("image_pos"), maybe("vace_patch")
    vace = _indices(tensors, _VACE_BLOCK)
    heads = _heads(hidden, metadata or {})
    num_layers = max(layers) + 1 if layers else 0
    shape = TransformerShape(
        num_layers=num_layers,
        num_attention_heads=heads,
        attention_head_dim=hidden // heads,
        in_channels=in_channels,
        out_channels=head[0] // math.prod(patch),
        ffn_dim=ffn[0],
        text_dim=text[1],
        image_dim=image[0] if image else None,
        pos_embed_seq_len=image_pos[1] if image_pos else None,
        vace_layers=vace_positions(num_layers, max(vace) + 1) if vace else None,
        vace_in_channels=vace_patch[1] if vace and vace_patch else None,
    )
    return shape, time[1], patch


def vace_positions(num_layers: int, vace_blocks: int) -> tuple[int, ...]:
    """Evenly spaced from 0, as released: 30 layers/15 blocks -> 0,2,..; 40/8 -> 0,5,..,35."""
    step = max(1, math.ceil(num_layers / vace_blocks))
    positions = tuple(range(0, num_layers, step))[:vace_blocks]
    return positions if len(positions) == vace_blocks else tuple(range(vace_blocks))


def expert_from_name(name: str) -> str | None:
    """Which A14B expert a file name says it is: '..high_noise..' -> transformer (the first
    expert, run at high noise), '..low_noise..' -> transformer_2; None if the name is silent."""
    lowered = name.lower().replace("-", "_")
    if "low_noise" in lowered or "lownoise" in lowered:
        return "transformer_2"
    if "high_noise" in lowered or "highnoise" in lowered:
        return "transformer"
    return None


def main_dtype(tensors: Iterable[TensorInfo]) -> str | None:
    """The dtype holding most of the bytes, in torch's spelling (bf16, fp16, fp8_e4m3fn...)."""
    totals: dict[str, int] = {}
    for info in tensors:
        totals[info.dtype] = totals.get(info.dtype, 0) + info.end - info.start
    if not totals:
        return None
    top = max(totals, key=lambda k: totals[k])
    return DTYPE_NAMES.get(top, top.lower())


def _indices(tensors: Iterable[str], pattern: re.Pattern[str]) -> set[int]:
    return {int(m.group(1)) for name in tensors if (m := pattern.match(name))}


def _heads(hidden: int, metadata: Mapping[str, str]) -> int:
    """Heads from the file's metadata when it records them, else 128-wide heads (all releases)."""
    candidates = [metadata.get("num_heads"), metadata.get("num_attention_heads")]
    try:
        config = json.loads(metadata.get("config", "{}"))
        if isinstance(config, dict):
            candidates += [config.get("num_heads"), config.get("num_attention_heads")]
    except json.JSONDecodeError:
        pass
    for value in candidates:
        if value is not None and str(value).isdigit() and hidden % int(value) == 0:
            return int(value)
    return hidden // 128 if hidden % 128 == 0 else 1


def _file_problems(
    path: Path,
    header: SafetensorsHeader,
    tensors: Mapping[str, TensorInfo],
    shape: TransformerShape,
) -> list[str]:
    problems = []
    missing = sorted(set(range(shape.num_layers)) - _indices(tensors, _BLOCK))
    if missing:
        problems.append(
            f"{path}: transformer blocks {', '.join(map(str, missing[:8]))} are missing: the file "
            "is incomplete; download it again"
        )
    if "scaled_fp8" in tensors or any(n.endswith(".scale_weight") for n in tensors):
        problems.append(
            f"{path} is a ComfyUI 'fp8 scaled' checkpoint: diffusers cannot apply its weight "
            "scales; use the bf16 or fp16 (or plain fp8_e4m3fn) version of this model"
        )
    wrong_size = size_problem(header, path.stat().st_size)
    if wrong_size:
        problems.append(wrong_size)
    return problems


def _what_else(names: Sequence[str]) -> str:
    """A plain description of a non-Wan-transformer safetensors file, from its tensor names."""
    lowered = [n.lower() for n in names]
    if not names:
        return "holds no tensors"
    if any("lora" in n for n in lowered):
        return "is a LoRA (lora_* tensors), not a model: load it as a LoRA on a Wan model"
    if any("input_blocks." in n for n in names):
        return "is a Stable Diffusion (UNet) checkpoint, not a Wan transformer"
    if any(n.startswith(("double_blocks.", "model.diffusion_model.double_blocks.")) for n in names):
        return "is a Flux checkpoint, not a Wan transformer"
    if any(
        "decoder.middle" in n or n.startswith(("decoder.", "first_stage_model.")) for n in names
    ):
        return "is a VAE, not a Wan transformer"
    if any(n.startswith(("encoder.block.", "shared.")) for n in names):
        return "is a T5 text encoder, not a Wan transformer"
    shown = ", ".join(sorted(names)[:3])
    return f"is not a Wan transformer: it has no {ANCHOR} (first of {len(names)} names: {shown})"


# ----------------------------------------------------------------------------------------------
# Loading (shell: torch and diffusers are imported here only)


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
