"""Enhanced prompts on disk, so that no request is ever computed twice.

A Qwen answer costs seconds of GPU time and a model load; the same clip prompt comes back on
every re-render, resume and preview. The key is the sha256 of the canonical JSON of everything
that changes the answer (model id and revision, instruction version, prompt, motion, language,
style, decoding settings): change any of them and the key changes, so an old entry is simply
never hit again. That is the whole invalidation scheme; `prune` deletes what is no longer wanted.

Storage: one JSON file per entry, `<folder>/<key[:2]>/<key>.json`, holding the key, the parts
and the text. A human can read and delete entries, concurrent renders need no lock (each write
is a temporary file in the same folder then `os.replace`, so readers see the old file or the new
one, never half of one), and damage stays limited to one entry. sqlite was rejected: a locked or
corrupt database file loses every entry at once, and it is not readable without tools.

A corrupt entry (unreadable, bad JSON, another key or parts that do not hash to the key) is
deleted with a warning and counts as a miss, never an error: the next `put` writes it again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

ENV_CACHE_DIR = "WAN_CACHE_DIR"
FORMAT = 1  # of the entry files; part of every key, so a new format starts a fresh cache
VERSION_PART = "instruction"  # the part `prune` reads (as wan.prompting.enhance names it)
_KEY = re.compile(r"^[0-9a-f]{64}$")
_TEMP_SUFFIX = ".tmp"
_STALE_TEMP_SECONDS = 3600.0  # a temporary file this old was left by a crashed writer
_REMEMBERED = 4096  # parts of the most recent keys, so put(key, text) can store them


def default_cache_dir() -> Path:
    """$WAN_CACHE_DIR/prompts, else ~/.cache/wan-deforum/prompts."""
    env = os.environ.get(ENV_CACHE_DIR, "").strip()
    root = Path(env).expanduser() if env else Path.home() / ".cache" / "wan-deforum"
    return root / "prompts"


def canonical_json(parts: Mapping[str, object]) -> str:
    """One text for equal parts: sorted keys, no spaces, tuples as lists, sets sorted.

    Values that are not JSON (a Path, say) are written as str(). Reading the text back and
    writing it again gives the same text, which lets `get` check an entry against its key.
    """
    return json.dumps(
        dict(parts), sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_jsonable
    )


def cache_key(parts: Mapping[str, object]) -> str:
    """sha256 (hex) of the canonical JSON of everything that changes the answer."""
    if not isinstance(parts, Mapping):
        raise TypeError(f"cache key parts must be a mapping, got {type(parts).__name__}")
    text = canonical_json(parts)
    key = _digest(text)
    _remember(key, text)
    return key


def _digest(canonical: str) -> str:
    return hashlib.sha256(f"wan-deforum prompt cache {FORMAT}\n{canonical}".encode()).hexdigest()


class PromptCache:
    """Enhanced prompts by key in `folder` (created on the first `put`)."""

    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder).expanduser()

    def path(self, key: str) -> Path:
        """The entry file of `key`; the key must be a cache_key (64 lower-case hex digits)."""
        if not isinstance(key, str) or not _KEY.match(key):
            raise ValueError(f"{key!r} is not a prompt cache key (64 lower-case hex digits)")
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str) -> str | None:
        """The text stored for `key`, or None (a miss, or a corrupt entry now deleted)."""
        path = self.path(key)
        try:
            raw = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("prompt cache entry %s cannot be read (%s); treated as a miss", path, exc)
            return None
        except UnicodeDecodeError:
            raw = None
        problem = _problem(raw, key)
        if problem:
            log.warning("prompt cache entry %s is discarded: %s", path, problem)
            _unlink(path)
            return None
        return json.loads(raw)["text"]  # type: ignore[arg-type]

    def put(self, key: str, text: str, parts: Mapping[str, object] | None = None) -> None:
        """Store `text` for `key`, atomically; `parts` default to those cache_key last saw.

        Raises OSError when the folder cannot be written (no temporary file is left behind).
        """
        path = self.path(key)
        if not isinstance(text, str):
            raise TypeError(f"a cached prompt must be text, got {type(text).__name__}")
        if parts is not None and cache_key(parts) != key:
            raise ValueError(f"the parts given do not hash to the key {key}")
        known = canonical_json(parts) if parts is not None else _RECENT_PARTS.get(key)
        entry: dict[str, Any] = {"format": FORMAT, "key": key}
        if known is not None:
            entry["parts"] = json.loads(known)
        entry["text"] = text
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_atomic(path, json.dumps(entry, ensure_ascii=False, indent=2) + "\n")

    def prune(self, keep_versions: Iterable[str], part: str = VERSION_PART) -> int:
        """Delete entries whose `part` is not in keep_versions (and corrupt ones); the count.

        Entries stored without parts cannot tell their version and are deleted too, as are
        temporary files older than an hour (left by a writer that crashed).
        """
        keep = {str(v) for v in keep_versions}
        removed = 0
        if not self.folder.is_dir():
            return 0
        now = time.time()
        for sub in sorted(p for p in self.folder.iterdir() if p.is_dir()):
            for path in sorted(sub.iterdir()):
                if path.name.endswith(_TEMP_SUFFIX):
                    if _age(path, now) > _STALE_TEMP_SECONDS and _unlink(path):
                        removed += 1
                    continue
                if path.suffix != ".json" or not _KEY.match(path.stem):
                    continue
                if not _kept(path, keep, part) and _unlink(path):
                    removed += 1
        log.info("prompt cache %s: pruned %d entries", self.folder, removed)
        return removed


def _kept(path: Path, keep: set[str], part: str) -> bool:
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    if _problem(raw, path.stem):
        return False
    parts = json.loads(raw).get("parts")
    return isinstance(parts, dict) and part in parts and str(parts[part]) in keep


def _problem(raw: str | None, key: str) -> str:
    """Why an entry's text cannot be trusted for `key` ("" if it can)."""
    if raw is None:
        return "it is not UTF-8 text"
    try:
        entry = json.loads(raw)
    except ValueError as exc:
        return f"it is not valid JSON ({exc})"
    if not isinstance(entry, dict):
        return "it is not a JSON object"
    if entry.get("key") != key:
        return f"it holds the key {entry.get('key')!r}, not its file name's"
    if not isinstance(entry.get("text"), str):
        return "it has no text"
    parts = entry.get("parts")
    if parts is not None:
        if not isinstance(parts, dict):
            return "its parts are not a JSON object"
        if _digest(canonical_json(parts)) != key:
            return "its parts do not hash to its key"
    return ""


def _write_atomic(path: Path, text: str) -> None:
    """Temporary file in the same folder, fsync, then os.replace: all or nothing."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem[:16]}-", suffix=_TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(name, path)
    except BaseException:
        _unlink(Path(name))
        raise


def _unlink(path: Path) -> bool:
    try:
        path.unlink()
        return True
    except FileNotFoundError:
        return False
    except OSError as exc:
        log.warning("could not delete %s: %s", path, exc)
        return False


def _age(path: Path, now: float) -> float:
    try:
        return now - path.stat().st_mtime
    except OSError:
        return 0.0


def _jsonable(value: object) -> object:
    if isinstance(value, (set, frozenset)):
        return sorted((_jsonable(v) if not _is_json(v) else v for v in value), key=str)
    if isinstance(value, Path):
        return value.as_posix()
    return str(value)


def _is_json(value: object) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


_RECENT_PARTS: OrderedDict[str, str] = OrderedDict()


def _remember(key: str, text: str) -> None:
    """Keep the canonical parts of recent keys, so `put(key, text)` can write them."""
    _RECENT_PARTS[key] = text
    _RECENT_PARTS.move_to_end(key)
    while len(_RECENT_PARTS) > _REMEMBERED:
        _RECENT_PARTS.popitem(last=False)
