"""The Outputs tab's data: rendered videos under `<output root>/wan-videos/`, their metadata, and
the settings and options that made them (to load back into Generate).

A run folder holds `video.mp4`, `metadata.json` (options, model, size, timings) and
`deforum_settings.json` (wan.render.run_folder). The gallery shows each video's first frame,
saved once as a PNG in the extension's data folder.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wan.errors import RenderError, SettingsError
from wan.paths import data_dir

log = logging.getLogger(__name__)

VIDEOS_FOLDER = "wan-videos"
GALLERY_LIMIT = 60


@dataclass(frozen=True)
class RenderedRun:
    folder: Path
    video: Path
    metadata: dict[str, Any]

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
        return " · ".join(parts)

    def summary(self) -> dict[str, Any]:
        """What the tab shows beside the video."""
        meta = self.metadata
        return {
            "folder": str(self.folder),
            "model": meta.get("model"),
            "size": meta.get("size"),
            "video": meta.get("video"),
            "options": meta.get("options"),
            "timings": meta.get("timings"),
            "prompts": [c.get("prompt_used") for c in meta.get("clips") or ()],
            "warnings": meta.get("warnings") or [],
        }


def rendered_runs(output_root: Path, limit: int = GALLERY_LIMIT) -> list[RenderedRun]:
    """Finished runs (those with a video), newest first."""
    root = Path(output_root) / VIDEOS_FOLDER
    if not root.is_dir():
        return []
    found = []
    for video in root.glob("*/video.mp4"):
        try:
            found.append((video.stat().st_mtime, video))
        except OSError:
            continue
    found.sort(key=lambda item: (item[0], str(item[1])), reverse=True)
    return [RenderedRun(v.parent, v, read_json(v.parent / "metadata.json")) for _, v in found][
        :limit
    ]


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
    target = (folder or data_dir() / "thumbnails") / f"{run.folder.name}-{stamp}.png"
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
