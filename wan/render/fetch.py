"""Inputs a Deforum settings file names by URL, downloaded: init image, soundtrack, Parseq manifest.

Deforum downloads an http(s) `init_image` and `soundtrack_path` (its default soundtrack_path is a
URL) and a `parseq_manifest` URL, so files that use them are common. The core never touches the
network (`wan.core.deforum.settings` keeps a URL as it is); the shells download here:
- `python -m wan schedules` / `plan` and the tab's Plan read a manifest URL into memory
  (`load_fetching`), the plan only notes an init image URL;
- a render queued by the CLI or the tab downloads every URL it uses into the data folder's
  downloads (`fetch_inputs`, from `wan.jobs.intake`; one file per URL, `wan.paths.downloads_dir`),
  so the stored settings name local files, the same settings name the same file (a `--resume`
  finds its job) and a retry or resume never downloads again; a manifest is put inline in the
  settings instead (a job's settings alone give its animation);
- the HTTP API does the same only when its server was started with --allow-url-inputs
  (`wan.api.url_inputs` says why).

Every download is bounded (WAN_LIMIT_MAX_DOWNLOAD_BYTES, WAN_LIMIT_MAX_DOWNLOAD_SECONDS; images also
by the image limits), follows only http(s) (urllib with nothing but the http handlers: no file://,
no ftp://), and is checked to be what the setting needs (an image's header, an audio file's
signature, UTF-8 text) before anything is written. Failing, it raises DownloadError naming the
setting, the URL and what to do offline.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wan import __version__
from wan.core.deforum import parseq
from wan.core.deforum.settings import (
    DeforumSettings,
    is_url,
    parse_settings,
    read_settings_data,
    with_parseq_text,
)
from wan.errors import DownloadError, WanError, excerpt, in_source
from wan.limits import Limits, current_limits, past_limit
from wan.paths import downloads_dir
from wan.render.image_header import check_image_bytes

log = logging.getLogger(__name__)

IMAGE = "image"
AUDIO = "audio"
TEXT = "text"
CHUNK = 1 << 16
SOCKET_TIMEOUT = 20.0  # seconds one read may wait (the whole download has its own limit)
_IMAGE_SUFFIX = {"png": ".png", "jpeg": ".jpg", "webp": ".webp"}
# What an audio file starts with (ffmpeg reads them all): (offset, bytes, suffix)
_AUDIO_SIGNATURES = (
    (0, b"ID3", ".mp3"),
    (0, b"RIFF", ".wav"),
    (0, b"OggS", ".ogg"),
    (0, b"fLaC", ".flac"),
    (4, b"ftyp", ".m4a"),
    (0, b"\x1a\x45\xdf\xa3", ".webm"),
)


@dataclass(frozen=True)
class Fetched:
    """A downloaded input, checked: its bytes and the file suffix its content calls for."""

    url: str
    data: bytes
    suffix: str


def fetch(url: str, kind: str, setting: str, limits: Limits | None = None) -> Fetched:
    """Download `url` into memory within the limits and check it is a `kind` (IMAGE, AUDIO,
    TEXT). `setting` names where the URL came from in messages ('init_image')."""
    limits = limits or current_limits()
    url = url.strip()
    if not is_url(url):
        raise DownloadError(f"{setting} {excerpt(url)}: only http:// and https:// are downloaded")
    most = limits.max_download_bytes
    if kind == IMAGE:
        most = min(most, limits.max_image_bytes)
    data = _download(url, setting, most, limits)
    return Fetched(url, data, _checked(data, kind, url, setting, limits))


def fetch_to(url: str, folder: Path, kind: str, setting: str, limits: Limits | None = None) -> Path:
    """`fetch`, saved in `folder` under a name made from the URL; a file already saved there
    for the same URL is used again (a resumed job, the same image twice)."""
    key = hashlib.sha256(url.strip().encode("utf-8")).hexdigest()[:16]
    stem = f"{setting.replace('.', '-')}-{key}"
    for found in sorted(Path(folder).glob(f"{stem}.*")):
        return found
    fetched = fetch(url, kind, setting, limits)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}{fetched.suffix}"
    # written under a hidden name of this process's own, then renamed: another process reading
    # the folder sees no file or the whole one, never a part
    partial = folder / f".{path.name}.{os.getpid()}-{threading.get_ident()}.part"
    partial.write_bytes(fetched.data)
    partial.replace(path)
    log.info("downloaded %s (%d bytes) to %s", url, len(fetched.data), path)
    return path


def fetch_manifest(data: Any, limits: Limits | None = None) -> str | None:
    """The text of the Parseq manifest `data` (settings) names by URL, None if it names none."""
    if not isinstance(data, Mapping):
        return None
    value = data.get(parseq.SETTING)
    if not isinstance(value, str) or not parseq.is_url(value):
        return None
    return fetch(value, TEXT, parseq.SETTING, limits).data.decode("utf-8")


def load_fetching(source: Any, limits: Limits | None = None) -> DeforumSettings:
    """`wan.core.deforum.settings.load_settings`, a Parseq manifest URL downloaded first: what
    `schedules`, `plan` and the tab read (an init image URL is only noted by the plan)."""
    data, name = read_settings_data(source)
    with in_source(name):
        text = fetch_manifest(data, limits)
    return parse_settings(data, name, parseq_text=text)


def fetch_inputs(
    settings: Mapping[str, Any],
    options: Mapping[str, Any],
    source: str,
    folder: Path | None = None,
    limits: Limits | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Settings and options with every URL a render uses downloaded: the Parseq manifest put
    inline, the init image (settings with use_init, or the init_image option) and a 'File'
    soundtrack saved in `folder` (default: the data folder's downloads, `wan.paths`) and named
    by path; each URL is kept beside as `<key>_source`. URLs the render does not use (use_init
    off, add_soundtrack not 'File', Deforum's default soundtrack URL) are left alone. Errors
    name `source` (the settings file)."""
    folder = downloads_dir() if folder is None else folder
    with in_source(source):
        return _fetch_inputs(dict(settings), dict(options), folder, limits)


