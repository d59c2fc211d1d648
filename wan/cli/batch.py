"""Several settings files in one command (`render A.json B.json`, `render FOLDER`): which files.

A folder is one of two things, told apart by what is in it:
- a Deforum run folder (`outputs/img2img-images/<batch>`): Deforum's frames (.png/.jpg/.jpeg/.webp)
  beside its `<timestring>_settings.txt`: ONE animation, its newest settings file (as
  `wan.core.deforum.settings.find_run_settings` reads it);
- any other folder (no images in it): a folder of settings files, each `.txt` / `.json` directly
  in it one animation, in name order. A file in it that is not Deforum settings is an error
  naming it, before anything is queued.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from wan.errors import SettingsError

FRAME_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
SETTINGS_SUFFIXES = (".txt", ".json")


def is_run_folder(folder: Path) -> bool:
    """A Deforum run folder: frames beside the settings (see the module docstring)."""
    return any(p.suffix.lower() in FRAME_SUFFIXES for p in folder.iterdir() if p.is_file())


def settings_sources(paths: Sequence[str]) -> list[str]:
    """Each settings file or run folder the arguments name, a folder of settings files
    expanded into its files (name order)."""
    sources: list[str] = []
    for given in paths:
        path = Path(given)
        if not path.is_dir() or is_run_folder(path):
            sources.append(given)
            continue
        files = sorted(
            p for p in path.iterdir() if p.is_file() and p.suffix.lower() in SETTINGS_SUFFIXES
        )
        if not files:
            raise SettingsError(
                f"{path}: neither a Deforum run folder (no frames in it) nor a folder of "
                "settings files (no .txt or .json in it); give a settings file, a run folder or "
                "a folder of settings files"
            )
        sources += [str(p) for p in files]
    return sources
