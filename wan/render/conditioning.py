"""How each clip is conditioned: the first from text or the init image, every later one by
continuing the previous clip with what the model can do, and how it follows the camera.

Continuing (the source frame: the previous clip's last frame, or the init image for the first):
- image-to-video, TI2V and first-last-frame models: the source is the first image;
- VACE: the previous clip's last k frames (k = overlap, at least 1) are known frames at the start
  of the control video; the first clip's first frame goes in as a reference image;
- text-only models: the source reaches the clip through the camera guide (below).
Every continuation shares `overlap` model frames with the previous clip (plan.CONTINUATION_OVERLAP
by default: the conditioning frame itself), which the assembly drops or cross-fades.

Following the camera (`RenderOptions.camera`):
- `guide` (default): the clip's camera guide, the source carried along the clip's camera path by
  Deforum's own warp (`wan.render.camera_guide`, depth from the depth model in 3D), is followed
  by dual-clock denoising (`wan.render.dual_clock`): the run starts from the guide noised to the
  weak clock, and the pixels the guide knows are held to it until the strong clock;
- `words`: the camera is only in the prompt; text-only models denoise the guide as an init video
  (video-to-video), the one thing that carries the previous frame into their next clip.
A first clip without an init image has no source: it is generated from text, guided from clip 2.

Guides read from frames (`wan.render.guide_source`: the Deforum run's own frames with
`guide_from` run, a Video Input animation's video): the clip's guide is those frames at the
model's fps and the render's size, every pixel known, in place of the warp's; it is followed by
the dual clock in either camera mode, and the first clip is guided too, its source the frames'
first (which is also the init image of image models unless one is given: `first_source`).

Deforum's strength (`strength_schedule`: how much of the previous frame the next clip keeps) and
the clocks (`clip_clocks`): image models keep the previous frame exactly, as their condition, so
their clocks are the options' `camera_weak` / `camera_strong`. Text-only models have nothing
else to keep it with, so the strength is where the run starts, as in video-to-video (weak clock =
strength: that share of the steps is skipped), and the guided region is held for the options'
span (camera_strong - camera_weak) after it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from wan.core.plan import CONDITION_TEXT, Clip
from wan.core.profiles import LAST_IMAGE
from wan.core.tasks import AS_FIRST_IMAGE, AS_INIT_VIDEO, AS_KNOWN_FRAMES, task_of
from wan.render.camera_guide import CameraGuide, camera_guide
from wan.render.deforum_warp import warp_settings_of
from wan.render.generate import ClipRequest
from wan.render.guide_source import first_frame, source_guide
from wan.render.job import RenderJob, follows_frames, guide_used

DepthOf = Callable[[np.ndarray], np.ndarray]  # a frame -> its depth map, in the warp's convention


def first_request(
    job: RenderJob,
    clip: Clip,
    init_image: np.ndarray | None,
    depth_of: DepthOf | None = None,
    last_image: np.ndarray | None = None,
) -> ClipRequest:
    """The first clip: from text, or from the init image the way the task continues a clip.
    `last_image`: the user's last frame, given to the last clip (first-last-frame models)."""
    init_image = first_source(job, init_image)
    if init_image is None:
        return ClipRequest(mode="t2v", **_base(job, clip))
    return _continuing(job, clip, init_image, init_image[None], None, depth_of, last_image)


def first_source(job: RenderJob, init_image: np.ndarray | None) -> np.ndarray | None:
    """The first clip's source frame: the init image, else the first of the frames the guides
    are read from (a re-render, Video Input), else None (the first clip comes from text)."""
    if init_image is not None or job.frame_source is None:
        return init_image
    return first_frame(job.frame_source, (job.width, job.height))


def continue_request(
    job: RenderJob,
    clip: Clip,
    previous: np.ndarray,
    reference: np.ndarray | None,
    depth_of: DepthOf | None = None,
    last_image: np.ndarray | None = None,
) -> ClipRequest:
    """The request for a clip after the first; `previous` is the previous clip's frames."""
    known = previous[-max(clip.overlap, 1) :]
    return _continuing(job, clip, previous[-1], known, reference, depth_of, last_image)


def _continuing(
    job: RenderJob,
    clip: Clip,
    source: np.ndarray,
    known: np.ndarray,
    reference: np.ndarray | None,
    depth_of: DepthOf | None,
    last_image: np.ndarray | None,
) -> ClipRequest:
    base = _base(job, clip)
    task = task_of(job.task)
    guided = job.options.camera == "guide" or job.frame_source is not None
    if job.frame_source is not None:
        guide = frames_guide(job, clip, source)
    elif guide_used(job.options, job.task):
        guide = clip_guide(job, clip, source, depth_of)
    else:
        guide = None
    follow = _follow(job, clip, guide) if guided and guide is not None else {}
    if task.continues_by == AS_KNOWN_FRAMES:
        return ClipRequest(
            mode="vace", known_frames=known, reference_image=reference,
            vace_camera=job.options.vace_camera, **follow, **base,
        )  # fmt: skip
    if task.continues_by == AS_FIRST_IMAGE:
        if LAST_IMAGE in task.inputs and last_image is None and guide is not None:
            last_image = guide.frames[-1]  # where the camera ends this clip
        return ClipRequest(mode="i2v", image=source, last_image=last_image, **follow, **base)
    if guided:
        return ClipRequest(mode="t2v", **follow, **base)
    video = guide.frames  # type: ignore[union-attr]
    return ClipRequest(mode="v2v", init_video=video, strength=_denoise(clip), **base)


