"""The run folder: its name, the refusal to mix two different renders, and what it records.

`<output root>/wan-videos/<YYYYMMDD-HHMMSS>-<first 8 of the render hash>` by default, or the
folder given with --out. It holds plan.json, deforum_settings.json (to repeat the run), run.json
(status and hash parts), clips/, video.mp4, metadata.json, prompts.srt and adherence.png (each
clip's requested camera motion against the motion measured on its frames, wan.render.adherence;
each clip's metadata holds the numbers under `camera`, so a resumed render keeps them).
"""

from __future__ import annotations

import json
import logging
import os
import platform
import time
from collections.abc import Callable
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from wan import __version__
from wan.core.deforum.settings import DeforumSettings
from wan.core.plan import Clip
from wan.errors import RenderError
from wan.models.system import package_versions, peak_rss_bytes, peak_vram_bytes
from wan.options.render_options import options_to_dict
from wan.render.checkpoints import compare_hashes, read_run_state, write_run_state
from wan.render.job import RenderJob

log = logging.getLogger(__name__)
ADHERENCE_PLOT = "adherence.png"

# Told the run folder's absolute path once `open_run` has made it (the job queue records it on
# the job's row, so a killed render's job is found again by its folder); a context variable, so
# each thread (the queue's worker, the CLI) hears only its own render.
folder_opened: ContextVar[Callable[[Path], None] | None] = ContextVar(
    "wan_run_folder_opened", default=None
)


def default_run_dir(output_root: Path, job: RenderJob) -> Path:
    return output_root / "wan-videos" / f"{time.strftime('%Y%m%d-%H%M%S')}-{job.hash[:8]}"


def latest_run_dir(output_root: Path, job: RenderJob) -> Path | None:
    """The newest default-named run folder of this very render (same hash), for --resume."""
    found = sorted((output_root / "wan-videos").glob(f"*-{job.hash[:8]}"))
    return found[-1] if found else None


