"""Where models are, and how a catalog model gets there.

One discovery path serves the CLI, the API, the tab and the prompt enhancer:
- the models folder, chosen in this order: ``--wan-models-dir``, the ``WAN_MODELS_DIR``
  environment variable, the WebUI setting, the host's ``models/Wan``; standalone, the
  ``models/Wan`` folder of this repository;
- the Hugging Face cache (huggingface_hub's cache scan), for models other tools downloaded;
- explicit paths, and the built-in smoke ids (built on first use).

Downloads go through huggingface_hub's `snapshot_download` into the models folder, fetching only
the files a Diffusers pipeline (or a chat or depth model) loads (safetensors weights, configs,
tokenizers, image processors), resumable. A catalog LoRA (kind "lora": the fast preset's
distilled LoRAs) is one file, fetched with `hf_hub_download` into `<models folder>/loras` and
checked against its published sha256; `find_lora` looks for it in the LoRA folders first.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from wan.errors import ModelError
from wan.models.catalog import CatalogEntry, get_entry, load_catalog, parse_model_ref
from wan.models.smoke import ensure_smoke_model, is_smoke_id

log = logging.getLogger(__name__)

ENV_MODELS_DIR = "WAN_MODELS_DIR"
ORIGIN_FILE = "wan_origin.json"  # written after a download: which catalog model a folder holds
REPO_ROOT = Path(__file__).resolve().parents[2]
LORA_FOLDER = "loras"  # inside the models folder: where catalog LoRAs are downloaded

# Files a Diffusers pipeline (or a transformers chat model) loads; nothing else is fetched.
PIPELINE_FILES = (
    "model_index.json",
    "*/config.json",
    "*/*.safetensors",
    "*/*.safetensors.index.json",
    "scheduler/*.json",
    "tokenizer/*",
    "image_processor/*.json",
)
ENHANCER_FILES = (
    "config.json",
    "generation_config.json",
    "*.safetensors",
    "*.safetensors.index.json",
    "tokenizer*",
    "vocab.json",
    "merges.txt",
    "special_tokens_map.json",
)
DEPTH_FILES = (  # a transformers depth estimator (AutoModelForDepthEstimation)
    "config.json",
    "preprocessor_config.json",
    "*.safetensors",
    "*.safetensors.index.json",
)


@dataclass(frozen=True)
class StoreConfig:
    """The places models live; built by the host adapter or the CLI from their settings."""

    models_dir_flag: str | None = None  # --wan-models-dir
    setting_dir: str | None = None  # the WebUI setting
    host_root: str | None = None  # the WebUI's folder (its models/Wan is the host default)
    hf_cache_dir: str | None = None  # None: huggingface_hub's default cache
    env: Mapping[str, str] | None = None  # None: os.environ

    def models_dir(self) -> Path:
        env = os.environ if self.env is None else self.env
        for candidate in (self.models_dir_flag, env.get(ENV_MODELS_DIR), self.setting_dir):
            if candidate:
                return Path(candidate).expanduser()
        root = Path(self.host_root) if self.host_root else REPO_ROOT
        return root / "models" / "Wan"


@dataclass(frozen=True)
class InstalledModel:
    """A model found on disk: where, how it was found, and the catalog entry it claims to be."""

    path: Path
    source: str  # "models_dir" | "hf_cache" | "path" | "smoke"
    entry_id: str | None  # catalog id when the location names one
    revision: str | None = None

    def to_dict(self) -> dict:
        return {
            "path": str(self.path),
            "source": self.source,
            "id": self.entry_id,
            "revision": self.revision,
        }


def folder_names(entry: CatalogEntry) -> tuple[str, ...]:
    """Folder names a catalog model may have in the models folder: its id or its repo's name."""
    repo_name = entry.repo.split("/")[-1] if entry.repo else entry.id
    return tuple(dict.fromkeys((entry.id, repo_name)))


def discover(
    config: StoreConfig, extra_paths: Sequence[str | Path] = ()
) -> tuple[InstalledModel, ...]:
    """Every installed model: the models folder, the Hugging Face cache, explicit paths."""
    found: dict[Path, InstalledModel] = {}
    for model in (
        *_scan_models_dir(config.models_dir()),
        *_scan_hf_cache(config.hf_cache_dir),
        *(_explicit(Path(p)) for p in extra_paths),
    ):
        found.setdefault(model.path.resolve(), model)
    return tuple(found.values())


def _looks_like_model(folder: Path) -> bool:
    return (folder / "model_index.json").is_file() or (folder / "config.json").is_file()


def _scan_models_dir(root: Path) -> list[InstalledModel]:
    if not root.is_dir():
        return []
    by_name = {name.lower(): e.id for e in load_catalog() for name in folder_names(e)}
    out = []
    for child in sorted(root.iterdir()):
        if child.is_dir() and _looks_like_model(child):
            entry_id = by_name.get(child.name.lower()) or _origin_id(child)
            out.append(InstalledModel(child, "models_dir", entry_id))
        elif child.is_file() and child.suffix == ".safetensors":
            out.append(InstalledModel(child, "models_dir", None))
    return out


