"""Request bodies of the HTTP API, checked before anything is queued or planned.

`POST /jobs` and `POST /plan` take Deforum's API payload, `{"deforum_settings": {...} | [...],
"wan": {...}}`, where `wan` is RenderOptions. Every item of a list is checked (paths a remote
request must not use, settings, options, the plan) before the first one is queued, so a bad
item queues nothing. Each error names the key it is about: `wan.steps ...`,
`deforum_settings[1]: fps ...`. Nothing is written here; only `check_request` looks at paths.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field

from wan.core.deforum.json_values import check_json_value
from wan.core.deforum.settings import DeforumSettings, parse_settings
from wan.errors import ModelError, WanError
from wan.jobs import RequestError, check_request
from wan.jobs.requests import OPTION_IMAGES, is_data_url
from wan.jobs.requests import OPTIONS_FIELD as OPTIONS
from wan.jobs.requests import SETTINGS_FIELD as SETTINGS
from wan.models.store import StoreConfig
from wan.options.checks import (
    ErrorNaming,
    StrictModel,
    before_validator,
    check_text,
    json_key_name,
    validate_model,
    value_at,
)
from wan.options.render_options import RenderOptions, merge_defaults, validate_options
from wan.prompting.request import LANGS, STYLES

BODY_KEYS = (SETTINGS, OPTIONS)
MAX_JOBS_PER_REQUEST = 100
# What an inline (base64) init image stands for while the options are only checked: the queue
# decodes and saves the image itself when the job is submitted.
INLINE_IMAGE = "inline-image.png"


@dataclass(frozen=True)
class JobItem:
    """One settings object of a request, with the request's render options."""

    where: str  # "deforum_settings" or "deforum_settings[2]", for messages
    settings: Mapping[str, Any]  # as submitted
    options: Mapping[str, Any]  # the request's `wan` object as submitted ({} when absent)


def parse_json(raw: bytes) -> Any:
    if not raw.strip():
        raise RequestError('body: empty; send a JSON object such as {"deforum_settings": {...}}')
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise RequestError(f"body: not valid JSON ({exc})") from None
    check_json_value(body, "", RequestError)  # every field, before any other code reads it
    return body


def json_type(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "text", bool: "true/false"}
    for kind, name in names.items():
        if isinstance(value, kind):
            return name
    return "null" if value is None else "a number"


def job_items(body: Any) -> tuple[JobItem, ...]:
    """The jobs a `{"deforum_settings": ..., "wan": ...}` body asks for (shape only)."""
    if not isinstance(body, Mapping):
        raise RequestError(
            'body: expected a JSON object {"deforum_settings": {...}, "wan": {...}}, '
            f"not {json_type(body)}"
        )
    unknown = [str(key) for key in body if key not in BODY_KEYS]
    if unknown:
        raise RequestError(
            f"body: unknown key {unknown[0]!r}; use deforum_settings (a Deforum settings object "
            "or a list of them) and wan (the render options)"
        )
    options = body.get("wan")
    if options is None:
        options = {}
    if not isinstance(options, Mapping):
        raise RequestError(f"wan: expected an object of render options, not {json_type(options)}")
    settings = body.get("deforum_settings")
    if isinstance(settings, Mapping):
        return (JobItem("deforum_settings", settings, options),)
    if not isinstance(settings, list) or not settings:
        raise RequestError(
            "deforum_settings: required: a Deforum settings object (the JSON of a settings "
            f".txt file) or a non-empty list of them, not {json_type(settings)}"
        )
    if len(settings) > MAX_JOBS_PER_REQUEST:
        raise RequestError(
            f"deforum_settings: {len(settings)} settings objects; send at most "
            f"{MAX_JOBS_PER_REQUEST} per request"
        )
    items = []
    for index, item in enumerate(settings):
        where = f"deforum_settings[{index}]"
        if not isinstance(item, Mapping):
            raise RequestError(f"{where}: expected a settings object, not {json_type(item)}")
        items.append(JobItem(where, item, options))
    return tuple(items)


