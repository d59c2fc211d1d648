"""Everything a render needs, resolved before anything heavy runs: a `RenderJob`.

Model folder and catalog match, size, sampling parameters (options first, then the model's
defaults: Deforum's Stable Diffusion sampler, cfg and steps are never reused), LoRAs with their
file hashes, the prompt each clip will use, and the parts of the render hash. Resolving touches
the disk (model detection, LoRA hashes) but loads no weights.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from wan.core.deforum.schedules import evaluate_schedules
from wan.core.deforum.settings import DeforumSettings, is_url
from wan.core.motion import VIDEO_INPUT
from wan.core.plan import GenerationPlan, init_image_used
from wan.core.profiles import LAST_IMAGE
from wan.core.prompt_syntax import clean_prompt, find_lora
from wan.core.sizes import choose_size
from wan.core.tasks import AS_INIT_VIDEO, REQUIRED, task_of
from wan.errors import OptionsError
from wan.models import store
from wan.models.catalog import CatalogEntry, get_entry, wan_entries
from wan.models.depth_folder import DepthModelInfo
from wan.models.depth_model import depth_model_to_use
from wan.models.detect import Detection, detect_model
from wan.models.preset_values import apply_preset
from wan.models.validate import require_intact
from wan.options.render_options import RenderOptions, options_to_dict
from wan.render.deforum_warp import WARP_SCHEDULES
from wan.render.guide_source import FrameSource, frame_source, init_frame_path
from wan.render.image_header import check_image_file
from wan.render.lora import check_lora_fits, lora_file_hash

# Bumped when the same inputs condition a clip differently (1: Deforum's own warp as the camera
# guide, replacing a flat affine approximation; 2: every family follows the guide by the dual
# clock): a run started before refuses to resume.
CONDITIONING_VERSION = "2"


@dataclass(frozen=True)
class ClipPrompt:
    """A clip's prompt as the plan gave it, as enhanced (issue: prompting), and as used."""

    given: str
    enhanced: str | None
    used: str
    negative: str
    override: bool


@dataclass(frozen=True)
class RenderJob:
    plan: GenerationPlan
    settings: DeforumSettings
    options: RenderOptions
    model_path: Path
    model_revision: str | None
    detection: Detection
    entry: CatalogEntry | None
    width: int
    height: int
    size_reason: str
    steps: int
    guidance: float
    guidance_2: float | None
    flow_shift: float | None
    dtype: str
    loras: tuple[tuple[Path, float], ...]
    lora_hashes: tuple[str, ...]
    prompts: tuple[ClipPrompt, ...]
    init_image: str | None
    last_image: str | None = None  # the last clip's last frame (FLF2V models; --last-image)
    base_folder: Path | None = None  # a single-file transformer's base model (its other parts)
    schedules: Mapping[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)
    warnings: tuple[str, ...] = field(default=())
    # the depth model the clips' 3D camera guides read (None: no depth read, or flat depth)
    depth_model: DepthModelInfo | None = field(default=None, compare=False)
    # the frames each clip's guide is read from instead of the warp (wan.render.guide_source):
    # the run's own frames (guide_from run) or a Video Input animation's video; None: the warp
    frame_source: FrameSource | None = None

    @property
    def task(self) -> str:
        return self.detection.task or "t2v"

    @property
    def two_experts(self) -> bool:
        return bool(self.detection.signature and self.detection.signature.experts == 2)

    def hash_parts(self) -> dict[str, str]:
        """What makes two renders the same video; resume refuses when any part differs."""
        return {
            "plan": self.plan.hash,
            "settings": _digest(self.settings.to_dict()),
            "options": _digest(options_to_dict(self.options)),
            "model": f"{self.entry.id if self.entry else self.model_path.name}",
            "model_revision": str(self.model_revision),
            "size": f"{self.width}x{self.height}",
            "sampling": _digest(
                [self.steps, self.guidance, self.guidance_2, self.flow_shift, self.dtype]
            ),
            "loras": _digest([[str(p.name), s] for p, s in self.loras] + list(self.lora_hashes)),
            "prompts": _digest([[p.used, p.negative] for p in self.prompts]),
            "init_image": _file_digest(self.init_image),
            "last_image": _file_digest(self.last_image),
            "frame_source": _source_digest(self.frame_source),
            "conditioning": CONDITIONING_VERSION,
            # the guides' depth: installing the depth model must not resume flat-depth clips
            "depth_model": self.depth_model.path.name if self.depth_model else "none",
        }

    @property
    def hash(self) -> str:
        return _digest(self.hash_parts())


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _file_digest(path: str | None) -> str:
    if not path:
        return "none"
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def _source_digest(source: FrameSource | None) -> str:
    if source is None:
        return "none"
    return _digest([source.kind, source.picks, source.numbers, source.digest])