def planned_follow(options, task: str | None, clip: Clip) -> dict:
    """How a clip of the plan will follow the camera, for the plan (`_continuing` makes the
    same choice at render time): `mode` text | guide | words, the clocks, and a description."""
    frames = follows_frames(options, clip.motion.mode)
    if clip.conditioning == CONDITION_TEXT and not frames:
        return {"mode": "text", "describe": "from text: the camera in words (no source frame)"}
    if frames:
        weak, strong = clip_clocks(task, clip.strength, options.camera_weak, options.camera_strong)
        what = "the run's frames" if options.guide_from == "run" else "the input video"
        how = "VACE control video" if _is_vace(task) and options.vace_camera == "control" else ""
        describe = how or f"dual clock from {weak:.0%} of the steps, held until {strong:.0%}"
        return {"mode": "guide", "weak": weak, "strong": strong,
                "describe": f"guide: {what}, {describe}"}  # fmt: skip
    if options.camera == "guide":
        weak, strong = clip_clocks(task, clip.strength, options.camera_weak, options.camera_strong)
        how = "VACE control video" if _is_vace(task) and options.vace_camera == "control" else ""
        describe = how or f"dual clock from {weak:.0%} of the steps, held until {strong:.0%}"
        return {"mode": "guide", "weak": weak, "strong": strong, "describe": f"guide: {describe}"}
    extra = " + the guide as init video" if guide_used(options, task) else ""
    return {"mode": "words", "describe": f"words{extra}"}


def _is_vace(task: str | None) -> bool:
    return task_of(task).continues_by == AS_KNOWN_FRAMES


def clip_guide(
    job: RenderJob, clip: Clip, source: np.ndarray, depth_of: DepthOf | None = None
) -> CameraGuide:
    """`source` (a frame at the render's size) carried along `clip`'s camera path: Deforum's
    warp of each model frame, composed from the source (3D: with the source's depth when
    `depth_of` gives it and the settings warp with depth)."""
    settings = warp_settings_of(job.settings)
    needs_depth = settings.mode == "3D" and settings.use_depth and depth_of is not None
    return camera_guide(
        source,
        job.schedules,
        settings,
        clip.start_frame,
        clip.num_frames,
        job.settings.fps,
        job.plan.model_fps,
        depth_of(source) if needs_depth else None,  # type: ignore[misc]
    )


def frames_guide(job: RenderJob, clip: Clip, source: np.ndarray) -> CameraGuide:
    """The clip's guide read from the job's frame source (`wan.render.guide_source`), frame 0
    the frame the clip continues from."""
    return source_guide(
        job.frame_source,  # type: ignore[arg-type]
        clip.model_start,
        clip.num_frames,
        job.settings.fps,
        job.plan.model_fps,
        (job.width, job.height),
        first=source,
    )


def clip_clocks(
    task: str | None, strength: float, weak: float, strong: float
) -> tuple[float, float]:
    """(weak, strong) clocks of a guided clip, as fractions of its steps (module docstring)."""
    if task_of(task).continues_by != AS_INIT_VIDEO:
        return weak, strong
    start = float(min(1.0, max(0.0, strength)))
    return start, min(1.0, start + max(0.0, strong - weak))


def _follow(job: RenderJob, clip: Clip, guide: CameraGuide) -> dict:
    """The request fields of a clip that follows `guide`."""
    weak, strong = clip_clocks(
        job.task, clip.strength, job.options.camera_weak, job.options.camera_strong
    )
    return {
        "guide": guide.frames,
        "guide_mask": guide.masks,
        "camera_weak": weak,
        "camera_strong": strong,
    }


def _denoise(clip: Clip) -> float:
    """Deforum's strength keeps that much of the previous frame; diffusers' strength is noise."""
    return float(min(1.0, max(0.0, 1.0 - clip.strength)))


def _base(job: RenderJob, clip: Clip) -> dict:
    prompt = job.prompts[clip.index]
    return {
        "prompt": prompt.used,
        "negative_prompt": prompt.negative,
        "num_frames": clip.num_frames,
        "width": job.width,
        "height": job.height,
        "steps": job.steps,
        "guidance": job.guidance,
        "guidance_2": job.guidance_2,
        "seed": clip.seed,
    }
