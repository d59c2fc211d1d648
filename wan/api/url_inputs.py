"""URLs in API requests (an http(s) init image, a Parseq manifest URL): fetched by the server only
when it was started to allow it.

Why off by default: a server that downloads any URL a request names can be made to reach what
only the server can reach (server-side request forgery, SSRF): the internal network, cloud
metadata addresses (169.254.169.254), admin pages on localhost, and it answers with what it found
there in its error messages and results. A server behind a login, used by its owner, may allow it
(`python -m wan serve --allow-url-inputs`, the WebUI's `--wan-allow-url-inputs`); without it, a
request sends the image as a data URL and the manifest as JSON, and a URL is refused naming the
field and the flag.

With the flag, each URL is downloaded as the CLI downloads it (`wan.render.fetch`: http(s) only,
within the download and image limits, checked to be an image / text) and put in the request as
what it would otherwise have sent: the image as a data URL, the manifest inline. Soundtracks stay
refused (`wan.jobs.requests`): a remote request cannot name a soundtrack file.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from wan.api.requests import JobItem
from wan.core.deforum import parseq
from wan.core.deforum.settings import is_url, with_parseq_text
from wan.errors import in_source
from wan.jobs import RequestError
from wan.jobs.requests import OPTIONS_FIELD, use_init
from wan.render.fetch import IMAGE, TEXT, Fetched, fetch

FLAG = "--allow-url-inputs"
WEBUI_FLAG = "--wan-allow-url-inputs"
_MIME = {".png": "image/png", ".jpg": "image/jpeg", ".webp": "image/webp"}


def with_url_inputs(items: tuple[JobItem, ...], allowed: bool) -> tuple[JobItem, ...]:
    """`items` with every URL input downloaded (`allowed`), or a RequestError for the first."""
    fetched: dict[tuple[str, str], Fetched] = {}  # one download per URL for all the items
    out = []
    for item in items:
        settings = _settings(dict(item.settings), item.where, allowed, fetched)
        options = _options(item.options, allowed, fetched)
        out.append(replace(item, settings=settings, options=options))
    return tuple(out)


def _settings(settings: dict[str, Any], where: str, allowed: bool, fetched: dict) -> dict:
    manifest = settings.get(parseq.SETTING)
    if isinstance(manifest, str) and parseq.is_url(manifest):
        _allowed(allowed, f"{where}.{parseq.SETTING}", "paste the manifest's JSON")
        text = _once(fetched, manifest, TEXT, parseq.SETTING, where).data.decode("utf-8")
        settings = with_parseq_text(settings, text)
    if use_init(settings) and is_url(settings.get("init_image")):
        _allowed(allowed, f"{where}.init_image", "send the image as a data URL")
        url = settings["init_image"]
        image = _data_url(_once(fetched, url, IMAGE, "init_image", where))
        settings = {**settings, "init_image": image, "init_image_source": url}
    return settings


def _options(options: Mapping[str, Any], allowed: bool, fetched: dict) -> Mapping[str, Any]:
    image = options.get("init_image")
    if not is_url(image):
        return options
    field = f"{OPTIONS_FIELD}.init_image"
    _allowed(allowed, field, "send the image as a data URL")
    return {**options, "init_image": _data_url(_once(fetched, image, IMAGE, field, ""))}


def _allowed(allowed: bool, field: str, instead: str) -> None:
    if not allowed:
        raise RequestError(
            f"{field}: this server does not download URLs (it was not started with {FLAG} / "
            f"{WEBUI_FLAG}: a server that fetches URLs from requests can be made to reach its "
            f"internal network); {instead}"
        )


def _data_url(got: Fetched) -> str:
    mime = _MIME.get(got.suffix, "image/png")
    return f"data:{mime};base64,{base64.b64encode(got.data).decode()}"


def _once(fetched: dict, url: str, kind: str, setting: str, where: str) -> Fetched:
    """`url` downloaded once per request; errors name `where` (the settings item)."""
    if (kind, url) not in fetched:
        with in_source(where):
            fetched[kind, url] = fetch(url, kind, setting)
    return fetched[kind, url]
