"""Checkpoints in a run folder, so that a crash, a cancel or a full disk never loses work.

Layout of a run folder (the parts this module owns):
- ``run.json``: the run's state (status, hashes of what made the render); `write_run_state`.
- ``clips/clip_0003.npz``: a finished clip's uint8 frames (T, H, W, 3), lossless (np.savez,
  loaded with ``allow_pickle=False``).
- ``clips/clip_0003.json``: the clip's meta plus the npz's sha256, byte size and shape.
- ``clips/clip_0003.mp4``: an optional preview for the user (`clip_preview`).

Every file is written under a temporary name, fsynced and renamed over its real name
(``os.replace``); the npz goes first and the JSON last. So a clip counts as finished only when
its JSON exists and matches its npz: a crash at any point leaves either the old clip or an
unfinished one that is rendered again, never frames that load wrong.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any, NamedTuple

import numpy as np

from wan.errors import CheckpointError, RenderError
from wan.paths import new_file_mode

log = logging.getLogger(__name__)

CLIPS_DIR = "clips"
RUN_STATE = "run.json"
RUN_STATUSES = ("running", "cancelled", "failed", "done")
CLIP_FORMAT = 1  # version of the clip JSON record
_CLIP_JSON = re.compile(r"^clip_(\d{4,})\.json$")


class ClipScan(NamedTuple):
    """Finished clips 0..n-1 (contiguous) and what stopped the list or was found damaged."""

    finished: list[int]
    warnings: list[str]


def clip_paths(run_dir: str | Path, index: int) -> tuple[Path, Path]:
    """(npz, json) of clip `index`."""
    clips = Path(run_dir) / CLIPS_DIR
    return clips / f"clip_{index:04d}.npz", clips / f"clip_{index:04d}.json"


def save_clip(run_dir: str | Path, index: int, frames: np.ndarray, meta: Mapping[str, Any]) -> Path:
    """Save a finished clip's frames and meta atomically; returns the npz path.

    Meta values JSON cannot hold are stored as text rather than failing: a generated clip is
    worth more than an exact record.
    """
    if index < 0:
        raise ValueError(f"clip index {index}: must be >= 0")
    frames = np.asarray(frames)
    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3 or not len(frames):
        raise ValueError(
            f"clip {index}: expected uint8 frames (T, H, W, 3), got {frames.dtype} {frames.shape}"
        )
    npz, record_path = clip_paths(run_dir, index)
    try:
        npz.parent.mkdir(parents=True, exist_ok=True)
        for stale in npz.parent.glob(f".clip_{index:04d}.*.tmp"):  # from a crash while saving
            stale.unlink()
        # Replacing a clip: it stops counting as finished before its frames change.
        record_path.unlink(missing_ok=True)
        _atomic_write(npz, lambda handle: np.savez(handle, frames=frames))
        digest, size = _file_digest(npz)
        record = {
            "format": CLIP_FORMAT,
            "index": index,
            "frames": int(frames.shape[0]),
            "shape": list(frames.shape),
            "npz": npz.name,
            "npz_bytes": size,
            "sha256": digest,
            "meta": dict(meta),
        }
        atomic_write_bytes(record_path, json.dumps(record, indent=2, default=str).encode())
    except OSError as exc:
        raise RenderError(
            f"clip {index} could not be saved to {npz.parent} ({exc.strerror or exc}); "
            "the clips saved before it are kept: free disk space and resume the render"
        ) from None
    log.debug("saved clip %d: %d frames in %s", index, len(frames), npz)
    return npz


def load_clip(run_dir: str | Path, index: int) -> tuple[np.ndarray, dict[str, Any]]:
    """A finished clip's frames and meta, verified against its record (sha256, shape)."""
    npz, _ = clip_paths(run_dir, index)
    record = _read_record(run_dir, index)
    _verify_npz(npz, record, index, full=True)
    try:
        with np.load(npz, allow_pickle=False) as data:
            frames = data["frames"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise _damaged(npz, index, f"cannot be read ({exc})") from None
    if frames.dtype != np.uint8 or list(frames.shape) != record["shape"]:
        raise _damaged(npz, index, f"holds {frames.dtype} {frames.shape}, not {record['shape']}")
    return frames, record["meta"]


def finished_clips(run_dir: str | Path, verify: bool = True) -> ClipScan:
    """Clips 0..n-1 that are finished and intact; the first missing or damaged one ends the list.

    `verify` checks every npz's sha256 (reads them all); without it only sizes are compared.
    Damaged clips, a clip interrupted while saving and clips after a gap are reported in
    `warnings` (and logged): they are rendered again.
    """
    finished: list[int] = []
    warnings: list[str] = []
    index = 0
    while True:
        npz, record_path = clip_paths(run_dir, index)
        if not record_path.exists():
            if npz.exists():
                warnings.append(
                    f"{npz}: saving clip {index} was interrupted (no {record_path.name}); "
                    "it is rendered again"
                )
            break
        try:
            _verify_npz(npz, _read_record(run_dir, index), index, full=verify)
        except CheckpointError as exc:
            warnings.append(str(exc))
            break
        finished.append(index)
        index += 1
    later = [i for i in _saved_indices(run_dir) if i > index]
    if later:
        warnings.append(
            f"clips {', '.join(map(str, later))} in {Path(run_dir) / CLIPS_DIR} follow clip "
            f"{index}, which is not finished: they are rendered again"
        )
    for warning in warnings:
        log.warning("%s", warning)
    return ClipScan(finished, warnings)


def clip_preview(run_dir: str | Path, index: int, fps: float | None = None) -> Path:
    """An mp4 of a finished clip (``clips/clip_0003.mp4``) for the user to look at.

    `fps` defaults to the clip meta's ``fps``; the frames are model frames, so the model's fps.
    """
    from wan.render.video import write_video  # ffmpeg only when a preview is asked for

    frames, meta = load_clip(run_dir, index)
    rate = fps if fps is not None else meta.get("fps")
    if not rate:
        raise ValueError(f"clip {index}: its meta has no fps; pass fps (the model's fps)")
    npz, _ = clip_paths(run_dir, index)
    return write_video(frames, npz.with_suffix(".mp4"), float(rate), keep_frames=False).path


def write_run_state(run_dir: str | Path, state: Mapping[str, Any]) -> Path:
    """Write ``run.json`` atomically; `state["status"]` is one of RUN_STATUSES."""
    status = state.get("status")
    if status not in RUN_STATUSES:
        raise ValueError(f"run status {status!r}: must be one of {', '.join(RUN_STATUSES)}")
    path = Path(run_dir) / RUN_STATE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, json.dumps(dict(state), indent=2, default=str).encode())
    except OSError as exc:
        raise RenderError(
            f"{path} could not be written ({exc.strerror or exc}); free disk space or choose "
            "another output folder"
        ) from None
    return path


