"""How each clip is conditioned: the first from text or the init image, every later one by
continuing the previous clip with what the model can do.

- image-to-video and TI2V models: the previous clip's last frame is the first image;
- VACE: the previous clip's last k frames (k = overlap, at least 1) are known frames at the start
  of the control video; the first clip's first frame goes in as a reference image;
- text-only models: the clip's camera guide (the previous last frame, or the init image, carried
  along this clip's camera path by Deforum's own warp: `wan.render.camera_guide`) is an init
  video, denoised at strength 1 - Deforum's strength (how much of the previous frame is kept).
Every continuation shares `overlap` model frames with the previous clip (plan.CONTINUATION_OVERLAP
by default: the conditioning frame itself), which the assembly drops or cross-fades.
"""

from __future__ import annotations

import numpy as np

from wan.core.plan import Clip
from wan.core.tasks import AS_FIRST_IMAGE, AS_KNOWN_FRAMES, task_of
from wan.render.camera_guide import CameraGuide, camera_guide
from wan.render.deforum_warp import warp_settings_of
from wan.render.generate import ClipRequest
from wan.render.job import RenderJob


def first_request(job: RenderJob, clip: Clip, init_image: np.ndarray | None) -> ClipRequest:
    """The first clip: from text, or from the init image the way the task continues a clip."""
    base = _base(job, clip)
    if init_image is None:
        return ClipRequest(mode="t2v", **base)
    how = task_of(job.task).continues_by
    if how == AS_FIRST_IMAGE:
        return ClipRequest(mode="i2v", image=init_image, **base)
    if how == AS_KNOWN_FRAMES:
        return ClipRequest(mode="vace", known_frames=init_image[None], **base)
    # a text-only model starts from the init image carried along the clip's camera path
    video = clip_guide(job, clip, init_image).frames
    return ClipRequest(mode="v2v", init_video=video, strength=_denoise(clip), **base)


def continue_request(
    job: RenderJob, clip: Clip, previous: np.ndarray, reference: np.ndarray | None
) -> ClipRequest:
    """The request for a clip after the first; `previous` is the previous clip's frames."""
    base = _base(job, clip)
    how = task_of(job.task).continues_by
    if how == AS_FIRST_IMAGE:
        return ClipRequest(mode="i2v", image=previous[-1], **base)
    if how == AS_KNOWN_FRAMES:
        known = previous[-max(clip.overlap, 1) :]
        return ClipRequest(mode="vace", known_frames=known, reference_image=reference, **base)
    video = clip_guide(job, clip, previous[-1]).frames
    return ClipRequest(mode="v2v", init_video=video, strength=_denoise(clip), **base)


def clip_guide(
    job: RenderJob, clip: Clip, source: np.ndarray, depth: np.ndarray | None = None
) -> CameraGuide:
    """`source` (a frame at the render's size) carried along `clip`'s camera path: Deforum's
    warp of each model frame, composed from the source (`depth`: its depth map, 3D only)."""
    return camera_guide(
        source,
        job.schedules,
        warp_settings_of(job.settings),
        clip.start_frame,
        clip.num_frames,
        job.settings.fps,
        job.plan.model_fps,
        depth,
    )


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