def prepare_job(
    plan: GenerationPlan,
    settings: DeforumSettings,
    options: RenderOptions,
    config: store.StoreConfig,
    lora_dirs: list[Path],
) -> RenderJob:
    """Resolve the model, size, parameters, LoRAs and prompts of a render (no weights loaded)."""
    model = store.resolve(options.model or plan.model.id, config)
    detection = detect_model(model.path)
    if not detection.is_wan:
        raise OptionsError(
            f"--model {model.path}: not a Wan model ({'; '.join(detection.problems)})"
        )
    match = detection.match(wan_entries())
    entry = get_entry(match.model_id) if match.model_id else None
    options = apply_preset(options, entry, config, lora_dirs)  # explicit values win
    size = choose_size(settings.width, settings.height, plan.model, options.size)
    defaults = entry.defaults if entry is not None else None
    init_image = check_inputs(settings, options, detection.task, entry.id if entry else model.path)
    enhanced, enhance_warnings = _enhanced_prompts(plan, options, config)
    prompts, loras, warnings = _prompts_and_loras(plan, options, lora_dirs, enhanced)
    width = detection.signature.transformer.hidden_size if detection.signature else None
    for path, _ in loras:
        check_lora_fits(path, width)
    depth_model, depth_note = _depth_model(settings, options, detection.task, config)
    warnings = [*enhance_warnings, *warnings, *([depth_note] if depth_note else [])]
    source = frame_source(settings, options)
    warnings += _source_notes(source, settings)
    return RenderJob(
        plan=plan,
        settings=settings,
        options=options,
        model_path=model.path,
        model_revision=model.revision,
        detection=detection,
        entry=entry,
        width=size.width,
        height=size.height,
        size_reason=size.reason,
        steps=options.steps or (defaults.steps if defaults else 30),
        guidance=options.guidance
        if options.guidance is not None
        else (defaults.guidance if defaults else 5.0),
        guidance_2=options.guidance_2
        if options.guidance_2 is not None
        else (defaults.guidance_2 if defaults else None),
        flow_shift=options.flow_shift
        if options.flow_shift is not None
        else (entry.flow_shift_for(size.width, size.height) if entry is not None else None),
        dtype=_dtype(options.dtype, entry),
        loras=loras,
        lora_hashes=tuple(lora_file_hash(p) for p, _ in loras),
        prompts=prompts,
        init_image=init_image,
        last_image=options.last_image,  # checked by check_inputs
        base_folder=_base_folder(detection, entry, config),
        schedules=_camera_schedules(settings, plan.seed),
        warnings=tuple(warnings),
        depth_model=depth_model,
        frame_source=source,
    )


def _source_notes(source: FrameSource | None, settings: DeforumSettings) -> list[str]:
    """Where the guide's frames end before the animation does (their last frame is held)."""
    if source is None:
        return []
    if source.numbers:
        last = source.numbers[-1]
        if last >= settings.max_frames - 1:
            return []
        return [
            f"the run's frames end at frame {last}, before the animation's last frame "
            f"{settings.max_frames - 1} (max_frames {settings.max_frames}): its last frame "
            "guides the rest"
        ]
    if source.count >= settings.max_frames:
        return []
    return [
        f"{source.path} gives {source.count} frame(s) as Deforum extracts them, fewer than "
        f"max_frames {settings.max_frames}: its last frame guides the rest (Deforum renders as "
        f"many frames as it extracts: set max_frames to {source.count} to match)"
    ]


def follows_frames(options: RenderOptions, mode: str | None) -> bool:
    """Whether the clips' guides are read from frames (the run's own, guide_from run; a Video
    Input animation's video: `wan.render.guide_source`) rather than built by the warp. Such a
    guide is followed by the dual clock whatever `camera` says: it is what the render is for."""
    return options.guide_from == "run" or mode == VIDEO_INPUT


