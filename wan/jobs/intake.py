"""From a request to what a job stores: checked settings and options, images saved, seed fixed.

Everything cheap is validated here, before the job is queued, so a bad request fails at once
with a message naming the field instead of failing minutes later in the worker: the settings
parse, the options parse (host defaults merged in), the plan is built. A base64 image is checked
from its header (bytes and pixels within the limits) and written as it came: it is decoded only when
the job renders. A seed of -1 is resolved here by the plan's rule
(`wan.planning.plan_service.plan_seed`: the seed POST /plan and the tab's Plan showed) and kept in
the options, so a resume or retry renders the same video.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wan.core.deforum.settings import parse_settings, read_settings_data
from wan.host.base import Host
from wan.jobs.requests import (
    IMAGE_TYPES,
    OPTION_IMAGES,
    OPTIONS_FIELD,
    SETTINGS_FIELD,
    check_request,
    decode_data_url,
    is_data_url,
    use_init,
)
from wan.options.render_options import (
    RenderOptions,
    merge_defaults,
    options_to_dict,
    parse_options,
    requested_options,
)
from wan.planning.plan_service import plan_for
from wan.render.fetch import fetch_inputs

PASTED = "<pasted>"


@dataclass(frozen=True)
class Intake:
    """What `JobQueue.submit` stores: settings and options ready for the worker."""

    settings: dict[str, Any]
    options: dict[str, Any]
    name: str
    images: tuple[tuple[Path, bytes], ...]  # base64-decoded files, written once all checks pass

    def save_images(self) -> None:
        for path, data in self.images:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)


def take_request(
    settings: Mapping[str, Any] | str,
    options: Mapping[str, Any] | RenderOptions | None,
    host: Host,
    inputs_dir: Path,
    trusted: bool,
    name: str | None = None,
) -> Intake:
    """Validate a request and turn it into the job's stored settings and options."""
    requested = requested_options(options)
    if not trusted:
        check_request(settings, requested, host.store_config())  # type: ignore[arg-type]
    raw, label = _settings_dict(settings, name)
    if trusted:  # the CLI and the tab download the URLs a render uses (wan.render.fetch)
        raw, requested = fetch_inputs(raw, requested, label)
    images: list[tuple[Path, bytes]] = []
    raw = _settings_image(raw, label, trusted, inputs_dir, images)
    requested = _options_image(requested, inputs_dir, images)
    parsed = parse_options(merge_defaults(host.option_defaults() or {}, requested))
    deforum = parse_settings(raw, label)
    plan = plan_for(deforum, parsed)
    stored = options_to_dict(parsed)
    if (parsed.seed if parsed.seed is not None else deforum.seed) == -1:
        stored["seed"] = plan.seed  # resolved once: every attempt renders the same video
    return Intake(raw, stored, label, tuple(images))


def _settings_dict(settings: Mapping[str, Any] | str, name: str | None) -> tuple[dict, str]:
    if isinstance(settings, Mapping):
        return {str(k): v for k, v in settings.items()}, name or PASTED
    data, source = read_settings_data(settings)  # a trusted caller's file or run folder
    if not isinstance(data, Mapping):
        parse_settings(data, source)  # says it is not a settings object
    return dict(data), name or source


def _settings_image(
    raw: dict[str, Any], label: str, trusted: bool, inputs_dir: Path, images: list
) -> dict[str, Any]:
    """Deforum's init image: a data URL is saved for the job; without use_init it is dropped."""
    image = raw.get("init_image")
    if image is None:
        return raw
    if not use_init(raw):
        if trusted and not is_data_url(image):
            return raw
        return {k: v for k, v in raw.items() if k != "init_image"}
    if not is_data_url(image):
        return {**raw, "init_image": _absolute(image)}
    path = _decoded(image, f"{SETTINGS_FIELD}.init_image", inputs_dir, "settings-init", images)
    return {**raw, "init_image": str(path)}


def _options_image(options: dict[str, Any], inputs_dir: Path, images: list) -> dict[str, Any]:
    """The options' images (init and last): a data URL is saved for the job as init.png or
    last.png; a trusted caller's path is made absolute."""
    options = dict(options)
    for key in OPTION_IMAGES:
        image = options.get(key)
        if image is None:
            continue
        if not is_data_url(image):
            options[key] = _absolute(image)
            continue
        stem = key.removesuffix("_image")
        path = _decoded(image, f"{OPTIONS_FIELD}.{key}", inputs_dir, stem, images)
        options[key] = str(path)
    return options


def _absolute(image: Any) -> Any:
    """A trusted caller's relative image path, fixed to its folder: retries may run elsewhere."""
    if not isinstance(image, str) or "://" in image or not image.strip():
        return image
    return str(Path(image).expanduser().absolute())


def _decoded(value: str, field: str, folder: Path, stem: str, images: list) -> Path:
    kind, data = decode_data_url(value, field)
    path = folder / f"{stem}.{IMAGE_TYPES[kind]}"
    images.append((path, data))
    return path