def open_run(job: RenderJob, output_root: Path, run_dir: Path | None, resume: bool) -> Path:
    """Create or reopen the run folder; refuse to continue a render with different inputs."""
    if run_dir is None and resume:
        run_dir = latest_run_dir(output_root, job)
    folder = Path(run_dir) if run_dir is not None else default_run_dir(output_root, job)
    state = read_run_state(folder) if folder.exists() else None
    if state is not None:
        changed = compare_hashes(state.get("hash_parts", {}), job.hash_parts())
        if changed:
            raise RenderError(
                f"{folder} holds a different render (changed: {', '.join(changed)}); "
                "use another --out folder, or render with the same settings and options"
            )
        log.info("continuing the render in %s", folder)
    elif resume:
        raise RenderError(
            f"--resume: {folder} holds no render to resume; give its folder with --out"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RenderError(f"cannot create the run folder {folder}: {exc.strerror or exc}") from None
    _write_json(folder / "plan.json", plan_record(job))
    _write_json(folder / "deforum_settings.json", dict(job.settings.raw))
    write_state(folder, job, "running")
    notify = folder_opened.get()
    if notify is not None:
        notify(folder.absolute())
    return folder


def plan_record(job: RenderJob) -> dict[str, Any]:
    return {
        **job.plan.to_dict(),
        "render_hash": job.hash,
        "size": [job.width, job.height],
        "size_reason": job.size_reason,
        "steps": job.steps,
        "guidance": job.guidance,
        "guidance_2": job.guidance_2,
        "flow_shift": job.flow_shift,
    }


def write_state(folder: Path, job: RenderJob, status: str) -> None:
    write_run_state(
        folder,
        {
            "status": status,
            "hash": job.hash,
            "hash_parts": job.hash_parts(),
            "updated": time.time(),
        },
    )


def clip_metadata(
    job: RenderJob, clip: Clip, request, result, seconds: float, camera: dict | None = None
) -> dict[str, Any]:
    """A clip's record, saved with its checkpoint; `camera`: wan.render.adherence.clip_camera."""
    prompt = job.prompts[clip.index]
    return {
        "index": clip.index,
        "mode": request.mode,
        "prompt_given": prompt.given,
        "prompt_enhanced": prompt.enhanced,
        "prompt_used": prompt.used,
        "prompt_override": prompt.override,
        "negative_prompt": prompt.negative,
        "seed": clip.seed,
        "steps": request.steps,
        "guidance": request.guidance,
        "guidance_2": request.guidance_2,
        "strength": result.strength,
        "num_frames": request.num_frames,
        "seconds": round(seconds, 3),
        "notes": list(result.notes),
        "camera": camera,
        "camera_follow": _camera_follow(request, result),
    }


def _camera_follow(request, result) -> dict[str, Any]:
    """How the clip followed the camera (as the plan's `camera_follow` says it would): from text
    (no source frame), the guide's clocks (fractions and the step indices used), or the words
    alone (an init video for text-only models in words mode)."""
    if request.guide is None and request.mode == "t2v":
        return {"mode": "text"}  # nothing but the prompt: no source frame
    if request.guide is None:
        return {"mode": "words", "init_video": request.init_video is not None}
    return {
        "mode": "guide",
        "weak": request.camera_weak,
        "strong": request.camera_strong,
        "steps": list(result.guided_steps) if result.guided_steps else None,
    }


def soundtrack(settings: DeforumSettings) -> str | None:
    """Deforum's soundtrack file when set to 'File'. A URL was downloaded when the job was queued
    by the CLI or the tab (`wan.render.fetch`); one still here is not fetched: video.py warns."""
    if settings.add_soundtrack == "File" and settings.soundtrack_path:
        return settings.soundtrack_path
    return None


def write_metadata(folder, job: RenderJob, session, clips, timings, video) -> None:
    match = job.detection.match([job.entry]) if job.entry is not None else None
    data = {
        "wan_deforum": __version__,
        "python": platform.python_version(),
        "versions": package_versions(),
        "render_hash": job.hash,
        "hash_parts": job.hash_parts(),
        "model": {
            "path": str(job.model_path),
            "catalog_id": job.entry.id if job.entry else None,
            "match": match.to_dict() if match else None,
            "revision": job.model_revision,
            "smoke": bool(job.entry and job.entry.smoke),
            "task": job.task,
        },
        "options": options_to_dict(job.options),
        "size": [job.width, job.height],
        "size_reason": job.size_reason,
        "loras": [
            {"path": str(p), "strength": s, "sha256": h}
            for (p, s), h in zip(job.loras, job.lora_hashes, strict=True)
        ],
        "session": session.metadata() if session is not None else None,
        "clips": clips,
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "peak_ram": peak_rss_bytes(),
        "peak_vram": peak_vram_bytes(),
        "video": {
            "path": str(video.path),
            "frames": video.frames,
            "fps": video.fps,
            "audio": video.audio,
        },
        "warnings": list(job.warnings) + list(video.warnings),
    }
    _write_json(folder / "metadata.json", data)


def write_adherence(folder: Path, job: RenderJob, clips) -> Path | None:
    """adherence.png from the clips' camera records (None when no clip has one, as in a run
    resumed from clips made before they were recorded); a picture that cannot be written is a
    warning in the log, never a failed render."""
    from wan.render.adherence import run_timeline
    from wan.render.camera_plot import plot_adherence

    timeline = run_timeline(job.plan, clips)
    if timeline is None:
        return None
    width, height = timeline.size
    title = (
        f"Camera adherence: {folder.name}, {job.settings.mode}, {width}x{height} "
        f"at {job.plan.model_fps:g} fps (model), video at {job.plan.fps:g} fps"
    )
    try:
        return plot_adherence(timeline, folder / ADHERENCE_PLOT, title=title)
    except OSError as exc:
        log.warning("cannot write %s: %s", folder / ADHERENCE_PLOT, exc.strerror or exc)
        return None


def _write_json(path: Path, data: Any) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(data, indent=2, default=str))
    os.replace(temporary, path)