def guide_used(options: RenderOptions, task: str | None) -> bool:
    """Whether a clip with a source frame gets a camera guide built by the warp: every family
    in guide mode; in words mode the text-only models (the guide is their init video) and
    first-last-frame models (the guide's last frame is where the clip ends). A guide read from
    frames (`follows_frames`) is always used."""
    kind = task_of(task)
    if options.camera == "guide":
        return True
    return kind.continues_by == AS_INIT_VIDEO or LAST_IMAGE in kind.inputs


def guide_reads_depth(settings: DeforumSettings, options: RenderOptions, task: str | None) -> bool:
    """Whether the clips' camera guides read depth: guided, 3D, warping with depth, and built
    by the warp (a guide read from frames needs no depth)."""
    from wan.render.deforum_warp import warp_settings_of

    if follows_frames(options, settings.mode):
        return False
    warp = warp_settings_of(settings)
    return warp.mode == "3D" and warp.use_depth and guide_used(options, task)


def _depth_model(
    settings: DeforumSettings, options: RenderOptions, task: str | None, config: store.StoreConfig
) -> tuple[DepthModelInfo | None, str]:
    """The depth model the guides read (checked now, before Wan loads), and a note without."""
    if not guide_reads_depth(settings, options, task):
        return None, ""
    return depth_model_to_use(options.depth_model, config)


def check_inputs(
    settings: DeforumSettings,
    options: RenderOptions,
    task: str | None,
    model: object,
    pending_urls: bool = False,
) -> str | None:
    """The files a render reads exist and are intact as far as cheap checks see (a model folder
    given as a path: its safetensors headers and sizes; the init and last images: their headers
    within the limits; LoRA files), an image-to-video `model` has its first image, and a last
    image goes to a first-last-frame model; returns the init image. Cheap: the CLI runs it
    before queueing a render (`wan.cli.render.preflight`). `pending_urls`: an init image URL is
    accepted, to be downloaded when the job is queued."""
    folder = _local_diffusers_folder(options.model)
    if folder is not None:
        require_intact(folder)  # JSON files and safetensors headers only
    for lora in options.loras:
        if not Path(lora.path).is_file():
            raise OptionsError(f"--lora {lora.path}: no such file; give a .safetensors LoRA file")
    init_image = _init_image(settings, options)
    if is_url(init_image) and not pending_urls:  # intake downloads it before the render
        raise OptionsError(
            f"{init_image_name(init_image, options)} is a URL that was not downloaded; queue the "
            "render with `python -m wan render` or the tab (they download it), or give a file"
        )
    source = frame_source(settings, options, digest=False)  # the run's frames or video are there
    if task_of(task).first_image == REQUIRED and not init_image and source is None:
        raise OptionsError(
            f"{model} is an image-to-video model: its first clip needs "
            "a first image. Give one with --init-image IMG (or Deforum's use_init and init_image), "
            "or pick a text-to-video, TI2V or VACE model"
        )
    check_last_image(options, task, model)
    return init_image


def _init_image(settings: DeforumSettings, options: RenderOptions) -> str | None:
    """The init image's file: --init-image, else the run's frame --init-frame N, else the
    settings' init_image when use_init is on (a frame source's first frame stands in for none:
    the runner's `first_source`)."""
    if options.init_frame is None:
        return checked_init_image(settings, options.init_image)
    if options.init_image:
        raise OptionsError(
            f"--init-frame {options.init_frame} and --init-image {options.init_image}: both "
            "give the init image; keep one"
        )
    frame = init_frame_path(settings, options.init_frame)
    check_image_file(frame, f"--init-frame {options.init_frame} ({frame})")  # header only
    return frame


def check_last_image(options: RenderOptions, task: str | None, model: object) -> None:
    """The last image exists, its header is within the limits, and the model can end a clip on
    it: only first-last-frame (FLF2V) models take a last image, and giving one to another model
    is an error rather than a note, since the video would not end where the user asked."""
    path = options.last_image
    if not path:
        return
    where = f"--last-image {path}"
    if not Path(path).is_file():
        raise OptionsError(f"{where}: no such file; give a local image file")
    if task_of(task).id != "flf2v":
        raise OptionsError(
            f"{where}: only first-last-frame (FLF2V) models end a video on a given image, and "
            f"{model} is a {task_of(task).id} model; pick an FLF2V model "
            "(Wan2.1-FLF2V-14B-720P) or leave the last image out"
        )
    check_image_file(path, where)  # header only


