"""Every model the extension knows, read from `catalog.json` (data, not code).

The JSON is the single source of truth for model ids, Hub repos, what each model takes, its
official sampling defaults, its parameter counts and its architecture signature. This module only
loads, validates and looks it up (pure: the file is read once and cached).

Model references (CLI `--model`, API, UI) follow `ID[@REVISION][#VARIANT]`:

- `ID`: a catalog id (`Wan2.1-T2V-1.3B`), its Hub repo (`Wan-AI/Wan2.1-T2V-1.3B-Diffusers`) or
  the repo's name (`Wan2.1-T2V-1.3B-Diffusers`); any case.
- `@REVISION`: a Hub branch, tag or commit (`@main`, `@refs/pr/3`, `@0123abc`).
- `#VARIANT`: a weights variant as diffusers names the files (`#fp16` loads
  `*.fp16.safetensors`).

e.g. `wan2.2-ti2v-5b`, `Wan-AI/Wan2.1-T2V-14B-Diffusers@main`, `Wan2.1-T2V-1.3B@main#fp16`.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wan.core.profiles import IMAGE, LAST_IMAGE, REFERENCE, VIDEO, ModelProfile
from wan.core.tasks import TASK_IDS
from wan.errors import ModelError
from wan.models.signature import ModelSignature

CATALOG_PATH = Path(__file__).with_name("catalog.json")

KINDS = ("wan", "enhancer", "depth", "lora")
LORA_EXPERTS = ("both", "high_noise", "low_noise")  # which expert of a two-expert model
DEFAULT_DEPTH_MODEL = "Depth-Anything-V2-Small"  # the camera warp's depth estimator
FAMILIES = ("wan2.1", "wan2.2")
PIPELINES = ("WanPipeline", "WanImageToVideoPipeline", "WanVACEPipeline")
INPUTS = ("text", "image", "last_image", "video", "mask", "reference")
SIZE_CLASSES = ("480p", "720p")
PROFILE_INPUTS = frozenset({IMAGE, LAST_IMAGE, VIDEO, REFERENCE})  # what the planner reasons about
COMPONENTS = (
    "transformer",
    "text_encoder",
    "vae",
    "image_encoder",
    "language_model",
    "depth_model",
)

# 832x480 and 1280x720 pixel counts; a size belongs to the class whose count it is nearer to.
_CLASS_SPLIT = (832 * 480 + 1280 * 720) // 2
_REF = re.compile(
    r"^(?P<id>[^@#\s]+)(?:@(?P<revision>[^@#\s]+))?(?:#(?P<variant>[A-Za-z0-9_.-]+))?$"
)


@dataclass(frozen=True)
class ModelRef:
    """A parsed `ID[@REVISION][#VARIANT]` reference (the id is not resolved yet)."""

    id: str
    revision: str | None = None
    variant: str | None = None

    def __str__(self) -> str:
        text = self.id
        if self.revision:
            text += f"@{self.revision}"
        if self.variant:
            text += f"#{self.variant}"
        return text


@dataclass(frozen=True)
class SamplingDefaults:
    """The official sampling settings; `guidance_2` drives the low-noise expert (two experts)."""

    steps: int
    guidance: float
    guidance_2: float | None
    flow_shift: tuple[tuple[str, float], ...]  # (size class, shift)

    def to_dict(self) -> dict[str, Any]:
        return {
            "steps": self.steps,
            "guidance": self.guidance,
            "guidance_2": self.guidance_2,
            "flow_shift": dict(self.flow_shift),
        }


@dataclass(frozen=True)
class ParamCounts:
    """Parameters per component; `transformer` counts one expert (two-expert models hold two)."""

    transformer: int = 0
    text_encoder: int = 0
    vae: int = 0
    image_encoder: int = 0
    language_model: int = 0  # prompt enhancers
    depth_model: int = 0  # depth estimators

    def to_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in COMPONENTS if getattr(self, name)}


@dataclass(frozen=True)
class LoraSpec:
    """A published LoRA file (kind "lora"): where it is, which models it is for, which expert of
    a two-expert model it goes into, and the sampler settings it was distilled for."""

    file: str  # file name in the Hub repo (and in a LoRA folder)
    sha256: str | None  # None where the publisher's page was not checked
    bytes: int  # size, for the memory estimate (rounded where only MB were published)
    for_models: tuple[str, ...]  # catalog ids
    expert: str  # both | high_noise | low_noise
    steps: int
    guidance: float
    flow_shift: float
    source: str  # where the sampler numbers come from

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "sha256": self.sha256,
            "bytes": self.bytes,
            "for_models": list(self.for_models),
            "expert": self.expert,
            "sampler": {
                "steps": self.steps,
                "guidance": self.guidance,
                "flow_shift": self.flow_shift,
                "source": self.source,
            },
        }


@dataclass(frozen=True)
class CatalogEntry:
    id: str
    kind: str  # "wan" | "enhancer" | "depth"
    title: str
    smoke: bool  # tiny random model built locally (tests, demo)
    repo: str | None  # Hugging Face repo; None for smoke models
    params: ParamCounts
    notes: str = ""
    family: str | None = None
    task: str | None = None
    pipeline: str | None = None  # diffusers class for the model's main task
    image_pipeline: str | None = None  # TI2V: the class used when an image is given
    inputs: tuple[str, ...] = ()
    native_fps: float | None = None
    max_clip_frames: int | None = None
    size_multiple: int | None = None
    sizes: tuple[tuple[int, int], ...] = ()  # (width, height), the default first
    defaults: SamplingDefaults | None = None
    min_diffusers: str | None = None
    min_transformers: str | None = None
    signature: ModelSignature | None = None  # None for enhancers and depth models
    lora: LoraSpec | None = None  # kind "lora" only

    @property
    def is_wan(self) -> bool:
        return self.kind == "wan"

    @property
    def experts(self) -> int:
        return self.signature.experts if self.signature else 1

    @property
    def boundary_ratio(self) -> float | None:
        return self.signature.boundary_ratio if self.signature else None

    @property
    def default_size(self) -> tuple[int, int]:
        return self.sizes[0]

    def takes(self, kind: str) -> bool:
        return kind in self.inputs

    def flow_shift_for(self, width: int, height: int) -> float:
        """The official shift for this size class, else the one of the nearest class listed."""
        shifts = dict(self.defaults.flow_shift) if self.defaults else {}
        if not shifts:
            raise ModelError(f"{self.id} is not a video model: it has no flow shift")
        wanted = size_class(width, height)
        if wanted in shifts:
            return shifts[wanted]
        order = sorted(
            shifts, key=lambda c: abs(SIZE_CLASSES.index(c) - SIZE_CLASSES.index(wanted))
        )
        return shifts[order[0]]

    def profile(self) -> ModelProfile:
        """What the clip planner needs; prompt models have none."""
        if not self.is_wan:
            what = {
                "depth": "a depth model",
                "lora": "a LoRA (the fast preset loads it; give it to --lora or use --preset fast)",
            }.get(self.kind, "a prompt model (prompt enhancer)")
            raise ModelError(
                f"{self.id} is {what}, not a video model; pick a Wan model for --model"
            )
        return ModelProfile(
            id=self.id,
            family=str(self.family),
            task=str(self.task),
            native_fps=self.native_fps or 0,
            max_clip_frames=int(self.max_clip_frames or 0),
            size_multiple=int(self.size_multiple or 0),
            sizes=self.sizes,
            inputs=frozenset(self.inputs) & PROFILE_INPUTS,
            smoke=self.smoke,
        )

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "title": self.title,
            "smoke": self.smoke,
            "repo": self.repo,
            "params": self.params.to_dict(),
            "notes": self.notes,
        }
        if self.lora is not None:
            return {**data, "lora": self.lora.to_dict()}
        if not self.is_wan:
            data["min_transformers"] = self.min_transformers
            return data
        return {
            **data,
            "family": self.family,
            "task": self.task,
            "pipeline": self.pipeline,
            "image_pipeline": self.image_pipeline,
            "inputs": list(self.inputs),
            "native_fps": self.native_fps,
            "max_clip_frames": self.max_clip_frames,
            "size_multiple": self.size_multiple,
            "sizes": [list(s) for s in self.sizes],
            "defaults": self.defaults.to_dict() if self.defaults else None,
            "min_diffusers": self.min_diffusers,
            "signature": self.signature.to_dict() if self.signature else None,
        }


def size_class(width: int, height: int) -> str:
    """'480p' or '720p': the official size class nearest in pixel count."""
    return "720p" if width * height >= _CLASS_SPLIT else "480p"


# ----------------------------------------------------------------------------------------------
# Loading and lookup


@functools.cache
def load_catalog() -> tuple[CatalogEntry, ...]:
    """The catalog shipped beside this module, validated once per process."""
    with CATALOG_PATH.open(encoding="utf-8") as handle:
        return parse_catalog(json.load(handle))


def wan_entries() -> tuple[CatalogEntry, ...]:
    return tuple(e for e in load_catalog() if e.is_wan)


def enhancer_entries() -> tuple[CatalogEntry, ...]:
    return tuple(e for e in load_catalog() if e.kind == "enhancer")


def depth_entries() -> tuple[CatalogEntry, ...]:
    """The depth estimators (the 3D camera warp's depth maps)."""
    return tuple(e for e in load_catalog() if e.kind == "depth")


def lora_entries() -> tuple[CatalogEntry, ...]:
    """The published LoRA files (the fast preset's distilled LoRAs)."""
    return tuple(e for e in load_catalog() if e.kind == "lora")


def parse_model_ref(text: str) -> ModelRef:
    """Split `ID[@REVISION][#VARIANT]`; the id is resolved later by `get_entry`."""
    match = _REF.match(str(text).strip())
    if not match:
        raise ModelError(
            f"model reference {text!r}: expected ID[@REVISION][#VARIANT] with no spaces, "
            "e.g. Wan2.1-T2V-1.3B, Wan-AI/Wan2.1-T2V-1.3B-Diffusers@main or Wan2.1-T2V-1.3B#fp16"
        )
    return ModelRef(match["id"], match["revision"], match["variant"])


def get_entry(model_ref: str) -> CatalogEntry:
    """The entry named by a reference (id, repo or repo name, any case; revision ignored)."""
    ref = parse_model_ref(model_ref)
    index = _alias_index()
    for candidate in _lookup_keys(ref.id):
        if candidate in index:
            return index[candidate]
    videos = ", ".join(e.id for e in wan_entries())
    prompts = ", ".join(e.id for e in enhancer_entries())
    depths = ", ".join(e.id for e in depth_entries())
    raise ModelError(
        f"unknown model {ref.id!r}; video models: {videos}; prompt models (for enhancement): "
        f"{prompts}; depth models: {depths}; or give a model folder or .safetensors file"
    )


@functools.cache
def _alias_index() -> dict[str, CatalogEntry]:
    index: dict[str, CatalogEntry] = {}
    for entry in load_catalog():
        for alias in _aliases(entry):
            index.setdefault(alias, entry)
    return index


def _aliases(entry: CatalogEntry) -> tuple[str, ...]:
    names = [entry.id]
    if entry.repo and entry.kind != "lora":  # one LoRA repo holds several catalog files
        names += [entry.repo, entry.repo.split("/")[-1]]
    return tuple(dict.fromkeys(n.lower() for n in names))


def _lookup_keys(name: str) -> tuple[str, ...]:
    """The name as given, then without the Wan-AI owner and the -Diffusers suffix."""
    key = name.strip().lower()
    bare = key.removeprefix("wan-ai/").removesuffix("-diffusers")
    return tuple(dict.fromkeys((key, bare)))


# ----------------------------------------------------------------------------------------------
# Parsing and validation (pure)


def parse_catalog(data: Mapping[str, Any]) -> tuple[CatalogEntry, ...]:
    """Entries from the catalog's JSON document, checked field by field and against each other."""
    models = data.get("models") if isinstance(data, Mapping) else None
    if not isinstance(models, list) or not models:
        raise ModelError("catalog.json: expected a non-empty 'models' list")
    entries = tuple(_parse_entry(item, index) for index, item in enumerate(models))
    _check_unique(entries)
    _check_lora_targets(entries)
    return entries


def _fail(where: str, reason: str) -> ModelError:
    return ModelError(f"catalog.json: model {where}: {reason}")


def _parse_entry(item: Any, index: int) -> CatalogEntry:
    if not isinstance(item, Mapping) or not isinstance(item.get("id"), str) or not item["id"]:
        raise _fail(f"#{index}", "every model needs a string 'id'")
    where = repr(item["id"])
    kind = item.get("kind")
    if kind not in KINDS:
        raise _fail(where, f"kind {kind!r} is not one of {', '.join(KINDS)}")
    try:
        params = ParamCounts(**{k: int(v) for k, v in dict(item.get("params") or {}).items()})
    except (TypeError, ValueError) as exc:
        raise _fail(where, f"bad 'params' ({exc}); use {', '.join(COMPONENTS)}") from None
    common = {
        "id": item["id"],
        "kind": kind,
        "title": str(item.get("title") or item["id"]),
        "smoke": bool(item.get("smoke", False)),
        "repo": item.get("repo"),
        "params": params,
        "notes": str(item.get("notes") or ""),
    }
    if not common["smoke"] and not common["repo"]:
        raise _fail(where, "a downloadable model needs its Hub 'repo'")
    if kind == "enhancer":
        if params.language_model <= 0:
            raise _fail(where, "an enhancer needs params.language_model")
        return CatalogEntry(**common, min_transformers=item.get("min_transformers"))
    if kind == "lora":
        return CatalogEntry(**common, lora=_parse_lora(item.get("lora"), where))
    if kind == "depth":
        if params.depth_model <= 0:
            raise _fail(where, "a depth model needs params.depth_model")
        return CatalogEntry(**common, min_transformers=item.get("min_transformers"))
    entry = _parse_wan(item, where, common)
    _check_wan(entry, where)
    return entry


def _parse_lora(item: Any, where: str) -> LoraSpec:
    try:
        sampler = item["sampler"]
        spec = LoraSpec(
            file=str(item["file"]),
            sha256=item.get("sha256"),
            bytes=int(item["bytes"]),
            for_models=tuple(str(m) for m in item["for_models"]),
            expert=str(item["expert"]),
            steps=int(sampler["steps"]),
            guidance=float(sampler["guidance"]),
            flow_shift=float(sampler["flow_shift"]),
            source=str(sampler["source"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise _fail(
            where,
            f"kind 'lora' needs a 'lora' object (file, sha256, bytes, for_models, expert, sampler)"
            f" ({type(exc).__name__}: {exc})",
        ) from None
    if spec.expert not in LORA_EXPERTS:
        raise _fail(where, f"lora.expert {spec.expert!r} is not one of {', '.join(LORA_EXPERTS)}")
    if not spec.file.endswith(".safetensors") or not spec.for_models:
        raise _fail(where, "a LoRA needs a .safetensors 'file' and the 'for_models' it fits")
    return spec


def _parse_wan(item: Mapping[str, Any], where: str, common: dict[str, Any]) -> CatalogEntry:
    try:
        defaults = item["defaults"]
        sampling = SamplingDefaults(
            steps=int(defaults["steps"]),
            guidance=float(defaults["guidance"]),
            guidance_2=None
            if defaults.get("guidance_2") is None
            else float(defaults["guidance_2"]),
            flow_shift=tuple((str(k), float(v)) for k, v in dict(defaults["flow_shift"]).items()),
        )
        return CatalogEntry(
            **common,
            family=item["family"],
            task=item["task"],
            pipeline=item["pipeline"],
            image_pipeline=item.get("image_pipeline"),
            inputs=tuple(item["inputs"]),
            native_fps=item["native_fps"],
            max_clip_frames=int(item["max_clip_frames"]),
            size_multiple=int(item["size_multiple"]),
            sizes=tuple((int(w), int(h)) for w, h in item["sizes"]),
            defaults=sampling,
            min_diffusers=item.get("min_diffusers"),
            signature=ModelSignature.from_dict(item["signature"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise _fail(where, f"missing or malformed field ({type(exc).__name__}: {exc})") from None


def _check_wan(e: CatalogEntry, where: str) -> None:
    """Field ranges, then the agreement of the profile fields with the signature."""
    sig, defaults = e.signature, e.defaults
    assert sig is not None and defaults is not None  # set by _parse_wan
    problems = [
        (e.family not in FAMILIES, f"family {e.family!r} is not one of {', '.join(FAMILIES)}"),
        (e.task not in TASK_IDS, f"task {e.task!r} is not one of {', '.join(TASK_IDS)}"),
        (e.pipeline not in PIPELINES, f"pipeline {e.pipeline!r} is not a Wan pipeline"),
        (e.pipeline != sig.pipeline, "pipeline differs from signature.pipeline"),
        (not set(e.inputs) <= set(INPUTS), f"inputs must be among {', '.join(INPUTS)}"),
        ("text" not in e.inputs, "every Wan model takes 'text'"),
        (not e.native_fps or e.native_fps <= 0, "native_fps must be positive"),
        (not _is_4n1(e.max_clip_frames), "max_clip_frames must be 4n+1 and at least 5"),
        (not e.sizes, "sizes must list at least the default size"),
        (
            any(w % e.size_multiple or h % e.size_multiple for w, h in e.sizes),
            f"every size must be a multiple of {e.size_multiple}",
        ),
        (defaults.steps < 1 or defaults.guidance <= 0, "steps and guidance must be positive"),
        (not set(dict(defaults.flow_shift)) <= set(SIZE_CLASSES), "flow_shift keys: 480p, 720p"),
        (
            bool(e.sizes) and size_class(*e.sizes[0]) not in dict(defaults.flow_shift),
            "flow_shift must cover the default size's class",
        ),
        ((sig.experts == 2) != (defaults.guidance_2 is not None), "guidance_2 iff two experts"),
        ((sig.experts == 2) != (sig.boundary_ratio is not None), "boundary_ratio iff two experts"),
        (sig.experts not in (1, 2), "experts must be 1 or 2"),
        ((e.task == "vace") != (sig.transformer.vace_layers is not None), "vace_layers iff vace"),
        ((e.task == "vace") != (e.pipeline == "WanVACEPipeline"), "vace uses WanVACEPipeline"),
        ((e.task == "ti2v") != sig.expand_timesteps, "expand_timesteps iff ti2v"),
        ((e.task == "ti2v") != (e.image_pipeline is not None), "image_pipeline iff ti2v"),
        ((e.task == "flf2v") != e.takes("last_image"), "last_image iff flf2v"),
        (e.task in ("i2v", "flf2v", "ti2v") and not e.takes("image"), "image models take 'image'"),
        (
            e.params.transformer <= 0 or e.params.text_encoder <= 0 or e.params.vae <= 0,
            "params needs transformer, text_encoder and vae",
        ),
        (sig.image_encoder != (e.params.image_encoder > 0), "image_encoder params iff CLIP"),
    ]
    for bad, reason in problems:
        if bad:
            raise _fail(where, reason)


def _check_lora_targets(entries: tuple[CatalogEntry, ...]) -> None:
    """Every LoRA names video models of the catalog; an expert LoRA, two-expert ones."""
    videos = {e.id: e for e in entries if e.is_wan}
    for entry in entries:
        if entry.lora is None:
            continue
        for model in entry.lora.for_models:
            if model not in videos:
                raise _fail(repr(entry.id), f"for_models names {model!r}, not a video model here")
            if entry.lora.expert != "both" and videos[model].experts != 2:
                raise _fail(repr(entry.id), f"an expert LoRA, but {model} has one expert")


def _is_4n1(frames: int | None) -> bool:
    return frames is not None and frames >= 5 and (frames - 1) % 4 == 0


def _check_unique(entries: tuple[CatalogEntry, ...]) -> None:
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        for alias in _aliases(entry):
            first = seen.setdefault(alias, index)
            if first != index:
                other = entries[first].id
                raise _fail(repr(entry.id), f"name {alias!r} is also used by {other!r}")
