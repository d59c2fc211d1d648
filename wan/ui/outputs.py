"""The Outputs tab's data: rendered videos, their metadata, and the settings and options that
made them (to load back into Generate).

The videos are those of every run folder the job queue knows (a CLI render's `--out` folder
included, wherever it is) and of the run folders under the output root (`wan-videos/*` and any
`*/*` holding a video.mp4, such as `make demo`'s `outputs/demo/run`), one entry per folder.

A run folder holds `video.mp4`, `metadata.json` (options, model, size, timings, and per clip
the camera requested and measured with its adherence figure), `adherence.png` and
`deforum_settings.json` (wan.render.run_folder). The gallery shows each video's first frame,
saved once as a PNG in the extension's data folder.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wan.errors import RenderError, SettingsError
from wan.paths import data_dir

log = logging.getLogger(__name__)

VIDEOS_FOLDER = "wan-videos"
VIDEO_NAME = "video.mp4"
GALLERY_LIMIT = 60
# Where a run folder can lie under the output root (depth 1 and 2: wan-videos/<run>, demo/run).
ROOT_PATTERNS = (f"*/{VIDEO_NAME}", f"*/*/{VIDEO_NAME}")


@dataclass(frozen=True)
class RenderedRun:
    folder: Path
    video: Path
    metadata: dict[str, Any]
    origin: str = ""  # "job <id> (<status>)" for a queue job's run, "" for a folder found on disk

    @property
    def caption(self) -> str:
        meta = self.metadata
        model = (meta.get("model") or {}).get("catalog_id") or Path(
            str((meta.get("model") or {}).get("path") or "?")
        ).name
        parts = [self.folder.name, model]
        if meta.get("size"):
            parts.append("x".join(str(v) for v in meta["size"]))
        video = meta.get("video") or {}
        if video.get("frames"):
            parts.append(f"{video['frames']} frames at {video.get('fps', 0):g} fps")
        if self.origin:
            parts.append(self.origin)
        return " · ".join(parts)

    def summary(self) -> dict[str, Any]:
        """What the tab shows beside the video."""
        meta = self.metadata
        return {
            "folder": str(self.folder),
            "origin": self.origin or "output folder",
            "model": meta.get("model"),
            "size": meta.get("size"),
            "video": meta.get("video"),
            "options": meta.get("options"),
            "timings": meta.get("timings"),
            "prompts": [c.get("prompt_used") for c in meta.get("clips") or ()],
            "camera_adherence": self.adherence(),
            "warnings": meta.get("warnings") or [],
        }

    def adherence(self) -> list[dict[str, Any]]:
        """Each clip's camera adherence figure (wan.render.adherence.Adherence), by clip."""
        figures = []
        for clip in self.metadata.get("clips") or ():
            camera = clip.get("camera") if isinstance(clip, dict) else None
            if isinstance(camera, dict) and isinstance(camera.get("adherence"), dict):
                figures.append({"clip": clip.get("index"), **camera["adherence"]})
        return figures

    @property
    def adherence_plot(self) -> Path | None:
        """The run's adherence.png, when it has one (runs before it was drawn do not)."""
        from wan.render.run_folder import ADHERENCE_PLOT

        path = self.folder / ADHERENCE_PLOT
        return path if path.is_file() else None

    def adherence_text(self) -> str:
        """Markdown: each clip's camera adherence in one table row, with what the columns mean."""
        figures = self.adherence()
        if not figures:
            return "No camera adherence recorded for this run."
        rows = [
            "| clip | error (px / frame) | motion asked (px / frame) | score | frames measured |",
            "|---:|---:|---:|---:|---:|",
        ]
        for f in figures:
            error = "not measurable" if f.get("error_px") is None else _num(f["error_px"])
            measured = f"{f.get('frames', 0)} of {f.get('frames', 0) + f.get('excluded', 0)}"
            cells = [
                str(f["clip"]),
                error,
                _num(f.get("motion_px")),
                _num(f.get("score")),
                measured,
            ]
            rows.append(f"| {' | '.join(cells)} |")
        note = (
            "Error: how far, on average, the measured camera puts the picture from where the "
            "schedules ask, per model frame; score 1 follows the camera exactly, 0 is off by "
            "as much as the move itself."
        )
        return "\n".join([*rows, "", note])