def checked_init_image(settings: DeforumSettings, option: str | None) -> str | None:
    """The init image a render starts from (`init_image_used`): a local file must exist and
    its header be within the limits (checked at plan time too: `python -m wan plan`); a URL is
    returned as it is, for the download that happens when the render is queued
    (`wan.render.fetch`)."""
    image = init_image_used(settings, option)
    if not image or is_url(image):
        return image
    where = f"--init-image {image}" if option else f"init image {image} (the settings' init_image)"
    if not Path(image).is_file():
        raise OptionsError(
            f"{where}: no such file; give a local image file (or an http(s) URL to download)"
        )
    check_image_file(image, where)  # header only
    return image


def _local_diffusers_folder(ref: str | None) -> Path | None:
    """`--model` as a Diffusers folder on disk (ids and single files are checked elsewhere:
    the store validates a download, detection measures a single file)."""
    if not ref:
        return None
    path = Path(ref).expanduser()
    return path if (path / "model_index.json").is_file() else None


def init_image_name(path: str, options: RenderOptions) -> str:
    """How messages name the init image: by the option that gave it, or the settings' key."""
    if options.init_image:
        return f"--init-image {path}"
    if options.init_frame is not None:
        return f"--init-frame {options.init_frame} ({path})"
    return f"init image {path} (the settings' init_image)"


def _base_folder(
    detection: Detection, entry: CatalogEntry | None, config: store.StoreConfig
) -> Path | None:
    """A single-file transformer loads with the text encoder and VAE of an installed base."""
    if detection.kind != "single_file":
        return None
    if entry is None:
        raise OptionsError(
            f"--model {detection.path}: a single-file transformer of an unknown architecture; "
            "use a Diffusers folder, or a checkpoint of a catalog model"
        )
    return store.resolve(entry.id, config).path


def _camera_schedules(settings: DeforumSettings, seed: int) -> dict[str, np.ndarray]:
    """The per-frame values of every schedule Deforum's warp reads (the camera guide's)."""
    return evaluate_schedules(settings.schedules, settings.max_frames, seed, list(WARP_SCHEDULES))


def _dtype(requested: str, entry: CatalogEntry | None) -> str:
    if requested != "auto":
        return requested
    if entry is not None and entry.smoke:
        return "float32"
    import torch

    return "bfloat16" if torch.cuda.is_available() else "float32"


def _enhanced_prompts(plan: GenerationPlan, options: RenderOptions, config: store.StoreConfig):
    """Each clip's enhanced prompt (None when enhancement is off or the clip is overridden)."""
    settings = options.enhance
    if settings is None or not settings.enabled:
        return [None] * len(plan.clips), []
    from wan.prompting.plan_prompts import enhance_plan

    results = enhance_plan(plan, options, config)
    warnings = [
        f"clip {clip.index}: {warning}"
        for clip, result in zip(plan.clips, results, strict=True)
        if result is not None
        for warning in result.warnings
    ]
    return [None if r is None else r.text for r in results], warnings


def _prompts_and_loras(
    plan: GenerationPlan,
    options: RenderOptions,
    lora_dirs: list[Path],
    enhanced: list[str | None],
):
    """Prompts as used (WebUI syntax cleaned, overrides as is), and the LoRAs asked for."""
    prompts, warnings = [], []
    loras: dict[Path, float] = {Path(lora.path): lora.strength for lora in options.loras}
    overrides = options.prompt_overrides or {}
    for clip in plan.clips:
        cleaned = clean_prompt(enhanced[clip.index] or clip.prompt)
        warnings += [f"clip {clip.index}: {w}" for w in cleaned.warnings]
        for tag in cleaned.loras:
            found = find_lora(tag.name, lora_dirs)
            if found is None:
                warnings.append(
                    f"clip {clip.index}: <lora:{tag.name}> has no Wan LoRA file named "
                    f"{tag.name}.safetensors in {', '.join(map(str, lora_dirs))}; ignored"
                )
            else:
                loras.setdefault(found, tag.weight)
        override = overrides.get(clip.index)
        negative = clean_prompt(clip.negative_prompt).text
        prompts.append(
            ClipPrompt(
                clip.prompt,
                enhanced[clip.index],
                override if override is not None else cleaned.text,
                negative,
                override is not None,
            )
        )
    for index in overrides:
        if not 0 <= index < len(plan.clips):
            raise OptionsError(
                f"--prompt {index}=...: there is no clip {index}; "
                f"the plan has clips 0 to {len(plan.clips) - 1}"
            )
    return tuple(prompts), tuple(loras.items()), warnings
