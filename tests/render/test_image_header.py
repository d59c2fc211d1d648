"""Init images are judged from their header: format, width x height and bytes against the limits,
before anything decodes them; the renderer's decode is guarded the same way."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from tests.render.image_files import black_png, lying_png, small_png
from wan.errors import OptionsError, RenderError
from wan.limits import LimitError
from wan.render.image_header import check_image_bytes, check_image_file, decode_image

EXIF = b"Exif\x00\x00"  # before a JPEG's frame header: the parser must skip it


def encoded(fmt: str, size=(123, 45), mode="RGB", **save) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, (10,) * len(mode)).save(buffer, format=fmt, **save)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("fmt", "mode", "save", "kind"),
    [
        ("PNG", "RGBA", {}, "png"),
        ("PNG", "L", {}, "png"),
        ("JPEG", "RGB", {}, "jpeg"),
        ("JPEG", "L", {"progressive": True}, "jpeg"),
        ("JPEG", "RGB", {"exif": EXIF + bytes(60_000), "icc_profile": bytes(9_000)}, "jpeg"),
        ("WEBP", "RGB", {"quality": 80}, "webp"),
        ("WEBP", "RGBA", {"lossless": True}, "webp"),
        ("WEBP", "RGB", {"exif": EXIF + b"abc"}, "webp"),
    ],
)  # fmt: skip
def test_the_header_gives_format_and_size(fmt, mode, save, kind):
    header = check_image_bytes(encoded(fmt, (123, 45), mode, **save), "x")
    assert (header.format, header.width, header.height, header.pixels) == (kind, 123, 45, 5535)


def test_a_header_claiming_a_huge_image_is_refused_without_decoding():
    with pytest.raises(LimitError) as error:
        check_image_bytes(lying_png(100_000, 100_000), "wan.init_image")
    text = str(error.value)
    assert text.startswith("wan.init_image (100000x100000) is 10000000000, past the limit")
    assert "WAN_LIMIT_MAX_IMAGE_PIXELS" in text


def test_a_real_huge_png_that_compresses_small_is_refused(tmp_path):
    data = black_png(20_000, 20_000)
    assert len(data) < 100_000  # 400 million pixels in a few kilobytes
    path = tmp_path / "bomb.png"
    path.write_bytes(data)
    with pytest.raises(LimitError, match=r"--init-image \S+bomb.png \(20000x20000\) is 400000000"):
        check_image_file(path, f"--init-image {path}")


def test_the_byte_limit_is_checked_first(tmp_path, monkeypatch):
    monkeypatch.setenv("WAN_LIMIT_MAX_IMAGE_BYTES", "100")
    data = small_png()
    path = tmp_path / "a.png"
    path.write_bytes(data)
    for check, value in ((check_image_bytes, data), (check_image_file, path)):
        with pytest.raises(LimitError, match=rf"^here is {len(data)}, past the limit of 100 bytes"):
            check(value, "here")


@pytest.mark.parametrize(
    "data",
    [b"", b"%PDF-1.4", small_png()[:20], lying_png(0, 10), b"\xff\xd8\xff\xd9", b"GIF89a"],
    ids=["empty", "pdf", "cut-short", "zero-width", "jpeg-without-frame", "gif"],
)
def test_what_is_not_a_png_jpeg_or_webp_header_is_refused(data):
    with pytest.raises(OptionsError, match=r"^wan.init_image: not a readable image .*png, jpeg"):
        check_image_bytes(data, "wan.init_image")


def test_an_unreadable_file_is_named(tmp_path):
    with pytest.raises(OptionsError, match=r"^--init-image x: cannot be read"):
        check_image_file(tmp_path / "missing.png", "--init-image x")


def test_decode_gives_rgb_at_the_render_size(tmp_path):
    path = tmp_path / "a.png"
    path.write_bytes(small_png(64, 48))
    array = decode_image(str(path), "--init-image a.png", (32, 16))
    assert array.shape == (16, 32, 3) and array.dtype == np.uint8


def test_decode_checks_the_limits_again(tmp_path, monkeypatch):
    """Limits lowered after the job was queued: a clear error, not DecompressionBombError."""
    path = tmp_path / "a.png"
    path.write_bytes(small_png(64, 48))
    monkeypatch.setenv("WAN_LIMIT_MAX_IMAGE_PIXELS", "1000")
    with pytest.raises(LimitError, match=r"^--init-image a.png \(64x48\) is 3072, past the limit"):
        decode_image(str(path), "--init-image a.png", (32, 16))


def test_pillows_own_bound_does_not_refuse_what_the_limits_allow(tmp_path, monkeypatch):
    path = tmp_path / "a.png"
    path.write_bytes(small_png(64, 48))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 3072 pixels: Pillow's bomb error
    assert decode_image(str(path), "x", (8, 8)).shape == (8, 8, 3)


def test_a_damaged_image_body_is_a_clear_render_error(tmp_path):
    data = bytearray(small_png(64, 48))
    idat = data.index(b"IDAT")
    data[idat + 4 : idat + 40] = bytes(36)  # header intact, compressed pixels broken
    path = tmp_path / "broken.png"
    path.write_bytes(bytes(data))
    with pytest.raises(RenderError, match=r"^--init-image broken.png: its png data cannot be"):
        decode_image(str(path), "--init-image broken.png", (8, 8))
