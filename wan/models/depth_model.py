"""Which depth estimator a `--depth-model` names, found and checked (no torch, no weights).

It is found like every other model (`wan.models.store`: the models folder, the Hugging Face
cache, paths, smoke ids; the catalog default when none is named) and checked by
`wan.models.depth_folder`. A Hub id the catalog does not list is looked up in the Hugging Face
cache only: nothing is downloaded behind the user's back.
"""

from __future__ import annotations

from pathlib import Path

from wan.errors import ModelError
from wan.models import store
from wan.models.catalog import DEFAULT_DEPTH_MODEL, CatalogEntry, get_entry, parse_model_ref
from wan.models.depth_folder import EXAMPLE, DepthModelInfo, check_depth_folder


def resolve_depth_model(ref: str | None, config: store.StoreConfig) -> DepthModelInfo:
    """The depth model a `--depth-model` value names (None: the catalog default), checked.

    Offline and not installed, the error names the Hugging Face repo and the folder to put it in.
    """
    text = str(ref).strip() if ref else DEFAULT_DEPTH_MODEL
    entry = _catalog_entry(text)
    if entry is not None and entry.kind != "depth":
        what = "a video model" if entry.is_wan else "a prompt model"
        raise ModelError(
            f"{entry.id} is {what}, not a depth model; use e.g. {EXAMPLE} or a depth model folder"
        )
    if entry is None and not Path(text).expanduser().exists() and "/" in text:
        return check_depth_folder(_hub_cache_folder(text, config.hf_cache_dir))
    installed = store.resolve(text, config)
    return check_depth_folder(installed.path, entry)


def depth_model_installed(ref: str | None, config: store.StoreConfig) -> bool:
    """Whether the model is on this machine and usable (no download is ever started)."""
    try:
        resolve_depth_model(ref, config)
    except ModelError:
        return False
    return True


def depth_model_to_use(
    ref: str | None, config: store.StoreConfig
) -> tuple[DepthModelInfo | None, str]:
    """The depth model a render or a preview reads (checked, not loaded), and a note when there
    is none: a named model (an error when it cannot be used), else the catalog default when it
    is installed, else None with a note that flat depth is used and how to get the model
    (nothing is ever downloaded here)."""
    if ref is None and not depth_model_installed(None, config):
        return None, (
            f"the depth model {DEFAULT_DEPTH_MODEL} is not installed, so the 3D camera guide "
            f"uses flat depth; `python -m wan download {DEFAULT_DEPTH_MODEL}` fetches it"
        )
    return resolve_depth_model(ref, config), ""


def _catalog_entry(text: str) -> CatalogEntry | None:
    try:
        return get_entry(parse_model_ref(text).id)
    except ModelError:
        return None


def _hub_cache_folder(repo: str, cache_dir: str | None) -> Path:
    """A Hub id the catalog does not list: its snapshot in the Hugging Face cache, if any."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HFValidationError, LocalEntryNotFoundError

    model_ref = parse_model_ref(repo)
    try:
        return Path(
            snapshot_download(
                model_ref.id,
                revision=model_ref.revision,
                cache_dir=cache_dir,
                local_files_only=True,
                allow_patterns=list(store.DEPTH_FILES),
            )
        )
    except (LocalEntryNotFoundError, HFValidationError, OSError, ValueError):
        raise ModelError(
            f"depth model {repo}: no such folder, and the Hugging Face repo {model_ref.id} is not "
            f"in the Hugging Face cache; download its files ({', '.join(store.DEPTH_FILES)}) into "
            f"a folder and give that folder, or use {EXAMPLE}"
        ) from None
