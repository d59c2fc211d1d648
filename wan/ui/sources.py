"""Where the Generate tab's Deforum settings come from: an upload, pasted JSON, a recent run.

Recent runs are the `<timestring>_settings.txt` files Deforum writes beside a run's frames in
the host's img2img outputs (`outputs/img2img-images/<batch>/`). A run is offered by its path
relative to that folder, which names the batch and the time and is the same text on every
gradio version. A Parseq manifest the settings name by URL is downloaded as they are read
(`wan.render.fetch.load_fetching`); an init image URL when the render is queued.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wan.core.deforum.settings import DeforumSettings
from wan.errors import SettingsError
from wan.render.fetch import load_fetching

SOURCE_FILE = "Upload a settings file"
SOURCE_JSON = "Paste JSON"
SOURCE_RUN = "Recent Deforum run"
SOURCES = (SOURCE_FILE, SOURCE_JSON, SOURCE_RUN)
RUNS_FOLDER = "img2img-images"
RECENT_LIMIT = 30
PASTED = "pasted JSON"  # the job name and plot title of pasted settings (not "<...>": markdown)


@dataclass(frozen=True)
class Source:
    """The settings to plan or render, and the name a job is listed under."""

    settings: DeforumSettings
    name: str
    run: bool = False  # a recent Deforum run: its frames lie beside its settings file

    @property
    def job_name(self) -> str:
        """The name its job is queued under: a run's settings path (the worker reads the run's
        frames beside it: init frame, re-render), else `name`."""
        return self.settings.source if self.run else self.name

    def options(self, values: dict[str, Any]) -> dict[str, Any]:
        """The tab's field values with the run-only fields cleared for other sources."""
        if self.run:
            return values
        return {**values, "init_frame": None, "guide_from": None}

    def raw(self) -> dict[str, Any]:
        """The settings as given (unknown keys kept), for the job queue."""
        return dict(self.settings.raw)


def runs_root(output_root: Path) -> Path:
    return Path(output_root) / RUNS_FOLDER


def recent_runs(output_root: Path, limit: int = RECENT_LIMIT) -> list[str]:
    """Settings files of the newest Deforum runs (newest first), relative to the runs folder."""
    root = runs_root(output_root)
    if not root.is_dir():
        return []
    found = []
    for folder in root.iterdir():
        if folder.is_dir():
            for settings in folder.glob("*_settings.txt"):
                try:
                    found.append((settings.stat().st_mtime, settings))
                except OSError:
                    continue
    found.sort(key=lambda item: (item[0], str(item[1])), reverse=True)
    return [settings.relative_to(root).as_posix() for _, settings in found[:limit]]


def load_source(
    kind: str, upload: str | None, pasted: str | None, run: str | None, output_root: Path
) -> Source:
    """The chosen source read and validated; SettingsError says what to fix."""
    if kind == SOURCE_JSON:
        return Source(load_fetching(parse_pasted(pasted)), PASTED)
    if kind == SOURCE_RUN:
        path = run_settings_path(run, output_root)
        return Source(load_fetching(str(path)), f"{path.parent.name}/{path.name}", run=True)
    if kind != SOURCE_FILE:
        raise SettingsError(f"source {kind!r}: choose one of {', '.join(SOURCES)}")
    if not upload:
        raise SettingsError(
            "no settings file uploaded: drop a Deforum settings .txt/.json on the upload box, "
            "or choose another source"
        )
    settings = load_fetching(upload)
    return Source(settings, Path(upload).name)


def parse_pasted(text: str | None) -> dict[str, Any]:
    if not text or not text.strip():
        raise SettingsError(
            "the JSON box is empty: paste the contents of a Deforum settings file, "
            "or choose another source"
        )
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SettingsError(
            f"pasted settings: invalid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg})"
        ) from None
    if not isinstance(data, dict):
        raise SettingsError(
            f"pasted settings: expected a JSON object {{...}}, not {type(data).__name__}"
        )
    return data


def run_settings_path(run: str | None, output_root: Path) -> Path:
    """A recent run's settings file, only inside the runs folder."""
    if not run:
        raise SettingsError("no recent run chosen: pick one in the list, or choose another source")
    root = runs_root(output_root).resolve()
    path = (root / run).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise SettingsError(
            f"{run}: not a settings file in {root}; press the refresh button to list the runs again"
        )
    return path


def settings_text(settings: dict[str, Any]) -> str:
    """Settings as the JSON box shows them."""
    return json.dumps(settings, indent=2, ensure_ascii=False)
