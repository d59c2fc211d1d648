"""Image files for the limit tests: a PNG whose header lies about its size, and real PNGs of
any size written row by row (1 bit per pixel, all black), so a 20000x20000 one costs a second
and a few kilobytes instead of 400 MB of pixels."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def small_png(width: int = 64, height: int = 48) -> bytes:
    """An ordinary RGB gradient PNG, written by Pillow."""
    from PIL import Image

    pixels = np.linspace(0, 255, width * height * 3).reshape(height, width, 3).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def lying_png(width: int = 100_000, height: int = 100_000) -> bytes:
    """A tiny real PNG whose IHDR is patched to claim `width` x `height` (CRC fixed too)."""
    data = bytearray(small_png(4, 4))
    assert data[12:16] == b"IHDR"
    ihdr = struct.pack(">II", width, height) + bytes(data[24:29])
    data[8:33] = _chunk(b"IHDR", ihdr)
    return bytes(data)


def black_png(width: int, height: int) -> bytes:
    """A valid 1-bit greyscale PNG of `width` x `height`, compressed as it is written."""
    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte "none", then the packed bits
    packer = zlib.compressobj(9)
    rows_per_piece = max(1, (1 << 22) // len(row))
    parts = []
    for start in range(0, height, rows_per_piece):
        parts.append(packer.compress(row * min(rows_per_piece, height - start)))
    parts.append(packer.flush())
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", b"".join(parts))
        + _chunk(b"IEND", b"")
    )