def checked_inputs(
    items: tuple[JobItem, ...], config: StoreConfig, defaults: Mapping[str, Any]
) -> list[tuple[JobItem, DeforumSettings, RenderOptions]]:
    """Each item's settings and the options, after the checks a remote request must pass
    (paths first); the host's option defaults fill what the request left out."""
    for item in items:
        with naming_item(item):
            check_request(item.settings, item.options, config)
    options = request_options(items[0].options, defaults)  # one `wan` object for every item
    return [(item, parse_settings(dict(item.settings), item.where), options) for item in items]


@contextmanager
def naming_item(item: JobItem) -> Iterator[None]:
    """An error about one settings object of a list names the object: `deforum_settings[2]`."""
    try:
        yield
    except WanError as exc:
        text = str(exc)
        if item.where == SETTINGS or text.startswith((item.where, OPTIONS)):
            raise
        if text.startswith(SETTINGS):
            text = item.where + text[len(SETTINGS) :]
        else:
            text = f"{item.where}: {text}"
        raise RequestError(text) from exc


@contextmanager
def naming_models(options: RenderOptions) -> Iterator[None]:
    """A model that cannot be found or used is named by its key: `wan.model: ...`."""
    try:
        yield
    except ModelError as exc:
        text = str(exc)
        keys = (
            (f"{OPTIONS}.model", options.model),
            (f"{OPTIONS}.enhance.model", options.enhance.model),
        )
        for key, ref in keys:  # the message may quote the name as it is or as its repr
            if ref and (ref in text or repr(ref) in text) and not text.startswith(OPTIONS):
                raise RequestError(f"{key}: {text}") from exc
        raise


def request_options(given: Mapping[str, Any], defaults: Mapping[str, Any]) -> RenderOptions:
    """RenderOptions from the `wan` object, with errors naming `wan.<key>`."""
    data = merge_defaults(defaults, {str(key): value for key, value in given.items()})
    for key in OPTION_IMAGES:
        if is_data_url(data.get(key)):
            data[key] = INLINE_IMAGE
    naming = ErrorNaming(_wan_key, lambda loc: value_at(data, loc), json_keys=True)
    try:
        return validate_options(data, naming)
    except WanError as exc:
        text = str(exc)
        raise RequestError(text if text.startswith("wan") else f"wan: {text}") from None


def _wan_key(loc: tuple) -> tuple[str, str]:
    name, inner = json_key_name(loc)
    return (f"wan.{name}" if loc else "wan"), inner


# ----------------------------------------------------------------------------------------------
# POST /enhance


Lang = Literal[LANGS]  # type: ignore[valid-type]
Style = Literal[STYLES]  # type: ignore[valid-type]


class EnhanceBody(StrictModel):
    """One prompt and its camera phrase, rewritten for Wan (`python -m wan enhance`)."""

    prompt: str = Field(..., min_length=1, description="the prompt, as written in Deforum")
    camera: str = Field("", description="camera phrase, e.g. 'the camera pans left'")
    lang: Lang = Field("en", description="language of the enhanced prompt: en or zh")
    style: Style = Field("none", description="style terms to add")
    model: str = Field("rules", min_length=1, description="'rules' (no model) or a prompt model id")

    @before_validator("prompt", "camera", "model")
    def _check_texts(cls, value: Any) -> Any:
        return check_text(value)


def enhance_body(body: Any, config: StoreConfig) -> EnhanceBody:
    if not isinstance(body, Mapping):
        raise RequestError(
            'body: expected a JSON object {"prompt": "...", "camera": "..."}, '
            f"not {json_type(body)}"
        )
    data = {str(key): value for key, value in body.items()}
    naming = ErrorNaming(json_key_name, lambda loc: value_at(data, loc), json_keys=True)
    try:
        request = validate_model(EnhanceBody, data, naming)
    except WanError as exc:
        raise RequestError(str(exc)) from None
    try:
        check_request({}, {"enhance": {"model": request.model}}, config)
    except RequestError as exc:
        raise RequestError(str(exc).replace(f"{OPTIONS}.enhance.model", "model")) from None
    return request