def _origin_id(folder: Path) -> str | None:
    try:
        return json.loads((folder / ORIGIN_FILE).read_text()).get("id")
    except (OSError, ValueError, AttributeError):
        return None


def _scan_hf_cache(cache_dir: str | None) -> list[InstalledModel]:
    from huggingface_hub import scan_cache_dir
    from huggingface_hub.errors import CacheNotFound

    try:
        cache = scan_cache_dir(cache_dir)
    except CacheNotFound:
        return []
    by_repo = {e.repo.lower(): e.id for e in load_catalog() if e.repo and e.lora is None}
    out = []
    for repo in sorted(cache.repos, key=lambda r: r.repo_id):
        if repo.repo_type != "model":
            continue
        for revision in sorted(repo.revisions, key=lambda r: r.last_modified, reverse=True)[:1]:
            if _looks_like_model(revision.snapshot_path) and (
                repo.repo_id.lower() in by_repo
                or (revision.snapshot_path / "model_index.json").is_file()
            ):
                entry_id = by_repo.get(repo.repo_id.lower())
                out.append(
                    InstalledModel(
                        revision.snapshot_path, "hf_cache", entry_id, revision.commit_hash
                    )
                )
    return out


def _explicit(path: Path) -> InstalledModel:
    if not path.exists():
        raise ModelError(f"{path}: no such model folder or checkpoint file")
    return InstalledModel(path, "path", None)


def resolve(ref: str | Path, config: StoreConfig) -> InstalledModel:
    """A --model value (smoke id, catalog id with optional @revision, or path) -> a local model."""
    text = str(ref).strip()
    if is_smoke_id(text):
        return InstalledModel(ensure_smoke_model(text), "smoke", text)
    path = Path(text).expanduser()
    if path.exists():
        return _explicit(path)
    model_ref = parse_model_ref(text)
    try:
        entry = get_entry(model_ref.id)
    except ModelError:
        if os.sep in text or "/" in text or text.endswith(".safetensors"):
            raise ModelError(f"{text}: no such model folder or checkpoint file") from None
        raise
    for model in discover(config):
        if model.entry_id == entry.id and (
            model_ref.revision is None or model.revision in (None, model_ref.revision)
        ):
            return model
    raise not_installed_error(entry, config, model_ref.revision)


def not_installed_error(entry: CatalogEntry, config: StoreConfig, revision: str | None = None):
    target = config.models_dir() / folder_names(entry)[-1]
    at = f" at revision {revision}" if revision else ""
    return ModelError(
        f"model {entry.id}{at} is not installed. Download it with `python -m wan download "
        f"{entry.id}`, or put the files of the Hugging Face repo {entry.repo} in {target}"
    )


def allow_patterns(entry: CatalogEntry, variant: str | None = None) -> list[str]:
    """Only the files the pipeline needs; with a variant (e.g. fp16), that variant's weights."""
    patterns = {"enhancer": ENHANCER_FILES, "depth": DEPTH_FILES}.get(entry.kind, PIPELINE_FILES)
    if not variant:
        return list(patterns)
    renamed = {
        ".safetensors.index.json": f".safetensors.index.{variant}.json",  # diffusers' naming
        ".safetensors": f".{variant}*.safetensors",
    }
    out = []
    for pattern in patterns:
        for plain, with_variant in renamed.items():
            if pattern.endswith(plain):
                pattern = pattern[: -len(plain)] + with_variant
                break
        out.append(pattern)
    return out


ProgressCallback = Callable[[str, int, int], None]  # (file, bytes done, bytes total)


def download(
    ref: str,
    config: StoreConfig,
    progress: ProgressCallback | None = None,
    snapshot: Callable[..., str] | None = None,
) -> Path:
    """Fetch a catalog model into the models folder (resumable), then return its folder.

    `snapshot` is huggingface_hub's `snapshot_download` unless a caller passes another (tests
    check the request we would make without touching the network).
    """
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    model_ref = parse_model_ref(ref)
    entry = get_entry(model_ref.id)
    if not entry.repo:
        raise ModelError(f"{entry.id} is built locally, not downloaded; use it by its id")
    if entry.lora is not None:
        return download_lora(entry, config, model_ref.revision)
    target = config.models_dir() / folder_names(entry)[-1]
    request = {
        "repo_id": entry.repo,
        "revision": model_ref.revision,
        "local_dir": str(target),
        "allow_patterns": allow_patterns(entry, model_ref.variant),
    }
    if progress is not None:
        request["tqdm_class"] = _progress_tqdm(progress)
    log.info("downloading %s from %s into %s", entry.id, entry.repo, target)
    try:
        path = Path((snapshot or snapshot_download)(**request))
    except (LocalEntryNotFoundError, HfHubHTTPError, OSError) as exc:
        raise ModelError(
            f"cannot download {entry.id} ({type(exc).__name__}: {str(exc).splitlines()[0]}). "
            f"Needed: the files {', '.join(request['allow_patterns'])} of the Hugging Face repo "
            f"{entry.repo}; put them by hand in {target} (same folder layout), then run "
            f"`python -m wan check {target}`"
        ) from None
    _write_origin(path, entry, model_ref.revision)
    if entry.is_wan:
        _verify_download(path, entry)
    elif entry.kind == "depth":
        from wan.models.depth_folder import check_depth_folder

        check_depth_folder(path, entry)
    return path