def _fetch_inputs(
    settings: dict[str, Any], options: dict[str, Any], folder: Path, limits: Limits | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    manifest = fetch_manifest(settings, limits)
    if manifest is not None:
        settings = with_parseq_text(settings, manifest)
    if _on(settings.get("use_init")) and is_url(settings.get("init_image")):
        settings = _fetched(settings, "init_image", folder, IMAGE, limits)
    if str(settings.get("add_soundtrack", "None")).strip() == "File" and is_url(
        settings.get("soundtrack_path")
    ):
        settings = _fetched(settings, "soundtrack_path", folder, AUDIO, limits)
    if is_url(options.get("init_image")):
        path = fetch_to(options["init_image"], folder, IMAGE, "wan.init_image", limits)
        options = {**options, "init_image": str(path)}
    return settings, options


def _fetched(
    settings: dict[str, Any], key: str, folder: Path, kind: str, limits: Limits | None
) -> dict[str, Any]:
    url = settings[key].strip()
    path = fetch_to(url, folder, kind, key, limits)
    return {**settings, key: str(path), f"{key}_source": url}


def _on(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "on")
    return value is True or value == 1


def _download(url: str, setting: str, most: int, limits: Limits) -> bytes:
    """The body of `url`, at most `most` bytes, within limits.max_download_seconds."""
    seconds = limits.max_download_seconds
    deadline = time.monotonic() + seconds
    request = urllib.request.Request(url, headers={"User-Agent": f"wan-deforum/{__version__}"})
    offline = (
        f"download it yourself and set {setting} to the local file, or check the address and "
        "that this machine is online"
    )
    try:
        with _opener().open(request, timeout=min(SOCKET_TIMEOUT, seconds)) as response:
            declared = response.headers.get("Content-Length")
            if declared and declared.strip().isdigit() and int(declared) > most:
                raise _too_large(url, setting, int(declared), most, limits)
            chunks, size = [], 0
            while chunk := response.read1(CHUNK):  # what has come, so the deadline holds
                size += len(chunk)
                if size > most:
                    raise _too_large(url, setting, size, most, limits)
                if time.monotonic() > deadline:
                    raise _too_slow(url, setting, seconds, offline)
                chunks.append(chunk)
    except WanError:
        raise
    except urllib.error.HTTPError as exc:
        raise DownloadError(
            f"{setting} {url}: the server answered HTTP {exc.code} ({exc.reason}); check the "
            f"address, or download the file yourself and set {setting} to the local file"
        ) from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            raise _too_slow(url, setting, seconds, offline) from None
        raise DownloadError(
            f"{setting} {url}: cannot be downloaded ({reason}); {offline}"
        ) from None
    except TimeoutError:
        raise _too_slow(url, setting, seconds, offline) from None
    except (OSError, ValueError) as exc:  # connection reset, a malformed address or answer
        raise DownloadError(f"{setting} {url}: cannot be downloaded ({exc}); {offline}") from None
    return b"".join(chunks)


def _opener() -> urllib.request.OpenerDirector:
    """urllib with only what http(s) needs: no file://, ftp:// or data: handlers, so neither
    the URL nor a redirect can read a local file. Proxies from the environment are honoured."""
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(),
        urllib.request.HTTPHandler(),
        urllib.request.HTTPSHandler(),
        urllib.request.HTTPRedirectHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


def _too_large(url: str, setting: str, size: int, most: int, limits: Limits) -> WanError:
    limit = "max_image_bytes" if most < limits.max_download_bytes else "max_download_bytes"
    where = f"{setting} {url}: the download"
    return DownloadError(past_limit(where, size, limit, most, "give a smaller file"))


def _too_slow(url: str, setting: str, seconds: float, offline: str) -> WanError:
    return DownloadError(
        f"{setting} {url}: the download took longer than the limit of {seconds:g} seconds "
        f"(WAN_LIMIT_MAX_DOWNLOAD_SECONDS raises it); {offline}"
    )


def _checked(data: bytes, kind: str, url: str, setting: str, limits: Limits) -> str:
    """The suffix `data` calls for, once it is checked to be a `kind`."""
    where = f"{setting} {url}"
    if kind == IMAGE:
        try:
            header = check_image_bytes(data, where, limits)
        except WanError as exc:
            raise DownloadError(f"{exc} (the URL gave {_what(data)})") from None
        return _IMAGE_SUFFIX.get(header.format, ".png")
    if kind == AUDIO:
        for offset, magic, suffix in _AUDIO_SIGNATURES:
            if data[offset : offset + len(magic)] == magic:
                return suffix
        if len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0:  # an MPEG frame
            return ".mp3"
        raise DownloadError(
            f"{where}: not an audio file (mp3, wav, ogg, flac, m4a or webm) but "
            f"{_what(data)}; give the address of the audio file itself"
        )
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise DownloadError(
            f"{where}: not text (a Parseq manifest is JSON) but {_what(data)}; give the "
            "manifest's address (Parseq's 'Copy URL')"
        ) from None
    return ".json"


def _what(data: bytes) -> str:
    """A few words on what a wrong download starts with, for messages."""
    if not data:
        return "an empty answer"
    head = data[:64].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return "a web page (HTML)"
    return f"{len(data)} bytes starting {data[:8]!r}"