def read_run_state(run_dir: str | Path) -> dict[str, Any] | None:
    """The state in ``run.json``, or None when the folder holds no run."""
    path = Path(run_dir) / RUN_STATE
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:  # ValueError: bad JSON or bad UTF-8
        raise RenderError(
            f"{path} cannot be read ({exc}); the clips in {path.parent / CLIPS_DIR} are intact, "
            "but without it the render cannot be checked: render into a new folder"
        ) from None
    if not isinstance(state, dict):
        raise RenderError(f"{path} is not a run state (a JSON object); render into a new folder")
    return state


def compare_hashes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Names of the parts (plan, options, model, loras...) whose hashes differ.

    A part present on one side only counts as changed. Order: `new`'s, then parts only in `old`.
    """
    names = [*new, *(name for name in old if name not in new)]
    return [name for name in names if old.get(name) != new.get(name)]


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write `data` to `path` so that `path` holds either the old or the complete new content."""
    _atomic_write(Path(path), lambda handle: handle.write(data))


def _atomic_write(path: Path, write: Callable[[IO[bytes]], object]) -> None:
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    temporary = Path(name)
    try:
        os.chmod(temporary, new_file_mode())  # as a plain open() would, not mkstemp's 0o600
        with os.fdopen(handle, "wb") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (POSIX; Windows cannot open folders, nor needs to)."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _file_digest(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _damaged(path: Path, index: int, why: str) -> CheckpointError:
    return CheckpointError(
        f"{path}: clip {index} {why}; it is rendered again on resume (or delete "
        f"clip_{index:04d}.npz and clip_{index:04d}.json)"
    )


def _read_record(run_dir: str | Path, index: int) -> dict[str, Any]:
    _, path = clip_paths(run_dir, index)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CheckpointError(f"{path}: clip {index} is not finished (no record)") from None
    except (OSError, ValueError) as exc:
        raise _damaged(path, index, f"record cannot be read ({exc})") from None
    expected = {"index": int, "shape": list, "npz_bytes": int, "sha256": str, "meta": dict}
    if not isinstance(record, dict) or any(
        not isinstance(record.get(key), kind) for key, kind in expected.items()
    ):
        raise _damaged(path, index, "record is incomplete")
    if record["index"] != index:
        raise _damaged(path, index, f"record is for clip {record['index']}")
    return record


def _verify_npz(npz: Path, record: Mapping[str, Any], index: int, full: bool) -> None:
    try:
        size = npz.stat().st_size
    except FileNotFoundError:
        raise _damaged(npz, index, "frames are missing") from None
    if size != record["npz_bytes"]:
        raise _damaged(npz, index, f"has {size} bytes, its record says {record['npz_bytes']}")
    if full and _file_digest(npz)[0] != record["sha256"]:
        raise _damaged(npz, index, "does not match the checksum in its record")


def _saved_indices(run_dir: str | Path) -> list[int]:
    folder = Path(run_dir) / CLIPS_DIR
    if not folder.is_dir():
        return []
    found = (_CLIP_JSON.match(entry.name) for entry in folder.iterdir())
    return sorted(int(match.group(1)) for match in found if match)