def _verify_download(path: Path, entry: CatalogEntry) -> None:
    """A download is only done when detection and validation agree it is the model we asked for."""
    from wan.models.detect import detect_model
    from wan.models.validate import validate_model

    report = validate_model(path)
    if not report.ok:
        raise ModelError(
            f"{entry.id} was downloaded into {path} but is not complete:\n{report.summary()}\n"
            f"Run `python -m wan download {entry.id}` again: it resumes where it stopped"
        )
    match = detect_model(path).match(load_catalog())
    if match.model_id != entry.id:
        log.warning("%s: downloaded as %s but detected as %s", path, entry.id, match.message)


def _write_origin(path: Path, entry: CatalogEntry, revision: str | None) -> None:
    """Remember which catalog model a folder holds, for folders renamed later."""
    try:
        (path / ORIGIN_FILE).write_text(
            json.dumps({"id": entry.id, "repo": entry.repo, "revision": revision}, indent=2)
        )
    except OSError as exc:
        log.warning("could not record the origin of %s: %s", path, exc)


def _progress_tqdm(progress: ProgressCallback):
    """A tqdm class that forwards huggingface_hub's per-file progress to a plain callback."""
    from tqdm.auto import tqdm

    class CallbackTqdm(tqdm):
        def __init__(self, *args, **kwargs):
            kwargs["file"] = io.StringIO()  # drawn nowhere: the callback reports instead
            kwargs.pop("disable", None)
            super().__init__(*args, **kwargs)

        def update(self, n=1):
            super().update(n)
            progress(str(self.desc or ""), int(self.n), int(self.total or 0))

    return CallbackTqdm


# ----------------------------------------------------------------------------------------------
# Catalog LoRAs (one file each)


def lora_folder(config: StoreConfig) -> Path:
    return config.models_dir() / LORA_FOLDER


def find_lora(entry: CatalogEntry, lora_dirs: Sequence[Path], config: StoreConfig) -> Path | None:
    """A catalog LoRA's file: in a LoRA folder, the models folder's `loras`, or the Hugging
    Face cache (looked up offline); None when it is nowhere."""
    assert entry.lora is not None
    name = Path(entry.lora.file).name
    for folder in (*lora_dirs, lora_folder(config)):
        candidate = Path(folder) / name
        if candidate.is_file():
            return candidate
    if entry.repo:
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(entry.repo, entry.lora.file, cache_dir=config.hf_cache_dir)
        if isinstance(cached, str) and Path(cached).is_file():
            return Path(cached)
    return None


def lora_missing_error(entry: CatalogEntry, lora_dirs: Sequence[Path], config: StoreConfig):
    """The error for a catalog LoRA that is not on disk: the file, where it was looked for, and
    the command that fetches it."""
    assert entry.lora is not None
    places = ", ".join(str(p) for p in (*lora_dirs, lora_folder(config)))
    fetch = (
        f"Download it with `python -m wan download {entry.id}` (from the Hugging Face repo "
        f"{entry.repo}), or put the file in one of those folders"
        if entry.repo
        else "Build it (tests do) and put it in one of those folders"
    )
    return ModelError(
        f"LoRA {entry.id}: file {Path(entry.lora.file).name} not found in {places}. {fetch}"
    )


def download_lora(
    entry: CatalogEntry,
    config: StoreConfig,
    revision: str | None = None,
    fetch: Callable[..., str] | None = None,
) -> Path:
    """Fetch one catalog LoRA into `<models folder>/loras` and check its sha256 when published.

    `fetch` is huggingface_hub's `hf_hub_download` unless a caller passes another (tests)."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    assert entry.lora is not None and entry.repo
    target = lora_folder(config)
    log.info("downloading LoRA %s from %s into %s", entry.lora.file, entry.repo, target)
    try:
        path = Path(
            (fetch or hf_hub_download)(
                repo_id=entry.repo,
                filename=entry.lora.file,
                revision=revision,
                local_dir=str(target),
            )
        )
    except (LocalEntryNotFoundError, HfHubHTTPError, OSError) as exc:
        raise ModelError(
            f"cannot download LoRA {entry.id} ({type(exc).__name__}: {str(exc).splitlines()[0]}). "
            f"Needed: the file {entry.lora.file} of the Hugging Face repo {entry.repo}; put it by "
            f"hand in {target}"
        ) from None
    expected = entry.lora.sha256
    if expected and file_sha256(path) != expected:
        raise ModelError(
            f"LoRA {entry.id}: {path} is not the published file (its sha256 differs from "
            f"{expected}); delete it and run `python -m wan download {entry.id}` again"
        )
    return path


def file_sha256(path: Path) -> str:
    """sha256 (hex) of a file, read in 1 MiB chunks; OSError when it cannot be read."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
