"""What a remote request may name, and the images it sends as base64 data URLs.

A request from the HTTP API never reaches the server's files unchecked: images come as data
URLs and are saved in the job's own inputs folder; a model path must lie inside the models
folder; LoRA paths must be relative without `..`; the settings cannot point at a soundtrack
file. The CLI and the local tab are trusted and skip `check_request`. An image is checked from
its header alone (bytes, width x height: `wan.render.image_header`), never decoded here: a
small file can claim billions of pixels, and the request's thread must not pay for them.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from wan.errors import OptionsError, RequestError
from wan.limits import check_at_most
from wan.models.store import StoreConfig
from wan.render.image_header import SMALLER, check_image_bytes

SETTINGS_FIELD = "deforum_settings"
OPTIONS_FIELD = "wan"
OPTION_IMAGES = ("init_image", "last_image")  # the options that name an image file
IMAGE_TYPES = {"png": "png", "jpeg": "jpg", "jpg": "jpg", "webp": "webp"}
_DATA_URL = re.compile(r"^data:image/([a-z]+);base64,(.*)$", re.IGNORECASE | re.DOTALL)
_TRUE = ("true", "yes", "on", "1")


def is_data_url(value: Any) -> bool:
    return isinstance(value, str) and value.lstrip()[:5].lower() == "data:"


def use_init(settings: Mapping[str, Any]) -> bool:
    """Deforum's use_init as the settings parser reads it (a bad value fails there, later)."""
    value = settings.get("use_init", False)
    if isinstance(value, str):
        return value.strip().lower() in _TRUE
    return bool(value) if isinstance(value, (bool, int, float)) else False


def check_request(
    settings: Mapping[str, Any], options: Mapping[str, Any] | None, config: StoreConfig
) -> None:
    """Refuse paths a remote request must not use; each message names the field and the fix."""
    if not isinstance(settings, Mapping):
        raise RequestError(
            f"{SETTINGS_FIELD}: send the Deforum settings as a JSON object "
            "(a remote request cannot name a settings file on the server)"
        )
    options = options or {}
    if not isinstance(options, Mapping):
        raise RequestError(f"{OPTIONS_FIELD}: send the render options as a JSON object")
    image = settings.get("init_image")
    if use_init(settings) and image not in (None, "", "None"):
        _check_image(image, f"{SETTINGS_FIELD}.init_image")
    if str(settings.get("add_soundtrack", "None")).strip() == "File":
        raise RequestError(
            f"{SETTINGS_FIELD}.add_soundtrack: a remote request cannot use a soundtrack file on "
            "the server; set add_soundtrack to None"
        )
    for key in OPTION_IMAGES:
        if options.get(key) is not None:
            _check_image(options[key], f"{OPTIONS_FIELD}.{key}")
    _check_server_frames(settings, options)
    _check_model_ref(options.get("model"), f"{OPTIONS_FIELD}.model", config)
    enhance = options.get("enhance")
    if isinstance(enhance, Mapping):
        model = enhance.get("model")
        if isinstance(model, str) and model.strip().lower() != "rules":
            _check_model_ref(model, f"{OPTIONS_FIELD}.enhance.model", config)
    loras = options.get("loras") or ()
    if isinstance(loras, (list, tuple)):
        for index, lora in enumerate(loras):
            path = lora.get("path") if isinstance(lora, Mapping) else None
            if isinstance(path, str):
                _check_lora_path(path, f"{OPTIONS_FIELD}.loras[{index}].path")


def _check_server_frames(settings: Mapping[str, Any], options: Mapping[str, Any]) -> None:
    """A Deforum run's frames and a Video Input video are files on the server: not for a
    remote request (wan.render.guide_source)."""
    if str(settings.get("animation_mode", "")).strip() == "Video Input":
        raise RequestError(
            f"{SETTINGS_FIELD}.animation_mode 'Video Input': a remote request cannot render a "
            "video on the server (video_init_path); render it with `python -m wan render` or the "
            "tab, or use animation_mode 2D or 3D"
        )
    if options.get("init_frame") is not None or options.get("guide_from") == "run":
        key = "init_frame" if options.get("init_frame") is not None else "guide_from"
        raise RequestError(
            f"{OPTIONS_FIELD}.{key}: a remote request cannot read a Deforum run's frames on the "
            f"server; send the first image as {OPTIONS_FIELD}.init_image (a data URL)"
        )


def _check_image(image: Any, field: str) -> None:
    """A data URL (never a path on the server) whose header is within the limits."""
    if not is_data_url(image):
        raise RequestError(
            f"{field}: a remote request sends images as base64 data URLs "
            "('data:image/png;base64,...', png, jpeg or webp), not as paths on the server"
        )
    decode_data_url(image, field)  # every item of a list is checked before one is queued


def _check_model_ref(ref: Any, field: str, config: StoreConfig) -> None:
    """An id is fine; a path must resolve inside the models folder."""
    if not isinstance(ref, str) or not ref.strip():
        return  # RenderOptions reports a wrong type or an empty value
    from wan.models.smoke import is_smoke_id

    text = ref.strip()
    if is_smoke_id(text):
        return
    looks_like_path = (
        "/" in text or "\\" in text or text.startswith(("~", ".")) or text.endswith(".safetensors")
    )
    if not looks_like_path and not Path(text).exists():
        return  # a catalog id (with an optional @revision); the store resolves it
    root = config.models_dir().resolve()
    target = Path(text).expanduser().resolve()  # as the model store opens it
    if ".." in Path(text).parts or not _inside(target, root):
        raise RequestError(
            f"{field}: {text!r} is not a model id nor a path inside the models folder {root}; "
            "use a model id (see GET /wan/v1/models) or a folder name inside the models folder"
        )


def _check_lora_path(path: str, field: str) -> None:
    text = path.strip().replace("\\", "/")
    if text.startswith(("/", "~")) or re.match(r"^[A-Za-z]:", text) or ".." in text.split("/"):
        raise RequestError(
            f"{field}: {path!r} must be a relative path without '..' "
            "(a LoRA inside the WebUI's LoRA folders, e.g. 'styles/ink.safetensors')"
        )


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


# ----------------------------------------------------------------------------------------------
# Base64 images


def decode_data_url(value: str, field: str) -> tuple[str, bytes]:
    """An image data URL's format ('png', 'jpeg', 'webp', as its header says) and bytes.

    Only the header is read, never the pixels: its size in bytes and its width x height are
    checked against the limits here, in the request's thread, and the job decodes it later."""
    match = _DATA_URL.match(value.strip())
    if match is None:
        raise RequestError(
            f"{field}: not an image data URL; use 'data:image/png;base64,...' (png, jpeg or webp)"
        )
    kind, payload = match.group(1).lower(), re.sub(r"\s+", "", match.group(2))
    if kind not in IMAGE_TYPES:
        raise RequestError(f"{field}: image/{kind} is not accepted; send png, jpeg or webp")
    size = len(payload) // 4 * 3 - payload[-2:].count("=")
    check_at_most(size, "max_image_bytes", field, fix=SMALLER)  # before decoding it
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise RequestError(f"{field}: the base64 data of the image is damaged") from None
    try:
        header = check_image_bytes(data, field)
    except OptionsError as exc:
        raise RequestError(str(exc)) from None
    return header.format, data
