"""An init image's format and size, read from its header before anything decodes it.

A PNG of a few hundred bytes can claim 100000x100000 pixels, and a real 20000x20000 one
compresses to 0.4 MB: decoding either takes gigabytes. So every edge that takes an init image
(the API's data URLs, `--init-image`, the settings' `init_image`) checks its bytes and its
header's width x height against the limits first (`wan.limits`), and only the renderer decodes
it, after the same check. Parsed here from the bytes (png, jpeg, webp) rather than with Pillow,
whose own decompression-bomb check would fire first with a message naming none of this.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wan.errors import OptionsError, RenderError
from wan.limits import Limits, check_at_most, current_limits

FORMATS = ("png", "jpeg", "webp")
ACCEPTED = "a png, jpeg or webp image"
SMALLER = "use a smaller image"
_PNG = b"\x89PNG\r\n\x1a\n"
# JPEG start-of-frame markers (baseline, progressive, lossless...); C4, C8 and CC are not frames.
_JPEG_FRAMES = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})  # markers without a length

Read = Callable[[int, int], bytes]  # (offset, count) -> at most `count` bytes from `offset`


@dataclass(frozen=True)
class ImageHeader:
    format: str  # one of FORMATS
    width: int
    height: int

    @property
    def pixels(self) -> int:
        return self.width * self.height


def check_image_bytes(data: bytes, where: str, limits: Limits | None = None) -> ImageHeader:
    """The header of an image held in memory (a decoded data URL), checked against the limits.

    Raises LimitError (too many bytes or pixels) or OptionsError (not a png, jpeg or webp),
    each naming `where`."""
    limits = limits or current_limits()
    check_at_most(len(data), "max_image_bytes", where, limits, SMALLER)
    return _checked(parse_header(lambda at, count: data[at : at + count], len(data)), where, limits)


def check_image_file(path: str | Path, where: str, limits: Limits | None = None) -> ImageHeader:
    """The header of an image file, checked like `check_image_bytes`; reads only the header."""
    limits = limits or current_limits()
    try:
        with open(path, "rb") as handle:
            size = Path(path).stat().st_size
            check_at_most(size, "max_image_bytes", where, limits, SMALLER)

            def read(at: int, count: int) -> bytes:
                handle.seek(at)
                return handle.read(count)

            header = parse_header(read, size)
    except OSError as exc:
        raise OptionsError(
            f"{where}: cannot be read ({exc.strerror or exc}); give a readable image file"
        ) from None
    return _checked(header, where, limits)


def parse_header(read: Read, size: int) -> ImageHeader | None:
    """Format and size as the header declares them, or None when it is no png, jpeg or webp
    header (or is cut short). Reads a few bytes only: jpeg skips from segment to segment."""
    start = read(0, 16)
    if start.startswith(_PNG):
        return _png(read)
    if start.startswith(b"\xff\xd8"):
        return _jpeg(read, size)
    if start[:4] == b"RIFF" and start[8:12] == b"WEBP":
        return _webp(read)
    return None


def _checked(header: ImageHeader | None, where: str, limits: Limits) -> ImageHeader:
    if header is None:
        raise OptionsError(
            f"{where}: not a readable image (no png, jpeg or webp header, or one cut short); "
            f"use {ACCEPTED}"
        )
    size = f"{where} ({header.width}x{header.height})"
    check_at_most(header.pixels, "max_image_pixels", size, limits, SMALLER)
    return header


def _sized(kind: str, width: int, height: int) -> ImageHeader | None:
    return ImageHeader(kind, width, height) if width > 0 and height > 0 else None


def _png(read: Read) -> ImageHeader | None:
    chunk = read(8, 16)  # length, "IHDR", width, height
    if len(chunk) < 16 or chunk[4:8] != b"IHDR":
        return None
    width, height = struct.unpack(">II", chunk[8:16])
    return _sized("png", width, height)


def _jpeg(read: Read, size: int) -> ImageHeader | None:
    """Walk the segments after SOI to the first start-of-frame, which holds the size."""
    at = 2
    while at + 4 <= size:
        marker = read(at, 2)
        if len(marker) < 2 or marker[0] != 0xFF:
            return None
        kind = marker[1]
        if kind == 0xFF:  # fill byte before a marker
            at += 1
            continue
        if kind in _JPEG_STANDALONE:
            at += 2
            continue
        if kind in (0xD9, 0xDA):  # end of image, or scan data before any frame header
            return None
        segment = read(at + 2, 7)  # length, and for a frame: precision, height, width
        if len(segment) < 2:
            return None
        (length,) = struct.unpack(">H", segment[:2])
        if kind in _JPEG_FRAMES:
            if len(segment) < 7:
                return None
            height, width = struct.unpack(">HH", segment[3:7])
            return _sized("jpeg", width, height)
        if length < 2:
            return None
        at += 2 + length
    return None


def _webp(read: Read) -> ImageHeader | None:
    chunk = read(12, 18)  # fourcc, chunk size, the first 10 bytes of the chunk
    if len(chunk) < 18:
        return None
    fourcc, body = chunk[:4], chunk[8:]
    if fourcc == b"VP8X":  # extended: canvas width-1 and height-1, 24 bits each
        width = int.from_bytes(body[4:7], "little") + 1
        height = int.from_bytes(body[7:10], "little") + 1
        return _sized("webp", width, height)
    if fourcc == b"VP8L" and body[0] == 0x2F:  # lossless: 14 bits each, minus one
        (bits,) = struct.unpack("<I", body[1:5])
        return _sized("webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    if fourcc == b"VP8 " and body[3:6] == b"\x9d\x01\x2a":  # lossy: key frame start code
        width, height = struct.unpack("<HH", body[6:10])
        return _sized("webp", width & 0x3FFF, height & 0x3FFF)
    return None


def decode_image(path: str, where: str, size: tuple[int, int] | None = None) -> np.ndarray:
    """The image as RGB uint8 H x W x 3, resized to `size` (width, height) when given. Its
    header is checked against the limits first (they may have changed since a job was queued),
    so a too-large image is a clear error here, never Pillow's DecompressionBombError; Pillow's
    own bound is raised to what passed."""
    from PIL import Image

    header = check_image_file(path, where)
    if Image.MAX_IMAGE_PIXELS is not None and header.pixels > Image.MAX_IMAGE_PIXELS:
        Image.MAX_IMAGE_PIXELS = header.pixels  # within the WAN_LIMIT_MAX_IMAGE_PIXELS limit
    try:
        with Image.open(path) as image:
            rgb = image.convert("RGB")
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise RenderError(
            f"{where}: its {header.format} data cannot be decoded ({type(exc).__name__}: "
            f"{exc}); the file is damaged: give a png, jpeg or webp that opens in an image viewer"
        ) from None
    return np.asarray(rgb if size is None else rgb.resize(size, Image.LANCZOS))
