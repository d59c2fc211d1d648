"""Check a model folder before any GPU work: a broken download should cost seconds, not a
half-loaded 60 GB pipeline and a traceback.

Always checked (fast: only JSON files and safetensors headers are read): every component that
model_index.json names is there with its config; every model component has weights; every shard
a `*.safetensors.index.json` lists is present, readable, holds the tensors the index maps to it,
and measures exactly 8 + header length + end of its last tensor (a truncated download is caught
here). Only safetensors weights are accepted unless `allow_unsafe_weights` is set; even then
pickle files (.bin/.pt/.pth/.ckpt) are never opened here.

Opt-in (`verify_checksums=True`, slow: it reads every byte): file hashes compared with what
huggingface_hub recorded, offline. In the HF cache, `snapshots/<rev>/<file>` links to
`blobs/<hash>`, where the blob name is the sha256 of LFS files (weights) and the git blob sha1 of
small files. In a `snapshot_download(local_dir=...)` folder, huggingface_hub keeps
`<local_dir>/.cache/huggingface/download/<file>.metadata`: commit hash, etag (the same sha256 or
git sha1) and download time, one per line.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wan.errors import ModelError
from wan.models.detect import UNSAFE_SUFFIXES, components_of, read_json
from wan.models.safetensors_header import (
    SafetensorsHeader,
    SafetensorsHeaderError,
    read_safetensors_header,
)

logger = logging.getLogger(__name__)

UNSAFE_SETTING = "allow_unsafe_weights"
HASH_CHUNK = 8 * 1024 * 1024
_SHA256 = re.compile(r"[0-9a-f]{64}")
_SHA1 = re.compile(r"[0-9a-f]{40}")
_HUB_DIR = re.compile(r"models--(.+?)--(.+)")
_TOKENIZER_FILES = ("tokenizer_config.json", "tokenizer.json", "spiece.model", "vocab.json")
REDOWNLOAD = "download this file again (huggingface-cli download <repo> <file>, or the Models tab)"


@dataclass(frozen=True)
class Problem:
    """One thing wrong: in which component and file, what, and how to fix it."""

    component: str  # "" for the folder itself
    file: str  # relative to the model folder
    what: str
    fix: str

    def to_dict(self) -> dict[str, str]:
        return {"component": self.component, "file": self.file, "what": self.what, "fix": self.fix}

    def __str__(self) -> str:
        where = self.file or self.component or "folder"
        return f"{where}: {self.what}. Fix: {self.fix}"


@dataclass(frozen=True)
class ValidationReport:
    """The verdict on one model folder or checkpoint; `ok` means nothing blocks loading it."""

    path: str
    problems: tuple[Problem, ...] = ()
    notes: tuple[str, ...] = ()  # facts worth knowing that do not block (e.g. not hashed)
    files_checked: int = 0
    checksums_recorded: int = 0
    checksums_verified: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "ok": self.ok,
            "problems": [p.to_dict() for p in self.problems],
            "notes": list(self.notes),
            "files_checked": self.files_checked,
            "checksums_recorded": self.checksums_recorded,
            "checksums_verified": self.checksums_verified,
        }

    def summary(self) -> str:
        head = f"{self.path}: " + (
            f"OK ({self.files_checked} files checked, {self.checksums_verified} checksums verified)"
            if self.ok
            else f"{len(self.problems)} problem(s)"
        )
        lines = [head, *(f"- {p}" for p in self.problems), *(f"  note: {n}" for n in self.notes)]
        return "\n".join(lines)


@dataclass(frozen=True)
class RecordedHash:
    """A hash huggingface_hub recorded for a file: sha256 (LFS) or git blob sha1."""

    algorithm: str  # "sha256" | "git-sha1"
    value: str
    source: str  # "hf-cache" | "local-dir"
    stale: bool = False  # the file changed after download (local-dir metadata is older)


# ----------------------------------------------------------------------------------------------
# Entry point


def validate_model(
    path: str | Path, allow_unsafe_weights: bool = False, verify_checksums: bool = False
) -> ValidationReport:
    """Validate a Diffusers folder (or a single .safetensors file) without loading weights."""
    path = Path(path).expanduser()
    if path.is_file():
        return _validate_single_file(path, verify_checksums)
    if not path.is_dir():
        problem = Problem("", "", f"{path} does not exist", "check the path or install the model")
        return ValidationReport(str(path), (problem,))
    checker = _Checker(path, allow_unsafe_weights)
    checker.check_folder()
    return checker.report(verify_checksums)


def require_intact(path: str | Path) -> None:
    """Raise ModelError, one line naming each damaged file and its fix, when the cheap checks
    (JSON files and safetensors headers only) find a problem: a render refuses a broken folder
    up front instead of failing in a loader with its traceback."""
    report = validate_model(path)
    if not report.ok:
        raise ModelError(damage_message(report))


def damage_message(report: ValidationReport) -> str:
    """The problems of a report on one line, and where to see the whole report."""
    problems = "; ".join(str(problem) for problem in report.problems)
    return (
        f"{report.path} cannot be loaded: {problems}; `python -m wan check {report.path}` "
        "shows every check"
    )


def _validate_single_file(path: Path, verify_checksums: bool) -> ValidationReport:
    checker = _Checker(path.parent, allow_unsafe=False)
    if path.suffix.lower() != ".safetensors":
        checker.add(
            "checkpoint",
            path.name,
            "is not a .safetensors file; pickle-based checkpoints can run code when loaded",
            "use a .safetensors version of this checkpoint",
        )
    else:
        checker.check_safetensors("checkpoint", path)
    return checker.report(verify_checksums, only=[path])


# ----------------------------------------------------------------------------------------------
# The checks


class _Checker:
    """Collects problems while walking a folder (a small accumulator, not shared state)."""

    def __init__(self, root: Path, allow_unsafe: bool) -> None:
        self.root = root
        self.allow_unsafe = allow_unsafe
        self.problems: list[Problem] = []
        self.notes: list[str] = []
        self.checked: set[Path] = set()

    def add(self, component: str, file: str, what: str, fix: str) -> None:
        self.problems.append(Problem(component, file, what, fix))

    def rel(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def check_folder(self) -> None:
        index_path = self.root / "model_index.json"
        index, problem = read_json(index_path)
        if index is None:
            what = (
                "model_index.json is missing: this is not a Diffusers model folder"
                if not index_path.exists()
                else str(problem)
            )
            self.add("", "model_index.json", what, "point at a Diffusers folder, or download it")
            return
        self.checked.add(index_path)
        for name, (_, cls) in components_of(index).items():
            self.check_component(name, cls)

    def check_component(self, name: str, cls: str) -> None:
        folder = self.root / name
        if not folder.is_dir():
            self.add(
                name,
                f"{name}/",
                f"the folder of component {name} ({cls}) is missing",
                f"download the model again (at least {name}/)",
            )
            return
        if cls.endswith(("Tokenizer", "TokenizerFast")):
            self.require_any(name, folder, _TOKENIZER_FILES)
        elif cls.endswith("Scheduler"):
            self.require_json(name, folder / "scheduler_config.json")
        elif cls.endswith(("Processor", "FeatureExtractor")):
            self.require_json(name, folder / "preprocessor_config.json")
        else:
            self.require_json(name, folder / "config.json")
            self.check_weights(name, folder)

    def require_any(self, component: str, folder: Path, names: Iterable[str]) -> None:
        found = [folder / n for n in names if (folder / n).is_file()]
        self.checked.update(found)
        if not found:
            self.add(
                component,
                f"{component}/",
                f"none of {', '.join(names)} is there",
                f"download {component}/ of the model again",
            )

    def require_json(self, component: str, path: Path) -> None:
        data, problem = read_json(path)
        if data is None:
            what = "is missing" if not path.exists() else f"is not readable JSON ({problem})"
            self.add(component, self.rel(path), what, REDOWNLOAD)
        else:
            self.checked.add(path)

    def check_weights(self, component: str, folder: Path) -> None:
        indexed: set[Path] = set()
        for index_file in sorted(folder.glob("*.safetensors.index.json")):
            indexed |= self.check_index(component, index_file)
        loose = [p for p in sorted(folder.glob("*.safetensors")) if p not in indexed]
        for path in loose:
            self.check_safetensors(component, path)
        unsafe = sorted(p for p in folder.iterdir() if p.suffix.lower() in UNSAFE_SUFFIXES)
        if indexed or loose:
            if unsafe:
                self.notes.append(
                    f"{component}: {', '.join(p.name for p in unsafe)} ignored (the .safetensors "
                    "weights are loaded instead)"
                )
            return
        if unsafe:
            self.check_unsafe(component, unsafe)
            return
        self.add(
            component,
            f"{component}/",
            "has no weights (no .safetensors file)",
            f"download {component}/ of the model again",
        )

    def check_unsafe(self, component: str, files: list[Path]) -> None:
        """Pickle weights: refused unless allowed; never opened either way (sizes only)."""
        names = ", ".join(self.rel(p) for p in files)
        if not self.allow_unsafe:
            self.add(
                component,
                self.rel(files[0]),
                f"weights are pickle files ({names}), which can run code when loaded",
                f"use a .safetensors version of the model, or set {UNSAFE_SETTING} if you "
                "trust where these files came from",
            )
            return
        self.notes.append(
            f"{component}: pickle weights {names} allowed by {UNSAFE_SETTING}; not opened, so "
            "only their presence is checked"
        )
        for path in files:
            self.checked.add(path)
            if path.stat().st_size == 0:
                self.add(component, self.rel(path), "is empty (0 bytes)", REDOWNLOAD)

    def check_index(self, component: str, index_file: Path) -> set[Path]:
        """A sharded checkpoint: every listed shard present, intact, holding its tensors."""
        index, problem = read_json(index_file)
        weight_map = (index or {}).get("weight_map")
        if index is None or not isinstance(weight_map, dict):
            what = problem or "has no weight_map"
            self.add(component, self.rel(index_file), what, REDOWNLOAD)
            return set()
        self.checked.add(index_file)
        by_shard: dict[str, list[str]] = {}
        for tensor, shard in weight_map.items():
            by_shard.setdefault(str(shard), []).append(str(tensor))
        shards = set()
        for shard, tensors in sorted(by_shard.items()):
            path = index_file.parent / shard
            shards.add(path)
            if not path.is_file():
                self.add(
                    component,
                    self.rel(path),
                    f"shard listed in {index_file.name} is missing",
                    REDOWNLOAD,
                )
                continue
            header = self.check_safetensors(component, path)
            absent = [t for t in tensors if header is not None and t not in header.tensors]
            if absent:
                self.add(
                    component,
                    self.rel(path),
                    f"lacks {len(absent)} tensors {index_file.name} maps to it (e.g. {absent[0]}):"
                    " the shard and the index come from different versions",
                    f"download {component}/ of the model again",
                )
        return shards

    def check_safetensors(self, component: str, path: Path) -> SafetensorsHeader | None:
        """Header readable and file size exactly what the header needs."""
        self.checked.add(path)
        try:
            header = read_safetensors_header(path)
        except SafetensorsHeaderError as exc:
            self.add(component, self.rel(path), exc.what, exc.fix)
            return None
        actual = path.stat().st_size
        if actual < header.expected_size:
            self.add(
                component,
                self.rel(path),
                f"is truncated: {actual} bytes, its header needs {header.expected_size} (an "
                "interrupted download)",
                REDOWNLOAD,
            )
        elif actual > header.expected_size:
            self.add(
                component,
                self.rel(path),
                f"is {actual} bytes, {actual - header.expected_size} more than its header "
                "describes: the file is damaged",
                REDOWNLOAD,
            )
        return header

    def report(self, verify_checksums: bool, only: list[Path] | None = None) -> ValidationReport:
        files = sorted(only if only is not None else self.checked)
        recorded = {p: h for p in files if (h := recorded_hash(p, self.root)) is not None}
        verified = 0
        if verify_checksums:
            verified = self.verify(recorded)
        elif recorded:
            self.notes.append(
                f"checksums of {len(recorded)} files not verified: pass verify_checksums=True "
                "(reads every byte; minutes for tens of GB)"
            )
        if verify_checksums and len(recorded) < len(files):
            self.notes.append(
                f"{len(files) - len(recorded)} files have no checksum recorded by "
                "huggingface_hub (not downloaded by it), so only their sizes were checked"
            )
        return ValidationReport(
            str(only[0] if only else self.root),
            tuple(self.problems),
            tuple(self.notes),
            files_checked=len(files),
            checksums_recorded=len(recorded),
            checksums_verified=verified,
        )

    def verify(self, recorded: Mapping[Path, RecordedHash]) -> int:
        verified = 0
        flagged = {self.root / p.file for p in self.problems}
        for path, expected in recorded.items():
            if path in flagged:
                continue  # already reported (truncated, bad header): hashing adds nothing
            actual = file_hash(path, expected.algorithm)
            if actual == expected.value:
                verified += 1
                continue
            changed = " (it was modified after the download)" if expected.stale else ""
            self.add(
                _component_of(self.rel(path)),
                self.rel(path),
                f"{expected.algorithm} is {actual} but huggingface_hub recorded {expected.value}"
                f"{changed}: the file is corrupt or was changed",
                _redownload_fix(path),
            )
        return verified


def _component_of(relative: str) -> str:
    return relative.split("/", 1)[0] if "/" in relative else ""


# ----------------------------------------------------------------------------------------------
# Recorded hashes (read-only: huggingface_hub's own reader deletes metadata it cannot parse)


def recorded_hash(path: Path, root: Path) -> RecordedHash | None:
    """The hash huggingface_hub recorded for `path`, if it did (HF cache blob or local-dir)."""
    if path.is_symlink():
        target = path.resolve()
        if target.parent.name == "blobs":
            algorithm = _algorithm(target.name)
            return RecordedHash(algorithm, target.name, "hf-cache") if algorithm else None
    return _local_dir_hash(path, root)


def _local_dir_hash(path: Path, root: Path) -> RecordedHash | None:
    for base in _ancestors(path.parent, root):
        metadata_dir = base / ".cache" / "huggingface" / "download"
        if not metadata_dir.is_dir():
            continue
        metadata = metadata_dir / (path.relative_to(base).as_posix() + ".metadata")
        try:
            lines = metadata.read_text(encoding="utf-8").splitlines()
            etag, timestamp = lines[1].strip(), float(lines[2].strip())
        except (OSError, IndexError, ValueError):
            return None
        algorithm = _algorithm(etag)
        if algorithm is None:
            return None
        stale = path.stat().st_mtime - 1 > timestamp
        return RecordedHash(algorithm, etag, "local-dir", stale)
    return None


def _ancestors(start: Path, root: Path, above: int = 2) -> list[Path]:
    """The file's folder up to `root`, then two levels above it: users point at a subfolder of
    a local_dir too (e.g. its transformer/), never far below it."""
    chain = [start, *start.parents]
    inside = chain[: chain.index(root) + 1] if root in chain else [start]
    return inside + list(root.parents)[:above]


def _algorithm(name: str) -> str | None:
    if _SHA256.fullmatch(name):
        return "sha256"
    if _SHA1.fullmatch(name):
        return "git-sha1"
    return None


def file_hash(path: Path, algorithm: str) -> str:
    """sha256 of the content, or git's blob sha1 (sha1 of 'blob <size>\\0' + content)."""
    digest = hashlib.sha256() if algorithm == "sha256" else hashlib.sha1(usedforsecurity=False)
    if algorithm == "git-sha1":
        digest.update(f"blob {path.stat().st_size}\0".encode())
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _redownload_fix(path: Path) -> str:
    """Name the Hub repo when the path is inside the HF cache (models--org--name)."""
    for part in path.parts:
        match = _HUB_DIR.fullmatch(part)
        if match:
            repo = f"{match.group(1)}/{match.group(2)}"
            return (
                f"delete it and download it again (huggingface-cli download {repo}, or the "
                "Models tab)"
            )
    return REDOWNLOAD