def _num(value: Any) -> str:
    return "-" if value is None else f"{float(value):.2f}"


def rendered_runs(
    output_root: Path, jobs: Iterable[Any] = (), limit: int = GALLERY_LIMIT
) -> list[RenderedRun]:
    """Finished runs (folders holding a video), newest first, one per folder (by resolved path):
    the run folders of `jobs` (wan.jobs.Job, any status, as long as the video is there) and
    those under `output_root`. A folder that no longer exists is left out."""
    found: dict[Path, tuple[float, Path, str]] = {}

    def add(video: Path, origin: str) -> None:
        try:
            key = video.parent.resolve()
            mtime = video.stat().st_mtime
        except OSError:
            return
        if video.is_file() and key not in found:
            found[key] = (mtime, video, origin)

    for job in jobs:
        video = _job_video(job)
        if video is not None:
            add(video, f"job {job.id} ({job.status})")
    root = Path(output_root)
    if root.is_dir():
        for pattern in ROOT_PATTERNS:
            for video in root.glob(pattern):
                add(video, "")
    ordered = sorted(found.values(), key=lambda item: (item[0], str(item[1])), reverse=True)
    return [run_at(video.parent, origin, video) for _, video, origin in ordered[:limit]]


def _job_video(job: Any) -> Path | None:
    """A job's video: the one it recorded, else `video.mp4` in its run folder; None if neither."""
    for candidate in (job.video, Path(job.run_dir) / VIDEO_NAME if job.run_dir else None):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def run_at(folder: Path, origin: str = "", video: Path | None = None) -> RenderedRun:
    """The run in `folder` (its video.mp4 unless `video` names another file)."""
    folder = Path(folder)
    return RenderedRun(
        folder, video or folder / VIDEO_NAME, read_json(folder / "metadata.json"), origin
    )


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from a file; {} when it is missing or unreadable (logged)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.debug("cannot read %s: %s", path, exc)
        return {}
    return data if isinstance(data, dict) else {}


def thumbnail(run: RenderedRun, folder: Path | None = None) -> Path | None:
    """The first frame of the run's video as a PNG, made once; None if it cannot be read."""
    from PIL import Image

    from wan.render.video import read_video_frames

    stamp = int(run.video.stat().st_mtime)
    # run folders of the same name in different places (two `--out .../run`) get their own
    where = hashlib.sha256(str(run.video.resolve()).encode()).hexdigest()[:8]
    target = (folder or data_dir() / "thumbnails") / f"{run.folder.name}-{where}-{stamp}.png"
    if target.is_file():
        return target
    try:
        frame = next(iter(read_video_frames(run.video)))
    except (RenderError, StopIteration) as exc:
        log.warning("no thumbnail for %s: %s", run.video, exc)
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(frame).save(target)
    return target


def run_request(folder: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The Deforum settings and render options a run was made with."""
    settings = read_json(folder / "deforum_settings.json")
    if not settings:
        raise SettingsError(f"{folder}: no deforum_settings.json, so its settings cannot be loaded")
    options = read_json(folder / "metadata.json").get("options")
    if not isinstance(options, dict):
        options = _options_from_plan(read_json(folder / "plan.json"))
    return settings, options


def _options_from_plan(plan: dict[str, Any]) -> dict[str, Any]:
    """What plan.json records of the options, for a run that never wrote its metadata."""
    options: dict[str, Any] = {}
    model = plan.get("model")
    if isinstance(model, dict) and model.get("id"):
        options["model"] = model["id"]
    if plan.get("size"):
        options["size"] = "x".join(str(v) for v in plan["size"])
    for key in ("steps", "guidance", "seed"):
        if plan.get(key) is not None:
            options[key] = plan[key]
    return options
